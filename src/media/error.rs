//! What can go wrong in `media`: a tool missing, failing or cancelled, an
//! input file that is not a film, I/O on one of our files.
//!
//! Each message is worded as the command line shows it (the top-level error
//! maps every variant to its own kind, and so exit code, unchanged).

use std::path::PathBuf;

/// The hint a missing ffmpeg or ffprobe gets.
pub const INSTALL_HINT: &str = "not found on PATH — install it (Debian: apt-get install ffmpeg) or set CINECUT_FFMPEG/CINECUT_FFPROBE";

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The tool's binary does not exist (`tool` is the binary as given).
    #[error("{tool} failed: {INSTALL_HINT}")]
    ToolMissing {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    /// The tool could not be started, read from or waited for.
    #[error("{tool} failed: {source}")]
    ToolIo {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    /// The tool ran and exited with an error; the last lines of its stderr.
    #[error("{tool} failed: {stderr_tail}")]
    ToolFailed { tool: String, stderr_tail: String },
    /// The caller's cancel token was set; the child was killed.
    #[error("{tool} failed: cancelled")]
    Cancelled { tool: String },
    /// The tool succeeded but did not say what it was asked.
    #[error("{tool} failed: {problem}")]
    ToolOutput { tool: String, problem: String },
    /// The input file is missing or is not a film CineCut can read.
    #[error("{}: {problem}", path.display())]
    Input {
        path: PathBuf,
        problem: InputProblem,
    },
    /// Reading or writing one of our own files failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The loudness meter refused the samples.
    #[error("loudness measurement: {0:?}")]
    Loudness(ebur128::Error),
}

/// Why an input file cannot be used as a film.
#[derive(Debug, thiserror::Error)]
pub enum InputProblem {
    #[error("no such file")]
    NotFound,
    #[error("cannot read: {0}")]
    Unreadable(std::io::Error),
    #[error("is a folder, not a video file")]
    Folder,
    #[error("is empty (0 bytes)")]
    Empty,
    /// libavformat cannot open it; its reason.
    #[error("is not a video ffmpeg can read ({0})")]
    NotMedia(String),
    #[error("has no video stream — is it a film?")]
    NoVideoStream,
    #[error("has no known duration (a still image or a broken file?)")]
    NoDuration,
    #[error("video stream has no picture size")]
    NoPictureSize,
    #[error("ffprobe gave unreadable output: {0}")]
    UnreadableProbe(String),
}

impl MediaError {
    pub(crate) fn input(path: &std::path::Path, problem: InputProblem) -> Self {
        MediaError::Input {
            path: path.to_path_buf(),
            problem,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        MediaError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// What the operating system said when the tool could not be started
    /// or talked to, else the whole message: for callers that word that
    /// failure themselves ("cannot run ffmpeg: …").
    pub fn os_detail(&self) -> String {
        match self {
            MediaError::ToolMissing { source, .. } | MediaError::ToolIo { source, .. } => {
                source.to_string()
            }
            other => other.to_string(),
        }
    }
}
