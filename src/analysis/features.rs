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

impl Thumb {
    /// The grid means of `sums` with the picture's mean luma (`mean_y`,
    /// 0..255) taken off the luma, and its colour histogram.
    fn of(sums: &PixelSums, hist: [f32; HIST], mean_y: f64) -> Self {
        let mut th = Thumb {
            y: [0.0; GRID],
            cb: [0.0; GRID],
            cr: [0.0; GRID],
            hist,
        };
        let gmean = (mean_y / 255.0) as f32;
        for i in 0..GRID {
            let [y, cb, cr] = sums.cell_means(i);
            (th.y[i], th.cb[i], th.cr[i]) = (y - gmean, cb, cr);
        }
        th
    }
}

/// What the chroma planes of a picture add up to: the saturation, the
/// pixels of skin-like chroma with some light on them, and the pixels per
/// hue bin (grey ones in none).
struct ChromaSums {
    /// Sum of the chroma pixels' saturation.
    sat: f64,
    skin: usize,
    hue: [u32; 8],
}

impl ChromaSums {
    /// Of the Cb and Cr planes `chroma` (each `w/2`×`h/2`) of a picture
    /// whose luma plane is `yp` (`w` wide).
    fn of(yp: &[u8], chroma: &[u8], w: usize, h: usize) -> Self {
        let (cw, ch) = (w / 2, h / 2);
        let (up, vp) = chroma.split_at(cw * ch);
        // Saturation is a sum of fractions: kept in the order of the pixels
        // (f64, as before) so that it does not move with the arithmetic.
        let (mut sum_s, mut skin) = (0f64, 0usize);
        let mut hue = [0u32; 8];
        let hues = hue_table();
        for cy in 0..ch {
            let (ur, vr) = (&up[cy * cw..][..cw], &vp[cy * cw..][..cw]);
            let yr = &yp[2 * cy * w..][..w];
            for cx in 0..cw {
                let (bu, bv) = (ur[cx], vr[cx]);
                sum_s += saturation(bu, bv) as f64;
                let bin = hues[(bu as usize) << 8 | bv as usize];
                // Skin chroma box (Chai & Ngan) with some light on it.
                if (77..=127).contains(&bu) && (133..=173).contains(&bv) && yr[2 * cx] > 60 {
                    skin += 1;
                }
                if bin != NO_HUE {
                    hue[bin as usize] += 1;
                }
            }
        }
        ChromaSums {
            sat: sum_s,
            skin,
            hue,
        }
    }
}

/// The colour histogram (8 luma bins from `sums`, then the 8 hue bins
/// weighted 4×), normalised to sum to 1.
fn colour_hist(sums: &PixelSums, hue: &[u32; 8]) -> [f32; HIST] {
    let mut hist = [0f32; HIST];
    for (b, v) in hist.iter_mut().take(8).enumerate() {
        *v = sums.luma_hist[b * 32..][..32].iter().sum::<u32>() as f32;
    }
    for (v, &n) in hist[8..].iter_mut().zip(hue) {
        *v = 4.0 * n as f32;
    }
    let total: f32 = hist.iter().sum::<f32>().max(1.0);
    for v in &mut hist {
        *v /= total;
    }
    hist
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
        }
    }

    /// Add the next frame, given as yuv420p planes (`w`×`h` luma, then two
    /// `w/2`×`h/2` chroma planes). YUV straight from the decoder saves a
    /// colour conversion in ffmpeg and three quarters of the chroma work here.
    pub fn push(&mut self, t: f64, frame: u64, yuv: &[u8]) {
        let (w, h) = (self.w, self.h);
        let sums = PixelSums::of(yuv, w, h);
        let (yp, chroma_planes) = yuv.split_at(w * h);
        let chroma = ChromaSums::of(yp, chroma_planes, w, h);
        let n = (w * h) as f64;
        let mean_y = sums.luma_sum() as f64 / n;
        let var_y = (sums.luma_sq_sum() as f64 / n - mean_y * mean_y).max(0.0);
        let lap = laplacian_sum(yp, w, h) as f64;
        let lap_n = ((w.saturating_sub(2)) * (h.saturating_sub(2))).max(1) as f64;
        let th = Thumb::of(&sums, colour_hist(&sums, &chroma.hue), mean_y);
        let chroma_n = ((w / 2) * (h / 2)).max(1) as f64;
        let mut st = FrameStats {
            t,
            frame,
            luma: (mean_y / 255.0) as f32,
            luma_std: (var_y.sqrt() / 255.0) as f32,
            sat: (chroma.sat / chroma_n) as f32,
            sharp: (lap / lap_n / 255.0) as f32,
            skin: (chroma.skin as f64 / chroma_n) as f32,
            hist: th.hist,
            ..Default::default()
        };
        self.compare_with_earlier(&th, &mut st);
        self.ring.push_back(th);
        if self.ring.len() > self.ring_cap {
            self.ring.pop_front();
        }
        self.stats.push(st);
        if self.half.is_empty() && self.stats.len() > MEASURE {
            self.fix_dissolve_widths();
        }
        self.add_linearity();
    }

    /// The differences of the new frame `th` (statistics `st`) to the
    /// earlier ones. Luma is compared with its means kept (brightness jumps
    /// matter for cuts), so the global mean delta is added back.
    fn compare_with_earlier(&self, th: &Thumb, st: &mut FrameStats) {
        for k in 1..=BACK {
            if let Some(prev) = self.ring.len().checked_sub(k).map(|i| &self.ring[i]) {
                let prev_mean = self.stats[self.stats.len() - k].luma;
                st.diff[k - 1] = thumb_diff(th, prev, st.luma - prev_mean);
            }
        }
        if let Some(prev) = self.ring.back() {
            let prev_mean = self.stats[self.stats.len() - 1].luma;
            st.diff_halves = half_diffs(th, prev, st.luma - prev_mean);
            st.diff_mc = if st.diff[0] >= MC_MIN {
                shifted_diff(th, prev, st.luma - prev_mean).min(st.diff[0])
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
    }

    /// Turn the dissolve widths into frames of the analysed frame interval
    /// (the median over the first frames; never below `min_step_s`).
    fn fix_dissolve_widths(&mut self) {
        let mut d: Vec<f64> = self.stats.windows(2).map(|w| w[1].t - w[0].t).collect();
        d.sort_by(|a, b| a.total_cmp(b));
        self.half = half_widths(d[d.len() / 2].max(self.min_step_s));
    }

    /// Dissolve linearity with the newest frame as the right end b = c + h,
    /// for each dissolve half-width h: stored at the centre frame c.
    fn add_linearity(&mut self) {
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
        let sums = PixelSums::of(yuv, w, h);
        let cells = (0..GRID).map(|i| sums.cell_means(i)).collect();
        let n = (w * h).max(1) as f64;
        let mean = sums.luma_sum() as f64 / n;
        Glance {
            cells,
            luma_std: ((sums.luma_sq_sum() as f64 / n - mean * mean)
                .max(0.0)
                .sqrt()
                / 255.0) as f32,
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

/// The whole-number sums of one yuv420p picture that the statistics are
/// made of: per grid cell the luma, Cb and Cr totals and pixel counts, and
/// the luma histogram (whence the luma total and sum of squares). Sums of
/// whole numbers are exact, in integers as in floats (every total here is
/// far below 2^24), so these give bit for bit what per-pixel float sums
/// gave; but a row at a time, into column totals per band of grid rows,
/// they vectorise: the extractor was a tenth of a decoding thread's time.
struct PixelSums {
    /// Luma, Cb, Cr totals per cell.
    cells: [[u32; 3]; GRID],
    /// Luma and chroma pixels per cell.
    counts: [u32; GRID],
    ccounts: [u32; GRID],
    luma_hist: [u32; 256],
}

impl PixelSums {
    fn of(yuv: &[u8], w: usize, h: usize) -> Self {
        let (cw, ch) = (w / 2, h / 2);
        let (yp, rest) = yuv.split_at(w * h);
        let (up, vp) = rest.split_at(cw * ch);
        let mut s = PixelSums {
            cells: [[0; 3]; GRID],
            counts: [0; GRID],
            ccounts: [0; GRID],
            luma_hist: [0; 256],
        };
        // Four histograms side by side: runs of one value would otherwise
        // chain every increment on the one before.
        let mut hist4 = [[0u32; 256]; 4];
        for line in yp.chunks_exact(w.max(1)).take(h) {
            let mut quads = line.chunks_exact(4);
            for q in &mut quads {
                for (hh, &v) in hist4.iter_mut().zip(q) {
                    hh[v as usize] += 1;
                }
            }
            for &v in quads.remainder() {
                hist4[0][v as usize] += 1;
            }
        }
        for (i, v) in s.luma_hist.iter_mut().enumerate() {
            *v = hist4.iter().map(|hh| hh[i]).sum();
        }
        // Plane `ch_i` (0 luma, 1 Cb, 2 Cr); chroma pixels are counted once.
        let mut add = |plane: &[u8], pw: usize, ph: usize, ch_i: usize| {
            let runs = grid_runs(pw, GRID_W);
            let mut col = vec![0u32; pw];
            for (gy, (y0, y1)) in grid_runs(ph, GRID_H).into_iter().enumerate() {
                if y0 == y1 {
                    continue;
                }
                col.iter_mut().for_each(|c| *c = 0);
                for line in plane[y0 * pw..y1 * pw].chunks_exact(pw) {
                    for (c, &v) in col.iter_mut().zip(line) {
                        *c += v as u32;
                    }
                }
                for (gx, &(x0, x1)) in runs.iter().enumerate() {
                    let i = gy * GRID_W + gx;
                    s.cells[i][ch_i] += col[x0..x1].iter().sum::<u32>();
                    let n = ((y1 - y0) * (x1 - x0)) as u32;
                    match ch_i {
                        0 => s.counts[i] += n,
                        1 => s.ccounts[i] += n,
                        _ => {}
                    }
                }
            }
        };
        if w > 0 && h > 0 {
            add(yp, w, h, 0);
        }
        if cw > 0 && ch > 0 {
            add(up, cw, ch, 1);
            add(vp, cw, ch, 2);
        }
        s
    }

    /// Mean luma, Cb, Cr of cell `i`, 0..1 (0 for a cell without pixels).
    fn cell_means(&self, i: usize) -> [f32; 3] {
        let c = (self.counts[i] as f32).max(1.0) * 255.0;
        let cc = (self.ccounts[i] as f32).max(1.0) * 255.0;
        let g = self.cells[i];
        [g[0] as f32 / c, g[1] as f32 / cc, g[2] as f32 / cc]
    }

    fn luma_sum(&self) -> u64 {
        (0..256u64)
            .map(|v| v * self.luma_hist[v as usize] as u64)
            .sum()
    }

    fn luma_sq_sum(&self) -> u64 {
        (0..256u64)
            .map(|v| v * v * self.luma_hist[v as usize] as u64)
            .sum()
    }
}

/// For each of `cells` grid cells along a side of `n` pixels, the pixels
/// `[start, end)` that fall in it (pixel x is in cell `x * cells / n`).
fn grid_runs(n: usize, cells: usize) -> Vec<(usize, usize)> {
    (0..cells)
        .map(|g| ((g * n).div_ceil(cells), ((g + 1) * n).div_ceil(cells)))
        .collect()
}

/// Sum of |4c − left − right − up − down| over the interior pixels of the
/// luma plane: the sharpness measure, exact in integers.
fn laplacian_sum(yp: &[u8], w: usize, h: usize) -> u64 {
    if w < 3 || h < 3 {
        return 0;
    }
    let mut total = 0u64;
    for yy in 1..h - 1 {
        let (a, m, b) = (
            &yp[(yy - 1) * w..][..w],
            &yp[yy * w..][..w],
            &yp[(yy + 1) * w..][..w],
        );
        let row: u32 = (1..w - 1)
            .map(|x| {
                (4 * m[x] as i32 - m[x - 1] as i32 - m[x + 1] as i32 - a[x] as i32 - b[x] as i32)
                    .unsigned_abs()
            })
            .sum();
        total += row as u64;
    }
    total
}

/// Dissolve half-widths in frames for a given frame interval.
pub fn half_widths(step_s: f64) -> Vec<usize> {
    DISSOLVE_HALF_S
        .iter()
        .map(|s| ((s / step_s).round() as usize).max(2))
        .collect()
}

/// Hue bin of a chroma pair too grey to have a hue.
const NO_HUE: u8 = u8::MAX;

/// Saturation term of a (Cb, Cr) byte pair: chroma magnitude, 0..1.
fn saturation(cb: u8, cr: u8) -> f32 {
    let (u, v) = (cb as f32 - 128.0, cr as f32 - 128.0);
    ((u * u + v * v).sqrt() / 128.0).min(1.0)
}

/// Hue bin (or `NO_HUE`) of every (Cb, Cr) byte pair, computed once with
/// the same arithmetic as per pixel (bit-identical results): saves an
/// arctangent per chroma pixel, which was a quarter of the extractor's
/// time. One byte an entry (64 kB): the table stays in the core's cache,
/// where (saturation, bin) pairs of 8 bytes missed it on every other
/// pixel; the square root is cheaper to compute than to look up.
fn hue_table() -> &'static [u8] {
    static T: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        (0..1usize << 16)
            .map(|i| {
                let (u, v) = ((i >> 8) as f32 - 128.0, (i & 255) as f32 - 128.0);
                if (u * u + v * v).sqrt() > 12.0 {
                    hue_bin(u, v) as u8
                } else {
                    NO_HUE
                }
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

    /// The per-pixel float arithmetic the extractor used before its sums
    /// went to integers: (luma, luma_std, sat, sharp, skin, hist, grid
    /// means of luma, Cb, Cr).
    #[allow(clippy::type_complexity)]
    fn per_pixel(yuv: &[u8], w: usize, h: usize) -> ([f32; 5], [f32; HIST], Vec<[f32; 3]>) {
        let (cw, ch) = (w / 2, h / 2);
        let (yp, rest) = yuv.split_at(w * h);
        let (up, vp) = rest.split_at(cw * ch);
        let mut grid = [[0f32; 3]; GRID];
        let (mut counts, mut ccounts) = ([0f32; GRID], [0f32; GRID]);
        let mut hist = [0f32; HIST];
        let (mut sum_y, mut sum_y2, mut sum_s, mut skin) = (0f64, 0f64, 0f64, 0usize);
        for yy in 0..h {
            for xx in 0..w {
                let y = yp[yy * w + xx] as f32;
                sum_y += y as f64;
                sum_y2 += (y * y) as f64;
                let gi = (yy * GRID_H / h) * GRID_W + xx * GRID_W / w;
                grid[gi][0] += y;
                counts[gi] += 1.0;
                hist[((y as usize) >> 5).min(7)] += 1.0;
            }
        }
        for cy in 0..ch {
            for cx in 0..cw {
                let (bu, bv) = (up[cy * cw + cx], vp[cy * cw + cx]);
                let (cb, cr) = (bu as f32, bv as f32);
                let gi = (cy * GRID_H / ch) * GRID_W + cx * GRID_W / cw;
                grid[gi][1] += cb;
                grid[gi][2] += cr;
                ccounts[gi] += 1.0;
                let (u, v) = (cb - 128.0, cr - 128.0);
                let chroma = (u * u + v * v).sqrt();
                sum_s += (chroma / 128.0).min(1.0) as f64;
                let bin = if chroma > 12.0 {
                    hue_bin(u, v) as u8
                } else {
                    NO_HUE
                };
                let y = yp[(2 * cy) * w + 2 * cx];
                if (77.0..=127.0).contains(&cb) && (133.0..=173.0).contains(&cr) && y > 60 {
                    skin += 1;
                }
                if bin != NO_HUE {
                    hist[8 + bin as usize] += 4.0;
                }
            }
        }
        let mut lap = 0f64;
        for yy in 1..h.saturating_sub(1) {
            for xx in 1..w.saturating_sub(1) {
                let l = |x: usize, y: usize| yp[y * w + x] as f32;
                let v =
                    l(xx, yy) * 4.0 - l(xx - 1, yy) - l(xx + 1, yy) - l(xx, yy - 1) - l(xx, yy + 1);
                lap += v.abs() as f64;
            }
        }
        let n = (w * h) as f64;
        let mean_y = sum_y / n;
        let var_y = (sum_y2 / n - mean_y * mean_y).max(0.0);
        let lap_n = ((w.saturating_sub(2)) * (h.saturating_sub(2))).max(1) as f64;
        let total: f32 = hist.iter().sum::<f32>().max(1.0);
        hist.iter_mut().for_each(|v| *v /= total);
        let cells = (0..GRID)
            .map(|i| {
                let (c, cc) = (counts[i].max(1.0) * 255.0, ccounts[i].max(1.0) * 255.0);
                [grid[i][0] / c, grid[i][1] / cc, grid[i][2] / cc]
            })
            .collect();
        let nc = (cw * ch).max(1) as f64;
        let scalars = [
            (mean_y / 255.0) as f32,
            (var_y.sqrt() / 255.0) as f32,
            (sum_s / nc) as f32,
            (lap / lap_n / 255.0) as f32,
            (skin as f64 / nc) as f32,
        ];
        (scalars, hist, cells)
    }

    #[test]
    fn integer_sums_give_the_per_pixel_float_statistics_bit_for_bit() {
        // Analysis sizes of landscape, portrait and small films, odd grid
        // fits included; noise with flat runs (the histogram's hard case).
        for (w, h) in [
            (160usize, 90usize),
            (160, 284),
            (100, 50),
            (16, 10),
            (18, 30),
            (160, 66),
        ] {
            let mut x = (w * 31 + h) as u32;
            let yuv: Vec<u8> = (0..w * h + 2 * (w / 2) * (h / 2))
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if (i / 7) % 3 == 0 {
                        200
                    } else {
                        (x >> 24) as u8
                    }
                })
                .collect();
            let (scalars, hist, cells) = per_pixel(&yuv, w, h);
            let mut ex = Extractor::new(w as u32, h as u32, 1.0 / 24.0);
            ex.push(0.0, 0, &yuv);
            let st = &ex.stats[0];
            assert_eq!(
                [st.luma, st.luma_std, st.sat, st.sharp, st.skin].map(f32::to_bits),
                scalars.map(f32::to_bits),
                "{w}x{h}"
            );
            assert_eq!(st.hist.map(f32::to_bits), hist.map(f32::to_bits), "{w}x{h}");
            let g = Glance::of(&yuv, w, h);
            let bits = |c: &[[f32; 3]]| c.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&g.cells), bits(&cells), "{w}x{h}");
            assert_eq!(g.luma_std.to_bits(), scalars[1].to_bits(), "{w}x{h}");
        }
    }

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
