//! Still pictures of a film for people to look at: one frame as a small
//! JPEG (the report's thumbnails) and a grid of such frames as one PNG (the
//! contact sheet), both through the one process runner.

use super::process::{file_arg, Process};
use super::MediaError;
use std::path::Path;

/// The film's frame at `t_s` seconds, `width` pixels wide (height keeps the
/// aspect, even), as JPEG bytes.
pub fn frame_jpeg(film: &Path, t_s: f64, width: u32) -> Result<Vec<u8>, MediaError> {
    let jpeg = Process::ffmpeg()
        .args(crate::args![
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-ss",
            format!("{:.3}", t_s.max(0.0)),
            "-i",
            file_arg(film),
            "-frames:v",
            "1",
            "-an",
            "-vf",
            format!("scale={width}:-2:flags=bicubic"),
            "-c:v",
            "mjpeg",
            "-q:v",
            "5",
            "-f",
            "image2pipe",
            "pipe:1"
        ])
        .stdout()?;
    if jpeg.is_empty() {
        // A seek past the last frame decodes nothing and still exits 0.
        return Err(MediaError::ToolOutput {
            tool: "ffmpeg".into(),
            problem: format!("{}: no frame at {t_s:.3} s", film.display()),
        });
    }
    Ok(jpeg)
}

/// Tiles the pictures `dir/<prefix>%04d.jpg` (numbered from 0, all the same
/// size) `columns` wide into one PNG at `out`; the last row is padded with
/// empty tiles of the sheet's dark grey.
pub fn tile_png(
    dir: &Path,
    prefix: &str,
    count: usize,
    columns: usize,
    out: &Path,
) -> Result<(), MediaError> {
    let rows = count.div_ceil(columns.max(1)).max(1);
    let pattern = dir.join(format!("{prefix}%04d.jpg"));
    Process::ffmpeg()
        .args(crate::args![
            "-f",
            "image2",
            "-start_number",
            "0",
            "-i",
            file_arg(&pattern),
            "-vf",
            format!("tile={columns}x{rows}:margin=4:padding=4:color=0x202020"),
            "-frames:v",
            "1",
            "-update",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            file_arg(out)
        ])
        .run_with_progress(&mut |_| {})?;
    Ok(())
}
