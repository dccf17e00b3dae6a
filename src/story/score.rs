//! Money-shot score and beat type per shot: a weighted sum of eight normalised
//! signals (weights from the Python tool, overridable from config) and one of seven
//! beat types, each with a one-line reason that goes into the manifest.

use serde::{Deserialize, Serialize};

use super::zones::{Anchors, Zone, ZoneMatch};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScoreError {
    #[error("score weight {name} is {value}; weights must be finite and not negative")]
    BadWeight { name: &'static str, value: f32 },
    #[error("score weights are all zero; at least one signal must count")]
    AllZero,
}

/// Weights of the eight signals. Missing keys in a config keep these defaults; the
/// score divides by the sum, so weights need not add up to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreWeights {
    pub motion: f32,
    pub contrast: f32,
    pub uniqueness: f32,
    pub emotion: f32,
    pub faces: f32,
    pub vision_confidence: f32,
    pub saturation: f32,
    pub position: f32,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            motion: 0.20,
            contrast: 0.15,
            uniqueness: 0.15,
            emotion: 0.20,
            faces: 0.10,
            vision_confidence: 0.10,
            saturation: 0.05,
            position: 0.05,
        }
    }
}

impl ScoreWeights {
    fn named(&self) -> [(&'static str, f32); 8] {
        [
            ("motion", self.motion),
            ("contrast", self.contrast),
            ("uniqueness", self.uniqueness),
            ("emotion", self.emotion),
            ("faces", self.faces),
            ("vision_confidence", self.vision_confidence),
            ("saturation", self.saturation),
            ("position", self.position),
        ]
    }

    /// For config loading: names the first bad weight.
    pub fn validate(&self) -> Result<(), ScoreError> {
        for (name, value) in self.named() {
            if !value.is_finite() || value < 0.0 {
                return Err(ScoreError::BadWeight { name, value });
            }
        }
        if self.named().iter().all(|(_, w)| *w == 0.0) {
            return Err(ScoreError::AllZero);
        }
        Ok(())
    }

    /// Valid weights as given, otherwise the defaults: scoring never fails.
    fn usable(&self) -> ScoreWeights {
        if self.validate().is_ok() {
            *self
        } else {
            ScoreWeights::default()
        }
    }
}

/// What the analysis measured for one shot; `signals[i]` describes shot `i`.
/// The seven signal fields and `dialogue_intensity`/`loudness` are 0..1 normalised over
/// the film; `position` is the shot's midpoint as a fraction of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ShotSignals {
    pub motion: f32,
    pub contrast: f32,
    pub uniqueness: f32,
    pub emotion: f32,
    pub faces: f32,
    pub vision_confidence: f32,
    pub saturation: f32,
    pub position: f32,
    pub has_dialogue: bool,
    pub dialogue_intensity: f32,
    pub loudness: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeatType {
    IncitingIncident,
    CharacterIntroduction,
    EscalationBeat,
    RelationshipBeat,
    MoneyShot,
    ClimaxPeak,
    Breath,
}

impl BeatType {
    pub fn label(self) -> &'static str {
        match self {
            BeatType::IncitingIncident => "inciting incident",
            BeatType::CharacterIntroduction => "character introduction",
            BeatType::EscalationBeat => "escalation beat",
            BeatType::RelationshipBeat => "relationship beat",
            BeatType::MoneyShot => "money shot",
            BeatType::ClimaxPeak => "climax peak",
            BeatType::Breath => "breath",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotScore {
    pub shot_index: usize,
    /// Money-shot score, 0..1.
    pub score: f32,
    pub beat_type: BeatType,
    /// One line: why this beat type and score.
    pub reasoning: String,
}

/// Share of the best-scoring shots (by rank in the film) that count as money shots.
const MONEY_SHARE: f32 = 0.15;
/// Share of the best-scoring climax-zone shots that count as climax peaks.
const PEAK_SHARE: f32 = 0.25;
/// Below this intensity a shot without much dialogue is a breath.
const BREATH_INTENSITY: f32 = 0.25;
/// Fraction of the runtime after BEGIN_T in which the inciting incident is sought.
const INCITING_WINDOW: f64 = 0.10;

/// Scores every shot and gives it a beat type. `zones` is looked up by `shot_index`;
/// a shot without a zone match is placed by position.
pub fn score_shots(
    signals: &[ShotSignals],
    zones: &[ZoneMatch],
    anchors: &Anchors,
    weights: &ScoreWeights,
) -> Vec<ShotScore> {
    let w = weights.usable();
    let total: f32 = w.named().iter().map(|(_, x)| x).sum();
    let sig: Vec<ShotSignals> = signals.iter().map(clean).collect();
    let zone_of: Vec<Zone> = (0..sig.len())
        .map(|i| {
            zones
                .iter()
                .find(|z| z.shot_index == i)
                .map(|z| z.zone)
                .unwrap_or_else(|| anchors.zone_at(f64::from(sig[i].position) * anchors.runtime_s))
        })
        .collect();
    let terms: Vec<[f32; 8]> = sig.iter().map(|s| terms(s, anchors)).collect();
    let scores: Vec<f32> = terms
        .iter()
        .map(|t| {
            t.iter()
                .zip(w.named())
                .map(|(x, (_, wt))| x * wt)
                .sum::<f32>()
                / total
        })
        .collect();

    let film_rank = percentiles(&scores, |_| true);
    let climax_rank = percentiles(&scores, |i| zone_of[i] == Zone::Climax);
    let inciting = inciting_incident(&sig, &zone_of, &scores, anchors);

    (0..sig.len())
        .map(|i| {
            let s = &sig[i];
            let beat = classify(
                s,
                zone_of[i],
                film_rank[i],
                climax_rank[i],
                inciting == Some(i),
            );
            // 1 = best in the film; ties share the better place.
            let place = 1 + scores.iter().filter(|&&x| x > scores[i]).count();
            let rank = format!("{place}/{}", scores.len());
            let reasoning = reasoning(beat, scores[i], &rank, s, &terms[i], &w, zone_of[i]);
            ShotScore {
                shot_index: i,
                score: scores[i],
                beat_type: beat,
                reasoning,
            }
        })
        .collect()
}

/// NaN and out-of-range inputs become 0..1, so a bad measurement cannot poison a score.
fn clean(s: &ShotSignals) -> ShotSignals {
    let c = |x: f32| {
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    ShotSignals {
        motion: c(s.motion),
        contrast: c(s.contrast),
        uniqueness: c(s.uniqueness),
        emotion: c(s.emotion),
        faces: c(s.faces),
        vision_confidence: c(s.vision_confidence),
        saturation: c(s.saturation),
        position: c(s.position),
        has_dialogue: s.has_dialogue,
        dialogue_intensity: c(s.dialogue_intensity),
        loudness: c(s.loudness),
    }
}

/// The eight signal values in `ScoreWeights::named` order. Position counts as
/// progress towards CLIMAX_T (1 from there on): later material is the stronger
/// trailer material, and the spoiler cut-off is the assembler's job.
fn terms(s: &ShotSignals, a: &Anchors) -> [f32; 8] {
    let climax_frac = if a.runtime_s > 0.0 {
        (a.climax_t / a.runtime_s).clamp(0.05, 1.0) as f32
    } else {
        1.0
    };
    [
        s.motion,
        s.contrast,
        s.uniqueness,
        s.emotion,
        s.faces,
        s.vision_confidence,
        s.saturation,
        (s.position / climax_frac).min(1.0),
    ]
}

/// How loud, moving and charged a shot is, 0..1.
fn intensity(s: &ShotSignals) -> f32 {
    (s.motion + s.loudness + s.emotion) / 3.0
}

/// Rank of each selected score among the selected, 0 (lowest) to 1 (highest); ties
/// share the higher rank. Unselected shots get 0.
fn percentiles(scores: &[f32], select: impl Fn(usize) -> bool) -> Vec<f32> {
    let chosen: Vec<f32> = (0..scores.len())
        .filter(|&i| select(i))
        .map(|i| scores[i])
        .collect();
    (0..scores.len())
        .map(|i| {
            if !select(i) {
                return 0.0;
            }
            if chosen.len() <= 1 {
                return 1.0;
            }
            let below = chosen.iter().filter(|&&x| x <= scores[i]).count() - 1;
            below as f32 / (chosen.len() - 1) as f32
        })
        .collect()
}

/// The most intense shot in the window after BEGIN_T, if it stands out from the
/// film's median intensity (an ordinary shot there is not an incident).
fn inciting_incident(
    sig: &[ShotSignals],
    zone_of: &[Zone],
    scores: &[f32],
    a: &Anchors,
) -> Option<usize> {
    if sig.is_empty() || a.runtime_s <= 0.0 {
        return None;
    }
    let lo = a.begin_t / a.runtime_s;
    let hi = ((a.begin_t / a.runtime_s) + INCITING_WINDOW).min(a.escalation_t / a.runtime_s);
    let mut intensities: Vec<f32> = sig.iter().map(intensity).collect();
    let pick = (0..sig.len())
        .filter(|&i| {
            let p = f64::from(sig[i].position);
            p >= lo && p <= hi.max(lo) && zone_of[i] != Zone::Climax
        })
        .max_by(|&x, &y| {
            (intensity(&sig[x]) + scores[x]).total_cmp(&(intensity(&sig[y]) + scores[y]))
        })?;
    let candidate = intensities[pick];
    intensities.sort_by(f32::total_cmp);
    let median = intensities[intensities.len() / 2];
    (candidate > median).then_some(pick)
}

fn classify(
    s: &ShotSignals,
    zone: Zone,
    film_rank: f32,
    climax_rank: f32,
    inciting: bool,
) -> BeatType {
    let energetic = s.motion >= 0.5 || s.loudness >= 0.6;
    if zone == Zone::Climax && climax_rank >= 1.0 - PEAK_SHARE && energetic {
        return BeatType::ClimaxPeak;
    }
    // The one story beat of its kind wins over rank: a money shot can be any of many.
    if inciting {
        return BeatType::IncitingIncident;
    }
    if film_rank >= 1.0 - MONEY_SHARE {
        return BeatType::MoneyShot;
    }
    if intensity(s) < BREATH_INTENSITY && s.dialogue_intensity < 0.3 {
        return BeatType::Breath;
    }
    if zone == Zone::Beginning && s.faces >= 0.5 {
        return BeatType::CharacterIntroduction;
    }
    if s.has_dialogue && s.faces >= 0.3 && s.emotion >= 0.3 && s.motion < 0.5 {
        return BeatType::RelationshipBeat;
    }
    match zone {
        Zone::Escalation | Zone::Climax => BeatType::EscalationBeat,
        Zone::Beginning if s.faces >= 0.2 => BeatType::CharacterIntroduction,
        Zone::Beginning => BeatType::Breath,
    }
}

fn reasoning(
    beat: BeatType,
    score: f32,
    rank: &str,
    s: &ShotSignals,
    terms: &[f32; 8],
    w: &ScoreWeights,
    zone: Zone,
) -> String {
    // The three signals that added most to the score, strongest first.
    let mut contrib: Vec<(&str, f32, f32)> = w
        .named()
        .iter()
        .zip(terms)
        .map(|((name, wt), v)| (*name, *v, wt * v))
        .collect();
    contrib.sort_by(|a, b| b.2.total_cmp(&a.2));
    let top: Vec<String> = contrib
        .iter()
        .take(3)
        .map(|(n, v, _)| format!("{n} {v:.2}"))
        .collect();
    let mut extra = Vec::new();
    match beat {
        BeatType::Breath => extra.push(format!("quiet, intensity {:.2}", intensity(s))),
        BeatType::IncitingIncident => {
            extra.push(format!("jolt after BEGIN_T, intensity {:.2}", intensity(s)))
        }
        _ => {}
    }
    if s.loudness >= 0.6 {
        extra.push(format!("loud {:.2}", s.loudness));
    }
    if s.has_dialogue {
        extra.push(format!("dialogue {:.2}", s.dialogue_intensity));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {}", extra.join(", "))
    };
    format!(
        "{}: score {score:.2} (rank {rank}); {}{extra}; {} zone",
        beat.label(),
        top.join(", "),
        zone.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors() -> Anchors {
        Anchors {
            begin_t: 60.0,
            escalation_t: 300.0,
            climax_t: 750.0,
            runtime_s: 1000.0,
        }
    }

    fn zm(i: usize, zone: Zone) -> ZoneMatch {
        ZoneMatch {
            shot_index: i,
            zone,
            similarity: [0.0; 3],
            position_zone: zone,
            reason: String::new(),
        }
    }

    fn flat(v: f32, pos: f32) -> ShotSignals {
        ShotSignals {
            motion: v,
            contrast: v,
            uniqueness: v,
            emotion: v,
            faces: v,
            vision_confidence: v,
            saturation: v,
            position: pos,
            has_dialogue: false,
            dialogue_intensity: 0.0,
            loudness: v,
        }
    }

    #[test]
    fn default_weights_are_the_python_tools_and_sum_to_one() {
        let w = ScoreWeights::default();
        let sum: f32 = w.named().iter().map(|(_, x)| x).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert_eq!(w.motion, 0.20);
        assert_eq!(w.emotion, 0.20);
        assert_eq!(w.position, 0.05);
        assert!(w.validate().is_ok());
    }

    #[test]
    fn config_overrides_only_what_it_names() {
        let w: ScoreWeights = serde_json::from_str(r#"{"motion": 0.5}"#).unwrap();
        assert_eq!(w.motion, 0.5);
        assert_eq!(w.contrast, 0.15);
        assert!(serde_json::from_str::<ScoreWeights>(r#"{"moton": 0.5}"#).is_err());
        let bad = ScoreWeights {
            faces: -1.0,
            ..Default::default()
        };
        assert_eq!(
            bad.validate(),
            Err(ScoreError::BadWeight {
                name: "faces",
                value: -1.0
            })
        );
    }

    #[test]
    fn scores_follow_signals_and_weights() {
        let a = anchors();
        let weak = flat(0.1, 0.5);
        let strong = flat(0.9, 0.5);
        let moving = ShotSignals {
            motion: 1.0,
            ..flat(0.3, 0.5)
        };
        let emotional = ShotSignals {
            faces: 1.0,
            ..flat(0.3, 0.5)
        };
        let sig = [weak, strong, moving, emotional];
        let s = score_shots(&sig, &[], &a, &ScoreWeights::default());
        assert!(s[1].score > s[2].score && s[2].score > s[0].score);
        // motion weighs 0.20, faces 0.10.
        assert!(s[2].score > s[3].score);
        for x in &s {
            assert!((0.0..=1.0).contains(&x.score));
        }
        // Re-weighting to faces only flips the order of those two.
        let faces_only = ScoreWeights {
            motion: 0.0,
            contrast: 0.0,
            uniqueness: 0.0,
            emotion: 0.0,
            faces: 1.0,
            vision_confidence: 0.0,
            saturation: 0.0,
            position: 0.0,
        };
        let s = score_shots(&sig, &[], &a, &faces_only);
        assert!(s[3].score > s[2].score);
        assert!((s[3].score - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bad_input_never_panics_or_escapes_range() {
        let a = anchors();
        let sig = [ShotSignals {
            motion: f32::NAN,
            contrast: 7.0,
            emotion: -3.0,
            ..Default::default()
        }];
        let bad = ScoreWeights {
            motion: f32::INFINITY,
            ..Default::default()
        };
        let s = score_shots(&sig, &[], &a, &bad);
        assert!(s[0].score.is_finite() && (0.0..=1.0).contains(&s[0].score));
        assert!(score_shots(&[], &[], &a, &ScoreWeights::default()).is_empty());
    }

    /// A small film in which each beat type has one clear candidate.
    #[test]
    fn every_beat_type_is_reachable_with_a_reason() {
        let a = anchors();
        let mut sig = vec![];
        let mut zones = vec![];
        let mut push = |s: ShotSignals, z: Zone| -> usize {
            zones.push(zm(sig.len(), z));
            sig.push(s);
            sig.len() - 1
        };
        // Filler so that ranks mean something: 14 middling shots across the film.
        for k in 0..14 {
            let pos = 0.32 + k as f32 * 0.03;
            let _ = push(
                ShotSignals {
                    faces: 0.1,
                    ..flat(0.4, pos)
                },
                if pos < 0.75 {
                    Zone::Escalation
                } else {
                    Zone::Climax
                },
            );
        }
        // Inciting incident: a jolt just after BEGIN_T (6%).
        let inciting = push(
            ShotSignals {
                motion: 0.7,
                loudness: 0.7,
                emotion: 0.6,
                ..flat(0.4, 0.08)
            },
            Zone::Beginning,
        );
        // Character introduction: a face, early, calmish.
        let intro = push(
            ShotSignals {
                faces: 0.9,
                has_dialogue: true,
                dialogue_intensity: 0.5,
                ..flat(0.3, 0.25)
            },
            Zone::Beginning,
        );
        // Relationship beat: two faces talking, emotional, still.
        let rel = push(
            ShotSignals {
                faces: 0.6,
                emotion: 0.5,
                motion: 0.1,
                has_dialogue: true,
                dialogue_intensity: 0.6,
                ..flat(0.3, 0.5)
            },
            Zone::Escalation,
        );
        // Breath: quiet, still, no talk.
        let breath = push(flat(0.05, 0.6), Zone::Escalation);
        // Money shot: spectacular in the escalation zone.
        let money = push(flat(0.95, 0.55), Zone::Escalation);
        // Climax peak: loud and moving in the climax zone.
        let peak = push(
            ShotSignals {
                loudness: 1.0,
                ..flat(0.97, 0.8)
            },
            Zone::Climax,
        );
        // Escalation beat: action with no face in the middle of the film.
        let esc = push(
            ShotSignals {
                motion: 0.6,
                faces: 0.0,
                ..flat(0.3, 0.45)
            },
            Zone::Escalation,
        );
        let s = score_shots(&sig, &zones, &a, &ScoreWeights::default());
        let beat = |i: usize| s[i].beat_type;
        assert_eq!(beat(esc), BeatType::EscalationBeat, "{}", s[esc].reasoning);
        assert_eq!(
            beat(inciting),
            BeatType::IncitingIncident,
            "{}",
            s[inciting].reasoning
        );
        assert_eq!(
            beat(intro),
            BeatType::CharacterIntroduction,
            "{}",
            s[intro].reasoning
        );
        assert_eq!(
            beat(rel),
            BeatType::RelationshipBeat,
            "{}",
            s[rel].reasoning
        );
        assert_eq!(beat(breath), BeatType::Breath, "{}", s[breath].reasoning);
        assert_eq!(beat(money), BeatType::MoneyShot, "{}", s[money].reasoning);
        assert_eq!(beat(peak), BeatType::ClimaxPeak, "{}", s[peak].reasoning);
        for x in &s {
            assert!(!x.reasoning.is_empty() && !x.reasoning.contains('\n'));
            assert!(x.reasoning.starts_with(x.beat_type.label()));
        }
        assert!(
            s[peak].reasoning.contains("loud 1.00"),
            "{}",
            s[peak].reasoning
        );
        assert!(s[peak].reasoning.contains("climax zone"));
    }

    #[test]
    fn missing_zone_match_uses_position() {
        let a = anchors();
        let sig = [flat(0.2, 0.1), flat(0.9, 0.9)];
        let s = score_shots(&sig, &[], &a, &ScoreWeights::default());
        assert!(
            s[1].reasoning.ends_with("climax zone"),
            "{}",
            s[1].reasoning
        );
        assert!(
            s[0].reasoning.ends_with("beginning zone"),
            "{}",
            s[0].reasoning
        );
    }
}
