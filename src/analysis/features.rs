//! Per-frame statistics computed while frames stream past: brightness,
//! contrast, saturation, sharpness, colour histogram, differences to the last
//! few frames and a dissolve-linearity measure. Only these small numbers are
//! kept, never pictures, so memory grows by ~200 bytes per analysed frame.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// How many earlier frames each frame is compared to (flash/strobe test).
pub const BACK: usize = 6;
/// Dissolve half-widths, in seconds.
pub const DISSOLVE_HALF_S: [f64; 4] = [0.25, 0.4, 0.6, 0.9];
/// Colour histogram bins (8 luma + 8 hue) for shot uniqueness.
pub const HIST: usize = 16;

const GRID_W: usize = 32;
const GRID_H: usize = 18;
const GRID: usize = GRID_W * GRID_H;

/// Statistics of one analysed frame. Values are in 0..1 unless said otherwise.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FrameStats {
    pub t: f64,
    /// Index of this frame in the full frame grid of the film.
    pub frame: u64,
    pub luma: f32,
    pub luma_std: f32,
    pub sat: f32,
    /// Chroma magnitude is `sat`; mean absolute Laplacian of luma (focus / detail).
    pub sharp: f32,
    /// Fraction of pixels with skin-like chroma in bright-enough areas.
    pub skin: f32,
    /// diff[k-1] = mean absolute difference to the frame k analysed frames back.
    pub diff: [f32; BACK],
    /// Histogram distance to the previous frame (0..1).
    pub hist_diff: f32,
    /// Difference to the previous frame after the best global shift of up to
    /// ±3 grid cells across and ±2 down (about ±10 % of the picture): camera
    /// pans and shake move the picture, a cut replaces it, so this stays
    /// high for cuts and drops for camera motion. Equal to `diff[0]` when
    /// that is too small to matter (it is never larger).
    #[serde(default)]
    pub diff_mc: f32,
    /// `diff[0]` over the top and the bottom half of the picture: a change
    /// confined to one half (a subtitle appearing, a caption) is not a cut.
    #[serde(default)]
    pub diff_halves: [f32; 2],
    /// For each dissolve half-width h: (span difference between frames c-h and
    /// c+h, linearity residual / span) with this frame as the centre c.
    pub lin: [(f32, f32); DISSOLVE_HALF_S.len()],
    pub hist: [f32; HIST],
    /// The decoder reported an intra (I) picture: encoders place these on
    /// the scene cuts they detect.
    pub intra: bool,
    /// ... and marked it a key frame: decoding can start there cleanly (not
    /// a gradual refresh that takes frames to heal).
    #[serde(default)]
    pub key: bool,
}

struct Thumb {
    /// Mean-removed luma then Cb, Cr on the grid.
    y: [f32; GRID],
    cb: [f32; GRID],
    cr: [f32; GRID],
    hist: [f32; HIST],
}

/// Streaming feature extractor; feed frames in presentation order.
pub struct Extractor {
    w: usize,
    h: usize,
    ring: VecDeque<Thumb>,
    ring_cap: usize,
    /// Dissolve half-widths in analysed frames; fixed once the frame
    /// interval is measured (after `MEASURE` frames).
    half: Vec<usize>,
    min_step_s: f64,
    pub stats: Vec<FrameStats>,
    luma: Vec<f32>,
}

impl Extractor {
    /// `min_step_s` is the shortest time between analysed frames (1/fps);
    /// the real interval (larger when non-reference frames are skipped) is
    /// measured on the first frames and turns dissolve widths into frames.
    pub fn new(w: u32, h: u32, min_step_s: f64) -> Self {
        let ring_cap =
            (2 * half_widths(min_step_s).iter().max().copied().unwrap_or(2) + 1).max(BACK + 1);
        Extractor {
            w: w as usize,
            h: h as usize,
            ring: VecDeque::with_capacity(ring_cap + 1),
            ring_cap,
            half: Vec::new(),
            min_step_s,
            stats: Vec::new(),
            luma: vec![0.0; (w * h) as usize],
        }
    }

    /// Add the next frame, given as yuv420p planes (`w`×`h` luma, then two
    /// `w/2`×`h/2` chroma planes). YUV straight from the decoder saves a
    /// colour conversion in ffmpeg and three quarters of the chroma work here.
    pub fn push(&mut self, t: f64, frame: u64, yuv: &[u8]) {
        let (w, h) = (self.w, self.h);
        let (cw, ch) = (w / 2, h / 2);
        let (yp, rest) = yuv.split_at(w * h);
        let (up, vp) = rest.split_at(cw * ch);
        let mut grid = [[0f32; 3]; GRID];
        let mut counts = [0f32; GRID];
        let mut ccounts = [0f32; GRID];
        let mut hist = [0f32; HIST];
        let (mut sum_y, mut sum_y2, mut sum_s, mut skin) = (0f64, 0f64, 0f64, 0usize);
        let cols: Vec<usize> = (0..w).map(|xx| xx * GRID_W / w).collect();
        let ccols: Vec<usize> = (0..cw).map(|cx| cx * GRID_W / cw).collect();
        let chroma_lut = chroma_table();
        for yy in 0..h {
            let row = (yy * GRID_H / h) * GRID_W;
            for xx in 0..w {
                let y = yp[yy * w + xx] as f32;
                self.luma[yy * w + xx] = y;
                sum_y += y as f64;
                sum_y2 += (y * y) as f64;
                let gi = row + cols[xx];
                grid[gi][0] += y;
                counts[gi] += 1.0;
                hist[((y as usize) >> 5).min(7)] += 1.0;
            }
        }
        for cy in 0..ch {
            let row = (cy * GRID_H / ch) * GRID_W;
            for cx in 0..cw {
                let (bu, bv) = (up[cy * cw + cx], vp[cy * cw + cx]);
                let (cb, cr) = (bu as f32, bv as f32);
                let gi = row + ccols[cx];
                grid[gi][1] += cb;
                grid[gi][2] += cr;
                ccounts[gi] += 1.0;
                let (sat, bin) = chroma_lut[(bu as usize) << 8 | bv as usize];
                sum_s += sat as f64;
                let y = yp[(2 * cy) * w + 2 * cx];
                // Skin chroma box (Chai & Ngan) with some light on it.
                if (77.0..=127.0).contains(&cb) && (133.0..=173.0).contains(&cr) && y > 60 {
                    skin += 1;
                }
                if bin != NO_HUE {
                    hist[8 + bin as usize] += 4.0;
                }
            }
        }
        let n = (w * h) as f64;
        let mean_y = sum_y / n;
        let var_y = (sum_y2 / n - mean_y * mean_y).max(0.0);
        // Laplacian on luma (interior pixels): detail, used to pick the sharpest keyframe.
        let mut lap = 0f64;
        for yy in 1..h.saturating_sub(1) {
            for xx in 1..w.saturating_sub(1) {
                let c = self.luma[yy * w + xx] * 4.0;
                let v = c
                    - self.luma[yy * w + xx - 1]
                    - self.luma[yy * w + xx + 1]
                    - self.luma[(yy - 1) * w + xx]
                    - self.luma[(yy + 1) * w + xx];
                lap += v.abs() as f64;
            }
        }
        let lap_n = ((w.saturating_sub(2)) * (h.saturating_sub(2))).max(1) as f64;
        let total: f32 = hist.iter().sum::<f32>().max(1.0);
        for v in &mut hist {
            *v /= total;
        }
        let mut th = Thumb {
            y: [0.0; GRID],
            cb: [0.0; GRID],
            cr: [0.0; GRID],
            hist,
        };
        let gmean = (mean_y / 255.0) as f32;
        for i in 0..GRID {
            let c = counts[i].max(1.0) * 255.0;
            let cc = ccounts[i].max(1.0) * 255.0;
            th.y[i] = grid[i][0] / c - gmean;
            th.cb[i] = grid[i][1] / cc;
            th.cr[i] = grid[i][2] / cc;
        }

        let mut st = FrameStats {
            t,
            frame,
            luma: (mean_y / 255.0) as f32,
            luma_std: (var_y.sqrt() / 255.0) as f32,
            sat: (sum_s / (cw * ch).max(1) as f64) as f32,
            sharp: (lap / lap_n / 255.0) as f32,
            skin: (skin as f64 / (cw * ch).max(1) as f64) as f32,
            hist: th.hist,
            ..Default::default()
        };
        // Differences to earlier frames. Luma is compared with its means kept
        // (brightness jumps matter for cuts), so add back the global mean delta.
        for k in 1..=BACK {
            if let Some(prev) = self.ring.len().checked_sub(k).map(|i| &self.ring[i]) {
                let prev_mean = self.stats[self.stats.len() - k].luma;
                st.diff[k - 1] = thumb_diff(&th, prev, st.luma - prev_mean);
            }
        }
        if let Some(prev) = self.ring.back() {
            let prev_mean = self.stats[self.stats.len() - 1].luma;
            st.diff_halves = half_diffs(&th, prev, st.luma - prev_mean);
            st.diff_mc = if st.diff[0] >= MC_MIN {
                shifted_diff(&th, prev, st.luma - prev_mean).min(st.diff[0])
            } else {
                st.diff[0]
            };
            st.hist_diff = th
                .hist
                .iter()
                .zip(prev.hist.iter())
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                * 0.5;
        }
        self.ring.push_back(th);
        if self.ring.len() > self.ring_cap {
            self.ring.pop_front();
        }
        self.stats.push(st);
        if self.half.is_empty() && self.stats.len() > MEASURE {
            let mut d: Vec<f64> = self.stats.windows(2).map(|w| w[1].t - w[0].t).collect();
            d.sort_by(|a, b| a.total_cmp(b));
            self.half = half_widths(d[d.len() / 2].max(self.min_step_s));
        }
        // Dissolve linearity with the newest frame as the right end b = c + h.
        let len = self.ring.len();
        let ns = self.stats.len();
        for (hi, &hh) in self.half.iter().enumerate() {
            if len < 2 * hh + 1 {
                continue;
            }
            let b = &self.ring[len - 1];
            let c = &self.ring[len - 1 - hh];
            let a = &self.ring[len - 1 - 2 * hh];
            let (span, resid) = linearity(a, c, b);
            let lin = if span > 1e-4 { resid / span } else { 1.0 };
            self.stats[ns - 1 - hh].lin[hi] = (span, lin);
        }
    }

    /// The analysed frame interval has been measured (the dissolve widths are fixed).
    pub fn measured(&self) -> bool {
        !self.half.is_empty()
    }

    /// Use the dissolve widths another extractor measured, before the first
    /// frame: a later segment of the film then computes exactly the same
    /// statistics as one pass over the whole film would.
    pub fn set_halves(&mut self, half: Vec<usize>) {
        self.half = half;
    }

    /// The dissolve half-widths used (for the dissolve detector).
    pub fn halves(&self) -> Vec<usize> {
        if self.half.is_empty() {
            half_widths(self.min_step_s)
        } else {
            self.half.clone()
        }
    }
}

/// A picture's coarse summary for comparing two frames before the analysis
/// proper sees them: the grid means [`Extractor::push`] compares (luma,
/// Cb, Cr per cell, 0..1) and the luma standard deviation.
#[derive(Debug, Clone)]
pub struct Glance {
    cells: Vec<[f32; 3]>,
    pub luma_std: f32,
}

impl Glance {
    /// From yuv420p planes of `w`×`h`, as given to [`Extractor::push`].
    pub fn of(yuv: &[u8], w: usize, h: usize) -> Self {
        let (cw, ch) = (w / 2, h / 2);
        let (yp, rest) = yuv.split_at(w * h);
        let (up, vp) = rest.split_at(cw * ch);
        let mut grid = vec![[0f32; 3]; GRID];
        let mut counts = [0f32; GRID];
        let mut ccounts = [0f32; GRID];
        let (mut sum, mut sum2) = (0f64, 0f64);
        for yy in 0..h {
            let row = (yy * GRID_H / h) * GRID_W;
            for xx in 0..w {
                let y = yp[yy * w + xx] as f32;
                sum += y as f64;
                sum2 += (y * y) as f64;
                let gi = row + xx * GRID_W / w;
                grid[gi][0] += y;
                counts[gi] += 1.0;
            }
        }
        for cy in 0..ch {
            let row = (cy * GRID_H / ch) * GRID_W;
            for cx in 0..cw {
                let gi = row + cx * GRID_W / cw;
                grid[gi][1] += up[cy * cw + cx] as f32;
                grid[gi][2] += vp[cy * cw + cx] as f32;
                ccounts[gi] += 1.0;
            }
        }
        for i in 0..GRID {
            let c = counts[i].max(1.0) * 255.0;
            let cc = ccounts[i].max(1.0) * 255.0;
            grid[i] = [grid[i][0] / c, grid[i][1] / cc, grid[i][2] / cc];
        }
        let n = (w * h).max(1) as f64;
        let mean = sum / n;
        Glance {
            cells: grid,
            luma_std: ((sum2 / n - mean * mean).max(0.0).sqrt() / 255.0) as f32,
        }
    }

    /// The difference [`FrameStats::diff`] would give between the two
    /// frames: mean-removed luma plus the mean difference is the plain luma
    /// difference, so this is the same sum over the same cells.
    pub fn diff(&self, other: &Glance) -> f32 {
        let mut s = 0f32;
        for (a, b) in self.cells.iter().zip(&other.cells) {
            s += (a[0] - b[0]).abs() + 0.5 * (a[1] - b[1]).abs() + 0.5 * (a[2] - b[2]).abs();
        }
        s / GRID as f32
    }
}

/// Frames measured before the analysed frame interval is fixed.
const MEASURE: usize = 16;

/// Dissolve half-widths in frames for a given frame interval.
pub fn half_widths(step_s: f64) -> Vec<usize> {
    DISSOLVE_HALF_S
        .iter()
        .map(|s| ((s / step_s).round() as usize).max(2))
        .collect()
}

/// Hue bin of a chroma pair too grey to have a hue.
const NO_HUE: u8 = u8::MAX;

/// (saturation term, hue bin or `NO_HUE`) for every (Cb, Cr) byte pair,
/// computed once with the same arithmetic as per pixel (bit-identical
/// results): saves a square root and an arctangent per chroma pixel, which
/// were a quarter of the extractor's time.
fn chroma_table() -> &'static [(f32, u8)] {
    static T: std::sync::OnceLock<Vec<(f32, u8)>> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        (0..1usize << 16)
            .map(|i| {
                let (u, v) = ((i >> 8) as f32 - 128.0, (i & 255) as f32 - 128.0);
                let chroma = (u * u + v * v).sqrt();
                let bin = if chroma > 12.0 {
                    hue_bin(u, v) as u8
                } else {
                    NO_HUE
                };
                ((chroma / 128.0).min(1.0), bin)
            })
            .collect()
    })
}

fn hue_bin(u: f32, v: f32) -> usize {
    let a = v.atan2(u) + std::f32::consts::PI; // 0..2π
    ((a / std::f32::consts::TAU * 8.0) as usize).min(7)
}

/// Mean absolute difference of two thumbnails; `dmean` restores the global
/// luma difference removed from the mean-free luma grids.
fn thumb_diff(a: &Thumb, b: &Thumb, dmean: f32) -> f32 {
    let mut s = 0f32;
    for i in 0..GRID {
        s += (a.y[i] - b.y[i] + dmean).abs()
            + 0.5 * (a.cb[i] - b.cb[i]).abs()
            + 0.5 * (a.cr[i] - b.cr[i]).abs();
    }
    s / GRID as f32
}

/// (span, residual): how far a and b are apart, and how far c is from their
/// average. Luma is mean-free so a brightness ramp inside a shot (lights
/// dimming, fades) does not look like a dissolve between two pictures.
fn linearity(a: &Thumb, c: &Thumb, b: &Thumb) -> (f32, f32) {
    let (mut span, mut resid) = (0f32, 0f32);
    for i in 0..GRID {
        span += (a.y[i] - b.y[i]).abs()
            + 0.5 * (a.cb[i] - b.cb[i]).abs()
            + 0.5 * (a.cr[i] - b.cr[i]).abs();
        resid += (c.y[i] - 0.5 * (a.y[i] + b.y[i])).abs()
            + 0.5 * (c.cb[i] - 0.5 * (a.cb[i] + b.cb[i])).abs()
            + 0.5 * (c.cr[i] - 0.5 * (a.cr[i] + b.cr[i])).abs();
    }
    (span / GRID as f32, resid / GRID as f32)
}

/// Below this frame difference nothing can be a cut: skip the shift search.
const MC_MIN: f32 = 0.012;

fn cell_diff(a: &Thumb, b: &Thumb, i: usize, j: usize, dmean: f32) -> f32 {
    (a.y[i] - b.y[j] + dmean).abs()
        + 0.5 * (a.cb[i] - b.cb[j]).abs()
        + 0.5 * (a.cr[i] - b.cr[j]).abs()
}

/// Mean difference over the top and the bottom half of the grid.
fn half_diffs(a: &Thumb, b: &Thumb, dmean: f32) -> [f32; 2] {
    let mut h = [0f32; 2];
    for gy in 0..GRID_H {
        for gx in 0..GRID_W {
            let i = gy * GRID_W + gx;
            h[(gy >= GRID_H / 2) as usize] += cell_diff(a, b, i, i, dmean);
        }
    }
    let n = (GRID / 2) as f32;
    [h[0] / n, h[1] / n]
}

/// Smallest mean difference of `a` against `b` shifted by whole grid
/// cells, over the overlap (global motion compensation): a ±3 × ±2 cell
/// window, moved on while the best shift sits on its edge (fast pans, and
/// the double steps after skipped frames), up to ±9 × ±5 cells.
fn shifted_diff(a: &Thumb, b: &Thumb, dmean: f32) -> f32 {
    let at = |dx: i32, dy: i32| {
        let (mut s, mut n) = (0f32, 0u32);
        for gy in 0.max(-dy)..(GRID_H as i32).min(GRID_H as i32 - dy) {
            let row = gy as usize * GRID_W;
            let brow = (gy + dy) as usize * GRID_W;
            for gx in 0.max(-dx)..(GRID_W as i32).min(GRID_W as i32 - dx) {
                s += cell_diff(a, b, row + gx as usize, brow + (gx + dx) as usize, dmean);
                n += 1;
            }
        }
        s / n.max(1) as f32
    };
    let (mut cx, mut cy) = (0i32, 0i32);
    let mut best = (f32::MAX, 0, 0);
    for _ in 0..3 {
        for dy in (cy - 2).max(-5)..=(cy + 2).min(5) {
            for dx in (cx - 3).max(-9)..=(cx + 3).min(9) {
                if (dx, dy) != (best.1, best.2) || best.0 == f32::MAX {
                    let v = at(dx, dy);
                    if v < best.0 {
                        best = (v, dx, dy);
                    }
                }
            }
        }
        let on_edge = (best.1 - cx).abs() == 3 || (best.2 - cy).abs() == 2;
        if !on_edge {
            break;
        }
        (cx, cy) = (best.1, best.2);
    }
    best.0
}

/// Histogram distance (0..1) between two normalised histograms.
pub fn hist_distance(a: &[f32; HIST], b: &[f32; HIST]) -> f32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .sum::<f32>()
        * 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glance_differs_as_the_analysis_will() {
        // Two 64×36 yuv420p pictures with structure and different means.
        let (w, h) = (64usize, 36usize);
        let pic = |seed: u32| -> Vec<u8> {
            let mut x = seed;
            (0..w * h * 3 / 2)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    ((i % w) as u32 * 3 + (x >> 27)) as u8
                })
                .collect()
        };
        let (a, b) = (
            pic(1),
            pic(7).iter().map(|v| v / 2 + 40).collect::<Vec<u8>>(),
        );
        let mut ex = Extractor::new(w as u32, h as u32, 1.0 / 24.0);
        ex.push(0.0, 0, &a);
        ex.push(1.0 / 24.0, 1, &b);
        let d = Glance::of(&a, w, h).diff(&Glance::of(&b, w, h));
        assert!(
            (d - ex.stats[1].diff[0]).abs() < 1e-5,
            "{d} vs {}",
            ex.stats[1].diff[0]
        );
        assert!((Glance::of(&b, w, h).luma_std - ex.stats[1].luma_std).abs() < 1e-5);
    }
}
