//! What the user sees while CineCut works: stage lines, progress bars, warnings.
//!
//! Progress goes to stderr (stdout stays clean for `--json`). Bars are drawn only
//! on a terminal, never with `--quiet` or `--json`; NO_COLOR turns colour off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub quiet: bool,
    pub json: bool,
}

impl Ui {
    pub fn new(quiet: bool, json: bool) -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            console::set_colors_enabled(false);
            console::set_colors_enabled_stderr(false);
        }
        Ui { quiet, json }
    }

    fn silent(&self) -> bool {
        self.quiet || self.json
    }

    /// A line of information on stderr (not with --quiet/--json).
    pub fn info(&self, msg: &str) {
        if !self.silent() {
            eprintln!("{msg}");
        }
    }

    /// Warnings are shown even with --json (on stderr), only --quiet hides them.
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{} {msg}", console::style("warning:").yellow().bold());
        }
    }

    /// Starts a stage; `total` is its length in the unit the stage reports
    /// progress in (seconds of film, items), when known.
    pub fn stage(&self, name: &str, total: Option<f64>) -> Stage {
        let bar = if self.silent() {
            ProgressBar::hidden()
        } else {
            let b = match total {
                Some(t) => ProgressBar::new((t.max(0.0) * 1000.0) as u64),
                None => ProgressBar::new_spinner(),
            };
            b.set_draw_target(ProgressDrawTarget::stderr());
            let style = if total.is_some() {
                ProgressStyle::with_template(
                    "{prefix:>10.cyan.bold} [{bar:30}] {percent:>3}% {msg} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ")
            } else {
                ProgressStyle::with_template("{prefix:>10.cyan.bold} {spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner())
            };
            b.set_style(style);
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(200));
            b
        };
        Stage {
            name: name.to_string(),
            bar,
            started: Instant::now(),
            ui: *self,
        }
    }
}

pub struct Stage {
    name: String,
    bar: ProgressBar,
    started: Instant,
    ui: Ui,
}

impl Stage {
    pub fn set(&self, done: f64) {
        self.bar.set_position((done.max(0.0) * 1000.0) as u64);
    }
    pub fn message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
    /// Ends the stage with a one-line summary; returns the seconds it took.
    pub fn finish(self, summary: &str) -> f64 {
        let secs = self.elapsed();
        self.bar.finish_and_clear();
        self.ui.info(&format!(
            "{} {:<10} {summary} ({secs:.1} s)",
            console::style("✓").green(),
            self.name
        ));
        secs
    }
    pub fn abandon(self) {
        self.bar.finish_and_clear();
    }
}
