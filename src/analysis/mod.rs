//! Film analysis: shot boundaries and per-shot signals from one decoding pass.
//!
//! This first version decodes a small rgb24 picture through an ffmpeg pipe,
//! finds hard cuts from colour-histogram jumps against a local median (so a
//! flash of two or three frames, which jumps back, is not a cut), and measures
//! motion, contrast, saturation and brightness per shot.

use crate::error::{Error, Result};
use crate::media::ffmpeg;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Boundary {
    pub time_s: f64,
    pub frame: u64,
    pub kind: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Signals {
    pub motion: f32,
    pub contrast: f32,
    pub saturation: f32,
    pub brightness: f32,
    pub uniqueness: f32,
    pub faces: f32,
    pub loudness: f32,
    pub onset_density: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shot {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub start_frame: u64,
    pub end_frame: u64,
    pub keyframe_s: f64,
    pub signals: Signals,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilmAnalysis {
    pub fps: f64,
    pub frame_count: u64,
    pub duration_s: f64,
    pub boundaries: Vec<Boundary>,
    pub shots: Vec<Shot>,
    /// Times of isolated bright/odd frames that must not sit at a clip's edge.
    #[serde(default)]
    pub flashes: Vec<f64>,
}

pub struct AnalyseOptions {
    pub analysis_width: u32,
}

impl Default for AnalyseOptions {
    fn default() -> Self {
        AnalyseOptions { analysis_width: 96 }
    }
}

struct FrameStat {
    hist: [f32; 48],
    luma: f32,
    contrast: f32,
    saturation: f32,
    motion: f32,
}

pub fn analyse(
    film: &Path,
    fps: f64,
    duration_s: f64,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<FilmAnalysis> {
    let w = opts.analysis_width.max(16) & !1;
    let h = ((w as f64 * 9.0 / 16.0).round() as u32).max(8) & !1;
    let vf = format!("scale={w}:{h}:flags=fast_bilinear,format=rgb24");
    let mut child = Command::new(ffmpeg::ffmpeg_bin())
        .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
        .args(["-skip_loop_filter", "all", "-threads", "0", "-i"])
        .arg(film)
        .args(["-an", "-sn", "-vf", &vf, "-f", "rawvideo", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::tool("ffmpeg", e.to_string()))?;
    let mut err = child.stderr.take().expect("piped");
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = child.stdout.take().expect("piped");
    let fsize = (w * h * 3) as usize;
    let mut buf = vec![0u8; fsize];
    let mut prev: Option<Vec<u8>> = None;
    let mut stats = Vec::new();
    loop {
        if out.read_exact(&mut buf).is_err() {
            break;
        }
        stats.push(frame_stat(&buf, prev.as_deref()));
        prev = Some(buf.clone());
        if stats.len() % 48 == 0 {
            progress(stats.len() as f64 / fps);
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::tool("ffmpeg", e.to_string()))?;
    let stderr = errs.join().unwrap_or_default();
    if stats.is_empty() {
        return Err(Error::input(
            film,
            format!(
                "no frame could be decoded ({})",
                ffmpeg::tail_lines(&stderr, 2)
            ),
        ));
    }
    if !status.success() && stats.len() < 2 {
        return Err(Error::tool("ffmpeg", ffmpeg::tail_lines(&stderr, 3)));
    }
    Ok(build(&stats, fps, duration_s))
}

fn frame_stat(px: &[u8], prev: Option<&[u8]>) -> FrameStat {
    let mut hist = [0f32; 48];
    let (mut sum, mut sum2, mut sat) = (0f64, 0f64, 0f64);
    let n = px.len() / 3;
    for p in px.chunks_exact(3) {
        let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
        hist[(p[0] >> 4) as usize] += 1.0;
        hist[16 + (p[1] >> 4) as usize] += 1.0;
        hist[32 + (p[2] >> 4) as usize] += 1.0;
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        sum += y as f64;
        sum2 += (y * y) as f64;
        let mx = r.max(g).max(b);
        let mn = r.min(g).min(b);
        sat += if mx > 0.0 {
            ((mx - mn) / mx) as f64
        } else {
            0.0
        };
    }
    for v in hist.iter_mut() {
        *v /= n as f32;
    }
    let mean = sum / n as f64;
    let motion = prev
        .map(|q| {
            px.iter()
                .zip(q)
                .map(|(a, b)| (*a as i32 - *b as i32).unsigned_abs() as u64)
                .sum::<u64>() as f32
                / px.len() as f32
                / 255.0
        })
        .unwrap_or(0.0);
    FrameStat {
        hist,
        luma: (mean / 255.0) as f32,
        contrast: ((sum2 / n as f64 - mean * mean).max(0.0).sqrt() / 128.0) as f32,
        saturation: (sat / n as f64) as f32,
        motion,
    }
}

fn hist_dist(a: &[f32; 48], b: &[f32; 48]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / 6.0
}

/// Finds cuts: a frame whose histogram jumps from the previous one by far more
/// than the local median jump, and which does not jump back within three
/// frames (a flash returns to the picture it interrupted).
fn build(stats: &[FrameStat], fps: f64, duration_s: f64) -> FilmAnalysis {
    let n = stats.len();
    let d: Vec<f32> = (0..n)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                hist_dist(&stats[i].hist, &stats[i - 1].hist)
            }
        })
        .collect();
    let min_shot = (fps * 0.5).round() as usize;
    let mut cuts = Vec::new();
    let mut flashes = Vec::new();
    let mut skip_until = 0;
    for i in 1..n {
        if i <= skip_until {
            continue;
        }
        let lo = i.saturating_sub(12);
        let hi = (i + 12).min(n);
        let mut win: Vec<f32> = d[lo..hi].to_vec();
        win.sort_by(|a, b| a.total_cmp(b));
        let med = win[win.len() / 2];
        if d[i] > 0.30 && d[i] > 4.0 * med + 0.08 {
            // Flash test: does the picture come back within 3 frames?
            let back = (i + 1..(i + 4).min(n))
                .find(|&j| hist_dist(&stats[j].hist, &stats[i - 1].hist) < d[i] * 0.35);
            if let Some(j) = back {
                flashes.push(i as f64 / fps);
                skip_until = j;
                continue;
            }
            if cuts.last().is_none_or(|&c: &usize| i - c >= min_shot) {
                cuts.push(i);
            }
        }
    }
    let mut starts = vec![0usize];
    starts.extend(&cuts);
    let mut shots = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n);
        let len = (e - s).max(1) as f32;
        let seg = &stats[s..e];
        let avg = |f: fn(&FrameStat) -> f32| seg.iter().map(f).sum::<f32>() / len;
        // The steadiest frame of the middle half is the keyframe.
        let q = (e - s) / 4;
        let key = (s + q..e - q)
            .min_by(|a, b| stats[*a].motion.total_cmp(&stats[*b].motion))
            .unwrap_or(s);
        shots.push(Shot {
            index: k,
            start_s: s as f64 / fps,
            end_s: if e == n {
                duration_s.max(e as f64 / fps)
            } else {
                e as f64 / fps
            },
            start_frame: s as u64,
            end_frame: e as u64,
            keyframe_s: key as f64 / fps,
            signals: Signals {
                motion: avg(|f| f.motion),
                contrast: avg(|f| f.contrast),
                saturation: avg(|f| f.saturation),
                brightness: avg(|f| f.luma),
                ..Default::default()
            },
        });
    }
    uniqueness(&mut shots, stats, &starts, n);
    normalise(&mut shots);
    FilmAnalysis {
        fps,
        frame_count: n as u64,
        duration_s,
        boundaries: cuts
            .iter()
            .map(|&c| Boundary {
                time_s: c as f64 / fps,
                frame: c as u64,
                kind: "cut".into(),
            })
            .collect(),
        shots,
        flashes,
    }
}

fn uniqueness(shots: &mut [Shot], stats: &[FrameStat], starts: &[usize], n: usize) {
    let means: Vec<[f32; 48]> = starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let e = starts.get(k + 1).copied().unwrap_or(n);
            let mut m = [0f32; 48];
            for f in &stats[s..e] {
                for (a, b) in m.iter_mut().zip(&f.hist) {
                    *a += b / (e - s) as f32;
                }
            }
            m
        })
        .collect();
    for (i, shot) in shots.iter_mut().enumerate() {
        let mut ds: Vec<f32> = means
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, m)| hist_dist(&means[i], m))
            .collect();
        ds.sort_by(|a, b| a.total_cmp(b));
        // Distance to the nearest few look-alikes: a shot like no other scores high.
        let k = ds.len().clamp(1, 3);
        shot.signals.uniqueness = ds.iter().take(k).sum::<f32>() / k as f32;
    }
}

/// Rescales each signal to 0..1 across the film (min-max).
fn normalise(shots: &mut [Shot]) {
    type Get = fn(&mut Signals) -> &mut f32;
    let fields: [Get; 5] = [
        |s| &mut s.motion,
        |s| &mut s.contrast,
        |s| &mut s.saturation,
        |s| &mut s.brightness,
        |s| &mut s.uniqueness,
    ];
    for f in fields {
        let vals: Vec<f32> = shots.iter_mut().map(|s| *f(&mut s.signals)).collect();
        let lo = vals.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = vals.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for s in shots.iter_mut() {
            let v = f(&mut s.signals);
            *v = if hi > lo { (*v - lo) / (hi - lo) } else { 0.5 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(level: u8, n: usize) -> Vec<u8> {
        vec![level; n]
    }

    #[test]
    fn cut_found_and_flash_ignored() {
        let n = 96 * 54 * 3;
        let mut stats = Vec::new();
        let mut prev: Option<Vec<u8>> = None;
        let seq: Vec<u8> = (0..48)
            .map(|i| match i {
                20 | 21 => 250, // a two-frame flash
                0..=29 => 40,
                _ => 160,
            })
            .collect();
        for l in seq {
            let f = frame(l, n);
            stats.push(frame_stat(&f, prev.as_deref()));
            prev = Some(f);
        }
        let a = build(&stats, 24.0, 2.0);
        assert_eq!(a.boundaries.len(), 1, "{:?}", a.boundaries);
        assert_eq!(a.boundaries[0].frame, 30);
        assert_eq!(a.shots.len(), 2);
        assert!(!a.flashes.is_empty());
    }
}
