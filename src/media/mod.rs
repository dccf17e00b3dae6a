//! Everything that talks to ffmpeg: the one process runner, FFmpeg's
//! libraries in process, probing, filter text escaping and the one-pass render.

pub mod escape;
pub mod ffmpeg;
pub mod level;
pub mod libav;
pub mod lut;
pub mod probe;
pub mod render;
pub mod sfx;
pub mod wav;
