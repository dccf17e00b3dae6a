//! Film analysis in one decoding pass: shot boundaries (cuts, fades, dissolves,
//! flash-robust, frame-exact), per-shot signals normalised across the film, a
//! loudness curve, and keyframe choice/extraction for the vision stage.
//! `decode` and `decoder` own the decoding; `features` and `detect` only see
//! numbers.

pub mod audio;
pub mod decode;
pub mod decoder;
pub mod detect;
pub mod eval;
pub mod faces;
pub mod features;
pub mod segments;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use detect::{BoundaryKind, DetectParams};
use features::{Extractor, FrameStats};

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
    /// one, and the render starts decoding at one (see `edit::seek`).
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

fn analysis_size(w: u32, h: u32, want: u32) -> (u32, u32) {
    let aw = (want.clamp(16, 160).min(w.max(2)) / 2) * 2;
    let ah = (((aw as f64 * h as f64 / w as f64) / 2.0).round() as u32 * 2).max(2);
    (aw, ah)
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
/// the probe runs (see [`analyse_guessing`]). A failed probe gives the
/// probe's error, as when probing first.
pub fn analyse_guessed(
    film: &Path,
    guess: &crate::media::probe::Probe,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> crate::error::Result<FilmAnalysis> {
    let probe = || crate::media::probe::probe(film).map(|p| decode::ProbeInfo::from_probe(&p));
    analyse_guessing(
        film,
        decode::ProbeInfo::from_probe(guess),
        probe,
        opts,
        progress,
    )?
    .map(|(a, _)| a)
    .map_err(crate::error::Error::from)
}

/// Analyse `film` from `guess` (what its header says) while `probe` runs
/// beside it, and start over with the probe's findings should they differ.
///
/// Why: the probe's stream information decodes the film's first frames
/// (10–15 ms for a 720p H.264 key frame) on one core while the other waits,
/// and a short film's analysis is little more than that. The header nearly
/// always holds everything the analysis needs; what only the frames tell
/// (the field order of interlaced material, a start time set by the
/// packets) makes the probe differ, and then the passes started on the
/// guess stop at their next packet. The probe runs at a lower priority:
/// the decoders are the critical path. `Err`: the probe failed.
fn analyse_guessing<E: Send>(
    film: &Path,
    guess: decode::ProbeInfo,
    probe: impl FnOnce() -> Result<decode::ProbeInfo, E> + Send,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError>, E> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    // Progress never goes back, also when the analysis starts over.
    let mut shown = 0.0f64;
    let mut forward = |t: f64| {
        if t > shown {
            shown = t;
            progress(t);
        }
    };
    let (first, probed) = std::thread::scope(|sc| {
        let probing = sc.spawn(|| {
            decoder::lower_priority();
            let p = probe();
            if !matches!(&p, Ok(info) if *info == guess) {
                stop.store(true, Ordering::Relaxed);
            }
            p
        });
        let first = analyse_info(film, guess.clone(), opts, &mut forward, Some(&stop));
        (first, probing.join())
    });
    let info = match probed {
        Ok(p) => p?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if info == guess {
        return Ok(first);
    }
    Ok(analyse_info(film, info, opts, &mut forward, None))
}

/// `stop`: the passes stop once it is set, and the analysis ends with an
/// error (see [`analyse_guessing`], which discards it).
fn analyse_info(
    film: &Path,
    info: decode::ProbeInfo,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
    stop: Option<&std::sync::Arc<std::sync::atomic::AtomicBool>>,
) -> Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError> {
    let (aw, ah) = analysis_size(info.width, info.height, opts.analysis_width);
    let mut spec = decode::DecodeSpec {
        width: aw,
        height: ah,
        threads: opts.threads,
        skip_loop_filter: opts.skip_loop_filter,
        skip_nonref: opts.skip_nonref,
        // Half the smallest cut difference: a cut never goes unseen, and
        // motion seldom reaches it.
        jumps: (opts.skip_nonref && opts.near_cuts).then_some(decode::JumpRule {
            cut_min: opts.detect.cut_min,
            cut_ratio: opts.detect.cut_ratio,
            contrast_ref: opts.detect.contrast_ref,
            contrast_floor: opts.detect.contrast_floor,
            share: 0.5,
        }),
        audio: info.has_audio,
        scale_flags: opts.scale_flags.clone(),
        side: None,
        window: None,
        seek: None,
        video: true,
        // The grid matters only where frames are skipped; without skipping
        // every frame's own timestamp is decoded anyway.
        grid: opts.skip_nonref,
        field: info.field.filter(|_| opts.deinterlace),
        start_s: Some(info.start_time),
        stop: stop.cloned(),
    };
    let face_model = opts
        .face_model
        .clone()
        .or_else(faces::default_model_path)
        .filter(|p| opts.faces && p.is_file());
    let fw = (opts.face_width.clamp(64, 1280).min(info.width) / 2) * 2;
    let fh = ((fw as f64 * info.height as f64 / info.width as f64 / 2.0).round() as u32 * 2).max(2);
    if let Some(m) = &opts.face_model {
        if !m.is_file() {
            return Err(AnalysisError::BadFile {
                path: m.clone(),
                problem: "face model file not found".into(),
            });
        }
    }
    // Face samples, tagged with the segment that decoded them.
    let (face_tx, face_rx) = std::sync::mpsc::channel::<(usize, faces::FaceSample)>();
    let split_at = if opts.split {
        segments::split_point(info.duration_s, &decoder::index_keys(film, info.start_time))
    } else {
        None
    };
    let sinks: Vec<Option<decode::SideSinkFactory>> = (0..if split_at.is_some() { 2 } else { 1 })
        .map(|seg| {
            face_model.as_ref().map(|m| {
                let m = m.clone();
                let tx = face_tx.clone();
                let f: decode::SideSinkFactory = Box::new(move || {
                    let mut det = faces::FaceDetector::load(&m).ok();
                    Box::new(move |t: f64, gray: &[u8]| {
                        if let Some(d) = det.as_mut() {
                            let _ = tx.send((seg, d.detect(t, gray, fw, fh)));
                        }
                    })
                });
                f
            })
        })
        .collect();
    drop(face_tx);
    spec.side = face_model.as_ref().map(|_| decode::SideSpec {
        width: fw,
        height: fh,
        every_s: opts.face_every_s.max(0.1),
    });
    let decoded = segments::decode(
        film,
        &spec,
        1.0 / info.fps,
        info.duration_s,
        split_at,
        sinks,
        progress,
    )?;
    if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
        return Err(AnalysisError::Ffmpeg {
            film: film.to_path_buf(),
            problem: "stopped: the probe found other stream facts than the header".into(),
        });
    }
    let face_samples: Vec<faces::FaceSample> = face_rx
        .try_iter()
        .filter(|(seg, f)| match decoded.join {
            None => *seg == 0,
            Some(j) => (*seg == 0 && f.t < j) || (*seg == 1 && f.t >= j),
        })
        .map(|(_, f)| f)
        .collect();
    let report = decoded.report;
    let join = decoded.join;
    let faces_source = if face_model.is_some() && !face_samples.is_empty() {
        "seetaface"
    } else {
        "skin_proxy"
    };
    let grid = report.grid.clone();
    let halves = decoded.halves;
    let mut stats = decoded.stats;
    // Side frames arrive in decoding order per segment; keep them in time order.
    let mut face_samples = face_samples;
    face_samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    // Timestamps can repeat or go backwards in broken files; keep order sane.
    for i in 1..stats.len() {
        if stats[i].t <= stats[i - 1].t {
            stats[i].t = stats[i - 1].t + 1e-4;
        }
    }
    // Packet times and decoded times come out of the same ffmpeg with the
    // same offset; should a container still disagree, align the first frame.
    let mut grid = grid;
    if let (Some(&g0), Some(s0)) = (grid.first(), stats.first()) {
        let i = grid.partition_point(|&g| g < s0.t);
        let near = [i.saturating_sub(1), i.min(grid.len() - 1)]
            .iter()
            .map(|&j| (grid[j] - s0.t).abs())
            .fold(f64::MAX, f64::min);
        if near > 0.5 / info.fps {
            let d = s0.t - g0;
            grid.iter_mut().for_each(|g| *g += d);
        }
    }
    let grid_ok = !grid.is_empty() && grid.len() as f64 >= 0.5 * stats.len() as f64;
    for s in &mut stats {
        s.frame = frame_of(&grid, grid_ok, s.t, info.fps);
    }
    let frame_count = if grid_ok {
        grid.len() as u64
    } else {
        (info.duration_s * info.fps).round() as u64
    };
    let duration_s = if info.duration_s > 0.0 {
        info.duration_s
    } else {
        stats.last().map(|s| s.t + 1.0 / info.fps).unwrap_or(0.0)
    };

    let spans = unreadable_spans(&stats, &report.error_times, duration_s);
    let detected = detect::detect(&stats, &opts.detect, &halves);
    let flashes = detect::detect_flashes(&stats, &opts.detect);
    // Cuts next to skipped frames (and not on an intra frame) are placed by
    // a narrow re-decode of the frames between the two analysed ones.
    let to_refine: Vec<Option<(f64, f64)>> = detected
        .iter()
        .map(|d| {
            if d.kind != BoundaryKind::Cut || d.at == 0 {
                return None;
            }
            let prev = &stats[d.at - 1];
            let skipped = stats[d.at].frame.saturating_sub(prev.frame + 1);
            let trusted = opts.trust_keyframes && stats[d.at].intra;
            (skipped > 0 && !trusted).then_some((prev.t, stats[d.at].t))
        })
        .collect();
    // Cuts whose skipped frames the main pass decoded are placed from them.
    let from_pass: Vec<Option<Option<f64>>> = to_refine
        .iter()
        .zip(&detected)
        .map(|(r, d)| {
            let (p, n) = (*r)?;
            let skipped = stats[d.at].frame.saturating_sub(stats[d.at - 1].frame + 1);
            place_from_near(&report.near_cuts, info.fps, (p, n), skipped)
        })
        .collect();
    let cands: Vec<(f64, f64)> = to_refine
        .iter()
        .zip(&from_pass)
        .filter(|(_, f)| f.is_none())
        .filter_map(|(r, _)| *r)
        .collect();
    let mut refined =
        refine_cuts(film, &info, (aw, ah), opts, &report.keyframes, &cands)?.into_iter();
    let mut refined_cuts = 0;
    let mut boundaries = Vec::new();
    for ((d, r), near) in detected.iter().zip(&to_refine).zip(&from_pass) {
        let mut time_s = stats[d.at].t;
        let mut frame = stats[d.at].frame;
        if r.is_some() {
            let placed = match near {
                Some(p) => *p,
                None => refined.next().flatten(),
            };
            if let Some(t) = placed {
                time_s = t;
                frame = frame_of(&grid, grid_ok, t, info.fps);
                refined_cuts += 1;
            }
        }
        let (a, b) = d.span;
        let (start_s, end_s) = if d.kind == BoundaryKind::Cut {
            (time_s, time_s)
        } else {
            (stats[a].t, stats[b].t)
        };
        boundaries.push(Boundary {
            time_s,
            frame,
            kind: d.kind,
            start_s,
            end_s,
        });
    }

    // A refined cut may land on a neighbour's frame: keep times strictly increasing.
    boundaries.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    boundaries.dedup_by(|b, a| b.time_s <= a.time_s + 1e-6 || b.frame <= a.frame);
    boundaries.retain(|b| b.time_s > 1e-6 && b.time_s < duration_s);
    let before = boundaries.len();
    boundaries.retain(|b| {
        !spans
            .iter()
            .any(|&(s0, s1)| b.time_s > s0 + 1e-6 && b.time_s < s1 - 1e-6)
    });
    let dropped_in_damage = before - boundaries.len();
    let loud = if report.audio_energy.is_empty() {
        Vec::new()
    } else {
        audio::loudness_curve(&report.audio_energy, opts.loudness_step_s)
    };
    let onsets = audio::onsets(&report.audio_energy);
    let shots = build_shots(
        &stats,
        &boundaries,
        &flashes,
        frame_count,
        duration_s,
        info.fps,
        &loud,
        opts.loudness_step_s,
        &onsets,
        (faces_source == "seetaface").then_some(&face_samples[..]),
    );
    let unreadable_s = spans.iter().fold(0.0, |acc, (a, b)| acc + (b - a));
    let mut warnings = Vec::new();
    if unreadable_s > 0.0 || report.decode_errors > 0 {
        warnings.push(format!(
            "{}: {:.1} s of {:.1} s could not be decoded cleanly ({} decoder errors, {} stretch{}: {}); analysed the rest{}",
            film.display(),
            unreadable_s,
            duration_s,
            report.decode_errors,
            spans.len(),
            if spans.len() == 1 { "" } else { "es" },
            spans
                .iter()
                .take(5)
                .map(|(a, b)| format!("{a:.2}-{b:.2} s"))
                .collect::<Vec<_>>()
                .join(", "),
            if dropped_in_damage > 0 {
                format!(", ignoring {dropped_in_damage} boundaries inside the damage")
            } else {
                String::new()
            }
        ));
    }
    progress(duration_s);
    let a = FilmAnalysis {
        fps: info.fps,
        frame_count,
        duration_s,
        boundaries,
        shots,
        flashes,
        loudness_curve: LoudnessCurve {
            step_s: opts.loudness_step_s,
            db: loud,
        },
        has_audio: info.has_audio,
        unreadable_s,
        unreadable_spans: spans,
        warnings,
        decode_errors: report.decode_errors,
        frames_analysed: stats.len(),
        analysis_width: aw,
        analysis_height: ah,
        refined_cuts,
        redecoded_cuts: cands.len(),
        decode_segments: if join.is_some() { 2 } else { 1 },
        interlaced: info.field.is_some(),
        faces_source: faces_source.into(),
        key_s: stats.iter().filter(|s| s.key).map(|s| s.t).collect(),
    };
    Ok((a, stats))
}

/// Frame number of time t: nearest entry of the packet grid, else t × fps.
fn frame_of(grid: &[f64], grid_ok: bool, t: f64, fps: f64) -> u64 {
    if grid_ok {
        let i = grid.partition_point(|&g| g < t);
        let best = [i.saturating_sub(1), i.min(grid.len() - 1)]
            .into_iter()
            .min_by(|&a, &b| (grid[a] - t).abs().total_cmp(&(grid[b] - t).abs()))
            .unwrap_or(0);
        if (grid[best] - t).abs() < 0.5 / fps {
            return best as u64;
        }
    }
    (t * fps).round().max(0.0) as u64
}

/// Place each candidate cut `(t_prev, t_new)` (two analysed frames with
/// skipped frames between) on the frame with the biggest jump from its
/// predecessor inside `[t_prev - ½ frame, t_new + ½ frame)`, as
/// [`refine_cut`] does, but decoding all windows in a few passes:
/// windows that seek to the same keyframe share one input (their decodes
/// would repeat the same frames from that keyframe), up to 16 inputs share
/// one decoder, and two such decoders run side by side.
fn refine_cuts(
    film: &Path,
    info: &decode::ProbeInfo,
    (aw, ah): (u32, u32),
    opts: &AnalyseOptions,
    keyframes: &[f64],
    cands: &[(f64, f64)],
) -> Result<Vec<Option<f64>>, AnalysisError> {
    let half = 0.5 / info.fps;
    let wins: Vec<(f64, f64)> = cands
        .iter()
        .map(|&(p, n)| ((p - half).max(0.0), n + half))
        .collect();
    // Windows in time order, grouped by the keyframe a seek to them lands on.
    let mut order: Vec<usize> = (0..wins.len()).collect();
    order.sort_by(|&a, &b| wins[a].0.total_cmp(&wins[b].0));
    let key_of = |t: f64| {
        let i = keyframes.partition_point(|&k| k <= t + 1e-9);
        (i > 0).then_some(i)
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        match groups.last_mut() {
            Some(g) if key_of(wins[i].0).is_some() && key_of(wins[g[0]].0) == key_of(wins[i].0) => {
                g.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    let spec = redecode_spec(info, (aw, ah), opts, None);
    // Two decoders at a time, one thread each: the windows are
    // short, so frame threads have little to overlap within one input,
    // while two decoders keep both cores busy. Each list gets groups by
    // their decoding length (from the keyframe to the group's end).
    let cost = |g: &Vec<usize>| {
        let s = wins[g[0]].0;
        let e = g.iter().map(|&i| wins[i].1).fold(f64::MIN, f64::max);
        let k = key_of(s).map(|i| keyframes[i - 1]).unwrap_or(0.0);
        e - k
    };
    let mut by_cost: Vec<&Vec<usize>> = groups.iter().collect();
    by_cost.sort_by(|a, b| cost(b).total_cmp(&cost(a)));
    let mut lists: [(f64, Vec<&Vec<usize>>); 2] = [(0.0, Vec::new()), (0.0, Vec::new())];
    for g in by_cost {
        let l = if lists[0].0 <= lists[1].0 { 0 } else { 1 };
        lists[l].0 += cost(g);
        lists[l].1.push(g);
    }
    let threads = if opts.threads == 0 { 1 } else { opts.threads };
    let spec = decode::DecodeSpec { threads, ..spec };
    let run_list = |list: &[&Vec<usize>]| -> Result<Vec<(usize, Option<f64>)>, AnalysisError> {
        let mut out = Vec::new();
        for batch in list.chunks(16) {
            let inputs: Vec<(f64, f64)> = batch
                .iter()
                .map(|g| {
                    let s = g.iter().map(|&i| wins[i].0).fold(f64::MAX, f64::min);
                    let e = g.iter().map(|&i| wins[i].1).fold(f64::MIN, f64::max);
                    (s, e - s)
                })
                .collect();
            let mut ex = Extractor::new(aw, ah, 1.0 / info.fps);
            let mut k = 0u64;
            let times = decode::run_windows(film, &spec, &inputs, &mut |yuv| {
                // Frames are told apart by their order here; the times come after.
                ex.push(k as f64, 0, yuv);
                k += 1;
            });
            let Ok(times) = times else {
                // One decoder for all failed: fall back to one per window.
                for &i in batch.iter().copied().flatten() {
                    out.push((
                        i,
                        refine_cut(film, info, (aw, ah), opts, cands[i].0, cands[i].1)?,
                    ));
                }
                continue;
            };
            let mut base = 0;
            for (g, ts) in batch.iter().zip(&times) {
                for &i in g.iter() {
                    let (w0, w1) = wins[i];
                    // Frames inside the window whose predecessor is inside
                    // too: the comparisons of a decode of the window alone.
                    let inside = |j: usize| ts[j] >= w0 && ts[j] < w1;
                    let best = (1..ts.len())
                        .filter(|&j| inside(j) && inside(j - 1))
                        .max_by(|&a, &b| {
                            ex.stats[base + a].diff[0].total_cmp(&ex.stats[base + b].diff[0])
                        })
                        .map(|j| ts[j]);
                    out.push((i, best));
                }
                base += ts.len();
            }
        }
        Ok(out)
    };
    let [(_, l0), (_, l1)] = &lists;
    let (r0, r1) = std::thread::scope(|sc| {
        let h = sc.spawn(|| run_list(l1));
        let r0 = run_list(l0);
        let r1 = h.join().unwrap_or_else(|_| {
            Err(AnalysisError::Ffmpeg {
                film: film.to_path_buf(),
                problem: "re-decode thread panicked".into(),
            })
        });
        (r0, r1)
    });
    let mut out = vec![None; wins.len()];
    for (i, t) in r0?.into_iter().chain(r1?) {
        out[i] = t;
    }
    Ok(out)
}

/// Place a cut candidate `(p, n)` (two analysed frames with `skipped`
/// frames between) from the frames the main pass decoded around it, on the
/// frame that differs most from the one before, as [`refine_cut`] would
/// from a re-decode (the same difference, `FrameStats::diff[0]`); `None`
/// when those frames are not all there (the pass did not see the jump, or
/// kept no more frames).
fn place_from_near(
    near: &[(f64, features::Glance)],
    fps: f64,
    (p, n): (f64, f64),
    skipped: u64,
) -> Option<Option<f64>> {
    let half = 0.5 / fps;
    let i0 = near.partition_point(|f| f.0 < p - half);
    let i1 = near.partition_point(|f| f.0 < n + half);
    let win = &near[i0..i1];
    let ends = (win.first()?.0 - p).abs() < 1e-6 && (win.last()?.0 - n).abs() < 1e-6;
    if !ends || win.len() as u64 != skipped + 2 {
        return None;
    }
    let best = (1..win.len()).max_by(|&a, &b| {
        let d = |i: usize| win[i].1.diff(&win[i - 1].1);
        d(a).total_cmp(&d(b))
    });
    Some(best.map(|i| win[i].0))
}

/// How cuts are re-decoded: every frame (no skipping), video only, at the
/// analysis size, over `window` when given.
fn redecode_spec(
    info: &decode::ProbeInfo,
    (aw, ah): (u32, u32),
    opts: &AnalyseOptions,
    window: Option<(f64, f64)>,
) -> decode::DecodeSpec {
    decode::DecodeSpec {
        width: aw,
        height: ah,
        threads: opts.threads,
        skip_loop_filter: opts.skip_loop_filter,
        skip_nonref: false,
        jumps: None,
        audio: false,
        scale_flags: opts.scale_flags.clone(),
        side: None,
        window,
        seek: None,
        video: true,
        grid: false,
        field: info.field.filter(|_| opts.deinterlace),
        start_s: Some(info.start_time),
        stop: None,
    }
}

/// Decode every frame between two analysed frames around a cut and return
/// the time of the frame with the biggest jump from its predecessor.
fn refine_cut(
    film: &Path,
    info: &decode::ProbeInfo,
    (aw, ah): (u32, u32),
    opts: &AnalyseOptions,
    t_prev: f64,
    t_new: f64,
) -> Result<Option<f64>, AnalysisError> {
    let half = 0.5 / info.fps;
    let spec = redecode_spec(
        info,
        (aw, ah),
        opts,
        Some(((t_prev - half).max(0.0), t_new - t_prev + 2.0 * half)),
    );
    let mut ex = Extractor::new(aw, ah, 1.0 / info.fps);
    // Seeking is exact in indexed containers; in MPEG-TS and the like it
    // can land elsewhere: frames outside the window are not evidence.
    let (w0, w1) = (t_prev - half, t_new + half);
    decode::run_pass(
        film,
        &spec,
        &mut |f| {
            if f.t >= w0 && f.t < w1 {
                ex.push(f.t, 0, f.yuv)
            }
            true
        },
        None,
    )?;
    let s = ex.stats;
    if s.len() < 2 {
        return Ok(None);
    }
    let best = (1..s.len()).max_by(|&a, &b| s[a].diff[0].total_cmp(&s[b].diff[0]));
    Ok(best.map(|i| s[i].t))
}

/// Stretches of the film that were not delivered or were damaged, merged:
/// gaps in the frame times (over 4 frame steps and 0.5 s), a late start or
/// early end, and for each decoder error (stamped with the last frame out
/// before it) the time up to the next intra frame after it.
fn unreadable_spans(stats: &[FrameStats], error_times: &[f64], duration_s: f64) -> Vec<(f64, f64)> {
    if stats.is_empty() {
        return if duration_s > 0.0 {
            vec![(0.0, duration_s)]
        } else {
            Vec::new()
        };
    }
    let mut gaps: Vec<f64> = stats.windows(2).map(|w| w[1].t - w[0].t).collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let step = gaps.get(gaps.len() / 2).copied().unwrap_or(0.04);
    let limit = (4.0 * step).max(0.5);
    let mut spans: Vec<(f64, f64)> = stats
        .windows(2)
        .filter(|w| w[1].t - w[0].t > limit)
        .map(|w| (w[0].t + step, w[1].t))
        .collect();
    if stats[0].t > limit {
        spans.push((0.0, stats[0].t));
    }
    let last = stats[stats.len() - 1].t;
    if duration_s - last > limit {
        spans.push((last + step, duration_s));
    }
    for &e in error_times {
        let i = stats.partition_point(|s| s.t <= e + 1e-9);
        let end = stats[i.min(stats.len())..]
            .iter()
            .find(|s| s.intra)
            .map(|s| s.t)
            .unwrap_or(duration_s.max(last + step));
        spans.push((e, end.max(e + step)));
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(l) if a <= l.1 + 1e-9 => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out.retain(|(a, b)| b - a > 1e-9);
    out
}

/// Share of the face samples inside [s0, s1) that show a face, weighted by
/// the face's size (close-ups count more); the nearest sample stands in for
/// shots too short to contain one.
fn face_score(fs: &[faces::FaceSample], s0: f64, s1: f64) -> f64 {
    let val = |f: &faces::FaceSample| {
        if f.faces > 0 {
            0.5 + 0.5 * (f.largest as f64 * 10.0).min(1.0)
        } else {
            0.0
        }
    };
    let inside: Vec<f64> = fs
        .iter()
        .filter(|f| f.t >= s0 && f.t < s1)
        .map(val)
        .collect();
    if !inside.is_empty() {
        return inside.iter().sum::<f64>() / inside.len() as f64;
    }
    let mid = (s0 + s1) / 2.0;
    fs.iter()
        .min_by(|a, b| (a.t - mid).abs().total_cmp(&(b.t - mid).abs()))
        .filter(|f| (f.t - mid).abs() < 1.0)
        .map(val)
        .unwrap_or(0.0)
}

/// Robust min-max: 5th..95th percentile of the shots mapped to 0..1.
fn normalise(v: &[f64]) -> Vec<f64> {
    if v.is_empty() {
        return Vec::new();
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.05), q(0.95));
    if hi - lo < 1e-9 {
        // One shot, or all equal: nothing stands out; a lone shot is mid-scale.
        return vec![if v.len() == 1 { 0.5 } else { 0.0 }; v.len()];
    }
    v.iter()
        .map(|x| ((x - lo) / (hi - lo)).clamp(0.0, 1.0))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn build_shots(
    stats: &[FrameStats],
    boundaries: &[Boundary],
    flashes: &[f64],
    frame_count: u64,
    duration_s: f64,
    fps: f64,
    loud: &[f32],
    loud_step: f64,
    onsets: &[f64],
    face_samples: Option<&[faces::FaceSample]>,
) -> Vec<Shot> {
    let mut edges: Vec<(f64, u64)> = vec![(0.0, 0)];
    for b in boundaries {
        if b.time_s > edges.last().map(|e| e.0).unwrap_or(0.0) + 1e-6 {
            edges.push((b.time_s, b.frame));
        }
    }
    let end = (duration_s, frame_count);
    let in_transition = |t: f64| {
        boundaries
            .iter()
            .any(|b| b.kind != BoundaryKind::Cut && t >= b.start_s && t <= b.end_s)
    };
    let near_flash = |t: f64| flashes.iter().any(|f| (t - f).abs() < 0.2);
    let mut shots = Vec::new();
    let mut raw_hists: Vec<[f32; features::HIST]> = Vec::new();
    for (i, &(s0, f0)) in edges.iter().enumerate() {
        let (s1, f1) = edges.get(i + 1).copied().unwrap_or(end);
        let lo = stats.partition_point(|s| s.t < s0 - 1e-6);
        let hi = stats.partition_point(|s| s.t < s1 - 1e-6);
        let all: Vec<usize> = (lo..hi).collect();
        let clean: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&j| !in_transition(stats[j].t) && !near_flash(stats[j].t))
            .collect();
        let use_idx = if clean.is_empty() { all } else { clean };
        let n = use_idx.len().max(1) as f64;
        let mean =
            |f: &dyn Fn(&FrameStats) -> f64| use_idx.iter().map(|&j| f(&stats[j])).sum::<f64>() / n;
        let motion = use_idx
            .iter()
            .filter(|&&j| j > lo)
            .map(|&j| stats[j].diff[0] as f64 / (stats[j].t - stats[j - 1].t).max(1e-3))
            .sum::<f64>()
            / (use_idx.iter().filter(|&&j| j > lo).count().max(1) as f64);
        let key = use_idx
            .iter()
            .copied()
            .max_by(|&a, &b| stats[a].sharp.total_cmp(&stats[b].sharp))
            .map(|j| stats[j].t)
            .unwrap_or((s0 + s1) / 2.0);
        let mut hist = [0f32; features::HIST];
        for &j in &use_idx {
            for (h, v) in hist.iter_mut().zip(stats[j].hist.iter()) {
                *h += v / n as f32;
            }
        }
        raw_hists.push(hist);
        let (l0, l1) = (
            (s0 / loud_step).floor() as usize,
            ((s1 / loud_step).ceil() as usize).min(loud.len()),
        );
        let loudness = if l1 > l0 {
            loud[l0..l1].iter().map(|&x| x as f64).sum::<f64>() / (l1 - l0) as f64
        } else {
            -90.0
        };
        let onset_density =
            onsets.iter().filter(|&&t| t >= s0 && t < s1).count() as f64 / (s1 - s0).max(1.0 / fps);
        shots.push(Shot {
            index: i,
            start_s: s0,
            end_s: s1,
            start_frame: f0,
            end_frame: f1.saturating_sub(1).max(f0),
            keyframe_s: key,
            signals: Signals::default(),
            raw: Signals {
                motion,
                contrast: mean(&|s| s.luma_std as f64),
                saturation: mean(&|s| s.sat as f64),
                brightness: mean(&|s| s.luma as f64),
                uniqueness: 0.0,
                faces: match face_samples {
                    Some(fs) => face_score(fs, s0, s1),
                    None => mean(&|s| s.skin as f64),
                },
                loudness,
                onset_density,
            },
        });
    }
    // Uniqueness: mean colour-histogram distance to every other shot.
    let m = shots.len();
    for i in 0..m {
        let d: f64 = (0..m)
            .filter(|&j| j != i)
            .map(|j| features::hist_distance(&raw_hists[i], &raw_hists[j]) as f64)
            .sum();
        shots[i].raw.uniqueness = if m > 1 { d / (m - 1) as f64 } else { 0.0 };
    }
    type Get = fn(&mut Signals) -> &mut f64;
    let fields: [Get; 8] = [
        |s| &mut s.motion,
        |s| &mut s.contrast,
        |s| &mut s.saturation,
        |s| &mut s.brightness,
        |s| &mut s.uniqueness,
        |s| &mut s.faces,
        |s| &mut s.loudness,
        |s| &mut s.onset_density,
    ];
    for get in fields {
        let vals: Vec<f64> = shots.iter_mut().map(|s| *get(&mut s.raw)).collect();
        for (s, v) in shots.iter_mut().zip(normalise(&vals)) {
            *get(&mut s.signals) = v;
        }
    }
    shots
}

/// Times for keyframes: the sharpest frame of each shot, each subtitle
/// midpoint, and one every 30 s inside any longer gap; sorted, and times
/// within 0.5 s of an earlier one dropped.
pub fn keyframe_times(a: &FilmAnalysis, subtitle_midpoints: &[f64]) -> Vec<(f64, KeyframeKind)> {
    let last = (a.duration_s - 1.0 / a.fps.max(1.0)).max(0.0);
    let mut v: Vec<(f64, KeyframeKind)> = a
        .shots
        .iter()
        .map(|s| (s.keyframe_s, KeyframeKind::Shot(s.index)))
        .chain(
            subtitle_midpoints
                .iter()
                .filter(|t| t.is_finite() && **t >= 0.0 && **t <= a.duration_s)
                .map(|&t| (t, KeyframeKind::Subtitle)),
        )
        .map(|(t, k)| (t.clamp(0.0, last), k))
        .collect();
    v.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut out: Vec<(f64, KeyframeKind)> = Vec::new();
    for (t, k) in v {
        if out.last().is_some_and(|(p, _)| t - p < 0.5) {
            continue;
        }
        out.push((t, k));
    }
    // Interval fallback in gaps over 30 s (including film start and end).
    let mut edges: Vec<f64> = vec![0.0];
    edges.extend(out.iter().map(|(t, _)| *t));
    edges.push(last);
    let mut extra = Vec::new();
    for w in edges.windows(2) {
        let gap = w[1] - w[0];
        if gap > 30.0 {
            let k = (gap / 30.0).ceil() as usize;
            for j in 1..k {
                extra.push((w[0] + gap * j as f64 / k as f64, KeyframeKind::Interval));
            }
        }
    }
    out.extend(extra);
    out.sort_by(|x, y| x.0.total_cmp(&y.0));
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fa(duration: f64, keys: &[f64]) -> FilmAnalysis {
        FilmAnalysis {
            fps: 24.0,
            frame_count: (duration * 24.0) as u64,
            duration_s: duration,
            boundaries: vec![],
            shots: keys
                .iter()
                .enumerate()
                .map(|(i, &k)| Shot {
                    index: i,
                    start_s: 0.0,
                    end_s: 0.0,
                    start_frame: 0,
                    end_frame: 0,
                    keyframe_s: k,
                    signals: Signals::default(),
                    raw: Signals::default(),
                })
                .collect(),
            flashes: vec![],
            loudness_curve: LoudnessCurve::default(),
            has_audio: false,
            unreadable_s: 0.0,
            unreadable_spans: vec![],
            warnings: vec![],
            decode_errors: 0,
            frames_analysed: 0,
            analysis_width: 160,
            analysis_height: 90,
            refined_cuts: 0,
            redecoded_cuts: 0,
            decode_segments: 1,
            interlaced: false,
            key_s: vec![],
            faces_source: "skin_proxy".into(),
        }
    }

    #[test]
    fn keyframes_fill_long_gaps_and_merge_close_ones() {
        let a = fa(100.0, &[5.0, 5.2, 10.0]);
        let k = keyframe_times(&a, &[10.3, 20.0]);
        let shots = k
            .iter()
            .filter(|x| matches!(x.1, KeyframeKind::Shot(_)))
            .count();
        assert_eq!(shots, 2, "{k:?}");
        assert!(k
            .iter()
            .any(|x| x.1 == KeyframeKind::Subtitle && x.0 == 20.0));
        // 20 s → end (~100 s): 80 s gap gets interval frames, no gap > 30 s left.
        for w in k.windows(2) {
            assert!(w[1].0 - w[0].0 <= 30.0 + 1e-9, "{k:?}");
        }
        assert!(k.last().unwrap().0 < 100.0);
    }

    #[test]
    fn normalise_maps_to_unit_range_and_handles_constants() {
        let n = normalise(&[1.0, 2.0, 3.0, 100.0]);
        assert!(n.iter().all(|x| (0.0..=1.0).contains(x)));
        assert_eq!(n[0], 0.0);
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn analysis_size_keeps_aspect_and_even() {
        assert_eq!(analysis_size(1280, 720, 160), (160, 90));
        assert_eq!(analysis_size(720, 1280, 160), (160, 284));
        assert_eq!(analysis_size(100, 50, 160), (100, 50));
    }

    #[test]
    fn face_score_weights_size_and_uses_nearest_sample_for_short_shots() {
        let f = |t, faces, largest| faces::FaceSample { t, faces, largest };
        let fs = [
            f(0.0, 0, 0.0),
            f(2.0, 1, 0.1),
            f(4.0, 1, 0.01),
            f(6.0, 0, 0.0),
        ];
        assert_eq!(face_score(&fs, 0.0, 1.0), 0.0);
        assert!((face_score(&fs, 1.5, 2.5) - 1.0).abs() < 1e-9);
        assert!((face_score(&fs, 3.5, 4.5) - 0.55).abs() < 1e-6);
        // No sample inside 4.6..4.9: the nearest (4.0) is within 1 s.
        assert!(face_score(&fs, 4.6, 4.9) > 0.5);
        assert_eq!(face_score(&fs, 10.0, 10.5), 0.0);
    }

    #[test]
    fn unreadable_spans_cover_gaps_and_errors_up_to_the_next_intra_frame() {
        // 25 fps, frames 0..100 with 40..60 missing, an I-frame every 25.
        let stats: Vec<FrameStats> = (0..100)
            .filter(|i| !(40..60).contains(i))
            .map(|i| FrameStats {
                t: i as f64 * 0.04,
                intra: i % 25 == 0,
                ..Default::default()
            })
            .collect();
        let s = unreadable_spans(&stats, &[], 4.0);
        assert_eq!(s.len(), 1);
        assert!(
            (s[0].0 - 1.6).abs() < 1e-9 && (s[0].1 - 2.4).abs() < 1e-9,
            "{s:?}"
        );
        // A decoder error reported after frame 80 (3.2 s): damaged until the
        // film ends (no intra frame after it); one after frame 10 (0.4 s):
        // until the I-frame at 1.0 s.
        let s = unreadable_spans(&stats, &[3.2, 0.4], 4.0);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(
            (s[0].0 - 0.4).abs() < 1e-9 && (s[0].1 - 1.0).abs() < 1e-9,
            "{s:?}"
        );
        assert!(
            (s[2].0 - 3.2).abs() < 1e-9 && (s[2].1 - 4.0).abs() < 1e-9,
            "{s:?}"
        );
        assert!(unreadable_spans(&stats[..0], &[], 2.0) == vec![(0.0, 2.0)]);
    }

    #[test]
    fn frame_of_uses_grid() {
        let grid = vec![0.0, 0.04, 0.1, 0.2];
        assert_eq!(frame_of(&grid, true, 0.1, 25.0), 2);
        assert_eq!(frame_of(&[], false, 1.0, 25.0), 25);
    }
}
