//! Where the music comes from: one [`MusicSource`] per origin (user file,
//! user folder, Jamendo, built-in bed), tried in that order by [`choose_music`].

mod builtin;
mod file;
mod folder;
mod jamendo;

pub use builtin::BuiltinSource;
pub use file::FileSource;
pub use folder::FolderSource;
pub use jamendo::JamendoSource;

use super::MusicError;
use crate::media::process::Process;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the trailer needs from its music.
#[derive(Clone, Debug)]
pub struct MusicRequest {
    pub vibe: String,
    /// Search tags of the vibe (Jamendo tags, folder matching).
    pub tags: Vec<String>,
    /// The vibe's tempo prior.
    pub tempo_bpm: f64,
    /// Trailer length the music should cover.
    pub length_s: f64,
    /// Where the built-in bed should put its peak (the act-3 start), if known.
    pub peak_at_s: Option<f64>,
    /// `--music FILE`.
    pub file: Option<PathBuf>,
    /// `--music-dir DIR`.
    pub dir: Option<PathBuf>,
    pub jamendo_client_id: Option<String>,
    /// `https://api.jamendo.com` in production; a loopback server in tests.
    pub jamendo_base_url: String,
    /// Connect/read timeout of each Jamendo request.
    pub jamendo_timeout_s: f64,
    /// User cache (Jamendo downloads live in `cache_dir/jamendo/<vibe>/`).
    pub cache_dir: PathBuf,
    /// Work directory of this trailer (the built-in bed is written here).
    pub work_dir: PathBuf,
}

impl MusicRequest {
    /// A request with production defaults for everything but the essentials.
    pub fn new(vibe: &str, tags: Vec<String>, tempo_bpm: f64, length_s: f64) -> Self {
        MusicRequest {
            vibe: vibe.to_string(),
            tags,
            tempo_bpm,
            length_s,
            peak_at_s: None,
            file: None,
            dir: None,
            jamendo_client_id: std::env::var("JAMENDO_CLIENT_ID")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            jamendo_base_url: "https://api.jamendo.com".into(),
            jamendo_timeout_s: 15.0,
            cache_dir: PathBuf::from(".cache"),
            work_dir: PathBuf::from("."),
        }
    }
}

/// The chosen track and everything the manifest must say about it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MusicTrack {
    pub path: PathBuf,
    /// "file", "folder", "jamendo" or "synth".
    pub source: String,
    pub title: String,
    pub artist: Option<String>,
    pub licence: Option<String>,
    pub licence_url: Option<String>,
    /// Line to print at the end and put in the manifest (CC BY needs it).
    pub attribution: Option<String>,
    /// Why this track was chosen.
    pub reason: String,
}

/// One origin of music.
pub trait MusicSource {
    fn name(&self) -> &str;
    /// `Ok(None)`: this source is not configured or has nothing suitable.
    fn find(&self, req: &MusicRequest) -> Result<Option<MusicTrack>, MusicError>;
    /// Whether an error here must stop the run instead of falling through:
    /// true only for what the user named explicitly.
    fn is_required(&self, _req: &MusicRequest) -> bool {
        false
    }
}

/// Try file, folder, Jamendo and the built-in bed in order. Returns the track
/// and one line per skipped source saying why. Only a user-named file or
/// folder that is unusable is an error; Jamendo problems never abort.
pub fn choose_music(
    req: &MusicRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<(MusicTrack, Vec<String>), MusicError> {
    let sources: [&dyn MusicSource; 4] =
        [&FileSource, &FolderSource, &JamendoSource, &BuiltinSource];
    let mut skipped = vec![];
    for src in sources {
        progress(&format!("music: trying {}", src.name()));
        match src.find(req) {
            Ok(Some(track)) => {
                progress(&format!("music: {} — {}", src.name(), track.reason));
                return Ok((track, skipped));
            }
            Ok(None) => skipped.push(format!("{}: not configured", src.name())),
            Err(e) if src.is_required(req) => return Err(e),
            Err(e) => {
                progress(&format!("music: {} skipped: {e}", src.name()));
                skipped.push(format!("{}: {e}", src.name()));
            }
        }
    }
    // The built-in source only fails on a disk error, which the loop returns
    // as a skip; say so plainly.
    Err(MusicError::NoMusic(skipped.join("; ")))
}

/// What ffprobe says about an audio file.
#[derive(Clone, Debug, Default)]
pub struct AudioInfo {
    pub duration_s: f64,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub genre: Option<String>,
    pub comment: Option<String>,
}

/// Probe `path` for an audio stream; an error names the file and the reason.
pub fn probe_audio(path: &Path) -> Result<AudioInfo, MusicError> {
    if !path.is_file() {
        return Err(MusicError::NotFound(path.to_path_buf()));
    }
    let out = Process::ffprobe()
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .arg("stream=codec_type,duration:format=duration:format_tags=title,artist,genre,comment")
        .args(["-of", "json"])
        .arg(path)
        .output()
        .map_err(|e| MusicError::Ffmpeg {
            path: path.to_path_buf(),
            detail: format!("cannot start ffprobe: {}", e.os_detail()),
        })?;
    let not_audio = |detail: String| MusicError::NotAudio {
        path: path.to_path_buf(),
        detail,
    };
    if !out.status.success() {
        return Err(not_audio(
            out.stderr
                .lines()
                .last()
                .unwrap_or("ffprobe failed")
                .trim()
                .to_string(),
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| not_audio(format!("unreadable ffprobe output: {e}")))?;
    let has_audio = v["streams"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["codec_type"] == "audio"));
    if !has_audio {
        return Err(not_audio("no audio stream".into()));
    }
    let num = |x: &serde_json::Value| x.as_str().and_then(|s| s.parse::<f64>().ok());
    let duration_s = num(&v["format"]["duration"])
        .or_else(|| num(&v["streams"][0]["duration"]))
        .unwrap_or(0.0);
    if duration_s < 1.0 {
        return Err(not_audio(format!("too short ({duration_s:.1} s)")));
    }
    let tag = |k: &str| {
        let tags = &v["format"]["tags"];
        tags.as_object()
            .and_then(|o| o.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)))
            .and_then(|(_, val)| val.as_str())
            .map(str::to_string)
    };
    Ok(AudioInfo {
        duration_s,
        title: tag("title"),
        artist: tag("artist"),
        genre: tag("genre"),
        comment: tag("comment"),
    })
}

/// File stem as a human title.
fn stem_title(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace(['_', '-'], " "))
        .unwrap_or_else(|| "untitled".into())
}

/// Vibe name safe for a folder name.
fn slug(s: &str) -> String {
    let s: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if s.is_empty() {
        "default".into()
    } else {
        s
    }
}
