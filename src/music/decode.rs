//! Decoding any audio ffmpeg reads into mono f32 samples, through a pipe.

use super::MusicError;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Decode the first audio stream of `path` to mono f32 at `sample_rate`.
pub fn decode_mono(path: &Path, sample_rate: u32) -> Result<Vec<f32>, MusicError> {
    decode_mono_limited(path, sample_rate, None)
}

/// Like [`decode_mono`], but stops after `max_s` seconds (for quick scans).
pub fn decode_mono_limited(
    path: &Path,
    sample_rate: u32,
    max_s: Option<f64>,
) -> Result<Vec<f32>, MusicError> {
    if !path.is_file() {
        return Err(MusicError::NotFound(path.to_path_buf()));
    }
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-vn", "-ac", "1", "-ar"])
        .arg(sample_rate.to_string());
    if let Some(t) = max_s {
        cmd.arg("-t").arg(format!("{t:.3}"));
    }
    cmd.args(["-f", "f32le", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| MusicError::Ffmpeg {
        path: path.to_path_buf(),
        detail: format!("cannot start ffmpeg: {e}"),
    })?;
    // Drain stderr on a thread so a chatty ffmpeg cannot block on a full pipe.
    let mut stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let mut bytes = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut bytes)
            .map_err(|e| MusicError::Ffmpeg {
                path: path.to_path_buf(),
                detail: format!("reading decoded audio: {e}"),
            })?;
    }
    let status = child.wait().map_err(|e| MusicError::Ffmpeg {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() || bytes.len() < 4 {
        let detail = stderr.trim();
        return Err(MusicError::NotAudio {
            path: path.to_path_buf(),
            detail: if detail.is_empty() {
                "no audio samples decoded".into()
            } else {
                detail.lines().last().unwrap_or(detail).to_string()
            },
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}
