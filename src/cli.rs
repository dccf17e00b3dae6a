//! Command-line definitions (clap only; no behaviour lives here).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "cinecut",
    version,
    about = "Cut a film into a trailer, offline, on a CPU."
)]
pub struct Cli {
    /// Print a machine-readable JSON summary on stdout (progress stays off).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a trailer from a film.
    Trailer(TrailerArgs),
    /// Render a trailer from an (edited) TRAILER_MANIFEST.json, skipping analysis.
    Render {
        manifest: PathBuf,
        /// Output file (default: <film stem>_trailer.mp4 in this folder).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the 18 vibe profiles and their parameters.
    Vibes,
    /// Check what CineCut needs (ffmpeg, fonts, llama-server, models).
    Doctor,
    /// Fetch Big Buck Bunny (once, into the cache) and make a trailer of it.
    Demo {
        #[arg(long, default_value = "adventure")]
        vibe: String,
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long)]
        length: Option<f64>,
        #[arg(long)]
        fresh: bool,
    },
    /// Shot boundaries and per-shot signals of a film.
    Shots { film: PathBuf },
}

#[derive(clap::Args, Debug)]
pub struct TrailerArgs {
    /// The film: any video ffmpeg reads.
    pub film: PathBuf,
    /// Subtitles for the film (SRT).
    #[arg(long)]
    pub subs: Option<PathBuf>,
    /// One of the 18 vibes (see `cinecut vibes`).
    #[arg(long)]
    pub vibe: String,
    /// A music file for the bed.
    #[arg(long)]
    pub music: Option<PathBuf>,
    /// Trailer length in seconds (default: the vibe's, 110-130 s).
    #[arg(long)]
    pub length: Option<f64>,
    /// Output file (default: <film stem>_trailer.mp4 in this folder).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Work folder for checkpoints (default: <film stem>.cinecut beside the output).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Stop after writing the manifest, for review; `cinecut render` continues.
    #[arg(long)]
    pub review: bool,
    /// Redo every stage, ignoring checkpoints.
    #[arg(long)]
    pub fresh: bool,
    /// No footage after this fraction of the film (spoilers).
    #[arg(long, default_value_t = 0.85)]
    pub spoiler_line: f64,
    /// Title card text (default: from the file name).
    #[arg(long)]
    pub title: Option<String>,
}
