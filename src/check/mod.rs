//! `cinecut check`: measures a finished trailer against its manifest and the
//! editor's rules (cuts on the beat, no straddled shots, no words cut, no
//! spoilers, loudness, duration, pacing) and says which hard rules it breaks.
//! Each rule lives in its own file under `rules/`; this module measures the
//! file and runs them.

mod context;
mod report;
pub mod rules;

pub use context::{load_context, Context};
pub use report::{CheckReport, MediaMeasures};
pub use rules::{
    trailer_beats, ActStat, CueCut, OffBeatCut, SpoilerViolation, Straddle, ZoneShare,
    CUE_TOLERANCE_S, LOUDNESS_TOLERANCE_LU, MIN_CUT_ON_BEAT, MUTED_DB, TRUE_PEAK_LIMIT_DB,
};

use crate::analysis::Shot;
use crate::manifest::{Manifest, ManifestError};
use crate::subtitles::Cue;
use rules::{Evidence, RULES};
use std::path::{Path, PathBuf};

/// Why a trailer could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The trailer file is missing or has no video; the user's to fix.
    #[error("{}: {problem}", path.display())]
    Trailer {
        path: PathBuf,
        problem: TrailerProblem,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// ffprobe's answer about the trailer was not the JSON it writes.
    #[error("ffprobe failed: unreadable output: {0}")]
    UnreadableProbe(serde_json::Error),
    /// Running ffmpeg/ffprobe on the trailer failed (their error names it).
    #[error(transparent)]
    Measure(crate::media::MediaError),
    /// The report could not be written as JSON.
    #[error("{0}")]
    Encode(serde_json::Error),
}

/// What is wrong with the trailer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrailerProblem {
    #[error("no such trailer file")]
    Missing,
    #[error("ffprobe found no video duration")]
    NoVideoDuration,
}

impl CheckError {
    /// The exit code the command line gives this error (as
    /// `crate::error::Error` maps it): 2 when the user's input is at fault.
    pub fn exit_code(&self) -> i32 {
        match self {
            CheckError::Trailer { .. } | CheckError::Manifest(ManifestError::Load { .. }) => 2,
            CheckError::Measure(crate::media::MediaError::Input { .. }) => 2,
            _ => 1,
        }
    }
}

/// Measures `trailer` (loudness, true peak, duration) and checks it against
/// `manifest`, the film's shots and its subtitle cues (each optional).
pub fn check(
    trailer: &Path,
    manifest: &Manifest,
    shots: Option<&[Shot]>,
    cues: Option<&[Cue]>,
) -> Result<CheckReport, CheckError> {
    if !trailer.is_file() {
        return Err(CheckError::Trailer {
            path: trailer.to_path_buf(),
            problem: TrailerProblem::Missing,
        });
    }
    let (loudness_lufs, true_peak_dbtp) =
        crate::media::level::measure_file(trailer).map_err(CheckError::Measure)?;
    let duration_s = video_duration(trailer)?;
    let media = MediaMeasures {
        loudness_lufs,
        true_peak_dbtp,
        duration_s,
    };
    Ok(evaluate(trailer, manifest, shots, cues, media))
}

/// The video stream's duration (ffprobe); the container's can be longer by the
/// audio encoder's padding, which is not what the viewer sees.
pub fn video_duration(path: &Path) -> Result<f64, CheckError> {
    let out = crate::media::process::Process::ffprobe()
        .args(crate::args![
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=duration:format=duration",
            "-of",
            "json",
            path
        ])
        .stdout()
        .map_err(CheckError::Measure)?;
    let v: serde_json::Value = serde_json::from_slice(&out).map_err(CheckError::UnreadableProbe)?;
    let num = |x: &serde_json::Value| x.as_str().and_then(|s| s.trim().parse::<f64>().ok());
    v["streams"]
        .get(0)
        .and_then(|s| num(&s["duration"]))
        .or_else(|| num(&v["format"]["duration"]))
        .ok_or_else(|| CheckError::Trailer {
            path: path.to_path_buf(),
            problem: TrailerProblem::NoVideoDuration,
        })
}

/// Every check that needs no media, plus the given file measurements: each
/// rule of [`RULES`] fills its part of the report.
pub fn evaluate(
    trailer: &Path,
    m: &Manifest,
    shots: Option<&[Shot]>,
    cues: Option<&[Cue]>,
    media: MediaMeasures,
) -> CheckReport {
    let ev = Evidence::new(m, shots, cues, media);
    let mut report = CheckReport {
        trailer: trailer.to_path_buf(),
        vibe: m.vibe.clone(),
        fps: ev.fps,
        ..CheckReport::default()
    };
    for rule in RULES {
        rule.evaluate(&ev, &mut report);
    }
    report
}

/// The `cinecut check` command: loads the manifest (and the shots and cues
/// saved beside it), measures, prints, and returns whether hard rules broke.
pub fn run(trailer: &Path, manifest_path: &Path, json: bool) -> Result<bool, CheckError> {
    let m = Manifest::load(manifest_path)?;
    let ctx = load_context(manifest_path);
    for w in &ctx.warnings {
        eprintln!("warning: {w}");
    }
    let r = check(trailer, &m, ctx.shots.as_deref(), ctx.cues.as_deref())?;
    if json {
        let s = serde_json::to_string_pretty(&r).map_err(CheckError::Encode)?;
        println!("{s}");
    } else {
        println!("{r}");
    }
    Ok(r.hard_failures().is_empty())
}

#[cfg(test)]
mod tests;
