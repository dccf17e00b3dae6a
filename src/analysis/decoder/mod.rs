//! The analysis' decoder, in process: FFmpeg's own libraries (libavformat,
//! libavcodec, libswscale, libswresample) through the `ffmpeg-next` crate.
//! One call decodes the picture at the analysis size, a grey side picture
//! for the face detector, the mono sound and the packet grid of a film (or
//! of a segment, or of a few short windows around cut candidates).
//!
//! Why in process and not an ffmpeg child with pipes, as before:
//! - No process start, pipe or text parsing: about 0.2 s of fixed cost per
//!   film, which was a quarter of the analysis of a 30 s film.
//! - Control per packet of what is decoded. A narrow re-decode around a cut
//!   must start at the key frame before it, but only the frames inside its
//!   window need every frame: the non-reference frames before the window
//!   are skipped, so the way there costs what the main pass paid for it.
//!
//! - Cuts on skipped frames placed without a re-decode ([`near`]).
//!
//! The pictures are those the ffmpeg command line made ([`picture`]); the
//! sound is resampled to mono ([`sound`]).

mod near;
mod picture;
mod sound;

use std::os::raw::c_int;
use std::path::Path;
use std::sync::mpsc;

use ff::ffi;
use ffmpeg_next as ff;

use crate::media::libav::{log_tail, take_log_errors};

use super::audio::Energy;
use super::decode::{DecodeSpec, Frame, PassReport, SideSinkFactory, SideSpec, AUDIO_RATE};
use super::AnalysisError;
use near::{capture_buffer, Capture, NearCuts};
use picture::{sws_flags, Picture};
use sound::Resampler;

fn err(film: &Path, problem: impl Into<String>) -> AnalysisError {
    AnalysisError::Ffmpeg {
        film: film.to_path_buf(),
        problem: problem.into(),
    }
}

// ---------------------------------------------------------------------------
// The film, opened.

struct Input {
    ictx: ff::format::context::Input,
    video: Option<usize>,
    audio: Option<usize>,
    clock: Clock,
    /// Display rotation in degrees clockwise (0, 90, 180, 270).
    rotation: u32,
}

/// Video timestamps to seconds from the film's start.
#[derive(Clone, Copy)]
struct Clock {
    /// Seconds per tick of the video stream's time base.
    vtb: f64,
    /// The container's start time: times are counted from it, as ffmpeg's
    /// `-copyts -start_at_zero` did.
    start_s: f64,
}

impl Clock {
    fn secs(self, ts: i64) -> f64 {
        ts as f64 * self.vtb - self.start_s
    }
}

/// Open the film; with `start_s` (the container's start time, from the
/// probe) its header is enough when it holds the streams' parameters.
fn open(film: &Path, want_audio: bool, start_s: Option<f64>) -> Result<Input, AnalysisError> {
    let header_only = start_s.and_then(|_| crate::media::libav::open_header(film));
    let from_header = header_only.is_some();
    let ictx = match header_only {
        Some(i) => i,
        None => crate::media::libav::open(film).map_err(|e| err(film, e))?,
    };
    let video = ictx
        .streams()
        .best(ff::media::Type::Video)
        .map(|s| s.index());
    let audio = if want_audio {
        ictx.streams()
            .best(ff::media::Type::Audio)
            .map(|s| s.index())
    } else {
        None
    };
    let (vtb, rotation) = match video.and_then(|i| ictx.stream(i)) {
        Some(s) => (f64::from(s.time_base()), stream_rotation(&s)),
        None => (0.0, 0),
    };
    // SAFETY: reading a field of the open context.
    let start = unsafe { (*ictx.as_ptr()).start_time };
    let start_s = match start_s {
        Some(s) if from_header => s,
        _ if start == ffi::AV_NOPTS_VALUE => 0.0,
        _ => start as f64 / ffi::AV_TIME_BASE as f64,
    };
    let mut input = Input {
        ictx,
        video,
        audio,
        clock: Clock { vtb, start_s },
        rotation,
    };
    // Streams nobody reads are not even demuxed into packets.
    let keep = [input.video, input.audio];
    // SAFETY: the streams array of the open context, `nb_streams` long.
    unsafe {
        let c = input.ictx.as_mut_ptr();
        for i in 0..(*c).nb_streams as usize {
            if !keep.contains(&Some(i)) {
                (**(*c).streams.add(i)).discard = ffi::AVDiscard::AVDISCARD_ALL;
            }
        }
    }
    Ok(input)
}

/// Clockwise display rotation, as ffmpeg's command line reads it for
/// autorotate: the negated angle of the display matrix, in [0, 360).
fn stream_rotation(s: &ff::format::stream::Stream) -> u32 {
    // SAFETY: the side data pointer is either null or a 9-int matrix.
    let theta = unsafe {
        let mut size = 0usize;
        let m = ffi::av_stream_get_side_data(
            s.as_ptr(),
            ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
            &mut size,
        );
        if m.is_null() || size < 36 {
            return 0;
        }
        -ffi::av_display_rotation_get(m as *const i32)
    };
    let theta = theta.round() - 360.0 * (theta.round() / 360.0 + 0.9 / 360.0).floor();
    [90u32, 180, 270]
        .into_iter()
        .find(|&r| (theta - r as f64).abs() < 1.0)
        .unwrap_or(0)
}

impl Input {
    fn seek(&mut self, t: f64) {
        let ts = ((t + self.clock.start_s) * ffi::AV_TIME_BASE as f64) as i64;
        // SAFETY: a seek on the open context; a failure leaves the position
        // where it was, and the window filter keeps only the right frames.
        unsafe {
            ffi::avformat_seek_file(self.ictx.as_mut_ptr(), -1, i64::MIN, ts, ts, 0);
        }
    }

    /// A video decoder; with `capture`, one that hands every picture it
    /// starts to decode to `capture` (see [`Capture`]).
    fn video_decoder(
        &self,
        threads: usize,
        skip_loop_filter: bool,
        capture: Option<*mut Capture>,
    ) -> Result<ff::decoder::Video, ff::Error> {
        let s = self
            .video
            .and_then(|i| self.ictx.stream(i))
            .ok_or(ff::Error::StreamNotFound)?;
        let mut ctx = ff::codec::context::Context::from_parameters(s.parameters())?;
        // SAFETY: plain fields of a codec context not yet opened.
        unsafe {
            let p = ctx.as_mut_ptr();
            (*p).thread_count = threads as c_int;
            (*p).pkt_timebase = (*s.as_ptr()).time_base;
            if skip_loop_filter {
                (*p).skip_loop_filter = ffi::AVDiscard::AVDISCARD_ALL;
            }
            if let Some(c) = capture {
                (*p).opaque = c as *mut std::os::raw::c_void;
                (*p).get_buffer2 = Some(capture_buffer);
            }
        }
        ctx.decoder().video()
    }

    fn audio_decoder(&self) -> Option<ff::decoder::Audio> {
        let s = self.audio.and_then(|i| self.ictx.stream(i))?;
        let mut ctx = ff::codec::context::Context::from_parameters(s.parameters()).ok()?;
        // SAFETY: plain fields of a codec context not yet opened.
        unsafe {
            (*ctx.as_mut_ptr()).thread_count = 1;
            (*ctx.as_mut_ptr()).pkt_timebase = (*s.as_ptr()).time_base;
        }
        ctx.decoder().audio().ok()
    }

    fn packet_time(&self, p: &ff::Packet) -> Option<f64> {
        p.pts().map(|v| self.clock.secs(v))
    }
}

/// The key frames the container's index lists (seconds from the film's
/// start, sorted): where a seek lands. Empty for a container without an
/// index (MPEG-TS) or a film that cannot be opened. `start_s`: the
/// container's start time, from the probe.
pub fn index_keys(film: &Path, start_s: f64) -> Vec<f64> {
    let Ok(input) = open(film, false, Some(start_s)) else {
        return Vec::new();
    };
    let Some(vi) = input.video else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    // SAFETY: the index entries of an open stream, read by index below
    // their count; the entry pointer is valid until the next read.
    unsafe {
        let st = *(*input.ictx.as_ptr()).streams.add(vi);
        for i in 0..ffi::avformat_index_get_entries_count(st) {
            let e = ffi::avformat_index_get_entry(st, i);
            if !e.is_null() && (*e).flags() & ffi::AVINDEX_KEYFRAME != 0 {
                keys.push(input.clock.secs((*e).timestamp));
            }
        }
    }
    keys.sort_by(|a, b| a.total_cmp(b));
    keys
}

/// Lower the calling thread's priority (nice 10): for side work that must
/// not slow the picture decoders down. On Linux a thread's nice value is
/// its own.
pub fn lower_priority() {
    // SAFETY: setpriority on this thread's id only.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

/// Read the next packet into `pkt`, releasing the one it held: libav's
/// `av_read_frame` overwrites the packet without unreferencing its buffer
/// (`ffmpeg_next::Packet::read` does not either), which leaked every packet
/// read into a reused `Packet`: 1.5 GB over a 2-hour film.
fn read_packet(
    pkt: &mut ff::Packet,
    ictx: &mut ff::format::context::Input,
) -> Result<(), ff::Error> {
    // SAFETY: our own packet; unref leaves it blank and ready to be filled.
    unsafe { ffi::av_packet_unref(ff::packet::Mut::as_mut_ptr(pkt)) };
    pkt.read(ictx)
}

/// Skip (or decode) the non-reference frames of the packets sent from now on.
fn set_skip_nonref(dec: &mut ff::decoder::Video, skip: bool) {
    // SAFETY: `skip_frame` is read per packet by the decoder.
    unsafe {
        (*dec.as_mut_ptr()).skip_frame = if skip {
            ffi::AVDiscard::AVDISCARD_NONREF
        } else {
            ffi::AVDiscard::AVDISCARD_DEFAULT
        };
    }
}

// ---------------------------------------------------------------------------
// The passes.

/// Decode the film (or the segment or window `spec` names) and feed every
/// analysis frame to `on_frame`, as ffmpeg's command line with
/// `-skip_loop_filter`/`-skip_frame`, `-copyts -start_at_zero`, `-ss`
/// (`-noaccurate_seek` for a segment) and `-fps_mode passthrough` did.
/// The sound (mono, [`AUDIO_RATE`]) and the packet grid come from the same
/// demuxing. `on_frame` returns false to stop early.
pub fn run_pass(
    film: &Path,
    spec: &DecodeSpec,
    on_frame: &mut dyn FnMut(&Frame<'_>) -> bool,
    side_sink: Option<SideSinkFactory>,
) -> Result<PassReport, AnalysisError> {
    let mut pass = Pass::open(film, spec, side_sink)?;
    while !pass.out.done {
        if spec
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        {
            pass.out.report.stopped = true;
            break;
        }
        match pass.read() {
            Read::Packet => {}
            Read::Again => continue,
            Read::End => break,
        }
        pass.on_packet(on_frame);
        pass.out.count_log_errors();
    }
    if !pass.out.done {
        pass.flush(on_frame);
    }
    pass.finish(film)
}

/// Time step assumed for a decoded frame without a timestamp.
const FRAME_STEP_S: f64 = 0.04;

/// One pass over the film: its decoders, what becomes of their pictures
/// ([`Delivery`]) and sound ([`SoundOut`]), and the packet grid.
struct Pass<'a> {
    spec: &'a DecodeSpec,
    vdec: Option<ff::decoder::Video>,
    sound: Option<SoundOut>,
    out: Delivery,
    /// Converts the reference pictures read as soon as they are decoded
    /// (see [`NearCuts`]).
    early_pic: Picture,
    /// Times of the video packets, and of the key packets among them.
    grid: Vec<f64>,
    keys: Vec<f64>,
    pkt: ff::Packet,
    /// Packets in a row that could not be read.
    read_errors: usize,
    input: Input,
}

/// What [`Pass::read`] found.
enum Read {
    Packet,
    /// Nothing this time (or a damaged stretch): read on.
    Again,
    /// The end of the file, or nothing readable left.
    End,
}

impl<'a> Pass<'a> {
    /// Open the film and its decoders as `spec` asks, and go to where the
    /// pass starts.
    fn open(
        film: &Path,
        spec: &'a DecodeSpec,
        side_sink: Option<SideSinkFactory>,
    ) -> Result<Self, AnalysisError> {
        let mut input = open(film, spec.audio, spec.start_s)?;
        if (spec.video || spec.grid) && input.video.is_none() {
            return Err(err(film, "no video stream"));
        }
        if !(spec.video || spec.grid) {
            // Sound only: the picture's packets are not even read.
            if let Some(v) = input.video.take() {
                // SAFETY: the stream index exists in the open context.
                unsafe {
                    (**(*input.ictx.as_mut_ptr()).streams.add(v)).discard =
                        ffi::AVDiscard::AVDISCARD_ALL
                };
            }
        }
        take_log_errors();
        let mut near = near_cuts(&input, spec);
        let vdec = if spec.video {
            Some(main_video_decoder(film, &input, spec, near.as_mut())?)
        } else {
            None
        };
        let sound = SoundOut::new(&input);
        let pic = analysis_picture(spec, input.rotation);
        let early_pic = analysis_picture(spec, input.rotation);
        // Side frames go to their consumer on its own thread.
        let side = match (spec.side, side_sink) {
            (Some(sd), Some(sink)) if spec.video => Some(SideOut::start(sd, sink, input.rotation)),
            _ => None,
        };
        let win = match spec.window {
            Some((s, d)) => (s, s + d),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        if let Some(ss) = spec.seek {
            input.seek(ss);
        } else if spec.window.is_some() {
            input.seek(win.0);
        }
        Ok(Pass {
            spec,
            vdec,
            sound,
            out: Delivery {
                clock: input.clock,
                win,
                vframe: ff::frame::Video::empty(),
                buf: vec![0u8; pic.bytes()],
                pic,
                side,
                near,
                report: PassReport::default(),
                last_t: if spec.seek.is_some() {
                    f64::NEG_INFINITY
                } else {
                    0.0
                },
                done: false,
            },
            early_pic,
            grid: Vec::new(),
            keys: Vec::new(),
            pkt: ff::Packet::empty(),
            read_errors: 0,
            input,
        })
    }

    /// Read the next packet.
    fn read(&mut self) -> Read {
        match read_packet(&mut self.pkt, &mut self.input.ictx) {
            Ok(()) => {
                self.read_errors = 0;
                Read::Packet
            }
            Err(ff::Error::Eof) => Read::End,
            Err(ff::Error::Other { errno }) if errno == libc::EAGAIN => Read::Again,
            Err(_) => {
                // A damaged stretch: count it and read on, unless the file
                // has nothing readable left.
                let at = self.out.last_t;
                self.out.error(at);
                self.read_errors += 1;
                if self.read_errors > 1000 {
                    Read::End
                } else {
                    Read::Again
                }
            }
        }
    }

    /// Decode the packet just read: the picture's or the sound's.
    fn on_packet(&mut self, on_frame: &mut dyn FnMut(&Frame<'_>) -> bool) {
        let si = self.pkt.stream();
        if Some(si) == self.input.video {
            self.on_video_packet(on_frame);
        } else if Some(si) == self.input.audio {
            if let Some(s) = self.sound.as_mut() {
                if !s.decode(&self.pkt) {
                    self.out.report.decode_errors += 1;
                }
            }
        }
    }

    /// Note the packet in the grid, choose which of its frames are decoded
    /// (the window's and those around jumps in full, elsewhere the
    /// reference frames), decode it and deliver what comes out.
    fn on_video_packet(&mut self, on_frame: &mut dyn FnMut(&Frame<'_>) -> bool) {
        let pt = self.input.packet_time(&self.pkt);
        if self.spec.grid {
            if let Some(t) = pt {
                self.grid.push(t);
                if self.pkt.is_key() {
                    self.keys.push(t);
                }
            }
        }
        let Some(dec) = self.vdec.as_mut() else {
            return;
        };
        let (win_start, win_end) = self.out.win;
        if self.spec.window.is_some() {
            // Only the window needs every frame; on the way to it
            // (and past it) the reference frames are enough.
            let inside = pt.is_none_or(|t| t >= win_start - 1e-6 && t < win_end - 1e-6);
            set_skip_nonref(dec, self.spec.skip_nonref || !inside);
        }
        if let Some(n) = self.out.near.as_mut() {
            let decode_all = n.choose(self.pkt.pts());
            set_skip_nonref(dec, !decode_all);
        }
        if dec.send_packet(&self.pkt).is_err() {
            let at = self.out.last_t;
            self.out.error(at);
        }
        let clock = self.out.clock;
        if let Some(n) = self.out.near.as_mut() {
            n.take(&self.pkt, &mut self.early_pic, |p| clock.secs(p));
        }
        self.out.drain(dec, on_frame);
    }

    /// The end of the file: deliver what the decoders still hold.
    fn flush(&mut self, on_frame: &mut dyn FnMut(&Frame<'_>) -> bool) {
        if let Some(dec) = self.vdec.as_mut() {
            let _ = dec.send_eof();
            self.out.drain(dec, on_frame);
        }
        if let Some(s) = self.sound.as_mut() {
            s.flush();
        }
    }

    /// The report: the sound's energies, the grid, the frames around jumps
    /// and the decoder's last messages. A pass over the whole film that
    /// delivered no frame is an error.
    fn finish(mut self, film: &Path) -> Result<PassReport, AnalysisError> {
        let spec = self.spec;
        let audio_energy = self
            .sound
            .as_mut()
            .map(SoundOut::take_energy)
            .unwrap_or_default();
        let mut out = self.out;
        out.count_log_errors();
        if let Some(s) = out.side.take() {
            s.finish();
        }
        let mut report = out.report;
        report.audio_energy = audio_energy;
        let (mut grid, mut keys) = (self.grid, self.keys);
        for v in [&mut grid, &mut keys] {
            v.sort_by(|a, b| a.total_cmp(b));
            v.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
        }
        report.grid = grid;
        report.keyframes = keys;
        if let Some(n) = out.near {
            report.near_cuts = n.into_frames();
        }
        report.stderr_tail = log_tail();
        if report.frames == 0 && spec.video && spec.window.is_none() && spec.seek.is_none() {
            return Err(err(
                film,
                format!(
                    "no video frame could be decoded: {}",
                    report.stderr_tail.lines().last().unwrap_or("")
                ),
            ));
        }
        Ok(report)
    }
}

/// The main pass's video decoder: skipping non-reference frames if the
/// spec says so, and handing every picture to `near` as it is decoded.
fn main_video_decoder(
    film: &Path,
    input: &Input,
    spec: &DecodeSpec,
    near: Option<&mut NearCuts>,
) -> Result<ff::decoder::Video, AnalysisError> {
    // Pictures are read as soon as they are decoded only with one
    // decoder thread (frame threads finish them later).
    let threads = if near.is_some() { 1 } else { spec.threads };
    let mut d = input
        .video_decoder(
            threads,
            spec.skip_loop_filter,
            near.map(NearCuts::capture_ptr),
        )
        .map_err(|e| err(film, format!("cannot decode the picture: {e}")))?;
    set_skip_nonref(&mut d, spec.skip_nonref);
    Ok(d)
}

/// What becomes of a pass's decoded pictures: each inside the window is
/// converted to the analysis picture and handed to `on_frame` (and offered
/// to the side picture), and damage is counted in the report.
struct Delivery {
    clock: Clock,
    /// The window's `[start, end)`; everything without one.
    win: (f64, f64),
    vframe: ff::frame::Video,
    pic: Picture,
    /// The analysis picture handed to `on_frame`.
    buf: Vec<u8>,
    side: Option<SideOut>,
    near: Option<NearCuts>,
    report: PassReport,
    /// Time of the last frame delivered (errors are stamped with it).
    last_t: f64,
    /// Past the window, or `on_frame` asked to stop.
    done: bool,
}

impl Delivery {
    /// A decoder error, stamped with the time `at`.
    fn error(&mut self, at: f64) {
        self.report.decode_errors += 1;
        self.report.error_times.push(at);
    }

    /// Count the errors libav logged on this thread since the last look.
    fn count_log_errors(&mut self) {
        for _ in 0..take_log_errors() {
            let at = self.last_t;
            self.error(at);
        }
    }

    /// Hand every frame the decoder has ready to the analysis.
    fn drain(
        &mut self,
        dec: &mut ff::decoder::Video,
        on_frame: &mut dyn FnMut(&Frame<'_>) -> bool,
    ) {
        let (win_start, win_end) = self.win;
        while dec.receive_frame(&mut self.vframe).is_ok() {
            // A non-reference frame decoded for the cuts: not analysed.
            if let (Some(n), Some(p)) = (self.near.as_mut(), self.vframe.pts()) {
                if n.take_extra(p) {
                    continue;
                }
            }
            let t = match self.vframe.timestamp() {
                Some(ts) => self.clock.secs(ts),
                None => self.last_t + FRAME_STEP_S,
            };
            let (damaged, pict, key) = frame_facts(&self.vframe);
            if damaged {
                let at = self.last_t;
                self.error(at);
            }
            if t < win_start - 1e-6 {
                continue; // before the window: decoded only to get there
            }
            if t >= win_end - 1e-6 {
                self.done = true;
                return;
            }
            self.last_t = t;
            if let Some(s) = self.side.as_mut() {
                s.offer(t, &self.vframe);
            }
            if !self.read_picture() {
                self.error(t);
                continue;
            }
            self.report.frames += 1;
            if !on_frame(&Frame {
                t,
                pict_type: pict,
                key,
                yuv: &self.buf,
            }) {
                self.report.stopped = true;
                self.done = true;
                return;
            }
        }
    }

    /// The decoded frame's analysis picture into `buf`: the one read when
    /// it was decoded, if this is that picture, else converted now. False:
    /// it could not be converted.
    fn read_picture(&mut self) -> bool {
        // SAFETY: a pointer field of the decoded frame.
        let data0 = unsafe { (*self.vframe.as_ptr()).data[0] as usize };
        let early = self
            .near
            .as_ref()
            .and_then(|n| n.early_picture(self.vframe.pts()?, data0));
        if let Some(y) = early {
            self.buf.copy_from_slice(y);
            true
        } else {
            self.pic.convert(&self.vframe, &mut self.buf)
        }
    }
}

/// Of a decoded frame: damaged (the decoder flagged an error or
/// corruption), its picture type, and whether it is a key frame.
fn frame_facts(f: &ff::frame::Video) -> (bool, char, bool) {
    // SAFETY: plain fields of the decoded frame.
    unsafe {
        let p = f.as_ptr();
        (
            (*p).decode_error_flags != 0 || (*p).flags & ffi::AV_FRAME_FLAG_CORRUPT != 0,
            ffi::av_get_picture_type_char((*p).pict_type) as u8 as char,
            (*p).key_frame != 0,
        )
    }
}

/// The film's sound on its way to energies: decoded, resampled to mono
/// [`AUDIO_RATE`] and folded into [`Energy`] as it comes.
struct SoundOut {
    dec: ff::decoder::Audio,
    frame: ff::frame::Audio,
    resampler: Resampler,
    energy: Energy,
}

impl SoundOut {
    /// `None` without a sound stream (or one that cannot be decoded).
    fn new(input: &Input) -> Option<Self> {
        Some(SoundOut {
            dec: input.audio_decoder()?,
            frame: ff::frame::Audio::empty(),
            resampler: Resampler::new(),
            energy: Energy::new(AUDIO_RATE),
        })
    }

    /// Decode one packet; false when the decoder refused it.
    fn decode(&mut self, pkt: &ff::Packet) -> bool {
        if self.dec.send_packet(pkt).is_err() {
            return false;
        }
        self.take_frames();
        true
    }

    fn take_frames(&mut self) {
        while self.dec.receive_frame(&mut self.frame).is_ok() {
            self.resampler.push(Some(&self.frame), &mut self.energy);
        }
    }

    /// The end of the file: what the decoder still holds.
    fn flush(&mut self) {
        let _ = self.dec.send_eof();
        self.take_frames();
    }

    /// The energies, the resampler's last samples included. (The decoder
    /// lives on to the pass's end, as the picture's does.)
    fn take_energy(&mut self) -> Vec<f32> {
        self.resampler.push(None, &mut self.energy);
        std::mem::replace(&mut self.energy, Energy::new(AUDIO_RATE)).finish()
    }
}

/// The picture the spec asks for: its size, swscale flags and field, and
/// the stream's rotation. The main pass and the re-decodes see the same.
fn analysis_picture(spec: &DecodeSpec, rotation: u32) -> Picture {
    Picture::new(
        spec.width,
        spec.height,
        false,
        sws_flags(&spec.scale_flags),
        spec.field.map(|f| f == "bottom"),
        rotation,
    )
}

/// The decoding of skipped frames around jumps, when the spec asks for it
/// and the codec's packets say which frames are references (H.264, HEVC).
fn near_cuts(input: &Input, spec: &DecodeSpec) -> Option<NearCuts> {
    let rule = spec.jumps?;
    if !(spec.skip_nonref && spec.video && spec.window.is_none()) {
        return None;
    }
    let s = input.video.and_then(|i| input.ictx.stream(i))?;
    // SAFETY: the codec parameters of an open stream.
    let (codec, extradata) = unsafe {
        let par = (*s.as_ptr()).codecpar;
        let ed = if (*par).extradata.is_null() || (*par).extradata_size <= 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts((*par).extradata, (*par).extradata_size as usize)
        };
        ((*par).codec_id, ed)
    };
    NearCuts::new(rule, codec, extradata)
}

/// Decode several short windows `(start, duration)` of the film, in order,
/// with one open file and one decoder: each window seeks to the key frame
/// before it and skips the non-reference frames on the way. `on_frame` gets
/// the frames inside the windows in order; the result holds each window's
/// frame times (the first `r[0].len()` frames were window 0's, and so on).
pub fn run_windows(
    film: &Path,
    spec: &DecodeSpec,
    windows: &[(f64, f64)],
    on_frame: &mut dyn FnMut(&[u8]),
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let mut input = open(film, false, spec.start_s)?;
    if input.video.is_none() {
        return Err(err(film, "no video stream"));
    }
    let mut dec = input
        .video_decoder(spec.threads, spec.skip_loop_filter, None)
        .map_err(|e| err(film, format!("cannot decode the picture: {e}")))?;
    let mut pic = analysis_picture(spec, input.rotation);
    let clock = input.clock;
    let mut buf = vec![0u8; pic.bytes()];
    let mut frame = ff::frame::Video::empty();
    let mut pkt = ff::Packet::empty();
    let mut out = Vec::with_capacity(windows.len());
    for &(ws, dur) in windows {
        let we = ws + dur;
        input.seek(ws);
        dec.flush();
        let mut times = Vec::new();
        let mut done = false;
        let mut read_errors = 0;
        let mut take = |dec: &mut ff::decoder::Video, times: &mut Vec<f64>| -> bool {
            while dec.receive_frame(&mut frame).is_ok() {
                let Some(ts) = frame.timestamp() else {
                    continue;
                };
                let t = clock.secs(ts);
                if t < ws - 1e-6 {
                    continue;
                }
                if t >= we - 1e-6 {
                    return true;
                }
                if pic.convert(&frame, &mut buf) {
                    times.push(t);
                    on_frame(&buf);
                }
            }
            false
        };
        while !done {
            match read_packet(&mut pkt, &mut input.ictx) {
                Ok(()) => read_errors = 0,
                Err(ff::Error::Eof) => break,
                Err(_) => {
                    read_errors += 1;
                    if read_errors > 1000 {
                        break;
                    }
                    continue;
                }
            }
            if Some(pkt.stream()) != input.video {
                continue;
            }
            let inside = input
                .packet_time(&pkt)
                .is_none_or(|t| t >= ws - 1e-6 && t < we - 1e-6);
            set_skip_nonref(&mut dec, spec.skip_nonref || !inside);
            let _ = dec.send_packet(&pkt);
            done = take(&mut dec, &mut times);
        }
        if !done {
            let _ = dec.send_eof();
            take(&mut dec, &mut times);
        }
        take_log_errors();
        out.push(times);
    }
    Ok(out)
}

/// The side picture for the face detector: the first frame of every
/// `every_s` seconds of film time (counted from the film's start, so that
/// two segments pick the same frames), grey, handed to the consumer on its
/// own thread.
struct SideOut {
    spec: SideSpec,
    pic: Picture,
    last_slot: Option<i64>,
    tx: Option<mpsc::SyncSender<(f64, Vec<u8>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SideOut {
    fn start(spec: SideSpec, sink: SideSinkFactory, rotation: u32) -> Self {
        let (tx, rx) = mpsc::sync_channel::<(f64, Vec<u8>)>(4);
        let thread = std::thread::spawn(move || {
            // The face detector yields the cores to the decoders (which are
            // the critical path) and catches up when one is free.
            lower_priority();
            let mut sink = sink();
            for (t, px) in rx {
                sink(t, &px);
            }
        });
        SideOut {
            spec,
            pic: Picture::new(
                spec.width,
                spec.height,
                true,
                ffi::SWS_BILINEAR,
                None,
                rotation,
            ),
            last_slot: None,
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn offer(&mut self, t: f64, f: &ff::frame::Video) {
        let slot = (t / self.spec.every_s).floor() as i64;
        if self.last_slot.is_some_and(|l| slot <= l) {
            return;
        }
        self.last_slot = Some(slot);
        let mut px = vec![0u8; self.pic.bytes()];
        if self.pic.convert(f, &mut px) {
            if let Some(tx) = &self.tx {
                let _ = tx.send((t, px));
            }
        }
    }

    fn finish(mut self) {
        self.tx = None;
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}
