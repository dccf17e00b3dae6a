//! The shots and cues the pipeline saved beside a manifest in its work
//! folder, for the rules that need them (straddles, words cut).

use crate::analysis::Shot;
use crate::subtitles::Cue;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ShotsOnly {
    shots: Vec<Shot>,
}

#[derive(Deserialize)]
struct CuesOnly {
    cues: Vec<Cue>,
}

/// What the pipeline saved beside the manifest in its work folder.
#[derive(Debug, Default)]
pub struct Context {
    pub shots: Option<Vec<Shot>>,
    pub cues: Option<Vec<Cue>>,
    /// Files that are there but could not be read (stale or damaged): the
    /// checks that need them are skipped, and the user is told.
    pub warnings: Vec<String>,
}

/// The shots and cues the pipeline saved beside the manifest in its work
/// folder (`analysis.json`, `dialogue.json`), when they are there.
pub fn load_context(manifest_path: &Path) -> Context {
    let dir = crate::workdir::parent_dir(manifest_path);
    let mut ctx = Context::default();
    let path = dir.join("analysis.json");
    if let Ok(b) = std::fs::read(&path) {
        match serde_json::from_slice::<Envelope<ShotsOnly>>(&b) {
            Ok(e) => ctx.shots = Some(e.data.shots),
            Err(e) => ctx.warnings.push(format!(
                "{}: unreadable ({e}); shot straddles not checked",
                path.display()
            )),
        }
    }
    let path = dir.join("dialogue.json");
    if let Ok(b) = std::fs::read(&path) {
        match serde_json::from_slice::<Envelope<CuesOnly>>(&b) {
            Ok(e) => ctx.cues = Some(e.data.cues),
            Err(e) => ctx.warnings.push(format!(
                "{}: unreadable ({e}); words cut inside cues not checked",
                path.display()
            )),
        }
    }
    ctx
}
