//! The error the command line sees: every module's own error, wrapped.
//!
//! Each module has its own error enum (thiserror) and knows nothing of this
//! one; they are wrapped here with `#[from]`. This level decides, by variant
//! and never by message text, the exit code (2 for what the user can fix —
//! usage and input — 1 for everything else) and a hint: what failed, which
//! file, and what to do about it.

use crate::analysis::AnalysisError;
use crate::check::CheckError;
use crate::embed::EmbedError;
use crate::export::ExportError;
use crate::llm::LlmError;
use crate::manifest::ManifestError;
use crate::media::MediaError;
use crate::music::MusicError;
use crate::render::RenderError;
use crate::report::ReportError;
use crate::story::DescribeError;
use crate::subtitles::SubtitleError;
use crate::vibes::VibeError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong: a missing or unreadable film, bad subtitles,
    /// an output that cannot be written. Exit code 2.
    #[error("{}: {msg}", path.display())]
    Input { path: PathBuf, msg: String },
    /// The command line itself is wrong (a bad option value). Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// An external tool (ffmpeg, llama-server) failed. Exit code 1.
    #[error("{tool} failed: {msg}")]
    Tool { tool: String, msg: String },
    /// Reading or writing one of our own files failed. Exit code 1.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bug: CineCut broke one of its own rules (an invalid manifest of its
    /// own making, a value that could not be serialised). Exit code 1.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Vibe(#[from] VibeError),
    #[error("{}", subtitles_message(.0))]
    Subtitles(#[from] SubtitleError),
    #[error("{}", analysis_message(.0))]
    Analysis(#[from] AnalysisError),
    #[error("llama-server failed: {0}")]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Music(#[from] MusicError),
    #[error(transparent)]
    Describe(#[from] DescribeError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Check(#[from] CheckError),
    /// Another run holds the work folder (its lock). Exit code 1: wait, or
    /// use another `--workdir`.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// What CineCut needs to run is not installed (`cinecut doctor`). Exit code 1.
    #[error("{0}")]
    Setup(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A subtitle error as the user reads it: ffmpeg's failures say so first.
fn subtitles_message(e: &SubtitleError) -> String {
    match e {
        SubtitleError::Tool { .. } => format!("ffmpeg failed: {e}"),
        _ => e.to_string(),
    }
}

/// An analysis error as the user reads it: the file first, then the problem.
fn analysis_message(e: &AnalysisError) -> String {
    match e {
        AnalysisError::NotFound(p) => format!("{}: no such file", p.display()),
        AnalysisError::NoVideo(p) => format!("{}: has no video stream to analyse", p.display()),
        AnalysisError::BadFile { path, problem } => format!("{}: {problem}", path.display()),
        AnalysisError::Ffmpeg { .. } => format!("ffmpeg failed: {e}"),
        other => other.to_string(),
    }
}

impl Error {
    pub fn input(path: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Input {
            path: path.as_ref().to_path_buf(),
            msg: msg.into(),
        }
    }
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
    pub fn tool(tool: &str, msg: impl Into<String>) -> Self {
        Error::Tool {
            tool: tool.to_string(),
            msg: msg.into(),
        }
    }

    /// 2 when the user can fix it (usage, their files), else 1.
    pub fn exit_code(&self) -> i32 {
        let users = match self {
            Error::Input { .. } | Error::Usage(_) | Error::Vibe(_) | Error::Music(_) => true,
            Error::Subtitles(e) => !matches!(e, SubtitleError::Tool { .. }),
            Error::Media(e) | Error::Render(RenderError::Media(e)) => {
                matches!(e, MediaError::Input { .. })
            }
            Error::Manifest(ManifestError::Load { .. }) => true,
            Error::Manifest(ManifestError::Write(_)) => false,
            Error::Check(e) => return e.exit_code(),
            Error::Report(e) => return e.exit_code(),
            Error::Export(e) => e.is_users(),
            Error::Analysis(e) => matches!(
                e,
                AnalysisError::NotFound(_)
                    | AnalysisError::NoVideo(_)
                    | AnalysisError::BadFile { .. }
            ),
            _ => false,
        };
        if users {
            2
        } else {
            1
        }
    }

    /// What the user can do about it, when there is more to say than the
    /// message itself.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::Vibe(_) => "`cinecut vibes` lists the 18 vibes",
            Error::Usage(_) => "`cinecut --help` lists the commands and their options",
            Error::Embed(_) => "run scripts/fixtures.sh tests, or set CINECUT_MODELS_DIR",
            Error::Llm(_) => {
                "check --llm / --llm-model, or leave them out to use the built-in analysers"
            }
            Error::Tool { .. } | Error::Analysis(AnalysisError::Ffmpeg { .. }) => {
                "`cinecut doctor` says what is installed and what is missing"
            }
            Error::Subtitles(SubtitleError::Tool { .. })
            | Error::Media(MediaError::ToolMissing { .. } | MediaError::ToolFailed { .. })
            | Error::Render(RenderError::Media(MediaError::ToolMissing { .. })) => {
                "`cinecut doctor` says what is installed and what is missing"
            }
            Error::Export(ExportError::NoFont) => "install fonts-dejavu-core or set CINECUT_FONT",
            Error::Export(ExportError::Usage(_)) => {
                "`cinecut export --help` lists the formats and options"
            }
            Error::Setup(_) => {
                "install what is marked missing above (./setup.sh demo installs it all)"
            }
            Error::Busy(_) => "wait for that run to end, or give this one another --workdir",
            Error::Io { .. } | Error::Render(RenderError::Write { .. }) => {
                "check that the folder exists, is writable and the disk has room"
            }
            Error::Internal(_) => {
                "this is a bug in CineCut: please report it with the command you ran"
            }
            _ => return None,
        })
    }
}

/// A model server's errors: a missing model file is the user's input.
impl From<crate::models::ServeError> for Error {
    fn from(e: crate::models::ServeError) -> Self {
        match e {
            crate::models::ServeError::NoModelFile(model) => {
                Error::input(model, "no such model file")
            }
            crate::models::ServeError::Llm(e) => Error::Llm(e),
        }
    }
}

/// A guessed analysis fails as the probe or as the analysis.
impl From<crate::analysis::GuessedError> for Error {
    fn from(e: crate::analysis::GuessedError) -> Self {
        match e {
            crate::analysis::GuessedError::Probe(e) => Error::Media(e),
            crate::analysis::GuessedError::Analysis(e) => Error::Analysis(e),
        }
    }
}

/// The work directory's errors are the top level's own kinds.
impl From<crate::workdir::WorkdirError> for Error {
    fn from(e: crate::workdir::WorkdirError) -> Self {
        match e {
            crate::workdir::WorkdirError::Io { path, source } => Error::Io { path, source },
            crate::workdir::WorkdirError::Serialise(msg) => Error::Internal(msg),
            busy @ crate::workdir::WorkdirError::Busy { .. } => Error::Busy(busy.to_string()),
        }
    }
}

/// A sound effect is rendered by the assembly (to place it), not only by
/// the render: it reaches the top as the render's error.
impl From<crate::render::sfx::SfxError> for Error {
    fn from(e: crate::render::sfx::SfxError) -> Self {
        Error::Render(e.into())
    }
}
