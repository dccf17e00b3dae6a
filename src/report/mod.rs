//! `cinecut report`: one self-contained HTML page of every decision of a cut
//! (storyboard with thumbnails, the film's intensity with the chosen ranges,
//! the music's beats under the cuts, the mix loudness, the check's verdicts)
//! and a PNG contact sheet of the storyboard beside it.
//!
//! [`data`] gathers what the page shows from the manifest and the work
//! folder's artifacts (a missing one leaves its section empty, saying why);
//! [`svg`] draws the charts, [`html`] writes the page (every text escaped),
//! [`sheet`] tiles the thumbnails. The manifest and every input are only read.

pub mod data;
pub mod html;
pub mod sheet;
pub mod svg;

use crate::manifest::{Manifest, ManifestError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// An output path the user must change: it would overwrite an input, or
    /// its folder is missing.
    #[error("{}: {problem}", path.display())]
    Output { path: PathBuf, problem: String },
    /// ffmpeg failed on the contact sheet (its error names the file).
    #[error(transparent)]
    Media(crate::media::MediaError),
    /// Writing the page or the sheet failed.
    #[error(transparent)]
    Write(crate::workdir::WorkdirError),
}

impl ReportError {
    /// 2 when the user's input is at fault, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReportError::Output { .. } | ReportError::Manifest(ManifestError::Load { .. }) => 2,
            ReportError::Media(crate::media::MediaError::Input { .. }) => 2,
            _ => 1,
        }
    }
}

/// What to report on and where to write it.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub manifest: PathBuf,
    /// The page (default: `TRAILER_REPORT.html` beside the manifest).
    pub output: Option<PathBuf>,
    /// The rendered trailer (default: the one `render.json` beside the
    /// manifest records).
    pub trailer: Option<PathBuf>,
}

/// What a report wrote, for the terminal and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub html: PathBuf,
    pub html_bytes: usize,
    /// The contact sheet, when the film's frames could be read.
    pub sheet: Option<sheet::SheetLayout>,
    pub trailer: Option<PathBuf>,
    pub clips: usize,
    /// Every section the page could not fill, and why.
    pub gaps: Vec<data::Gap>,
}

/// The page's default name: beside the manifest.
pub fn default_output(manifest: &Path) -> PathBuf {
    crate::workdir::parent_dir(manifest).join("TRAILER_REPORT.html")
}

/// The page beside a trailer: `<trailer stem>_report.html`.
pub fn beside_trailer(trailer: &Path) -> PathBuf {
    let stem = trailer
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trailer".into());
    crate::workdir::parent_dir(trailer).join(format!("{stem}_report.html"))
}

/// The contact sheet beside the page: `<page stem>_sheet.png`.
pub fn sheet_path(html: &Path) -> PathBuf {
    let stem = html
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    crate::workdir::parent_dir(html).join(format!("{stem}_sheet.png"))
}

/// Writes the report page and its contact sheet.
pub fn write_report(req: &ReportRequest) -> Result<Written, ReportError> {
    let manifest = Manifest::load(&req.manifest)?;
    let html_path = req
        .output
        .clone()
        .unwrap_or_else(|| default_output(&req.manifest));
    let sheet_file = sheet_path(&html_path);
    let sources = data::Sources::resolve(manifest, &req.manifest, req.trailer.as_deref());
    for out in [&html_path, &sheet_file] {
        check_output(out, &sources.inputs())?;
    }
    let d = data::gather(sources);
    let sheet = match sheet::write(&d, &sheet_file) {
        Ok(layout) => layout,
        Err(sheet::SheetError::Media(e)) => return Err(ReportError::Media(e)),
        Err(sheet::SheetError::Write(e)) => return Err(ReportError::Write(e)),
    };
    let page = html::page(&d, sheet.as_ref());
    crate::workdir::atomic_write(&html_path, page.as_bytes()).map_err(ReportError::Write)?;
    Ok(Written {
        html: html_path,
        html_bytes: page.len(),
        sheet,
        trailer: d.trailer.as_ref().ok().cloned(),
        clips: d.clips.len(),
        gaps: d.gaps(),
    })
}

/// An output must not be any input of the report, and its folder must exist.
fn check_output(out: &Path, inputs: &[PathBuf]) -> Result<(), ReportError> {
    let problem = |problem: String| ReportError::Output {
        path: out.to_path_buf(),
        problem,
    };
    if let Some(input) = inputs.iter().find(|i| crate::workdir::same_file(out, i)) {
        return Err(problem(format!(
            "the report would overwrite its input {} — choose another -o path",
            input.display()
        )));
    }
    if out.is_dir() {
        return Err(problem(
            "is a folder; give a file name such as report.html".into(),
        ));
    }
    let dir = crate::workdir::parent_dir(out);
    if !dir.is_dir() {
        return Err(ReportError::Output {
            path: dir,
            problem: "output folder does not exist".into(),
        });
    }
    Ok(())
}
