//! The storyboard: every shot with what it shows (a scene description), the
//! story zone it belongs to (sentence embeddings of the description against
//! zone anchors, plus its place in the structure), its money-shot score from
//! the eight signals, and its beat type — the editor's raw material.

use super::describe::{Keyframe, MeasuredSignals, SceneDescription};
use super::score::{score_shots, ScoreWeights, ShotSignals};
use super::structure::Structure;
use super::zones::{match_zones, Anchors, Zone, ZoneInput};
use crate::analysis::FilmAnalysis;
use crate::embed::{EmbedError, Embedder};
use crate::subtitles::{Cue, CueKind};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One shot as the editor sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShotCard {
    pub shot_index: usize,
    pub description: String,
    pub description_source: String,
    pub zone: Zone,
    /// Cosine similarity to the BEGINNING / ESCALATION / CLIMAX anchors.
    pub similarity: [f32; 3],
    pub score: f32,
    pub beat_type: String,
    pub reasoning: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Storyboard {
    pub cards: Vec<ShotCard>,
}

/// The spoken lines overlapping [a, b], joined.
fn dialogue_in(cues: &[Cue], a: f64, b: f64) -> (String, f32) {
    let lines: Vec<&Cue> = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue && c.start_s < b && c.end_s > a)
        .collect();
    let text = lines
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let peak = lines
        .iter()
        .map(|c| c.emotion.intensity)
        .fold(0.0, f32::max);
    (text, peak)
}

/// What the describer gets for each shot: its keyframe (a JPEG under
/// `keyframe_dir`, extracted only when a vision model will look at it) and
/// the signals measured on it.
pub fn keyframes(an: &FilmAnalysis, cues: &[Cue], keyframe_dir: &Path) -> Vec<Keyframe> {
    an.shots
        .iter()
        .map(|s| {
            let (text, _) = dialogue_in(cues, s.start_s, s.end_s);
            Keyframe {
                shot_index: s.index,
                time_s: s.keyframe_s,
                path: keyframe_dir.join(format!("shot{:05}.jpg", s.index)),
                measured: MeasuredSignals {
                    brightness: s.signals.brightness as f32,
                    saturation: s.signals.saturation as f32,
                    motion: s.signals.motion as f32,
                    faces: (s.signals.faces > 0.5) as u32,
                    loudness: s.signals.loudness as f32,
                    dominant_colour: String::new(),
                    dialogue_around: text.chars().take(300).collect(),
                },
            }
        })
        .collect()
}

fn sentence(d: &SceneDescription) -> String {
    format!(
        "{}. {}. {}. {}.",
        d.visual_content, d.action, d.mood, d.setting
    )
}

/// Zones and scores for every shot. `emb` None (no embedding model
/// installed), or descriptions without a model behind them, place shots by
/// position alone.
pub fn build(
    an: &FilmAnalysis,
    cues: &[Cue],
    st: &Structure,
    vibe: &str,
    descriptions: &[SceneDescription],
    emb: Option<&Embedder>,
) -> Result<Storyboard, EmbedError> {
    let runtime = an.duration_s.max(1e-3);
    let anchors = Anchors {
        begin_t: st.begin_t,
        escalation_t: st.escalation_t,
        climax_t: st.climax_t,
        runtime_s: runtime,
    };
    // Descriptions made from measurements alone ("a dark, muted scene...")
    // say nothing about the story; matching them to zone anchors put every
    // shot of Big Buck Bunny in BEGINNING. Only what a model saw is matched,
    // otherwise the structure's position decides the zone.
    let semantic = descriptions
        .iter()
        .any(|d| !d.source.starts_with("measured"));
    let emb = emb.filter(|_| semantic);
    let inputs: Vec<ZoneInput> = an
        .shots
        .iter()
        .zip(descriptions)
        .map(|(s, d)| ZoneInput {
            shot_index: s.index,
            mid_s: (s.start_s + s.end_s) / 2.0,
            description: if emb.is_some() {
                sentence(d)
            } else {
                String::new()
            },
        })
        .collect();
    let zones = match emb {
        Some(e) => match_zones(e, vibe, &inputs, &anchors)?,
        None => super::zones::match_zones_with_vectors(
            &[Vec::new(), Vec::new(), Vec::new()],
            &inputs,
            &vec![Vec::new(); inputs.len()],
            &anchors,
        ),
    };
    let signals: Vec<ShotSignals> = an
        .shots
        .iter()
        .zip(descriptions)
        .map(|(s, d)| {
            let (text, peak) = dialogue_in(cues, s.start_s, s.end_s);
            ShotSignals {
                motion: s.signals.motion as f32,
                contrast: s.signals.contrast as f32,
                uniqueness: s.signals.uniqueness as f32,
                emotion: peak,
                faces: s.signals.faces as f32,
                vision_confidence: d.confidence,
                saturation: s.signals.saturation as f32,
                position: (((s.start_s + s.end_s) / 2.0) / runtime) as f32,
                has_dialogue: !text.is_empty(),
                dialogue_intensity: peak,
                loudness: s.signals.loudness as f32,
            }
        })
        .collect();
    let scores = score_shots(&signals, &zones, &anchors, &ScoreWeights::default());
    let cards = an
        .shots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = &descriptions[i];
            ShotCard {
                shot_index: s.index,
                description: sentence(d),
                description_source: d.source.clone(),
                zone: zones[i].zone,
                similarity: zones[i].similarity,
                score: scores[i].score,
                beat_type: scores[i].beat_type.label().to_string(),
                reasoning: format!("{}; {}", scores[i].reasoning, zones[i].reason),
            }
        })
        .collect();
    Ok(Storyboard { cards })
}
