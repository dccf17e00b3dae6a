//! `cinecut export`: the cut as an editable timeline (OpenTimelineIO,
//! FCPXML 1.10, CMX3600 EDL, MLT) or as captions (SRT, WebVTT).
//!
//! Every format writes from one [`timeline::Timeline`], built once from the
//! manifest as the render lays it; each format is one file behind
//! [`Exporter`]. Export reads the manifest and writes only its outputs and
//! the card stills beside them; every check of the inputs comes before the
//! first write.

pub mod captions;
pub mod edl;
pub mod fcpxml;
pub mod mlt;
pub mod otio;
pub mod timecode;
pub mod timeline;

use crate::manifest::{Item, Manifest, ManifestError};
use crate::media::MediaError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use timeline::{Inputs, MediaFile, Rate, Timeline};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A file the manifest names is not there (the user's to fix).
    #[error("{}: {what} named in the manifest is missing", path.display())]
    Missing { path: PathBuf, what: &'static str },
    /// A file the manifest names cannot be read as what it should be.
    #[error("{}: {msg}", path.display())]
    BadMedia { path: PathBuf, msg: String },
    /// An output would overwrite one of the export's own inputs.
    #[error("{}: the output is one of the export's inputs; choose another name with -o", path.display())]
    SameAsInput { path: PathBuf },
    /// A bad option: an unknown format, -o with several formats, a bad timecode.
    #[error("{0}")]
    Usage(String),
    #[error("no font found for the card stills (install fonts-dejavu-core or set CINECUT_FONT)")]
    NoFont,
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Write(#[from] crate::workdir::WorkdirError),
    /// A value that has no JSON (a bug).
    #[error("cannot encode the export: {0}")]
    Encode(String),
}

impl ExportError {
    /// True when the user can fix it (their manifest, files or options).
    pub fn is_users(&self) -> bool {
        match self {
            ExportError::Manifest(e) => matches!(e, ManifestError::Load { .. }),
            ExportError::Missing { .. }
            | ExportError::BadMedia { .. }
            | ExportError::SameAsInput { .. }
            | ExportError::Usage(_) => true,
            ExportError::Media(e) => matches!(e, MediaError::Input { .. }),
            _ => false,
        }
    }
}

/// The formats `--to` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Otio,
    Fcpxml,
    Edl,
    Mlt,
    Srt,
    Vtt,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Otio,
        Format::Fcpxml,
        Format::Edl,
        Format::Mlt,
        Format::Srt,
        Format::Vtt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Otio => "otio",
            Format::Fcpxml => "fcpxml",
            Format::Edl => "edl",
            Format::Mlt => "mlt",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }

    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        self.name()
    }

    /// A timeline format places the cards' stills; captions do not.
    pub fn needs_stills(self) -> bool {
        !matches!(self, Format::Srt | Format::Vtt)
    }

    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Otio => &otio::Otio,
            Format::Fcpxml => &fcpxml::Fcpxml,
            Format::Edl => &edl::Edl,
            Format::Mlt => &mlt::Mlt,
            Format::Srt => &captions::Srt,
            Format::Vtt => &captions::Vtt,
        }
    }

    /// Formats named in a list like `otio,fcpxml`.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Format>, ExportError> {
        let mut out = Vec::new();
        for n in names.iter().flat_map(|n| n.as_ref().split(',')) {
            let n = n.trim().to_ascii_lowercase();
            if n.is_empty() {
                continue;
            }
            let f = Format::ALL
                .into_iter()
                .find(|f| f.name() == n)
                .ok_or_else(|| {
                    ExportError::Usage(format!(
                        "unknown export format '{n}' (one of: otio, fcpxml, edl, mlt, srt, vtt)"
                    ))
                })?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        Ok(out)
    }
}

/// One output format: the timeline as the format's text.
pub trait Exporter {
    fn format(&self) -> Format;
    fn write(&self, t: &Timeline) -> Result<String, ExportError>;
}

/// What to export, and where.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub manifest: PathBuf,
    pub formats: Vec<Format>,
    /// The output file (one format only).
    pub output: Option<PathBuf>,
    /// Outputs are `<base>.<ext>` (default: the manifest's path less `.json`).
    pub base: Option<PathBuf>,
    pub media_root: Option<PathBuf>,
    /// The first frame's timecode, `HH:MM:SS:FF` (default 00:00:00:00).
    pub start_tc: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Written {
    pub format: Format,
    pub path: PathBuf,
}

/// What an export wrote.
#[derive(Debug, Serialize)]
pub struct Report {
    pub written: Vec<Written>,
    pub cards: Vec<PathBuf>,
    pub frame_rate: String,
    pub frames: i64,
    pub duration_s: f64,
    pub warnings: Vec<String>,
}

/// A path the manifest holds, as a file on disk: absolute as it is; a
/// relative one (the music bed's is relative to where the trailer was run)
/// from this folder, else from the manifest's folder or one above it.
fn resolve(p: &Path, manifest: &Path) -> Option<PathBuf> {
    let abs = |q: PathBuf| std::path::absolute(&q).unwrap_or(q);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    if p.is_file() {
        return Some(abs(p.to_path_buf()));
    }
    let dir = abs(crate::workdir::parent_dir(manifest));
    dir.ancestors()
        .map(|a| a.join(p))
        .find(|q| q.is_file())
        .map(abs)
}

fn found(p: &Path, manifest: &Path, what: &'static str) -> Result<PathBuf, ExportError> {
    resolve(p, manifest).ok_or_else(|| ExportError::Missing {
        path: p.to_path_buf(),
        what,
    })
}

/// The same file, whether or not both exist yet.
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.into()))
    };
    canon(a) == canon(b)
}

/// The output path of each format.
fn outputs(req: &Request) -> Result<Vec<(Format, PathBuf)>, ExportError> {
    if req.formats.is_empty() {
        return Err(ExportError::Usage(
            "no format given: --to otio|fcpxml|edl|mlt|srt|vtt".into(),
        ));
    }
    if let Some(o) = &req.output {
        if req.formats.len() > 1 {
            return Err(ExportError::Usage(
                "-o names one file: give one format with --to, or leave -o out".into(),
            ));
        }
        return Ok(vec![(req.formats[0], o.clone())]);
    }
    let base = req
        .base
        .clone()
        .unwrap_or_else(|| req.manifest.with_extension(""));
    Ok(req
        .formats
        .iter()
        .map(|f| {
            let mut name = base.as_os_str().to_owned();
            name.push(".");
            name.push(f.extension());
            (*f, PathBuf::from(name))
        })
        .collect())
}

/// What the manifest's files are on disk, checked before anything is written.
struct Found {
    film: PathBuf,
    music: Option<PathBuf>,
    sfx: Vec<PathBuf>,
    subs: Option<PathBuf>,
}

fn find_inputs(m: &Manifest, mp: &Path, warnings: &mut Vec<String>) -> Result<Found, ExportError> {
    let film = found(&m.film.path, mp, "the film")?;
    let music = match &m.music {
        Some(mu) => Some(found(&mu.path, mp, "the music")?),
        None => None,
    };
    let sfx = m
        .sfx
        .iter()
        .map(|s| found(&s.path, mp, "a sound effect"))
        .collect::<Result<Vec<_>, _>>()?;
    let subs = m.film.subtitles.as_ref().and_then(|s| {
        let r = resolve(Path::new(s), mp);
        if r.is_none() && !s.starts_with("embedded") {
            warnings.push(format!(
                "{s}: the subtitles are missing; captions carry the voice-over only"
            ));
        }
        r
    });
    Ok(Found {
        film,
        music,
        sfx,
        subs,
    })
}

fn audio_file(p: &Path) -> Result<MediaFile, ExportError> {
    let info = crate::music::probe_audio(p).map_err(|e| ExportError::BadMedia {
        path: p.to_path_buf(),
        msg: e.to_string(),
    })?;
    Ok(MediaFile {
        path: p.to_path_buf(),
        duration_s: Some(info.duration_s),
    })
}

/// The film's spoken cues in film seconds (none without subtitles).
fn cues(m: &Manifest, subs: Option<&Path>) -> Result<Vec<(f64, f64, String)>, ExportError> {
    let Some(p) = subs else {
        return Ok(Vec::new());
    };
    let d = crate::subtitles::load_subtitles(p, Some(m.film.fps), Some(m.film.duration_s))
        .map_err(|e| ExportError::BadMedia {
            path: p.to_path_buf(),
            msg: e.to_string(),
        })?;
    Ok(d.spoken()
        .map(|c| (c.start_s, c.end_s, c.text.clone()))
        .collect())
}

/// Renders each card's still into `dir` (atomically, through ffmpeg);
/// returns them by manifest index.
fn render_stills(m: &Manifest, dir: &Path) -> Result<Vec<(usize, PathBuf)>, ExportError> {
    let cards: Vec<(usize, &crate::manifest::Card)> = m
        .timeline
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it {
            Item::Card(c) => Some((i, c)),
            _ => None,
        })
        .collect();
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let font = crate::render::find_font().ok_or(ExportError::NoFont)?;
    std::fs::create_dir_all(dir).map_err(|e| crate::workdir::WorkdirError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut out = Vec::new();
    for (i, c) in cards {
        let path = dir.join(format!("card_{:02}.png", i + 1));
        let tmp = dir.join(format!(".card_{:02}.partial.png", i + 1));
        let args = crate::render::card_still_args(
            &c.text,
            m.render.width,
            m.render.height,
            Some(&font),
            &tmp,
        );
        let run = crate::media::process::Process::ffmpeg()
            .args(["-y", "-nostdin", "-loglevel", "error"])
            .args(args)
            .run_with_progress(&mut |_| {});
        if let Err(e) = run {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        std::fs::rename(&tmp, &path).map_err(|e| crate::workdir::WorkdirError::Io {
            path: path.clone(),
            source: e,
        })?;
        out.push((i, path));
    }
    Ok(out)
}

/// Exports the manifest in each requested format.
pub fn export(req: &Request) -> Result<Report, ExportError> {
    let m = Manifest::load(&req.manifest)?;
    let mut warnings = Vec::new();
    let f = find_inputs(&m, &req.manifest, &mut warnings)?;
    let outs = outputs(req)?;
    let inputs = [&req.manifest, &f.film]
        .into_iter()
        .chain(f.music.iter())
        .chain(f.sfx.iter())
        .chain(f.subs.iter());
    for inp in inputs {
        if let Some((_, o)) = outs.iter().find(|(_, o)| same_file(o, inp)) {
            return Err(ExportError::SameAsInput { path: o.clone() });
        }
    }
    let probe = crate::media::probe::probe(&f.film)?;
    let film_rate = probe
        .frame_rate
        .map(|(num, den)| Rate { num, den })
        .unwrap_or_else(|| Rate::from_fps(probe.fps));
    let music = f.music.as_deref().map(audio_file).transpose()?;
    let sfx = f
        .sfx
        .iter()
        .map(|p| audio_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let cues = cues(&m, f.subs.as_deref())?;
    let start_tc = match &req.start_tc {
        Some(tc) => timecode::parse(tc, Rate::from_fps(m.render.fps)).ok_or_else(|| {
            ExportError::Usage(format!("--start-tc {tc}: not a timecode HH:MM:SS:FF"))
        })?,
        None => 0,
    };
    let media_root = req
        .media_root
        .as_ref()
        .map(|r| std::path::absolute(r).unwrap_or(r.clone()));
    let stills = if outs.iter().any(|(f, _)| f.needs_stills()) {
        let first = &outs[0].1;
        let mut name = first.with_extension("").into_os_string();
        name.push("_cards");
        let dir = PathBuf::from(name);
        render_stills(&m, &std::path::absolute(&dir).unwrap_or(dir))?
    } else {
        Vec::new()
    };
    let t = timeline::build(
        &m,
        &Inputs {
            film: f.film.clone(),
            film_rate,
            music,
            sfx,
            cues,
            stills: stills.clone(),
            start_tc,
            media_root,
        },
    );
    let mut written = Vec::new();
    for (format, path) in outs {
        let text = format.exporter().write(&t)?;
        crate::workdir::atomic_write(&path, text.as_bytes())?;
        written.push(Written { format, path });
    }
    Ok(Report {
        written,
        cards: stills.into_iter().map(|(_, p)| p).collect(),
        frame_rate: format!("{}/{}", t.rate.num, t.rate.den),
        frames: t.frames,
        duration_s: t.frames as f64 / t.rate.fps(),
        warnings,
    })
}
