//! Runs the stages of `cinecut trailer` in order, each checkpointed in the work
//! directory: a stage whose artifact exists and whose inputs' fingerprint still
//! matches is skipped, so a rerun (or a resumed, killed run) costs seconds.

use crate::analysis::{self, FilmAnalysis};
use crate::edit::{self, EditInput};
use crate::error::{Error, Result};
use crate::manifest::{self, FilmRef, Manifest, RenderSettings, StructureRef, MANIFEST_NAME};
use crate::media::{probe, render};
use crate::music;
use crate::story::board::{self, Storyboard};
use crate::story::structure::{self, CueLite, Structure, StructureInput};
use crate::story::zones::Zone;
use crate::subtitles::{self, Dialogue};
use crate::ui::Ui;
use crate::vibes::{self, Transition, Vibe};
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
    /// End card text (empty: none).
    pub end_card: String,
    pub music_dir: Option<PathBuf>,
    pub models: crate::models::Models,
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

/// The analysis half of the pipeline, shared by `trailer` and `structure`.
struct Prepared<'a> {
    p: probe::Probe,
    film_fp: String,
    an: FilmAnalysis,
    dialogue: Dialogue,
    st: Structure,
    fp_st: String,
    warnings: Vec<String>,
    run: Runner<'a>,
}

fn prepare<'a>(
    film: &Path,
    subs: Option<&Path>,
    llm: &crate::models::TextLlm,
    work: &Path,
    fresh: bool,
    p: probe::Probe,
    ui: &'a Ui,
) -> Result<Prepared<'a>> {
    let work = &work.to_path_buf();
    let models = llm.models();
    let mut warnings = Vec::new();
    let film_fp = workdir::file_fingerprint(film)?;
    let mut run = Runner {
        ui,
        fresh,
        stages: Vec::new(),
    };

    // Analysis: one decoding pass over the film.
    let fp_an = workdir::fingerprint(&[&film_fp, "analysis-6"]);
    let an: FilmAnalysis = run.stage(
        "analyse",
        &Artifact::new(work, "analysis.json", fp_an.clone()),
        |st| {
            let bar = ui.stage("decode", Some(p.duration_s));
            let a = analysis::analyse_probed(film, &p, &Default::default(), &mut |t| bar.set(t));
            bar.abandon();
            let a = a?;
            st.message("");
            let s = format!("{} shots, {} cuts", a.shots.len(), a.boundaries.len());
            Ok((a, s))
        },
    )?;
    // Damaged stretches of the film (decoder errors, gaps) are reported,
    // on every run, not only the one that found them.
    for w in &an.warnings {
        ui.warn(w);
        warnings.push(w.clone());
    }

    // Subtitles: the given file, else a text subtitle stream of the film.
    let subs_fp = match &subs {
        Some(s) => workdir::file_fingerprint(s)?,
        None => film_fp.clone(),
    };
    let fp_sub = workdir::fingerprint(&[&subs_fp, "subtitles-2"]);
    let dialogue: Dialogue = run.stage(
        "subtitles",
        &Artifact::new(work, "dialogue.json", fp_sub.clone()),
        |_| {
            let d = match &subs {
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
            let s = if d.source == "none" {
                "no subtitles: picture and sound alone".to_string()
            } else {
                format!(
                    "{} cues from {} ({}, {})",
                    d.cues.len(),
                    d.source,
                    d.format,
                    d.encoding
                )
            };
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

    // Structure: the LLM when one is configured, else (or when its answer
    // fails validation) the built-in analyser over dialogue and intensity.
    let llm_key = models.llm_key();
    let fp_st = workdir::fingerprint(&[&fp_an, &fp_sub, &llm_key, "structure-2"]);
    let st: Structure = run.stage(
        "structure",
        &Artifact::new(work, "structure.json", fp_st.clone()),
        |stg| {
            let input = structure_input(p.duration_s, &an, &dialogue);
            let client = llm.client(ui)?;
            let s = structure::find_structure(client.as_ref(), &input, &mut |d, t| {
                stg.message(&format!("LLM request {d}/{t}"))
            });
            let msg = format!(
                "begin {:.0} s, escalation {:.0} s, climax {:.0} s ({})",
                s.begin_t, s.escalation_t, s.climax_t, s.source
            );
            Ok((s, msg))
        },
    )?;
    if let Some(r) = &st.fallback_reason {
        if models.llm.is_some() || models.llm_model.is_some() {
            warnings.push(format!("structure: the LLM's answer was not used ({r}); the built-in analyser placed the anchors"));
        }
    }

    Ok(Prepared {
        p,
        film_fp,
        an,
        dialogue,
        st,
        fp_st,
        warnings,
        run,
    })
}

/// `cinecut structure`: the anchors of a film, through the same checkpointed
/// stages as `trailer` (work folder `<film stem>.cinecut` in this folder).
pub fn run_structure(
    film: &Path,
    subs: Option<&Path>,
    models: &crate::models::Models,
    ui: &Ui,
) -> Result<Structure> {
    let p = probe::probe(film)?;
    if let Some(s) = subs {
        if !s.is_file() {
            return Err(Error::input(s, "no such subtitle file"));
        }
    }
    let stem = film
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into());
    let work = PathBuf::from(format!("{stem}.cinecut"));
    std::fs::create_dir_all(&work)
        .map_err(|e| Error::input(&work, format!("cannot create the work folder: {e}")))?;
    let llm = crate::models::TextLlm::new(models);
    let prep = prepare(film, subs, &llm, &work, false, p, ui)?;
    for w in &prep.warnings {
        ui.warn(w);
    }
    Ok(prep.st)
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
    // One text LLM for the run, started only if a stage needs it.
    let llm = crate::models::TextLlm::new(&opts.models);
    let Prepared {
        p,
        film_fp,
        an,
        dialogue,
        st,
        fp_st,
        mut warnings,
        mut run,
    } = prepare(film, opts.subs.as_deref(), &llm, &work, opts.fresh, p, ui)?;

    // Scenes: what each shot shows (a vision model when configured, else
    // described from what was measured, phrased by the text LLM when one is
    // configured), its zone and its score.
    let fp_sb = workdir::fingerprint(&[
        &fp_st,
        &vibe.name,
        &opts.models.vision_key(),
        "storyboard-2",
    ]);
    let mut board_notes = Vec::new();
    let board: Storyboard = run.stage(
        "scenes",
        &Artifact::new(&work, "storyboard.json", fp_sb.clone()),
        |stg| {
            let kdir = work.join("keyframes");
            let mut kfs = board::keyframes(&an, &dialogue.cues, &kdir);
            let vision = opts.models.start_vision(ui)?;
            if vision.client.is_some() {
                stg.message("extracting keyframes");
                let times: Vec<f64> = kfs.iter().map(|k| k.time_s).collect();
                let paths = analysis::extract_keyframes(film, &times, &kdir, 672)?;
                for (k, p) in kfs.iter_mut().zip(paths) {
                    k.path = p;
                }
            }
            // Without a vision model, the text LLM (when one is configured)
            // phrases what was measured around each keyframe.
            let text = match vision.client {
                None => llm.client(ui)?,
                Some(_) => None,
            };
            if text.is_some() {
                stg.message("phrasing the shots with the text LLM");
            }
            let descs = crate::story::describe_scenes(
                &kfs,
                vision.client.as_ref(),
                text.as_ref(),
                opts.models.vision_parallel.max(1),
                &work.join("scenes.msgpack"),
                &film_fp,
                &mut |d, t| stg.message(&format!("described {d}/{t}")),
            )?;
            // Only what a model saw is worth embedding (see board::build).
            let seen = descs.iter().any(|d| !d.source.starts_with("measured"));
            let emb = match seen.then(crate::embed::Embedder::load_default) {
                Some(Ok(e)) => Some(e),
                Some(Err(e)) => {
                    board_notes.push(format!("zones placed by position only: {e}"));
                    None
                }
                None => None,
            };
            stg.message("zones and scores");
            let b = board::build(&an, &dialogue.cues, &st, &vibe.name, &descs, emb.as_ref())?;
            let zones = |z: Zone| b.cards.iter().filter(|c| c.zone == z).count();
            let msg = format!(
                "{} shots described; zones {} / {} / {}",
                b.cards.len(),
                zones(Zone::Beginning),
                zones(Zone::Escalation),
                zones(Zone::Climax)
            );
            Ok((b, msg))
        },
    )?;
    warnings.extend(board_notes);

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
    // Music: the user's file or folder, Jamendo, or the built-in bed — then
    // its beat grid, which every cut will land on.
    let music_fp = match (&opts.music, &opts.music_dir) {
        (Some(f), _) => workdir::file_fingerprint(f)?,
        (None, Some(d)) => format!(
            "dir:{}:{}",
            std::path::absolute(d).unwrap_or_default().display(),
            mtime_ns(d)
        ),
        _ => format!("jamendo:{}", std::env::var("JAMENDO_CLIENT_ID").is_ok()),
    };
    let fp_mu = workdir::fingerprint(&[&music_fp, &vibe.name, &format!("{target:.3}"), "music-2"]);
    let music: MusicChoice = run.stage(
        "music",
        &Artifact::new(&work, "music.json", fp_mu.clone()),
        |stg| {
            let mut req = music::MusicRequest::new(
                &vibe.name,
                vibe.music_tags.clone(),
                vibe.tempo_bpm,
                target + 8.0,
            );
            // The built-in bed builds to its peak where act 3 will roughly start.
            req.peak_at_s = Some(target * 0.62);
            req.file = opts.music.clone();
            req.dir = opts.music_dir.clone();
            req.cache_dir = crate::demo::cache_dir().join("music");
            req.work_dir = work.clone();
            let (track, skipped) = music::choose_music(&req, &mut |m| stg.message(m))?;
            stg.message("beat tracking");
            let mono = music::decode_mono(&track.path, music::ANALYSIS_SR)?;
            let grid = music::track_beats(&mono, music::ANALYSIS_SR, Some(vibe.tempo_bpm));
            let msg = format!(
                "{} ({}), {:.1} BPM, {} beats",
                track.title,
                track.source,
                grid.bpm,
                grid.beats.len()
            );
            Ok((
                MusicChoice {
                    track,
                    grid,
                    skipped,
                },
                msg,
            ))
        },
    )?;

    let title = opts.title.clone().unwrap_or_else(|| default_title(film));
    let fp_ed = workdir::fingerprint(&[
        &fp_st,
        &vibe.name,
        &format!("{target:.3}/{:.4}", opts.spoiler_line),
        &title,
        &opts.end_card,
        &std::path::absolute(film)
            .unwrap_or_default()
            .display()
            .to_string(),
        &fp_mu,
        &fp_sb,
        "assemble-6",
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
        let assemble = |length: f64| {
            edit::assemble(&EditInput {
                shots: &an.shots,
                flashes: &an.flashes,
                cues: &dialogue.cues,
                structure: &st,
                vibe: &vibe,
                runtime_s: p.duration_s,
                fps,
                target_length_s: length,
                spoiler_line_s: opts.spoiler_line * p.duration_s,
                title: title.clone(),
                end_card: opts.end_card.clone(),
                board: Some(&board),
            })
        };
        // Crossfade overlaps and short shots make the cut come out shorter
        // than asked; one corrected pass brings it back to length.
        let mut edit = assemble(target);
        let got = manifest::timeline_duration_s(&edit.timeline, fps);
        if got > 1.0 && got < target * 0.97 {
            edit = assemble(target * target / got);
        }
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
        fit_to_music(&mut m, &edit.rooms, &music);
        // Where the render can start decoding: in MP4/MOV at any clean key
        // frame (it seeks there itself, see `decode_from_s`); elsewhere only
        // at the key frames the container's index lists.
        let mov = p.format.split(',').any(|f| f == "mov");
        let starts = if mov {
            edit::in_points::exact_keys(&an.key_s, p.fps)
        } else {
            probe::seek_points(film, &an.key_s, 0.5 / p.fps.max(1.0)).unwrap_or_default()
        };
        let saved = edit::in_points::settle_in_points(
            &mut m.timeline,
            &edit.rooms,
            &starts,
            &an.flashes,
            p.fps,
        );
        if mov {
            edit::in_points::mark_decode_starts(&mut m.timeline, &starts, p.fps);
        }
        m.notes.push(format!(
            "in-points: clips slid within their rooms to just after key frames, {saved:.1} s less decoding before them in the render"
        ));
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
        // A voice-over line never plays over a split edit's sound tail.
        let tails = m.sound_tails();
        m.voice_over.retain(|v| {
            let end = v.at_s + v.source_out_s - v.source_in_s;
            !tails
                .iter()
                .any(|t| v.at_s < t.at_s + t.len_s && end > t.at_s)
        });
        edit::voiceover::match_loudness(&mut m.voice_over, &an.loudness_curve, &dialogue.cues);
        m.sfx = sound_effects(&m)?;
        if let Err(msg) = m.validate() {
            stg.abandon();
            return Err(Error::Other(format!(
                "internal: the assembled manifest is invalid: {msg}"
            )));
        }
        m.save(&manifest_path)?;
        // Continue with the manifest as a rerun will read it back, so both
        // runs fingerprint the render identically (JSON drops some float bits).
        let m = Manifest::load(&manifest_path)?;
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
    let (stages, rec) = render_stage(&manifest, &out, &work, ui, opts.fresh)?;
    run.stages.extend(stages);
    summary.stages = run.stages;
    summary.output = Some(out);
    summary.loudness_lufs = Some(rec.loudness_lufs);
    summary.true_peak_db = Some(rec.true_peak_db);
    Ok(summary)
}

/// What the structure analysers read: the spoken lines, and the film's own
/// intensity per second (loudness and cut rate, each scaled to 0..1).
pub fn structure_input(runtime_s: f64, an: &FilmAnalysis, d: &Dialogue) -> StructureInput {
    let cues = d
        .spoken()
        .map(|c| CueLite {
            start_s: c.start_s,
            end_s: c.end_s,
            text: c.text.clone(),
            speaker: c.speaker.clone(),
            intensity: c.emotion.intensity,
        })
        .collect();
    let secs = runtime_s.ceil().max(1.0) as usize;
    let lc = &an.loudness_curve;
    let mut loud = vec![f32::NEG_INFINITY; secs];
    if lc.step_s > 0.0 {
        for (i, db) in lc.db.iter().enumerate() {
            let s = ((i as f64 * lc.step_s) as usize).min(secs - 1);
            loud[s] = loud[s].max(*db);
        }
    }
    let mut cuts = vec![0f32; secs];
    for b in &an.boundaries {
        // Cut rate over a 10 s window around each second.
        let c = b.time_s as usize;
        for v in &mut cuts[c.saturating_sub(5).min(secs)..(c + 5).min(secs)] {
            *v += 1.0;
        }
    }
    let scale = |v: &[f32]| -> Vec<f32> {
        let mut f: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
        f.sort_by(|a, b| a.total_cmp(b));
        if f.len() < 2 {
            return vec![0.0; v.len()];
        }
        let (lo, hi) = (f[f.len() / 20], f[f.len() * 19 / 20]);
        v.iter()
            .map(|x| {
                if x.is_finite() && hi > lo {
                    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect()
    };
    let (l, c) = (scale(&loud), scale(&cuts));
    let w_loud = if an.has_audio { 0.6 } else { 0.0 };
    let intensity = (0..secs)
        .map(|s| {
            (
                s as f64 + 0.5,
                (w_loud * l[s] + (1.0 - w_loud) * c[s]).clamp(0.0, 1.0),
            )
        })
        .collect();
    StructureInput {
        runtime_s,
        cues,
        intensity,
    }
}

/// The music stage's artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MusicChoice {
    track: music::MusicTrack,
    grid: music::BeatGrid,
    skipped: Vec<String>,
}

/// Fits the track to the cut (entry on a downbeat, peak on the act-3
/// montage, end on a phrase), then moves every cut onto a beat.
fn fit_to_music(m: &mut Manifest, rooms: &[Option<edit::snap::Room>], mc: &MusicChoice) {
    use crate::manifest::{Act, BeatGridRef, MusicRef};
    let starts = m.item_starts();
    let act3 = m
        .timeline
        .iter()
        .zip(&starts)
        .find(|(i, _)| matches!(i.act(), Act::SilenceBeat | Act::Act3))
        .map(|(_, s)| *s)
        .unwrap_or(m.total_duration_s() * 0.6);
    let fit = music::fit_music(&mc.grid, m.total_duration_s() + 4.0, act3);
    let shift = fit.trailer_start_s - fit.music_in_s;
    // When the music enters late (so its peak meets act 3), the cuts before
    // it still keep its pulse: the grid is carried back to the trailer's start.
    let mut grid_beats = mc.grid.beats.clone();
    if let (Some(&first), true) = (grid_beats.first(), mc.grid.bpm > 0.0) {
        let period = 60.0 / mc.grid.bpm;
        let mut t = first - period;
        let mut before = Vec::new();
        while t + shift >= -period {
            before.push(t);
            t -= period;
        }
        before.reverse();
        before.extend(grid_beats);
        grid_beats = before;
    }
    let beats: Vec<f64> = grid_beats
        .iter()
        .map(|b| b + shift)
        .filter(|t| *t >= -1e-6)
        .collect();
    let rep = edit::snap::snap_timeline(&mut m.timeline, rooms, &beats, m.render.fps);
    m.notes.push(format!(
        "beat snapping: {} of {} cuts moved onto a beat of the music ({} as split edits)",
        rep.on_beat, rep.cuts, rep.split_edits
    ));
    let t = &mc.track;
    m.beat_grid = Some(BeatGridRef {
        bpm: mc.grid.bpm,
        beats: grid_beats,
        downbeats: mc.grid.downbeats.clone(),
    });
    m.music = Some(MusicRef {
        path: t.path.clone(),
        source: t.source.clone(),
        title: t.title.clone(),
        artist: t.artist.clone(),
        licence: t.licence.clone(),
        licence_url: t.licence_url.clone(),
        attribution: t.attribution.clone(),
        in_s: fit.music_in_s,
        out_s: fit.music_out_s.max(fit.music_in_s + 1.0),
        at_s: fit.trailer_start_s,
        reason: format!(
            "{}; enters at {:.2} s of the track (a downbeat), peak at {:.1} s of the trailer (act 3 at {:.1} s), ends: {} after {} bars",
            t.reason, fit.music_in_s, fit.peak_trailer_s, act3, fit.ending, fit.bars
        ),
        gain_db: -6.0,
    });
}

/// Places a synthesized effect on the cuts that deserve one: every act
/// boundary (a riser into a boom, or a long swell), every whoosh transition,
/// and every other cut of the act-3 montage (hits). Plain cuts inside acts 1
/// and 2 stay dry so the effects keep their weight.
fn sound_effects(m: &Manifest) -> Result<Vec<crate::manifest::SfxCue>> {
    use crate::manifest::{Act, SfxCue};
    use crate::media::sfx;
    let starts = m.item_starts();
    let total = m.total_duration_s();
    let dir = crate::demo::cache_dir().join("sfx");
    let mut out = Vec::new();
    let mut montage_cut = 0;
    for (i, (item, prev)) in m.timeline.iter().skip(1).zip(&m.timeline).enumerate() {
        let i = i + 1;
        let (t, _) = item.transition();
        let act = item.act();
        let boundary = act != prev.act();
        let whoosh = matches!(t, Transition::WhooshForward | Transition::WhooshBackward);
        let hit = act == Act::Act3 && !boundary && {
            montage_cut += 1;
            montage_cut % 2 == 0
        };
        if !(boundary || whoosh || hit) || act == Act::SilenceBeat {
            continue;
        }
        let spec = sfx::sfx_for(t, boundary);
        let at = starts[i] - spec.cut_offset_s();
        if at < 0.0 || at + 0.05 >= total {
            continue;
        }
        let path = sfx::render_sfx(&spec, &dir)?;
        out.push(SfxCue {
            kind: format!("{:?}", spec.kind).to_lowercase(),
            path,
            at_s: at,
            duration_s: spec.duration_s,
            gain_db: if boundary { -6.0 } else { -10.0 },
        });
    }
    Ok(out)
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
    out: &Path,
    work: &Path,
    ui: &Ui,
    fresh: bool,
) -> Result<(Vec<StageReport>, RenderRecord)> {
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
                    r,
                ));
            }
        }
    }
    let film = &m.film.path;
    if !film.is_file() {
        return Err(Error::input(film, "the manifest's film is missing"));
    }
    let total = m.total_duration_s();
    let st = ui.stage("render", Some(total));
    let res = render::render(m, film, out, &mut |phase, t| {
        st.message(phase);
        st.set(t.min(total));
    });
    let rep = match res {
        Ok(r) => r,
        Err(e) => {
            st.abandon();
            return Err(e);
        }
    };
    let (lufs, tp) = (rep.loudness_lufs, rep.true_peak_db);
    let secs = st.finish(&format!(
        "{} ({:.1} s, {lufs:.1} LUFS, true peak {tp:.1} dBTP; sound {:.1} s beside the picture, {:.1} s in all)",
        out.display(),
        total,
        rep.sound_s,
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
        rec,
    ))
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
    let (stages, rec) = render_stage(&m, &out, &work, ui, false)?;
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
