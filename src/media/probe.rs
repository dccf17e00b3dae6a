//! Probing a film: streams, duration, frame rate, rotation, audio.
//!
//! Read in process through libavformat (what ffprobe itself calls, without
//! its process start: ~0.08 s per probe), into the fields ffprobe's JSON
//! would hold, so one set of rules below reads either.
//! Inputs are validated by what libavformat finds in them, never by
//! extension: a text file renamed `.mp4` fails here with a message that
//! says so.

use super::process::Process;
use super::{InputProblem, MediaError};
use ffmpeg_next::ffi;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    pub path: PathBuf,
    pub format: String,
    pub duration_s: f64,
    /// Average frame rate (frames / duration), right for variable frame rate.
    pub fps: f64,
    /// The stream's nominal rate; differs from `fps` on variable frame rate files.
    pub nominal_fps: f64,
    /// The exact rational rate `fps` was read from (`24000/1001`, not 23.976):
    /// timeline exports count frames in it. None when the stream states none.
    #[serde(default)]
    pub frame_rate: Option<(u32, u32)>,
    pub variable_frame_rate: bool,
    pub video_codec: String,
    /// Coded size.
    pub width: u32,
    pub height: u32,
    /// Degrees clockwise the picture must be turned to display upright.
    pub rotation: i32,
    pub has_audio: bool,
    pub audio_codec: Option<String>,
    pub audio_channels: u32,
    pub audio_sample_rate: u32,
    /// Text subtitle streams (stream index, codec, language).
    pub subtitle_streams: Vec<SubtitleStream>,
    /// Start time of the container in seconds (ffmpeg shifts its output
    /// timestamps by it); 0 when unknown.
    #[serde(default)]
    pub start_time_s: f64,
    /// Pixel aspect ratio (sample aspect ratio) of the video; 1 for square pixels.
    #[serde(default = "one")]
    pub sample_aspect_ratio: f64,
    /// The video's field order as ffprobe names it: "progressive", "tt",
    /// "bb", "tb", "bt", or "" when the stream does not say.
    #[serde(default)]
    pub field_order: String,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubtitleStream {
    pub index: u32,
    pub codec: String,
    pub language: Option<String>,
}

impl Probe {
    /// True when the stream says its frames are interlaced (two fields).
    pub fn interlaced(&self) -> bool {
        matches!(self.field_order.as_str(), "tt" | "bb" | "tb" | "bt")
    }

    /// True when the first field shown is the bottom one ("tb" is top
    /// coded first but bottom displayed first).
    pub fn bottom_field_first(&self) -> bool {
        matches!(self.field_order.as_str(), "bb" | "tb")
    }

    /// Picture size as displayed (rotation applied).
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation.rem_euclid(180) == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    start_time: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawStream {
    index: u32,
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    nb_frames: Option<String>,
    channels: Option<u32>,
    sample_rate: Option<String>,
    sample_aspect_ratio: Option<String>,
    field_order: Option<String>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
}

/// `num/den` as whole numbers (both positive), as ffprobe writes a rational.
fn rational(s: &Option<String>) -> Option<(u32, u32)> {
    let (a, b) = s.as_deref()?.split_once('/')?;
    let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
    (a > 0 && b > 0).then_some((a, b))
}

fn ratio(s: &Option<String>) -> f64 {
    let Some(s) = s else { return 0.0 };
    match s.split_once('/') {
        Some((a, b)) => {
            let (a, b) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            if b > 0.0 {
                a / b
            } else {
                0.0
            }
        }
        None => s.parse().unwrap_or(0.0),
    }
}

fn num(s: &Option<String>) -> Option<f64> {
    s.as_ref()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

type Result<T> = std::result::Result<T, MediaError>;

/// Probes `path`. Errors are [`MediaError::Input`], naming the file.
pub fn probe(path: &Path) -> Result<Probe> {
    let bad = |problem| MediaError::input(path, problem);
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad(InputProblem::NotFound),
        _ => bad(InputProblem::Unreadable(e)),
    })?;
    if meta.is_dir() {
        return Err(bad(InputProblem::Folder));
    }
    if meta.len() == 0 {
        return Err(bad(InputProblem::Empty));
    }
    let raw = read_streams(path, false).map_err(|msg| bad(InputProblem::NotMedia(msg)))?;
    from_raw(path, raw)
}

/// What the container's header alone says of `path`, in the form of
/// [`probe`]: no frame is decoded (the stream information `probe` gathers
/// decodes the first frames: 10–15 ms for a 720p H.264 key frame). A guess
/// to start work on while [`probe`] runs, never a substitute for it: what
/// only the frames tell (the field order, a pixel aspect given in the
/// bitstream, a start time from the packets) is missing or provisional.
/// `None` when the header does not announce every stream's codec and size
/// (MPEG-TS) or cannot be read.
pub fn probe_header(path: &Path) -> Option<Probe> {
    let raw = read_streams(path, true).ok()?;
    from_raw(path, raw).ok()
}

/// What ffprobe's `-show_format -show_streams` would print, read with
/// libavformat: the same fields, computed the way ffprobe computes them.
/// With `header_only`, from the header alone ([`probe_header`]).
fn read_streams(path: &Path, header_only: bool) -> std::result::Result<Raw, String> {
    let ictx = if header_only {
        super::libav::open_header(path).ok_or("the header does not describe every stream")?
    } else {
        super::libav::open(path)?
    };
    // SAFETY: reading fields of an open format context and its streams,
    // which live as long as `ictx`.
    unsafe {
        let c = ictx.as_ptr();
        let streams = (0..(*c).nb_streams as usize)
            .map(|i| raw_stream(c, i))
            .collect();
        Ok(Raw {
            streams,
            format: Some(raw_format(c)),
        })
    }
}

/// `Some(num/den)` as ffprobe writes a rational, `None` for a zero denominator.
fn rational_text(r: ffi::AVRational) -> Option<String> {
    (r.den != 0).then(|| format!("{}/{}", r.num, r.den))
}

/// A timestamp in `tb` seconds per tick as ffprobe writes it; `None` when unset.
fn seconds_text(v: i64, tb: f64) -> Option<String> {
    (v != ffi::AV_NOPTS_VALUE).then(|| format!("{:.6}", v as f64 * tb))
}

/// A C string from libav as an owned string; `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string.
unsafe fn c_text(p: *const std::os::raw::c_char) -> Option<String> {
    (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// Stream `i` of the open format context `c`, as ffprobe's JSON lists it.
///
/// # Safety
/// `c` is an open format context with more than `i` streams.
unsafe fn raw_stream(c: *const ffi::AVFormatContext, i: usize) -> RawStream {
    let st = *(*c).streams.add(i);
    let par = (*st).codecpar;
    let tb = (*st).time_base.num as f64 / (*st).time_base.den.max(1) as f64;
    let codec_type = codec_type_name((*par).codec_type);
    let video = codec_type == "video";
    let audio = codec_type == "audio";
    let sar = ffi::av_guess_sample_aspect_ratio(c as *mut _, st, std::ptr::null_mut());
    let mut disposition = std::collections::HashMap::new();
    disposition.insert(
        "attached_pic".to_string(),
        i64::from((*st).disposition & ffi::AV_DISPOSITION_ATTACHED_PIC != 0),
    );
    RawStream {
        index: i as u32,
        codec_type: Some(codec_type.into()),
        codec_name: c_text(ffi::avcodec_get_name((*par).codec_id)),
        width: (video && (*par).width > 0).then_some((*par).width as u32),
        height: (video && (*par).height > 0).then_some((*par).height as u32),
        avg_frame_rate: rational_text((*st).avg_frame_rate),
        r_frame_rate: rational_text((*st).r_frame_rate),
        duration: seconds_text((*st).duration, tb),
        nb_frames: ((*st).nb_frames > 0).then(|| (*st).nb_frames.to_string()),
        channels: audio.then_some((*par).ch_layout.nb_channels.max(0) as u32),
        sample_rate: audio.then(|| (*par).sample_rate.to_string()),
        sample_aspect_ratio: (video && sar.num > 0 && sar.den > 0)
            .then(|| format!("{}:{}", sar.num, sar.den)),
        field_order: video.then(|| field_order_name((*par).field_order).to_string()),
        tags: stream_tags(st),
        side_data_list: if video {
            display_matrix(st).into_iter().collect()
        } else {
            Vec::new()
        },
        disposition,
    }
}

/// The container's format name, duration and start time.
///
/// # Safety
/// `c` is an open format context.
unsafe fn raw_format(c: *const ffi::AVFormatContext) -> RawFormat {
    RawFormat {
        format_name: (!(*c).iformat.is_null())
            .then(|| c_text((*(*c).iformat).name))
            .flatten(),
        duration: seconds_text((*c).duration, 1.0 / ffi::AV_TIME_BASE as f64),
        start_time: seconds_text((*c).start_time, 1.0 / ffi::AV_TIME_BASE as f64),
    }
}

fn codec_type_name(t: ffi::AVMediaType) -> &'static str {
    match t {
        ffi::AVMediaType::AVMEDIA_TYPE_VIDEO => "video",
        ffi::AVMediaType::AVMEDIA_TYPE_AUDIO => "audio",
        ffi::AVMediaType::AVMEDIA_TYPE_SUBTITLE => "subtitle",
        ffi::AVMediaType::AVMEDIA_TYPE_DATA => "data",
        ffi::AVMediaType::AVMEDIA_TYPE_ATTACHMENT => "attachment",
        _ => "unknown",
    }
}

fn field_order_name(order: ffi::AVFieldOrder) -> &'static str {
    use ffi::AVFieldOrder as F;
    match order {
        F::AV_FIELD_PROGRESSIVE => "progressive",
        F::AV_FIELD_TT => "tt",
        F::AV_FIELD_BB => "bb",
        F::AV_FIELD_TB => "tb",
        F::AV_FIELD_BT => "bt",
        _ => "unknown",
    }
}

/// The stream's display matrix rotation as ffprobe's side data lists it.
///
/// # Safety
/// `st` is a stream of an open format context.
unsafe fn display_matrix(st: *const ffi::AVStream) -> Option<serde_json::Value> {
    let mut size = 0usize;
    let m = ffi::av_stream_get_side_data(
        st,
        ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
        &mut size,
    );
    if m.is_null() || size < 36 {
        return None;
    }
    let r = ffi::av_display_rotation_get(m as *const i32);
    r.is_finite().then(|| {
        serde_json::json!({
            "side_data_type": "Display Matrix",
            "rotation": r,
        })
    })
}

/// The stream tags the probe reads: `language` and `rotate`.
///
/// # Safety
/// `st` is a stream of an open format context.
unsafe fn stream_tags(st: *const ffi::AVStream) -> std::collections::HashMap<String, String> {
    let mut tags = std::collections::HashMap::new();
    for key in ["language", "rotate"] {
        let k = std::ffi::CString::new(key).unwrap_or_default();
        let e = ffi::av_dict_get((*st).metadata, k.as_ptr(), std::ptr::null(), 0);
        if !e.is_null() {
            if let Some(v) = c_text((*e).value) {
                tags.insert(key.to_string(), v);
            }
        }
    }
    tags
}

/// Which of `candidates` (key frame times, sorted) a seek lands on.
///
/// A decoder's key frame is not always a seek point: the container's index
/// may list only some of them (Big Buck Bunny's MP4 lists 117 of the 190
/// key frames the decoder reports; a seek near the others starts decoding
/// up to 3 s earlier). One ffprobe seeks to every candidate in turn and
/// reads the first packet there, without parsers, so a packet's key flag is
/// the index's own; a candidate is a seek point when that packet is it
/// (within `tolerance_s`: the candidates' times may be rounded). Returns
/// the seek points' exact times, sorted.
pub fn seek_points(path: &Path, candidates: &[f64], tolerance_s: f64) -> Result<Vec<f64>> {
    let mut landed: Vec<f64> = Vec::new();
    // Keep each -read_intervals argument well under the kernel's limit.
    for chunk in candidates.chunks(2000) {
        let intervals = chunk
            .iter()
            // Seek a little past the candidate: a rounded time just before
            // the frame would land on the key frame before it.
            .map(|t| format!("{:.6}%+#1", t + tolerance_s))
            .collect::<Vec<_>>()
            .join(",");
        let mut file = std::ffi::OsString::from("file:");
        file.push(path);
        let out = Process::ffprobe()
            .args(crate::args![
                "-v",
                "error",
                "-fflags",
                "+noparse+nofillin",
                "-select_streams",
                "v:0",
                "-read_intervals",
                intervals,
                "-show_entries",
                "packet=pts_time,flags",
                "-of",
                "csv=p=0",
                file
            ])
            .stdout()?;
        landed.extend(String::from_utf8_lossy(&out).lines().filter_map(|l| {
            let (t, flags) = l.split_once(',')?;
            flags
                .starts_with('K')
                .then(|| t.trim().parse::<f64>().ok())?
        }));
    }
    landed.sort_by(|a, b| a.total_cmp(b));
    landed.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    Ok(landed
        .into_iter()
        .filter(|&l| {
            let i = candidates.partition_point(|&c| c < l - tolerance_s);
            candidates
                .get(i)
                .is_some_and(|&c| (c - l).abs() <= tolerance_s)
        })
        .collect())
}

/// Reads ffprobe's JSON (`-show_format -show_streams`) by the same rules:
/// the tests hold the in-process probe to what ffprobe reports.
pub fn from_ffprobe_json(path: &Path, json: &[u8]) -> Result<Probe> {
    let raw: Raw = serde_json::from_slice(json)
        .map_err(|e| MediaError::input(path, InputProblem::UnreadableProbe(e.to_string())))?;
    from_raw(path, raw)
}

fn from_raw(path: &Path, raw: Raw) -> Result<Probe> {
    let video = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("video"))
        // Cover art is a one-frame "video" stream; the film is the other one.
        .find(|s| s.disposition.get("attached_pic").copied().unwrap_or(0) == 0)
        .ok_or_else(|| MediaError::input(path, InputProblem::NoVideoStream))?;
    let audio = raw
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    let fmt_duration = raw.format.as_ref().and_then(|f| num(&f.duration));
    let duration_s = num(&video.duration)
        .or(fmt_duration)
        .filter(|d| *d > 0.0)
        .ok_or_else(|| MediaError::input(path, InputProblem::NoDuration))?;
    let nominal_fps = ratio(&video.r_frame_rate);
    let mut fps = ratio(&video.avg_frame_rate);
    let mut frame_rate = rational(&video.avg_frame_rate);
    if let Some(n) = num(&video.nb_frames) {
        if n > 1.0 && fps <= 0.0 {
            fps = n / duration_s;
        }
    }
    if !(fps > 0.0 && fps < 1000.0) {
        frame_rate = rational(&video.r_frame_rate);
        fps = if nominal_fps > 0.0 && nominal_fps < 1000.0 {
            nominal_fps
        } else {
            25.0
        };
    }
    let variable_frame_rate = nominal_fps > 0.0 && (nominal_fps - fps).abs() / fps > 0.01;
    let rotation = rotation_of(video);
    let width = video.width.unwrap_or(0);
    let height = video.height.unwrap_or(0);
    if width == 0 || height == 0 {
        return Err(MediaError::input(path, InputProblem::NoPictureSize));
    }
    let start_time_s = raw
        .format
        .as_ref()
        .and_then(|f| num(&f.start_time))
        .unwrap_or(0.0);
    let sample_aspect_ratio = {
        // ffprobe writes "1:1", "0:1" when unknown.
        let r = ratio(
            &video
                .sample_aspect_ratio
                .as_ref()
                .map(|s| s.replace(':', "/")),
        );
        if r > 0.01 && r < 100.0 {
            r
        } else {
            1.0
        }
    };
    let field_order = video
        .field_order
        .clone()
        .filter(|f| f != "unknown")
        .unwrap_or_default();
    Ok(Probe {
        path: path.to_path_buf(),
        format: raw.format.and_then(|f| f.format_name).unwrap_or_default(),
        duration_s,
        fps,
        nominal_fps,
        frame_rate: frame_rate.filter(|&(n, d)| (n as f64 / d as f64 - fps).abs() < 1e-9 * fps),
        variable_frame_rate,
        video_codec: video.codec_name.clone().unwrap_or_default(),
        width,
        height,
        rotation,
        has_audio: audio.is_some(),
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        audio_channels: audio.and_then(|a| a.channels).unwrap_or(0),
        audio_sample_rate: audio
            .and_then(|a| num(&a.sample_rate))
            .map(|v| v as u32)
            .unwrap_or(0),
        subtitle_streams: raw
            .streams
            .iter()
            .filter(|s| s.codec_type.as_deref() == Some("subtitle"))
            .map(|s| SubtitleStream {
                index: s.index,
                codec: s.codec_name.clone().unwrap_or_default(),
                language: s.tags.get("language").cloned(),
            })
            .collect(),
        start_time_s,
        sample_aspect_ratio,
        field_order,
    })
}

fn rotation_of(s: &RawStream) -> i32 {
    // Newer ffprobe reports a display matrix in side data (counter-clockwise
    // degrees); older files carry a `rotate` tag (clockwise).
    for sd in &s.side_data_list {
        if let Some(r) = sd.get("rotation").and_then(|v| v.as_f64()) {
            return (-(r.round() as i32)).rem_euclid(360);
        }
    }
    s.tags
        .get("rotate")
        .and_then(|r| r.parse::<i32>().ok())
        .map(|r| r.rem_euclid(360))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vfr_rotation_and_missing_audio() {
        let json = br#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
            "avg_frame_rate":"2997/100","r_frame_rate":"60/1","duration":"12.5",
            "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}],
            "format":{"format_name":"mov,mp4","duration":"12.5"}}"#;
        let p = from_ffprobe_json(Path::new("x.mp4"), json).unwrap();
        assert!(p.variable_frame_rate);
        assert!((p.fps - 29.97).abs() < 1e-6);
        assert_eq!(p.frame_rate, Some((2997, 100)));
        assert_eq!(p.rotation, 90);
        assert_eq!(p.display_size(), (1080, 1920));
        assert!(!p.has_audio);
        assert_eq!(p.sample_aspect_ratio, 1.0);
        assert!(!p.interlaced());
    }

    #[test]
    fn parses_start_time_pixel_aspect_and_field_order() {
        let json = br#"{"streams":[{"index":0,"codec_type":"video","codec_name":"mpeg2video","width":720,"height":576,
            "avg_frame_rate":"25/1","r_frame_rate":"25/1","sample_aspect_ratio":"64:45","field_order":"bb"}],
            "format":{"format_name":"mpegts","duration":"10.0","start_time":"1.400000"}}"#;
        let p = from_ffprobe_json(Path::new("x.ts"), json).unwrap();
        assert!((p.start_time_s - 1.4).abs() < 1e-9);
        assert!((p.sample_aspect_ratio - 64.0 / 45.0).abs() < 1e-9);
        assert!(p.interlaced() && p.bottom_field_first());
    }

    #[test]
    fn no_video_stream_is_an_input_error() {
        let json = br#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"mp3"}],"format":{"duration":"3"}}"#;
        let e = from_ffprobe_json(Path::new("song.mp4"), json).unwrap_err();
        assert!(
            matches!(
                &e,
                MediaError::Input {
                    problem: InputProblem::NoVideoStream,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("song.mp4"));
        assert!(e.to_string().contains("no video stream"));
    }
}
