//! The shots between the boundaries and their signals: each measured on
//! its clean frames (away from transitions and flashes), then normalised
//! across the film so that a shot's signal says how it stands among the
//! film's shots.

use super::faces::FaceSample;
use super::features::{self, FrameStats};
use super::{Boundary, BoundaryKind, Shot, Signals};

/// What the shots are measured on.
pub(super) struct ShotInputs<'a> {
    pub stats: &'a [FrameStats],
    pub boundaries: &'a [Boundary],
    pub flashes: &'a [f64],
    pub frame_count: u64,
    pub duration_s: f64,
    pub fps: f64,
    /// The loudness curve (dBFS) and its step in seconds.
    pub loud: &'a [f32],
    pub loud_step: f64,
    /// Audio onset times.
    pub onsets: &'a [f64],
    /// The face detector's samples; `None`: the skin-colour proxy.
    pub face_samples: Option<&'a [FaceSample]>,
}

/// The film's shots, one from each boundary to the next, with their raw
/// and normalised signals.
pub(super) fn build_shots(inp: &ShotInputs<'_>) -> Vec<Shot> {
    let edges = shot_starts(inp.boundaries);
    let end = (inp.duration_s, inp.frame_count);
    let mut shots = Vec::new();
    let mut hists: Vec<[f32; features::HIST]> = Vec::new();
    for (i, &start) in edges.iter().enumerate() {
        let stop = edges.get(i + 1).copied().unwrap_or(end);
        let (shot, hist) = inp.measure(i, start, stop);
        shots.push(shot);
        hists.push(hist);
    }
    add_uniqueness(&mut shots, &hists);
    normalise_signals(&mut shots);
    shots
}

/// Where each shot starts, (time, frame): the film's start, then each
/// boundary later than the one before.
fn shot_starts(boundaries: &[Boundary]) -> Vec<(f64, u64)> {
    let mut edges: Vec<(f64, u64)> = vec![(0.0, 0)];
    for b in boundaries {
        if b.time_s > edges.last().map(|e| e.0).unwrap_or(0.0) + 1e-6 {
            edges.push((b.time_s, b.frame));
        }
    }
    edges
}

impl ShotInputs<'_> {
    /// Shot `index` from `(s0, f0)` up to `(s1, f1)`, with its raw signals
    /// (uniqueness aside) and mean colour histogram.
    fn measure(
        &self,
        index: usize,
        (s0, f0): (f64, u64),
        (s1, f1): (f64, u64),
    ) -> (Shot, [f32; features::HIST]) {
        let stats = self.stats;
        let lo = stats.partition_point(|s| s.t < s0 - 1e-6);
        let hi = stats.partition_point(|s| s.t < s1 - 1e-6);
        let frames = self.clean_frames(lo, hi);
        let n = frames.len().max(1) as f64;
        let mean =
            |f: &dyn Fn(&FrameStats) -> f64| frames.iter().map(|&j| f(&stats[j])).sum::<f64>() / n;
        let shot = Shot {
            index,
            start_s: s0,
            end_s: s1,
            start_frame: f0,
            end_frame: f1.saturating_sub(1).max(f0),
            keyframe_s: self.sharpest(&frames).unwrap_or((s0 + s1) / 2.0),
            signals: Signals::default(),
            raw: Signals {
                motion: self.motion(&frames, lo),
                contrast: mean(&|s| s.luma_std as f64),
                saturation: mean(&|s| s.sat as f64),
                brightness: mean(&|s| s.luma as f64),
                uniqueness: 0.0,
                faces: match self.face_samples {
                    Some(fs) => face_score(fs, s0, s1),
                    None => mean(&|s| s.skin as f64),
                },
                loudness: self.loudness(s0, s1),
                onset_density: self.onset_density(s0, s1),
            },
        };
        (shot, self.mean_hist(&frames, n))
    }

    /// The analysed frames `lo..hi` outside transitions and away from
    /// flashes; all of them where none is.
    fn clean_frames(&self, lo: usize, hi: usize) -> Vec<usize> {
        let in_transition = |t: f64| {
            self.boundaries
                .iter()
                .any(|b| b.kind != BoundaryKind::Cut && t >= b.start_s && t <= b.end_s)
        };
        let near_flash = |t: f64| self.flashes.iter().any(|f| (t - f).abs() < 0.2);
        let all: Vec<usize> = (lo..hi).collect();
        let clean: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&j| !in_transition(self.stats[j].t) && !near_flash(self.stats[j].t))
            .collect();
        if clean.is_empty() {
            all
        } else {
            clean
        }
    }

    /// Mean picture change per second over `frames` (each against the
    /// frame before; the shot's first frame, `lo`, has none in the shot).
    fn motion(&self, frames: &[usize], lo: usize) -> f64 {
        let stats = self.stats;
        frames
            .iter()
            .filter(|&&j| j > lo)
            .map(|&j| stats[j].diff[0] as f64 / (stats[j].t - stats[j - 1].t).max(1e-3))
            .sum::<f64>()
            / (frames.iter().filter(|&&j| j > lo).count().max(1) as f64)
    }

    /// Time of the sharpest of `frames`.
    fn sharpest(&self, frames: &[usize]) -> Option<f64> {
        let stats = self.stats;
        frames
            .iter()
            .copied()
            .max_by(|&a, &b| stats[a].sharp.total_cmp(&stats[b].sharp))
            .map(|j| stats[j].t)
    }

    /// The mean colour histogram of `frames` (`n` of them, at least 1).
    fn mean_hist(&self, frames: &[usize], n: f64) -> [f32; features::HIST] {
        let mut hist = [0f32; features::HIST];
        for &j in frames {
            for (h, v) in hist.iter_mut().zip(self.stats[j].hist.iter()) {
                *h += v / n as f32;
            }
        }
        hist
    }

    /// Mean of the loudness curve over `[s0, s1)`, dBFS; -90 without sound.
    fn loudness(&self, s0: f64, s1: f64) -> f64 {
        let loud = self.loud;
        let (l0, l1) = (
            (s0 / self.loud_step).floor() as usize,
            ((s1 / self.loud_step).ceil() as usize).min(loud.len()),
        );
        if l1 > l0 {
            loud[l0..l1].iter().map(|&x| x as f64).sum::<f64>() / (l1 - l0) as f64
        } else {
            -90.0
        }
    }

    /// Audio onsets per second in `[s0, s1)`.
    fn onset_density(&self, s0: f64, s1: f64) -> f64 {
        self.onsets.iter().filter(|&&t| t >= s0 && t < s1).count() as f64
            / (s1 - s0).max(1.0 / self.fps)
    }
}

/// Uniqueness: each shot's mean colour-histogram distance to every other.
fn add_uniqueness(shots: &mut [Shot], hists: &[[f32; features::HIST]]) {
    let m = shots.len();
    for i in 0..m {
        let d: f64 = (0..m)
            .filter(|&j| j != i)
            .map(|j| features::hist_distance(&hists[i], &hists[j]) as f64)
            .sum();
        shots[i].raw.uniqueness = if m > 1 { d / (m - 1) as f64 } else { 0.0 };
    }
}

/// Every signal of every shot, normalised across the film from the raw one.
fn normalise_signals(shots: &mut [Shot]) {
    type Get = fn(&mut Signals) -> &mut f64;
    let fields: [Get; 8] = [
        |s| &mut s.motion,
        |s| &mut s.contrast,
        |s| &mut s.saturation,
        |s| &mut s.brightness,
        |s| &mut s.uniqueness,
        |s| &mut s.faces,
        |s| &mut s.loudness,
        |s| &mut s.onset_density,
    ];
    for get in fields {
        let vals: Vec<f64> = shots.iter_mut().map(|s| *get(&mut s.raw)).collect();
        for (s, v) in shots.iter_mut().zip(normalise(&vals)) {
            *get(&mut s.signals) = v;
        }
    }
}

/// Share of the face samples inside [s0, s1) that show a face, weighted by
/// the face's size (close-ups count more); the nearest sample stands in for
/// shots too short to contain one.
fn face_score(fs: &[FaceSample], s0: f64, s1: f64) -> f64 {
    let val = |f: &FaceSample| {
        if f.faces > 0 {
            0.5 + 0.5 * (f.largest as f64 * 10.0).min(1.0)
        } else {
            0.0
        }
    };
    let inside: Vec<f64> = fs
        .iter()
        .filter(|f| f.t >= s0 && f.t < s1)
        .map(val)
        .collect();
    if !inside.is_empty() {
        return inside.iter().sum::<f64>() / inside.len() as f64;
    }
    let mid = (s0 + s1) / 2.0;
    fs.iter()
        .min_by(|a, b| (a.t - mid).abs().total_cmp(&(b.t - mid).abs()))
        .filter(|f| (f.t - mid).abs() < 1.0)
        .map(val)
        .unwrap_or(0.0)
}

/// Robust min-max: 5th..95th percentile of the shots mapped to 0..1.
fn normalise(v: &[f64]) -> Vec<f64> {
    if v.is_empty() {
        return Vec::new();
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.05), q(0.95));
    if hi - lo < 1e-9 {
        // One shot, or all equal: nothing stands out; a lone shot is mid-scale.
        return vec![if v.len() == 1 { 0.5 } else { 0.0 }; v.len()];
    }
    v.iter()
        .map(|x| ((x - lo) / (hi - lo)).clamp(0.0, 1.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_maps_to_unit_range_and_handles_constants() {
        let n = normalise(&[1.0, 2.0, 3.0, 100.0]);
        assert!(n.iter().all(|x| (0.0..=1.0).contains(x)));
        assert_eq!(n[0], 0.0);
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn face_score_weights_size_and_uses_nearest_sample_for_short_shots() {
        let f = |t, faces, largest| FaceSample { t, faces, largest };
        let fs = [
            f(0.0, 0, 0.0),
            f(2.0, 1, 0.1),
            f(4.0, 1, 0.01),
            f(6.0, 0, 0.0),
        ];
        assert_eq!(face_score(&fs, 0.0, 1.0), 0.0);
        assert!((face_score(&fs, 1.5, 2.5) - 1.0).abs() < 1e-9);
        assert!((face_score(&fs, 3.5, 4.5) - 0.55).abs() < 1e-6);
        // No sample inside 4.6..4.9: the nearest (4.0) is within 1 s.
        assert!(face_score(&fs, 4.6, 4.9) > 0.5);
        assert_eq!(face_score(&fs, 10.0, 10.5), 0.0);
    }
}
