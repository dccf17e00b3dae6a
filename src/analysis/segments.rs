//! The main pass, run as one pass or as two film segments decoded in
//! parallel (one thread and one decoder each) and stitched into the
//! statistics one pass would give.
//!
//! Why split: decoding only the reference frames (`skip_frame` nonref) is a
//! chain in which every frame waits for the one before, so a decoder's frame
//! threads cannot overlap them: one decoder keeps about one core busy (on
//! Big Buck Bunny one thread is even faster than the default threads).
//! Two decoders on two halves of the film keep two cores busy.
//!
//! How the statistics stay exact: the second segment starts at a key frame
//! near the middle (see [`split_point`]; nothing decoded and thrown away)
//! and first warms its extractor up on enough frames for every comparison
//! that looks back (the earlier frames of `diff`, the dissolve window); its
//! first frame after the warm-up is the join `J`. The first segment runs on
//! past `J` for as many frames as the dissolve window looks ahead, then is
//! stopped. Frames before `J` come from the first segment, the rest from the
//! second, and the second uses the dissolve widths the first measured. The
//! frame grid and the sound come from a third, cheap pass that only
//! demuxes the picture and decodes the sound.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use super::decode::{self, DecodeSpec, PassReport, SideSinkFactory};
use super::features::{Extractor, FrameStats, BACK};
use super::AnalysisError;

/// What the main pass delivered.
pub struct Decoded {
    pub stats: Vec<FrameStats>,
    /// Dissolve half-widths the statistics were computed with.
    pub halves: Vec<usize>,
    /// Sound energy, frame grid, decoder errors (of the kept ranges).
    pub report: PassReport,
    /// Where the second segment's frames take over (`None`: one pass);
    /// side frames of segment 0 before it and of segment 1 from it are kept.
    pub join: Option<f64>,
}

/// Neither segment is shorter than this: the second segment's warm-up and
/// the first one's look-ahead (together about 2.5 s of film at 24 fps)
/// would cost more than the split saves.
pub const SPLIT_MIN_S: f64 = 4.0;

/// Where the film is cut in two: the second segment starts at this key
/// frame. With the container's key frames (`keys`, from its index), the
/// one nearest the middle: the first segment decodes up to it, the second
/// from it, so the longer of the two is as short as it can be (a film with
/// 8 s between key frames would otherwise have its second segment start up
/// to 8 s early and decode that stretch twice). Without an index, a little
/// before the middle. `None`: one pass (a short film, a single core, or no
/// key frame that shortens the longer segment by a tenth).
pub fn split_point(duration_s: f64, keys: &[f64]) -> Option<f64> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if duration_s < 2.0 * SPLIT_MIN_S || cores < 2 {
        return None;
    }
    if keys.is_empty() {
        return (duration_s >= 10.0).then(|| duration_s / 2.0 - 1.0);
    }
    let longer = |k: f64| k.max(duration_s - k);
    let best = keys
        .iter()
        .copied()
        .filter(|&k| k >= SPLIT_MIN_S && k <= duration_s - SPLIT_MIN_S)
        .min_by(|a, b| longer(*a).total_cmp(&longer(*b)))?;
    // Index times can be decoding times, a few frames off the key frame's
    // presentation time: aim half-way to the next key frame, where a seek
    // still lands on this one.
    let next = keys
        .iter()
        .copied()
        .find(|&k| k > best + 1e-6)
        .unwrap_or(duration_s)
        .min(duration_s);
    (longer(best) < 0.9 * duration_s).then_some((best + next) / 2.0)
}

/// Where the join stands, shared by the two segment threads.
#[derive(Clone, Copy, PartialEq)]
enum Join {
    Unknown,
    At(f64),
    /// The second segment could not take over: the first decodes everything.
    Never,
}

struct Shared {
    join: Mutex<Join>,
    first_done: Mutex<bool>,
    cv: Condvar,
}

impl Shared {
    fn set_join(&self, j: Join) {
        if let Ok(mut g) = self.join.lock() {
            if *g == Join::Unknown {
                *g = j;
            }
        }
        self.cv.notify_all();
    }
    fn join(&self) -> Join {
        self.join.lock().map(|g| *g).unwrap_or(Join::Never)
    }
}

/// Run the main pass. `sinks[i]` consumes the side (face) frames of
/// segment i (only `sinks[0]` when the film is not split). `progress` gets
/// seconds of film done.
pub fn decode(
    film: &Path,
    spec: &DecodeSpec,
    min_step_s: f64,
    duration_s: f64,
    split_at: Option<f64>,
    mut sinks: Vec<Option<SideSinkFactory>>,
    progress: &mut dyn FnMut(f64),
) -> Result<Decoded, AnalysisError> {
    let sink0 = sinks.get_mut(0).and_then(Option::take);
    let Some(split_at) = split_at else {
        return one_pass(film, spec, min_step_s, sink0, progress);
    };
    let sink1 = sinks.get_mut(1).and_then(Option::take);
    let seg_spec = |seek: Option<f64>| DecodeSpec {
        // Reference-frame chains do not thread: one thread per process.
        threads: if spec.threads == 0 { 1 } else { spec.threads },
        audio: false,
        grid: false,
        seek,
        ..spec.clone()
    };
    let (spec_a, spec_b) = (seg_spec(None), seg_spec(Some(split_at)));
    let spec_idx = DecodeSpec {
        video: false,
        side: None,
        threads: 1,
        ..spec.clone()
    };
    let need_index = spec.audio || spec.grid;
    let shared = Arc::new(Shared {
        join: Mutex::new(Join::Unknown),
        first_done: Mutex::new(false),
        cv: Condvar::new(),
    });
    let (halves_tx, halves_rx) = std::sync::mpsc::channel::<Vec<usize>>();
    let (prog_tx, prog_rx) = std::sync::mpsc::channel::<(usize, f64)>();
    let (w, h) = (spec.width, spec.height);

    std::thread::scope(|sc| {
        let sh = shared.clone();
        let ptx = prog_tx.clone();
        let a = sc.spawn(move || {
            let mut ex = Extractor::new(w, h, min_step_s);
            let mut halves_tx = Some(halves_tx);
            let mut tail = 0usize;
            let mut next = 0.0;
            let r = decode::run_pass(
                film,
                &spec_a,
                &mut |f| {
                    ex.push(f.t, 0, f.yuv);
                    if let Some(s) = ex.stats.last_mut() {
                        s.intra = f.pict_type == 'I';
                        s.key = f.key && f.pict_type == 'I';
                    }
                    if ex.measured() {
                        if let Some(tx) = halves_tx.take() {
                            let _ = tx.send(ex.halves());
                        }
                    }
                    if f.t >= next {
                        let _ = ptx.send((0, f.t));
                        next = f.t + 1.0;
                    }
                    match sh.join() {
                        Join::At(j) if f.t >= j => {
                            tail += 1;
                            tail <= look_ahead(&ex)
                        }
                        _ => true,
                    }
                },
                sink0,
            );
            if !r.as_ref().is_ok_and(|rep| rep.stopped) {
                // The first segment reached the end (or failed): the second
                // has nothing to add.
                if let Ok(mut d) = sh.first_done.lock() {
                    *d = true;
                }
            }
            // Nothing more to wait for: a second segment still waiting for
            // the widths or the join gives up.
            drop(halves_tx);
            sh.set_join(Join::Never);
            r.map(|rep| (rep, ex))
        });
        let sh = shared.clone();
        let ptx = prog_tx.clone();
        let b = sc.spawn(move || {
            let mut ex = Extractor::new(w, h, min_step_s);
            let mut warm = usize::MAX;
            let mut next = 0.0;
            let r = decode::run_pass(
                film,
                &spec_b,
                &mut |f| {
                    if ex.stats.is_empty() {
                        match halves_rx.recv() {
                            Ok(hv) => ex.set_halves(hv),
                            Err(_) => return false,
                        }
                        warm = look_back(&ex);
                    }
                    if sh.first_done.lock().map(|d| *d).unwrap_or(true) {
                        return false;
                    }
                    ex.push(f.t, 0, f.yuv);
                    if let Some(s) = ex.stats.last_mut() {
                        s.intra = f.pict_type == 'I';
                        s.key = f.key && f.pict_type == 'I';
                    }
                    if ex.stats.len() == warm + 1 {
                        sh.set_join(Join::At(f.t));
                    }
                    if f.t >= next {
                        let _ = ptx.send((1, f.t));
                        next = f.t + 1.0;
                    }
                    true
                },
                sink1,
            );
            // Too few frames for a warm-up (or a failure): no join, the
            // first segment goes on to the end.
            sh.set_join(Join::Never);
            (r.ok(), ex, warm)
        });
        let idx = need_index
            .then(|| sc.spawn(move || decode::run_pass(film, &spec_idx, &mut |_| true, None)));
        drop(prog_tx);
        // Progress: film seconds covered by both segments together (the
        // first counts up to where the second starts), never going back.
        let (mut at, mut b_start, mut last) = ([0.0f64; 2], f64::INFINITY, 0.0f64);
        for (i, t) in prog_rx {
            if i == 1 {
                b_start = b_start.min(t);
            }
            at[i] = t;
            let covered = at[0].min(b_start) + (at[1] - b_start).max(0.0);
            if covered > last {
                last = covered.min(duration_s);
                progress(last);
            }
        }
        let (rep_a, ex_a) = a.join().map_err(|_| AnalysisError::Ffmpeg {
            film: film.to_path_buf(),
            problem: "decoder thread panicked".into(),
        })??;
        let (rep_b, ex_b, warm) = b.join().unwrap_or((None, Extractor::new(w, h, 1.0), 0));
        let idx = match idx.map(|h| h.join()) {
            Some(Ok(r)) => Some(r?),
            Some(Err(_)) => None,
            None => None,
        };
        let halves = ex_a.halves();
        let mut report = PassReport {
            frames: 0,
            stopped: false,
            ..Default::default()
        };
        let join = match (shared.join(), rep_a.stopped, rep_b) {
            (Join::At(j), true, Some(rep_b)) => Some((j, rep_b)),
            _ => None,
        };
        let stats = match join {
            Some((j, ref rep_b)) => {
                let mut st: Vec<FrameStats> = ex_a.stats.into_iter().filter(|s| s.t < j).collect();
                st.extend(ex_b.stats.into_iter().skip(warm));
                let ea: Vec<f64> = rep_a
                    .error_times
                    .iter()
                    .copied()
                    .filter(|&e| e < j)
                    .collect();
                let eb: Vec<f64> = rep_b
                    .error_times
                    .iter()
                    .copied()
                    .filter(|&e| e >= j)
                    .collect();
                report.decode_errors = ea.len() + eb.len();
                report.error_times = ea.into_iter().chain(eb).collect();
                report.stderr_tail = rep_b.stderr_tail.clone();
                st
            }
            None => {
                report.decode_errors = rep_a.decode_errors;
                report.error_times = rep_a.error_times.clone();
                report.stderr_tail = rep_a.stderr_tail.clone();
                ex_a.stats
            }
        };
        report.frames = stats.len();
        if let Some(ix) = idx {
            // Sound errors count, but have no picture time to mark.
            report.decode_errors += ix.decode_errors;
            report.audio_energy = ix.audio_energy;
            report.grid = ix.grid;
            report.keyframes = ix.keyframes;
        }
        // Frames around jumps from both segments (the overlap twice).
        let mut near = rep_a.near_cuts;
        let join = join.map(|(j, mut rep_b)| {
            near.append(&mut rep_b.near_cuts);
            j
        });
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        near.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-6);
        report.near_cuts = near;
        Ok(Decoded {
            stats,
            halves,
            report,
            join,
        })
    })
}

/// Frames the second segment decodes before the join: a frame's
/// statistics look back at most `BACK` frames or one dissolve half-width.
fn look_back(ex: &Extractor) -> usize {
    ex.halves().iter().max().copied().unwrap_or(2) + BACK + 2
}

/// Frames the first segment decodes past the join: a frame's dissolve
/// linearity is filled in when the frame a half-width later arrives.
fn look_ahead(ex: &Extractor) -> usize {
    ex.halves().iter().max().copied().unwrap_or(2) + 2
}

fn one_pass(
    film: &Path,
    spec: &DecodeSpec,
    min_step_s: f64,
    sink: Option<SideSinkFactory>,
    progress: &mut dyn FnMut(f64),
) -> Result<Decoded, AnalysisError> {
    let mut ex = Extractor::new(spec.width, spec.height, min_step_s);
    let mut next = 0.0;
    let report = decode::run_pass(
        film,
        spec,
        &mut |f| {
            ex.push(f.t, 0, f.yuv);
            if let Some(s) = ex.stats.last_mut() {
                s.intra = f.pict_type == 'I';
                s.key = f.key && f.pict_type == 'I';
            }
            if f.t >= next {
                progress(f.t);
                next = f.t + 1.0;
            }
            true
        },
        sink,
    )?;
    Ok(Decoded {
        halves: ex.halves(),
        stats: ex.stats,
        report,
        join: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_at_the_key_frame_that_keeps_both_segments_short() {
        if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
            return; // one core: never split (checked by the None below)
        }
        // Key frames (decoding times) of a 31 s film with 8-10 s GOPs: the
        // second segment starts at 18.3 (segments of 18.3 and 12.9 s), aimed
        // half-way to the next key frame so that the seek lands on it.
        let keys = [-0.08, 7.92, 18.33, 28.75];
        let at = split_point(31.25, &keys).unwrap();
        assert!((at - (18.33 + 28.75) / 2.0).abs() < 1e-9, "{at}");
        // No key frame that helps: 5.5 s film with one at 2.9 s; a key
        // frame near the start only.
        assert_eq!(split_point(5.5, &[0.0, 2.9]), None);
        assert_eq!(split_point(60.0, &[0.0, 5.0]), None);
        // No index: a little before the middle.
        assert_eq!(split_point(40.0, &[]), Some(19.0));
    }
}
