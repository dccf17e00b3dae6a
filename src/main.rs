//! The `cinecut` binary: parse the command line, run, turn errors into one
//! clear message and an exit code (2 for usage and input errors, 1 otherwise).

use cinecut::cli::{Cli, Command};
use cinecut::error::{Error, Result};
use cinecut::pipeline::{self, TrailerOptions};
use cinecut::ui::Ui;
use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes
    // away (`cinecut check … | head`) instead of panicking on a broken pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, cli.json);
    if let Err(e) = run(cli, &ui) {
        eprintln!("{} {e}", console::style("error:").red().bold());
        std::process::exit(e.exit_code());
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Other(e.to_string()))?;
    println!("{s}");
    Ok(())
}

fn report(summary: &pipeline::Summary, ui: &Ui) -> Result<()> {
    for w in &summary.warnings {
        ui.warn(w);
    }
    if ui.json {
        return print_json(summary);
    }
    if let Some(out) = &summary.output {
        if !ui.quiet {
            println!(
                "{} — {} clips, {:.1} s, {:.1} LUFS",
                out.display(),
                summary.clips,
                summary.duration_s,
                summary.loudness_lufs.unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}

fn run(cli: Cli, ui: &Ui) -> Result<()> {
    match cli.command {
        Command::Trailer(a) => {
            let opts = TrailerOptions {
                film: a.film,
                subs: a.subs,
                vibe: a.vibe,
                music: a.music,
                length_s: a.length,
                out: a.output,
                workdir: a.workdir,
                review: a.review,
                fresh: a.fresh,
                spoiler_line: a.spoiler_line,
                title: a.title,
                end_card: a.end_card,
                music_dir: a.music_dir,
                models: a.models.to_models(),
            };
            let s = pipeline::run_trailer(&opts, ui)?;
            report(&s, ui)
        }
        Command::Render { manifest, output } => {
            let s = pipeline::run_render(&manifest, output, ui)?;
            report(&s, ui)
        }
        Command::Vibes => {
            let all = cinecut::vibes::all();
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
            Ok(())
        }
        Command::Doctor => cinecut::doctor::run(ui),
        Command::Demo {
            vibe,
            output,
            length,
            fresh,
        } => {
            let film = cinecut::demo::fetch_bbb(ui)?;
            let opts = TrailerOptions {
                film,
                vibe,
                length_s: length,
                out: Some(output.unwrap_or_else(|| "big_buck_bunny_trailer.mp4".into())),
                workdir: None,
                fresh,
                spoiler_line: 0.85,
                title: Some("BIG BUCK BUNNY".into()),
                end_card: "COMING SOON".into(),
                ..Default::default()
            };
            let s = pipeline::run_trailer(&opts, ui)?;
            report(&s, ui)
        }
        Command::Check { trailer, manifest } => {
            if !cinecut::check::run(&trailer, &manifest, ui.json)? {
                std::process::exit(3);
            }
            Ok(())
        }
        Command::Structure { film, subs, models } => {
            let s = pipeline::run_structure(&film, subs.as_deref(), &models.to_models(), ui)?;
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
            Ok(())
        }
        Command::Beats { music, vibe } => {
            let prior = match vibe {
                Some(v) => Some(cinecut::vibes::get(&v)?.tempo_bpm),
                None => None,
            };
            cinecut::music::probe_audio(&music)?;
            let st = ui.stage("beats", None);
            let mono = cinecut::music::decode_mono(&music, cinecut::music::ANALYSIS_SR)?;
            let g = cinecut::music::track_beats(&mono, cinecut::music::ANALYSIS_SR, prior);
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
            Ok(())
        }
        Command::Shots { film } => {
            // The analysis starts on what the film's header says while the
            // probe runs; a film whose header says too little (MPEG-TS) or
            // that cannot be read is probed first, for its error.
            let (first, probed) = match cinecut::media::probe::probe_header(&film) {
                Some(guess) => (guess, false),
                None => (cinecut::media::probe::probe(&film)?, true),
            };
            let st = ui.stage("analyse", Some(first.duration_s));
            let opts = Default::default();
            let a = if probed {
                cinecut::analysis::analyse_probed(&film, &first, &opts, &mut |t| st.set(t))
                    .map_err(Error::from)
            } else {
                cinecut::analysis::analyse_guessed(&film, &first, &opts, &mut |t| st.set(t))
            };
            let a = match a {
                Ok(a) => {
                    st.finish(&format!("{} shots", a.shots.len()));
                    for w in &a.warnings {
                        ui.warn(w);
                    }
                    a
                }
                Err(e) => {
                    st.abandon();
                    return Err(e);
                }
            };
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
            Ok(())
        }
    }
}
