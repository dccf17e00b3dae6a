//! Emotion of one line of dialogue from a small lexicon (`emotion_lexicon.txt`,
//! English plus common French and Spanish words), punctuation (`!`, `?!`, `...`)
//! and shouting in capitals. Languages outside the lexicon still get the
//! punctuation and capitals signals, so they degrade instead of going silent.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The emotion of a cue: the strongest category (or "neutral"), how pleasant it
/// is (-1..1) and how strong (0..1).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Emotion {
    /// One of anger, fear, joy, sadness, surprise, tension, neutral.
    pub label: String,
    pub valence: f32,
    pub intensity: f32,
}

impl Default for Emotion {
    fn default() -> Self {
        Emotion {
            label: "neutral".into(),
            valence: 0.0,
            intensity: 0.0,
        }
    }
}

const CATEGORIES: [&str; 6] = ["anger", "fear", "joy", "sadness", "surprise", "tension"];
const VALENCE: [f32; 6] = [-0.8, -0.7, 0.8, -0.7, 0.2, -0.4];
const ANGER: usize = 0;
const JOY: usize = 2;
const SADNESS: usize = 3;
const SURPRISE: usize = 4;
const TENSION: usize = 5;

type Lexicon = HashMap<String, Vec<(usize, f32)>>;

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| parse_lexicon(include_str!("emotion_lexicon.txt")))
}

/// Lines that do not parse are skipped; a unit test checks that none do.
fn parse_lexicon(src: &str) -> Lexicon {
    let mut map: Lexicon = HashMap::new();
    for line in src.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [word, cat, w] = parts[..] {
            if let (Some(c), Ok(w)) = (CATEGORIES.iter().position(|x| *x == cat), w.parse::<f32>())
            {
                map.entry(word.to_lowercase()).or_default().push((c, w));
            }
        }
    }
    map
}

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "didn't", "doesn't", "isn't", "wasn't", "aren't",
    "can't", "cannot", "won't", "ain't", "nothing", "ne", "pas", "jamais", "rien", "nunca", "nada",
    "tampoco", "ni",
];
const INTENSIFIERS: &[&str] = &[
    "very",
    "so",
    "really",
    "too",
    "totally",
    "fucking",
    "extremely",
    "absolutely",
    "très",
    "vraiment",
    "trop",
    "tellement",
    "muy",
    "tan",
    "demasiado",
    "realmente",
];

/// Finds a lexicon entry for a word or a simple inflection of it.
fn lookup<'a>(lex: &'a Lexicon, word: &str) -> Option<&'a Vec<(usize, f32)>> {
    if let Some(e) = lex.get(word) {
        return Some(e);
    }
    let candidates = [
        ("'s", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ing", "e"),
        ("ed", ""),
        ("ed", "e"),
        ("d", ""),
        ("es", ""),
        ("s", ""),
        ("ly", ""),
        ("ness", ""),
    ];
    for (suffix, repl) in candidates {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.chars().count() >= 3 {
                if let Some(e) = lex.get(&format!("{stem}{repl}")) {
                    return Some(e);
                }
            }
        }
    }
    None
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|t| {
            t.trim_matches(['\'', '’', '-'])
                .replace('’', "'")
                .to_lowercase()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Scores one text. `caps_mean_shouting` is false for files written entirely in
/// capitals (OCR'd or old DVD subtitles), where capitals say nothing.
pub fn score(text: &str, caps_mean_shouting: bool) -> Emotion {
    let lex = lexicon();
    let toks = tokens(text);
    let mut scores = [0.0_f32; 6];
    for (i, tok) in toks.iter().enumerate() {
        let Some(entries) = lookup(lex, tok) else {
            continue;
        };
        let window = &toks[i.saturating_sub(2)..i];
        // French "n'" clings to the verb ("tu n'as pas peur").
        let negated = window
            .iter()
            .any(|w| NEGATORS.contains(&w.as_str()) || w.ends_with("n't") || w.starts_with("n'"));
        let boost = if window
            .last()
            .is_some_and(|w| INTENSIFIERS.contains(&w.as_str()))
        {
            1.5
        } else {
            1.0
        };
        for &(cat, w) in entries {
            let w = w * boost;
            if negated {
                // "not happy" leans sad; "not afraid" is just weaker.
                if cat == JOY {
                    scores[SADNESS] += 0.4 * w;
                } else {
                    scores[cat] += 0.3 * w;
                }
            } else {
                scores[cat] += w;
            }
        }
    }

    let bangs = text
        .chars()
        .filter(|c| matches!(c, '!' | '¡'))
        .count()
        .min(3) as f32;
    let interrobang = text.contains("?!") || text.contains("!?") || text.contains("¡¿");
    let questions = text.chars().filter(|c| matches!(c, '?' | '¿')).count();
    let ellipsis = text.contains("...") || text.contains('…');
    let lexical: f32 = scores.iter().sum();
    if bangs > 0.0 {
        if lexical > 0.0 {
            for s in &mut scores {
                *s *= 1.0 + 0.3 * bangs;
            }
        } else {
            // An exclamation with no telling word: arousal without a direction.
            scores[TENSION] += 0.25 * bangs;
        }
    }
    if interrobang {
        scores[SURPRISE] += 0.6;
    } else if questions >= 2 {
        scores[SURPRISE] += 0.2;
    }
    if ellipsis {
        scores[TENSION] += 0.15;
    }
    if caps_mean_shouting && is_shouted(text) {
        if scores.iter().sum::<f32>() > 0.0 {
            for s in &mut scores {
                *s *= 1.5;
            }
        } else {
            scores[ANGER] += 0.3;
            scores[TENSION] += 0.3;
        }
    }

    let total: f32 = scores.iter().sum();
    if total < 0.15 {
        return Emotion::default();
    }
    let (best, _) =
        scores.iter().enumerate().fold(
            (0, f32::MIN),
            |acc, (i, &s)| if s > acc.1 { (i, s) } else { acc },
        );
    let intensity = 1.0 - (-total).exp();
    let valence = scores.iter().zip(VALENCE).map(|(s, v)| s * v).sum::<f32>() / total;
    Emotion {
        label: CATEGORIES[best].to_string(),
        valence: (valence * intensity).clamp(-1.0, 1.0),
        intensity: intensity.clamp(0.0, 1.0),
    }
}

/// Mostly capital letters, and enough of them to be more than an acronym.
pub(crate) fn is_shouted(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    let cased = letters
        .iter()
        .filter(|c| c.is_uppercase() || c.is_lowercase())
        .count();
    cased >= 4 && upper as f32 >= 0.8 * cased as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_file_is_well_formed() {
        let src = include_str!("emotion_lexicon.txt");
        for (i, line) in src.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(p.len(), 3, "lexicon line {}: {line:?}", i + 1);
            assert!(
                CATEGORIES.contains(&p[1]),
                "lexicon line {}: bad category",
                i + 1
            );
            let w: f32 = p[2].parse().expect("weight");
            assert!(
                (0.0..=1.0).contains(&w) && w > 0.0,
                "lexicon line {}: weight",
                i + 1
            );
        }
        assert!(
            lexicon().len() > 400,
            "lexicon has {} words",
            lexicon().len()
        );
    }

    #[test]
    fn english_categories() {
        assert_eq!(
            score("I'm so scared, they're going to kill us", true).label,
            "fear"
        );
        assert_eq!(score("I hate you, you lying bastard", true).label, "anger");
        assert_eq!(score("We won! This is wonderful!", true).label, "joy");
        assert_eq!(
            score("She died. I miss her so much.", true).label,
            "sadness"
        );
        assert_eq!(score("Whoa, what?!", true).label, "surprise");
        assert_eq!(
            score("Hurry, quickly, we need to go now", true).label,
            "tension"
        );
        assert_eq!(
            score("The report is on the table.", true),
            Emotion::default()
        );
        // Inflections reach the base word.
        assert_eq!(score("They were screaming, terrified", true).label, "fear");
        let happy = score("I am happy", true);
        assert!(happy.valence > 0.3, "{happy:?}");
        assert!(score("You killed him", true).valence < 0.0);
    }

    #[test]
    fn punctuation_capitals_and_negation() {
        let calm = score("I love you", true);
        let loud = score("I love you!!!", true);
        let shout = score("I LOVE YOU!!!", true);
        assert!(loud.intensity > calm.intensity);
        assert!(shout.intensity > loud.intensity);
        // Capitals in an all-caps file say nothing.
        assert_eq!(score("I LOVE YOU!!!", false).intensity, loud.intensity);
        // Negated joy reads as sadness.
        assert_eq!(score("I am not happy", true).label, "sadness");
        // No lexicon word at all: punctuation and capitals still speak.
        assert!(score("Nein! Nein! Nein!", true).intensity > 0.4);
        assert!(score("GET OUT", true).intensity > 0.3);
        assert!(score("get out", true).intensity < 0.15);
    }

    #[test]
    fn french_and_spanish_degrade_gracefully() {
        assert_eq!(score("J'ai peur, ils vont nous tuer !", true).label, "fear");
        assert_eq!(score("Je suis si heureux, merci !", true).label, "joy");
        assert_eq!(score("¡Socorro! ¡Ayúdame!", true).label, "fear");
        assert_eq!(score("Estoy tan triste...", true).label, "sadness");
        assert!(score("Je n'ai pas peur", true).intensity < score("J'ai peur", true).intensity);
        assert!(score("Il ne pleure pas.", true).intensity < score("Il pleure.", true).intensity);
        // Unknown words, but the exclamation still raises intensity.
        assert!(score("¡No te metas!", true).intensity > score("No te metas.", true).intensity);
    }
}
