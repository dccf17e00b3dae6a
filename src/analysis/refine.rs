//! Where each detected boundary lands. The main pass skips non-reference
//! frames, so a cut found between two analysed frames with skipped frames
//! between them is placed on the frame that jumps most: from the skipped
//! frames the pass decoded around jumps where it has them all, else by a
//! narrow re-decode of the frames between the two. A cut on an intra frame
//! is trusted where it is (encoders put intra frames on scene cuts).

use super::decode::{self, DecodeSpec, PassReport, ProbeInfo};
use super::detect::Detected;
use super::driver::Job;
use super::features::{self, Extractor, FrameStats};
use super::timeline::FrameGrid;
use super::{AnalyseOptions, AnalysisError, Boundary, BoundaryKind};

/// The boundaries as placed, and how many cuts needed placing.
pub(super) struct Placed {
    pub boundaries: Vec<Boundary>,
    /// Cuts placed on a skipped frame (from the pass or a re-decode).
    pub refined_cuts: usize,
    /// Cuts given to a re-decode after the main pass.
    pub redecoded_cuts: usize,
}

/// A cut between two analysed frames with skipped frames between them.
#[derive(Clone, Copy)]
struct Candidate {
    /// Times of the analysed frames before and after the cut.
    prev_t: f64,
    new_t: f64,
    skipped: u64,
}

/// Place every detected boundary: a cut on its exact frame where frames
/// were skipped around it (see the module's doc), a fade or dissolve over
/// its span of analysed frames.
pub(super) fn place_boundaries(
    job: &Job<'_>,
    stats: &[FrameStats],
    detected: &[Detected],
    report: &PassReport,
    grid: &FrameGrid,
) -> Result<Placed, AnalysisError> {
    let to_place: Vec<Option<Candidate>> = detected
        .iter()
        .map(|d| candidate(job.opts, stats, d))
        .collect();
    // Cuts whose skipped frames the main pass decoded are placed from them.
    let from_pass: Vec<Option<Option<f64>>> = to_place
        .iter()
        .map(|c| {
            let c = (*c)?;
            place_from_near(
                &report.near_cuts,
                job.info.fps,
                (c.prev_t, c.new_t),
                c.skipped,
            )
        })
        .collect();
    // The others by a re-decode.
    let redecode: Vec<(f64, f64)> = to_place
        .iter()
        .zip(&from_pass)
        .filter(|(_, f)| f.is_none())
        .filter_map(|(c, _)| c.map(|c| (c.prev_t, c.new_t)))
        .collect();
    let mut redecoded = refine_cuts(job, &report.keyframes, &redecode)?.into_iter();
    let mut refined_cuts = 0;
    let mut boundaries = Vec::new();
    for ((d, c), near) in detected.iter().zip(&to_place).zip(&from_pass) {
        let mut time_s = stats[d.at].t;
        let mut frame = stats[d.at].frame;
        if c.is_some() {
            let placed = match near {
                Some(p) => *p,
                None => redecoded.next().flatten(),
            };
            if let Some(t) = placed {
                time_s = t;
                frame = grid.frame_of(t);
                refined_cuts += 1;
            }
        }
        let (a, b) = d.span;
        let (start_s, end_s) = if d.kind == BoundaryKind::Cut {
            (time_s, time_s)
        } else {
            (stats[a].t, stats[b].t)
        };
        boundaries.push(Boundary {
            time_s,
            frame,
            kind: d.kind,
            start_s,
            end_s,
        });
    }
    Ok(Placed {
        boundaries,
        refined_cuts,
        redecoded_cuts: redecode.len(),
    })
}

/// `d` as a cut to place: a cut next to skipped frames and not on an intra
/// frame trusted as placed (see `AnalyseOptions::trust_keyframes`).
fn candidate(opts: &AnalyseOptions, stats: &[FrameStats], d: &Detected) -> Option<Candidate> {
    if d.kind != BoundaryKind::Cut || d.at == 0 {
        return None;
    }
    let prev = &stats[d.at - 1];
    let skipped = stats[d.at].frame.saturating_sub(prev.frame + 1);
    let trusted = opts.trust_keyframes && stats[d.at].intra;
    (skipped > 0 && !trusted).then_some(Candidate {
        prev_t: prev.t,
        new_t: stats[d.at].t,
        skipped,
    })
}

/// Place a cut candidate `(p, n)` (two analysed frames with `skipped`
/// frames between) from the frames the main pass decoded around it, on the
/// frame that differs most from the one before, as [`refine_cut`] would
/// from a re-decode (the same difference, `FrameStats::diff[0]`); `None`
/// when those frames are not all there (the pass did not see the jump, or
/// kept no more frames).
fn place_from_near(
    near: &[(f64, features::Glance)],
    fps: f64,
    (p, n): (f64, f64),
    skipped: u64,
) -> Option<Option<f64>> {
    let half = 0.5 / fps;
    let i0 = near.partition_point(|f| f.0 < p - half);
    let i1 = near.partition_point(|f| f.0 < n + half);
    let win = &near[i0..i1];
    let ends = (win.first()?.0 - p).abs() < 1e-6 && (win.last()?.0 - n).abs() < 1e-6;
    if !ends || win.len() as u64 != skipped + 2 {
        return None;
    }
    let best = (1..win.len()).max_by(|&a, &b| {
        let d = |i: usize| win[i].1.diff(&win[i - 1].1);
        d(a).total_cmp(&d(b))
    });
    Some(best.map(|i| win[i].0))
}

/// Place each candidate cut `(t_prev, t_new)` (two analysed frames with
/// skipped frames between) on the frame with the biggest jump from its
/// predecessor inside `[t_prev - ½ frame, t_new + ½ frame)`, as
/// [`refine_cut`] does, but decoding all windows in a few passes:
/// windows that seek to the same keyframe share one input (their decodes
/// would repeat the same frames from that keyframe), up to 16 inputs share
/// one decoder, and two such decoders run side by side.
fn refine_cuts(
    job: &Job<'_>,
    keyframes: &[f64],
    cands: &[(f64, f64)],
) -> Result<Vec<Option<f64>>, AnalysisError> {
    let r = Redecode::new(job, keyframes, cands);
    let [l0, l1] = r.share_out(r.groups());
    let (r0, r1) = std::thread::scope(|sc| {
        let h = sc.spawn(|| r.run_list(&l1));
        let r0 = r.run_list(&l0);
        let r1 = h.join().unwrap_or_else(|_| {
            Err(AnalysisError::Ffmpeg {
                film: job.film.to_path_buf(),
                problem: "re-decode thread panicked".into(),
            })
        });
        (r0, r1)
    });
    let mut out = vec![None; r.wins.len()];
    for (i, t) in r0?.into_iter().chain(r1?) {
        out[i] = t;
    }
    Ok(out)
}

/// The re-decode of the candidate cuts' windows (see [`refine_cuts`]).
struct Redecode<'a> {
    job: &'a Job<'a>,
    /// The key frames a seek can land on, sorted.
    keyframes: &'a [f64],
    cands: &'a [(f64, f64)],
    /// Each candidate's window `[start, end)`: half a frame either side.
    wins: Vec<(f64, f64)>,
    spec: DecodeSpec,
}

/// Candidates (indices) whose windows seek to the same key frame.
type Group = Vec<usize>;

impl<'a> Redecode<'a> {
    fn new(job: &'a Job<'a>, keyframes: &'a [f64], cands: &'a [(f64, f64)]) -> Self {
        let half = 0.5 / job.info.fps;
        let wins = cands
            .iter()
            .map(|&(p, n)| ((p - half).max(0.0), n + half))
            .collect();
        let spec = redecode_spec(job.info, job.size, job.opts, None);
        // One thread per decoder unless told: the windows are short, so
        // frame threads have little to overlap within one input, while two
        // decoders keep both cores busy.
        let threads = if job.opts.threads == 0 {
            1
        } else {
            job.opts.threads
        };
        Redecode {
            job,
            keyframes,
            cands,
            wins,
            spec: DecodeSpec { threads, ..spec },
        }
    }

    /// The key frame (1-based index) a seek to `t` lands on; `None` before
    /// the first.
    fn key_of(&self, t: f64) -> Option<usize> {
        let i = self.keyframes.partition_point(|&k| k <= t + 1e-9);
        (i > 0).then_some(i)
    }

    /// The windows in time order, grouped by the key frame a seek to them
    /// lands on.
    fn groups(&self) -> Vec<Group> {
        let wins = &self.wins;
        let mut order: Vec<usize> = (0..wins.len()).collect();
        order.sort_by(|&a, &b| wins[a].0.total_cmp(&wins[b].0));
        let mut groups: Vec<Group> = Vec::new();
        for &i in &order {
            match groups.last_mut() {
                Some(g)
                    if self.key_of(wins[i].0).is_some()
                        && self.key_of(wins[g[0]].0) == self.key_of(wins[i].0) =>
                {
                    g.push(i)
                }
                _ => groups.push(vec![i]),
            }
        }
        groups
    }

    /// A group's decoding length: from its key frame to its end.
    fn cost(&self, g: &Group) -> f64 {
        let s = self.wins[g[0]].0;
        let e = g.iter().map(|&i| self.wins[i].1).fold(f64::MIN, f64::max);
        let k = self.key_of(s).map(|i| self.keyframes[i - 1]).unwrap_or(0.0);
        e - k
    }

    /// The groups shared out between the two decoders, longest first, each
    /// to the one with less decoding so far.
    fn share_out(&self, groups: Vec<Group>) -> [Vec<Group>; 2] {
        let mut by_cost = groups;
        by_cost.sort_by(|a, b| self.cost(b).total_cmp(&self.cost(a)));
        let mut lists: [(f64, Vec<Group>); 2] = [(0.0, Vec::new()), (0.0, Vec::new())];
        for g in by_cost {
            let l = if lists[0].0 <= lists[1].0 { 0 } else { 1 };
            lists[l].0 += self.cost(&g);
            lists[l].1.push(g);
        }
        let [(_, l0), (_, l1)] = lists;
        [l0, l1]
    }

    /// Decode one decoder's groups, 16 inputs at a time: (candidate, where
    /// its cut is) for each.
    fn run_list(&self, list: &[Group]) -> Result<Vec<(usize, Option<f64>)>, AnalysisError> {
        let mut out = Vec::new();
        for batch in list.chunks(16) {
            self.run_batch(batch, &mut out)?;
        }
        Ok(out)
    }

    /// Decode a batch of groups with one decoder, one input per group from
    /// its first window's start to its last window's end; should that
    /// fail, each window on its own.
    fn run_batch(
        &self,
        batch: &[Group],
        out: &mut Vec<(usize, Option<f64>)>,
    ) -> Result<(), AnalysisError> {
        let wins = &self.wins;
        let inputs: Vec<(f64, f64)> = batch
            .iter()
            .map(|g| {
                let s = g.iter().map(|&i| wins[i].0).fold(f64::MAX, f64::min);
                let e = g.iter().map(|&i| wins[i].1).fold(f64::MIN, f64::max);
                (s, e - s)
            })
            .collect();
        let (aw, ah) = self.job.size;
        let mut ex = Extractor::new(aw, ah, 1.0 / self.job.info.fps);
        let mut k = 0u64;
        let times = decode::run_windows(self.job.film, &self.spec, &inputs, &mut |yuv| {
            // Frames are told apart by their order here; the times come after.
            ex.push(k as f64, 0, yuv);
            k += 1;
        });
        let Ok(times) = times else {
            // One decoder for all failed: fall back to one per window.
            for &i in batch.iter().flatten() {
                let (p, n) = self.cands[i];
                out.push((i, refine_cut(self.job, p, n)?));
            }
            return Ok(());
        };
        let mut base = 0;
        for (g, ts) in batch.iter().zip(&times) {
            for &i in g {
                let (w0, w1) = wins[i];
                // Frames inside the window whose predecessor is inside
                // too: the comparisons of a decode of the window alone.
                let inside = |j: usize| ts[j] >= w0 && ts[j] < w1;
                let best = (1..ts.len())
                    .filter(|&j| inside(j) && inside(j - 1))
                    .max_by(|&a, &b| {
                        ex.stats[base + a].diff[0].total_cmp(&ex.stats[base + b].diff[0])
                    })
                    .map(|j| ts[j]);
                out.push((i, best));
            }
            base += ts.len();
        }
        Ok(())
    }
}

/// How cuts are re-decoded: every frame (no skipping), video only, at the
/// analysis size, over `window` when given.
fn redecode_spec(
    info: &ProbeInfo,
    (aw, ah): (u32, u32),
    opts: &AnalyseOptions,
    window: Option<(f64, f64)>,
) -> DecodeSpec {
    DecodeSpec {
        width: aw,
        height: ah,
        threads: opts.threads,
        skip_loop_filter: opts.skip_loop_filter,
        skip_nonref: false,
        jumps: None,
        audio: false,
        scale_flags: opts.scale_flags.clone(),
        side: None,
        window,
        seek: None,
        video: true,
        grid: false,
        field: info.field.filter(|_| opts.deinterlace),
        start_s: Some(info.start_time),
        stop: None,
    }
}

/// Decode every frame between two analysed frames around a cut and return
/// the time of the frame with the biggest jump from its predecessor.
fn refine_cut(job: &Job<'_>, t_prev: f64, t_new: f64) -> Result<Option<f64>, AnalysisError> {
    let half = 0.5 / job.info.fps;
    let spec = redecode_spec(
        job.info,
        job.size,
        job.opts,
        Some(((t_prev - half).max(0.0), t_new - t_prev + 2.0 * half)),
    );
    let (aw, ah) = job.size;
    let mut ex = Extractor::new(aw, ah, 1.0 / job.info.fps);
    // Seeking is exact in indexed containers; in MPEG-TS and the like it
    // can land elsewhere: frames outside the window are not evidence.
    let (w0, w1) = (t_prev - half, t_new + half);
    decode::run_pass(
        job.film,
        &spec,
        &mut |f| {
            if f.t >= w0 && f.t < w1 {
                ex.push(f.t, 0, f.yuv)
            }
            true
        },
        None,
    )?;
    let s = ex.stats;
    if s.len() < 2 {
        return Ok(None);
    }
    let best = (1..s.len()).max_by(|&a, &b| s[a].diff[0].total_cmp(&s[b].diff[0]));
    Ok(best.map(|i| s[i].t))
}
