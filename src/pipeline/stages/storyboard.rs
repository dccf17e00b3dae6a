//! The storyboard stage: what each shot shows (a vision model when one is
//! configured, else described from what was measured, phrased by the text
//! LLM when one is configured), its zone and its money-shot score
//! (`storyboard.json`).

use crate::analysis;
use crate::error::Result;
use crate::pipeline::{Context, Stage};
use crate::story::board::{self, Storyboard};
use crate::story::describe::SceneDescription;
use crate::story::zones::Zone;

pub struct StoryboardStage;

impl Stage for StoryboardStage {
    type Output = Storyboard;

    fn name(&self) -> &'static str {
        "storyboard"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        Ok(vec![
            cx.cut().opts.vibe.name.clone(),
            cx.film().opts.models.vision_key(),
        ])
    }

    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(Storyboard, String)> {
        let descs = describe(cx, bar)?;
        // Only what a model saw is worth embedding (see board::build).
        let seen = descs.iter().any(|d| !d.source.starts_with("measured"));
        let emb = match seen.then(crate::embed::Embedder::load_default) {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                cx.stage_notes
                    .borrow_mut()
                    .push(format!("zones placed by position only: {e}"));
                None
            }
            None => None,
        };
        bar.message("zones and scores");
        let an = cx.analysis();
        let vibe = &cx.cut().opts.vibe.name;
        let b = board::build(
            an,
            &cx.dialogue().cues,
            cx.structure(),
            vibe,
            &descs,
            emb.as_ref(),
        )?;
        let zones = |z: Zone| b.cards.iter().filter(|c| c.zone == z).count();
        let msg = format!(
            "{} shots described; zones {} / {} / {}",
            b.cards.len(),
            zones(Zone::Beginning),
            zones(Zone::Escalation),
            zones(Zone::Climax)
        );
        Ok((b, msg))
    }

    fn keep(&self, cx: &mut Context, b: Storyboard) {
        let notes = std::mem::take(&mut *cx.stage_notes.borrow_mut());
        cx.warnings.extend(notes);
        cx.storyboard = Some(b);
    }
}

/// A description of every keyframe: from the vision model, else phrased by
/// the text LLM, else from what the analysis measured.
fn describe(cx: &Context, bar: &crate::ui::Stage) -> Result<Vec<SceneDescription>> {
    let film = cx.film();
    let models = &film.opts.models;
    let kdir = cx.work.join("keyframes");
    let mut kfs = board::keyframes(cx.analysis(), &cx.dialogue().cues, &kdir);
    let vision = models.start_vision(cx.ui)?;
    if vision.client.is_some() {
        bar.message("extracting keyframes");
        let times: Vec<f64> = kfs.iter().map(|k| k.time_s).collect();
        let paths = analysis::extract_keyframes(&film.opts.film, &times, &kdir, 672)?;
        for (k, p) in kfs.iter_mut().zip(paths) {
            k.path = p;
        }
    }
    // Without a vision model, the text LLM (when one is configured)
    // phrases what was measured around each keyframe.
    let text = match vision.client {
        None => film.llm.client(cx.ui)?,
        Some(_) => None,
    };
    if text.is_some() {
        bar.message("phrasing the shots with the text LLM");
    }
    Ok(crate::story::describe_scenes(
        &kfs,
        vision.client.as_ref(),
        text.as_ref(),
        models.vision_parallel.max(1),
        &cx.work.join("scenes.msgpack"),
        &film.fingerprint,
        &mut |d, t| bar.message(&format!("described {d}/{t}")),
    )?)
}
