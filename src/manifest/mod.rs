//! TRAILER_MANIFEST.json: the edit decision list, and the contract between the
//! thinking stages and the renderer.
//!
//! Everything the renderer does is written here and can be edited by hand;
//! `cinecut render` takes an edited manifest back. Loading validates every
//! field and names the bad one (`timeline[3].source_out_s: ...`).

mod validate;

use crate::vibes::{Grade, Transition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use validate::InvalidField;

pub const MANIFEST_SCHEMA: u32 = 1;
pub const MANIFEST_NAME: &str = "TRAILER_MANIFEST.json";

/// Why a manifest could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest at `path` cannot be used; the user's to fix (a missing
    /// or hand-edited manifest).
    #[error("{}: {problem}", path.display())]
    Load { path: PathBuf, problem: LoadProblem },
    /// Serialising failed (a non-finite number has no JSON).
    #[error("{0}")]
    Encode(serde_json::Error),
    /// The atomic write into the work folder failed; `workdir::atomic_write`'s
    /// error, which names the path.
    #[error(transparent)]
    Write(crate::workdir::WorkdirError),
}

/// What is wrong with a manifest that would not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadProblem {
    #[error("no such manifest")]
    NotFound,
    #[error("cannot read: {0}")]
    Unreadable(std::io::Error),
    #[error(
        "not a valid manifest (line {line}, column {column}): {0}",
        line = .0.line(),
        column = .0.column()
    )]
    Parse(serde_json::Error),
    /// Well-formed JSON with a field a renderer cannot use.
    #[error(transparent)]
    Invalid(InvalidField),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    pub cinecut_version: String,
    pub film: FilmRef,
    pub vibe: String,
    pub target_length_s: f64,
    pub structure: StructureRef,
    /// No footage after this time of the film is used (spoilers).
    pub spoiler_line_s: f64,
    #[serde(default)]
    pub beat_grid: Option<BeatGridRef>,
    #[serde(default)]
    pub music: Option<MusicRef>,
    pub render: RenderSettings,
    pub timeline: Vec<Item>,
    /// Lines of the film's dialogue laid over other clips.
    #[serde(default)]
    pub voice_over: Vec<VoiceOver>,
    /// Synthesized sound effects on the transitions.
    #[serde(default)]
    pub sfx: Vec<SfxCue>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A stretch of the film's sound laid over the trailer: a voice-over line,
/// or a split edit's sound tail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundOverlay {
    /// Where the sound starts in the film and in the trailer (for a tail:
    /// the clip's out point and picture end, less `fade_in_s`).
    pub source_in_s: f64,
    pub at_s: f64,
    /// Length including the fade-in.
    pub len_s: f64,
    /// A tail fades in while the clip's own sound fades out (30 ms at a
    /// plain cut, half the fade through black or white), so they add up to
    /// the unbroken line.
    pub fade_in_s: f64,
    pub gain_db: f64,
}

impl VoiceOver {
    /// The line as a sound laid over the trailer (a 40 ms fade-in).
    pub fn overlay(&self) -> SoundOverlay {
        SoundOverlay {
            source_in_s: self.source_in_s,
            at_s: self.at_s,
            len_s: self.source_out_s - self.source_in_s,
            fade_in_s: 0.04,
            gain_db: self.gain_db,
        }
    }
}

/// Every clip's sound fades out this long at a plain cut, so no cut clicks.
pub const SOUND_CUT_FADE_S: f64 = 0.03;

/// A clip's film gain at or below this is silent in the mix: the editor
/// mutes a clip whose sound would cut words to it, and `cinecut check` counts
/// no word cut by such a clip.
pub const MUTED_DB: f64 = -40.0;

/// Longest split-edit sound tail a clip may carry.
pub const MAX_SOUND_TAIL_S: f64 = 2.5;

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VoiceOver {
    pub text: String,
    #[serde(default)]
    pub speaker: Option<String>,
    pub source_in_s: f64,
    pub source_out_s: f64,
    /// Where the line starts in the trailer.
    pub at_s: f64,
    pub gain_db: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SfxCue {
    pub kind: String,
    pub path: PathBuf,
    /// Where the effect starts in the trailer.
    pub at_s: f64,
    pub duration_s: f64,
    pub gain_db: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FilmRef {
    pub path: PathBuf,
    pub fingerprint: String,
    pub title: String,
    pub duration_s: f64,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub has_audio: bool,
    #[serde(default)]
    pub subtitles: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StructureRef {
    pub begin_t: f64,
    pub escalation_t: f64,
    pub climax_t: f64,
    pub source: String,
    pub reasoning: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BeatGridRef {
    pub bpm: f64,
    pub beats: Vec<f64>,
    #[serde(default)]
    pub downbeats: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MusicRef {
    pub path: PathBuf,
    pub source: String,
    pub title: String,
    #[serde(default)]
    pub artist: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub licence_url: Option<String>,
    #[serde(default)]
    pub attribution: Option<String>,
    /// Where in the track the trailer's music starts and ends.
    pub in_s: f64,
    pub out_s: f64,
    /// Where in the trailer the music enters (0 unless its peak needs it later).
    #[serde(default)]
    pub at_s: f64,
    /// Why this track, and how it fits (entry, peak, ending).
    #[serde(default)]
    pub reason: String,
    pub gain_db: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub crf: u32,
    pub preset: String,
    pub audio_sample_rate: u32,
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
    pub grade: Grade,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    ColdOpen,
    Act1,
    Act2,
    SilenceBeat,
    Act3,
    Title,
    Button,
    EndCard,
}

impl Act {
    /// The act as people read it ("cold open", "act 1"), for timelines and
    /// the report.
    pub fn label(self) -> &'static str {
        match self {
            Act::ColdOpen => "cold open",
            Act::Act1 => "act 1",
            Act::Act2 => "act 2",
            Act::SilenceBeat => "silence beat",
            Act::Act3 => "act 3",
            Act::Title => "title",
            Act::Button => "button",
            Act::EndCard => "end card",
        }
    }
}

/// One piece of the trailer's timeline, in playing order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    Clip(Clip),
    Card(Card),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    pub act: Act,
    pub source_in_s: f64,
    pub source_out_s: f64,
    /// How this item begins: the transition from the previous item.
    pub transition: Transition,
    /// Length of the transition (overlap for crossfades, fade for fades).
    pub transition_s: f64,
    #[serde(default)]
    pub shot_index: Option<usize>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub beat_type: Option<String>,
    #[serde(default)]
    pub dialogue: Option<String>,
    /// Film audio level for this clip in dB (0 = as in the film).
    #[serde(default)]
    pub film_gain_db: f64,
    /// Split edit (L-cut): the clip's film sound runs this many seconds past
    /// its picture cut, under the next item, so that the line it carries
    /// ends whole while the picture cuts on the beat.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sound_tail_s: f64,
    /// The last intra frame before `source_in_s` that the film's decoder
    /// marked a key frame (MP4/MOV only): the render starts decoding there,
    /// where the container's index may list only an earlier key frame (up
    /// to seconds earlier), and drops the frames up to the in-point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_from_s: Option<f64>,
    #[serde(default)]
    pub score: f64,
    #[serde(default)]
    pub reasoning: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub act: Act,
    pub text: String,
    pub duration_s: f64,
    pub transition: Transition,
    pub transition_s: f64,
}

impl Item {
    pub fn act(&self) -> Act {
        match self {
            Item::Clip(c) => c.act,
            Item::Card(c) => c.act,
        }
    }
    pub fn duration_s(&self) -> f64 {
        match self {
            Item::Clip(c) => c.source_out_s - c.source_in_s,
            Item::Card(c) => c.duration_s,
        }
    }
    pub fn transition(&self) -> (Transition, f64) {
        match self {
            Item::Clip(c) => (c.transition, c.transition_s),
            Item::Card(c) => (c.transition, c.transition_s),
        }
    }
}

/// Whole frames at `fps` for a duration; the renderer and the manifest's total
/// agree because both count frames, not seconds.
pub fn frames(duration_s: f64, fps: f64) -> u64 {
    (duration_s * fps).round().max(1.0) as u64
}

/// Frames of each item and the overlap of each crossfade into it, at `fps`.
pub fn item_frames(timeline: &[Item], fps: f64) -> Vec<(u64, u64)> {
    timeline
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let n = frames(it.duration_s(), fps);
            let (t, d) = it.transition();
            let overlap = if i > 0 && t == Transition::Crossfade {
                frames(d, fps).min(n / 2)
            } else {
                0
            };
            (n, overlap)
        })
        .collect()
}

/// A timeline's length in seconds as the renderer makes it.
pub fn timeline_duration_s(timeline: &[Item], fps: f64) -> f64 {
    let f: u64 = item_frames(timeline, fps).iter().map(|(n, o)| n - o).sum();
    f as f64 / fps
}

impl Manifest {
    /// Frames of each item and the overlap of each crossfade, as rendered.
    pub fn item_frames(&self) -> Vec<(u64, u64)> {
        item_frames(&self.timeline, self.render.fps)
    }

    /// Trailer frame at which each item starts: a crossfade's incoming item
    /// starts `overlap` frames before the previous one ends.
    pub fn item_start_frames(&self) -> Vec<u64> {
        let mut at = 0u64;
        self.item_frames()
            .iter()
            .map(|(n, o)| {
                at = at.saturating_sub(*o);
                let s = at;
                at += n;
                s
            })
            .collect()
    }

    /// The split edits' sound tails, in trailer time: each starts where its
    /// clip's picture ends and plays on from its source out point.
    pub fn sound_tails(&self) -> Vec<SoundOverlay> {
        let fps = self.render.fps;
        let starts = self.item_start_frames();
        let frames = self.item_frames();
        self.timeline
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match it {
                Item::Clip(c) if c.sound_tail_s > 0.0 => {
                    let x = match self.timeline.get(i + 1).map(Item::transition) {
                        Some((Transition::FadeToBlack | Transition::FadeToWhite, d)) if d > 0.0 => {
                            (d / 2.0).min(c.source_out_s - c.source_in_s)
                        }
                        _ => SOUND_CUT_FADE_S,
                    };
                    Some(SoundOverlay {
                        source_in_s: c.source_out_s - x,
                        at_s: (starts[i] + frames[i].0) as f64 / fps - x,
                        len_s: c.sound_tail_s + x,
                        fade_in_s: x,
                        gain_db: c.film_gain_db,
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Trailer time (seconds) at which each item starts.
    pub fn item_starts(&self) -> Vec<f64> {
        let fps = self.render.fps;
        self.item_start_frames()
            .iter()
            .map(|f| *f as f64 / fps)
            .collect()
    }

    /// The trailer's length in seconds, as the renderer will make it.
    pub fn total_duration_s(&self) -> f64 {
        timeline_duration_s(&self.timeline, self.render.fps)
    }

    pub fn clips(&self) -> impl Iterator<Item = &Clip> {
        self.timeline.iter().filter_map(|i| match i {
            Item::Clip(c) => Some(c),
            _ => None,
        })
    }

    /// Reads, parses and validates a manifest (a hand-edited one included).
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let load = || -> Result<Manifest, LoadProblem> {
            let bytes = std::fs::read(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => LoadProblem::NotFound,
                _ => LoadProblem::Unreadable(e),
            })?;
            let m: Manifest = serde_json::from_slice(&bytes).map_err(LoadProblem::Parse)?;
            m.validate().map_err(LoadProblem::Invalid)?;
            Ok(m)
        };
        load().map_err(|problem| ManifestError::Load {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Writes the manifest atomically, as pretty JSON people can edit.
    pub fn save(&self, path: &Path) -> Result<(), ManifestError> {
        let json = serde_json::to_vec_pretty(self).map_err(ManifestError::Encode)?;
        crate::workdir::atomic_write(path, &json).map_err(ManifestError::Write)
    }
}

/// A valid manifest for unit tests: a 2 s clip of a 60 s film, then a
/// title card.
#[cfg(test)]
pub(crate) fn test_manifest() -> Manifest {
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "cinecut_version": "test",
        "film": {"path": "film.mp4", "fingerprint": "x", "title": "T", "duration_s": 60.0,
                 "fps": 24.0, "width": 1280, "height": 720, "has_audio": true},
        "vibe": "action", "target_length_s": 30.0,
        "structure": {"begin_t": 0.1, "escalation_t": 0.5, "climax_t": 0.8,
                      "source": "test", "reasoning": ""},
        "spoiler_line_s": 50.0,
        "render": {"width": 1280, "height": 720, "fps": 24.0, "crf": 20,
                   "preset": "veryfast", "audio_sample_rate": 48000,
                   "loudness_lufs": -14.0, "true_peak_db": -1.0,
                   "grade": crate::vibes::Grade::neutral()},
        "timeline": [
            {"type": "clip", "act": "act1", "source_in_s": 1.0, "source_out_s": 3.0,
             "transition": "hard_cut", "transition_s": 0.0},
            {"type": "card", "act": "title", "text": "T", "duration_s": 2.0,
             "transition": "fade_to_black", "transition_s": 0.5}
        ]
    }))
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// The message users see and the exit code, through the top-level error.
    fn shown(e: ManifestError) -> (String, String, i32) {
        let own = e.to_string();
        let top = Error::from(e);
        (own, top.to_string(), top.exit_code())
    }

    #[test]
    fn load_errors_name_the_manifest_and_are_the_users_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_NAME);
        let (own, top, code) = shown(Manifest::load(&path).unwrap_err());
        assert_eq!(own, format!("{}: no such manifest", path.display()));
        assert_eq!((top, code), (own, 2));

        std::fs::write(&path, "{\"schema_version\": 1,").unwrap();
        let (own, top, code) = shown(Manifest::load(&path).unwrap_err());
        assert!(
            own.starts_with(&format!(
                "{}: not a valid manifest (line 1, column 21): ",
                path.display()
            )),
            "{own}"
        );
        assert_eq!((top, code), (own, 2));

        let (own, top, code) = shown(Manifest::load(dir.path()).unwrap_err());
        assert!(
            own.starts_with(&format!("{}: cannot read: ", dir.path().display())),
            "{own}"
        );
        assert_eq!((top, code), (own, 2));
    }

    #[test]
    fn an_invalid_field_is_named_after_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_NAME);
        let mut m = test_manifest();
        m.schema_version = 2;
        m.save(&path).unwrap();
        let (own, top, code) = shown(Manifest::load(&path).unwrap_err());
        assert_eq!(
            own,
            format!(
                "{}: schema_version: 2 is not supported (this cinecut reads 1)",
                path.display()
            )
        );
        assert_eq!((top, code), (own, 2));
    }

    #[test]
    fn a_failed_save_is_ours_and_names_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let m = test_manifest();
        let e = m.save(&file.join(MANIFEST_NAME)).unwrap_err();
        assert!(matches!(e, ManifestError::Write(_)), "{e:?}");
        let (own, top, code) = shown(e);
        assert!(own.contains(&file.display().to_string()), "{own}");
        assert_eq!((top, code), (own, 1));
    }
}
