//! Subtitle streams inside the film (MKV, MP4, ...): ffprobe lists them, the best
//! text stream is written out with ffmpeg and read like any subtitle file.
//! Bitmap subtitles (PGS, VobSub, DVB) would need OCR, so they are reported and
//! skipped, never guessed at.

use super::{load_subtitles, Dialogue, SubtitleError};
use crate::media::process::Process;
use crate::media::MediaError;
use std::path::{Path, PathBuf};

/// The outcome of looking for embedded subtitles.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded {
    /// A text stream was written to `path`.
    Extracted {
        path: PathBuf,
        /// N in ffmpeg's `0:s:N` (counting subtitle streams only).
        stream: usize,
        codec: String,
        language: Option<String>,
    },
    /// Nothing usable, and why ("no subtitle streams", "only bitmap subtitles ...").
    Unavailable { reason: String },
}

impl Embedded {
    pub fn path(&self) -> Option<&Path> {
        match self {
            Embedded::Extracted { path, .. } => Some(path),
            Embedded::Unavailable { .. } => None,
        }
    }
}

/// Subtitle codecs made of images; the rest of ffmpeg's subtitle codecs are text.
const BITMAP_CODECS: &[&str] = &[
    "hdmv_pgs_subtitle",
    "dvd_subtitle",
    "dvb_subtitle",
    "xsub",
    "dvb_teletext",
    "arib_caption",
];

pub(crate) fn is_text_codec(codec: &str) -> bool {
    !BITMAP_CODECS.contains(&codec)
}

#[derive(Debug, Clone)]
struct Stream {
    codec: String,
    language: Option<String>,
    default: bool,
    forced: bool,
}

/// Finds the subtitle streams of `film` and writes the best text one into
/// `out_dir` (ASS streams stay ASS so their speaker names survive; others become
/// SRT). The file is written under a temporary name and renamed when complete.
pub fn extract_embedded(film: &Path, out_dir: &Path) -> Result<Embedded, SubtitleError> {
    let streams = probe_subtitle_streams(film)?;
    if streams.is_empty() {
        return Ok(Embedded::Unavailable {
            reason: "the film has no subtitle streams".into(),
        });
    }
    let Some(n) = choose_stream(&streams) else {
        let codecs: Vec<&str> = streams.iter().map(|s| s.codec.as_str()).collect();
        return Ok(Embedded::Unavailable {
            reason: format!(
                "only bitmap subtitle streams ({}), which would need OCR",
                codecs.join(", ")
            ),
        });
    };
    let s = &streams[n];
    let keep_ass = s.codec == "ass" || s.codec == "ssa";
    let ext = if keep_ass { "ass" } else { "srt" };
    std::fs::create_dir_all(out_dir).map_err(|e| SubtitleError::Io {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let stem = film
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into());
    let path = out_dir.join(format!("{stem}.embedded-s{n}.{ext}"));
    let part = out_dir.join(format!("{stem}.embedded-s{n}.{ext}.part"));
    let mut args: Vec<std::ffi::OsString> = vec![
        "-nostdin".into(),
        "-v".into(),
        "error".into(),
        "-y".into(),
        "-i".into(),
        film.as_os_str().into(),
        "-map".into(),
        format!("0:s:{n}").into(),
    ];
    if keep_ass {
        args.extend(["-c:s".into(), "copy".into(), "-f".into(), "ass".into()]);
    } else {
        args.extend(["-c:s".into(), "srt".into(), "-f".into(), "srt".into()]);
    }
    args.push(part.as_os_str().into());
    let out = Process::ffmpeg()
        .args(&args)
        .output()
        .map_err(|e| cannot_run(film, "ffmpeg", e))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&part);
        return Err(tool_error(
            film,
            "ffmpeg",
            format!(
                "extracting subtitle stream 0:s:{n} ({}): {}",
                s.codec,
                out.stderr.trim()
            ),
        ));
    }
    std::fs::rename(&part, &path).map_err(|e| SubtitleError::Io {
        path: path.clone(),
        source: e,
    })?;
    Ok(Embedded::Extracted {
        path,
        stream: n,
        codec: s.codec.clone(),
        language: s.language.clone(),
    })
}

/// Extracts and reads the film's own subtitles. An error (including
/// [`SubtitleError::NoEmbedded`]) means: go on without dialogue, and tell the user why.
pub fn load_embedded(
    film: &Path,
    out_dir: &Path,
    fps: Option<f64>,
    film_duration_s: Option<f64>,
) -> Result<Dialogue, SubtitleError> {
    match extract_embedded(film, out_dir)? {
        Embedded::Extracted { path, stream, .. } => {
            let mut d = load_subtitles(&path, fps, film_duration_s)?;
            d.source = format!("embedded stream {stream} of {}", film.display());
            Ok(d)
        }
        Embedded::Unavailable { reason } => Err(SubtitleError::NoEmbedded {
            film: film.to_path_buf(),
            reason,
        }),
    }
}

fn tool_error(film: &Path, tool: &'static str, detail: String) -> SubtitleError {
    SubtitleError::Tool {
        film: film.to_path_buf(),
        tool,
        detail,
    }
}

/// The tool could not be started: what the operating system said.
fn cannot_run(film: &Path, tool: &'static str, e: MediaError) -> SubtitleError {
    tool_error(film, tool, format!("cannot run {tool}: {}", e.os_detail()))
}

fn probe_subtitle_streams(film: &Path) -> Result<Vec<Stream>, SubtitleError> {
    let out = Process::ffprobe()
        .args([
            "-v",
            "error",
            "-select_streams",
            "s",
            "-show_entries",
            "stream=index,codec_name:stream_tags=language:stream_disposition=default,forced",
            "-of",
            "json",
        ])
        .arg(film)
        .output()
        .map_err(|e| cannot_run(film, "ffprobe", e))?;
    if !out.status.success() {
        return Err(tool_error(film, "ffprobe", out.stderr.trim().to_string()));
    }
    parse_probe(&out.stdout).map_err(|e| tool_error(film, "ffprobe", e))
}

fn parse_probe(json: &[u8]) -> Result<Vec<Stream>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("unreadable ffprobe output: {e}"))?;
    let streams = v
        .get("streams")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    Ok(streams
        .iter()
        .map(|s| {
            let flag = |k: &str| {
                s.get("disposition")
                    .and_then(|d| d.get(k))
                    .and_then(|x| x.as_i64())
                    == Some(1)
            };
            Stream {
                codec: s
                    .get("codec_name")
                    .and_then(|c| c.as_str())
                    .unwrap_or("unknown")
                    .to_string(),
                language: s
                    .get("tags")
                    .and_then(|t| t.get("language"))
                    .and_then(|l| l.as_str())
                    .map(String::from),
                default: flag("default"),
                forced: flag("forced"),
            }
        })
        .collect())
}

/// Text streams only; forced streams (foreign-language parts only) come last,
/// the default stream first, then file order.
fn choose_stream(streams: &[Stream]) -> Option<usize> {
    let mut best: Option<(usize, (bool, bool))> = None;
    for (i, s) in streams.iter().enumerate() {
        if !is_text_codec(&s.codec) || s.codec == "unknown" {
            continue;
        }
        let rank = (!s.forced, s.default);
        if best.is_none_or(|(_, r)| rank > r) {
            best = Some((i, rank));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_default_text_stream_not_forced_or_bitmap() {
        let json = br#"{"streams":[
            {"index":2,"codec_name":"hdmv_pgs_subtitle","disposition":{"default":1,"forced":0}},
            {"index":3,"codec_name":"subrip","disposition":{"default":0,"forced":1},"tags":{"language":"eng"}},
            {"index":4,"codec_name":"ass","disposition":{"default":0,"forced":0},"tags":{"language":"fre"}},
            {"index":5,"codec_name":"mov_text","disposition":{"default":1,"forced":0}}]}"#;
        let s = parse_probe(json).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[2].language.as_deref(), Some("fre"));
        assert_eq!(choose_stream(&s), Some(3));
        assert_eq!(choose_stream(&s[..3]), Some(2));
        assert_eq!(choose_stream(&s[..1]), None);
        assert!(parse_probe(b"not json").is_err());
    }
}
