//! One film's analysis, step by step: the main pass planned from the probe's
//! stream facts and run (faces sampled beside it), its frames put on the
//! film's frame grid, the boundaries detected and placed ([`super::refine`]),
//! the shots measured ([`super::shots`]) and the damage reported. Also the
//! start on the film's header while the probe runs ([`analyse_guessing`]).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::decode::{self, DecodeSpec, JumpRule, ProbeInfo};
use super::features::FrameStats;
use super::shots::{build_shots, ShotInputs};
use super::timeline::{keep_times_increasing, unreadable_spans, FrameGrid};
use super::{
    audio, decoder, detect, faces, refine, segments, AnalyseOptions, AnalysisError, Boundary,
    FilmAnalysis, LoudnessCurve,
};

/// One film's analysis: the file, its stream facts, the options and the
/// size of the analysed pictures; what every step after the probe reads.
#[derive(Clone, Copy)]
pub(super) struct Job<'a> {
    pub film: &'a Path,
    pub info: &'a ProbeInfo,
    pub opts: &'a AnalyseOptions,
    /// Width and height of the analysed pictures.
    pub size: (u32, u32),
}

/// The analysed picture size: `want` wide (16..160, at most the film's
/// width), the height from the display aspect; both even.
pub(super) fn analysis_size(w: u32, h: u32, want: u32) -> (u32, u32) {
    let aw = (want.clamp(16, 160).min(w.max(2)) / 2) * 2;
    let ah = (((aw as f64 * h as f64 / w as f64) / 2.0).round() as u32 * 2).max(2);
    (aw, ah)
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
pub(super) fn analyse_guessing<E: Send>(
    film: &Path,
    guess: ProbeInfo,
    probe: impl FnOnce() -> Result<ProbeInfo, E> + Send,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError>, E> {
    let stop = Arc::new(AtomicBool::new(false));
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

/// Analyse `film` with the stream facts `info`. `stop`: the passes stop
/// once it is set, and the analysis ends with an error (see
/// [`analyse_guessing`], which discards it).
pub(super) fn analyse_info(
    film: &Path,
    info: ProbeInfo,
    opts: &AnalyseOptions,
    progress: &mut dyn FnMut(f64),
    stop: Option<&Arc<AtomicBool>>,
) -> Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError> {
    let job = Job {
        film,
        info: &info,
        opts,
        size: analysis_size(info.width, info.height, opts.analysis_width),
    };
    let faces = faces::Sampling::plan(opts, info.width, info.height)?;
    let split_at = if opts.split {
        segments::split_point(info.duration_s, &decoder::index_keys(film, info.start_time))
    } else {
        None
    };
    let (sinks, samples) = faces.sinks(if split_at.is_some() { 2 } else { 1 });
    let spec = main_pass_spec(&job, faces.side_spec(opts.face_every_s), stop);
    let decoded = segments::decode(
        film,
        &spec,
        1.0 / info.fps,
        info.duration_s,
        split_at,
        sinks,
        progress,
    )?;
    if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
        return Err(AnalysisError::Ffmpeg {
            film: film.to_path_buf(),
            problem: "stopped: the probe found other stream facts than the header".into(),
        });
    }
    let face_samples = faces.collect(samples, decoded.join);
    let a = Measured::of(&job, decoded).into_analysis(&job, face_samples.as_deref())?;
    progress(a.0.duration_s);
    Ok(a)
}

/// How the main pass decodes: every reference frame at the analysis size
/// (with the skipped frames around jumps where the options ask for them),
/// the sound, and the packet grid where frames are skipped.
fn main_pass_spec(
    job: &Job<'_>,
    side: Option<decode::SideSpec>,
    stop: Option<&Arc<AtomicBool>>,
) -> DecodeSpec {
    let (opts, info) = (job.opts, job.info);
    DecodeSpec {
        width: job.size.0,
        height: job.size.1,
        threads: opts.threads,
        skip_loop_filter: opts.skip_loop_filter,
        skip_nonref: opts.skip_nonref,
        // Half the smallest cut difference: a cut never goes unseen, and
        // motion seldom reaches it.
        jumps: (opts.skip_nonref && opts.near_cuts).then_some(JumpRule {
            cut_min: opts.detect.cut_min,
            cut_ratio: opts.detect.cut_ratio,
            contrast_ref: opts.detect.contrast_ref,
            contrast_floor: opts.detect.contrast_floor,
            share: 0.5,
        }),
        audio: info.has_audio,
        scale_flags: opts.scale_flags.clone(),
        side,
        window: None,
        seek: None,
        video: true,
        // The grid matters only where frames are skipped; without skipping
        // every frame's own timestamp is decoded anyway.
        grid: opts.skip_nonref,
        field: info.field.filter(|_| opts.deinterlace),
        start_s: Some(info.start_time),
        stop: stop.cloned(),
    }
}

/// The main pass's frames on the film's time line: frame numbers from the
/// packet grid, the film's length, and the stretches it could not decode.
struct Measured {
    decoded: segments::Decoded,
    grid: FrameGrid,
    frame_count: u64,
    duration_s: f64,
    /// Unreadable stretches, (start, end) in seconds.
    spans: Vec<(f64, f64)>,
}

impl Measured {
    fn of(job: &Job<'_>, mut decoded: segments::Decoded) -> Self {
        let fps = job.info.fps;
        let stats = &mut decoded.stats;
        keep_times_increasing(stats);
        let grid = FrameGrid::aligned(decoded.report.grid.clone(), stats, fps);
        for s in stats.iter_mut() {
            s.frame = grid.frame_of(s.t);
        }
        let frame_count = grid.frame_count(job.info.duration_s);
        let duration_s = if job.info.duration_s > 0.0 {
            job.info.duration_s
        } else {
            stats.last().map(|s| s.t + 1.0 / fps).unwrap_or(0.0)
        };
        let spans = unreadable_spans(stats, &decoded.report.error_times, duration_s);
        Measured {
            decoded,
            grid,
            frame_count,
            duration_s,
            spans,
        }
    }

    /// Detect and place the boundaries, measure the shots and the sound,
    /// and say what could not be decoded.
    fn into_analysis(
        self,
        job: &Job<'_>,
        face_samples: Option<&[faces::FaceSample]>,
    ) -> Result<(FilmAnalysis, Vec<FrameStats>), AnalysisError> {
        let (opts, info) = (job.opts, job.info);
        let segments::Decoded {
            stats,
            halves,
            report,
            join,
        } = self.decoded;
        let detected = detect::detect(&stats, &opts.detect, &halves);
        let flashes = detect::detect_flashes(&stats, &opts.detect);
        let placed = refine::place_boundaries(job, &stats, &detected, &report, &self.grid)?;
        let (boundaries, dropped_in_damage) =
            keep_clear_boundaries(placed.boundaries, self.duration_s, &self.spans);
        let loud = if report.audio_energy.is_empty() {
            Vec::new()
        } else {
            audio::loudness_curve(&report.audio_energy, opts.loudness_step_s)
        };
        let onsets = audio::onsets(&report.audio_energy);
        let shots = build_shots(&ShotInputs {
            stats: &stats,
            boundaries: &boundaries,
            flashes: &flashes,
            frame_count: self.frame_count,
            duration_s: self.duration_s,
            fps: info.fps,
            loud: &loud,
            loud_step: opts.loudness_step_s,
            onsets: &onsets,
            face_samples,
        });
        let unreadable_s = self.spans.iter().fold(0.0, |acc, (a, b)| acc + (b - a));
        let mut warnings = Vec::new();
        if unreadable_s > 0.0 || report.decode_errors > 0 {
            warnings.push(damage_warning(
                job.film,
                unreadable_s,
                self.duration_s,
                report.decode_errors,
                &self.spans,
                dropped_in_damage,
            ));
        }
        let a = FilmAnalysis {
            fps: info.fps,
            frame_count: self.frame_count,
            duration_s: self.duration_s,
            boundaries,
            shots,
            flashes,
            loudness_curve: LoudnessCurve {
                step_s: opts.loudness_step_s,
                db: loud,
            },
            has_audio: info.has_audio,
            unreadable_s,
            unreadable_spans: self.spans,
            warnings,
            decode_errors: report.decode_errors,
            frames_analysed: stats.len(),
            analysis_width: job.size.0,
            analysis_height: job.size.1,
            refined_cuts: placed.refined_cuts,
            redecoded_cuts: placed.redecoded_cuts,
            decode_segments: if join.is_some() { 2 } else { 1 },
            interlaced: info.field.is_some(),
            faces_source: faces::source_name(face_samples).into(),
            key_s: stats.iter().filter(|s| s.key).map(|s| s.t).collect(),
        };
        Ok((a, stats))
    }
}

/// The boundaries in time order, strictly increasing (a refined cut may
/// land on a neighbour's frame), inside the film and not inside damage
/// (damage looks like a cut); also how many were inside damage.
fn keep_clear_boundaries(
    mut boundaries: Vec<Boundary>,
    duration_s: f64,
    spans: &[(f64, f64)],
) -> (Vec<Boundary>, usize) {
    boundaries.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    boundaries.dedup_by(|b, a| b.time_s <= a.time_s + 1e-6 || b.frame <= a.frame);
    boundaries.retain(|b| b.time_s > 1e-6 && b.time_s < duration_s);
    let before = boundaries.len();
    boundaries.retain(|b| {
        !spans
            .iter()
            .any(|&(s0, s1)| b.time_s > s0 + 1e-6 && b.time_s < s1 - 1e-6)
    });
    let dropped = before - boundaries.len();
    (boundaries, dropped)
}

/// The warning for a film that could not all be decoded cleanly.
fn damage_warning(
    film: &Path,
    unreadable_s: f64,
    duration_s: f64,
    decode_errors: usize,
    spans: &[(f64, f64)],
    dropped_in_damage: usize,
) -> String {
    format!(
        "{}: {:.1} s of {:.1} s could not be decoded cleanly ({} decoder errors, {} stretch{}: {}); analysed the rest{}",
        film.display(),
        unreadable_s,
        duration_s,
        decode_errors,
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
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_size_keeps_aspect_and_even() {
        assert_eq!(analysis_size(1280, 720, 160), (160, 90));
        assert_eq!(analysis_size(720, 1280, 160), (160, 284));
        assert_eq!(analysis_size(100, 50, 160), (100, 50));
    }
}
