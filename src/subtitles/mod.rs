//! Reads a film's subtitles into a [`Dialogue`]: clean cues with their speaker,
//! kind (speech or hearing-impaired annotation) and emotion, plus the speakers
//! and the protagonist. Any common format and encoding, found by content; embedded
//! subtitle streams are extracted with ffmpeg when no file is given.
//!
//! Reading is lenient on purpose: a film's subtitles with one broken cue should
//! still drive the trailer, so broken cues become `warnings` naming their line,
//! and an error is returned only when nothing usable is left.

mod clean;
pub mod emotion;
mod encoding;
mod extract;
mod formats;

pub use clean::is_advert;
pub use emotion::Emotion;
pub use extract::{extract_embedded, load_embedded, Embedded};

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Subtitle files larger than this are not subtitles (a film passed by mistake).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SubtitleError {
    #[error("cannot read subtitle file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{name}: {size} bytes is too large for a subtitle file (limit {limit}); is it the film?"
    )]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error("{name}: the file is empty")]
    Empty { name: String },
    #[error("{name}: not a subtitle format CineCut reads (SRT, WebVTT, ASS/SSA, SBV, MicroDVD): {detail}")]
    UnknownFormat { name: String, detail: String },
    #[error("{name}:{line}: {message}; no cue could be read from this {format} file")]
    Malformed {
        name: String,
        line: usize,
        format: String,
        message: String,
    },
    #[error("{name}: this {format} file holds no cues (only adverts, empty or hidden cues)")]
    NoCues { name: String, format: String },
    #[error("{name}: all {cues} cues start after the film's end ({film_duration_s:.1} s); wrong subtitle file or frame rate?")]
    PastFilmEnd {
        name: String,
        cues: usize,
        film_duration_s: f64,
    },
    #[error("{film}: {tool} failed: {detail}")]
    Tool {
        film: PathBuf,
        tool: &'static str,
        detail: String,
    },
    #[error("{film}: no usable embedded subtitles: {reason}")]
    NoEmbedded { film: PathBuf, reason: String },
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CueKind {
    /// Words someone says.
    Dialogue,
    /// Sounds and music for deaf viewers: `[MUSIC]`, `(SCREAMS)`, `♪ lyrics ♪`.
    HearingImpaired,
}

/// One speaker turn of a cue that holds several ("- Hi.\n- Hello.").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Turn {
    pub speaker: Option<String>,
    pub text: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Cue {
    /// Position in `Dialogue::cues` (sorted by start time).
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    /// What is said (or, for a hearing-impaired cue, the annotations), markup
    /// removed, lines joined by `\n`.
    pub text: String,
    /// The cue's text as the file has it.
    pub raw: String,
    /// Who speaks, when known and when the cue has one speaker.
    pub speaker: Option<String>,
    pub kind: CueKind,
    pub emotion: Emotion,
    /// 1-based line of the cue in the file, for messages and review.
    pub line: usize,
    /// Filled when a cue holds two or more turns, or one opened by a turn dash
    /// (a change of speaker); `text` holds them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<Turn>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Dialogue {
    /// The file's path, or "embedded stream N of FILM".
    pub source: String,
    /// srt, webvtt, sbv, ass, ssa or microdvd.
    pub format: String,
    /// Encoding the text was decoded from, e.g. "UTF-8 (BOM)", "windows-1252".
    pub encoding: String,
    /// ISO 639-1 guess from common words or the script ("en", "fr", "es", ...).
    pub language_guess: Option<String>,
    pub cues: Vec<Cue>,
    /// The named speaker with the most lines; None when no one is named.
    pub protagonist: Option<String>,
    /// Named speakers and their number of lines, most first.
    pub speakers: Vec<(String, usize)>,
    /// Everything repaired or dropped, each naming the file (and line).
    pub warnings: Vec<String>,
}

impl Dialogue {
    /// The cues people speak, without hearing-impaired annotations.
    pub fn spoken(&self) -> impl Iterator<Item = &Cue> {
        self.cues.iter().filter(|c| c.kind == CueKind::Dialogue)
    }

    /// The guarantees the reader gives (sorted, indexed, positive finite
    /// durations, non-empty text, emotion in range). Used by the tests and the
    /// fuzz target; also useful on a Dialogue edited by hand.
    pub fn check(&self) -> Result<(), String> {
        for (i, c) in self.cues.iter().enumerate() {
            let fail = |what: &str| {
                Err(format!(
                    "{}: cue {i} (line {}): {what}",
                    self.source, c.line
                ))
            };
            if c.index != i {
                return fail("index out of step");
            }
            if !(c.start_s.is_finite() && c.end_s.is_finite() && c.start_s >= 0.0) {
                return fail("time not finite or negative");
            }
            if c.end_s <= c.start_s {
                return fail("ends before it starts");
            }
            if c.text.trim().is_empty() {
                return fail("empty text");
            }
            if !(0.0..=1.0).contains(&c.emotion.intensity)
                || !(-1.0..=1.0).contains(&c.emotion.valence)
            {
                return fail("emotion out of range");
            }
            if i > 0 && self.cues[i - 1].start_s > c.start_s {
                return fail("not sorted by start");
            }
        }
        Ok(())
    }
}

/// Reads a subtitle file. `fps` is the film's frame rate, used only by MicroDVD
/// files that do not state theirs; `film_duration_s` lets cues past the film's
/// end be dropped and reported.
pub fn load_subtitles(
    path: &Path,
    fps: Option<f64>,
    film_duration_s: Option<f64>,
) -> Result<Dialogue, SubtitleError> {
    let io = |source| SubtitleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(SubtitleError::TooLarge {
            name: path.display().to_string(),
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_bytes(&bytes, &path.display().to_string(), fps, film_duration_s)
}

/// Reads subtitles from memory; `name_for_errors` names them in errors and
/// warnings (and becomes `Dialogue::source`).
pub fn parse_bytes(
    bytes: &[u8],
    name_for_errors: &str,
    fps: Option<f64>,
    film_duration_s: Option<f64>,
) -> Result<Dialogue, SubtitleError> {
    let name = name_for_errors.to_string();
    let decoded = encoding::decode(bytes);
    // After decoding, so that a BOM alone or UTF-16 spaces count as empty too.
    if decoded.text.trim().is_empty() {
        return Err(SubtitleError::Empty { name });
    }
    let Some(format) = formats::detect(&decoded.text) else {
        return Err(SubtitleError::UnknownFormat {
            detail: describe_unknown(&decoded.text),
            name,
        });
    };
    let parsed = formats::parse(format, &decoded.text, fps);
    if parsed.cues.is_empty() {
        return Err(match parsed.first_problem {
            Some((line, message)) => SubtitleError::Malformed {
                name,
                line,
                format: format.name().into(),
                message,
            },
            None => SubtitleError::NoCues {
                name,
                format: format.name().into(),
            },
        });
    }
    let mut warnings: Vec<String> = parsed
        .warnings
        .into_iter()
        .map(|w| format!("{name}: {w}"))
        .collect();
    let mut cues = build_cues(parsed.cues, &name, &mut warnings);
    if cues.is_empty() {
        return Err(SubtitleError::NoCues {
            name,
            format: format.name().into(),
        });
    }
    let before_end_check = cues.len();
    normalise(&mut cues, film_duration_s, &name, &mut warnings);
    if cues.is_empty() {
        // Only the film-end filter can empty the list: the file belongs to
        // another film, or a MicroDVD frame rate is wrong.
        return Err(SubtitleError::PastFilmEnd {
            name,
            cues: before_end_check,
            film_duration_s: film_duration_s.unwrap_or(0.0),
        });
    }
    infer_continued_speakers(&mut cues);
    score_emotions(&mut cues);
    for (i, c) in cues.iter_mut().enumerate() {
        c.index = i;
    }
    let speakers = count_speakers(&cues);
    let protagonist = pick_protagonist(&speakers);
    let language_guess = guess_language(&cues);
    Ok(Dialogue {
        source: name,
        format: format.name().into(),
        encoding: decoded.encoding,
        language_guess,
        cues,
        protagonist,
        speakers,
        warnings,
    })
}

fn describe_unknown(text: &str) -> String {
    let sample: String = text.chars().take(2000).collect();
    let odd = sample
        .chars()
        .filter(|c| *c == '\u{FFFD}' || (c.is_control() && !c.is_whitespace()))
        .count();
    if odd * 10 > sample.chars().count().max(1) {
        return "it looks like a binary file".into();
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let first: String = first.chars().take(60).collect();
    format!("line 1 reads {first:?} and no cue timing was found")
}

/// Raw cues → clean cues: markup, adverts, hearing-impaired parts, speakers.
fn build_cues(raw: Vec<formats::RawCue>, name: &str, warnings: &mut Vec<String>) -> Vec<Cue> {
    let mut cues = Vec::with_capacity(raw.len());
    let mut advert_lines = Vec::new();
    let mut empty_lines = Vec::new();
    for r in raw {
        let (text, voice) = clean::strip_markup(&r.text);
        if text.is_empty() {
            empty_lines.push(r.line);
            continue;
        }
        if clean::is_advert(&text) {
            advert_lines.push(r.line);
            continue;
        }
        let voice = r.name.as_deref().or(voice.as_deref());
        let mut split = clean::split(&text, voice);
        if r.style.as_deref().is_some_and(clean::is_sign_or_song_style) {
            // A sign or a song is not dialogue, whatever its words.
            split = clean::Split {
                turns: Vec::new(),
                sounds: vec![text.replace('\n', " ")],
            };
        }
        if split.turns.is_empty() && split.sounds.is_empty() {
            // Only punctuation or an empty label ("...", "JOHN:").
            empty_lines.push(r.line);
            continue;
        }
        let base = Cue {
            index: 0,
            start_s: r.start_s,
            end_s: r.end_s,
            text: String::new(),
            raw: r.text.clone(),
            speaker: None,
            kind: CueKind::Dialogue,
            emotion: Emotion::default(),
            line: r.line,
            turns: Vec::new(),
        };
        if !split.turns.is_empty() {
            let mut c = base.clone();
            c.text = split
                .turns
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let first = split.turns[0].speaker.clone();
            let same = split.turns.iter().all(|t| t.speaker == first);
            c.speaker = if same { first } else { None };
            // A dashed cue starts a new speaker even when no name is given; keep
            // that knowledge so speaker inference does not carry a name across.
            if split.turns.len() > 1 || split.turns[0].dashed {
                c.turns = split
                    .turns
                    .iter()
                    .map(|t| Turn {
                        speaker: t.speaker.clone(),
                        text: t.text.clone(),
                    })
                    .collect();
            }
            cues.push(c);
        }
        if !split.sounds.is_empty() {
            let mut c = base;
            c.kind = CueKind::HearingImpaired;
            c.text = split.sounds.join(" ");
            cues.push(c);
        }
    }
    if !advert_lines.is_empty() {
        warnings.push(format!(
            "{name}: dropped {} advert/credit cue(s) at line(s) {}",
            advert_lines.len(),
            list_lines(&advert_lines)
        ));
    }
    if !empty_lines.is_empty() {
        warnings.push(format!(
            "{name}: dropped {} cue(s) with no words at line(s) {}",
            empty_lines.len(),
            list_lines(&empty_lines)
        ));
    }
    cues
}

fn list_lines(lines: &[usize]) -> String {
    let mut s = lines
        .iter()
        .take(10)
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > 10 {
        s.push_str(&format!(" and {} more", lines.len() - 10));
    }
    s
}

/// How long a line with this text stays on screen when the file does not say:
/// about 15 characters a second, within 0.7–5 s.
fn reading_time(text: &str) -> f64 {
    (0.5 + text.chars().count() as f64 / 15.0).clamp(0.7, 5.0)
}

/// Overlaps shorter than this are rounding slop of the subtitle tool, not two
/// people talking at once.
const OVERLAP_SLOP_S: f64 = 0.25;
/// Longer cues are almost always a timing error (wrong fps, typo in the hours).
const LONG_CUE_S: f64 = 30.0;

/// Sorting, duplicates, broken durations, overlaps and the film's end, in
/// that order; each repair is reported once in `warnings`.
fn normalise(
    cues: &mut Vec<Cue>,
    film_duration_s: Option<f64>,
    name: &str,
    warnings: &mut Vec<String>,
) {
    let mut notes = Notes { name, warnings };
    sort_by_start(cues, &mut notes);
    drop_duplicates(cues, &mut notes);
    estimate_missing_ends(cues, &mut notes);
    trim_overlap_slop(cues, &mut notes);
    warn_long_cues(cues, &mut notes);
    if let Some(dur) = film_duration_s.filter(|d| d.is_finite() && *d > 0.0) {
        fit_to_film_end(cues, dur, &mut notes);
    }
}

/// Warnings about one subtitle file, each starting with its name.
struct Notes<'a> {
    name: &'a str,
    warnings: &'a mut Vec<String>,
}

impl Notes<'_> {
    fn push(&mut self, text: String) {
        self.warnings.push(format!("{}: {text}", self.name));
    }
}

fn sort_by_start(cues: &mut [Cue], notes: &mut Notes) {
    if cues.windows(2).any(|w| w[1].start_s < w[0].start_s) {
        notes.push("cues were not in time order; sorted by start time".into());
    }
    // Stable: cues with the same start keep file order (speech before its sounds).
    cues.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
}

/// Drops a cue equal (kind, text, times within 50 ms) to one of the eight
/// kept just before it.
fn drop_duplicates(cues: &mut Vec<Cue>, notes: &mut Notes) {
    let before = cues.len();
    let mut kept: Vec<Cue> = Vec::with_capacity(cues.len());
    for c in cues.drain(..) {
        let dup = kept.iter().rev().take(8).any(|k| {
            k.kind == c.kind
                && k.text == c.text
                && (k.start_s - c.start_s).abs() < 0.05
                && (k.end_s - c.end_s).abs() < 0.05
        });
        if !dup {
            kept.push(c);
        }
    }
    if kept.len() < before {
        notes.push(format!("dropped {} duplicate cue(s)", before - kept.len()));
    }
    *cues = kept;
}

/// A cue that ends before it starts (or has no end) gets the reading time of
/// its text, cut at the next later start.
fn estimate_missing_ends(cues: &mut [Cue], notes: &mut Notes) {
    // The next strictly later start after each cue, in one backward pass (many
    // cues may share a start).
    let mut next_later = vec![f64::INFINITY; cues.len()];
    for i in (0..cues.len().saturating_sub(1)).rev() {
        next_later[i] = if cues[i + 1].start_s > cues[i].start_s {
            cues[i + 1].start_s
        } else {
            next_later[i + 1]
        };
    }
    let mut fixed = Vec::new();
    for (c, next) in cues.iter_mut().zip(next_later) {
        if c.end_s > c.start_s {
            continue;
        }
        c.end_s = (c.start_s + reading_time(&c.text)).min(next);
        fixed.push(c.line);
    }
    if !fixed.is_empty() {
        notes.push(format!(
            "{} cue(s) ended before they started (or had no end); duration estimated from the text at line(s) {}",
            fixed.len(),
            list_lines(&fixed)
        ));
    }
}

/// Overlaps between consecutive spoken cues: trim slop, report the rest.
fn trim_overlap_slop(cues: &mut [Cue], notes: &mut Notes) {
    let mut real_overlaps = Vec::new();
    let spoken: Vec<usize> = (0..cues.len())
        .filter(|&i| cues[i].kind == CueKind::Dialogue)
        .collect();
    for w in spoken.windows(2) {
        let (a, b) = (w[0], w[1]);
        let overlap = cues[a].end_s - cues[b].start_s;
        if overlap > 0.0 && cues[b].start_s > cues[a].start_s {
            if overlap <= OVERLAP_SLOP_S {
                cues[a].end_s = cues[b].start_s;
            } else {
                real_overlaps.push(cues[b].line);
            }
        }
    }
    if !real_overlaps.is_empty() {
        notes.push(format!(
            "{} spoken cue(s) overlap the previous one by more than {OVERLAP_SLOP_S} s (kept; simultaneous speech?) at line(s) {}",
            real_overlaps.len(),
            list_lines(&real_overlaps)
        ));
    }
}

fn warn_long_cues(cues: &[Cue], notes: &mut Notes) {
    let long: Vec<usize> = cues
        .iter()
        .filter(|c| c.end_s - c.start_s > LONG_CUE_S)
        .map(|c| c.line)
        .collect();
    if !long.is_empty() {
        notes.push(format!(
            "{} cue(s) last longer than {LONG_CUE_S} s (wrong frame rate or timing typo?) at line(s) {}",
            long.len(),
            list_lines(&long)
        ));
    }
}

/// Drops cues that start after the film's end (`dur` s) and cuts those that
/// run past it.
fn fit_to_film_end(cues: &mut Vec<Cue>, dur: f64, notes: &mut Notes) {
    let total = cues.len();
    let past: Vec<usize> = cues
        .iter()
        .filter(|c| c.start_s >= dur)
        .map(|c| c.line)
        .collect();
    cues.retain(|c| c.start_s < dur);
    let mut clipped = 0;
    for c in cues.iter_mut() {
        if c.end_s > dur {
            c.end_s = dur;
            clipped += 1;
        }
    }
    if !past.is_empty() {
        let hint = if past.len() * 2 > total {
            " — most cues are past the end: wrong subtitle file or frame rate?"
        } else {
            ""
        };
        notes.push(format!(
            "dropped {} cue(s) that start after the film's end ({dur:.1} s) at line(s) {}{hint}",
            past.len(),
            list_lines(&past)
        ));
    }
    if clipped > 0 {
        notes.push(format!(
            "{clipped} cue(s) cut at the film's end ({dur:.1} s)"
        ));
    }
}

/// A line with no name and no dash that follows a named line closely, where the
/// earlier line did not end its sentence, is the same person going on.
fn infer_continued_speakers(cues: &mut [Cue]) {
    let mut last: Option<(String, f64, bool)> = None; // speaker, end, sentence open
    for c in cues.iter_mut().filter(|c| c.kind == CueKind::Dialogue) {
        if c.speaker.is_none() && c.turns.is_empty() {
            if let Some((s, end, open)) = &last {
                if *open && c.start_s - end < 1.0 {
                    c.speaker = Some(s.clone());
                }
            }
        }
        let open = {
            let t = c.text.trim_end();
            t.ends_with("...") || t.ends_with('…') || !t.ends_with(['.', '!', '?', '"', '»', ')'])
        };
        last = c
            .turns
            .last()
            .map(|t| t.speaker.clone())
            .unwrap_or_else(|| c.speaker.clone())
            .map(|s| (s, c.end_s, open));
    }
}

fn score_emotions(cues: &mut [Cue]) {
    // In files written all in capitals, capitals are not shouting.
    let spoken: Vec<&Cue> = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue)
        .collect();
    let shouted = spoken
        .iter()
        .filter(|c| emotion::is_shouted(&c.text))
        .count();
    let caps_mean_shouting = shouted * 2 < spoken.len().max(1);
    for c in cues.iter_mut() {
        // Sound annotations are written in capitals by convention ([GUNSHOT]).
        let shouting = caps_mean_shouting && c.kind == CueKind::Dialogue;
        c.emotion = emotion::score(&c.text, shouting);
    }
}

/// Lines per named speaker (each turn counts), names compared without case.
fn count_speakers(cues: &[Cue]) -> Vec<(String, usize)> {
    let mut order: Vec<String> = Vec::new();
    let mut counts: HashMap<String, (String, usize)> = HashMap::new();
    let mut add = |s: &str| {
        let key = s.to_uppercase();
        let e = counts.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            (s.to_string(), 0)
        });
        e.1 += 1;
    };
    for c in cues.iter().filter(|c| c.kind == CueKind::Dialogue) {
        if c.turns.is_empty() {
            if let Some(s) = &c.speaker {
                add(s);
            }
        } else {
            for s in c.turns.iter().filter_map(|t| t.speaker.as_deref()) {
                add(s);
            }
        }
    }
    // Stable sort keeps first appearance as the tie-break.
    let mut out: Vec<(String, usize)> = order
        .iter()
        .filter_map(|k| counts.get(k).cloned())
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.1));
    out
}

/// At least this many lines before a speaker can be called the protagonist.
const MIN_PROTAGONIST_LINES: usize = 3;

fn pick_protagonist(speakers: &[(String, usize)]) -> Option<String> {
    speakers
        .first()
        .filter(|(_, n)| *n >= MIN_PROTAGONIST_LINES)
        .map(|(s, _)| s.clone())
}

/// Very common short words per language; enough to tell the languages of most
/// films apart from a few hundred lines.
const STOPWORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "you", "and", "is", "it", "that", "what", "to", "of", "i'm", "this", "don't",
            "with", "was",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "et", "je", "tu", "vous", "est", "pas", "que", "c'est", "une",
            "des", "pour", "qui",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "y", "que", "es", "por", "qué", "una", "con", "para", "lo", "está",
            "pero", "muy",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ich", "nicht", "ist", "sie", "du", "ein", "zu", "wir",
            "mit",
        ],
    ),
    (
        "it",
        &[
            "il", "che", "non", "è", "di", "un", "per", "sono", "questo", "gli", "cosa", "ma",
            "perché",
        ],
    ),
    (
        "pt",
        &[
            "o", "não", "é", "um", "uma", "você", "os", "isso", "com", "para", "eu", "está", "mas",
        ],
    ),
];

fn guess_language(cues: &[Cue]) -> Option<String> {
    let text: String = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue)
        .take(2000)
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    // Scripts first: common words mean nothing without spaces.
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let n = letters.len().max(1);
    let share = |f: fn(&char) -> bool| letters.iter().filter(|c| f(c)).count() * 100 / n;
    if share(|c| ('\u{3040}'..='\u{30FF}').contains(c)) > 10 {
        return Some("ja".into());
    }
    if share(|c| ('\u{AC00}'..='\u{D7AF}').contains(c)) > 30 {
        return Some("ko".into());
    }
    if share(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)) > 30 {
        return Some("zh".into());
    }
    if share(|c| ('\u{0400}'..='\u{04FF}').contains(c)) > 50 {
        return Some("ru".into());
    }
    if share(|c| ('\u{0600}'..='\u{06FF}').contains(c)) > 50 {
        return Some("ar".into());
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let mut scores: Vec<(&str, usize)> = STOPWORDS
        .iter()
        .map(|(lang, list)| (*lang, words.iter().filter(|w| list.contains(w)).count()))
        .collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.1));
    let (best, n1) = scores[0];
    let n2 = scores.get(1).map_or(0, |s| s.1);
    (n1 >= 8 && n1 * 2 >= n2 * 3).then(|| best.to_string())
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod tests;
