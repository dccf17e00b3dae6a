//! The structure stage: the story's anchors (BEGIN / ESCALATION / CLIMAX)
//! from the text LLM when one is configured, else (or when its answer fails
//! validation) from the built-in analyser over dialogue and intensity
//! (`structure.json`).

use crate::analysis::FilmAnalysis;
use crate::error::Result;
use crate::pipeline::{Context, Stage};
use crate::story::structure::{self, CueLite, Structure, StructureInput};
use crate::subtitles::Dialogue;

pub struct StructureStage;

impl Stage for StructureStage {
    type Output = Structure;

    fn name(&self) -> &'static str {
        "structure"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        Ok(vec![cx.film().opts.models.llm_key()])
    }

    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(Structure, String)> {
        let film = cx.film();
        let input = structure_input(film.probe.duration_s, cx.analysis(), cx.dialogue());
        let client = film.llm.client(cx.ui)?;
        let s = structure::find_structure(client.as_ref(), &input, &mut |d, t| {
            bar.message(&format!("LLM request {d}/{t}"))
        });
        let msg = format!(
            "begin {:.0} s, escalation {:.0} s, climax {:.0} s ({})",
            s.begin_t, s.escalation_t, s.climax_t, s.source
        );
        Ok((s, msg))
    }

    fn keep(&self, cx: &mut Context, s: Structure) {
        let models = &cx.film().opts.models;
        let asked = models.llm.is_some() || models.llm_model.is_some();
        if let (Some(r), true) = (&s.fallback_reason, asked) {
            let w = format!("structure: the LLM's answer was not used ({r}); the built-in analyser placed the anchors");
            cx.warn(w);
        }
        cx.structure = Some(s);
    }
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
    let (l, c) = (
        scale01(&loudest_per_second(an, secs)),
        scale01(&cut_rate(an, secs)),
    );
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

/// The loudest moment of each second of the film, in dB.
fn loudest_per_second(an: &FilmAnalysis, secs: usize) -> Vec<f32> {
    let lc = &an.loudness_curve;
    let mut loud = vec![f32::NEG_INFINITY; secs];
    if lc.step_s > 0.0 {
        for (i, db) in lc.db.iter().enumerate() {
            let s = ((i as f64 * lc.step_s) as usize).min(secs - 1);
            loud[s] = loud[s].max(*db);
        }
    }
    loud
}

/// Cuts within a 10 s window around each second.
fn cut_rate(an: &FilmAnalysis, secs: usize) -> Vec<f32> {
    let mut cuts = vec![0f32; secs];
    for b in &an.boundaries {
        let c = b.time_s as usize;
        for v in &mut cuts[c.saturating_sub(5).min(secs)..(c + 5).min(secs)] {
            *v += 1.0;
        }
    }
    cuts
}

/// Scales to 0..1 between the 5th and 95th percentiles of the finite values.
fn scale01(v: &[f32]) -> Vec<f32> {
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
}
