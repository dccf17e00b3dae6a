//! Manual runs and the benchmark's helper.
//!   shotbench analyse FILM [--full] [--no-trust] [--scale FLAGS] [--stats OUT.json]
//                  [--no-faces] [--face-every S] [--face-width PX] [--no-split] → FilmAnalysis JSON on stdout
//!   shotbench score TRUTH.json ours ANALYSIS.json   → one score line as JSON
//!   shotbench score TRUTH.json csv SCENES.csv       → (PySceneDetect list-scenes)
use std::path::Path;
use std::process::ExitCode;

use cinecut::analysis::{self, eval, AnalyseOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("analyse") if args.len() >= 2 => {
            let mut o = AnalyseOptions::default();
            if args.iter().any(|a| a == "--full") {
                o.skip_nonref = false;
            }
            if let Some(i) = args.iter().position(|a| a == "--scale") {
                o.scale_flags = args.get(i + 1).cloned().unwrap_or_default();
            }
            if args.iter().any(|a| a == "--no-faces") {
                o.faces = false;
            }
            if let Some(i) = args.iter().position(|a| a == "--face-every") {
                o.face_every_s = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(2.0);
            }
            if let Some(i) = args.iter().position(|a| a == "--face-width") {
                o.face_width = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(320);
            }
            if args.iter().any(|a| a == "--no-split") {
                o.split = false;
            }
            if args.iter().any(|a| a == "--no-near") {
                o.near_cuts = false;
            }
            if args.iter().any(|a| a == "--no-trust") {
                o.trust_keyframes = false;
            }
            analysis::analyse_with_stats(Path::new(&args[1]), &o, &mut |_| {}).map(|(a, st)| {
                println!("{}", serde_json::to_string(&a).unwrap_or_default());
                if let Some(i) = args.iter().position(|a| a == "--stats") {
                    if let Some(p) = args.get(i + 1) {
                        let _ = std::fs::write(p, serde_json::to_string(&st).unwrap_or_default());
                    }
                }
            })
        }
        Some("score") if args.len() == 4 => (|| {
            let truth = eval::read_truth(Path::new(&args[1]))?;
            let dets = if args[2] == "ours" {
                let text = std::fs::read_to_string(&args[3])?;
                let a: analysis::FilmAnalysis =
                    serde_json::from_str(&text).map_err(|e| analysis::AnalysisError::BadFile {
                        path: args[3].clone().into(),
                        problem: e.to_string(),
                    })?;
                eval::dets_from_analysis(&a)
            } else {
                eval::dets_from_scenedetect_csv(Path::new(&args[3]))?
            };
            let s = eval::score(&truth, &dets);
            println!("{}", serde_json::to_string(&s).unwrap_or_default());
            Ok(())
        })(),
        _ => {
            eprintln!("usage: shotbench analyse FILM [--full] [--no-trust] | shotbench score TRUTH ours|csv FILE");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
