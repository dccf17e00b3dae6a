//! The film's own intensity over its runtime, per second: its loudness and
//! its cut rate, each scaled to 0..1. The built-in structure analyser moves
//! the turning points toward it; the report draws it.

use super::FilmAnalysis;

/// The film's own intensity per second, (mid-second time, 0..1): its
/// loudness and cut rate, each scaled to 0..1 (also drawn by the report).
pub fn film_intensity(runtime_s: f64, an: &FilmAnalysis) -> Vec<(f64, f32)> {
    let secs = runtime_s.ceil().max(1.0) as usize;
    let (l, c) = (
        scale01(&loudest_per_second(an, secs)),
        scale01(&cut_rate(an, secs)),
    );
    let w_loud = if an.has_audio { 0.6 } else { 0.0 };
    (0..secs)
        .map(|s| {
            (
                s as f64 + 0.5,
                (w_loud * l[s] + (1.0 - w_loud) * c[s]).clamp(0.0, 1.0),
            )
        })
        .collect()
}

/// The loudest moment of each second of the film, in dB.
fn loudest_per_second(an: &FilmAnalysis, secs: usize) -> Vec<f32> {
    let lc = &an.loudness_curve;
    let mut loud = vec![f32::NEG_INFINITY; secs];
    if lc.step_s > 0.0 {
        for (i, db) in lc.db.iter().enumerate() {
            let s = ((i as f64 * lc.step_s) as usize).min(secs - 1);
            loud[s] = loud[s].max(*db);
        }
    }
    loud
}

/// Cuts within a 10 s window around each second.
fn cut_rate(an: &FilmAnalysis, secs: usize) -> Vec<f32> {
    let mut cuts = vec![0f32; secs];
    for b in &an.boundaries {
        let c = b.time_s as usize;
        for v in &mut cuts[c.saturating_sub(5).min(secs)..(c + 5).min(secs)] {
            *v += 1.0;
        }
    }
    cuts
}

/// Scales to 0..1 between the 5th and 95th percentiles of the finite values.
fn scale01(v: &[f32]) -> Vec<f32> {
    let mut f: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    f.sort_by(|a, b| a.total_cmp(b));
    if f.len() < 2 {
        return vec![0.0; v.len()];
    }
    let (lo, hi) = (f[f.len() / 20], f[f.len() * 19 / 20]);
    v.iter()
        .map(|x| {
            if x.is_finite() && hi > lo {
                ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}
