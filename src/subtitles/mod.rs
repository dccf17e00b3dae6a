//! Subtitles: reading SRT files into clean dialogue cues.
//!
//! First version: SRT only, UTF-8 (with or without BOM) or Latin-1, tags
//! stripped, hearing-impaired cues kept apart, advert cues dropped, emotion
//! intensity from punctuation and capitals.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CueKind {
    Dialogue,
    HearingImpaired,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Emotion {
    pub label: String,
    pub valence: f32,
    pub intensity: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cue {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub raw: String,
    pub speaker: Option<String>,
    pub kind: CueKind,
    pub emotion: Emotion,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Dialogue {
    pub source: String,
    pub format: String,
    pub encoding: String,
    pub cues: Vec<Cue>,
    pub protagonist: Option<String>,
    pub warnings: Vec<String>,
}

pub fn load_subtitles(path: &Path, film_duration_s: Option<f64>) -> Result<Dialogue> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(path, "no such subtitle file"),
        _ => Error::input(path, format!("cannot read subtitles: {e}")),
    })?;
    let (text, encoding) =
        match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)) {
            Ok(s) => (s.to_string(), "utf-8"),
            Err(_) => (bytes.iter().map(|&b| b as char).collect(), "latin-1"),
        };
    let cues = parse_srt(&text)
        .map_err(|(line, msg)| Error::input(path, format!("line {line}: {msg}")))?;
    if cues.is_empty() {
        return Err(Error::input(
            path,
            "no subtitle cues found (is it an SRT file?)",
        ));
    }
    let mut warnings = Vec::new();
    if let Some(d) = film_duration_s {
        let late = cues.iter().filter(|c| c.start_s > d).count();
        if late > 0 {
            warnings.push(format!("{late} cues start after the film ends"));
        }
    }
    Ok(Dialogue {
        source: path.display().to_string(),
        format: "srt".into(),
        encoding: encoding.into(),
        cues,
        protagonist: None,
        warnings,
    })
}

fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    let mut parts = s.split(':');
    let h: f64 = parts.next()?.trim().parse().ok()?;
    let m: f64 = parts.next()?.trim().parse().ok()?;
    let sec: f64 = parts.next()?.trim().parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + sec)
}

fn parse_srt(text: &str) -> std::result::Result<Vec<Cue>, (usize, String)> {
    let mut cues = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some((a, b)) = lines[i].split_once("-->") else {
            i += 1;
            continue;
        };
        let (Some(start), Some(end)) = (
            parse_time(a),
            parse_time(b.split_whitespace().next().unwrap_or("")),
        ) else {
            return Err((i + 1, format!("bad timestamp '{}'", lines[i].trim())));
        };
        i += 1;
        let mut raw = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            raw.push(lines[i].trim());
            i += 1;
        }
        let raw = raw.join("\n");
        let clean = clean_text(&raw);
        if clean.is_empty() || is_advert(&clean) || end <= start {
            continue;
        }
        let hi = clean.starts_with('[') || clean.starts_with('(') || clean.contains('♪');
        cues.push(Cue {
            index: cues.len(),
            start_s: start,
            end_s: end,
            emotion: emotion(&clean),
            text: clean,
            raw,
            speaker: None,
            kind: if hi {
                CueKind::HearingImpaired
            } else {
                CueKind::Dialogue
            },
        });
    }
    cues.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(cues)
}

fn clean_text(raw: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' | '{' => in_tag = true,
            '>' | '}' => in_tag = false,
            _ if !in_tag => out.push(if c == '\n' { ' ' } else { c }),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_advert(s: &str) -> bool {
    let l = s.to_lowercase();
    [
        "www.",
        "http",
        "subtitles by",
        "downloaded from",
        "opensubtitles",
        "synced by",
    ]
    .iter()
    .any(|k| l.contains(k))
}

fn emotion(s: &str) -> Emotion {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count().max(1);
    let caps = s.chars().filter(|c| c.is_uppercase()).count() as f32 / letters as f32;
    let bangs = s.matches('!').count() as f32;
    let q = s.matches('?').count() as f32;
    let intensity = (0.15 + 0.25 * bangs + 0.1 * q + if caps > 0.6 { 0.3 } else { 0.0 }).min(1.0);
    Emotion {
        label: if bangs > 0.0 {
            "excited"
        } else if q > 0.0 {
            "curious"
        } else {
            "neutral"
        }
        .into(),
        valence: 0.0,
        intensity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_cleans() {
        let s = "1\n00:00:01,000 --> 00:00:02,500\n<i>Hello</i> there!\n\n2\n00:00:03,000 --> 00:00:04,000\n[MUSIC]\n\n3\n00:00:05,000 --> 00:00:06,000\nSubtitles by someone\n";
        let c = parse_srt(s).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].text, "Hello there!");
        assert_eq!(c[1].kind, CueKind::HearingImpaired);
        assert!(parse_srt("1\n00:00:xx,000 --> 00:00:02,000\nx\n").is_err());
    }
}
