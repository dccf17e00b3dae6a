//! Music for the trailer: picks a bed (user file, user folder, Jamendo, or a
//! synthesized one), tracks its beat grid, and fits it to the trailer's acts.
//! Beat tracking, synthesis and fitting are pure; decoding and sources do I/O.

pub mod beats;
mod decode;
pub mod fit;
pub mod sources;
pub mod synth;

pub use beats::{track_beats, BeatGrid, Section, ANALYSIS_SR};
pub use decode::{decode_mono, decode_mono_limited};
pub use fit::{fit_music, MusicFit};
pub use sources::{choose_music, probe_audio, MusicRequest, MusicSource, MusicTrack};
pub use synth::{bed_layout, synthesize_bed, write_wav_atomic, BedLayout, BedParams, BedStyle};

use std::path::PathBuf;

/// Everything that can go wrong while finding, decoding or writing music.
#[derive(Debug, thiserror::Error)]
pub enum MusicError {
    #[error("music file {0} does not exist")]
    NotFound(PathBuf),
    #[error("{path}: not a decodable audio file ({detail})")]
    NotAudio { path: PathBuf, detail: String },
    #[error("{path}: ffmpeg failed: {detail}")]
    Ffmpeg { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Jamendo: {0}")]
    Jamendo(String),
    #[error("music folder {path}: {detail}")]
    Folder { path: PathBuf, detail: String },
    #[error("no music source worked ({0})")]
    NoMusic(String),
}
