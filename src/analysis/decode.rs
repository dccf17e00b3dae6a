//! What the analysis asks of a decoder: stream facts from the project's one
//! probe (`media::probe`), the spec of a pass (size, skipping, segment or
//! window, side picture, sound, packet grid), the frames and report it gives
//! back, and keyframe JPEGs by seeking (an ffmpeg process). The passes
//! themselves run in process ([`super::decoder`]).
//! Nothing here knows about shots; detectors only ever see decoded frames.

use crate::media::process::Process;
use std::path::{Path, PathBuf};

use super::AnalysisError;

/// Sample rate of the mono PCM used for loudness and onsets; speech and music
/// energy are well represented at 8 kHz and it keeps the pipe small.
pub const AUDIO_RATE: u32 = 8000;

/// The film as an ffmpeg input: with `file:` so that names containing a
/// colon ("take:2.mov") or starting with a protocol are read as plain files.
fn ff_input(film: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from("file:");
    s.push(film.as_os_str());
    s
}

fn ff_err(film: &Path, problem: impl Into<String>) -> AnalysisError {
    AnalysisError::Ffmpeg {
        film: film.to_path_buf(),
        problem: problem.into(),
    }
}

/// Stream facts needed to plan the decode, from [`crate::media::probe`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInfo {
    /// Display width/height after rotation metadata and pixel aspect are applied.
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub duration_s: f64,
    pub has_audio: bool,
    pub codec: String,
    /// Start time of the container; ffmpeg shifts output timestamps by it.
    pub start_time: f64,
    /// Interlaced video: which field to keep ("top"/"bottom", the first one
    /// shown); `None` for progressive or unknown.
    pub field: Option<&'static str>,
}

impl ProbeInfo {
    /// The analysis' view of a probe: display size in square pixels.
    pub fn from_probe(p: &crate::media::probe::Probe) -> Self {
        let (mut width, height) = p.display_size();
        // Non-square pixels: analyse in display aspect. The pixel aspect
        // stretches the coded width, which is the display height when rotated.
        if p.rotation.rem_euclid(180) == 90 {
            let h = ((height as f64) * p.sample_aspect_ratio).round().max(2.0) as u32;
            return ProbeInfo::new(p, width, h);
        }
        width = ((width as f64) * p.sample_aspect_ratio).round().max(2.0) as u32;
        ProbeInfo::new(p, width, height)
    }

    fn new(p: &crate::media::probe::Probe, width: u32, height: u32) -> Self {
        ProbeInfo {
            width,
            height,
            fps: p.fps,
            duration_s: p.duration_s,
            has_audio: p.has_audio,
            codec: p.video_codec.clone(),
            start_time: p.start_time_s,
            field: p.interlaced().then(|| {
                if p.bottom_field_first() {
                    "bottom"
                } else {
                    "top"
                }
            }),
        }
    }
}

/// Probe the film once with [`crate::media::probe::probe`] (streams,
/// duration, rotation, pixel aspect, field order).
pub fn probe(film: &Path) -> Result<ProbeInfo, AnalysisError> {
    crate::media::probe::probe(film)
        .map(|p| ProbeInfo::from_probe(&p))
        .map_err(|e| probe_error(film, e))
}

/// The analysis' error for a failed probe: the film and the problem.
pub fn probe_error(film: &Path, e: crate::media::MediaError) -> AnalysisError {
    use crate::media::{InputProblem, MediaError as M};
    match e {
        M::Input {
            problem: InputProblem::NoVideoStream,
            ..
        } => AnalysisError::NoVideo(film.to_path_buf()),
        M::Input { problem, .. } => AnalysisError::BadFile {
            path: film.to_path_buf(),
            problem: problem.to_string(),
        },
        other => ff_err(film, other.to_string()),
    }
}

/// One decoded analysis frame.
pub struct Frame<'a> {
    /// Presentation time in seconds from the film's start.
    pub t: f64,
    /// Picture type from the decoder ('I', 'P', 'B', '?').
    pub pict_type: char,
    /// The decoder marked it a key frame (a seek can start decoding here).
    pub key: bool,
    /// yuv420p planes at the analysis size.
    pub yuv: &'a [u8],
}

/// How to run the main pass.
#[derive(Debug, Clone)]
pub struct DecodeSpec {
    pub width: u32,
    pub height: u32,
    pub threads: usize,
    /// Skip the in-loop deblocking filter: the picture is a little blockier
    /// but statistics at 160 px do not change, and H.264 decodes ~15% faster.
    pub skip_loop_filter: bool,
    /// Skip non-reference frames (most B-frames): about half the decode work;
    /// cuts that fall next to a skipped frame are placed by a narrow re-decode.
    pub skip_nonref: bool,
    /// With `skip_nonref`: decode the skipped frames after all where the
    /// reference frames around them differ enough to be a cut, and hand them
    /// back in [`PassReport::near_cuts`] (not to `on_frame`), so that such a
    /// cut is placed without a re-decode.
    pub jumps: Option<JumpRule>,
    pub audio: bool,
    /// swscale flags for the downscale ("bilinear", "area", "fast_bilinear").
    pub scale_flags: String,
    /// Optional grey side picture at a low rate (for face detection).
    pub side: Option<SideSpec>,
    /// Optional window (start, duration) for narrow decodes.
    pub window: Option<(f64, f64)>,
    /// Start at the keyframe at or before this time (a segment of a split
    /// decode): frames come out from that keyframe on, none are decoded and
    /// thrown away, and the first frame's time says where the segment begins.
    pub seek: Option<f64>,
    /// Decode the picture at all; false for the side pass that only
    /// demuxes the frame grid and decodes the sound.
    pub video: bool,
    /// Also collect every video packet's timestamp: the frame grid, at no
    /// decoding cost.
    pub grid: bool,
    /// The container's start time, when the film was probed already: a
    /// pass then reads only the file's header where that holds what the
    /// decoders need (see `media::libav::open_header`).
    pub start_s: Option<f64>,
    /// Interlaced input: keep only this field ("top"/"bottom") before the
    /// downscale, so a cut between the two fields of a frame stays one jump
    /// instead of a half-and-half blend.
    pub field: Option<&'static str>,
    /// Stop at the next packet once this is set: the pass was started on
    /// what the film's header said, and the probe has since found otherwise.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// When two reference frames in a row differ like a cut might: by at least
/// `share` of what the detector asks of a cut, that is of its smallest cut
/// difference at their contrast and of its ratio to the differences around
/// (see `DetectParams::cut_min`, `cut_ratio`, `contrast_ref`,
/// `contrast_floor`; only the differences before are known here).
#[derive(Debug, Clone, Copy)]
pub struct JumpRule {
    pub cut_min: f32,
    pub cut_ratio: f32,
    pub contrast_ref: f32,
    pub contrast_floor: f32,
    pub share: f32,
}

impl JumpRule {
    /// `median_before`: the median difference between the reference
    /// frames before `a`, when there are a few.
    pub fn is_jump(
        &self,
        a: &super::features::Glance,
        b: &super::features::Glance,
        median_before: Option<f32>,
    ) -> bool {
        let scale =
            (a.luma_std.max(b.luma_std) / self.contrast_ref).clamp(self.contrast_floor, 1.0);
        let d = a.diff(b);
        d >= self.share * self.cut_min * scale
            && median_before.is_none_or(|m| d >= self.share * self.cut_ratio * m)
    }
}

/// A second, larger grey picture: the first frame of every `every_s`
/// seconds of film (counted from the film's start, so that parallel segments
/// pick the same frames as one pass), from the same decode.
#[derive(Debug, Clone, Copy)]
pub struct SideSpec {
    pub width: u32,
    pub height: u32,
    pub every_s: f64,
}

/// Builds, on the side-stream reader thread, the consumer of side frames
/// (time, grey pixels); the consumer itself need not be `Send`.
pub type SideSinkFactory = Box<dyn FnOnce() -> Box<dyn FnMut(f64, &[u8])> + Send>;

/// What the pass reports besides the frames.
#[derive(Debug, Default, Clone)]
pub struct PassReport {
    pub frames: usize,
    /// Mean-square audio energy per 10 ms (see `audio::Energy`).
    pub audio_energy: Vec<f32>,
    pub decode_errors: usize,
    /// Time of the last delivered frame when each decoder error was reported
    /// (errors come a few frames ahead of the output; see `analyse`).
    pub error_times: Vec<f64>,
    /// Presentation time of every video packet (sorted), when `grid` was asked.
    pub grid: Vec<f64>,
    /// Presentation times of the key packets (sorted), with the grid.
    pub keyframes: Vec<f64>,
    /// With [`DecodeSpec::jumps`]: (time, coarse summary) of the skipped
    /// frames decoded between two reference frames that jump, and of those
    /// two reference frames; sorted by time. The summary is what a frame's
    /// difference to the one before is computed from.
    pub near_cuts: Vec<(f64, super::features::Glance)>,
    pub stderr_tail: String,
    /// `on_frame` asked to stop before the end.
    pub stopped: bool,
}

pub use super::decoder::{run_pass, run_windows};

/// Write one JPEG per time (long side at most `max_side`), seeking to each
/// time instead of decoding the film; batches several seeks per process.
pub fn extract_jpegs(
    film: &Path,
    times: &[f64],
    out_dir: &Path,
    max_side: u32,
) -> Result<Vec<PathBuf>, AnalysisError> {
    std::fs::create_dir_all(out_dir).map_err(|e| AnalysisError::Write {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let scale = format!(
        "scale='if(gte(iw,ih),min({m},iw),-2)':'if(gte(iw,ih),-2,min({m},ih))'",
        m = max_side
    );
    let mut paths = Vec::with_capacity(times.len());
    for (batch_i, batch) in times.chunks(12).enumerate() {
        let mut cmd =
            Process::ffmpeg().args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]);
        for t in batch {
            cmd = cmd
                .args(["-ss", &format!("{:.3}", t.max(0.0))])
                .arg("-i")
                .arg(ff_input(film));
        }
        let mut batch_paths = Vec::new();
        for (i, t) in batch.iter().enumerate() {
            let p = out_dir.join(format!("kf_{:05}_{:010.3}.jpg", batch_i * 12 + i, t));
            cmd = cmd
                .args(["-map", &format!("{i}:v:0"), "-frames:v", "1", "-vf", &scale])
                .args(["-q:v", "3", "-update", "1"])
                .arg(&p);
            batch_paths.push(p);
        }
        let out = cmd
            .output()
            .map_err(|e| ff_err(film, format!("cannot run ffmpeg: {}", e.os_detail())))?;
        if !out.status.success() {
            return Err(ff_err(
                film,
                format!("keyframe extraction failed: {}", out.stderr.trim()),
            ));
        }
        for p in batch_paths {
            if !p.is_file() {
                return Err(ff_err(film, format!("no frame written to {}", p.display())));
            }
            paths.push(p);
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_picture_has_no_video_and_a_file_of_text_is_bad() {
        let dir = tempfile::tempdir().unwrap();
        let tone = dir.path().join("tone.wav");
        let samples: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        std::fs::write(&tone, crate::media::wav::pcm16(&samples, 8000, 1)).unwrap();
        let e = probe(&tone).unwrap_err();
        assert!(matches!(&e, AnalysisError::NoVideo(p) if p == &tone), "{e}");
        let text = dir.path().join("notes.mp4");
        std::fs::write(&text, "this is not a film").unwrap();
        let e = probe(&text).unwrap_err();
        assert!(
            matches!(&e, AnalysisError::BadFile { path, .. } if path == &text),
            "{e}"
        );
    }
}
