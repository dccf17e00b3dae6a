//! FFmpeg's libraries in process (through the `ffmpeg-next` crate): the
//! one-time set-up, the capture of libav's log, and opening a file. The
//! probe ([`super::probe`]) and the analysis' decoder read films this way;
//! rendering still runs the ffmpeg command line, whose filter graphs have
//! no match here.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use ff::ffi;
use ffmpeg_next as ff;

// ---------------------------------------------------------------------------
// Logging: libav reports damage (a bad NAL unit, concealed macroblocks) only
// through its log. The callback counts error lines per thread and keeps the
// last few; a decoder with one thread logs on the thread that called it.

#[derive(Default)]
struct LogState {
    errors: usize,
    tail: VecDeque<String>,
}

thread_local! {
    static LOG: RefCell<LogState> = RefCell::new(LogState::default());
}

#[cfg(target_arch = "x86_64")]
type VaList = *mut ffi::__va_list_tag;
#[cfg(not(target_arch = "x86_64"))]
type VaList = ffi::va_list;

unsafe extern "C" fn on_log(avcl: *mut c_void, level: c_int, fmt: *const c_char, vl: VaList) {
    if level > ffi::AV_LOG_ERROR {
        return;
    }
    let mut line = [0 as c_char; 512];
    let mut prefix: c_int = 1;
    // SAFETY: libav hands us its own format and argument list; the line
    // buffer's size is passed along and the result is NUL-terminated.
    ffi::av_log_format_line2(
        avcl,
        level,
        fmt,
        vl,
        line.as_mut_ptr(),
        line.len() as c_int,
        &mut prefix,
    );
    let text = CStr::from_ptr(line.as_ptr())
        .to_string_lossy()
        .trim_end()
        .to_string();
    LOG.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.errors += 1;
            l.tail.push_back(text);
            if l.tail.len() > 20 {
                l.tail.pop_front();
            }
        }
    });
}

/// Errors logged on this thread since the last call.
pub fn take_log_errors() -> usize {
    LOG.with(|l| std::mem::take(&mut l.borrow_mut().errors))
}

pub fn log_tail() -> String {
    LOG.with(|l| l.borrow_mut().tail.drain(..).collect::<Vec<_>>().join("\n"))
}

pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ff::init();
        // SAFETY: a plain function pointer, set once for the process.
        unsafe { ffi::av_log_set_callback(Some(on_log)) };
    });
}

/// Open `path` and read its stream information. The error is libav's
/// message ("Invalid data found when processing input").
pub fn open(path: &Path) -> Result<ff::format::context::Input, String> {
    open_with(path, true)
}

/// Open `path` reading its header only, for a file already probed: no
/// stream information is gathered (which decodes the first frames, ~10 ms).
/// `None` when the container announces its streams only as they come
/// (MPEG-TS), or a stream's codec or picture size is not in the header:
/// then [`open`] is needed.
pub fn open_header(path: &Path) -> Option<ff::format::context::Input> {
    let input = open_with(path, false).ok()?;
    // SAFETY: reading fields of the open context and its streams.
    let complete = unsafe {
        let c = input.as_ptr();
        (*c).ctx_flags & ffi::AVFMTCTX_NOHEADER == 0
            && (0..(*c).nb_streams as usize).all(|i| {
                let par = (**(*c).streams.add(i)).codecpar;
                match (*par).codec_type {
                    ffi::AVMediaType::AVMEDIA_TYPE_VIDEO => {
                        (*par).codec_id != ffi::AVCodecID::AV_CODEC_ID_NONE
                            && (*par).width > 0
                            && (*par).height > 0
                    }
                    ffi::AVMediaType::AVMEDIA_TYPE_AUDIO => {
                        (*par).codec_id != ffi::AVCodecID::AV_CODEC_ID_NONE
                            && (*par).sample_rate > 0
                            && (*par).ch_layout.nb_channels > 0
                    }
                    _ => true,
                }
            })
    };
    complete.then_some(input)
}

fn open_with(path: &Path, stream_info: bool) -> Result<ff::format::context::Input, String> {
    init();
    // "file:" so that a name with a colon is never read as a protocol.
    let mut url = b"file:".to_vec();
    url.extend_from_slice(path.as_os_str().as_bytes());
    let url = CString::new(url).map_err(|_| "the file name contains a NUL byte".to_string())?;
    let mut ps: *mut ffi::AVFormatContext = std::ptr::null_mut();
    // SAFETY: standard open/find_stream_info; on failure the context is
    // closed here, on success `Input::wrap` owns and closes it.
    unsafe {
        let r = ffi::avformat_open_input(
            &mut ps,
            url.as_ptr(),
            std::ptr::null(),
            std::ptr::null_mut(),
        );
        if r < 0 {
            return Err(ff::Error::from(r).to_string());
        }
        if stream_info {
            // One decoder thread per stream while probing: the first frames
            // decode faster than a thread pool starts.
            let n = (*ps).nb_streams as usize;
            let mut opts: Vec<*mut ffi::AVDictionary> = vec![std::ptr::null_mut(); n];
            for o in opts.iter_mut() {
                ffi::av_dict_set(o, c"threads".as_ptr(), c"1".as_ptr(), 0);
            }
            let r = ffi::avformat_find_stream_info(ps, opts.as_mut_ptr());
            for o in opts.iter_mut() {
                ffi::av_dict_free(o);
            }
            if r < 0 {
                ffi::avformat_close_input(&mut ps);
                return Err(ff::Error::from(r).to_string());
            }
        }
        Ok(ff::format::context::Input::wrap(ps))
    }
}
