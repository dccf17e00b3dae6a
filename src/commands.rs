//! One function per `cinecut` command: each turns its parsed arguments into
//! a call of the library and prints what it made (a line for people, or JSON
//! with `--json`). Returns the process's exit code.

use crate::cli::{Cli, Command, TrailerArgs};
use crate::error::{Error, Result};
use crate::options::{FilmOptions, TrailerOptions};
use crate::pipeline::{self, Summary};
use crate::ui::Ui;
use std::path::{Path, PathBuf};

/// Runs the command; Ok holds the exit code (0, or 3 for `check`'s broken rules).
pub fn run(cli: Cli, ui: &Ui) -> Result<i32> {
    match cli.command {
        Command::Trailer(a) => trailer(&a, ui),
        Command::Render { manifest, output } => {
            report(&pipeline::run_render(&manifest, output, ui)?, ui)
        }
        Command::Vibes => vibes(ui),
        Command::Doctor => crate::doctor::run(ui).map(|()| 0),
        Command::Demo {
            vibe,
            output,
            length,
            fresh,
        } => demo(vibe, output, length, fresh, ui),
        Command::Check { trailer, manifest } => {
            let ok = crate::check::run(&trailer, &manifest, ui.json)?;
            Ok(if ok { 0 } else { 3 })
        }
        Command::Structure { film, subs, models } => {
            structure(&FilmOptions::for_structure(film, subs, &models), ui)
        }
        Command::Beats { music, vibe } => beats(&music, vibe.as_deref(), ui),
        Command::Shots { film } => shots(&film, ui),
        Command::Report {
            manifest,
            output,
            trailer,
        } => report_page(
            &crate::report::ReportRequest {
                manifest,
                output,
                trailer,
            },
            ui,
        ),
        Command::Export(a) => export(&a, ui),
    }
}

/// `cinecut export`: the manifest in each format asked for.
fn export(a: &crate::cli::ExportArgs, ui: &Ui) -> Result<i32> {
    let req = crate::export::Request {
        manifest: a.manifest.clone(),
        formats: crate::export::Format::parse_list(&a.to)?,
        output: a.output.clone(),
        base: None,
        media_root: a.media_root.clone(),
        start_tc: Some(a.start_tc.clone()),
    };
    print_export(&crate::export::export(&req)?, ui)
}

/// What an export wrote: a line per file, or the JSON report.
fn print_export(r: &crate::export::Report, ui: &Ui) -> Result<i32> {
    for w in &r.warnings {
        ui.warn(w);
    }
    if ui.json {
        return print_json(r);
    }
    if !ui.quiet {
        for w in &r.written {
            println!(
                "{} — {} frames at {} fps",
                w.path.display(),
                r.frames,
                r.frame_rate
            );
        }
        for c in &r.cards {
            println!("{} (card still)", c.display());
        }
    }
    Ok(0)
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<i32> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Internal(e.to_string()))?;
    println!("{s}");
    Ok(0)
}

/// The warnings, then the trailer's line (or the JSON summary).
fn report(summary: &Summary, ui: &Ui) -> Result<i32> {
    for w in &summary.warnings {
        ui.warn(w);
    }
    if ui.json {
        return print_json(summary);
    }
    if let (Some(out), false) = (&summary.output, ui.quiet) {
        println!(
            "{} — {} clips, {:.1} s, {:.1} LUFS",
            out.display(),
            summary.clips,
            summary.duration_s,
            summary.loudness_lufs.unwrap_or(f64::NAN)
        );
    }
    Ok(0)
}

fn trailer(a: &TrailerArgs, ui: &Ui) -> Result<i32> {
    let formats = crate::export::Format::parse_list(&a.export)?;
    let opts = TrailerOptions::try_from(a)?;
    let summary = pipeline::run_trailer(&opts, ui)?;
    // The exports and the report follow the render (no exports after --review;
    // the report then has no trailer to measure).
    let exported = match (
        &summary.output,
        formats.is_empty() || summary.review_pending,
    ) {
        (Some(out), false) => Some(crate::export::export(&crate::export::Request {
            manifest: summary.manifest.clone(),
            formats,
            // Beside the trailer, named after it: trailer.otio, trailer.fcpxml…
            base: Some(out.with_extension("")),
            ..Default::default()
        })?),
        _ => None,
    };
    let page = match a.report {
        true => Some(crate::report::write_report(
            &crate::report::ReportRequest {
                manifest: summary.manifest.clone(),
                output: Some(crate::report::beside_trailer(&opts.out)),
                trailer: summary.output.clone(),
            },
        )?),
        false => None,
    };
    if exported.is_none() && page.is_none() {
        return report(&summary, ui);
    }
    if ui.json {
        for w in &summary.warnings {
            ui.warn(w);
        }
        let mut v = serde_json::to_value(&summary).map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(e) = &exported {
            v["export"] = serde_json::to_value(e).map_err(|e| Error::Internal(e.to_string()))?;
        }
        if let Some(w) = &page {
            v["report"] = serde_json::to_value(w).map_err(|e| Error::Internal(e.to_string()))?;
        }
        return print_json(&v);
    }
    report(&summary, ui)?;
    if let Some(e) = &exported {
        print_export(e, ui)?;
    }
    if let Some(w) = &page {
        print_written(w, ui);
    }
    Ok(0)
}

/// `cinecut report`: the page and its contact sheet.
fn report_page(req: &crate::report::ReportRequest, ui: &Ui) -> Result<i32> {
    let written = crate::report::write_report(req)?;
    if ui.json {
        return print_json(&written);
    }
    print_written(&written, ui);
    Ok(0)
}

/// The report's files, and each section it could not fill.
fn print_written(w: &crate::report::Written, ui: &Ui) {
    for g in &w.gaps {
        ui.warn(&format!("report: {} not shown: {}", g.section, g.why));
    }
    if ui.quiet {
        return;
    }
    println!("{} — {} clips", w.html.display(), w.clips);
    if let Some(s) = &w.sheet {
        println!(
            "{} — {} tiles, {}×{}",
            s.path.display(),
            s.tiles,
            s.columns,
            s.rows
        );
    }
}

fn demo(
    vibe: String,
    output: Option<PathBuf>,
    length: Option<f64>,
    fresh: bool,
    ui: &Ui,
) -> Result<i32> {
    let args = TrailerArgs {
        film: crate::demo::fetch_bbb(ui)?,
        vibe,
        length,
        output: Some(output.unwrap_or_else(|| "big_buck_bunny_trailer.mp4".into())),
        fresh,
        spoiler_line: 0.85,
        title: Some("BIG BUCK BUNNY".into()),
        end_card: "COMING SOON".into(),
        ..Default::default()
    };
    trailer(&args, ui)
}

fn vibes(ui: &Ui) -> Result<i32> {
    let all = crate::vibes::all();
    if ui.json {
        return print_json(&all);
    }
    for v in all {
        println!(
            "{:<12} cuts {:.1}/{:.1}/{:.1} s  clips {}-{}  dialogue {:.0}%  {} + {}  {:.0} LUFS  {:.0} BPM  {:.0} s\n{:<12} {}",
            v.name, v.act_cut_s[0], v.act_cut_s[1], v.act_cut_s[2], v.clips[0], v.clips[1],
            v.dialogue_ratio * 100.0, v.transitions[0].name(), v.transitions[1].name(),
            v.loudness_lufs, v.tempo_bpm, v.length_s, "", v.description
        );
    }
    Ok(0)
}

fn structure(opts: &FilmOptions, ui: &Ui) -> Result<i32> {
    let s = pipeline::run_structure(opts, ui)?;
    if ui.json {
        return print_json(&s);
    }
    println!(
        "BEGIN {:.1} s  ESCALATION {:.1} s  CLIMAX {:.1} s  ({})\n{}",
        s.begin_t, s.escalation_t, s.climax_t, s.source, s.reasoning
    );
    if let Some(r) = &s.fallback_reason {
        println!("built-in analyser used: {r}");
    }
    Ok(0)
}

fn beats(music: &Path, vibe: Option<&str>, ui: &Ui) -> Result<i32> {
    use crate::music;
    let prior = match vibe {
        Some(v) => Some(crate::vibes::get(v)?.tempo_bpm),
        None => None,
    };
    music::probe_audio(music)?;
    let st = ui.stage("beats", None);
    let mono = music::decode_mono(music, music::ANALYSIS_SR)?;
    let g = music::track_beats(&mono, music::ANALYSIS_SR, prior);
    st.finish(&format!("{:.1} BPM, {} beats", g.bpm, g.beats.len()));
    if ui.json {
        return print_json(&g);
    }
    println!(
        "{:.2} BPM, {}/4, {} beats, {} downbeats, peak at {:.2} s",
        g.bpm,
        g.meter,
        g.beats.len(),
        g.downbeats.len(),
        g.peak_s
    );
    Ok(0)
}

fn shots(film: &Path, ui: &Ui) -> Result<i32> {
    use crate::media::probe;
    // The analysis starts on what the film's header says while the probe
    // runs; a film whose header says too little (MPEG-TS) or that cannot be
    // read is probed first, for its error.
    let (first, probed) = match probe::probe_header(film) {
        Some(guess) => (guess, false),
        None => (probe::probe(film)?, true),
    };
    let st = ui.stage("analyse", Some(first.duration_s));
    let opts = Default::default();
    let a = if probed {
        crate::analysis::analyse_probed(film, &first, &opts, &mut |t| st.set(t))
            .map_err(Error::from)
    } else {
        crate::analysis::analyse_guessed(film, &first, &opts, &mut |t| st.set(t))
            .map_err(Error::from)
    };
    let a = match a {
        Ok(a) => {
            st.finish(&format!("{} shots", a.shots.len()));
            a
        }
        Err(e) => {
            st.abandon();
            return Err(e);
        }
    };
    for w in &a.warnings {
        ui.warn(w);
    }
    if ui.json {
        return print_json(&a);
    }
    for b in &a.boundaries {
        println!(
            "{:>10.3} s  frame {:>7}  {}",
            b.time_s,
            b.frame,
            format!("{:?}", b.kind).to_lowercase()
        );
    }
    Ok(0)
}
