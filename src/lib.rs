//! CineCut: cut a film into a trailer.
//!
//! The pipeline is a chain of stages, each a function from earlier artifacts
//! to one new artifact saved in the work directory (see `pipeline`). The
//! binary in `main.rs` is a thin shell over these modules.

pub mod analysis;
pub mod check;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod doctor;
pub mod edit;
pub mod embed;
pub mod error;
pub mod export;
pub mod llm;
pub mod manifest;
pub mod media;
pub mod models;
pub mod music;
pub mod net;
pub mod options;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod story;
pub mod subtitles;
pub mod ui;
pub mod vibes;
pub mod workdir;
