//! The contact sheet: every clip's thumbnail, in playing order, tiled into
//! one PNG beside the report (for terminals and issue trackers, where an
//! HTML page does not show). ffmpeg's `tile` filter lays it out; the file is
//! written to a temporary name in the same folder and renamed into place.

use super::data::ReportData;
use crate::media::MediaError;
use crate::workdir::WorkdirError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Tiles per row, at most.
pub const MAX_COLUMNS: usize = 6;
/// Space around and between tiles, pixels (the `tile` filter's margin and padding).
pub const GAP_PX: u32 = 4;

/// Where the sheet is and how it is laid out (for `--json`, and for a
/// reader that wants tile `i`: column `i % columns`, row `i / columns`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SheetLayout {
    pub path: PathBuf,
    /// Its file name, as the page names it.
    pub file_name: String,
    pub tiles: usize,
    pub columns: usize,
    pub rows: usize,
    pub tile_width: u32,
    pub tile_height: u32,
}

/// Why the sheet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Write(WorkdirError),
}

/// Writes the sheet to `out`; None (nothing written) when a clip has no
/// thumbnail — the page says why.
pub fn write(d: &ReportData, out: &Path) -> Result<Option<SheetLayout>, SheetError> {
    let Ok(thumbs) = d
        .clips
        .iter()
        .map(|c| c.thumbnail.as_ref())
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(None);
    };
    let Some((tile_width, tile_height)) = thumbs.first().and_then(|j| jpeg_size(j)) else {
        return Ok(None);
    };
    let io = |path: &Path, e: std::io::Error| {
        SheetError::Write(WorkdirError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let tmp = tempfile::tempdir().map_err(|e| io(&std::env::temp_dir(), e))?;
    for (i, jpeg) in thumbs.iter().enumerate() {
        let p = tmp.path().join(format!("t{i:04}.jpg"));
        std::fs::write(&p, jpeg).map_err(|e| io(&p, e))?;
    }
    let columns = thumbs.len().clamp(1, MAX_COLUMNS);
    let dir = crate::workdir::parent_dir(out);
    let part = tempfile::Builder::new()
        .prefix(".cinecut-")
        .suffix(".png")
        .tempfile_in(&dir)
        .map_err(|e| io(&dir, e))?;
    crate::media::still::tile_png(tmp.path(), "t", thumbs.len(), columns, part.path())
        .map_err(SheetError::Media)?;
    // tempfile makes 0600 files; the sheet is an ordinary file to share.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = part
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    part.persist(out).map_err(|e| io(out, e.error))?;
    crate::workdir::sync_dir(&dir);
    Ok(Some(SheetLayout {
        path: out.to_path_buf(),
        file_name: out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        tiles: thumbs.len(),
        columns,
        rows: thumbs.len().div_ceil(columns),
        tile_width,
        tile_height,
    }))
}

/// A JPEG's (width, height) from its start-of-frame header.
pub fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < jpeg.len() {
        if jpeg[i] != 0xFF {
            return None;
        }
        let marker = jpeg[i + 1];
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        // SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let h = u16::from_be_bytes([jpeg[i + 5], jpeg[i + 6]]) as u32;
            let w = u16::from_be_bytes([jpeg[i + 7], jpeg[i + 8]]) as u32;
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_size_reads_the_frame_header_of_a_real_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let film = dir.path().join("bars.mp4");
        let made = crate::media::process::Process::ffmpeg()
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
            .args([
                "testsrc2=size=320x180:rate=25:duration=1",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(&film)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", made.stderr);
        let jpeg = crate::media::still::frame_jpeg(&film, 0.5, 240).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert_eq!(jpeg_size(&jpeg), Some((240, 136)));
        assert_eq!(jpeg_size(b"not a jpeg at all"), None);
        assert!(crate::media::still::frame_jpeg(&film, 30.0, 240).is_err());
    }
}
