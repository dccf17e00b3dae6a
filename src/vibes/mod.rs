//! The 18 vibe profiles, loaded from `vibes.toml` (embedded in the binary).
//!
//! Profiles are data: pacing, clip counts, dialogue share, transitions, grade,
//! loudness and music hints all live in the TOML so they can be tuned without
//! touching the editor. This module only parses, validates and looks them up.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const VIBES_TOML: &str = include_str!("vibes.toml");

/// Transition kinds the renderer knows; profiles and manifests name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    HardCut,
    Crossfade,
    FadeToBlack,
    FadeToWhite,
    BeatCut,
    WhooshForward,
    WhooshBackward,
}

impl Transition {
    pub const ALL: [Transition; 7] = [
        Transition::HardCut,
        Transition::Crossfade,
        Transition::FadeToBlack,
        Transition::FadeToWhite,
        Transition::BeatCut,
        Transition::WhooshForward,
        Transition::WhooshBackward,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Transition::HardCut => "hard_cut",
            Transition::Crossfade => "crossfade",
            Transition::FadeToBlack => "fade_to_black",
            Transition::FadeToWhite => "fade_to_white",
            Transition::BeatCut => "beat_cut",
            Transition::WhooshForward => "whoosh_forward",
            Transition::WhooshBackward => "whoosh_backward",
        }
    }
}

/// Colour grade parameters, applied by the renderer as ffmpeg filters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub contrast: f64,
    pub saturation: f64,
    pub brightness: f64,
    pub gamma: f64,
    pub warmth: f64,
    pub tint: f64,
    pub vignette: f64,
}

impl Grade {
    /// The identity grade, for renders that must not alter the picture.
    pub fn neutral() -> Self {
        Grade {
            contrast: 1.0,
            saturation: 1.0,
            brightness: 0.0,
            gamma: 1.0,
            warmth: 0.0,
            tint: 0.0,
            vignette: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vibe {
    #[serde(default)]
    pub name: String,
    pub description: String,
    pub act_cut_s: [f64; 3],
    pub clips: [u32; 2],
    pub dialogue_ratio: f64,
    pub transitions: [Transition; 2],
    pub grade: Grade,
    pub loudness_lufs: f64,
    pub tempo_bpm: f64,
    pub tempo_range: [f64; 2],
    pub music_tags: Vec<String>,
    pub length_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum VibeError {
    #[error("unknown vibe '{name}'{}", suggest(.suggestions))]
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("vibes.toml: {0}")]
    Invalid(String),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        format!("; the vibes are: {}", names().join(", "))
    } else {
        format!(" — did you mean {}?", s.join(" or "))
    }
}

/// All profiles, sorted by name. Parsing the embedded TOML cannot fail at run
/// time because a unit test parses and validates it.
pub fn all() -> Vec<Vibe> {
    parse(VIBES_TOML).expect("embedded vibes.toml is validated by tests")
}

pub fn names() -> Vec<String> {
    all().into_iter().map(|v| v.name).collect()
}

/// Finds a vibe by name (case-insensitive, `scifi`/`sci_fi` accepted); unknown
/// names get the nearest names as suggestions.
pub fn get(name: &str) -> Result<Vibe, VibeError> {
    let want = name.trim().to_lowercase().replace(['_', ' '], "-");
    let vibes = all();
    if let Some(v) = vibes
        .iter()
        .find(|v| v.name == want || v.name.replace('-', "") == want.replace('-', ""))
    {
        return Ok(v.clone());
    }
    let mut scored: Vec<(f64, String)> = vibes
        .iter()
        .map(|v| (strsim::jaro_winkler(&want, &v.name), v.name.clone()))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(VibeError::Unknown {
        name: name.to_string(),
        suggestions: scored.into_iter().take(2).map(|(_, n)| n).collect(),
    })
}

pub fn parse(text: &str) -> Result<Vec<Vibe>, VibeError> {
    let map: BTreeMap<String, Vibe> =
        toml::from_str(text).map_err(|e| VibeError::Invalid(e.to_string()))?;
    let mut out = Vec::new();
    for (name, mut v) in map {
        v.name = name;
        validate(&v)?;
        out.push(v);
    }
    Ok(out)
}

fn validate(v: &Vibe) -> Result<(), VibeError> {
    let bad = |m: &str| Err(VibeError::Invalid(format!("[{}] {m}", v.name)));
    if v.act_cut_s.iter().any(|c| !(0.5..=15.0).contains(c)) {
        return bad("act_cut_s must be between 0.5 and 15 s");
    }
    if v.clips[0] < 4 || v.clips[0] > v.clips[1] {
        return bad("clips must be [min, max] with 4 <= min <= max");
    }
    if !(0.0..=1.0).contains(&v.dialogue_ratio) {
        return bad("dialogue_ratio must be within 0..1");
    }
    if !(-30.0..=-8.0).contains(&v.loudness_lufs) {
        return bad("loudness_lufs must be within -30..-8");
    }
    if !(40.0..=220.0).contains(&v.tempo_bpm)
        || v.tempo_range[0] > v.tempo_bpm
        || v.tempo_range[1] < v.tempo_bpm
    {
        return bad("tempo_bpm must lie inside tempo_range, within 40..220");
    }
    if !(60.0..=180.0).contains(&v.length_s) {
        return bad("length_s must be within 60..180");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_distinct_valid_profiles() {
        let v = all();
        assert_eq!(v.len(), 18);
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                assert!(
                    a.act_cut_s != b.act_cut_s
                        || a.grade != b.grade
                        || a.transitions != b.transitions
                        || a.loudness_lufs != b.loudness_lufs,
                    "{} and {} are identical",
                    a.name,
                    b.name
                );
            }
            // Every act gets faster (or holds): the trailer accelerates.
            assert!(a.act_cut_s[0] >= a.act_cut_s[1] && a.act_cut_s[1] >= a.act_cut_s[2]);
        }
    }

    #[test]
    fn python_tool_values_kept() {
        let a = get("action").unwrap();
        assert_eq!(a.act_cut_s, [4.0, 2.5, 1.2]);
        assert_eq!(a.clips, [25, 35]);
        assert_eq!(a.loudness_lufs, -14.0);
        let d = get("Documentary").unwrap();
        assert_eq!(d.act_cut_s, [7.0, 5.0, 4.0]);
        assert_eq!(d.loudness_lufs, -20.0);
        assert_eq!(get("scifi").unwrap().name, "sci-fi");
    }

    #[test]
    fn unknown_vibe_suggests_nearest() {
        let e = get("horor").unwrap_err().to_string();
        assert!(e.contains("horror"), "{e}");
        let e = get("zzzz").unwrap_err().to_string();
        assert!(e.contains("western"), "{e}");
    }
}
