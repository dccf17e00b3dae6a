//! Captions of the trailer's own dialogue and voice-over, re-timed to
//! trailer time: each subtitle cue heard under a clip, cut at the clip's
//! boundaries, and each voice-over line; none over a card or the silence
//! beat. Written as SubRip (SRT) or WebVTT.

use super::timeline::{Caption, Source, Timeline};
use super::{ExportError, Exporter, Format};
use crate::manifest::{Act, Manifest, MUTED_DB};

/// Shorter pieces than this (frames) are dropped: a caption no one can read.
const MIN_FRAMES: i64 = 6;

/// The captions of `t`, from the film's spoken cues (film seconds).
pub fn lay(m: &Manifest, t: &Timeline, cues: &[(f64, f64, String)]) -> Vec<Caption> {
    let mut out = Vec::new();
    let film_fps = t.film_rate.fps();
    let to_trailer = |film_frames: f64| film_frames * t.rate.fps() / film_fps;
    for (k, v) in t.video.iter().enumerate() {
        let Source::Film { in_frame } = v.source else {
            continue;
        };
        if v.act == Act::SilenceBeat || v.gain_db <= MUTED_DB {
            continue;
        }
        let lo = v.cut();
        let hi = t.video.get(k + 1).map_or(v.start + v.frames, |n| n.cut());
        for (a, b, text) in cues {
            let s = v.start as f64 + to_trailer(a * film_fps - in_frame as f64);
            let e = v.start as f64 + to_trailer(b * film_fps - in_frame as f64);
            let (s, e) = ((s.round() as i64).max(lo), (e.round() as i64).min(hi));
            if e - s >= MIN_FRAMES {
                out.push(Caption {
                    start: s,
                    end: e,
                    text: text.clone(),
                });
            }
        }
    }
    // Where no caption may stand: the cards and the silence beat.
    let blocked: Vec<(i64, i64)> = t
        .video
        .iter()
        .enumerate()
        .filter(|(_, v)| matches!(v.source, Source::Card { .. }) || v.act == Act::SilenceBeat)
        .map(|(k, v)| {
            let end = t.video.get(k + 1).map_or(v.start + v.frames, |n| n.cut());
            (v.cut(), end)
        })
        .collect();
    for vo in &m.voice_over {
        let s = t.rate.frames_of(vo.at_s);
        let e = (s + t.rate.frames_of(vo.source_out_s - vo.source_in_s)).min(t.frames);
        out.extend(outside(s, e, &blocked).into_iter().map(|(s, e)| Caption {
            start: s,
            end: e,
            text: vo.text.clone(),
        }));
    }
    out.retain(|c| c.end - c.start >= MIN_FRAMES);
    out.sort_by_key(|c| (c.start, c.end));
    out
}

/// The parts of `[s, e)` outside every blocked span.
fn outside(s: i64, e: i64, blocked: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut parts = vec![(s, e)];
    for &(bs, be) in blocked {
        parts = parts
            .into_iter()
            .flat_map(|(a, b)| {
                if be <= a || bs >= b {
                    vec![(a, b)]
                } else {
                    [(a, bs), (be, b)]
                        .into_iter()
                        .filter(|(x, y)| y > x)
                        .collect()
                }
            })
            .collect();
    }
    parts
}

/// `frames` of `t`'s rate as milliseconds.
fn millis(t: &Timeline, frames: i64) -> i64 {
    (frames as f64 * 1000.0 / t.rate.fps()).round() as i64
}

fn clock(ms: i64, sep: char) -> String {
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{f:03}")
}

/// A cue's text with no blank line in it (a blank line ends an SRT cue).
fn one_block(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Srt;
pub struct Vtt;

impl Exporter for Srt {
    fn format(&self) -> Format {
        Format::Srt
    }
    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let mut s = String::new();
        for (i, c) in t.captions.iter().enumerate() {
            s.push_str(&format!(
                "{}\n{} --> {}\n{}\n\n",
                i + 1,
                clock(millis(t, c.start), ','),
                clock(millis(t, c.end), ','),
                one_block(&c.text)
            ));
        }
        Ok(s)
    }
}

impl Exporter for Vtt {
    fn format(&self) -> Format {
        Format::Vtt
    }
    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let mut s = String::from("WEBVTT\n\n");
        for c in &t.captions {
            let text = one_block(&c.text)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            s.push_str(&format!(
                "{} --> {}\n{text}\n\n",
                clock(millis(t, c.start), '.'),
                clock(millis(t, c.end), '.'),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_spans_cut_a_line_in_pieces() {
        assert_eq!(outside(0, 100, &[(40, 60)]), vec![(0, 40), (60, 100)]);
        assert_eq!(outside(0, 100, &[(0, 100)]), vec![]);
        assert_eq!(outside(10, 20, &[(30, 40)]), vec![(10, 20)]);
    }

    #[test]
    fn clocks_and_text() {
        assert_eq!(clock(3_723_004, ','), "01:02:03,004");
        assert_eq!(one_block("a\n\n b \n"), "a\nb");
    }
}
