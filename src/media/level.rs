//! Loudness levelling of the mixed trailer sound, in memory: a gain, a
//! true-peak look-ahead limiter, and EBU R128 measurement (the `ebur128`
//! crate, a port of libebur128, the library ffmpeg's own meter derives from).
//!
//! Why not ffmpeg: levelling is a search (gain, limit, measure, correct).
//! Done as ffmpeg passes over the mixed WAV, each pass paid a process start,
//! a 2× resample around `alimiter` and ebur128's true-peak oversampling:
//! 0.6–0.9 CPU-s per pass and 1.3 CPU-s to measure the encoded AAC, all of
//! it competing with the picture encode for the same two cores. In memory
//! the mix's inter-sample peak envelope is computed once (it scales with the
//! gain), and each further pass is a few linear sweeps.

use std::path::Path;

use ebur128::{EbuR128, Mode};

use super::process::{file_arg, Process};
use super::MediaError;

type Result<T> = std::result::Result<T, MediaError>;

/// Stereo throughout: the trailer's sound is two channels.
pub const CHANNELS: usize = 2;

/// Look-ahead (attack) of the limiter: the gain is already down when the
/// peak arrives, so nothing is clipped.
const ATTACK_S: f64 = 0.005;
/// Recovery time constant of the limiter's gain.
const RELEASE_S: f64 = 0.08;

/// Interleaved stereo f32 samples read from a raw `f32le` file.
pub fn read_f32(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::io(path, e))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Writes interleaved f32 samples as a raw `f32le` file.
pub fn write_f32(path: &Path, samples: &[f32]) -> Result<()> {
    let mut bytes = Vec::with_capacity(samples.len() * 4);
    for s in samples {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, bytes).map_err(|e| MediaError::io(path, e))
}

/// Integrated loudness (LUFS) and, when asked, the true peak (dBTP, the
/// louder channel) of interleaved stereo samples at `rate`.
pub fn measure(samples: &[f32], rate: u32, true_peak: bool) -> Result<(f64, f64)> {
    let mode = if true_peak {
        Mode::I | Mode::TRUE_PEAK
    } else {
        Mode::I
    };
    let err = MediaError::Loudness;
    let mut m = EbuR128::new(CHANNELS as u32, rate, mode).map_err(err)?;
    m.add_frames_f32(samples).map_err(err)?;
    let lufs = m.loudness_global().map_err(err)?;
    let tp = if true_peak {
        let mut p: f64 = 0.0;
        for c in 0..CHANNELS as u32 {
            p = p.max(m.true_peak(c).map_err(err)?);
        }
        20.0 * p.max(1e-12).log10()
    } else {
        f64::NEG_INFINITY
    };
    Ok((lufs, tp))
}

/// Integrated loudness (LUFS) and true peak (dBTP) of a finished file, as
/// ffmpeg's ebur128 filter measures it (what `cinecut check` reports).
pub fn measure_file(path: &Path) -> Result<(f64, f64)> {
    let fin = Process::ffmpeg()
        .args(crate::args![
            "-i",
            file_arg(path),
            "-vn",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-"
        ])
        .run_with_progress(&mut |_| {})?;
    parse_ebur128(&fin.stderr).ok_or_else(|| MediaError::ToolOutput {
        tool: "ffmpeg".into(),
        problem: "ebur128 printed no integrated loudness".into(),
    })
}

/// A finished file's short-term loudness (EBU R128, 3 s window, LUFS) every
/// `step_s` seconds from its start: its sound decoded to stereo at `rate`
/// and measured in memory. Silence reads as `-inf`.
pub fn short_term_curve(path: &Path, step_s: f64, rate: u32) -> Result<Vec<f64>> {
    let pcm = Process::ffmpeg()
        .args(crate::args![
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            file_arg(path),
            "-vn",
            "-ac",
            "2",
            "-ar",
            rate.to_string(),
            "-f",
            "f32le",
            "pipe:1"
        ])
        .stdout()?;
    let samples: Vec<f32> = pcm
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    short_term_of(&samples, rate, step_s)
}

/// Short-term loudness of interleaved stereo samples every `step_s` seconds.
pub fn short_term_of(samples: &[f32], rate: u32, step_s: f64) -> Result<Vec<f64>> {
    let err = MediaError::Loudness;
    let mut m = EbuR128::new(CHANNELS as u32, rate, Mode::S).map_err(err)?;
    let step = ((step_s * rate as f64).round() as usize).max(1) * CHANNELS;
    let mut curve = Vec::with_capacity(samples.len() / step + 1);
    for chunk in samples.chunks(step) {
        m.add_frames_f32(chunk).map_err(err)?;
        curve.push(m.loudness_shortterm().map_err(err)?);
    }
    Ok(curve)
}

/// Integrated loudness (LUFS) and true peak (dBTP) from the summary that
/// ffmpeg's ebur128 filter prints at the end.
pub fn parse_ebur128(stderr: &str) -> Option<(f64, f64)> {
    let sum = &stderr[stderr.rfind("Summary:")?..];
    let grab = |key: &str| -> Option<f64> {
        let i = sum.find(key)? + key.len();
        sum[i..].split_whitespace().next()?.parse().ok()
    };
    Some((grab("I:")?, grab("Peak:").unwrap_or(f64::NEG_INFINITY)))
}

/// The mix and what levelling it needs, computed once.
pub struct Leveller {
    samples: Vec<f32>,
    /// Per frame, the highest inter-sample peak of either channel around
    /// it (4× oversampled), at unit gain.
    peaks: Vec<f32>,
    rate: u32,
}

/// Half-length of the interpolation filter, in samples.
const TAPS_HALF: usize = 6;

impl Leveller {
    pub fn new(samples: Vec<f32>, rate: u32) -> Leveller {
        let peaks = peak_envelope(&samples);
        Leveller {
            samples,
            peaks,
            rate,
        }
    }

    /// The mix with `gain_db` applied and every peak, inter-sample peaks
    /// included, held under `ceiling_db` by the limiter.
    pub fn apply(&self, gain_db: f64, ceiling_db: f64) -> Vec<f32> {
        let g = 10f64.powf(gain_db / 20.0) as f32;
        let ceiling = 10f64.powf(ceiling_db / 20.0) as f32;
        let gains = limiter_gains(&self.peaks, g, ceiling, self.rate);
        let mut out = Vec::with_capacity(self.samples.len());
        for (frame, k) in self.samples.chunks_exact(CHANNELS).zip(&gains) {
            out.extend(frame.iter().map(|s| s * g * k));
        }
        out
    }
}

/// Per frame, the highest absolute value of either channel at the frame and
/// at the three points between it and the next one, interpolated with a
/// Hann-windowed sinc of 2 × TAPS_HALF taps (inter-sample peaks, as a
/// true-peak meter sees them).
fn peak_envelope(samples: &[f32]) -> Vec<f32> {
    let frames = samples.len() / CHANNELS;
    // Filter taps for the phases 1/4, 2/4 and 3/4 of a sample; tap j weighs
    // the sample (j - TAPS_HALF + 1) frames from the frame.
    let taps: Vec<[f32; 2 * TAPS_HALF]> = (1..4)
        .map(|p| {
            let frac = p as f64 / 4.0;
            let mut t = [0f32; 2 * TAPS_HALF];
            for (j, tap) in t.iter_mut().enumerate() {
                let x = (j as f64 - TAPS_HALF as f64 + 1.0) - frac;
                let sinc = (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x);
                let w = 0.5 + 0.5 * (std::f64::consts::PI * x / (TAPS_HALF as f64 + 0.5)).cos();
                *tap = (sinc * w) as f32;
            }
            t
        })
        .collect();
    let mut env = vec![0f32; frames];
    // One channel at a time, zero-padded so every window is a plain slice:
    // frame n is padded[n + TAPS_HALF], tap j reads padded[n + j + 1].
    let mut padded = vec![0f32; frames + 2 * TAPS_HALF];
    const BLOCK: usize = 4096;
    let mut acc = [0f32; BLOCK];
    for c in 0..CHANNELS {
        for (n, v) in samples.iter().skip(c).step_by(CHANNELS).enumerate() {
            padded[n + TAPS_HALF] = *v;
        }
        for start in (0..frames).step_by(BLOCK) {
            let len = BLOCK.min(frames - start);
            let out = &mut env[start..start + len];
            for (o, v) in out.iter_mut().zip(&padded[start + TAPS_HALF..]) {
                *o = o.max(v.abs());
            }
            // Tap by tap over the whole block: plain multiply-adds over
            // slices, which the compiler vectorises.
            for t in &taps {
                let acc = &mut acc[..len];
                acc.fill(0.0);
                for (j, w) in t.iter().enumerate() {
                    let src = &padded[start + j + 1..start + j + 1 + len];
                    for (a, s) in acc.iter_mut().zip(src) {
                        *a += w * s;
                    }
                }
                for (o, a) in out.iter_mut().zip(acc.iter()) {
                    *o = o.max(a.abs());
                }
            }
        }
    }
    env
}

/// Per-frame gain of a look-ahead limiter that keeps `gain × peaks` under
/// `ceiling`. The gain each frame needs is taken as the minimum over the
/// next ATTACK_S (so it is down before a peak arrives), smoothed by a moving
/// average over the same span (a linear ramp that still never exceeds what
/// any frame needs), then allowed back up with a RELEASE_S time constant.
fn limiter_gains(peaks: &[f32], gain: f32, ceiling: f32, rate: u32) -> Vec<f32> {
    let n = peaks.len();
    let need: Vec<f32> = peaks
        .iter()
        .map(|p| {
            let q = p * gain;
            if q > ceiling {
                ceiling / q
            } else {
                1.0
            }
        })
        .collect();
    let a = ((ATTACK_S * rate as f64).round() as usize).max(1);
    // Minimum over [i, i + a] with a monotonic deque.
    let mut mins = vec![1f32; n];
    let mut dq: std::collections::VecDeque<usize> = Default::default();
    for j in (0..n).rev() {
        while dq.back().is_some_and(|&k| need[k] >= need[j]) {
            dq.pop_back();
        }
        dq.push_back(j);
        while dq.front().is_some_and(|&k| k > j + a) {
            dq.pop_front();
        }
        mins[j] = need[dq[0]];
    }
    // Moving average over [i - a, i]: each term is the minimum over a window
    // that contains i, so the average never exceeds need[i].
    let mut smooth = vec![1f32; n];
    let mut sum = 0f64;
    for i in 0..n {
        sum += mins[i] as f64;
        if i > a {
            sum -= mins[i - a - 1] as f64;
        }
        // Before the start the window is padded with the first minimum,
        // which covers frames 0..=a, so the bound holds there too.
        let pad = (a - i.min(a)) as f64 * mins[0] as f64;
        smooth[i] = ((sum + pad) / (a + 1) as f64) as f32;
    }
    let rel = (-1.0 / (RELEASE_S * rate as f64)).exp() as f32;
    let mut g = 1f32;
    for s in smooth.iter_mut() {
        g = if *s < g { *s } else { *s + (g - *s) * rel };
        *s = g;
    }
    smooth
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_term_loudness_of_a_sine_in_both_channels_reads_its_level() {
        // A 997 Hz sine at -20 dBFS in both channels measures -20 LUFS
        // (EBU Tech 3341's reference: 0 dBFS in one channel is -3.01 LUFS).
        let rate = 48_000;
        let amp = 10f32.powf(-20.0 / 20.0);
        let samples: Vec<f32> = (0..rate * 4)
            .flat_map(|i| {
                let s = amp * (2.0 * std::f32::consts::PI * 997.0 * i as f32 / rate as f32).sin();
                [s, s]
            })
            .collect();
        let curve = short_term_of(&samples, rate, 0.1).unwrap();
        assert_eq!(curve.len(), 40);
        let at_3_5 = curve[34];
        assert!((at_3_5 + 20.0).abs() < 0.3, "{at_3_5}");
        // The 3 s window fills up: the level climbs before it settles.
        assert!(curve[2] < curve[20], "{curve:?}");
    }

    use super::*;

    #[test]
    fn parses_ebur128_summary() {
        let s = "[Parsed_ebur128_0 @ 0x1] t: 1.2 M: -20 S: -21 I: -30.0 LUFS\n[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -14.3 LUFS\n    Threshold: -24.6 LUFS\n\n  True peak:\n    Peak:       -1.4 dBFS\n";
        assert_eq!(parse_ebur128(s), Some((-14.3, -1.4)));
        assert!(parse_ebur128("nothing").is_none());
    }

    fn tone(freq: f64, amp: f32, secs: f64, rate: u32) -> Vec<f32> {
        let n = (secs * rate as f64) as usize;
        (0..n)
            .flat_map(|i| {
                let v =
                    amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32;
                [v, v]
            })
            .collect()
    }

    #[test]
    fn a_full_scale_sine_measures_as_the_standard_says() {
        // BS.1770: a 1 kHz sine of amplitude A in both channels has a mean
        // square of A²/2 per channel, A² summed; K-weighting adds 0.69 dB at
        // 1 kHz, which the -0.691 offset cancels: -20 LUFS for A = 0.1, and
        // a true peak of -20 dBTP.
        let rate = 48000;
        let x = tone(1000.0, 0.1, 5.0, rate);
        let (lufs, tp) = measure(&x, rate, true).unwrap();
        assert!((lufs - (-20.0 + 0.0)).abs() < 0.2, "{lufs}");
        assert!((tp - (-20.0)).abs() < 0.2, "{tp}");
    }

    #[test]
    fn the_limiter_holds_the_true_peak_under_its_ceiling() {
        let rate = 48000;
        // A tone near a quarter of the rate peaks between samples: its
        // samples alone under-read it.
        let mut x = tone(11_997.0, 0.5, 2.0, rate);
        x.extend(tone(440.0, 0.9, 2.0, rate));
        x.extend(tone(100.0, 0.05, 2.0, rate));
        let lev = Leveller::new(x, rate);
        let out = lev.apply(9.0, -2.0);
        let (_, tp) = measure(&out, rate, true).unwrap();
        assert!(tp <= -1.8, "true peak {tp} dBTP over a -2 dB ceiling");
        // The quiet part far from any loud one passes at the full gain.
        let q = &out[(5.5 * rate as f64) as usize * 2..(5.9 * rate as f64) as usize * 2];
        let peak = q.iter().fold(0f32, |m, v| m.max(v.abs()));
        let want = 0.05 * 10f32.powf(9.0 / 20.0);
        assert!(
            (peak - want).abs() < 0.01 * want,
            "quiet part {peak} vs {want}"
        );
    }

    #[test]
    fn more_gain_gives_more_loudness_until_the_limiter_holds_it() {
        let rate = 48000;
        let lev = Leveller::new(tone(440.0, 0.1, 3.0, rate), rate);
        let l0 = measure(&lev.apply(0.0, -1.0), rate, false).unwrap().0;
        let l6 = measure(&lev.apply(6.0, -1.0), rate, false).unwrap().0;
        assert!((l6 - l0 - 6.0).abs() < 0.1, "{l0} -> {l6}");
        let l30 = measure(&lev.apply(30.0, -1.0), rate, true).unwrap();
        assert!(l30.1 <= -0.9, "limited peak {}", l30.1);
    }
}
