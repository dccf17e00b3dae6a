//! Beat-tracker benchmark half: decodes each file (not timed), runs
//! `track_beats` (timed, best of 5 runs after one warm-up run), prints one
//! JSON line per file with the beats, the wall and CPU time and a per-stage
//! breakdown, for benches/beats.py to score against librosa.
//! `file_seconds` is file to beats (decode + track, best of 3), the figure to
//! hold against librosa's `load` + `beat_track`.
//! Usage: cargo bench --bench beats -- FILE...
use cinecut::music::beats::track_beats_profiled;
use cinecut::music::{decode_mono, track_beats, ANALYSIS_SR};
use std::path::Path;
use std::time::Instant;

/// CPU time of the whole process (all threads), in seconds: unlike wall
/// time it does not grow when other work shares the machine, so a CPU-time
/// ratio against librosa stays comparable under load.
fn process_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

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
        // Warm-up (page faults, FFT plans), as librosa is warmed up.
        let mut grid = track_beats(&mono, ANALYSIS_SR, None);
        let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
        for _ in 0..5 {
            let (t, c) = (Instant::now(), process_cpu_s());
            grid = track_beats(&mono, ANALYSIS_SR, None);
            best = best.min(t.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(process_cpu_s() - c);
        }
        let mut file_best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let m = decode_mono(Path::new(&file), ANALYSIS_SR).unwrap_or_default();
            let g = track_beats(&m, ANALYSIS_SR, None);
            file_best = file_best.min(t.elapsed().as_secs_f64());
            std::hint::black_box(g);
        }
        // Stage breakdown from separate runs, so the timed runs above are of
        // the plain entry point; best of 5 per stage.
        let mut stages: Vec<(&str, f64)> = vec![];
        for _ in 0..5 {
            let (_, s) = track_beats_profiled(&mono, ANALYSIS_SR, None);
            if stages.is_empty() {
                stages = s;
            } else {
                for (a, b) in stages.iter_mut().zip(s) {
                    a.1 = a.1.min(b.1);
                }
            }
        }
        let line = serde_json::json!({
            "file": file,
            "seconds": best,
            "cpu_seconds": best_cpu,
            "file_seconds": file_best,
            "stages": stages.iter().map(|(n, t)| serde_json::json!([n, t])).collect::<Vec<_>>(),
            "bpm": grid.bpm,
            "beats": grid.beats,
            "downbeats": grid.downbeats,
            "meter": grid.meter,
            "peak_s": grid.peak_s,
        });
        println!("{line}");
    }
}
