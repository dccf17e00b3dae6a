//! The render stage: the manifest rendered from the original film in one
//! ffmpeg pass into the trailer. `render.json` records what was rendered
//! where, so an unchanged rerun skips it while the output is still the file
//! it wrote.

use crate::error::{Error, Result};
use crate::options::same_file;
use crate::pipeline::{Context, Stage};
use crate::workdir::{self, Artifact};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A record of the last finished render.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderRecord {
    pub output: PathBuf,
    pub output_size: u64,
    pub output_mtime_ns: u128,
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
}

pub struct RenderStage;

impl RenderStage {
    fn output<'c>(cx: &'c Context) -> &'c Path {
        cx.output
            .as_deref()
            .expect("internal: the render runs with an output path")
    }
}

impl Stage for RenderStage {
    type Output = RenderRecord;

    fn name(&self) -> &'static str {
        "render"
    }

    /// The manifest itself, as it is now: a hand edit re-renders.
    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        let bytes =
            serde_json::to_vec(cx.manifest()).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(vec![String::from_utf8_lossy(&bytes).into_owned()])
    }

    fn progress_total(&self, cx: &Context) -> Option<f64> {
        Some(cx.manifest().total_duration_s())
    }

    fn load(&self, cx: &Context, art: &Artifact) -> Result<Option<RenderRecord>> {
        let out = Self::output(cx);
        Ok(art.load::<RenderRecord>().filter(|r| {
            out.is_file()
                && same_file(&r.output, out)
                && std::fs::metadata(out).map(|m| m.len()).unwrap_or(0) == r.output_size
                && workdir::mtime_ns(out) == r.output_mtime_ns
        }))
    }

    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(RenderRecord, String)> {
        let (m, out) = (cx.manifest(), Self::output(cx));
        let film = &m.film.path;
        if !film.is_file() {
            return Err(Error::input(film, "the manifest's film is missing"));
        }
        let total = m.total_duration_s();
        let rep = crate::render::render(m, film, out, &mut |phase, t| {
            bar.message(phase);
            bar.set(t.min(total));
        })?;
        let (lufs, tp) = (rep.loudness_lufs, rep.true_peak_db);
        let msg = format!(
            "{} ({:.1} s, {lufs:.1} LUFS, true peak {tp:.1} dBTP; sound {:.1} s beside the picture, {:.1} s in all)",
            out.display(),
            total,
            rep.sound_s,
            rep.encode_s
        );
        let rec = RenderRecord {
            output: std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()),
            output_size: std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
            output_mtime_ns: workdir::mtime_ns(out),
            loudness_lufs: lufs,
            true_peak_db: tp,
        };
        Ok((rec, msg))
    }

    fn keep(&self, cx: &mut Context, rec: RenderRecord) {
        cx.rendered = Some(rec);
    }
}
