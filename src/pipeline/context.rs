//! What the stages of one run share: the run's inputs, the artifacts made so
//! far (each stage reads those of the stages before it, never their
//! internals), and the warnings for the user.

use crate::analysis::FilmAnalysis;
use crate::error::Result;
use crate::manifest::{Manifest, MANIFEST_NAME};
use crate::media::probe::Probe;
use crate::models::TextLlm;
use crate::options::{FilmOptions, TrailerOptions};
use crate::story::board::Storyboard;
use crate::story::structure::Structure;
use crate::subtitles::Dialogue;
use crate::ui::Ui;
use std::cell::RefCell;
use std::path::PathBuf;

use super::stages::music::MusicChoice;
use super::stages::render::RenderRecord;
use super::{StageReport, Summary};

/// The film a run works on, and what was learnt of it before any stage.
pub struct FilmRun<'a> {
    pub opts: &'a FilmOptions,
    pub probe: Probe,
    /// The film's content fingerprint (see [`crate::workdir::file_fingerprint`]).
    pub fingerprint: String,
    /// One text LLM for the run, started only if a stage needs it.
    pub llm: TextLlm<'a>,
}

/// The cut a run makes: the trailer's options and the length aimed at.
pub struct CutRun<'a> {
    pub opts: &'a TrailerOptions,
    /// The length asked for (or the vibe's), capped at half the film.
    pub target_s: f64,
    /// Why the length asked for could not be had, when it could not.
    pub target_note: Option<String>,
}

/// The inputs of a `cinecut trailer` or `cinecut structure` run.
pub struct RunInputs<'a> {
    pub film: FilmRun<'a>,
    pub cut: Option<CutRun<'a>>,
}

impl<'a> RunInputs<'a> {
    /// The inputs of a trailer run.
    pub fn new(opts: &'a TrailerOptions, probe: Probe) -> Result<Self> {
        let mut run = RunInputs::film_only(&opts.film, probe)?;
        let duration = run.film.probe.duration_s;
        let asked = opts.length_s.unwrap_or(opts.vibe.length_s);
        let max_len = (duration * 0.5).max(8.0);
        let target_note = (asked > max_len).then(|| {
            format!(
                "{}: the film ({:.0} s) is too short for a {:.0} s trailer; making a {:.0} s one",
                opts.film.film.display(),
                duration,
                asked,
                max_len
            )
        });
        run.cut = Some(CutRun {
            opts,
            target_s: asked.min(max_len),
            target_note,
        });
        Ok(run)
    }

    /// The inputs of the analysis half alone (`cinecut structure`).
    pub fn film_only(opts: &'a FilmOptions, probe: Probe) -> Result<Self> {
        Ok(RunInputs {
            film: FilmRun {
                opts,
                probe,
                fingerprint: crate::workdir::file_fingerprint(&opts.film)?,
                llm: TextLlm::new(&opts.models),
            },
            cut: None,
        })
    }
}

/// The shared state of one run.
pub struct Context<'a> {
    pub ui: &'a Ui,
    /// The work folder: every artifact lives here.
    pub work: PathBuf,
    /// The manifest: the work folder's, or the one `cinecut render` was given.
    pub manifest_file: PathBuf,
    /// None for `cinecut render`, which starts from a manifest.
    pub inputs: Option<RunInputs<'a>>,
    /// For the summary, in the order they arose.
    pub warnings: Vec<String>,
    /// Warnings a stage raised while it ran (added after its own on-every-run ones).
    pub stage_notes: RefCell<Vec<String>>,
    pub analysis: Option<FilmAnalysis>,
    pub dialogue: Option<Dialogue>,
    pub structure: Option<Structure>,
    pub storyboard: Option<Storyboard>,
    pub music: Option<MusicChoice>,
    pub manifest: Option<Manifest>,
    /// Where the trailer goes.
    pub output: Option<PathBuf>,
    pub rendered: Option<RenderRecord>,
}

/// An artifact a stage needs that no earlier stage made: a bug in the stage
/// table, never a user's mistake.
fn missing(what: &str) -> ! {
    panic!("internal: {what} is read before the stage that makes it ran")
}

impl<'a> Context<'a> {
    pub fn new(ui: &'a Ui, work: PathBuf, inputs: Option<RunInputs<'a>>) -> Self {
        let output = inputs
            .as_ref()
            .and_then(|i| i.cut.as_ref())
            .map(|c| c.opts.out.clone());
        Context {
            ui,
            manifest_file: work.join(MANIFEST_NAME),
            work,
            inputs,
            warnings: Vec::new(),
            stage_notes: RefCell::new(Vec::new()),
            analysis: None,
            dialogue: None,
            structure: None,
            storyboard: None,
            music: None,
            manifest: None,
            output,
            rendered: None,
        }
    }

    pub fn film(&self) -> &FilmRun<'a> {
        match &self.inputs {
            Some(i) => &i.film,
            None => missing("the film's inputs"),
        }
    }
    pub fn cut(&self) -> &CutRun<'a> {
        match self.inputs.as_ref().and_then(|i| i.cut.as_ref()) {
            Some(c) => c,
            None => missing("the cut's options"),
        }
    }
    pub fn analysis(&self) -> &FilmAnalysis {
        self.analysis
            .as_ref()
            .unwrap_or_else(|| missing("analysis"))
    }
    pub fn dialogue(&self) -> &Dialogue {
        self.dialogue
            .as_ref()
            .unwrap_or_else(|| missing("dialogue"))
    }
    pub fn structure(&self) -> &Structure {
        self.structure
            .as_ref()
            .unwrap_or_else(|| missing("structure"))
    }
    pub fn storyboard(&self) -> &Storyboard {
        self.storyboard
            .as_ref()
            .unwrap_or_else(|| missing("storyboard"))
    }
    pub fn music(&self) -> &MusicChoice {
        self.music.as_ref().unwrap_or_else(|| missing("music"))
    }
    pub fn manifest(&self) -> &Manifest {
        self.manifest
            .as_ref()
            .unwrap_or_else(|| missing("manifest"))
    }

    /// A warning to tell the user, in the order warnings arise.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }

    /// The run's summary for the terminal and `--json`.
    pub fn summary(self, stages: Vec<StageReport>, review_pending: bool) -> Summary {
        let m = self.manifest.as_ref();
        Summary {
            output: self.rendered.as_ref().and(self.output.clone()),
            manifest: self.manifest_file,
            workdir: self.work,
            vibe: m.map(|m| m.vibe.clone()).unwrap_or_default(),
            stages,
            clips: m.map(|m| m.clips().count()).unwrap_or(0),
            duration_s: m.map(|m| m.total_duration_s()).unwrap_or(0.0),
            loudness_lufs: self.rendered.as_ref().map(|r| r.loudness_lufs),
            true_peak_db: self.rendered.as_ref().map(|r| r.true_peak_db),
            review_pending,
            warnings: self.warnings,
        }
    }
}
