//! Beat-tracker benchmark half: decodes each file (not timed), runs
//! `track_beats` (timed, best of 5 runs after one warm-up), prints one JSON
//! line per file with the beats, for benches/beats.py to score against
//! librosa. Usage: cargo bench --bench beats -- FILE...
use cinecut::music::{decode_mono, track_beats, ANALYSIS_SR};
use std::path::Path;
use std::time::Instant;

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench beats -- FILE...");
        std::process::exit(2);
    }
    for file in files {
        let mono = match decode_mono(Path::new(&file), ANALYSIS_SR) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let mut grid = track_beats(&mono, ANALYSIS_SR, None);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            grid = track_beats(&mono, ANALYSIS_SR, None);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let line = serde_json::json!({
            "file": file,
            "seconds": best,
            "bpm": grid.bpm,
            "beats": grid.beats,
            "downbeats": grid.downbeats,
            "peak_s": grid.peak_s,
        });
        println!("{line}");
    }
}
