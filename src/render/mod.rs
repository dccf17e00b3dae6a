//! The render: the manifest becomes one ffmpeg filtergraph per pass, cut
//! from the original film (no intermediate lossy encode), and the trailer.
//!
//! Each clip is its own input (`-ss IN -t LEN -i film`, an accurate seek, or
//! a seek to the decoder's key frame before it; see [`clip_seek`]), so ffmpeg
//! decodes only what the trailer uses. Clips are made frame-exact (fps, trim
//! by frame count), joined with concat or xfade and graded (`picture`). The
//! sound pass mixes the four stems (`mix`) into lossless raw f32; `sound`
//! brings the mix to the vibe's loudness through a true-peak limiter in
//! memory; a last step muxes the two. `graph` holds what both passes share.
//! Above `media` (which runs the tools), below the pipeline.

pub mod error;
mod graph;
pub mod lut;
mod mix;
mod picture;
pub mod sfx;
mod sound;

pub use error::RenderError;
pub use graph::clip_seek;
pub use picture::{card_still_args, grade_chains, picture_args};

use crate::manifest::{Item, Manifest};
use crate::media::process::{file_arg, Process};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub const AUDIO_RATE: u32 = 48_000;

/// A number as filter text: six decimals at most, no trailing zeros.
/// A frame rate as ffmpeg must read it: the exact rational of an NTSC rate
/// (24000/1001, 30000/1001, 60000/1001…), else the number.
///
/// Why: `fps=23.976024` is not 24000/1001, and a graph whose clips run at
/// the one rate and whose xfade and blend meet at the other never reaches
/// its end — ffmpeg kept encoding for tens of minutes on 23.976 and 29.97
/// fps films (found by the export tests).
fn rate(fps: f64) -> String {
    let ntsc = fps * 1001.0 / 1000.0;
    if ntsc.round() >= 1.0 && (ntsc - ntsc.round()).abs() < 1e-4 && (fps - fps.round()).abs() > 1e-3
    {
        return format!("{}/1001", ntsc.round() as u64 * 1000);
    }
    num(fps)
}

fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Arguments that put the picture and the encoded sound in one file, as
/// they are (no re-encode), with the index up front for streaming.
fn mux_args(picture: &Path, sound: &Path, out: &Path) -> Vec<OsString> {
    crate::args![
        "-i",
        file_arg(picture),
        "-i",
        file_arg(sound),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        out
    ]
    .to_vec()
}

/// A font for cards: $CINECUT_FONT, else a bold sans from the usual places.
pub fn find_font() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os("CINECUT_FONT") {
        return Some(PathBuf::from(f));
    }
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
        "/Library/Fonts/Arial Bold.ttf",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Removes a partial output if the render does not finish.
struct PartialGuard(Option<PathBuf>);
impl Drop for PartialGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub struct RenderReport {
    /// Integrated loudness (LUFS) and true peak (dBTP) of the trailer's
    /// sound, measured on the encoded sound that the mux copies unchanged.
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
    /// Seconds spent on the sound (beside the picture), and on the whole render.
    pub sound_s: f64,
    pub encode_s: f64,
}

/// Renders the manifest into `out`, atomically: the trailer is written under
/// a hidden temporary name in the same folder and renamed only when complete.
///
/// The sound and the picture are made side by side. The sound pass mixes
/// the four stems into lossless raw f32 (no video decoded); in memory, a
/// gain and a true-peak limiter bring it to the vibe's loudness, measured
/// as they go (`level`); the result is encoded once, decoded and its true
/// peak checked. Meanwhile the picture pass cuts, joins and grades every
/// clip. A last step muxes the two without re-encoding. loudnorm's own
/// dynamic mode undershot by 1.7 LU on real trailer sound.
pub fn render(
    m: &Manifest,
    film: &Path,
    out: &Path,
    on_progress: &mut dyn FnMut(&str, f64),
) -> Result<RenderReport, RenderError> {
    let font = find_font();
    if font.is_none() && m.timeline.iter().any(|i| matches!(i, Item::Card(_))) {
        return Err(RenderError::NoFont);
    }
    let tmpdir = tempfile::Builder::new()
        .prefix("cinecut-sound")
        .tempdir()
        .map_err(|e| RenderError::io(std::env::temp_dir(), e))?;
    let dir = crate::workdir::parent_dir(out);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trailer.mp4".into());
    // Both temporaries live beside the output (same disk, renamed at the end)
    // and are removed if the render does not finish.
    let picture = dir.join(format!(".{name}.cinecut-picture.mp4"));
    let _picture_guard = PartialGuard(Some(picture.clone()));
    let tmp = dir.join(format!(".{name}.cinecut-partial.mp4"));
    let mut guard = PartialGuard(Some(tmp.clone()));
    let t0 = std::time::Instant::now();
    let (sound, sound_s, picture_res) = std::thread::scope(|scope| {
        let sound = scope.spawn(|| {
            let r = sound::make_sound(m, film, tmpdir.path());
            (r, t0.elapsed().as_secs_f64())
        });
        let pic = Process::ffmpeg()
            .args(picture_args(m, film, font.as_deref(), &picture))
            .run_with_progress(&mut |t| on_progress("picture", t));
        let (snd, secs) = sound
            .join()
            .unwrap_or((Err(RenderError::SoundThreadPanicked), 0.0));
        (snd, secs, pic)
    });
    picture_res.map_err(|e| RenderError::writing(&dir, e))?;
    let sound = sound?;
    on_progress("mux", m.total_duration_s());
    Process::ffmpeg()
        .args(mux_args(&picture, &sound.encoded, &tmp))
        .run_with_progress(&mut |_| {})
        .map_err(|e| RenderError::writing(&dir, e))?;
    if let Ok(f) = std::fs::File::open(&tmp) {
        let _ = f.sync_all();
    }
    std::fs::rename(&tmp, out).map_err(|e| RenderError::io(out, e))?;
    guard.0 = None;
    crate::workdir::sync_dir(&dir);
    Ok(RenderReport {
        loudness_lufs: sound.lufs,
        true_peak_db: sound.true_peak_db,
        sound_s,
        encode_s: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod rate_tests {
    use super::rate;

    #[test]
    fn ntsc_rates_are_written_as_their_exact_rationals() {
        assert_eq!(rate(24000.0 / 1001.0), "24000/1001");
        assert_eq!(rate(23.976024), "24000/1001");
        assert_eq!(rate(30000.0 / 1001.0), "30000/1001");
        assert_eq!(rate(60000.0 / 1001.0), "60000/1001");
        assert_eq!(rate(24.0), "24");
        assert_eq!(rate(25.0), "25");
        assert_eq!(rate(50.0), "50");
        assert_eq!(rate(12.5), "12.5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.25), "-0.25");
        assert_eq!(num(0.0), "0");
    }
}
