//! The leaf that talks to FFmpeg: the one process runner for ffmpeg and
//! ffprobe, FFmpeg's libraries in process, probing, loudness levelling,
//! filter text escaping, WAV writing and still pictures. It imports nothing above it; the
//! manifest → filtergraph render built on it lives in the
//! top-level `render` module.

pub mod error;
pub mod escape;
pub mod level;
pub mod libav;
pub mod probe;
pub mod process;
pub mod still;
pub mod wav;

pub use error::{InputProblem, MediaError};
