//! What the report shows, gathered from the manifest and the artifacts of
//! its work folder: each section is either filled or says why it could not
//! be (an artifact missing or unreadable, the film or the trailer gone), so
//! a moved or hand-edited manifest still gets a report.

use crate::analysis::FilmAnalysis;
use crate::check::CheckReport;
use crate::manifest::{Item, Manifest};
use crate::story::board::Storyboard;
use crate::story::structure::Structure;
use rayon::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A section's content, or why it is empty.
pub type Filled<T> = Result<T, String>;

/// Width of a storyboard thumbnail in pixels.
pub const THUMB_WIDTH: u32 = 240;
/// Step of the loudness and music-energy curves, seconds.
pub const CURVE_STEP_S: f64 = 0.1;

/// A section the page could not fill, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub section: String,
    pub why: String,
}

/// The files a report reads, found before any work (so that an output
/// equal to one of them is refused first).
pub struct Sources {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
    /// The work folder: the manifest's.
    pub work: PathBuf,
    pub film: Filled<PathBuf>,
    pub music: Option<Filled<PathBuf>>,
    pub trailer: Filled<PathBuf>,
}

/// One clip of the storyboard.
#[derive(Debug, Clone)]
pub struct ClipView {
    /// 1-based, in playing order.
    pub number: usize,
    /// Its index in the manifest's timeline.
    pub item: usize,
    pub clip: crate::manifest::Clip,
    /// Where it starts in the trailer and how long it plays there.
    pub at_s: f64,
    pub len_s: f64,
    /// The storyboard's description of its shot, and who wrote it.
    pub description: Option<(String, String)>,
    pub thumbnail: Filled<Vec<u8>>,
}

/// The film's intensity over its runtime (analysis.json).
#[derive(Debug, Clone)]
pub struct Intensity {
    pub points: Vec<(f64, f32)>,
    pub runtime_s: f64,
    /// The five turning points (structure.json), when known.
    pub turning_points: Option<Vec<f64>>,
    pub shots: usize,
}

/// The music under the cut, in trailer time.
#[derive(Debug, Clone)]
pub struct MusicView {
    /// RMS level in dBFS every [`CURVE_STEP_S`], from the track itself.
    pub energy_db: Filled<Vec<(f64, f64)>>,
    pub beats: Vec<f64>,
    pub downbeats: Vec<f64>,
    pub bpm: f64,
}

/// The mix's loudness over the trailer.
#[derive(Debug, Clone)]
pub struct Loudness {
    /// Short-term LUFS every [`CURVE_STEP_S`].
    pub curve: Vec<(f64, f64)>,
    pub integrated_lufs: Option<f64>,
    pub true_peak_db: Option<f64>,
}

/// Everything the page shows.
pub struct ReportData {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
    pub film: Filled<PathBuf>,
    pub trailer: Filled<PathBuf>,
    pub clips: Vec<ClipView>,
    /// Trailer start of every item of the timeline (cards included).
    pub starts: Vec<f64>,
    pub intensity: Filled<Intensity>,
    pub music: Filled<MusicView>,
    pub loudness: Filled<Loudness>,
    pub check: Filled<CheckReport>,
    /// Why a chosen track was skipped, from music.json.
    pub music_skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// What the report reads of render.json: where the trailer went.
#[derive(Deserialize)]
struct Rendered {
    output: PathBuf,
}

/// What the report reads of music.json: the sources passed over, and why.
#[derive(Deserialize)]
struct MusicSkipped {
    skipped: Vec<String>,
}

/// An artifact of the work folder, whatever fingerprint it carries.
fn artifact<T: DeserializeOwned>(work: &Path, name: &str) -> Filled<T> {
    let path = work.join(name);
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{} is not there (the manifest was moved, or that stage never ran here)",
            path.display()
        ),
        _ => format!("{}: cannot read: {e}", path.display()),
    })?;
    serde_json::from_slice::<Envelope<T>>(&bytes)
        .map(|e| e.data)
        .map_err(|e| format!("{}: unreadable ({e})", path.display()))
}

/// A path the manifest names: as written when it is there; a relative one
/// (`--json` and music paths are relative to where the trailer was run)
/// also beside the work folder.
fn locate(p: &Path, work: &Path, what: &str) -> Filled<PathBuf> {
    let mut tries = vec![p.to_path_buf()];
    if p.is_relative() {
        tries.push(work.join(p));
        tries.push(crate::workdir::parent_dir(work).join(p));
    }
    tries
        .into_iter()
        .find(|t| t.is_file())
        .map(|t| std::path::absolute(&t).unwrap_or(t))
        .ok_or_else(|| format!("{what} {} is missing", p.display()))
}

impl Sources {
    pub fn resolve(manifest: Manifest, manifest_path: &Path, trailer: Option<&Path>) -> Self {
        let work = crate::workdir::parent_dir(manifest_path);
        let film = locate(&manifest.film.path, &work, "the film");
        let music = manifest
            .music
            .as_ref()
            .map(|m| locate(&m.path, &work, "the music file"));
        let trailer = match trailer {
            Some(t) if t.is_file() => Ok(t.to_path_buf()),
            Some(t) => Err(format!("{}: no such trailer file", t.display())),
            None => artifact::<Rendered>(&work, "render.json")
                .map_err(|why| format!("no rendered trailer found ({why}); pass --trailer"))
                .and_then(|r| locate(&r.output, &work, "the trailer render.json names")),
        };
        Sources {
            manifest,
            manifest_path: manifest_path.to_path_buf(),
            work,
            film,
            music,
            trailer,
        }
    }

    /// Every file the report reads: no output may be one of them (the
    /// work folder's artifacts are its JSON files).
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.manifest_path.clone()];
        v.extend(self.film.as_ref().ok().cloned());
        v.extend(self.music.as_ref().and_then(|m| m.as_ref().ok()).cloned());
        v.extend(self.trailer.as_ref().ok().cloned());
        let artifacts = std::fs::read_dir(&self.work)
            .into_iter()
            .flatten()
            .flatten();
        v.extend(
            artifacts
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json")),
        );
        v
    }
}

/// Gathers every section (the slow parts — thumbnails, the check, the
/// loudness curve — side by side).
pub fn gather(src: Sources) -> ReportData {
    let m = &src.manifest;
    let starts = m.item_starts();
    let board = artifact::<Storyboard>(&src.work, "storyboard.json").ok();
    let mut clips = clip_views(m, &starts, board.as_ref());
    let ((thumbs, check), (loudness, music)) = rayon::join(
        || {
            rayon::join(
                || thumbnails(&src.film, &clips),
                || run_check(&src.trailer, m, &src.manifest_path),
            )
        },
        || {
            rayon::join(
                || loudness(&src.trailer),
                || music_view(m, src.music.as_ref()),
            )
        },
    );
    for (c, t) in clips.iter_mut().zip(thumbs) {
        c.thumbnail = t;
    }
    let music_skipped = artifact::<MusicSkipped>(&src.work, "music.json")
        .map(|c| c.skipped)
        .unwrap_or_default();
    let loudness = loudness.map(|mut l| {
        if let Ok(r) = &check {
            l.integrated_lufs = Some(r.loudness_lufs);
            l.true_peak_db = Some(r.true_peak_dbtp);
        }
        l
    });
    ReportData {
        intensity: intensity(&src.work, m),
        manifest_path: src.manifest_path,
        film: src.film,
        trailer: src.trailer,
        clips,
        starts,
        music,
        loudness,
        check,
        music_skipped,
        manifest: src.manifest,
    }
}

/// The clips in playing order, with their place in the trailer and the
/// storyboard's description of their shot.
fn clip_views(m: &Manifest, starts: &[f64], board: Option<&Storyboard>) -> Vec<ClipView> {
    let fps = m.render.fps;
    let frames = m.item_frames();
    let mut out = Vec::new();
    for (i, it) in m.timeline.iter().enumerate() {
        let Item::Clip(c) = it else { continue };
        let description = board.and_then(|b| {
            let card = b
                .cards
                .iter()
                .find(|k| Some(k.shot_index) == c.shot_index)?;
            Some((card.description.clone(), card.description_source.clone()))
        });
        out.push(ClipView {
            number: out.len() + 1,
            item: i,
            clip: c.clone(),
            at_s: starts[i],
            len_s: frames[i].0 as f64 / fps,
            description,
            thumbnail: Err("not made yet".into()),
        });
    }
    out
}

/// Each clip's thumbnail: the film's frame in the middle of its range.
fn thumbnails(film: &Filled<PathBuf>, clips: &[ClipView]) -> Vec<Filled<Vec<u8>>> {
    let film = match film {
        Ok(f) => f,
        Err(why) => return clips.iter().map(|_| Err(why.clone())).collect(),
    };
    clips
        .par_iter()
        .map(|c| {
            let mid = (c.clip.source_in_s + c.clip.source_out_s) / 2.0;
            crate::media::still::frame_jpeg(film, mid, THUMB_WIDTH).map_err(|e| e.to_string())
        })
        .collect()
}

/// The film's intensity curve, from analysis.json (and structure.json's
/// turning points).
fn intensity(work: &Path, m: &Manifest) -> Filled<Intensity> {
    let an = artifact::<FilmAnalysis>(work, "analysis.json")?;
    if (an.duration_s - m.film.duration_s).abs() > 1.0 {
        return Err(format!(
            "{}: made from another film ({:.1} s; the manifest's film is {:.1} s)",
            work.join("analysis.json").display(),
            an.duration_s,
            m.film.duration_s
        ));
    }
    let runtime = m.film.duration_s;
    Ok(Intensity {
        points: crate::analysis::intensity::film_intensity(runtime, &an),
        runtime_s: runtime,
        turning_points: artifact::<Structure>(work, "structure.json")
            .ok()
            .map(|s| s.turning_points),
        shots: an.shots.len(),
    })
}

/// `cinecut check` run in process on the rendered trailer.
fn run_check(trailer: &Filled<PathBuf>, m: &Manifest, manifest_path: &Path) -> Filled<CheckReport> {
    let t = trailer.as_ref().map_err(Clone::clone)?;
    let ctx = crate::check::load_context(manifest_path);
    crate::check::check(t, m, ctx.shots.as_deref(), ctx.cues.as_deref())
        .map_err(|e| format!("cinecut check failed: {e}"))
}

/// The mix's short-term loudness over the rendered trailer.
fn loudness(trailer: &Filled<PathBuf>) -> Filled<Loudness> {
    let t = trailer.as_ref().map_err(Clone::clone)?;
    let curve = crate::media::level::short_term_curve(t, CURVE_STEP_S, 48_000)
        .map_err(|e| e.to_string())?;
    Ok(Loudness {
        curve: curve
            .into_iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64 * CURVE_STEP_S, v))
            .collect(),
        integrated_lufs: None,
        true_peak_db: None,
    })
}

/// The track's level, beats and downbeats, moved into trailer time.
fn music_view(m: &Manifest, file: Option<&Filled<PathBuf>>) -> Filled<MusicView> {
    let (Some(mu), Some(file)) = (&m.music, file) else {
        return Err("the manifest has no music".into());
    };
    let offset = mu.at_s - mu.in_s;
    let grid = m.beat_grid.as_ref();
    let to_trailer = |ts: &[f64]| -> Vec<f64> {
        ts.iter()
            .map(|t| t + offset)
            .filter(|t| t.is_finite() && *t >= 0.0)
            .collect()
    };
    let energy_db = file.clone().and_then(|f| {
        let sr = crate::music::ANALYSIS_SR;
        let mono = crate::music::decode_mono(&f, sr).map_err(|e| e.to_string())?;
        Ok(rms_curve(&mono, sr, mu.in_s, mu.out_s, offset))
    });
    Ok(MusicView {
        energy_db,
        beats: grid.map(|g| to_trailer(&g.beats)).unwrap_or_default(),
        downbeats: grid.map(|g| to_trailer(&g.downbeats)).unwrap_or_default(),
        bpm: grid.map(|g| g.bpm).unwrap_or(0.0),
    })
}

/// RMS level (dBFS) every [`CURVE_STEP_S`] of `[in_s, out_s)` of a mono
/// signal, at trailer time (track time + `offset`).
pub fn rms_curve(mono: &[f32], sr: u32, in_s: f64, out_s: f64, offset: f64) -> Vec<(f64, f64)> {
    let step = ((CURVE_STEP_S * sr as f64) as usize).max(1);
    let a = ((in_s.max(0.0) * sr as f64) as usize).min(mono.len());
    let b = ((out_s.max(0.0) * sr as f64) as usize).clamp(a, mono.len());
    mono[a..b]
        .chunks(step)
        .enumerate()
        .map(|(i, w)| {
            let p = w.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / w.len() as f64;
            let t = in_s + (i as f64 + 0.5) * CURVE_STEP_S + offset;
            (t, 10.0 * p.max(1e-12).log10())
        })
        .collect()
}

impl ReportData {
    /// Every section that could not be filled, and why.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        let mut gap = |section: &str, r: Result<(), &String>| {
            if let Err(why) = r {
                gaps.push(Gap {
                    section: section.into(),
                    why: why.clone(),
                });
            }
        };
        let thumbs = self.clips.iter().find_map(|c| c.thumbnail.as_ref().err());
        gap("thumbnails", thumbs.map_or(Ok(()), Err));
        gap("intensity", self.intensity.as_ref().map(|_| ()));
        gap("music", self.music.as_ref().map(|_| ()));
        if let Ok(mv) = &self.music {
            gap("music energy", mv.energy_db.as_ref().map(|_| ()));
        }
        gap("loudness", self.loudness.as_ref().map(|_| ()));
        gap("check", self.check.as_ref().map(|_| ()));
        gaps
    }
}
