//! Which frames the vision stage sees: the sharpest frame of each shot,
//! each subtitle's midpoint, and a frame every 30 s where those leave a
//! longer gap. The JPEGs themselves are written by [`super::extract_keyframes`].

use super::{FilmAnalysis, KeyframeKind};

/// Times for keyframes: the sharpest frame of each shot, each subtitle
/// midpoint, and one every 30 s inside any longer gap; sorted, and times
/// within 0.5 s of an earlier one dropped.
pub fn keyframe_times(a: &FilmAnalysis, subtitle_midpoints: &[f64]) -> Vec<(f64, KeyframeKind)> {
    let last = (a.duration_s - 1.0 / a.fps.max(1.0)).max(0.0);
    let mut v: Vec<(f64, KeyframeKind)> = a
        .shots
        .iter()
        .map(|s| (s.keyframe_s, KeyframeKind::Shot(s.index)))
        .chain(
            subtitle_midpoints
                .iter()
                .filter(|t| t.is_finite() && **t >= 0.0 && **t <= a.duration_s)
                .map(|&t| (t, KeyframeKind::Subtitle)),
        )
        .map(|(t, k)| (t.clamp(0.0, last), k))
        .collect();
    v.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut out: Vec<(f64, KeyframeKind)> = Vec::new();
    for (t, k) in v {
        if out.last().is_some_and(|(p, _)| t - p < 0.5) {
            continue;
        }
        out.push((t, k));
    }
    // Interval fallback in gaps over 30 s (including film start and end).
    let mut edges: Vec<f64> = vec![0.0];
    edges.extend(out.iter().map(|(t, _)| *t));
    edges.push(last);
    let mut extra = Vec::new();
    for w in edges.windows(2) {
        let gap = w[1] - w[0];
        if gap > 30.0 {
            let k = (gap / 30.0).ceil() as usize;
            for j in 1..k {
                extra.push((w[0] + gap * j as f64 / k as f64, KeyframeKind::Interval));
            }
        }
    }
    out.extend(extra);
    out.sort_by(|x, y| x.0.total_cmp(&y.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{LoudnessCurve, Shot, Signals};

    fn fa(duration: f64, keys: &[f64]) -> FilmAnalysis {
        FilmAnalysis {
            fps: 24.0,
            frame_count: (duration * 24.0) as u64,
            duration_s: duration,
            boundaries: vec![],
            shots: keys
                .iter()
                .enumerate()
                .map(|(i, &k)| Shot {
                    index: i,
                    start_s: 0.0,
                    end_s: 0.0,
                    start_frame: 0,
                    end_frame: 0,
                    keyframe_s: k,
                    signals: Signals::default(),
                    raw: Signals::default(),
                })
                .collect(),
            flashes: vec![],
            loudness_curve: LoudnessCurve::default(),
            has_audio: false,
            unreadable_s: 0.0,
            unreadable_spans: vec![],
            warnings: vec![],
            decode_errors: 0,
            frames_analysed: 0,
            analysis_width: 160,
            analysis_height: 90,
            refined_cuts: 0,
            redecoded_cuts: 0,
            decode_segments: 1,
            interlaced: false,
            key_s: vec![],
            faces_source: "skin_proxy".into(),
        }
    }

    #[test]
    fn keyframes_fill_long_gaps_and_merge_close_ones() {
        let a = fa(100.0, &[5.0, 5.2, 10.0]);
        let k = keyframe_times(&a, &[10.3, 20.0]);
        let shots = k
            .iter()
            .filter(|x| matches!(x.1, KeyframeKind::Shot(_)))
            .count();
        assert_eq!(shots, 2, "{k:?}");
        assert!(k
            .iter()
            .any(|x| x.1 == KeyframeKind::Subtitle && x.0 == 20.0));
        // 20 s → end (~100 s): 80 s gap gets interval frames, no gap > 30 s left.
        for w in k.windows(2) {
            assert!(w[1].0 - w[0].0 <= 30.0 + 1e-9, "{k:?}");
        }
        assert!(k.last().unwrap().0 < 100.0);
    }
}
