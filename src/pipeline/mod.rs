//! The stages of `cinecut trailer`, in order, and what each reads.
//!
//! Each stage is one file under `stages/` implementing [`Stage`]: a function
//! from earlier artifacts (and the options it declares) to one new artifact,
//! saved in the work folder. The [`runner`] treats every stage alike: it
//! derives the stage's fingerprint from its row in [`STAGES`] (its version,
//! the fingerprints of the stages it reads) and the options it declares,
//! skips the stage when its saved artifact carries that fingerprint, and
//! otherwise runs it with a progress line, times it and checkpoints it. So a
//! rerun costs seconds, a killed run resumes, and bumping one stage's version
//! re-runs exactly that stage and the stages that read it, directly or not.
//!
//! To add a stage: write `stages/<name>.rs` with a unit struct implementing
//! [`Stage`], add its row to [`STAGES`] (name, version, the stages it reads,
//! its artifact) and the struct to the list in [`trailer_steps`].

pub mod context;
pub mod fault;
pub mod runner;
pub mod stages;

pub use context::{Context, RunInputs};
pub use runner::Runner;

use crate::error::Result;
use crate::manifest::Manifest;
use crate::options::{FilmOptions, TrailerOptions};
use crate::story::structure::Structure;
use crate::ui::Ui;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One row of the stage table: what the runner needs to know of a stage
/// without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Shown on the progress line and in `--json`.
    pub name: &'static str,
    /// Bumped whenever the stage's logic or its artifact's layout changes.
    pub version: u32,
    /// The stages whose artifacts it reads: their fingerprints are part of its own.
    pub reads: &'static [&'static str],
    /// Its checkpoint in the work folder.
    pub artifact: &'static str,
}

/// The stages in the order they run, each with what it reads.
pub const STAGES: [Spec; 7] = [
    Spec {
        name: "analyse",
        version: 6,
        reads: &[],
        artifact: "analysis.json",
    },
    Spec {
        name: "subtitles",
        version: 2,
        reads: &[],
        artifact: "dialogue.json",
    },
    Spec {
        name: "structure",
        version: 2,
        reads: &["analyse", "subtitles"],
        artifact: "structure.json",
    },
    Spec {
        name: "storyboard",
        version: 2,
        reads: &["analyse", "subtitles", "structure"],
        artifact: "storyboard.json",
    },
    Spec {
        name: "music",
        version: 2,
        reads: &[],
        artifact: "music.json",
    },
    Spec {
        name: "assemble",
        version: 6,
        reads: &["analyse", "subtitles", "structure", "storyboard", "music"],
        artifact: "assemble.json",
    },
    Spec {
        name: "render",
        version: 1,
        reads: &["assemble"],
        artifact: "render.json",
    },
];

/// A stage of the pipeline: one artifact made from earlier ones.
pub trait Stage {
    /// What it makes (saved as JSON in the work folder).
    type Output: Serialize + DeserializeOwned;

    /// Its name: the key of its row in the stage table.
    fn name(&self) -> &'static str;

    /// The options and user files it reads, each as text, for its
    /// fingerprint (the stages it reads are added by the runner).
    fn options(&self, cx: &Context) -> Result<Vec<String>>;

    /// How much work its progress bar counts to (in the unit `run` reports
    /// progress in), when known before it starts.
    fn progress_total(&self, _cx: &Context) -> Option<f64> {
        None
    }

    /// Makes the artifact; the text is the one-line summary shown when done.
    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(Self::Output, String)>;

    /// The saved artifact, when it was made from the same inputs.
    fn load(&self, _cx: &Context, art: &crate::workdir::Artifact) -> Result<Option<Self::Output>> {
        Ok(art.load())
    }

    /// Saves the artifact; returns it as later stages should see it.
    fn save(
        &self,
        _cx: &Context,
        art: &crate::workdir::Artifact,
        out: Self::Output,
    ) -> Result<Self::Output> {
        art.save(&out)?;
        Ok(out)
    }

    /// Hands the artifact to the stages after it, and reports what a user
    /// should hear of it on every run, not only the one that made it.
    fn keep(&self, cx: &mut Context, out: Self::Output);
}

/// Whether a stage ran or was found up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ran,
    Skipped,
}

/// What happened to one stage, for the summary and `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageReport {
    pub name: String,
    pub status: Status,
    pub seconds: f64,
}

/// What a run made, for the terminal and `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub output: Option<PathBuf>,
    pub manifest: PathBuf,
    pub workdir: PathBuf,
    pub vibe: String,
    pub stages: Vec<StageReport>,
    pub clips: usize,
    pub duration_s: f64,
    pub loudness_lufs: Option<f64>,
    pub true_peak_db: Option<f64>,
    pub review_pending: bool,
    pub warnings: Vec<String>,
}

/// A stage as the runner drives it, whatever its artifact's type.
pub trait Step {
    fn name(&self) -> &'static str;
    fn execute(&self, runner: &mut Runner, cx: &mut Context) -> Result<()>;
}

impl<S: Stage> Step for S {
    fn name(&self) -> &'static str {
        Stage::name(self)
    }
    fn execute(&self, runner: &mut Runner, cx: &mut Context) -> Result<()> {
        let out = runner.stage(self, cx)?;
        self.keep(cx, out);
        Ok(())
    }
}

/// The steps of `cinecut trailer`, in the order of [`STAGES`].
pub fn trailer_steps() -> [&'static dyn Step; 7] {
    use stages::*;
    [
        &analyse::Analyse,
        &subtitles::Subtitles,
        &structure::StructureStage,
        &storyboard::StoryboardStage,
        &music::MusicStage,
        &assemble::Assemble,
        &render::RenderStage,
    ]
}

/// Runs the steps of `cinecut trailer` up to and including `last`.
fn run_steps(runner: &mut Runner, cx: &mut Context, last: &str) -> Result<()> {
    for step in trailer_steps() {
        step.execute(runner, cx)?;
        if step.name() == last {
            break;
        }
    }
    Ok(())
}

/// `cinecut trailer`: every stage, each skipped when up to date; with
/// `--review` it stops after writing the manifest.
pub fn run_trailer(opts: &TrailerOptions, ui: &Ui) -> Result<Summary> {
    run_trailer_with(opts, ui, &STAGES)
}

/// [`run_trailer`] with another stage table (same stages, other versions):
/// how the tests show which stages a version bump re-runs.
pub fn run_trailer_with(opts: &TrailerOptions, ui: &Ui, table: &[Spec]) -> Result<Summary> {
    let probe = opts.check_files()?;
    let _lock = crate::workdir::WorkLock::acquire(&opts.film.workdir)?;
    let inputs = RunInputs::new(opts, probe)?;
    let mut cx = Context::new(ui, opts.film.workdir.clone(), Some(inputs));
    let mut runner = Runner::new(ui, table, opts.film.fresh);
    let last = if opts.review { "assemble" } else { "render" };
    run_steps(&mut runner, &mut cx, last)?;
    let manifest_path = cx.manifest_file.clone();
    if opts.review {
        ui.info(&format!(
            "Review and edit the cut in {}\nthen render it with:\n  cinecut render {} -o {}",
            manifest_path.display(),
            shell_quote(&manifest_path),
            shell_quote(&opts.out)
        ));
    }
    Ok(cx.summary(runner.reports, opts.review))
}

/// `cinecut render MANIFEST`: render an (edited) manifest without analysis.
pub fn run_render(manifest_path: &Path, out: Option<PathBuf>, ui: &Ui) -> Result<Summary> {
    let m = Manifest::load(manifest_path)?;
    let film = m.film.path.clone();
    if !film.is_file() {
        return Err(crate::error::Error::input(
            &film,
            "the film named in the manifest is missing",
        ));
    }
    let mut warnings = Vec::new();
    if crate::workdir::file_fingerprint(&film)? != m.film.fingerprint {
        warnings.push(format!(
            "{}: the film changed since the manifest was made",
            film.display()
        ));
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let out = out.unwrap_or_else(|| crate::options::default_output(&film));
    crate::options::check_output(&out, &film)?;
    let work = crate::workdir::parent_dir(manifest_path);
    let _lock = crate::workdir::WorkLock::acquire(&work)?;
    let mut cx = Context::new(ui, work, None);
    cx.warnings = warnings;
    cx.manifest = Some(m);
    cx.manifest_file = manifest_path.to_path_buf();
    cx.output = Some(out);
    let mut runner = Runner::new(ui, &STAGES, false);
    // The manifest may sit in the work folder of the run that made it: the
    // render then has the same fingerprint there as in that run.
    runner.adopt_saved(&cx, "assemble");
    stages::render::RenderStage.execute(&mut runner, &mut cx)?;
    Ok(cx.summary(runner.reports, false))
}

/// `cinecut structure`: the anchors of a film, through the same checkpointed
/// stages as `trailer` (work folder `<film stem>.cinecut` in this folder).
pub fn run_structure(opts: &FilmOptions, ui: &Ui) -> Result<Structure> {
    let probe = opts.check_files()?;
    let _lock = crate::workdir::WorkLock::acquire(&opts.workdir)?;
    let inputs = RunInputs::film_only(opts, probe)?;
    let mut cx = Context::new(ui, opts.workdir.clone(), Some(inputs));
    let mut runner = Runner::new(ui, &STAGES, false);
    run_steps(&mut runner, &mut cx, "structure")?;
    for w in &cx.warnings {
        ui.warn(w);
    }
    Ok(cx.structure.take().expect("the structure stage ran"))
}

fn shell_quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
