//! One file per stage of `cinecut trailer`, each an `impl Stage`; their
//! order and what each reads is the table in `pipeline/mod.rs`.

pub mod analyse;
pub mod assemble;
pub mod music;
pub mod render;
pub mod storyboard;
pub mod structure;
pub mod subtitles;
