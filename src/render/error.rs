//! What can go wrong in a render: the tools it runs (`media`), no font for
//! a title card, the files it writes, the grade's LUT and the sound effects.

use super::lut::LutError;
use super::sfx::SfxError;
use crate::media::MediaError;
use std::path::PathBuf;

/// The hint a trailer with a title card and no font gets.
pub const NO_FONT_HINT: &str = "no font found for the title card — install one (Debian: apt-get install fonts-dejavu-core) or set CINECUT_FONT";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// ffmpeg missing, failing or cancelled; the sound unreadable.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The timeline has a title card and no font was found.
    #[error("cinecut failed: {NO_FONT_HINT}")]
    NoFont,
    /// A temporary or output file could not be made.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// ffmpeg could not write the trailer into its folder (a full disk, a
    /// read-only or forbidden folder): the folder is named, not the film.
    #[error("cannot write the trailer in {}: {source}", dir.display())]
    Write {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the sound thread panicked")]
    SoundThreadPanicked,
    #[error(transparent)]
    Lut(#[from] LutError),
    #[error(transparent)]
    Sfx(#[from] SfxError),
}

impl RenderError {
    /// A failed ffmpeg writing into `dir`: the folder's error when ffmpeg
    /// says it was the operating system's (full, read-only, forbidden).
    pub(super) fn writing(dir: &std::path::Path, e: MediaError) -> Self {
        match &e {
            MediaError::ToolFailed { stderr_tail, .. } => {
                match crate::media::process::os_error(stderr_tail) {
                    Some(source) => RenderError::Write {
                        dir: dir.to_path_buf(),
                        source,
                    },
                    None => e.into(),
                }
            }
            _ => e.into(),
        }
    }

    pub(super) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RenderError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::media::InputProblem;

    /// The layers keep the messages and exit codes the command line had
    /// before media and render had their own errors.
    #[test]
    fn errors_reach_the_top_with_their_old_kinds() {
        let e = Error::from(MediaError::Input {
            path: "song.mp4".into(),
            problem: InputProblem::NoVideoStream,
        });
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "song.mp4: has no video stream — is it a film?"
        );
        let e = Error::from(MediaError::ToolFailed {
            tool: "ffmpeg".into(),
            stderr_tail: "x | y".into(),
        });
        assert_eq!(
            (e.exit_code(), e.to_string()),
            (1, "ffmpeg failed: x | y".into())
        );
        let e = Error::from(RenderError::NoFont);
        assert!(matches!(&e, Error::Render(RenderError::NoFont)));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(e.to_string(), RenderError::NoFont.to_string());
        let e = Error::from(RenderError::Sfx(SfxError::Duration(20.0)));
        assert_eq!(
            e.to_string(),
            "sound effect duration 20 s is outside 0.05..10 s"
        );
        let io = || std::io::Error::other("disk full");
        let e = Error::from(SfxError::Io {
            path: "a.wav".into(),
            source: io(),
        });
        assert!(matches!(
            e,
            Error::Render(RenderError::Sfx(SfxError::Io { .. }))
        ));
        assert_eq!(e.exit_code(), 1);
        // Wrapped, the effect's own message says what was being written.
        assert_eq!(
            e.to_string(),
            "a.wav: cannot write the sound effect: disk full"
        );
    }
}
