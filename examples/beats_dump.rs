//! Manual run: `cargo run --release --example beats -- FILE [PRIOR_BPM]`.
use cinecut::music::{decode_mono, track_beats, ANALYSIS_SR};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: beats FILE [PRIOR_BPM]");
        std::process::exit(2);
    };
    let prior = args.get(2).and_then(|s| s.parse().ok());
    let mono = match decode_mono(Path::new(path), ANALYSIS_SR) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let t = std::time::Instant::now();
    let g = track_beats(&mono, ANALYSIS_SR, prior);
    eprintln!("tracked in {:.3}s", t.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&g).unwrap_or_default());
}
