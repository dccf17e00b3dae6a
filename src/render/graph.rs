//! The filtergraph both passes share: one input per clip, one chain per
//! timeline item (its picture in the picture pass, its sound in the sound
//! pass, with the fades of its transitions), and the join of the items
//! (runs of plain cuts through one concat, crossfades through xfade or
//! acrossfade).

use super::{num, picture, sound};
use crate::manifest::{Clip, Item, Manifest, SOUND_CUT_FADE_S};
use crate::media::process::file_arg;
use crate::vibes::Transition;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

/// The sound pass builds the audio graph, the picture pass the video graph.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Pass {
    Sound,
    Picture,
}

/// The inputs (their arguments, in order) and the filter chains of one pass.
pub(super) struct Graph {
    pub inputs: Vec<OsString>,
    pub chains: Vec<String>,
    n_inputs: usize,
}

impl Graph {
    fn new() -> Graph {
        Graph {
            inputs: Vec::new(),
            chains: Vec::new(),
            n_inputs: 0,
        }
    }

    /// Adds an input given by its arguments; returns its index.
    pub fn input(&mut self, args: Vec<OsString>) -> usize {
        self.inputs.extend(args);
        self.n_inputs += 1;
        self.n_inputs - 1
    }
}

/// One timeline item as a pass lays it: its index, its length in frames
/// and seconds, and its fades.
pub(super) struct Slot {
    pub i: usize,
    pub frames: u64,
    pub len_s: f64,
    /// Picture fades through black or white (filter text, each after a comma).
    pub video_fades: String,
    /// The sound's fade in and out (filter text after a comma).
    pub audio_fades: String,
}

fn fade_color(t: Transition) -> Option<&'static str> {
    match t {
        Transition::FadeToBlack => Some("black"),
        Transition::FadeToWhite => Some("white"),
        _ => None,
    }
}

impl Slot {
    /// Item `i` of `m`, `frames` long. Every item's sound fades in and out
    /// briefly so no cut clicks; a fade through black or white fades the
    /// sound with the picture. The fade out at an item's end belongs to
    /// the next item's transition.
    fn new(m: &Manifest, i: usize, frames: u64) -> Slot {
        let len = frames as f64 / m.render.fps;
        let (t_in, d_in) = m.timeline[i].transition();
        let next = m.timeline.get(i + 1).map(|x| x.transition());
        let mut video_fades = String::new();
        let mut a_in = 0.02;
        let mut a_out = (len - SOUND_CUT_FADE_S, SOUND_CUT_FADE_S);
        if let Some(c) = fade_color(t_in).filter(|_| i > 0 && d_in > 0.0) {
            let _ = write!(
                video_fades,
                ",fade=t=in:st=0:d={}:color={c}",
                num(d_in / 2.0)
            );
            a_in = d_in / 2.0;
        }
        if let Some((t, d)) = next.filter(|(_, d)| *d > 0.0) {
            if let Some(c) = fade_color(t) {
                let st = (len - d / 2.0).max(0.0);
                let _ = write!(
                    video_fades,
                    ",fade=t=out:st={}:d={}:color={c}",
                    num(st),
                    num(d / 2.0)
                );
                a_out = (st, d / 2.0);
            }
        }
        let audio_fades = format!(
            ",afade=t=in:d={},afade=t=out:st={}:d={}",
            num(a_in),
            num(a_out.0.max(0.0)),
            num(a_out.1)
        );
        Slot {
            i,
            frames,
            len_s: len,
            video_fades,
            audio_fades,
        }
    }
}

/// How a clip's input seeks: the `-ss` arguments, and for a clip decoded
/// from the decoder's key frame before it (`Clip::decode_from_s`), the seconds decoded
/// before the in-point and the filter that drops them.
///
/// ffmpeg's accurate seek starts decoding at the key frame its container
/// index lists before the in-point; in Big Buck Bunny's MP4 that is 0.5–5 s
/// before most clips, because the I-frames at its cuts are not indexed. With
/// `-seek2any` the demuxer lands on the sample at the seek time itself: a
/// quarter frame past the decoder's own key frame, it lands on that intra
/// frame, decoding starts cleanly there, and a trim drops the frames up to
/// the in-point. The sound pass seeks plainly (audio seeks are cheap).
pub fn clip_seek(c: &Clip, film_fps: f64, video: bool) -> (Vec<OsString>, Option<(f64, String)>) {
    let quarter = 0.25 / film_fps.max(1.0);
    match c.decode_from_s {
        Some(k) if video && k + quarter <= c.source_in_s => {
            let ss = k + quarter;
            let lead = c.source_in_s - ss;
            (
                vec!["-seek2any".into(), "1".into(), "-ss".into(), num(ss).into()],
                // The frame at the in-point itself is kept whatever the
                // rounding of the two times (frames are far more than 1e-4 s
                // apart).
                Some((
                    lead,
                    format!(
                        "trim=start={},setpts=PTS-STARTPTS,",
                        num((lead - 1e-4).max(0.0))
                    ),
                )),
            )
        }
        _ => (vec!["-ss".into(), num(c.source_in_s).into()], None),
    }
}

/// Adds clip `c`'s input, cut from the film for `len_s` (plus a second of
/// margin); returns the input's index and the filter that drops what the
/// seek decodes before the in-point (see [`clip_seek`]). Each pass demuxes
/// only the streams it decodes.
pub(super) fn clip_input(
    g: &mut Graph,
    c: &Clip,
    film_fps: f64,
    len_s: f64,
    film_arg: &OsString,
    pass: Pass,
) -> (usize, String) {
    let with_video = pass == Pass::Picture;
    let (seek, lead) = clip_seek(c, film_fps, with_video);
    let mut args: Vec<OsString> = Vec::new();
    if with_video {
        // One decoding thread per clip: the clips are decoded one after
        // another, so frame threads only add hand-over work (1.5 CPU-s on
        // an 85 s BBB trailer) while x264 has the other cores.
        args.extend(["-threads".into(), "1".into(), "-an".into()]);
    } else {
        args.push("-vn".into());
    }
    args.extend(seek);
    args.extend([
        "-t".into(),
        num(len_s + lead.as_ref().map_or(0.0, |l| l.0) + 1.0).into(),
        "-i".into(),
        film_arg.clone(),
    ]);
    (g.input(args), lead.map(|l| l.1).unwrap_or_default())
}

/// Builds the inputs and the filtergraph of one pass; returns them and the
/// label of the joined stream.
pub(super) fn build(m: &Manifest, film: &Path, font: Option<&Path>, pass: Pass) -> (Graph, String) {
    let mut g = Graph::new();
    let frames = m.item_frames();
    let film_arg = file_arg(film);
    for (i, item) in m.timeline.iter().enumerate() {
        let slot = Slot::new(m, i, frames[i].0);
        match (item, pass) {
            (Item::Clip(c), Pass::Picture) => picture::lay_clip(&mut g, m, c, &slot, &film_arg),
            (Item::Clip(c), Pass::Sound) => sound::lay_clip(&mut g, m, c, &slot, &film_arg),
            (Item::Card(c), Pass::Picture) => picture::lay_card(&mut g, m, c, &slot, font),
            (Item::Card(_), Pass::Sound) => sound::lay_card(&mut g, &slot),
        }
    }
    let label = Join::new(pass, &frames).all(&mut g, m);
    (g, label)
}

/// Joins the items' streams: runs of plain cuts go through one concat; a
/// crossfade closes the run and xfades it with the next item. Item i's
/// stream is `[{kind}{i}]`.
struct Join<'a> {
    pass: Pass,
    kind: &'static str,
    /// Frames and overlap (frames) of each item.
    frames: &'a [(u64, u64)],
    /// The items of the open run of plain cuts.
    run: Vec<usize>,
    /// Label and frames of the joined head.
    head: Option<(String, u64)>,
    /// Counter for the labels of joined streams.
    joins: usize,
}

impl<'a> Join<'a> {
    fn new(pass: Pass, frames: &'a [(u64, u64)]) -> Self {
        Join {
            pass,
            kind: if pass == Pass::Picture { "v" } else { "a" },
            frames,
            run: Vec::new(),
            head: None,
            joins: 0,
        }
    }

    /// Joins every item of `m`'s timeline; returns the joined label.
    fn all(mut self, g: &mut Graph, m: &Manifest) -> String {
        for (i, item) in m.timeline.iter().enumerate() {
            let (t, _) = item.transition();
            let overlap = self.frames[i].1;
            if i > 0 && t == Transition::Crossfade && overlap > 0 {
                self.close_run(g);
                self.crossfade(g, i, overlap, m.render.fps);
            } else {
                self.run.push(i);
            }
        }
        self.close_run(g);
        self.head.expect("timeline is not empty").0
    }

    /// Concatenates the head and the open run into the new head.
    fn close_run(&mut self, g: &mut Graph) {
        let mut parts: Vec<(String, u64)> = Vec::new();
        parts.extend(self.head.take());
        let kind = self.kind;
        parts.extend(
            self.run
                .drain(..)
                .map(|i| (format!("{kind}{i}"), self.frames[i].0)),
        );
        if parts.len() == 1 {
            self.head = parts.pop();
            return;
        }
        let total: u64 = parts.iter().map(|p| p.1).sum();
        self.joins += 1;
        let out = format!("{kind}c{}", self.joins);
        let ins: String = parts.iter().map(|p| format!("[{}]", p.0)).collect();
        let with_video = self.pass == Pass::Picture;
        let (v, a) = (with_video as u8, !with_video as u8);
        g.chains
            .push(format!("{ins}concat=n={}:v={v}:a={a}[{out}]", parts.len()));
        self.head = Some((out, total));
    }

    /// Crossfades the head into item `i` over `overlap` frames.
    fn crossfade(&mut self, g: &mut Graph, i: usize, overlap: u64, fps: f64) {
        let (head, hn) = self
            .head
            .take()
            .expect("a head exists after the first item");
        self.joins += 1;
        let d = overlap as f64 / fps;
        let out = format!("{}x{}", self.kind, self.joins);
        g.chains.push(match self.pass {
            Pass::Picture => format!(
                "[{head}][v{i}]xfade=transition=fade:duration={}:offset={}[{out}]",
                num(d),
                num((hn - overlap) as f64 / fps)
            ),
            Pass::Sound => format!("[{head}][a{i}]acrossfade=d={}[{out}]", num(d)),
        });
        self.head = Some((out, hn + self.frames[i].0 - overlap));
    }
}
