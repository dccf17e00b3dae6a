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
#[derive(Clone, Copy)]
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

/// The name an event's remarks give a file.
fn file_name(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The remarks closing an event: the clip names (a dissolve's from and to),
/// the file and the note. pycmx (and the NLEs) read the names from them,
/// and pycmx drops an event line that no statement follows.
fn remarks(out: &mut String, from: Option<&str>, to: &str, file: Option<&str>, comment: &str) {
    match from {
        Some(f) => {
            let _ = writeln!(out, "* FROM CLIP NAME: {f}\n* TO CLIP NAME: {to}");
        }
        None => {
            let _ = writeln!(out, "* FROM CLIP NAME: {to}");
        }
    }
    if let Some(file) = file {
        let _ = writeln!(out, "* SOURCE FILE: {file}");
    }
    let _ = writeln!(out, "* COMMENT: {}\n", comment.replace('\n', " "));
}

/// An item as the EDL names it: reel, file, channels, the rate of its source.
struct Reel {
    reel: String,
    file: String,
    chan: &'static str,
    rate: Rate,
}

impl Reel {
    fn of(t: &Timeline, v: &VideoItem, film: &str) -> Reel {
        match &v.source {
            Source::Film { .. } => Reel {
                reel: film.to_string(),
                file: t.reference(&t.film.path),
                chan: if t.film_has_audio { "B" } else { "V" },
                rate: t.film_rate,
            },
            Source::Card { still, .. } => Reel {
                reel: format!("CARD{:02}", v.index + 1),
                file: t.reference(still),
                chan: "V",
                rate: t.rate,
            },
        }
    }
}

/// The source frame of item `v` at trailer frame `rec`.
fn src_at(t: &Timeline, v: &VideoItem, rec: i64) -> i64 {
    match v.source {
        Source::Film { in_frame } => in_frame + t.film_frames(rec - v.start),
        Source::Card { .. } => rec - v.start,
    }
}

/// The events of item `k`; returns the next event number.
fn item_events(out: &mut String, t: &Timeline, k: usize, film: &str, mut ev: usize) -> usize {
    let v = &t.video[k];
    let r = Reel::of(t, v, film);
    let rec = (
        v.start,
        t.video.get(k + 1).map_or(v.start + v.frames, event_start),
    );
    let this = Line {
        reel: &r.reel,
        chan: r.chan,
        dissolve: None,
        src: (src_at(t, v, rec.0), src_at(t, v, rec.1)),
        src_rate: r.rate,
        rec,
    };
    let note = format!("{} | {}", v.name, v.note);
    let name = file_name(&r.file);
    ev += 1;
    match v.into {
        Entry::Cut => {
            line(out, ev, &this, t);
            remarks(out, None, &name, Some(&r.file), &note);
        }
        Entry::Dissolve { frames } => {
            let p = &t.video[k - 1];
            let pr = Reel::of(t, p, film);
            let ps = src_at(t, p, v.start);
            line(
                out,
                ev,
                &Line {
                    reel: &pr.reel,
                    chan: pr.chan,
                    dissolve: None,
                    src: (ps, ps),
                    src_rate: pr.rate,
                    rec: (v.start, v.start),
                },
                t,
            );
            line(
                out,
                ev,
                &Line {
                    dissolve: Some(frames),
                    ..this
                },
                t,
            );
            remarks(out, Some(&file_name(&pr.file)), &name, Some(&r.file), &note);
        }
        Entry::Dip { frames, white } => {
            // Out of the item before into black, then from black into this one.
            let half = frames / 2;
            let p = &t.video[k - 1];
            let pr = Reel::of(t, p, film);
            let from = v.start - half;
            let ps = src_at(t, p, from);
            line(
                out,
                ev,
                &Line {
                    reel: &pr.reel,
                    chan: pr.chan,
                    dissolve: None,
                    src: (ps, ps),
                    src_rate: pr.rate,
                    rec: (from, from),
                },
                t,
            );
            line(
                out,
                ev,
                &Line {
                    reel: "BL",
                    chan: "V",
                    dissolve: Some(half),
                    src: (0, half),
                    src_rate: t.rate,
                    rec: (from, v.start),
                },
                t,
            );
            let through = if white {
                "fade through white (the black reel stands for white)"
            } else {
                "fade to black"
            };
            remarks(out, Some(&file_name(&pr.file)), "BLACK", None, through);
            ev += 1;
            line(
                out,
                ev,
                &Line {
                    reel: "BL",
                    chan: "V",
                    dissolve: None,
                    src: (0, 0),
                    src_rate: t.rate,
                    rec: (v.start, v.start),
                },
                t,
            );
            line(
                out,
                ev,
                &Line {
                    dissolve: Some(frames - half),
                    ..this
                },
                t,
            );
            remarks(out, Some("BLACK"), &name, Some(&r.file), &note);
        }
    }
    ev
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
        let mut ev = 0;
        for k in 0..t.video.len() {
            ev = item_events(&mut out, t, k, &film_reel, ev);
        }
        for a in t.audio.iter().filter(|a| a.track == AudioTrack::Music) {
            ev += 1;
            let dur = (a.frames as f64 * a.media_rate.fps() / t.rate.fps()).round() as i64;
            line(
                &mut out,
                ev,
                &Line {
                    reel: "AX",
                    chan: "A2",
                    dissolve: None,
                    src: (a.source_in, a.source_in + dur),
                    src_rate: a.media_rate,
                    rec: (a.start, a.start + a.frames),
                },
                t,
            );
            let file = t.reference(&a.media);
            remarks(
                &mut out,
                None,
                &file_name(&file),
                Some(&file),
                &format!("music at {:+.1} dB", a.gain_db),
            );
        }
        Ok(out)
    }
}
