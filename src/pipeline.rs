//! Runs the stages of `cinecut trailer` in order, each checkpointed in the work
//! directory: a stage whose artifact exists and whose inputs' fingerprint still
//! matches is skipped, so a rerun (or a resumed, killed run) costs seconds.

use crate::analysis::{self, FilmAnalysis};
use crate::edit::{self, EditInput};
use crate::error::{Error, Result};
use crate::manifest::{self, FilmRef, Manifest, RenderSettings, StructureRef, MANIFEST_NAME};
use crate::media::{probe, render};
use crate::story::structure::{self, Structure};
use crate::subtitles::{self, Dialogue};
use crate::ui::Ui;
use crate::vibes::{self, Vibe};
use crate::workdir::{self, Artifact};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct TrailerOptions {
    pub film: PathBuf,
    pub subs: Option<PathBuf>,
    pub vibe: String,
    pub music: Option<PathBuf>,
    pub length_s: Option<f64>,
    pub out: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    pub review: bool,
    pub fresh: bool,
    pub spoiler_line: f64,
    pub title: Option<String>,
}

/// What happened to one stage, for the summary and `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageReport {
    pub name: String,
    pub status: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub output: Option<PathBuf>,
    pub manifest: PathBuf,
    pub workdir: PathBuf,
    pub vibe: String,
    pub stages: Vec<StageReport>,
    pub clips: usize,
    pub duration_s: f64,
    pub loudness_lufs: Option<f64>,
    pub true_peak_db: Option<f64>,
    pub review_pending: bool,
    pub warnings: Vec<String>,
}

/// A record of the last finished render, so an unchanged rerun skips it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RenderRecord {
    output: PathBuf,
    output_size: u64,
    output_mtime_ns: u128,
    loudness_lufs: f64,
    true_peak_db: f64,
}

struct Runner<'a> {
    ui: &'a Ui,
    fresh: bool,
    stages: Vec<StageReport>,
}

impl Runner<'_> {
    /// Loads the stage's artifact when fresh, else runs `f` and saves its result.
    fn stage<T, F>(&mut self, name: &str, art: &Artifact, f: F) -> Result<T>
    where
        T: Serialize + serde::de::DeserializeOwned,
        F: FnOnce(&crate::ui::Stage) -> Result<(T, String)>,
    {
        if !self.fresh {
            if let Some(v) = art.load::<T>() {
                self.ui.info(&format!("· {name:<10} up to date (skipped)"));
                self.stages.push(StageReport {
                    name: name.into(),
                    status: "skipped".into(),
                    seconds: 0.0,
                });
                return Ok(v);
            }
        }
        let st = self.ui.stage(name, None);
        let (v, summary) = match f(&st) {
            Ok(x) => x,
            Err(e) => {
                st.abandon();
                return Err(e);
            }
        };
        art.save(&v)?;
        let secs = st.finish(&summary);
        self.stages.push(StageReport {
            name: name.into(),
            status: "ran".into(),
            seconds: secs,
        });
        Ok(v)
    }
}

fn mtime_ns(p: &Path) -> u128 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Same file? Works for outputs that do not exist yet.
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let parent = workdir::parent_dir(p).canonicalize().ok()?;
        Some(parent.join(p.file_name()?))
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Fails early, before any work, when the output cannot be written.
pub fn check_output(out: &Path, film: &Path) -> Result<()> {
    if same_file(out, film) {
        return Err(Error::input(
            out,
            "the output would overwrite the input film — choose another -o path",
        ));
    }
    if out.is_dir() {
        return Err(Error::input(
            out,
            "is a folder; give a file name such as trailer.mp4",
        ));
    }
    let dir = workdir::parent_dir(out);
    if !dir.is_dir() {
        return Err(Error::input(&dir, "output folder does not exist"));
    }
    tempfile::Builder::new()
        .prefix(".cinecut-write-test")
        .tempfile_in(&dir)
        .map_err(|e| Error::input(&dir, format!("output folder is not writable: {e}")))?;
    Ok(())
}

pub fn default_title(film: &Path) -> String {
    let stem = film
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let words: Vec<String> = stem
        .split(|c: char| c == '_' || c == '.' || c == '-' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_uppercase())
        .collect();
    if words.is_empty() {
        "TRAILER".into()
    } else {
        words.join(" ")
    }
}

pub fn run_trailer(opts: &TrailerOptions, ui: &Ui) -> Result<Summary> {
    let vibe: Vibe = vibes::get(&opts.vibe)?;
    if !(0.3..=1.0).contains(&opts.spoiler_line) {
        return Err(Error::Usage(format!(
            "--spoiler-line {} must be between 0.3 and 1.0",
            opts.spoiler_line
        )));
    }
    if let Some(l) = opts.length_s {
        if !(10.0..=600.0).contains(&l) {
            return Err(Error::Usage(format!(
                "--length {l} must be between 10 and 600 seconds"
            )));
        }
    }
    let film = &opts.film;
    let stem = film
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into());
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{stem}_trailer.mp4")));
    let p = probe::probe(film)?;
    if !opts.review {
        check_output(&out, film)?;
    }
    if let Some(s) = &opts.subs {
        if !s.is_file() {
            return Err(Error::input(s, "no such subtitle file"));
        }
    }
    let work = opts
        .workdir
        .clone()
        .unwrap_or_else(|| workdir::parent_dir(&out).join(format!("{stem}.cinecut")));
    std::fs::create_dir_all(&work)
        .map_err(|e| Error::input(&work, format!("cannot create the work folder: {e}")))?;
    let mut warnings = Vec::new();
    let film_fp = workdir::file_fingerprint(film)?;
    let mut run = Runner {
        ui,
        fresh: opts.fresh,
        stages: Vec::new(),
    };

    // Analysis: one decoding pass over the film.
    let fp_an = workdir::fingerprint(&[&film_fp, "analysis-1"]);
    let an: FilmAnalysis = run.stage(
        "analyse",
        &Artifact::new(&work, "analysis.json", fp_an.clone()),
        |st| {
            let bar = ui.stage("decode", Some(p.duration_s));
            let a = analysis::analyse(film, p.fps, p.duration_s, &Default::default(), &mut |t| {
                bar.set(t)
            });
            bar.abandon();
            let a = a?;
            st.message("");
            let s = format!("{} shots, {} cuts", a.shots.len(), a.boundaries.len());
            Ok((a, s))
        },
    )?;

    // Subtitles: the given file, else a text subtitle stream of the film.
    let subs_fp = match &opts.subs {
        Some(s) => workdir::file_fingerprint(s)?,
        None => film_fp.clone(),
    };
    let fp_sub = workdir::fingerprint(&[&subs_fp, "subtitles-2"]);
    let dialogue: Dialogue = run.stage(
        "subtitles",
        &Artifact::new(&work, "dialogue.json", fp_sub.clone()),
        |_| {
            let d = match &opts.subs {
                Some(s) => subtitles::load_subtitles(s, Some(p.fps), Some(p.duration_s))?,
                None if !p.subtitle_streams.is_empty() => {
                    let dir = work.join("subs");
                    match subtitles::load_embedded(film, &dir, Some(p.fps), Some(p.duration_s)) {
                        Ok(d) => d,
                        Err(e) => {
                            let mut d = empty_dialogue();
                            d.warnings.push(format!("embedded subtitles not used: {e}"));
                            d
                        }
                    }
                }
                None => empty_dialogue(),
            };
            let s = format!(
                "{} cues from {} ({}, {})",
                d.cues.len(),
                d.source,
                d.format,
                d.encoding
            );
            Ok((d, s))
        },
    )?;
    warnings.extend(dialogue.warnings.iter().cloned());
    if p.duration_s < 20.0 {
        warnings.push(format!(
            "{}: the film is only {:.1} s long; the trailer will be short",
            film.display(),
            p.duration_s
        ));
    }

    // Structure.
    let fp_st = workdir::fingerprint(&[&fp_an, &fp_sub, "structure-1"]);
    let st: Structure = run.stage(
        "structure",
        &Artifact::new(&work, "structure.json", fp_st.clone()),
        |_| {
            let s = structure::prior_structure(p.duration_s);
            let msg = format!(
                "begin {:.0} s, escalation {:.0} s, climax {:.0} s ({})",
                s.begin_t, s.escalation_t, s.climax_t, s.source
            );
            Ok((s, msg))
        },
    )?;

    // Assembly → the manifest (kept if unchanged inputs: it may have been edited).
    let mut target = opts.length_s.unwrap_or(vibe.length_s);
    let max_len = (p.duration_s * 0.5).max(8.0);
    if target > max_len {
        warnings.push(format!(
            "{}: the film ({:.0} s) is too short for a {:.0} s trailer; making a {:.0} s one",
            film.display(),
            p.duration_s,
            target,
            max_len
        ));
        target = max_len;
    }
    let title = opts.title.clone().unwrap_or_else(|| default_title(film));
    let fp_ed = workdir::fingerprint(&[
        &fp_st,
        &vibe.name,
        &format!("{target:.3}/{:.4}", opts.spoiler_line),
        &title,
        &std::path::absolute(film)
            .unwrap_or_default()
            .display()
            .to_string(),
        "assemble-1",
    ]);
    let manifest_path = work.join(MANIFEST_NAME);
    let ed_art = Artifact::new(&work, "assemble.json", fp_ed);
    let manifest = if !opts.fresh && ed_art.load::<String>().is_some() && manifest_path.is_file() {
        ui.info("· assemble   up to date (skipped)");
        run.stages.push(StageReport {
            name: "assemble".into(),
            status: "skipped".into(),
            seconds: 0.0,
        });
        Manifest::load(&manifest_path)?
    } else {
        let stg = ui.stage("assemble", None);
        let (w, h) = output_size(p.display_size());
        let fps = p.fps.clamp(10.0, 60.0);
        let edit = edit::assemble(&EditInput {
            shots: &an.shots,
            flashes: &an.flashes,
            cues: &dialogue.cues,
            structure: &st,
            vibe: &vibe,
            runtime_s: p.duration_s,
            fps,
            target_length_s: target,
            spoiler_line_s: opts.spoiler_line * p.duration_s,
            title: title.clone(),
        });
        let mut m = Manifest {
            schema_version: manifest::MANIFEST_SCHEMA,
            cinecut_version: env!("CARGO_PKG_VERSION").into(),
            film: FilmRef {
                path: std::path::absolute(film).unwrap_or_else(|_| film.clone()),
                fingerprint: film_fp.clone(),
                title: title.clone(),
                duration_s: p.duration_s,
                fps: p.fps,
                width: p.display_size().0,
                height: p.display_size().1,
                has_audio: p.has_audio,
                subtitles: opts.subs.as_ref().map(|s| s.display().to_string()),
            },
            vibe: vibe.name.clone(),
            target_length_s: target,
            structure: StructureRef {
                begin_t: st.begin_t,
                escalation_t: st.escalation_t,
                climax_t: st.climax_t,
                source: st.source.clone(),
                reasoning: st.reasoning.clone(),
            },
            spoiler_line_s: opts.spoiler_line * p.duration_s,
            beat_grid: None,
            music: None,
            render: RenderSettings {
                width: w,
                height: h,
                fps,
                crf: 18,
                preset: "veryfast".into(),
                audio_sample_rate: render::AUDIO_RATE,
                loudness_lufs: vibe.loudness_lufs,
                true_peak_db: -1.5,
                grade: vibe.grade,
            },
            timeline: edit.timeline,
            voice_over: Vec::new(),
            sfx: Vec::new(),
            notes: edit.notes,
        };
        let protagonist = dialogue
            .protagonist
            .clone()
            .or_else(|| st.protagonist.clone());
        m.voice_over = edit::voiceover::choose(
            &m.timeline,
            &m.item_starts(),
            &dialogue.cues,
            protagonist.as_deref(),
            m.spoiler_line_s,
        );
        if let Err(msg) = m.validate() {
            stg.abandon();
            return Err(Error::Other(format!(
                "internal: the assembled manifest is invalid: {msg}"
            )));
        }
        m.save(&manifest_path)?;
        ed_art.save(&"ok".to_string())?;
        let secs = stg.finish(&format!(
            "{} clips, {:.1} s",
            m.clips().count(),
            m.total_duration_s()
        ));
        run.stages.push(StageReport {
            name: "assemble".into(),
            status: "ran".into(),
            seconds: secs,
        });
        m
    };

    let mut summary = Summary {
        output: None,
        manifest: manifest_path.clone(),
        workdir: work.clone(),
        vibe: vibe.name.clone(),
        stages: Vec::new(),
        clips: manifest.clips().count(),
        duration_s: manifest.total_duration_s(),
        loudness_lufs: None,
        true_peak_db: None,
        review_pending: opts.review,
        warnings,
    };
    if opts.review {
        ui.info(&format!(
            "Review and edit the cut in {}\nthen render it with:\n  cinecut render {} -o {}",
            manifest_path.display(),
            shell_quote(&manifest_path),
            shell_quote(&out)
        ));
        summary.stages = run.stages;
        return Ok(summary);
    }
    let (stages, rec) = render_stage(&manifest, &manifest_path, &out, &work, ui, opts.fresh)?;
    run.stages.extend(stages);
    summary.stages = run.stages;
    summary.output = Some(out);
    summary.loudness_lufs = Some(rec.loudness_lufs);
    summary.true_peak_db = Some(rec.true_peak_db);
    Ok(summary)
}

fn empty_dialogue() -> Dialogue {
    Dialogue {
        source: "none".into(),
        format: "none".into(),
        encoding: "none".into(),
        language_guess: None,
        cues: Vec::new(),
        protagonist: None,
        speakers: Vec::new(),
        warnings: Vec::new(),
    }
}

fn shell_quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The output size: the film's display size, capped at 1920×1080, even.
fn output_size((w, h): (u32, u32)) -> (u32, u32) {
    let scale = (1920.0 / w as f64).min(1080.0 / h as f64).min(1.0);
    let even = |v: f64| ((v.round() as u32) / 2 * 2).max(16);
    (even(w as f64 * scale), even(h as f64 * scale))
}

/// Renders unless the same manifest was already rendered into the same file.
fn render_stage(
    m: &Manifest,
    manifest_path: &Path,
    out: &Path,
    work: &Path,
    ui: &Ui,
    fresh: bool,
) -> Result<(Vec<StageReport>, RenderRecordPub)> {
    let bytes = serde_json::to_vec(m).map_err(|e| Error::Other(e.to_string()))?;
    let fp = workdir::fingerprint(&[&String::from_utf8_lossy(&bytes), "render-1"]);
    let art = Artifact::new(work, "render.json", fp);
    if !fresh {
        if let Some(r) = art.load::<RenderRecord>() {
            let ok = out.is_file()
                && same_file(&r.output, out)
                && std::fs::metadata(out).map(|m| m.len()).unwrap_or(0) == r.output_size
                && mtime_ns(out) == r.output_mtime_ns;
            if ok {
                ui.info("· render     up to date (skipped)");
                return Ok((
                    vec![StageReport {
                        name: "render".into(),
                        status: "skipped".into(),
                        seconds: 0.0,
                    }],
                    RenderRecordPub {
                        loudness_lufs: r.loudness_lufs,
                        true_peak_db: r.true_peak_db,
                    },
                ));
            }
        }
    }
    let _ = manifest_path;
    let film = &m.film.path;
    if !film.is_file() {
        return Err(Error::input(film, "the manifest's film is missing"));
    }
    let total = m.total_duration_s();
    let st = ui.stage("render", Some(total * 2.0));
    let res = render::render(m, film, out, &mut |phase, t| {
        st.message(phase);
        st.set(if phase == "loudness" {
            t.min(total)
        } else {
            total + t.min(total)
        });
    });
    let rep = match res {
        Ok(r) => r,
        Err(e) => {
            st.abandon();
            return Err(e);
        }
    };
    let (lufs, tp) = render::measure_file(out)?;
    let secs = st.finish(&format!(
        "{} ({:.1} s, {lufs:.1} LUFS, true peak {tp:.1} dBTP; measure {:.1} s, encode {:.1} s)",
        out.display(),
        total,
        rep.measure_s,
        rep.encode_s
    ));
    let rec = RenderRecord {
        output: std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()),
        output_size: std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
        output_mtime_ns: mtime_ns(out),
        loudness_lufs: lufs,
        true_peak_db: tp,
    };
    art.save(&rec)?;
    Ok((
        vec![StageReport {
            name: "render".into(),
            status: "ran".into(),
            seconds: secs,
        }],
        RenderRecordPub {
            loudness_lufs: lufs,
            true_peak_db: tp,
        },
    ))
}

pub struct RenderRecordPub {
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
}

/// `cinecut render MANIFEST`: render an (edited) manifest without analysis.
pub fn run_render(manifest_path: &Path, out: Option<PathBuf>, ui: &Ui) -> Result<Summary> {
    let m = Manifest::load(manifest_path)?;
    let film = m.film.path.clone();
    if !film.is_file() {
        return Err(Error::input(
            &film,
            "the film named in the manifest is missing",
        ));
    }
    let mut warnings = Vec::new();
    if workdir::file_fingerprint(&film)? != m.film.fingerprint {
        warnings.push(format!(
            "{}: the film changed since the manifest was made",
            film.display()
        ));
        ui.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let stem = film
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{stem}_trailer.mp4")));
    check_output(&out, &film)?;
    let work = workdir::parent_dir(manifest_path);
    let (stages, rec) = render_stage(&m, manifest_path, &out, &work, ui, false)?;
    Ok(Summary {
        output: Some(out),
        manifest: manifest_path.to_path_buf(),
        workdir: work,
        vibe: m.vibe.clone(),
        stages,
        clips: m.clips().count(),
        duration_s: m.total_duration_s(),
        loudness_lufs: Some(rec.loudness_lufs),
        true_peak_db: Some(rec.true_peak_db),
        review_pending: false,
        warnings,
    })
}
