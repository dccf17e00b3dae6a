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
    StructureInput {
        runtime_s,
        cues,
        intensity: crate::analysis::intensity::film_intensity(runtime_s, an),
    }
}
