//! Decoding any audio ffmpeg reads into mono f32 samples, read from its
//! pipe as they come (the media runner's streaming mode).

use super::MusicError;
use crate::media::process::Process;
use std::io::Read;
use std::path::Path;

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
    let mut ffmpeg = Process::ffmpeg()
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-vn", "-ac", "1", "-ar"])
        .arg(sample_rate.to_string());
    if let Some(t) = max_s {
        ffmpeg = ffmpeg.arg("-t").arg(format!("{t:.3}"));
    }
    let ffmpeg_failed = |detail: String| MusicError::Ffmpeg {
        path: path.to_path_buf(),
        detail,
    };
    let mut pcm = ffmpeg
        .args(["-f", "f32le", "-"])
        .stream()
        .map_err(|e| ffmpeg_failed(format!("cannot start ffmpeg: {}", e.os_detail())))?;
    let (samples, bytes) =
        read_f32le(&mut pcm).map_err(|e| ffmpeg_failed(format!("reading decoded audio: {e}")))?;
    let fin = pcm.finish().map_err(|e| ffmpeg_failed(e.os_detail()))?;
    if !fin.status.success() || bytes < 4 {
        let detail = fin.stderr.trim();
        return Err(MusicError::NotAudio {
            path: path.to_path_buf(),
            detail: if detail.is_empty() {
                "no audio samples decoded".into()
            } else {
                detail.lines().last().unwrap_or(detail).to_string()
            },
        });
    }
    Ok(samples)
}

/// Little-endian f32 samples read as they come (a trailing partial sample
/// is dropped), and the number of bytes read.
fn read_f32le(r: &mut impl Read) -> std::io::Result<(Vec<f32>, usize)> {
    let mut samples = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a sample split between two reads.
    let mut carry = 0;
    let mut total = 0;
    loop {
        let n = match r.read(&mut buf[carry..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n;
        let filled = carry + n;
        let whole = filled / 4 * 4;
        samples.extend(
            buf[..whole]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        buf.copy_within(whole..filled, 0);
        carry = filled - whole;
    }
    Ok((samples, total))
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_split_between_reads_are_joined() {
        let want: Vec<f32> = (0..1000).map(|i| i as f32 * 0.25 - 3.0).collect();
        let mut bytes: Vec<u8> = want.iter().flat_map(|v| v.to_le_bytes()).collect();
        bytes.push(7); // half a sample at the end is dropped
                       // A reader that hands out 3 bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(3).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let (got, n) = super::read_f32le(&mut Trickle(&bytes)).unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(got, want);
    }
}
