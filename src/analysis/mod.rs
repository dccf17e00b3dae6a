//! Film analysis in one decoding pass: shot boundaries (cuts, fades, dissolves,
//! flash-robust, frame-exact), per-shot signals normalised across the film, a
//! loudness curve, and keyframe choice/extraction for the vision stage.
//! `decode` and `decoder` own the decoding; `features` and `detect` only see
//! numbers. A newcomer reads [`driver`] first: the analysis step by step,
//! each step a call into the module that does it.

pub mod audio;
pub mod decode;
pub mod decoder;
pub mod detect;
mod driver;
pub mod eval;
pub mod faces;
pub mod features;
pub mod intensity;
mod keyframes;
mod refine;
pub mod segments;
mod shots;
mod timeline;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use detect::{BoundaryKind, DetectParams};
use driver::{analyse_guessing, analyse_info};
use features::FrameStats;
pub use keyframes::keyframe_times;

/// Errors of the analysis stage; each names the film and the problem.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("film not found: {0}")]
    NotFound(PathBuf),
    #[error("{0}: no video stream to analyse")]
    NoVideo(PathBuf),
    #[error("{film}: {problem}")]
    Ffmpeg { film: PathBuf, problem: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    BadFile { path: PathBuf, problem: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// How to analyse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnalyseOptions {
    /// Width of the analysed frames in pixels (at most 160; height follows the aspect).
    pub analysis_width: u32,
    /// ffmpeg decoder threads; 0 lets ffmpeg choose.
    pub threads: usize,
    /// Skip the deblocking filter while decoding (faster, same statistics).
    pub skip_loop_filter: bool,
    /// Skip non-reference frames in the main pass (about half the decode
    /// work); cuts next to a skipped frame are re-decoded narrowly.
    pub skip_nonref: bool,
    /// Take a cut whose first analysed frame is an I-frame as placed exactly
    /// there without a re-decode: encoders put I-frames on scene cuts.
    pub trust_keyframes: bool,
    /// With `skip_nonref`: decode the skipped frames between two reference
    /// frames that differ like a cut, in the main pass (a reference frame
    /// is read as soon as it is decoded, before the frames that follow it
    /// in decoding order), so such cuts need no re-decode. H.264 and HEVC.
    #[serde(default = "yes")]
    pub near_cuts: bool,
    pub detect: DetectParams,
    /// Step of the loudness curve in seconds.
    pub loudness_step_s: f64,
    /// swscale flags for the downscale to the analysis size. fast_bilinear
    /// aliases a little, but the detectors average 5×5 blocks anyway; it
    /// saved ~10% CPU on Big Buck Bunny with the same truth-film scores.
    pub scale_flags: String,
    /// Run the face detector (when its model is found); false: skin proxy.
    pub faces: bool,
    /// SeetaFace model file; `None` looks in the models folder
    /// (see [`faces::default_model_path`]). Missing: skin-colour proxy.
    pub face_model: Option<PathBuf>,
    /// Seconds between the frames given to the face detector (each costs
    /// ~30 ms at 320 px; every 4 s keeps it under 10% of the analysis).
    pub face_every_s: f64,
    /// Width of those frames (faces under ~20 px at this width are missed).
    pub face_width: u32,
    /// Interlaced input (the stream's field order says so): analyse the
    /// first field of each frame only. A cut between the two fields of a
    /// frame is then one jump, not two half jumps that read as motion.
    #[serde(default = "yes")]
    pub deinterlace: bool,
    /// Decode films of 10 s and more as two segments in parallel (see
    /// [`segments`]); the statistics are the same as from one pass.
    #[serde(default = "yes")]
    pub split: bool,
}

fn yes() -> bool {
    true
}

impl Default for AnalyseOptions {
    fn default() -> Self {
        AnalyseOptions {
            analysis_width: 160,
            threads: 0,
            skip_loop_filter: true,
            skip_nonref: true,
            trust_keyframes: true,
            near_cuts: true,
            detect: DetectParams::default(),
            loudness_step_s: 0.1,
            scale_flags: "fast_bilinear".into(),
            faces: true,
            face_model: None,
            face_every_s: 4.0,
            face_width: 320,
            deinterlace: true,
            split: true,
        }
    }
}

/// One shot boundary; `time_s`/`frame` are those of the first frame of the
/// new shot; `start_s..end_s` is the whole transition (equal for a cut).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Boundary {
    pub time_s: f64,
    pub frame: u64,
    pub kind: BoundaryKind,
    pub start_s: f64,
    pub end_s: f64,
}

/// Per-shot signals; in `signals` each is normalised to 0..1 across the film
/// (5th..95th percentile of shots mapped to 0..1), in `raw` as measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Signals {
    pub motion: f64,
    pub contrast: f64,
    pub saturation: f64,
    pub brightness: f64,
    pub uniqueness: f64,
    /// Face presence: SeetaFace detections on frames sampled every
    /// `face_every_s` (share of samples with a face, close-ups weighted up);
    /// without the model file, a proxy: share of skin-chroma pixels.
    /// `FilmAnalysis::faces_source` says which.
    pub faces: f64,
    /// Mean short-term loudness (raw: dBFS RMS).
    pub loudness: f64,
    /// Audio onsets per second.
    pub onset_density: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shot {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub start_frame: u64,
    pub end_frame: u64,
    /// Sharpest analysed frame inside the shot, away from transitions and flashes.
    pub keyframe_s: f64,
    pub signals: Signals,
    pub raw: Signals,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LoudnessCurve {
    pub step_s: f64,
    /// dBFS RMS over 400 ms centred on each step.
    pub db: Vec<f32>,
}

impl LoudnessCurve {
    /// Energy mean of the curve over `[a, b)` seconds, dBFS; None where the
    /// curve has no samples there.
    pub fn energy_mean_db(&self, a: f64, b: f64) -> Option<f64> {
        if self.step_s <= 0.0 {
            return None;
        }
        let i0 = (a / self.step_s).floor().max(0.0) as usize;
        let i1 = ((b / self.step_s).ceil() as usize).min(self.db.len());
        let xs = self.db.get(i0..i1).filter(|xs| !xs.is_empty())?;
        let p = xs.iter().map(|d| 10f64.powf(*d as f64 / 10.0)).sum::<f64>() / xs.len() as f64;
        (p > 0.0).then(|| 10.0 * p.log10())
    }
}

/// Everything the analysis stage produces (`cinecut shots --json` shape plus extras).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilmAnalysis {
    pub fps: f64,
    pub frame_count: u64,
    pub duration_s: f64,
    pub boundaries: Vec<Boundary>,
    pub shots: Vec<Shot>,
    /// Times of flash frames (bright frames that are not cuts): do not cut near them.
    pub flashes: Vec<f64>,
    pub loudness_curve: LoudnessCurve,
    pub has_audio: bool,
    /// Seconds of film the decoder could not deliver or delivered damaged:
    /// gaps and an early end, and from each decoding error to the next
    /// intra frame (the picture is rebuilt from broken references until then).
    pub unreadable_s: f64,
    /// Those stretches, (start, end) in seconds, merged and sorted; no
    /// boundary is reported inside one (damage looks like a cut), only at
    /// its end, where the picture is whole again.
    #[serde(default)]
    pub unreadable_spans: Vec<(f64, f64)>,
    /// Problems worth telling the user (each names the film); the analysis
    /// carried on despite them.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub decode_errors: usize,
    pub frames_analysed: usize,
    pub analysis_width: u32,
    pub analysis_height: u32,
    /// Cuts placed on a skipped frame's neighbourhood decoded in full.
    pub refined_cuts: usize,
    /// Of those, cuts placed by a narrow re-decode after the main pass
    /// (the others from the frames it decoded around them).
    #[serde(default)]
    pub redecoded_cuts: usize,
    /// Film segments the main pass was decoded in, side by side (1 or 2;
    /// see [`segments`]); the statistics do not depend on it.
    #[serde(default)]
    pub decode_segments: usize,
    /// The stream said it was interlaced (and only its first field was analysed
    /// unless `AnalyseOptions::deinterlace` was off).
    #[serde(default)]
    pub interlaced: bool,
    /// How `faces` was measured: "seetaface" (detector) or "skin_proxy".
    pub faces_source: String,
    /// Times of the intra pictures the decoder marked key frames, where
    /// decoding can start cleanly: the editor prefers in-points just after
    /// one, and the render starts decoding at one (see `edit::in_points`).
    #[serde(default)]
    pub key_s: Vec<f64>,
}

/// Why a keyframe was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "shot")]
pub enum KeyframeKind {
    Shot(usize),
    Subtitle,
    Interval,
}

/// Analyse the film in one decoding pass (plus narrow re-decodes around cuts
/// that fall next to skipped frames). `progress` gets seconds of film done.
pub fn analyse(
    film: &Path,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<FilmAnalysis, AnalysisError> {
    analyse_with_stats(film, opts, progress).map(|(a, _)| a)
}

/// [`analyse`] for a caller that has already probed the film with
/// [`crate::media::probe::probe`]: saves the one ffprobe run (which is most
/// of the fixed cost on short films).
pub fn analyse_probed(
    film: &Path,
    probe: &crate::media::probe::Probe,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<FilmAnalysis, AnalysisError> {
    let info = decode::ProbeInfo::from_probe(probe);
    analyse_info(film, info, opts, progress, None).map(|(a, _)| a)
}

/// [`analyse`], also returning the per-frame statistics (for tuning and plots).
pub fn analyse_with_stats(
    film: &Path,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError> {
    if !film.is_file() {
        return Err(AnalysisError::NotFound(film.to_path_buf()));
    }
    // An absolute path can never be read as a protocol ("http:x.mp4").
    let abs = film.canonicalize().unwrap_or_else(|_| film.to_path_buf());
    let probe = || crate::media::probe::probe(&abs).map(|p| decode::ProbeInfo::from_probe(&p));
    match crate::media::probe::probe_header(&abs) {
        Some(guess) => analyse_guessing(
            film,
            decode::ProbeInfo::from_probe(&guess),
            probe,
            opts,
            progress,
        )
        .map_err(|e| decode::probe_error(film, e))?,
        None => {
            let info = probe().map_err(|e| decode::probe_error(film, e))?;
            analyse_info(film, info, opts, progress, None)
        }
    }
}

/// [`analyse_probed`] for a film not probed yet, started on what its
/// header says (`guess`, from [`crate::media::probe::probe_header`]) while
/// the probe runs (see `driver::analyse_guessing`). A failed probe gives the
/// probe's error, as when probing first.
pub fn analyse_guessed(
    film: &Path,
    guess: &crate::media::probe::Probe,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<FilmAnalysis, GuessedError> {
    let probe = || crate::media::probe::probe(film).map(|p| decode::ProbeInfo::from_probe(&p));
    analyse_guessing(
        film,
        decode::ProbeInfo::from_probe(guess),
        probe,
        opts,
        progress,
    )?
    .map(|(a, _)| a)
    .map_err(GuessedError::from)
}

/// Why [`analyse_guessed`] failed: the probe run beside the analysis, or
/// the analysis itself.
#[derive(Debug, thiserror::Error)]
pub enum GuessedError {
    #[error(transparent)]
    Probe(#[from] crate::media::MediaError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// Write JPEG keyframes (long side ≤ `max_side`, itself capped at 672) by
/// seeking to each time; returns the paths in the order of `times`.
pub fn extract_keyframes(
    film: &Path,
    times: &[f64],
    out_dir: &Path,
    max_side: u32,
) -> Result<Vec<PathBuf>, AnalysisError> {
    decode::extract_jpegs(film, times, out_dir, max_side.clamp(16, 672))
}
