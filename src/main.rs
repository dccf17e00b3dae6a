//! The `cinecut` binary: parse the command line, run, turn errors into one
//! clear message and an exit code (2 for usage and input errors, 1 otherwise).

use cinecut::cli::{Cli, Command};
use cinecut::error::{Error, Result};
use cinecut::pipeline::{self, TrailerOptions};
use cinecut::ui::Ui;
use clap::Parser;

fn main() {
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
                ..Default::default()
            };
            let s = pipeline::run_trailer(&opts, ui)?;
            report(&s, ui)
        }
        Command::Shots { film } => {
            let p = cinecut::media::probe::probe(&film)?;
            let st = ui.stage("analyse", Some(p.duration_s));
            let a = cinecut::analysis::analyse(
                &film,
                p.fps,
                p.duration_s,
                &Default::default(),
                &mut |t| st.set(t),
            );
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
            if ui.json {
                return print_json(&a);
            }
            for b in &a.boundaries {
                println!("{:>10.3} s  frame {:>7}  {}", b.time_s, b.frame, b.kind);
            }
            Ok(())
        }
    }
}
