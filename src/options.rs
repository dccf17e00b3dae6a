//! What the user asked for, checked once: `TrailerOptions::try_from(&TrailerArgs)`
//! turns the command line into validated options (a known vibe, lengths and
//! fractions in range, default output and work folder), and `check_files`
//! checks what needs the file system (the film reads, the output can be
//! written and does not overwrite the film, the subtitles exist), in that
//! order, before any work starts.

use crate::cli::{ModelArgs, TrailerArgs};
use crate::error::{Error, Result};
use crate::media::probe::{self, Probe};
use crate::models::Models;
use crate::vibes::{self, Vibe};
use crate::workdir;
use std::path::{Path, PathBuf};

/// What the analysis half of the pipeline reads (all `cinecut structure` needs).
#[derive(Debug, Clone)]
pub struct FilmOptions {
    pub film: PathBuf,
    pub subs: Option<PathBuf>,
    /// The work folder, where every stage keeps its checkpoint.
    pub workdir: PathBuf,
    /// Redo every stage, ignoring checkpoints.
    pub fresh: bool,
    pub models: Models,
}

/// Everything `cinecut trailer` was asked, validated.
#[derive(Debug, Clone)]
pub struct TrailerOptions {
    pub film: FilmOptions,
    pub vibe: Vibe,
    pub music: Option<PathBuf>,
    pub music_dir: Option<PathBuf>,
    /// The length asked for; None: the vibe's.
    pub length_s: Option<f64>,
    pub out: PathBuf,
    pub review: bool,
    /// No footage after this fraction of the film.
    pub spoiler_line: f64,
    pub title: String,
    /// End card text (empty: none).
    pub end_card: String,
}

impl TryFrom<&TrailerArgs> for TrailerOptions {
    type Error = Error;

    fn try_from(a: &TrailerArgs) -> Result<Self> {
        let vibe = vibes::get(&a.vibe)?;
        if !(0.3..=1.0).contains(&a.spoiler_line) {
            return Err(Error::Usage(format!(
                "--spoiler-line {} must be between 0.3 and 1.0",
                a.spoiler_line
            )));
        }
        if let Some(l) = a.length {
            if !(10.0..=600.0).contains(&l) {
                return Err(Error::Usage(format!(
                    "--length {l} must be between 10 and 600 seconds"
                )));
            }
        }
        let out = a.output.clone().unwrap_or_else(|| default_output(&a.film));
        let workdir = a.workdir.clone().unwrap_or_else(|| {
            workdir::parent_dir(&out).join(format!("{}.cinecut", stem(&a.film)))
        });
        Ok(TrailerOptions {
            film: FilmOptions {
                film: a.film.clone(),
                subs: a.subs.clone(),
                workdir,
                fresh: a.fresh,
                models: a.models.to_models(),
            },
            vibe,
            music: a.music.clone(),
            music_dir: a.music_dir.clone(),
            length_s: a.length,
            out,
            review: a.review,
            spoiler_line: a.spoiler_line,
            title: a.title.clone().unwrap_or_else(|| default_title(&a.film)),
            end_card: a.end_card.clone(),
        })
    }
}

impl TrailerOptions {
    /// Checks the film, the output and the subtitles; returns the film's probe.
    pub fn check_files(&self) -> Result<Probe> {
        let p = probe::probe(&self.film.film)?;
        // With --review nothing is rendered yet; `cinecut render` checks the output.
        if !self.review {
            check_output(&self.out, &self.film.film)?;
        }
        self.film.check_subs_and_workdir()?;
        Ok(p)
    }
}

impl FilmOptions {
    /// The options of `cinecut structure`: its work folder is `<film stem>.cinecut` here.
    pub fn for_structure(film: PathBuf, subs: Option<PathBuf>, models: &ModelArgs) -> Self {
        let workdir = PathBuf::from(format!("{}.cinecut", stem(&film)));
        FilmOptions {
            film,
            subs,
            workdir,
            fresh: false,
            models: models.to_models(),
        }
    }

    /// Checks the film and the subtitles; returns the film's probe.
    pub fn check_files(&self) -> Result<Probe> {
        let p = probe::probe(&self.film)?;
        self.check_subs_and_workdir()?;
        Ok(p)
    }

    fn check_subs_and_workdir(&self) -> Result<()> {
        if let Some(s) = &self.subs {
            if !s.is_file() {
                return Err(Error::input(s, "no such subtitle file"));
            }
        }
        std::fs::create_dir_all(&self.workdir)
            .map_err(|e| Error::input(&self.workdir, format!("cannot create the work folder: {e}")))
    }
}

/// The film's file name without its extension ("film" when it has none).
pub fn stem(film: &Path) -> String {
    film.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into())
}

/// `<film stem>_trailer.mp4` in the current folder.
pub fn default_output(film: &Path) -> PathBuf {
    PathBuf::from(format!("{}_trailer.mp4", stem(film)))
}

/// The title card's text from the file name: words in capitals.
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

pub use crate::workdir::same_file;

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> TrailerArgs {
        let mut v = vec![
            "cinecut",
            "trailer",
            "My_Film.final.mkv",
            "--vibe",
            "action",
        ];
        v.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(v).command {
            crate::cli::Command::Trailer(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn defaults_come_from_the_film_name() {
        let o = TrailerOptions::try_from(&args(&[])).unwrap();
        assert_eq!(o.out, PathBuf::from("My_Film.final_trailer.mp4"));
        assert_eq!(o.film.workdir, PathBuf::from("./My_Film.final.cinecut"));
        assert_eq!(o.title, "MY FILM FINAL");
        assert_eq!(o.vibe.name, "action");
    }

    #[test]
    fn out_of_range_values_are_usage_errors() {
        for bad in [
            &["--spoiler-line", "0.2"][..],
            &["--length", "5"],
            &["--length", "601"],
        ] {
            let e = TrailerOptions::try_from(&args(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
            assert!(e.to_string().starts_with(bad[0]), "{e}");
        }
        let mut a = args(&[]);
        a.vibe = "nope".into();
        assert_eq!(TrailerOptions::try_from(&a).unwrap_err().exit_code(), 2);
    }
}
