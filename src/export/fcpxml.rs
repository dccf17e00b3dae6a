//! FCPXML 1.10 (Resolve 18.5 rejects 1.11): the primary storyline holds V1
//! (the film's clips as asset-clips, whose own sound is A1, and the card
//! stills as video elements) with each crossfade a Cross Dissolve and each
//! fade through black a Fade To Color, centred on the cut. The music,
//! effects, voice-over and sound tails are clips connected below it, the
//! markers sit on the clip under them. Every time is a whole number of
//! frames written as a fraction of seconds.

use super::mlt::xml_escape as esc;
use super::timeline::{AudioItem, AudioTrack, Entry, Piece, Rate, Source, Timeline};
use super::{ExportError, Exporter, Format};
use std::fmt::Write as _;

pub struct Fcpxml;

/// `frames` at `rate` as FCPXML's rational seconds: `1001/24000s`, `3s`.
pub fn time(frames: i64, rate: Rate) -> String {
    let (n, d) = (frames * rate.den as i64, rate.num as i64);
    if n % d == 0 {
        format!("{}s", n / d)
    } else {
        format!("{n}/{d}s")
    }
}

const CROSS_DISSOLVE: &str = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265";
const FADE_TO_COLOR: &str = "FxPlug:F779C565-486D-4633-8035-0374B4DB8F5C";

/// The resources' ids: the formats, the film, the stills, the sounds, the effects.
struct Ids {
    film: String,
    stills: Vec<(std::path::PathBuf, String)>,
    sounds: Vec<(std::path::PathBuf, String)>,
}

fn resources(out: &mut String, t: &Timeline) -> Ids {
    let cs = "1-1-1 (Rec. 709)";
    let _ = writeln!(
        out,
        "    <format id=\"r1\" frameDuration=\"{}\" width=\"{}\" height=\"{}\" colorSpace=\"{cs}\"/>",
        time(1, t.rate),
        t.width,
        t.height
    );
    let film_format = if t.film_rate == t.rate {
        "r1"
    } else {
        let _ = writeln!(
            out,
            "    <format id=\"r1f\" frameDuration=\"{}\" width=\"{}\" height=\"{}\" colorSpace=\"{cs}\"/>",
            time(1, t.film_rate),
            t.width,
            t.height
        );
        "r1f"
    };
    let _ = writeln!(
        out,
        "    <format id=\"r1s\" name=\"FFVideoFormatRateUndefined\" width=\"{}\" height=\"{}\" colorSpace=\"{cs}\"/>",
        t.width, t.height
    );
    let _ = writeln!(out, "    <effect id=\"r2\" name=\"Cross Dissolve\" uid=\"{CROSS_DISSOLVE}\"/>\n    <effect id=\"r3\" name=\"Fade To Color\" uid=\"{FADE_TO_COLOR}\"/>\n    <effect id=\"r4\" name=\"Audio Crossfade\" uid=\"FFAudioTransition\"/>");
    let name = |p: &std::path::Path| {
        esc(&p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default())
    };
    let audio = if t.film_has_audio {
        " hasAudio=\"1\" audioSources=\"1\" audioChannels=\"2\" audioRate=\"48000\""
    } else {
        ""
    };
    let film_len = t.film_length().unwrap_or(0);
    let _ = writeln!(
        out,
        "    <asset id=\"r5\" name=\"{}\" start=\"0s\" duration=\"{}\" hasVideo=\"1\" format=\"{film_format}\" videoSources=\"1\"{audio}>\n      <media-rep kind=\"original-media\" src=\"{}\"/>\n    </asset>",
        name(&t.film.path),
        time(film_len, t.film_rate),
        esc(&t.url(&t.film.path))
    );
    let mut next = 6;
    let mut stills = Vec::new();
    for v in &t.video {
        if let Source::Card { still, .. } = &v.source {
            let id = format!("r{next}");
            next += 1;
            let _ = writeln!(
                out,
                "    <asset id=\"{id}\" name=\"{}\" start=\"0s\" duration=\"0s\" hasVideo=\"1\" format=\"r1s\" videoSources=\"1\">\n      <media-rep kind=\"original-media\" src=\"{}\"/>\n    </asset>",
                name(still),
                esc(&t.url(still))
            );
            stills.push((still.clone(), id));
        }
    }
    let mut sounds = Vec::new();
    for s in &t.sounds {
        if sounds.iter().any(|(p, _)| p == &s.path) {
            continue;
        }
        let id = format!("r{next}");
        next += 1;
        let len = s
            .duration_s
            .map_or(0, |d| (d * t.rate.fps()).floor() as i64);
        let _ = writeln!(
            out,
            "    <asset id=\"{id}\" name=\"{}\" start=\"0s\" duration=\"{}\" hasAudio=\"1\" audioSources=\"1\" audioChannels=\"2\" audioRate=\"48000\">\n      <media-rep kind=\"original-media\" src=\"{}\"/>\n    </asset>",
            name(&s.path),
            time(len, t.rate),
            esc(&t.url(&s.path))
        );
        sounds.push((s.path.clone(), id));
    }
    Ids {
        film: "r5".into(),
        stills,
        sounds,
    }
}

/// The time inside piece `p`'s own clock at trailer frame `rec`.
fn local(t: &Timeline, p: &Piece, rec: i64) -> String {
    match p.item.source {
        Source::Film { .. } if t.film_rate == t.rate => time(p.source_at + rec - p.from, t.rate),
        Source::Film { .. } => {
            let s = p.source_at as f64 / t.film_rate.fps() + (rec - p.from) as f64 / t.rate.fps();
            time(t.rate.frames_of(s), t.rate)
        }
        Source::Card { .. } => time(rec - p.from, t.rate),
    }
}

/// The piece whose span holds trailer frame `rec` (the last one past the end).
fn parent_of(pieces: &[Piece], rec: i64) -> usize {
    pieces
        .iter()
        .position(|p| p.from <= rec && rec < p.to)
        .unwrap_or(pieces.len().saturating_sub(1))
}

fn gain(g: f64) -> String {
    if g == 0.0 {
        String::new()
    } else {
        format!("\n          <adjust-volume amount=\"{g:.2}dB\"/>")
    }
}

/// A connected sound: `lane` below the storyline, placed in the parent's clock.
fn connected(t: &Timeline, ids: &Ids, p: &Piece, a: &AudioItem, lane: i32) -> String {
    let (r, role, src) = match a.track {
        AudioTrack::Film | AudioTrack::VoiceOver | AudioTrack::Tails => {
            (ids.film.as_str(), "dialogue", " srcEnable=\"audio\"")
        }
        AudioTrack::Music => (
            ids.sounds
                .iter()
                .find(|(s, _)| s == &a.media)
                .map_or("", |x| x.1.as_str()),
            "music",
            "",
        ),
        AudioTrack::Effects => (
            ids.sounds
                .iter()
                .find(|(s, _)| s == &a.media)
                .map_or("", |x| x.1.as_str()),
            "effects",
            "",
        ),
    };
    let start = if a.media_rate == t.rate {
        time(a.source_in, t.rate)
    } else {
        let s = a.source_in as f64 / a.media_rate.fps();
        time(t.rate.frames_of(s), t.rate)
    };
    format!(
        "        <asset-clip ref=\"{r}\" lane=\"{lane}\" offset=\"{}\" name=\"{}\" start=\"{start}\" duration=\"{}\" audioRole=\"{role}\"{src}>{}\n        </asset-clip>\n",
        local(t, p, a.start),
        esc(&a.name),
        time(a.frames, t.rate),
        gain(a.gain_db)
    )
}

impl Exporter for Fcpxml {
    fn format(&self) -> Format {
        Format::Fcpxml
    }

    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n<fcpxml version=\"1.10\">\n  <resources>\n",
        );
        let ids = resources(&mut out, t);
        out.push_str("  </resources>\n");
        let pieces = t.pieces();
        // What hangs under each piece: connected sounds, then markers.
        let mut hung: Vec<(String, String)> = vec![Default::default(); pieces.len()];
        let mut lane = 0;
        for track in &AudioTrack::ALL[1..] {
            for l in t.audio_lanes(*track) {
                lane -= 1;
                for a in l {
                    let k = parent_of(&pieces, a.start);
                    hung[k].0.push_str(&connected(t, &ids, &pieces[k], a, lane));
                }
            }
        }
        for m in &t.markers {
            let k = parent_of(&pieces, m.frame);
            let _ = writeln!(
                hung[k].1,
                "        <marker start=\"{}\" duration=\"{}\" value=\"{}\" note=\"{}\"/>",
                local(t, &pieces[k], m.frame),
                time(1, t.rate),
                esc(&m.name),
                esc(&m.note)
            );
        }
        let tc_format = if t.rate.drop_frame() { "DF" } else { "NDF" };
        let _ = writeln!(
            out,
            "  <library>\n    <event name=\"CineCut\">\n      <project name=\"{}\">\n        <sequence format=\"r1\" duration=\"{}\" tcStart=\"{}\" tcFormat=\"{tc_format}\" audioLayout=\"stereo\" audioRate=\"48k\">\n          <spine>",
            esc(&t.name),
            time(t.frames, t.rate),
            time(t.start_tc, t.rate)
        );
        for (k, p) in pieces.iter().enumerate() {
            let e = p.item.into;
            let (before, frames) = (e.before_cut(), e.frames());
            match e {
                Entry::Cut => {}
                Entry::Dissolve { .. } => {
                    let _ = writeln!(out, "      <transition name=\"Cross Dissolve\" offset=\"{}\" duration=\"{}\">\n        <filter-video ref=\"r2\" name=\"Cross Dissolve\"/>\n        <filter-audio ref=\"r4\" name=\"Audio Crossfade\"/>\n      </transition>", time(p.from - before, t.rate), time(frames, t.rate));
                }
                Entry::Dip { .. } => {
                    let _ = writeln!(out, "      <transition name=\"Fade To Color\" offset=\"{}\" duration=\"{}\">\n        <filter-video ref=\"r3\" name=\"Fade To Color\"/>\n      </transition>", time(p.from - before, t.rate), time(frames, t.rate));
                }
            }
            let v = p.item;
            let dur = time(p.to - p.from, t.rate);
            let (open, close) = match &v.source {
                Source::Film { .. } => (
                    format!(
                        "      <asset-clip ref=\"{}\" offset=\"{}\" name=\"{}\" start=\"{}\" duration=\"{dur}\" tcFormat=\"{tc_format}\">\n        <note>{}</note>{}",
                        ids.film,
                        time(p.from, t.rate),
                        esc(&v.name),
                        local(t, p, p.from),
                        esc(&v.note),
                        gain(v.gain_db).replace("\n          ", "\n        ")
                    ),
                    "      </asset-clip>",
                ),
                Source::Card { still, .. } => (
                    format!(
                        "      <video ref=\"{}\" offset=\"{}\" name=\"{}\" start=\"0s\" duration=\"{dur}\">\n        <note>{}</note>",
                        ids.stills.iter().find(|(s, _)| s == still).map_or("", |x| x.1.as_str()),
                        time(p.from, t.rate),
                        esc(&v.name),
                        esc(&v.note)
                    ),
                    "      </video>",
                ),
            };
            let _ = writeln!(out, "{open}\n{}{}{close}", hung[k].0, hung[k].1);
        }
        out.push_str("          </spine>\n        </sequence>\n      </project>\n    </event>\n  </library>\n</fcpxml>\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_whole_frames_as_fractions() {
        let ntsc = Rate {
            num: 24000,
            den: 1001,
        };
        assert_eq!(time(1, ntsc), "1001/24000s");
        assert_eq!(time(24, Rate { num: 24, den: 1 }), "1s");
        assert_eq!(time(36, Rate { num: 24, den: 1 }), "36/24s");
    }
}
