//! The analysis stage: shots, fades, key frames and per-shot signals from
//! one decoding pass over the film (`analysis.json`).

use crate::analysis::{self, FilmAnalysis};
use crate::error::Result;
use crate::pipeline::{Context, Stage};

pub struct Analyse;

impl Stage for Analyse {
    type Output = FilmAnalysis;

    fn name(&self) -> &'static str {
        "analyse"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        Ok(vec![cx.film().fingerprint.clone()])
    }

    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(FilmAnalysis, String)> {
        let film = cx.film();
        let p = &film.probe;
        let decode = cx.ui.stage("decode", Some(p.duration_s));
        let a = analysis::analyse_probed(&film.opts.film, p, &Default::default(), &mut |t| {
            decode.set(t)
        });
        decode.abandon();
        let a = a?;
        bar.message("");
        let s = format!("{} shots, {} cuts", a.shots.len(), a.boundaries.len());
        Ok((a, s))
    }

    fn keep(&self, cx: &mut Context, a: FilmAnalysis) {
        // Damaged stretches of the film (decoder errors, gaps) are reported
        // on every run, not only the one that found them.
        for w in &a.warnings {
            cx.ui.warn(w);
            cx.warn(w.clone());
        }
        cx.analysis = Some(a);
    }
}
