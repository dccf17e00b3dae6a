//! The subtitles stage: the given file, else a text subtitle stream inside
//! the film, read into clean cues with speakers and emotion (`dialogue.json`).

use crate::error::Result;
use crate::pipeline::{Context, Stage};
use crate::subtitles::{self, Dialogue};

pub struct Subtitles;

impl Stage for Subtitles {
    type Output = Dialogue;

    fn name(&self) -> &'static str {
        "subtitles"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        let film = cx.film();
        Ok(vec![match &film.opts.subs {
            Some(s) => crate::workdir::file_fingerprint(s)?,
            None => film.fingerprint.clone(),
        }])
    }

    fn run(&self, cx: &Context, _bar: &crate::ui::Stage) -> Result<(Dialogue, String)> {
        let film = cx.film();
        let p = &film.probe;
        let d = match &film.opts.subs {
            Some(s) => subtitles::load_subtitles(s, Some(p.fps), Some(p.duration_s))?,
            None if !p.subtitle_streams.is_empty() => {
                let dir = cx.work.join("subs");
                match subtitles::load_embedded(
                    &film.opts.film,
                    &dir,
                    Some(p.fps),
                    Some(p.duration_s),
                ) {
                    Ok(d) => d,
                    Err(e) => {
                        let mut d = no_dialogue();
                        d.warnings.push(format!("embedded subtitles not used: {e}"));
                        d
                    }
                }
            }
            None => no_dialogue(),
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
    }

    fn keep(&self, cx: &mut Context, d: Dialogue) {
        cx.warnings.extend(d.warnings.iter().cloned());
        let film = cx.film();
        if film.probe.duration_s < 20.0 {
            let w = format!(
                "{}: the film is only {:.1} s long; the trailer will be short",
                film.opts.film.display(),
                film.probe.duration_s
            );
            cx.warn(w);
        }
        cx.dialogue = Some(d);
    }
}

/// A film without subtitles: the trailer is made from picture and sound.
fn no_dialogue() -> Dialogue {
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
