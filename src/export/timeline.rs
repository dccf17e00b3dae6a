//! The one timeline every export writes from: the manifest turned into
//! tracks of items in whole frames at the film's exact rational rate, with
//! its transitions, markers, card stills and captions, laid exactly as the
//! render lays them, so the formats cannot drift apart from each other or
//! from the trailer.

use crate::manifest::{Act, Clip, Item, Manifest, MUTED_DB};
use crate::vibes::Transition;
use std::path::{Path, PathBuf};

/// A frame rate as a fraction of whole numbers: 24000/1001, not 23.976.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The rate a frame rate written as a number stands for: an NTSC rate
    /// (×1000/1001) or a whole one when it is one within a millionth, else
    /// the nearest thousandth.
    pub fn from_fps(fps: f64) -> Rate {
        let whole = (fps * 1.001).round();
        if whole > 0.0 && (whole * 1000.0 / 1001.0 - fps).abs() < 1e-6 * fps {
            return Rate {
                num: whole as u32 * 1000,
                den: 1001,
            };
        }
        if (fps.round() - fps).abs() < 1e-6 * fps {
            return Rate {
                num: fps.round() as u32,
                den: 1,
            };
        }
        Rate {
            num: (fps * 1000.0).round() as u32,
            den: 1000,
        }
    }

    /// Frames per timecode second: 24 at 24000/1001, 30 at 30000/1001.
    pub fn timecode_base(self) -> u32 {
        self.fps().round().max(1.0) as u32
    }

    /// Drop-frame timecode applies to 29.97 and 59.94 (30000/1001, 60000/1001).
    pub fn drop_frame(self) -> bool {
        self.den == 1001 && matches!(self.timecode_base(), 30 | 60)
    }

    /// Whole frames nearest to `s` seconds.
    pub fn frames_of(self, s: f64) -> i64 {
        (s * self.fps()).round() as i64
    }
}

/// How an item begins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry {
    /// A plain cut (the beat cut and the whooshes are cuts with a sound).
    Cut,
    /// A crossfade: the item starts `frames` early, over the one before.
    Dissolve { frames: i64 },
    /// A fade through a colour: the item before fades out over the first
    /// `frames / 2` seconds' worth, this one fades in after the cut; nothing overlaps.
    Dip { frames: i64, white: bool },
}

impl Entry {
    /// The whole transition's length in frames (0 for a cut).
    pub fn frames(self) -> i64 {
        match self {
            Entry::Cut => 0,
            Entry::Dissolve { frames } | Entry::Dip { frames, .. } => frames,
        }
    }
    /// Frames of the transition before the cut; the rest is after it. The
    /// cut sits in the middle (OTIO, FCPXML).
    pub fn before_cut(self) -> i64 {
        self.frames() / 2
    }
}

/// What a picture item shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The film from this frame (of the film's own rate) on.
    Film { in_frame: i64 },
    /// A card's still, a PNG written beside the export.
    Card { text: String, still: PathBuf },
}

/// One item of V1, where the render lays it.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoItem {
    /// Its index in the manifest's timeline.
    pub index: usize,
    pub act: Act,
    pub name: String,
    /// Zone, beat type, score and reason (or the card's text).
    pub note: String,
    /// First trailer frame (a dissolve's incoming item: where the overlap starts).
    pub start: i64,
    pub frames: i64,
    pub source: Source,
    pub into: Entry,
    /// The film sound's gain under this clip (dB).
    pub gain_db: f64,
}

impl VideoItem {
    /// The trailer frame of the cut into this item: the middle of a
    /// crossfade's overlap; its start otherwise (a fade through a colour
    /// overlaps nothing: the cut is where the two fades meet).
    pub fn cut(&self) -> i64 {
        match self.into {
            Entry::Dissolve { frames } => self.start + frames / 2,
            _ => self.start,
        }
    }
}

/// The sound tracks under the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AudioTrack {
    /// A1: the film's sound under each clip.
    Film,
    /// A2: the music at its in-point with its gain.
    Music,
    /// A3: the sound effects, as the WAV files the render used.
    Effects,
    /// A4: the voice-over lines.
    VoiceOver,
    /// A5: the split edits' sound tails, running on under the next item.
    Tails,
}

impl AudioTrack {
    pub const ALL: [AudioTrack; 5] = [
        AudioTrack::Film,
        AudioTrack::Music,
        AudioTrack::Effects,
        AudioTrack::VoiceOver,
        AudioTrack::Tails,
    ];
    pub fn label(self) -> &'static str {
        match self {
            AudioTrack::Film => "A1 film sound",
            AudioTrack::Music => "A2 music",
            AudioTrack::Effects => "A3 sound effects",
            AudioTrack::VoiceOver => "A4 voice-over",
            AudioTrack::Tails => "A5 sound tails",
        }
    }
}

/// One sound on an audio track, in trailer frames.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioItem {
    pub track: AudioTrack,
    pub name: String,
    /// The file it comes from (absolute).
    pub media: PathBuf,
    /// Where it starts in its file, in frames of `media_rate`.
    pub source_in: i64,
    pub media_rate: Rate,
    pub start: i64,
    pub frames: i64,
    pub gain_db: f64,
}

/// A V1 item between its cut and the next one's (see `Timeline::pieces`).
pub struct Piece<'a> {
    pub item: &'a VideoItem,
    pub from: i64,
    pub to: i64,
    /// For a film item, the film frame shown at `from`.
    pub source_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub frame: i64,
    pub name: String,
    pub note: String,
}

/// A caption in trailer frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Caption {
    pub start: i64,
    pub end: i64,
    pub text: String,
}

/// A media file the timeline uses, with its length when known.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    pub path: PathBuf,
    pub duration_s: Option<f64>,
}

/// The whole exported timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub name: String,
    /// The trailer's (the sequence's) rate.
    pub rate: Rate,
    pub film_rate: Rate,
    pub film: MediaFile,
    pub film_has_audio: bool,
    pub width: u32,
    pub height: u32,
    /// The trailer's length in frames, as rendered.
    pub frames: i64,
    /// The first frame's timecode, in frames (01:00:00:00 = 3600 × base).
    pub start_tc: i64,
    pub video: Vec<VideoItem>,
    pub audio: Vec<AudioItem>,
    pub markers: Vec<Marker>,
    pub captions: Vec<Caption>,
    /// Music and effect files, with their lengths.
    pub sounds: Vec<MediaFile>,
    /// File references relative to this folder; absolute when None.
    pub media_root: Option<PathBuf>,
}

/// What the timeline is made from besides the manifest: the files found on
/// disk (absolute), the exact rates and the subtitles' cues.
pub struct Inputs {
    pub film: PathBuf,
    pub film_rate: Rate,
    pub music: Option<MediaFile>,
    /// Each effect's file (absolute) with its length, in the manifest's order.
    pub sfx: Vec<MediaFile>,
    /// The film's spoken cues (start, end, text) in film seconds.
    pub cues: Vec<(f64, f64, String)>,
    /// The still of each card, by manifest index.
    pub stills: Vec<(usize, PathBuf)>,
    pub start_tc: i64,
    pub media_root: Option<PathBuf>,
}

/// The film frame the render shows first for a clip: the first frame at or
/// after its in-point, as the seek and trim keep it (an in-point half a
/// frame after a key frame shows the frame after the key frame; rounding
/// would pick either). The render's seek drops frames before `in - 1e-4`
/// when it decodes from a marked key frame, and before the in-point as
/// written to six decimals otherwise.
pub fn shown_frame(c: &Clip, film: Rate) -> i64 {
    let t = if c.decode_from_s.is_some() {
        c.source_in_s - 1e-4
    } else {
        let six: f64 = format!("{:.6}", c.source_in_s)
            .parse()
            .unwrap_or(c.source_in_s);
        six - 1e-7
    };
    (t * film.fps() - 1e-6).ceil().max(0.0) as i64
}

fn clip_name(i: usize, c: &Clip) -> String {
    format!(
        "{:02} {} {}",
        i + 1,
        c.act.label(),
        c.beat_type.as_deref().unwrap_or("clip")
    )
}

fn clip_note(c: &Clip) -> String {
    let mut s = format!(
        "zone: {}; beat type: {}; score: {:.3}; reason: {}",
        c.zone.as_deref().unwrap_or("-"),
        c.beat_type.as_deref().unwrap_or("-"),
        c.score,
        c.reasoning
    );
    if let Some(d) = &c.dialogue {
        s.push_str(&format!("; dialogue: {d}"));
    }
    s
}

/// How item `i` of `m` begins, in frames of `rate`.
fn into_of(m: &Manifest, i: usize, overlap: u64, rate: Rate) -> Entry {
    let (t, d) = m.timeline[i].transition();
    match t {
        _ if i == 0 => Entry::Cut,
        Transition::Crossfade if overlap > 0 => Entry::Dissolve {
            frames: overlap as i64,
        },
        Transition::FadeToBlack | Transition::FadeToWhite if d > 0.0 => Entry::Dip {
            frames: rate.frames_of(d).max(2),
            white: t == Transition::FadeToWhite,
        },
        _ => Entry::Cut,
    }
}

/// Builds the timeline of `m`: V1 and A1 from the items as the render
/// lays them (`Manifest::item_start_frames`), A2–A5 from the music, the
/// effects, the voice-over and the split edits.
pub fn build(m: &Manifest, inp: &Inputs) -> Timeline {
    let rate = if (inp.film_rate.fps() - m.render.fps).abs() < 1e-9 * m.render.fps {
        inp.film_rate
    } else {
        Rate::from_fps(m.render.fps)
    };
    let frames = m.item_frames();
    let starts = m.item_start_frames();
    let mut video = Vec::new();
    let mut audio = Vec::new();
    for (i, item) in m.timeline.iter().enumerate() {
        let (n, overlap) = frames[i];
        let (start, n) = (starts[i] as i64, n as i64);
        let into = into_of(m, i, overlap, rate);
        match item {
            Item::Clip(c) => {
                let in_frame = shown_frame(c, inp.film_rate);
                video.push(VideoItem {
                    index: i,
                    act: c.act,
                    name: clip_name(i, c),
                    note: clip_note(c),
                    start,
                    frames: n,
                    source: Source::Film { in_frame },
                    into,
                    gain_db: c.film_gain_db,
                });
                if m.film.has_audio {
                    audio.push(AudioItem {
                        track: AudioTrack::Film,
                        name: clip_name(i, c),
                        media: inp.film.clone(),
                        source_in: in_frame,
                        media_rate: inp.film_rate,
                        start,
                        frames: n,
                        gain_db: c.film_gain_db,
                    });
                }
            }
            Item::Card(c) => {
                let still = inp
                    .stills
                    .iter()
                    .find(|(k, _)| *k == i)
                    .map(|(_, p)| p.clone())
                    .unwrap_or_default();
                video.push(VideoItem {
                    index: i,
                    act: c.act,
                    name: match c.act {
                        Act::EndCard => format!("{:02} end card", i + 1),
                        a => format!("{:02} {} card", i + 1, a.label()),
                    },
                    note: c.text.clone(),
                    start,
                    frames: n,
                    source: Source::Card {
                        text: c.text.clone(),
                        still,
                    },
                    into,
                    gain_db: MUTED_DB,
                });
            }
        }
    }
    let total = m.item_frames().iter().map(|(n, o)| n - o).sum::<u64>() as i64;
    audio.extend(sounds(m, inp, rate, total));
    let mut t = Timeline {
        name: format!("{} trailer ({})", m.film.title, m.vibe),
        rate,
        film_rate: inp.film_rate,
        film: MediaFile {
            path: inp.film.clone(),
            duration_s: Some(m.film.duration_s),
        },
        film_has_audio: m.film.has_audio,
        width: m.render.width,
        height: m.render.height,
        frames: total,
        start_tc: inp.start_tc,
        video,
        audio,
        markers: Vec::new(),
        captions: Vec::new(),
        sounds: inp.music.iter().chain(&inp.sfx).cloned().collect(),
        media_root: inp.media_root.clone(),
    };
    t.markers = markers(m, &t);
    t.captions = super::captions::lay(m, &t, &inp.cues);
    t
}

/// A2–A5: the music, the effects, the voice-over and the sound tails.
fn sounds(m: &Manifest, inp: &Inputs, rate: Rate, total: i64) -> Vec<AudioItem> {
    let mut out = Vec::new();
    if let (Some(mu), Some(file)) = (&m.music, &inp.music) {
        let start = rate.frames_of(mu.at_s);
        let play = (mu.out_s - mu.in_s).min(m.total_duration_s() - mu.at_s);
        out.push(AudioItem {
            track: AudioTrack::Music,
            name: mu.title.clone(),
            media: file.path.clone(),
            source_in: rate.frames_of(mu.in_s),
            media_rate: rate,
            start,
            frames: rate.frames_of(play).min(total - start).max(1),
            gain_db: mu.gain_db,
        });
    }
    for (s, file) in m.sfx.iter().zip(&inp.sfx) {
        let start = rate.frames_of(s.at_s);
        out.push(AudioItem {
            track: AudioTrack::Effects,
            name: s.kind.clone(),
            media: file.path.clone(),
            source_in: 0,
            media_rate: rate,
            start,
            frames: rate.frames_of(s.duration_s).min(total - start).max(1),
            gain_db: s.gain_db,
        });
    }
    let film = |track, name: String, o: crate::manifest::SoundOverlay| {
        let start = rate.frames_of(o.at_s);
        AudioItem {
            track,
            name,
            media: inp.film.clone(),
            source_in: inp.film_rate.frames_of(o.source_in_s),
            media_rate: inp.film_rate,
            start,
            frames: rate.frames_of(o.len_s).min(total - start).max(1),
            gain_db: o.gain_db,
        }
    };
    if m.film.has_audio {
        for v in &m.voice_over {
            out.push(film(AudioTrack::VoiceOver, v.text.clone(), v.overlay()));
        }
        for o in m.sound_tails() {
            out.push(film(AudioTrack::Tails, "sound tail".into(), o));
        }
    }
    out
}

/// Markers: where each act begins, and where the footage first reaches
/// the film's BEGIN / ESCALATION / CLIMAX and comes nearest its spoiler line.
fn markers(m: &Manifest, t: &Timeline) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut prev = None;
    for v in &t.video {
        if prev != Some(v.act) {
            out.push(Marker {
                frame: v.cut(),
                name: format!("act: {}", v.act.label()),
                note: v.name.clone(),
            });
            prev = Some(v.act);
        }
    }
    let clips: Vec<(&VideoItem, &Clip)> = t
        .video
        .iter()
        .filter_map(|v| match &m.timeline[v.index] {
            Item::Clip(c) => Some((v, c)),
            _ => None,
        })
        .collect();
    let s = &m.structure;
    for (name, at) in [
        ("BEGIN", s.begin_t),
        ("ESCALATION", s.escalation_t),
        ("CLIMAX", s.climax_t),
    ] {
        if let Some((v, c)) = clips.iter().find(|(_, c)| c.source_out_s > at) {
            out.push(Marker {
                frame: v.cut(),
                name: format!("{name} (film {at:.2} s)"),
                note: format!(
                    "first footage from the film's {name} on: {} at film {:.2} s ({})",
                    v.name, c.source_in_s, s.source
                ),
            });
        }
    }
    if let Some((v, c)) = clips
        .iter()
        .max_by(|a, b| a.1.source_out_s.total_cmp(&b.1.source_out_s))
    {
        out.push(Marker {
            frame: v.cut(),
            name: format!("SPOILER LINE (film {:.2} s)", m.spoiler_line_s),
            note: format!(
                "the footage nearest the spoiler line: {} ends at film {:.2} s; none after {:.2} s",
                v.name, c.source_out_s, m.spoiler_line_s
            ),
        });
    }
    out.sort_by_key(|k| k.frame);
    out
}

impl Timeline {
    /// How the file at `p` is named in the export: absolute, or relative to
    /// `--media-root`.
    pub fn reference(&self, p: &Path) -> String {
        match &self.media_root {
            Some(root) => relative(p, root).display().to_string(),
            None => p.display().to_string(),
        }
    }

    /// `p` as a URL: `file:///abs/path` (percent-encoded), or a relative
    /// URL to `--media-root`.
    pub fn url(&self, p: &Path) -> String {
        let r = self.reference(p);
        let enc = percent_encode(&r);
        if self.media_root.is_some() {
            enc
        } else {
            format!("file://{enc}")
        }
    }

    /// The items of one audio track, split into lanes so none overlaps
    /// another within a lane (two effects close together take two lanes).
    pub fn audio_lanes(&self, track: AudioTrack) -> Vec<Vec<&AudioItem>> {
        let mut items: Vec<&AudioItem> = self.audio.iter().filter(|a| a.track == track).collect();
        items.sort_by_key(|a| a.start);
        let mut lanes: Vec<Vec<&AudioItem>> = Vec::new();
        for a in items {
            match lanes
                .iter_mut()
                .find(|l| l.last().is_some_and(|b| b.start + b.frames <= a.start))
            {
                Some(l) => l.push(a),
                None => lanes.push(vec![a]),
            }
        }
        lanes
    }

    /// V1 as abutting pieces: each item from its cut to the next item's cut,
    /// as a track with transitions centred on the cuts lays them.
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        self.video
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let to = self
                    .video
                    .get(k + 1)
                    .map_or(v.start + v.frames, VideoItem::cut);
                let from = v.cut();
                let source_at = match v.source {
                    Source::Film { in_frame } => in_frame + self.film_frames(from - v.start),
                    Source::Card { .. } => 0,
                };
                Piece {
                    item: v,
                    from,
                    to,
                    source_at,
                }
            })
            .collect()
    }

    /// The film frames a span of `frames` trailer frames covers.
    pub fn film_frames(&self, frames: i64) -> i64 {
        if self.rate == self.film_rate {
            frames
        } else {
            (frames as f64 * self.film_rate.fps() / self.rate.fps()).round() as i64
        }
    }

    /// Whole frames of the film file (for available ranges).
    pub fn film_length(&self) -> Option<i64> {
        self.film
            .duration_s
            .map(|d| (d * self.film_rate.fps()).floor() as i64)
    }
}

/// `p` relative to `root` (both absolute), with `..` where needed.
fn relative(p: &Path, root: &Path) -> PathBuf {
    let pc: Vec<_> = p.components().collect();
    let rc: Vec<_> = root.components().collect();
    let common = pc.iter().zip(&rc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..rc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    out
}

/// Percent-encodes what a file URL's path may not hold as it is.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exact_fractions() {
        assert_eq!(
            Rate::from_fps(24000.0 / 1001.0),
            Rate {
                num: 24000,
                den: 1001
            }
        );
        assert_eq!(
            Rate::from_fps(30000.0 / 1001.0),
            Rate {
                num: 30000,
                den: 1001
            }
        );
        assert_eq!(Rate::from_fps(25.0), Rate { num: 25, den: 1 });
        // 23.976 written with three decimals is not 24000/1001.
        assert_eq!(
            Rate::from_fps(23.976),
            Rate {
                num: 23976,
                den: 1000
            }
        );
        assert!(Rate {
            num: 30000,
            den: 1001
        }
        .drop_frame());
        assert!(Rate {
            num: 60000,
            den: 1001
        }
        .drop_frame());
        assert!(!Rate {
            num: 24000,
            den: 1001
        }
        .drop_frame());
        assert!(!Rate { num: 30, den: 1 }.drop_frame());
    }

    #[test]
    fn the_shown_frame_is_the_first_at_or_after_the_in_point() {
        let r = Rate { num: 24, den: 1 };
        let mut c = match crate::edit::test_clip(Act::Act1, 0.0, 1.0, Transition::HardCut, 0.0) {
            Item::Clip(c) => c,
            _ => unreachable!(),
        };
        // Half a frame after key frame 360: the render shows 361.
        c.source_in_s = 15.0 + 0.5 / 24.0;
        c.decode_from_s = Some(15.0);
        assert_eq!(shown_frame(&c, r), 361);
        // Exactly on a frame: that frame.
        c.source_in_s = 29.458333333333332;
        assert_eq!(shown_frame(&c, r), 707);
        c.decode_from_s = None;
        assert_eq!(shown_frame(&c, r), 707);
        c.source_in_s = 42.182;
        assert_eq!(shown_frame(&c, r), 1013);
    }

    #[test]
    fn relative_references_climb_out_of_the_root() {
        assert_eq!(
            relative(Path::new("/a/b/film.mp4"), Path::new("/a/c")),
            PathBuf::from("../b/film.mp4")
        );
        assert_eq!(percent_encode("/a b/ü.mp4"), "/a%20b/%C3%BC.mp4");
    }
}
