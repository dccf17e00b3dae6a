//! The analysed frames on the film's time line: their frame numbers, from
//! the grid of every video packet's time (the main pass skips frames, so
//! its frames' own count says nothing), and the stretches of the film the
//! decoder could not deliver, or delivered damaged.

use super::features::FrameStats;

/// Timestamps can repeat or go backwards in broken files: nudge each frame
/// that does not come after the one before to just after it.
pub(super) fn keep_times_increasing(stats: &mut [FrameStats]) {
    for i in 1..stats.len() {
        if stats[i].t <= stats[i - 1].t {
            stats[i].t = stats[i - 1].t + 1e-4;
        }
    }
}

/// The film's frame grid: the presentation time of every video packet,
/// sorted, when it is complete enough to number frames by; else frames are
/// numbered by time × fps.
pub(super) struct FrameGrid {
    times: Vec<f64>,
    /// The grid has at least half as many entries as frames were analysed.
    ok: bool,
    fps: f64,
}

impl FrameGrid {
    /// The grid `times` against the analysed frames `stats`. Packet times
    /// and decoded times come out of the same demuxer with the same offset;
    /// should a container still disagree, the grid is shifted to start at
    /// the first analysed frame.
    pub(super) fn aligned(mut times: Vec<f64>, stats: &[FrameStats], fps: f64) -> Self {
        if let (Some(&g0), Some(s0)) = (times.first(), stats.first()) {
            let i = times.partition_point(|&g| g < s0.t);
            let near = [i.saturating_sub(1), i.min(times.len() - 1)]
                .iter()
                .map(|&j| (times[j] - s0.t).abs())
                .fold(f64::MAX, f64::min);
            if near > 0.5 / fps {
                let d = s0.t - g0;
                times.iter_mut().for_each(|g| *g += d);
            }
        }
        let ok = !times.is_empty() && times.len() as f64 >= 0.5 * stats.len() as f64;
        FrameGrid { times, ok, fps }
    }

    /// Frame number of time t: nearest entry of the packet grid, else t × fps.
    pub(super) fn frame_of(&self, t: f64) -> u64 {
        let grid = &self.times;
        if self.ok {
            let i = grid.partition_point(|&g| g < t);
            let best = [i.saturating_sub(1), i.min(grid.len() - 1)]
                .into_iter()
                .min_by(|&a, &b| (grid[a] - t).abs().total_cmp(&(grid[b] - t).abs()))
                .unwrap_or(0);
            if (grid[best] - t).abs() < 0.5 / self.fps {
                return best as u64;
            }
        }
        (t * self.fps).round().max(0.0) as u64
    }

    /// The film's frame count: the grid's, else `duration_s` × fps.
    pub(super) fn frame_count(&self, duration_s: f64) -> u64 {
        if self.ok {
            self.times.len() as u64
        } else {
            (duration_s * self.fps).round() as u64
        }
    }
}

/// Stretches of the film that were not delivered or were damaged, merged:
/// gaps in the frame times (over 4 frame steps and 0.5 s), a late start or
/// early end, and for each decoder error (stamped with the last frame out
/// before it) the time up to the next intra frame after it.
pub(super) fn unreadable_spans(
    stats: &[FrameStats],
    error_times: &[f64],
    duration_s: f64,
) -> Vec<(f64, f64)> {
    if stats.is_empty() {
        return if duration_s > 0.0 {
            vec![(0.0, duration_s)]
        } else {
            Vec::new()
        };
    }
    let mut gaps: Vec<f64> = stats.windows(2).map(|w| w[1].t - w[0].t).collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let step = gaps.get(gaps.len() / 2).copied().unwrap_or(0.04);
    let limit = (4.0 * step).max(0.5);
    let mut spans: Vec<(f64, f64)> = stats
        .windows(2)
        .filter(|w| w[1].t - w[0].t > limit)
        .map(|w| (w[0].t + step, w[1].t))
        .collect();
    if stats[0].t > limit {
        spans.push((0.0, stats[0].t));
    }
    let last = stats[stats.len() - 1].t;
    if duration_s - last > limit {
        spans.push((last + step, duration_s));
    }
    for &e in error_times {
        let i = stats.partition_point(|s| s.t <= e + 1e-9);
        let end = stats[i.min(stats.len())..]
            .iter()
            .find(|s| s.intra)
            .map(|s| s.t)
            .unwrap_or(duration_s.max(last + step));
        spans.push((e, end.max(e + step)));
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(l) if a <= l.1 + 1e-9 => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out.retain(|(a, b)| b - a > 1e-9);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_spans_cover_gaps_and_errors_up_to_the_next_intra_frame() {
        // 25 fps, frames 0..100 with 40..60 missing, an I-frame every 25.
        let stats: Vec<FrameStats> = (0..100)
            .filter(|i| !(40..60).contains(i))
            .map(|i| FrameStats {
                t: i as f64 * 0.04,
                intra: i % 25 == 0,
                ..Default::default()
            })
            .collect();
        let s = unreadable_spans(&stats, &[], 4.0);
        assert_eq!(s.len(), 1);
        assert!(
            (s[0].0 - 1.6).abs() < 1e-9 && (s[0].1 - 2.4).abs() < 1e-9,
            "{s:?}"
        );
        // A decoder error reported after frame 80 (3.2 s): damaged until the
        // film ends (no intra frame after it); one after frame 10 (0.4 s):
        // until the I-frame at 1.0 s.
        let s = unreadable_spans(&stats, &[3.2, 0.4], 4.0);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(
            (s[0].0 - 0.4).abs() < 1e-9 && (s[0].1 - 1.0).abs() < 1e-9,
            "{s:?}"
        );
        assert!(
            (s[2].0 - 3.2).abs() < 1e-9 && (s[2].1 - 4.0).abs() < 1e-9,
            "{s:?}"
        );
        assert!(unreadable_spans(&stats[..0], &[], 2.0) == vec![(0.0, 2.0)]);
    }

    #[test]
    fn frame_of_uses_grid() {
        let grid = FrameGrid {
            times: vec![0.0, 0.04, 0.1, 0.2],
            ok: true,
            fps: 25.0,
        };
        assert_eq!(grid.frame_of(0.1), 2);
        let none = FrameGrid {
            times: vec![],
            ok: false,
            fps: 25.0,
        };
        assert_eq!(none.frame_of(1.0), 25);
    }
}
