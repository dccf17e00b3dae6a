//! The one error type the command line sees.
//!
//! Every module has its own error enum; they all convert into [`Error`], whose
//! variants decide the exit code: 2 for usage and input problems (the user can
//! fix them), 1 for everything else. Messages name the file and the problem.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong: a missing or unreadable film, bad subtitles,
    /// an output that cannot be written. Exit code 2.
    #[error("{}: {msg}", path.display())]
    Input { path: PathBuf, msg: String },
    /// The command line itself is wrong (unknown vibe, bad option). Exit code 2.
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
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl From<crate::vibes::VibeError> for Error {
    fn from(e: crate::vibes::VibeError) -> Self {
        Error::Usage(e.to_string())
    }
}

impl From<crate::subtitles::SubtitleError> for Error {
    fn from(e: crate::subtitles::SubtitleError) -> Self {
        match e {
            crate::subtitles::SubtitleError::Tool { .. } => Error::tool("ffmpeg", e.to_string()),
            // Every other subtitle error is about the user's file, and names it.
            _ => Error::Usage(e.to_string()),
        }
    }
}

impl From<crate::analysis::AnalysisError> for Error {
    fn from(e: crate::analysis::AnalysisError) -> Self {
        use crate::analysis::AnalysisError as A;
        match e {
            A::NotFound(p) => Error::input(&p, "no such file"),
            A::NoVideo(p) => Error::input(&p, "has no video stream to analyse"),
            A::BadFile { path, problem } => Error::input(&path, problem),
            A::Ffmpeg { .. } => Error::tool("ffmpeg", e.to_string()),
            other => Error::Other(other.to_string()),
        }
    }
}

impl From<crate::llm::LlmError> for Error {
    fn from(e: crate::llm::LlmError) -> Self {
        Error::tool("llama-server", e.to_string())
    }
}

impl From<crate::music::MusicError> for Error {
    fn from(e: crate::music::MusicError) -> Self {
        // Only a file or folder the user named can fail the music stage.
        Error::Usage(e.to_string())
    }
}

impl From<crate::story::DescribeError> for Error {
    fn from(e: crate::story::DescribeError) -> Self {
        Error::Other(e.to_string())
    }
}

impl From<crate::embed::EmbedError> for Error {
    fn from(e: crate::embed::EmbedError) -> Self {
        Error::Other(format!(
            "{e} (run scripts/fixtures.sh tests, or set CINECUT_MODELS_DIR)"
        ))
    }
}

impl From<crate::manifest::ManifestError> for Error {
    fn from(e: crate::manifest::ManifestError) -> Self {
        use crate::manifest::ManifestError as M;
        match e {
            M::Load { path, problem } => Error::input(&path, problem.to_string()),
            M::Encode(e) => Error::Other(e.to_string()),
            M::Write(e) => e,
        }
    }
}

impl From<crate::check::CheckError> for Error {
    fn from(e: crate::check::CheckError) -> Self {
        use crate::check::CheckError as C;
        match e {
            C::Trailer { path, problem } => Error::input(&path, problem.to_string()),
            C::Manifest(e) => e.into(),
            C::UnreadableProbe(e) => Error::tool("ffprobe", format!("unreadable output: {e}")),
            C::Measure(e) => e,
            C::Encode(e) => Error::Other(e.to_string()),
        }
    }
}
