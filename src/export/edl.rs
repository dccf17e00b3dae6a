//! CMX3600 EDL: one event per picture item, record timecodes contiguous,
//! source timecodes the film's frames counted from 00:00:00:00 (drop-frame
//! at 29.97 and 59.94). A crossfade is a dissolve event that starts where
//! the overlap starts; a fade through black or white is a dissolve to the
//! black reel and one from it. Reels are at most eight characters, each
//! event names its file with `* FROM CLIP NAME` and `* SOURCE FILE`. The
//! music follows as an A2 event of the auxiliary reel.

use super::timecode::format as tc;
use super::timeline::{AudioTrack, Entry, Rate, Source, Timeline, VideoItem};
use super::{ExportError, Exporter, Format};
use std::fmt::Write as _;

pub struct Edl;

/// A reel name of at most eight characters, from a file's name.
pub fn reel_name(stem: &str) -> String {
    let r: String = stem
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    if r.is_empty() {
        "FILM".into()
    } else {
        r
    }
}

/// One line of an event in the fixed columns pycmx and the NLEs read.
struct Line<'a> {
    reel: &'a str,
    chan: &'a str,
    dissolve: Option<i64>,
    src: (i64, i64),
    src_rate: Rate,
    rec: (i64, i64),
}

fn line(out: &mut String, ev: usize, l: &Line, t: &Timeline) {
    let (kind, op) = match l.dissolve {
        Some(n) => ("D", format!("{n:03}")),
        None => ("C", String::new()),
    };
    let _ = writeln!(
        out,
        "{ev:03}  {:<8} {:<4}  {kind:<4} {op:>3} {} {} {} {}",
        l.reel,
        l.chan,
        tc(l.src.0, l.src_rate),
        tc(l.src.1, l.src_rate),
        tc(t.start_tc + l.rec.0, t.rate),
        tc(t.start_tc + l.rec.1, t.rate),
    );
}

/// Where item `k`'s event starts in record frames: where its overlap
/// starts, or half the fade before the cut (the dissolve to black's start).
fn event_start(v: &VideoItem) -> i64 {
    match v.into {
        Entry::Dip { frames, .. } => v.start - frames / 2,
        _ => v.start,
    }
}

impl Edl {
    fn reel_of(&self, t: &Timeline, v: &VideoItem, film: &str) -> (String, String, Rate) {
        match &v.source {
            Source::Film { .. } => (film.to_string(), t.reference(&t.film.path), t.film_rate),
            Source::Card { still, .. } => (
                format!("CARD{:02}", v.index + 1),
                t.reference(still),
                t.rate,
            ),
        }
    }
}

impl Exporter for Edl {
    fn format(&self) -> Format {
        Format::Edl
    }

    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let mut out = String::new();
        let fcm = if t.rate.drop_frame() {
            "DROP FRAME"
        } else {
            "NON-DROP FRAME"
        };
        let _ = writeln!(out, "TITLE: {}\nFCM: {fcm}\n", t.name.replace('\n', " "));
        let film_reel = reel_name(
            &t.film
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let chan = if t.film_has_audio { "B" } else { "V" };
        let mut ev = 0;
        let n = t.video.len();
        for k in 0..n {
            let v = &t.video[k];
            let (reel, file, src_rate) = self.reel_of(t, v, &film_reel);
            let c = if matches!(v.source, Source::Film { .. }) { chan } else { "V" };
            let rec_in = v.start;
            let rec_out = t.video.get(k + 1).map_or(v.start + v.frames, event_start);
            let src_at = |rec: i64| match v.source {
                Source::Film { in_frame } => in_frame + t.film_frames(rec - v.start),
                Source::Card { .. } => rec - v.start,
            };
            ev += 1;
            match v.into {
                Entry::Cut => line(&mut out, ev, &Line { reel: &reel, chan: c, dissolve: None, src: (src_at(rec_in), src_at(rec_out)), src_rate, rec: (rec_in, rec_out) }, t),
                Entry::Dissolve { frames } => {
                    let p = &t.video[k - 1];
                    let (preel, _, prate) = self.reel_of(t, p, &film_reel);
                    let pc = if matches!(p.source, Source::Film { .. }) { chan } else { "V" };
                    let ps = match p.source {
                        Source::Film { in_frame } => in_frame + t.film_frames(rec_in - p.start),
                        Source::Card { .. } => rec_in - p.start,
                    };
                    line(&mut out, ev, &Line { reel: &preel, chan: pc, dissolve: None, src: (ps, ps), src_rate: prate, rec: (rec_in, rec_in) }, t);
                    line(&mut out, ev, &Line { reel: &reel, chan: c, dissolve: Some(frames), src: (src_at(rec_in), src_at(rec_out)), src_rate, rec: (rec_in, rec_out) }, t);
                }
                Entry::Dip { frames, white } => {
                    // Out of the item before into black, then from black into this one.
                    let half = frames / 2;
                    let p = &t.video[k - 1];
                    let (preel, _, prate) = self.reel_of(t, p, &film_reel);
                    let pc = if matches!(p.source, Source::Film { .. }) { chan } else { "V" };
                    let from = rec_in - half;
                    let ps = match p.source {
                        Source::Film { in_frame } => in_frame + t.film_frames(from - p.start),
                        Source::Card { .. } => from - p.start,
                    };
                    line(&mut out, ev, &Line { reel: &preel, chan: pc, dissolve: None, src: (ps, ps), src_rate: prate, rec: (from, from) }, t);
                    line(&mut out, ev, &Line { reel: "BL", chan: "V", dissolve: Some(half), src: (0, half), src_rate: t.rate, rec: (from, rec_in) }, t);
                    if white {
                        out.push_str("* FADE THROUGH WHITE (the black reel stands for white)\n");
                    }
                    ev += 1;
                    line(&mut out, ev, &Line { reel: "BL", chan: "V", dissolve: None, src: (0, 0), src_rate: t.rate, rec: (rec_in, rec_in) }, t);
                    line(&mut out, ev, &Line { reel: &reel, chan: c, dissolve: Some(frames - half), src: (src_at(rec_in), src_at(rec_out)), src_rate, rec: (rec_in, rec_out) }, t);
                }
            }
            let name = std::path::Path::new(&file)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = writeln!(out, "* FROM CLIP NAME: {name}\n* SOURCE FILE: {file}\n* COMMENT: {} | {}", v.name, v.note.replace('\n', " "));
            out.push('\n');
        }
        for a in t.audio.iter().filter(|a| a.track == AudioTrack::Music) {
            ev += 1;
            let dur = (a.frames as f64 * a.media_rate.fps() / t.rate.fps()).round() as i64;
            line(&mut out, ev, &Line { reel: "AX", chan: "A2", dissolve: None, src: (a.source_in, a.source_in + dur), src_rate: a.media_rate, rec: (a.start, a.start + a.frames) }, t);
            let file = t.reference(&a.media);
            let name = a.media.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(out, "* FROM CLIP NAME: {name}\n* SOURCE FILE: {file}\n* COMMENT: music at {:+.1} dB\n", a.gain_db);
        }
        Ok(out)
    }
}
