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

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// The story's turning points (BEGIN / ESCALATION / CLIMAX) of a film.
    Structure {
        film: PathBuf,
        #[arg(long)]
        subs: Option<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Tempo, beats, downbeats, sections and peak of a music file.
    Beats {
        music: PathBuf,
        /// Use this vibe's tempo prior (it only breaks near-ties).
        #[arg(long)]
        vibe: Option<String>,
    },
    /// Measure a finished trailer against its manifest and the editing rules;
    /// exits 3 when a hard rule is broken.
    Check {
        trailer: PathBuf,
        /// The TRAILER_MANIFEST.json it was rendered from (shots and subtitles
        /// are read from the same work folder when there).
        #[arg(long)]
        manifest: PathBuf,
    },
    /// Write an HTML report of every decision of a cut (storyboard, intensity,
    /// music, loudness, check) and a PNG contact sheet beside it.
    Report {
        manifest: PathBuf,
        /// The page (default: TRAILER_REPORT.html beside the manifest); the
        /// sheet is <page stem>_sheet.png beside it.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The rendered trailer to measure (default: the one render.json
        /// beside the manifest records).
        #[arg(long)]
        trailer: Option<PathBuf>,
    },
    /// Export the cut as an editable timeline (OTIO, FCPXML 1.10, CMX3600 EDL,
    /// MLT) or captions (SRT, WebVTT), written beside the manifest.
    Export(ExportArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The TRAILER_MANIFEST.json to export (it is never changed).
    pub manifest: PathBuf,
    /// Formats, comma-separated: otio, fcpxml, edl, mlt, srt, vtt.
    #[arg(long, required = true, value_delimiter = ',')]
    pub to: Vec<String>,
    /// Output file (one format only; default: beside the manifest, named after it).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write media references relative to this folder (default: absolute).
    #[arg(long)]
    pub media_root: Option<PathBuf>,
    /// Timecode of the timeline's first frame, e.g. 01:00:00:00.
    #[arg(long, default_value = "00:00:00:00")]
    pub start_tc: String,
}

/// Optional language and vision models (llama.cpp's llama-server or any
/// OpenAI-compatible server); without them built-in analysers are used.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// URL of a running OpenAI-compatible server for the text LLM.
    #[arg(long)]
    pub llm: Option<String>,
    /// A GGUF model: CineCut starts llama-server with it on a loopback port.
    #[arg(long, conflicts_with = "llm")]
    pub llm_model: Option<PathBuf>,
    /// URL of a running OpenAI-compatible server with a vision model.
    #[arg(long)]
    pub vision: Option<String>,
    /// A vision GGUF model (with --vision-mmproj) for a managed llama-server.
    #[arg(long, conflicts_with = "vision", requires = "vision_mmproj")]
    pub vision_model: Option<PathBuf>,
    /// The vision model's projector (mmproj) file.
    #[arg(long)]
    pub vision_mmproj: Option<PathBuf>,
    /// Vision requests in flight at once (the default, 1, suits one small GPU or a CPU).
    #[arg(long, default_value_t = 1)]
    pub vision_parallel: usize,
}

#[derive(clap::Args, Debug, Default)]
pub struct TrailerArgs {
    /// The film: any video ffmpeg reads.
    pub film: PathBuf,
    /// Subtitles for the film (SRT).
    #[arg(long)]
    pub subs: Option<PathBuf>,
    /// One of the 18 vibes (see `cinecut vibes`).
    #[arg(long)]
    pub vibe: String,
    /// A music file for the bed (any format ffmpeg decodes).
    #[arg(long)]
    pub music: Option<PathBuf>,
    /// A folder of your tracks; the one that best fits the vibe is used.
    #[arg(long)]
    pub music_dir: Option<PathBuf>,
    #[command(flatten)]
    pub models: ModelArgs,
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
    /// End card text, shown last ("" for no end card).
    #[arg(long, default_value = "COMING SOON")]
    pub end_card: String,
    /// Also write the HTML report (<trailer stem>_report.html) and its
    /// contact sheet beside the trailer.
    #[arg(long)]
    pub report: bool,
    /// After the render, export the cut beside the trailer in these formats
    /// (comma-separated: otio, fcpxml, edl, mlt, srt, vtt).
    #[arg(long, value_delimiter = ',')]
    pub export: Vec<String>,
}

impl ModelArgs {
    pub fn to_models(&self) -> crate::models::Models {
        crate::models::Models {
            llm: self.llm.clone(),
            llm_model: self.llm_model.clone(),
            vision: self.vision.clone(),
            vision_model: self.vision_model.clone(),
            vision_mmproj: self.vision_mmproj.clone(),
            vision_parallel: self.vision_parallel,
        }
    }
}
