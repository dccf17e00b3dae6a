//! Shot-boundary detectors: pure functions from per-frame statistics to
//! boundaries (hard cuts, fades to/from black or white, dissolves). They never
//! decode video, so they are unit-tested on synthetic statistic sequences.

use serde::{Deserialize, Serialize};

use super::features::{FrameStats, BACK};

/// Kind of a shot boundary, as written in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryKind {
    Cut,
    FadeOut,
    FadeIn,
    Dissolve,
}

/// A boundary in analysed-frame indices: `at` is the first frame of the new
/// shot, `span` the frames the transition covers (equal to `at` for a cut).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    pub at: usize,
    pub kind: BoundaryKind,
    pub span: (usize, usize),
}

/// Thresholds; the defaults were tuned on the generated truth films
/// (scripts/make_shot_truth.sh) and Big Buck Bunny.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectParams {
    /// A cut needs at least this frame difference (mean abs over the grid, 0..1).
    pub cut_min: f32,
    /// ... and this many times the local (±1 s) median difference, so that
    /// fast motion, which raises the median, does not fire.
    pub cut_ratio: f32,
    /// ... and this many times the smaller of its two neighbouring steps.
    pub cut_isolation: f32,
    /// Content that comes back within `BACK` frames closer than this fraction
    /// of the jump means a flash or strobe, not a cut.
    pub recur_frac: f32,
    /// ... and within this many seconds (flashes and strobes are short).
    #[serde(default = "default_recur_max_s")]
    pub recur_max_s: f64,
    pub black_luma: f32,
    pub white_luma: f32,
    pub flat_std: f32,
    /// Dissolve: two ends at least this different...
    pub diss_span: f32,
    /// ... and the middle frame within this fraction of the ends' average.
    pub diss_lin: f32,
    /// Shortest shot in seconds; closer boundaries keep the stronger one.
    pub min_shot_s: f64,
    /// Picture contrast (luma standard deviation) at which `cut_min` and
    /// `diss_span` apply in full; flatter, darker pictures differ less for
    /// the same change of content, so both scale down with the contrast...
    #[serde(default = "default_contrast_ref")]
    pub contrast_ref: f32,
    /// ... but never below this share of their value.
    #[serde(default = "default_contrast_floor")]
    pub contrast_floor: f32,
    /// A cut changes both halves of the picture: the smaller half's
    /// difference must be at least this share of the whole frame's (a
    /// subtitle or caption changing in one half is not a cut).
    #[serde(default = "default_spread")]
    pub cut_spread: f32,
}

fn default_recur_max_s() -> f64 {
    0.5
}
fn default_contrast_ref() -> f32 {
    0.12
}
fn default_contrast_floor() -> f32 {
    0.25
}
fn default_spread() -> f32 {
    0.35
}

impl DetectParams {
    /// Threshold scale for a change between frames a and b (see `contrast_ref`).
    fn contrast_scale(&self, a: &FrameStats, b: &FrameStats) -> f32 {
        (a.luma_std.max(b.luma_std) / self.contrast_ref).clamp(self.contrast_floor, 1.0)
    }
}

impl Default for DetectParams {
    fn default() -> Self {
        DetectParams {
            cut_min: 0.07,
            cut_ratio: 3.0,
            cut_isolation: 2.0,
            recur_frac: 0.4,
            recur_max_s: default_recur_max_s(),
            black_luma: 0.07,
            white_luma: 0.88,
            flat_std: 0.04,
            diss_span: 0.09,
            diss_lin: 0.3,
            min_shot_s: 0.3,
            contrast_ref: default_contrast_ref(),
            contrast_floor: default_contrast_floor(),
            cut_spread: default_spread(),
        }
    }
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    v.select_nth_unstable_by(m, |a, b| a.total_cmp(b));
    v[m]
}

/// Local median of the frame-to-frame difference around i (±`w` frames,
/// skipping i-1..=i+1 so a cut does not raise its own baseline).
fn local_median(s: &[FrameStats], i: usize, w: usize) -> f32 {
    let lo = i.saturating_sub(w).max(1);
    let hi = (i + w).min(s.len() - 1);
    let mut v: Vec<f32> = (lo..=hi)
        .filter(|&j| j + 1 < i || j > i + 1)
        .map(|j| s[j].diff_mc)
        .collect();
    median(&mut v)
}

/// True when the content before index `i` shows up again within BACK frames
/// and `max_s` seconds after it: a flash, strobe or a frame glitch, not a
/// new shot. The time limit keeps a quick A-B-A edit (or a film at a low
/// frame rate) from looking like a flash.
fn recurs(s: &[FrameStats], i: usize, jump: f32, frac: f32, max_s: f64) -> bool {
    let thr = jump * frac;
    // Always allow the next frame, however far: a one-frame flash.
    let limit = s[i].t + max_s.max(s.get(i + 1).map_or(0.0, |f| f.t - s[i].t));
    for (q, sq) in s.iter().enumerate().take(i + BACK).skip(i) {
        if sq.t > limit + 1e-9 {
            break;
        }
        for k in 1..=BACK {
            let Some(p) = q.checked_sub(k) else { break };
            if p >= i || (p + 1 == i && q == i) {
                continue;
            }
            if s[i - 1].t - s[p].t > max_s + 1e-9 {
                break;
            }
            if sq.diff[k - 1] < thr {
                return true;
            }
        }
    }
    false
}

fn is_flat(st: &FrameStats, p: &DetectParams) -> Option<bool> {
    if st.luma < p.black_luma && st.luma_std < p.flat_std {
        Some(false) // black
    } else if st.luma > p.white_luma && st.luma_std < p.flat_std * 2.0 {
        Some(true) // white
    } else {
        None
    }
}

/// Hard cuts (flash- and motion-robust).
pub fn detect_cuts(s: &[FrameStats], p: &DetectParams, frames_per_s: f64) -> Vec<(usize, f32)> {
    let w = (frames_per_s.round() as usize).max(4);
    let mut out = Vec::new();
    for i in 1..s.len() {
        let d = s[i].diff[0];
        if d < p.cut_min * p.contrast_scale(&s[i - 1], &s[i]) {
            continue;
        }
        // Not confined to one half of the picture (subtitles, captions).
        let [top, bottom] = s[i].diff_halves;
        if top.min(bottom) < p.cut_spread * d {
            continue;
        }
        // The relative tests use the motion-compensated difference, so that
        // a pan or shaking camera does not hide a cut or fake one.
        let m = s[i].diff_mc;
        // Local peak only: one cut, one frame.
        if (i > 1 && s[i - 1].diff_mc > m) || (i + 1 < s.len() && s[i + 1].diff_mc > m) {
            continue;
        }
        // Isolation: a cut is one jump, while fast motion, whip pans and
        // foreground occlusion keep at least one neighbouring step high too.
        let prev = if i > 1 { s[i - 1].diff_mc } else { 0.0 };
        let next = s.get(i + 1).map_or(0.0, |f| f.diff_mc);
        if m < p.cut_isolation * prev.min(next) {
            continue;
        }
        let base = local_median(s, i, w);
        if m < p.cut_ratio * (base + 0.01) {
            continue;
        }
        if recurs(s, i, d, p.recur_frac, p.recur_max_s) {
            continue;
        }
        out.push((i, m / (base + 0.01)));
    }
    out
}

/// Flash frames: sudden brightening whose content comes back within a few
/// frames (the cut detector rejects them; the edit stage should avoid them).
pub fn detect_flashes(s: &[FrameStats], p: &DetectParams) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for i in 1..s.len() {
        let d = s[i].diff[0];
        if d >= p.cut_min
            && s[i].luma > s[i - 1].luma + 0.1
            && recurs(s, i, d, p.recur_frac, p.recur_max_s)
            && out.last().is_none_or(|&t| s[i].t - t > 0.1)
        {
            out.push(s[i].t);
        }
    }
    out
}

/// Fades: runs of black or white frames with luminance ramps on either side.
/// A ramp of under two frames makes the edge a cut to/from black.
pub fn detect_fades(s: &[FrameStats], p: &DetectParams) -> Vec<Detected> {
    let mut out = Vec::new();
    let n = s.len();
    let mut i = 0;
    while i < n {
        let Some(white) = is_flat(&s[i], p) else {
            i += 1;
            continue;
        };
        let start = i;
        while i < n && is_flat(&s[i], p) == Some(white) {
            i += 1;
        }
        let end = i - 1; // last flat frame
                         // A short flat run whose surroundings match is a flash, not a fade.
        if start > 0 && end + 1 < n && end + 2 - start <= BACK {
            let k = end + 1 - (start - 1);
            let jump = s[start].diff[0].max(s[end + 1].diff[0]);
            if s[end + 1].diff[k - 1] < jump * p.recur_frac {
                continue;
            }
        }
        let toward = |a: &FrameStats, b: &FrameStats| {
            // b is closer to the flat colour than a
            if white {
                b.luma > a.luma + 0.004
            } else {
                b.luma < a.luma - 0.004
            }
        };
        if start > 0 {
            let mut r = start;
            while r > 0 && toward(&s[r - 1], &s[r]) {
                r -= 1;
            }
            let kind = if start - r >= 2 {
                BoundaryKind::FadeOut
            } else {
                BoundaryKind::Cut
            };
            out.push(Detected {
                at: start,
                kind,
                span: (r, start),
            });
        }
        if end + 1 < n {
            let mut r = end + 1;
            while r + 1 < n && toward(&s[r + 1], &s[r]) {
                r += 1;
            }
            let kind = if r - end >= 2 {
                BoundaryKind::FadeIn
            } else {
                BoundaryKind::Cut
            };
            out.push(Detected {
                at: end + 1,
                kind,
                span: (end + 1, r),
            });
        }
    }
    out
}

/// Dissolves: a stretch whose middle frame is the average of its two ends
/// while the ends differ, with no single jump inside (that would be a cut).
pub fn detect_dissolves(s: &[FrameStats], p: &DetectParams, halves: &[usize]) -> Vec<Detected> {
    let n = s.len();
    // (centre, half, linearity residual)
    let mut cands: Vec<(usize, usize, f32)> = Vec::new();
    for c in 0..n {
        let mut best: Option<(usize, f32)> = None;
        for (hi, &h) in halves.iter().enumerate() {
            let (span, lin) = s[c].lin[hi];
            if lin > p.diss_lin || c < h || c + h >= n {
                continue;
            }
            if span < p.diss_span * p.contrast_scale(&s[c - h], &s[c + h]) {
                continue;
            }
            // Spread change: no frame step carries most of the span.
            let max_step = (c - h + 1..=c + h)
                .map(|j| s[j].diff[0])
                .fold(0f32, f32::max);
            if max_step > 0.6 * span {
                continue;
            }
            if (c - h..=c + h).any(|j| is_flat(&s[j], p).is_some()) {
                continue;
            }
            if best.is_none_or(|(_, l)| lin < l) {
                best = Some((h, lin));
            }
        }
        if let Some((h, lin)) = best {
            cands.push((c, h, lin));
        }
    }
    // Non-maximum suppression over overlapping candidates.
    cands.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut taken: Vec<Detected> = Vec::new();
    for (c, h, _) in cands {
        let span = (c - h, c + h);
        if taken
            .iter()
            .any(|d| span.0 <= d.span.1 && d.span.0 <= span.1)
        {
            continue;
        }
        taken.push(Detected {
            at: c,
            kind: BoundaryKind::Dissolve,
            span,
        });
    }
    taken.sort_by_key(|d| d.at);
    // A long dissolve can win as two touching windows: one transition.
    let mut merged: Vec<Detected> = Vec::new();
    for d in taken {
        match merged.last_mut() {
            Some(m) if d.span.0 <= m.span.1 + 2 => {
                m.span.1 = d.span.1;
                m.at = (m.span.0 + m.span.1).div_ceil(2);
            }
            _ => merged.push(d),
        }
    }
    merged
}

/// All detectors together; overlaps resolved (fades beat cuts at the same
/// place, cuts beat dissolves), boundaries closer than `min_shot_s` merged.
/// `halves` are the dissolve half-widths the statistics were computed with
/// (`Extractor::halves`).
pub fn detect(s: &[FrameStats], p: &DetectParams, halves: &[usize]) -> Vec<Detected> {
    if s.len() < 3 {
        return Vec::new();
    }
    let dur = (s[s.len() - 1].t - s[0].t).max(1e-3);
    let fps = ((s.len() - 1) as f64 / dur).clamp(1.0, 240.0);
    let fades = detect_fades(s, p);
    let cuts = detect_cuts(s, p, fps);
    let dissolves = detect_dissolves(s, p, halves);
    let near =
        |a: (usize, usize), b: (usize, usize), pad: usize| a.0 <= b.1 + pad && b.0 <= a.1 + pad;
    let mut all: Vec<(Detected, f32)> = fades.iter().map(|d| (*d, f32::MAX)).collect();
    for (i, strength) in cuts {
        if fades.iter().any(|f| near(f.span, (i, i), 1)) {
            continue;
        }
        all.push((
            Detected {
                at: i,
                kind: BoundaryKind::Cut,
                span: (i, i),
            },
            strength,
        ));
    }
    for d in dissolves {
        if all.iter().any(|(o, _)| near(o.span, d.span, 0)) {
            continue;
        }
        all.push((d, 1.0));
    }
    all.sort_by_key(|(d, _)| d.at);
    // Minimum shot length: of two boundaries too close, keep the stronger,
    // unless both belong to one fade through black/white.
    let mut out: Vec<(Detected, f32)> = Vec::new();
    for (d, st) in all {
        if let Some((last, lst)) = out.last_mut() {
            let close = s[d.at].t - s[last.at].t < p.min_shot_s;
            let fade_pair = last.kind == BoundaryKind::FadeOut && d.kind == BoundaryKind::FadeIn;
            if close && !fade_pair {
                if st > *lst {
                    *last = d;
                    *lst = st;
                }
                continue;
            }
        }
        out.push((d, st));
    }
    out.into_iter().map(|(d, _)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::super::features::{half_widths, DISSOLVE_HALF_S};
    use super::*;

    /// A synthetic shot: frames with small motion differences.
    fn frames(n: usize, luma: f32, motion: f32) -> Vec<FrameStats> {
        (0..n)
            .map(|_| FrameStats {
                luma,
                luma_std: 0.2,
                diff: [motion; BACK],
                lin: [(0.0, 1.0); DISSOLVE_HALF_S.len()],
                ..Default::default()
            })
            .collect()
    }

    /// Without camera motion or local changes the motion-compensated and
    /// half-picture differences equal the plain one.
    fn synced(v: &[FrameStats]) -> Vec<FrameStats> {
        v.iter()
            .map(|f| FrameStats {
                diff_mc: f.diff[0],
                diff_halves: [f.diff[0]; 2],
                ..f.clone()
            })
            .collect()
    }

    /// Detection at 24 fps with the default parameters, on frames without
    /// camera motion or local changes.
    fn detect24(v: &[FrameStats]) -> Vec<Detected> {
        detect(
            &synced(v),
            &DetectParams::default(),
            &half_widths(1.0 / 24.0),
        )
    }

    fn timed(mut v: Vec<FrameStats>, fps: f64) -> Vec<FrameStats> {
        for (i, f) in v.iter_mut().enumerate() {
            f.t = i as f64 / fps;
            f.frame = i as u64;
        }
        v
    }

    /// Every frame from `at` on differs by `jump` from every frame before it.
    fn put_cut(v: &mut [FrameStats], at: usize, jump: f32) {
        for q in at..(at + BACK).min(v.len()) {
            for k in 1..=BACK {
                if q >= k && q - k < at {
                    v[q].diff[k - 1] = jump;
                }
            }
        }
    }

    #[test]
    fn finds_a_hard_cut_on_the_exact_frame() {
        let mut v = timed(frames(100, 0.4, 0.01), 24.0);
        put_cut(&mut v, 48, 0.25);
        let d = detect24(&v);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].at, 48);
        assert_eq!(d[0].kind, BoundaryKind::Cut);
    }

    #[test]
    fn a_two_frame_flash_is_not_a_cut() {
        let mut v = timed(frames(100, 0.4, 0.01), 24.0);
        // Frames 50, 51 are bright: big jump in and out, but frame 52 looks like 49.
        for f in &mut v[50..52] {
            f.luma = 0.95;
        }
        v[50].diff = [0.4; BACK];
        v[51].diff = [0.02, 0.4, 0.4, 0.4, 0.4, 0.4];
        v[52].diff = [0.4, 0.4, 0.02, 0.02, 0.02, 0.02];
        for (q, f) in v.iter_mut().enumerate().take(56).skip(53) {
            for k in 1..=BACK {
                if (50..52).contains(&(q - k)) {
                    f.diff[k - 1] = 0.4;
                }
            }
        }
        let d = detect24(&v);
        assert!(d.is_empty(), "flash reported as {d:?}");
    }

    #[test]
    fn fast_motion_is_not_a_cut() {
        // Whip pan: every step is large, so no step stands out from its neighbours.
        let mut v = timed(frames(120, 0.4, 0.01), 24.0);
        for (i, f) in v.iter_mut().enumerate().skip(40).take(40) {
            let m = 0.12 + 0.03 * ((i % 3) as f32);
            f.diff = [m, m * 1.4, m * 1.7, m * 1.9, m * 2.0, m * 2.0];
        }
        let d = detect24(&v);
        assert!(d.is_empty(), "motion reported as {d:?}");
    }

    #[test]
    fn fade_out_and_in_through_black() {
        let mut v = timed(frames(120, 0.45, 0.01), 24.0);
        // 12-frame ramp down to black at 50..61, black 62..63, ramp up 64..75.
        for k in 0..12 {
            v[50 + k].luma = 0.45 * (1.0 - (k + 1) as f32 / 13.0);
            v[64 + k].luma = 0.45 * ((k + 1) as f32 / 13.0);
        }
        for f in &mut v[62..64] {
            f.luma = 0.01;
            f.luma_std = 0.0;
        }
        for f in &mut v[58..62] {
            if f.luma < 0.07 {
                f.luma_std = 0.03;
            }
        }
        let d = detect24(&v);
        let kinds: Vec<_> = d.iter().map(|x| (x.kind, x.at)).collect();
        assert!(
            kinds.contains(&(BoundaryKind::FadeOut, d[0].at))
                && d.iter()
                    .any(|x| x.kind == BoundaryKind::FadeIn && x.at == 64),
            "{kinds:?}"
        );
        assert_eq!(d.len(), 2, "{kinds:?}");
        assert!(
            d[0].span.0 <= 52,
            "fade-out span starts at the ramp: {:?}",
            d[0]
        );
    }

    #[test]
    fn a_cut_to_black_is_a_cut() {
        let mut v = timed(frames(60, 0.45, 0.01), 24.0);
        for f in &mut v[30..] {
            f.luma = 0.0;
            f.luma_std = 0.0;
        }
        put_cut(&mut v, 30, 0.45);
        let d = detect24(&v);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].at, d[0].kind), (30, BoundaryKind::Cut));
    }

    #[test]
    fn dissolve_found_by_linearity() {
        let mut v = timed(frames(120, 0.4, 0.01), 24.0);
        // A 1 s dissolve centred at 60: the 0.6 s half-width window is linear.
        for f in &mut v[48..72] {
            f.diff[0] = 0.02;
        }
        for f in &mut v[55..66] {
            f.lin[2] = (0.2, 0.1);
        }
        let d = detect24(&v);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, BoundaryKind::Dissolve);
        assert!((55..66).contains(&d[0].at));
    }

    #[test]
    fn a_cut_is_not_a_dissolve() {
        let mut v = timed(frames(120, 0.4, 0.01), 24.0);
        put_cut(&mut v, 60, 0.25);
        // Even if linearity looked good, one step carries the whole span.
        for f in &mut v[55..66] {
            f.lin[1] = (0.25, 0.2);
        }
        let d = detect24(&v);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, BoundaryKind::Cut);
    }

    #[test]
    fn a_pan_that_compensation_explains_hides_no_cut_and_a_cut_inside_it_is_found() {
        // Shaking camera: every plain step large, compensated steps small.
        let mut v = synced(&timed(frames(120, 0.4, 0.12), 24.0));
        for f in &mut v {
            f.diff_mc = 0.02;
        }
        assert!(detect(&v, &DetectParams::default(), &half_widths(1.0 / 24.0)).is_empty());
        // A cut between two shaking shots: the plain step barely stands out,
        // the compensated one does.
        v[60].diff = [0.16; BACK];
        v[60].diff_halves = [0.16; 2];
        v[60].diff_mc = 0.14;
        let d = detect(&v, &DetectParams::default(), &half_widths(1.0 / 24.0));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].at, d[0].kind), (60, BoundaryKind::Cut));
    }

    #[test]
    fn a_change_confined_to_one_half_is_not_a_cut() {
        // A subtitle appears: big change in the bottom half only.
        let mut v = synced(&timed(frames(100, 0.4, 0.005), 24.0));
        v[50].diff = [0.09; BACK];
        v[50].diff_mc = 0.09;
        v[50].diff_halves = [0.004, 0.176];
        assert!(detect(&v, &DetectParams::default(), &half_widths(1.0 / 24.0)).is_empty());
    }

    #[test]
    fn a_cut_between_two_dark_low_contrast_shots_is_found() {
        let mut v = timed(frames(100, 0.13, 0.001), 24.0);
        for f in &mut v {
            f.luma_std = 0.03;
        }
        put_cut(&mut v, 48, 0.05);
        let d = detect24(&v);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].at, 48);
        // The same step in a normal-contrast picture is below the threshold.
        for f in &mut v {
            f.luma_std = 0.2;
        }
        assert!(detect24(&v).is_empty());
    }

    #[test]
    fn tiny_inputs_do_not_panic() {
        for n in 0..4 {
            let v = timed(frames(n, 0.4, 0.01), 24.0);
            let _ = detect24(&v);
        }
    }
}
