//! The decoding backend: stream facts from the project's one probe
//! (`media::probe`), one ffmpeg process that streams small yuv420p rawvideo
//! frames (stdout), mono PCM (fd 3), face-detector frames (fd 4) and the
//! packet timestamps (fd 5) in the same pass, narrow re-decodes around cut
//! candidates, and keyframe JPEGs by seeking.
//! Nothing here knows about shots; detectors only ever see decoded frames.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/')?;
    let n: f64 = n.parse().ok()?;
    let d: f64 = d.parse().ok()?;
    (n > 0.0 && d > 0.0).then(|| n / d)
}

/// Stream facts needed to plan the decode, from [`crate::media::probe`].
#[derive(Debug, Clone)]
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
pub fn probe_error(film: &Path, e: crate::error::Error) -> AnalysisError {
    use crate::error::Error as E;
    match e {
        E::Input { msg, .. } if msg.contains("no video stream") => {
            AnalysisError::NoVideo(film.to_path_buf())
        }
        E::Input { msg, .. } => AnalysisError::BadFile {
            path: film.to_path_buf(),
            problem: msg,
        },
        other => ff_err(film, other.to_string()),
    }
}

/// Parses the packet lines of ffmpeg's `framecrc` muxer
/// (`stream, dts, pts, duration, size, checksum`) into presentation times in
/// seconds: the film's full frame grid, demuxed in the main pass even where
/// the decoder skips non-reference frames, and right for variable frame rate.
/// Sorted and deduplicated; empty when timestamps are missing.
pub fn parse_framecrc(text: &str) -> Vec<f64> {
    parse_framecrc_keys(text).0
}

/// [`parse_framecrc`], plus the sorted times of the key packets (where a
/// seek lands: a narrow re-decode starts at the last one before it).
pub fn parse_framecrc_keys(text: &str) -> (Vec<f64>, Vec<f64>) {
    let mut tb = None;
    let mut t: Vec<f64> = Vec::new();
    let mut keys: Vec<f64> = Vec::new();
    for line in text.lines() {
        if let Some(r) = line.strip_prefix("#tb 0:") {
            tb = parse_rate(r.trim());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some(tb) = tb else {
            return (Vec::new(), Vec::new());
        };
        let Some(pts) = line
            .split(',')
            .nth(2)
            .and_then(|x| x.trim().parse::<i64>().ok())
        else {
            return (Vec::new(), Vec::new()); // N/A timestamps: no usable grid
        };
        t.push(pts as f64 * tb);
        // Flags are printed only when they are not just "key".
        let key = match line.split(", F=0x").nth(1) {
            Some(f) => u32::from_str_radix(f.trim(), 16).is_ok_and(|f| f & 1 == 1),
            None => true,
        };
        if key {
            keys.push(pts as f64 * tb);
        }
    }
    for v in [&mut t, &mut keys] {
        v.sort_by(|a, b| a.total_cmp(b));
        v.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    }
    (t, keys)
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
    pub audio: bool,
    /// swscale flags for the downscale ("bilinear", "area", "fast_bilinear").
    pub scale_flags: String,
    /// Optional grey side stream at a low rate (for face detection), to fd 4.
    pub side: Option<SideSpec>,
    /// Optional window (start, duration) for narrow decodes.
    pub window: Option<(f64, f64)>,
    /// Start at the keyframe at or before this time (a segment of a split
    /// decode): frames come out from that keyframe on, none are decoded and
    /// thrown away, and the first frame's time says where the segment begins.
    pub seek: Option<f64>,
    /// Decode the picture at all; false for the side process that only
    /// demuxes the frame grid and decodes the sound.
    pub video: bool,
    /// Also demux every video packet's timestamp (stream copy into the
    /// `framecrc` muxer on fd 5): the frame grid, at no decoding cost.
    pub grid: bool,
    /// Interlaced input: keep only this field ("top"/"bottom") before the
    /// downscale, so a cut between the two fields of a frame stays one jump
    /// instead of a half-and-half blend.
    pub field: Option<&'static str>,
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
/// Side frames come with their own timestamps (a `showinfo@side` filter).
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
    pub stderr_tail: String,
    /// `on_frame` asked to stop before the end.
    pub stopped: bool,
}

fn base_args(spec: &DecodeSpec) -> Vec<String> {
    let mut a: Vec<String> = vec!["-hide_banner".into(), "-nostdin".into(), "-nostats".into()];
    a.extend(["-loglevel".into(), "info".into()]);
    if spec.skip_loop_filter {
        a.extend(["-skip_loop_filter".into(), "all".into()]);
    }
    if spec.skip_nonref {
        a.extend(["-skip_frame".into(), "noref".into()]);
    }
    if spec.threads > 0 {
        a.extend(["-threads".into(), spec.threads.to_string()]);
    }
    a
}

/// The filters that bring a decoded frame to the analysis picture: the
/// first field of interlaced material, the analysis size, yuv420p. The main
/// pass and the re-decoded windows must see the same pictures.
fn scale_chain(spec: &DecodeSpec) -> String {
    format!(
        "{}scale={}:{}:flags={},format=yuv420p",
        spec.field
            .map(|f| format!("field=type={f},"))
            .unwrap_or_default(),
        spec.width,
        spec.height,
        spec.scale_flags
    )
}

/// Spawn ffmpeg for one pass and feed every frame to `on_frame`.
/// Video goes to stdout as yuv420p; frame timestamps come from the `showinfo`
/// filter on stderr (one line per frame, in the same order); audio goes to
/// fd 3 as s16le mono so picture and sound are decoded in one process.
/// `on_frame` returns false to stop early: ffmpeg is then killed (a segment
/// of a split decode that has reached the next segment).
pub fn run_pass(
    film: &Path,
    spec: &DecodeSpec,
    on_frame: &mut dyn FnMut(&Frame<'_>) -> bool,
    side_sink: Option<SideSinkFactory>,
) -> Result<PassReport, AnalysisError> {
    let mut args = base_args(spec);
    if let Some(ss) = spec.seek {
        // Keyframe seek: decoding starts at the keyframe before `ss` and
        // every frame from there is output, with the film's own times.
        args.extend(["-noaccurate_seek".into(), "-ss".into(), format!("{ss:.6}")]);
    }
    if spec.window.is_none() {
        // Times counted from the container's start as in the narrow
        // re-decodes, and the same in every segment of a split decode:
        // keep the stream's own timestamps, shifted by the start time only.
        args.extend(["-copyts".into(), "-start_at_zero".into()]);
    }
    if let Some((ss, dur)) = spec.window {
        // Input-side seek and length, counted like the main pass' times from
        // the film's start (ffmpeg adds the container's start time to -ss);
        // -copyts -start_at_zero keep those times on the window's frames.
        args.extend([
            "-ss".into(),
            format!("{ss:.6}"),
            "-t".into(),
            format!("{dur:.6}"),
            "-copyts".into(),
            "-start_at_zero".into(),
        ]);
    }
    args.push("-i".into());
    let mut cmd = Command::new("ffmpeg");
    cmd.args(&args).arg(ff_input(film));
    let mut out: Vec<String> = Vec::new();
    if spec.video {
        out.extend([
            "-map".into(),
            "0:v:0".into(),
            "-vf".into(),
            format!("{},showinfo", scale_chain(spec)),
            "-fps_mode".into(),
            "passthrough".into(),
            "-f".into(),
            "rawvideo".into(),
            "-pix_fmt".into(),
            "yuv420p".into(),
            "pipe:1".into(),
        ]);
    }
    let audio_pipe = if spec.audio {
        out.extend([
            "-map".into(),
            "0:a:0".into(),
            "-vn".into(),
            "-ac".into(),
            "1".into(),
            "-ar".into(),
            AUDIO_RATE.to_string(),
            "-f".into(),
            "s16le".into(),
            "pipe:3".into(),
        ]);
        Some(os_pipe()?)
    } else {
        None
    };
    let side = match (spec.side, side_sink) {
        (Some(sd), Some(sink)) if spec.video => {
            // The first frame of each `every_s` slot of film time (the
            // same frames whichever segment decodes them), with its time
            // from a second, named showinfo.
            out.extend([
                "-map".into(),
                "0:v:0".into(),
                "-an".into(),
                "-vf".into(),
                format!(
                    "select='isnan(prev_selected_t)+gte(floor(t/{e})-floor(prev_selected_t/{e})\\,1)',\
                     scale={}:{}:flags=bilinear,format=gray,showinfo@side",
                    sd.width,
                    sd.height,
                    e = sd.every_s
                ),
                "-fps_mode".into(),
                "passthrough".into(),
                "-f".into(),
                "rawvideo".into(),
                "-pix_fmt".into(),
                "gray".into(),
                "pipe:4".into(),
            ]);
            Some((sd, sink, os_pipe()?))
        }
        _ => None,
    };
    let grid_pipe = if spec.grid {
        out.extend([
            "-map".into(),
            "0:v:0".into(),
            "-an".into(),
            "-c".into(),
            "copy".into(),
            "-f".into(),
            "framecrc".into(),
            "pipe:5".into(),
        ]);
        Some(os_pipe()?)
    } else {
        None
    };
    cmd.args(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // (target fd, write end) pairs that the child must inherit.
    let mut child_fds: Vec<(i32, i32)> = Vec::new();
    if let Some((_, w)) = audio_pipe {
        child_fds.push((3, w));
    }
    if let Some((_, _, (_, w))) = &side {
        child_fds.push((4, *w));
    }
    if let Some((_, w)) = grid_pipe {
        child_fds.push((5, w));
    }
    if !child_fds.is_empty() {
        let fds = child_fds.clone();
        // SAFETY: between fork and exec only async-signal-safe calls: dup2
        // puts each pipe's write end on its fixed fd without CLOEXEC so
        // ffmpeg inherits it as pipe:3 / pipe:4.
        unsafe {
            cmd.pre_exec(move || {
                // Move every write end out of the way first (a write end may
                // itself sit on fd 3 or 4), then onto its target; dup2 of a
                // different fd leaves the target without CLOEXEC.
                let mut high = [0i32; 3];
                for (i, &(_, w)) in fds.iter().enumerate() {
                    high[i] = libc::fcntl(w, libc::F_DUPFD_CLOEXEC, 100);
                    if high[i] < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (i, &(target, _)) in fds.iter().enumerate() {
                    if libc::dup2(high[i], target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
    let spawn = cmd.spawn();
    // The parent must close its copies of the write ends or readers never see EOF.
    for &(_, w) in &child_fds {
        // SAFETY: w is our own descriptor from pipe(2), closed exactly once.
        unsafe { libc::close(w) };
    }
    let audio_reader = audio_pipe.map(|(r, _)| file_from_fd(r));
    let grid_thread = grid_pipe.map(|(r, _)| {
        let mut f = file_from_fd(r);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            parse_framecrc_keys(&text)
        })
    });
    let (side_tx, side_rx) = std::sync::mpsc::channel::<f64>();
    let side_thread = side.map(|(sd, sink, (r, _))| {
        let mut f = file_from_fd(r);
        std::thread::spawn(move || {
            let mut sink = sink();
            let mut buf = vec![0u8; (sd.width * sd.height) as usize];
            while f.read_exact(&mut buf).is_ok() {
                // showinfo@side prints the frame's line before it is muxed.
                let Ok(t) = side_rx.recv() else { break };
                sink(t, &buf);
            }
        })
    });
    let mut child: Child = spawn.map_err(|e| ff_err(film, format!("cannot run ffmpeg: {e}")))?;

    let audio_thread = audio_reader.map(|mut f| {
        std::thread::spawn(move || {
            let mut energy = super::audio::Energy::new(AUDIO_RATE);
            let mut bytes = vec![0u8; 64 * 1024];
            let mut carry: Option<u8> = None;
            let mut samples: Vec<i16> = Vec::with_capacity(32 * 1024 + 1);
            loop {
                let n = match f.read(&mut bytes) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                samples.clear();
                let mut it = bytes[..n].iter().copied();
                if let Some(lo) = carry.take() {
                    if let Some(hi) = it.next() {
                        samples.push(i16::from_le_bytes([lo, hi]));
                    }
                }
                loop {
                    match (it.next(), it.next()) {
                        (Some(lo), Some(hi)) => samples.push(i16::from_le_bytes([lo, hi])),
                        (Some(lo), None) => carry = Some(lo),
                        _ => break,
                    }
                }
                energy.push(&samples);
            }
            energy.finish()
        })
    });
    let (tx, rx) = std::sync::mpsc::channel::<(f64, char, bool)>();
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| ff_err(film, "no stderr pipe"))?;
    // A segment that starts mid-film has no frame before its first one:
    // errors before it are stamped -inf (the caller keeps its own range).
    let first_t = if spec.seek.is_some() {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    let err_thread = std::thread::spawn(move || {
        let mut errors = 0usize;
        let mut error_times = Vec::new();
        let mut last_t = first_t;
        let mut tail: std::collections::VecDeque<String> = Default::default();
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).into_owned();
            if line.contains("Parsed_showinfo") && line.contains(" n:") {
                let t = field(&line, "pts_time:").and_then(|s| s.parse::<f64>().ok());
                let ty = field(&line, " type:")
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                let key = field(&line, " iskey:") == Some("1");
                if let Some(t) = t {
                    last_t = t;
                    let _ = tx.send((t, ty, key));
                }
                continue;
            }
            if line.contains("showinfo@side") {
                if line.contains(" n:") {
                    if let Some(t) = field(&line, "pts_time:").and_then(|s| s.parse::<f64>().ok()) {
                        let _ = side_tx.send(t);
                    }
                }
                continue;
            }
            let l = line.to_ascii_lowercase();
            if l.contains("error") || l.contains("invalid") || l.contains("corrupt") {
                errors += 1;
                error_times.push(last_t);
            }
            if !line.contains("Parsed_showinfo") {
                tail.push_back(line);
                if tail.len() > 20 {
                    tail.pop_front();
                }
            }
        }
        (
            errors,
            error_times,
            tail.into_iter().collect::<Vec<_>>().join("\n"),
        )
    });

    let frame_bytes = (spec.width * spec.height * 3 / 2) as usize;
    let mut buf = vec![0u8; frame_bytes];
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| ff_err(film, "no stdout pipe"))?;
    let mut frames = 0usize;
    let mut last_t = f64::NEG_INFINITY;
    let mut stopped = false;
    while spec.video && stdout.read_exact(&mut buf).is_ok() {
        // showinfo prints the frame's line before the frame reaches the muxer.
        let (t, ty, key) = rx.recv().unwrap_or((last_t + 0.04, '?', false));
        last_t = t;
        frames += 1;
        if !on_frame(&Frame {
            t,
            pict_type: ty,
            key,
            yuv: &buf,
        }) {
            stopped = true;
            let _ = child.kill();
            break;
        }
    }
    drop(stdout);
    let status = child.wait().map_err(|e| ff_err(film, e.to_string()))?;
    if let Some(h) = side_thread {
        let _ = h.join();
    }
    let (decode_errors, error_times, stderr_tail) =
        err_thread.join().unwrap_or((0, Vec::new(), String::new()));
    let (grid, keyframes) = grid_thread.and_then(|h| h.join().ok()).unwrap_or_default();
    let audio_energy = audio_thread.and_then(|h| h.join().ok()).unwrap_or_default();
    if frames == 0 && spec.video && spec.window.is_none() && spec.seek.is_none() {
        return Err(ff_err(
            film,
            format!(
                "ffmpeg decoded no video frame (exit {status}): {}",
                stderr_tail.lines().last().unwrap_or("")
            ),
        ));
    }
    Ok(PassReport {
        frames,
        audio_energy,
        decode_errors,
        error_times,
        grid,
        keyframes,
        stderr_tail,
        stopped,
    })
}

/// Decode several short windows `(start, duration)` of the film in ONE
/// ffmpeg process: one input per window (each seeks on its own), every
/// window scaled like the main pass and concatenated into one rawvideo
/// stream on stdout. One process start instead of one per window, and the
/// decoder threads of a full decode keep both cores busy. `on_frame` gets
/// the output frames in order; the result holds each window's frame times:
/// the first `r[0].len()` frames were window 0's, and so on.
pub fn run_windows(
    film: &Path,
    spec: &DecodeSpec,
    windows: &[(f64, f64)],
    on_frame: &mut dyn FnMut(&[u8]),
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]);
    cmd.args(["-copyts", "-start_at_zero"]);
    let mut graph = String::new();
    for (k, &(ss, dur)) in windows.iter().enumerate() {
        if spec.skip_loop_filter {
            cmd.args(["-skip_loop_filter", "all"]);
        }
        if spec.threads > 0 {
            cmd.args(["-threads", &spec.threads.to_string()]);
        }
        cmd.args(["-ss", &format!("{ss:.6}"), "-t", &format!("{dur:.6}"), "-i"])
            .arg(ff_input(film));
        graph.push_str(&format!(
            "[{k}:v:0]{},setsar=1,showinfo@w{k}[v{k}];",
            scale_chain(spec)
        ));
    }
    for k in 0..windows.len() {
        graph.push_str(&format!("[v{k}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0[out]", windows.len()));
    cmd.args(["-filter_complex", &graph, "-map", "[out]"])
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg("pipe:1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| ff_err(film, format!("cannot run ffmpeg: {e}")))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| ff_err(film, "no stderr pipe"))?;
    let n = windows.len();
    let err_thread = std::thread::spawn(move || {
        let mut times = vec![Vec::new(); n];
        let mut tail = String::new();
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            let Some(rest) = line.split("[showinfo@w").nth(1) else {
                tail = line.into_owned();
                continue;
            };
            let k = rest.split(' ').next().and_then(|k| k.parse::<usize>().ok());
            let t = field(&line, "pts_time:").and_then(|s| s.parse::<f64>().ok());
            if let (Some(k), Some(t), true) = (k, t, line.contains(" n:")) {
                if let Some(v) = times.get_mut(k) {
                    v.push(t);
                }
            }
        }
        (times, tail)
    });
    let mut buf = vec![0u8; (spec.width * spec.height * 3 / 2) as usize];
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| ff_err(film, "no stdout pipe"))?;
    let mut frames = 0usize;
    while stdout.read_exact(&mut buf).is_ok() {
        on_frame(&buf);
        frames += 1;
    }
    drop(stdout);
    let status = child.wait().map_err(|e| ff_err(film, e.to_string()))?;
    let (times, tail) = err_thread
        .join()
        .map_err(|_| ff_err(film, "stderr reader panicked"))?;
    let counted: usize = times.iter().map(Vec::len).sum();
    if !status.success() || counted != frames {
        return Err(ff_err(
            film,
            format!("narrow re-decode of {n} windows failed ({frames} frames for {counted} times, exit {status}): {tail}"),
        ));
    }
    Ok(times)
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let i = line.find(key)? + key.len();
    line[i..].split_whitespace().next()
}

fn file_from_fd(fd: i32) -> std::fs::File {
    // SAFETY: fd is the open read end of a pipe we created; File takes sole ownership.
    unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
}

fn os_pipe() -> Result<(i32, i32), AnalysisError> {
    let mut fds = [0i32; 2];
    // SAFETY: fds is a valid 2-int buffer. O_CLOEXEC so that other children
    // spawned concurrently do not inherit it; dup2 in pre_exec clears the flag on fd 3/4.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(AnalysisError::Io(std::io::Error::last_os_error()));
    }
    Ok((fds[0], fds[1]))
}

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
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]);
        for t in batch {
            cmd.args(["-ss", &format!("{:.3}", t.max(0.0))])
                .arg("-i")
                .arg(ff_input(film));
        }
        let mut batch_paths = Vec::new();
        for (i, t) in batch.iter().enumerate() {
            let p = out_dir.join(format!("kf_{:05}_{:010.3}.jpg", batch_i * 12 + i, t));
            cmd.args(["-map", &format!("{i}:v:0"), "-frames:v", "1", "-vf", &scale])
                .args(["-q:v", "3", "-update", "1"])
                .arg(&p);
            batch_paths.push(p);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ff_err(film, format!("cannot run ffmpeg: {e}")))?;
        if !out.status.success() {
            return Err(ff_err(
                film,
                format!(
                    "keyframe extraction failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
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
    fn framecrc_packets_give_the_sorted_frame_grid() {
        let text = "#tb 0: 1/12288\n#media_type 0: video\n\
            0,      -1024,          0,      512,   160801, 0x9921cd30\n\
            0,       -512,       2048,      512,    19971, 0x9ba317d9, F=0x0\n\
            0,          0,       1024,      512,     3617, 0x6ac91eaf, F=0x0\n";
        let g = parse_framecrc(text);
        assert_eq!(g.len(), 3);
        assert!((g[1] - 1024.0 / 12288.0).abs() < 1e-12 && g[0] == 0.0);
        // Only the first packet is a key packet (no flags printed).
        assert_eq!(parse_framecrc_keys(text).1, vec![0.0]);
        let k = parse_framecrc_keys("#tb 0: 1/10\n0, 0, 0, 1, 9, 0x0\n0, 1, 1, 1, 9, 0x0, F=0x0\n0, 2, 2, 1, 9, 0x0, F=0x1\n");
        assert_eq!(k.1, vec![0.0, 0.2]);
        // No time base, or a packet without a timestamp: no usable grid.
        assert!(parse_framecrc("0, 0, 0, 512, 10, 0x0\n").is_empty());
        assert!(parse_framecrc("#tb 0: 1/25\n0, 0, N/A, 1, 10, 0x0\n").is_empty());
    }
}
