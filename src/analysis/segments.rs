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
//! near the middle (see [`split_point`]; nothing decoded and thrown away);
//! its first frame is the join `J`, where the first segment stops. Frames
//! before `J` come from the first segment, the rest from the second, which
//! uses the dissolve widths the first measured. A frame's statistics look
//! back (the earlier frames of `diff`, half the dissolve window) and ahead
//! (the other half) a few frames, so those of the frames near `J` are
//! recomputed from the pictures both segments keep at their edge (see
//! [`stitch`]): no frame is decoded twice. The
//! frame grid and the sound come from a third, cheap pass that only
//! demuxes the picture and decodes the sound.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{mpsc, Mutex};

use super::decode::{self, DecodeSpec, PassReport, SideSinkFactory};
use super::features::{half_widths, Extractor, FrameStats, BACK};
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

/// Neither segment is shorter than this: the first must decode the frames
/// the frame interval is measured on (17 analysed frames), and a second
/// decoder is not worth starting for less.
pub const SPLIT_MIN_S: f64 = 2.0;

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

/// A decoded analysis picture kept at a segment's edge, to recompute the
/// statistics across the join.
#[derive(Clone)]
struct Kept {
    t: f64,
    pict_type: char,
    key: bool,
    yuv: Vec<u8>,
}

impl Kept {
    fn of(f: &decode::Frame<'_>) -> Self {
        Kept {
            t: f.t,
            pict_type: f.pict_type,
            key: f.key,
            yuv: f.yuv.to_vec(),
        }
    }
}

/// Add a frame to `ex`, marked intra and key as the decoder said.
fn push(ex: &mut Extractor, t: f64, pict_type: char, key: bool, yuv: &[u8]) {
    ex.push(t, 0, yuv);
    if let Some(s) = ex.stats.last_mut() {
        s.intra = pict_type == 'I';
        s.key = key && pict_type == 'I';
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
    let split = Split::new(film, spec, min_step_s, split_at);
    std::thread::scope(|sc| {
        let (halves_tx, halves_rx) = mpsc::channel::<Vec<usize>>();
        let (prog_tx, prog_rx) = mpsc::channel::<(usize, f64)>();
        let split = &split;
        let ticker = |segment| Ticker {
            segment,
            next: 0.0,
            tx: prog_tx.clone(),
        };
        let (tick_a, tick_b) = (ticker(0), ticker(1));
        let a = sc.spawn(move || split.first_segment(sink0, halves_tx, tick_a));
        let b = sc.spawn(move || split.second_segment(sink1, halves_rx, tick_b));
        let index = (spec.audio || spec.grid).then(|| sc.spawn(|| split.index_pass()));
        drop(prog_tx);
        forward_progress(prog_rx, duration_s, progress);
        let first = a.join().map_err(|_| AnalysisError::Ffmpeg {
            film: film.to_path_buf(),
            problem: "decoder thread panicked".into(),
        })??;
        let second = b.join().unwrap_or_default();
        let index = match index.map(|h| h.join()) {
            Some(Ok(r)) => Some(r?),
            Some(Err(_)) => None,
            None => None,
        };
        Ok(split.merge(first, second, index))
    })
}

/// Progress: film seconds covered by both segments together (the first
/// counts up to where the second starts), never going back.
fn forward_progress(
    ticks: mpsc::Receiver<(usize, f64)>,
    duration_s: f64,
    progress: &mut dyn FnMut(f64),
) {
    let (mut at, mut b_start, mut last) = ([0.0f64; 2], f64::INFINITY, 0.0f64);
    for (i, t) in ticks {
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
}

/// A segment's progress, sent once per second of film decoded.
struct Ticker {
    segment: usize,
    next: f64,
    tx: mpsc::Sender<(usize, f64)>,
}

impl Ticker {
    fn tick(&mut self, t: f64) {
        if t >= self.next {
            let _ = self.tx.send((self.segment, t));
            self.next = t + 1.0;
        }
    }
}

/// What the first segment delivered: its report, its statistics, and its
/// last pictures before the join.
struct First {
    report: PassReport,
    ex: Extractor,
    tail: VecDeque<Kept>,
}

/// What the second segment delivered: its report (`None`: it failed), its
/// statistics (`None`: the first segment never measured the frame
/// interval) and its first pictures.
#[derive(Default)]
struct Second {
    report: Option<PassReport>,
    ex: Option<Extractor>,
    head: Vec<Kept>,
}

/// A main pass split in two segments at a key frame (see the module's doc).
struct Split<'a> {
    film: &'a Path,
    /// The first segment's pass, the second's (from the split point), and
    /// the side pass that only demuxes the grid and decodes the sound.
    first: DecodeSpec,
    second: DecodeSpec,
    index: DecodeSpec,
    min_step_s: f64,
    /// Pictures kept at each side of the join: the recomputed frames look
    /// back and ahead at most this far (see `edge`).
    edge: usize,
    join: Mutex<Join>,
}

impl<'a> Split<'a> {
    fn new(film: &'a Path, spec: &DecodeSpec, min_step_s: f64, split_at: f64) -> Self {
        let segment = |seek: Option<f64>| DecodeSpec {
            // Reference-frame chains do not thread: one thread per decoder.
            threads: if spec.threads == 0 { 1 } else { spec.threads },
            audio: false,
            grid: false,
            seek,
            ..spec.clone()
        };
        Split {
            film,
            first: segment(None),
            second: segment(Some(split_at)),
            index: DecodeSpec {
                video: false,
                side: None,
                threads: 1,
                ..spec.clone()
            },
            min_step_s,
            edge: edge(&half_widths(min_step_s)),
            join: Mutex::new(Join::Unknown),
        }
    }

    /// Set the join once: the first of the second segment's first frame and
    /// the first segment's end wins.
    fn set_join(&self, j: Join) {
        if let Ok(mut g) = self.join.lock() {
            if *g == Join::Unknown {
                *g = j;
            }
        }
    }

    fn join(&self) -> Join {
        self.join.lock().map(|g| *g).unwrap_or(Join::Never)
    }

    fn extractor(&self) -> Extractor {
        Extractor::new(self.first.width, self.first.height, self.min_step_s)
    }

    /// An extractor for the second segment, with the first's dissolve widths.
    fn extractor_with(&self, halves: Vec<usize>) -> Extractor {
        let mut e = self.extractor();
        e.set_halves(halves);
        e
    }

    /// Decode from the film's start up to the join; send the dissolve
    /// widths to the second segment once measured.
    fn first_segment(
        &self,
        sink: Option<SideSinkFactory>,
        halves_tx: mpsc::Sender<Vec<usize>>,
        mut ticker: Ticker,
    ) -> Result<First, AnalysisError> {
        let mut ex = self.extractor();
        let mut halves_tx = Some(halves_tx);
        let mut tail: VecDeque<Kept> = VecDeque::new();
        let r = decode::run_pass(
            self.film,
            &self.first,
            &mut |f| {
                // The second segment's frames start at the join; past
                // it only the frame interval may still be unmeasured
                // (it is measured on the film's first frames, whichever
                // segment decodes them).
                let past = matches!(self.join(), Join::At(j) if f.t >= j - 1e-6);
                if past && halves_tx.is_none() {
                    return false;
                }
                push(&mut ex, f.t, f.pict_type, f.key, f.yuv);
                if ex.measured() {
                    if let Some(tx) = halves_tx.take() {
                        let _ = tx.send(ex.halves());
                    }
                }
                if !past {
                    tail.push_back(Kept::of(f));
                    if tail.len() > 2 * self.edge {
                        tail.pop_front();
                    }
                }
                ticker.tick(f.t);
                true
            },
            sink,
        );
        // Reached the end (too short to measure, or the second segment
        // never started): the second waits for nothing more.
        if let Some(tx) = halves_tx.take() {
            let _ = tx.send(ex.halves());
        }
        self.set_join(Join::Never);
        r.map(|report| First { report, ex, tail })
    }

    /// Decode from the split point to the film's end; the first frame is
    /// the join, unless the first segment is done already.
    fn second_segment(
        &self,
        sink: Option<SideSinkFactory>,
        halves_rx: mpsc::Receiver<Vec<usize>>,
        mut ticker: Ticker,
    ) -> Second {
        let mut ex: Option<Extractor> = None;
        let mut head: Vec<Kept> = Vec::new();
        let mut waiting: Vec<Kept> = Vec::new();
        let r = decode::run_pass(
            self.film,
            &self.second,
            &mut |f| {
                if head.is_empty() && waiting.is_empty() && ex.is_none() {
                    // The first frame of this segment is the join.
                    self.set_join(Join::At(f.t));
                    if self.join() != Join::At(f.t) {
                        return false; // the first segment is already done
                    }
                }
                let k = Kept::of(f);
                if head.len() < 2 * self.edge {
                    head.push(k.clone());
                }
                // Statistics need the measured frame interval: hold the
                // frames until the first segment has it.
                waiting.push(k);
                if ex.is_none() {
                    match halves_rx.try_recv() {
                        Ok(hv) => ex = Some(self.extractor_with(hv)),
                        Err(mpsc::TryRecvError::Empty) => {}
                        Err(_) => return false,
                    }
                }
                if let Some(e) = ex.as_mut() {
                    for k in waiting.drain(..) {
                        push(e, k.t, k.pict_type, k.key, &k.yuv);
                    }
                }
                ticker.tick(f.t);
                true
            },
            sink,
        );
        let ex = ex.or_else(|| halves_rx.recv().ok().map(|hv| self.extractor_with(hv)));
        let ex = ex.map(|mut e| {
            for k in waiting.drain(..) {
                push(&mut e, k.t, k.pict_type, k.key, &k.yuv);
            }
            e
        });
        Second {
            report: r.ok(),
            ex,
            head,
        }
    }

    /// The frame grid and the sound, from a pass that decodes no picture.
    fn index_pass(&self) -> Result<PassReport, AnalysisError> {
        // The sound is short work beside the picture: it waits for a free
        // core rather than slow the segments down.
        super::decoder::lower_priority();
        decode::run_pass(self.film, &self.index, &mut |_| true, None)
    }

    /// What one pass would have delivered, from the two segments' (stitched
    /// at the join, where the second took over) and the index pass's.
    fn merge(&self, first: First, second: Second, index: Option<PassReport>) -> Decoded {
        let First {
            report: mut rep_a,
            ex: ex_a,
            tail,
        } = first;
        let halves = ex_a.halves();
        let joined = match (self.join(), rep_a.stopped, second.report, second.ex) {
            (Join::At(j), true, Some(rep_b), Some(ex_b)) if !second.head.is_empty() => {
                Some((j, rep_b, ex_b))
            }
            _ => None,
        };
        let mut report = PassReport::default();
        // Frames around jumps from both segments.
        let mut near = std::mem::take(&mut rep_a.near_cuts);
        let (stats, join) = match joined {
            Some((j, mut rep_b, ex_b)) => {
                let a_stats: Vec<FrameStats> = ex_a.stats.into_iter().filter(|s| s.t < j).collect();
                let tail: Vec<&Kept> = tail.iter().filter(|k| k.t < j).collect();
                let (w, h) = (self.first.width, self.first.height);
                let st = stitch(
                    a_stats,
                    &tail,
                    &ex_b.stats,
                    &second.head,
                    &halves,
                    (w, h),
                    self.min_step_s,
                );
                let errors: Vec<f64> = rep_a
                    .error_times
                    .iter()
                    .copied()
                    .filter(|&e| e < j)
                    .chain(rep_b.error_times.iter().copied().filter(|&e| e >= j))
                    .collect();
                report.decode_errors = errors.len();
                report.error_times = errors;
                report.stderr_tail = rep_b.stderr_tail;
                near.append(&mut rep_b.near_cuts);
                (st, Some(j))
            }
            None => {
                report.decode_errors = rep_a.decode_errors;
                report.error_times = rep_a.error_times;
                report.stderr_tail = rep_a.stderr_tail;
                (ex_a.stats, None)
            }
        };
        report.frames = stats.len();
        if let Some(ix) = index {
            // Sound errors count, but have no picture time to mark.
            report.decode_errors += ix.decode_errors;
            report.audio_energy = ix.audio_energy;
            report.grid = ix.grid;
            report.keyframes = ix.keyframes;
        }
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        near.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-6);
        report.near_cuts = near;
        Decoded {
            stats,
            halves,
            report,
            join,
        }
    }
}

/// How many frames a frame's statistics depend on, on each side: the
/// comparisons that look back (`BACK` frames of `diff`, half a dissolve
/// window) and the dissolve window that looks ahead.
fn edge(halves: &[usize]) -> usize {
    halves.iter().max().copied().unwrap_or(2) + BACK + 2
}

/// The statistics one pass would give, from the two segments': the first
/// segment's frames before the join (`a`, its last pictures in `tail`), the
/// second's from it (`b`, its first pictures in `head`). Frames near the
/// join saw only one side of it in their segment; they are recomputed from
/// the kept pictures on both sides, each with enough frames before it to
/// look back on and after it to look ahead to.
fn stitch(
    mut a: Vec<FrameStats>,
    tail: &[&Kept],
    b: &[FrameStats],
    head: &[Kept],
    halves: &[usize],
    (w, h): (u32, u32),
    min_step_s: f64,
) -> Vec<FrameStats> {
    let e = edge(halves);
    // The recomputation starts at the film's start when the tail is the
    // whole first segment: then all of it is exact, and like one pass it
    // measures the frame interval on the film's first frames itself.
    let from_start = tail.len() == a.len();
    let mut ex = Extractor::new(w, h, min_step_s);
    if !from_start {
        ex.set_halves(halves.to_vec());
    }
    for k in tail.iter().copied().chain(head) {
        push(&mut ex, k.t, k.pict_type, k.key, &k.yuv);
    }
    let re = ex.stats;
    // Recomputed frames that are exact: `e` frames after the start of the
    // recomputation (unless that is the film's start), and `e` before its
    // end (unless that is the film's end: the head is all of the second
    // segment).
    let lo = if from_start { 0 } else { e.min(re.len()) };
    let hi = if head.len() == b.len() {
        re.len()
    } else {
        re.len().saturating_sub(e)
    };
    // The first segment's frames up to the recomputed ones, those, then
    // the second segment's from after them.
    let first_re = a.len() - tail.len() + lo;
    a.truncate(first_re);
    a.extend(re[lo..hi.max(lo)].iter().cloned());
    let b_from = (hi.max(lo)).saturating_sub(tail.len());
    a.extend(b.iter().skip(b_from).cloned());
    a
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
            push(&mut ex, f.t, f.pict_type, f.key, f.yuv);
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
        // A 5.5 s film with a key frame at 2.9 s is split there; none that
        // helps: only near the start, or the film too short.
        assert!((split_point(5.5, &[-0.08, 2.92]).unwrap() - (2.92 + 5.5) / 2.0).abs() < 1e-9);
        assert_eq!(split_point(60.0, &[0.0, 5.0]), None);
        assert_eq!(split_point(3.5, &[0.0, 1.75]), None);
        // No index: a little before the middle.
        assert_eq!(split_point(40.0, &[]), Some(19.0));
    }
}
