//! Turns a cue's raw text into what was said: markup removed (HTML-ish tags,
//! ASS override blocks and drawings, `\N`), hearing-impaired annotations
//! (`[MUSIC]`, `(SCREAMS)`, `♪ lyrics ♪`) separated from speech, speaker labels
//! (`NAME:`, `[Name]`, `<v Name>`, `>>`) and turn dashes read, and advert or
//! credit lines recognised.

/// One speaker turn inside a cue (a cue with "- Hi.\n- Hello." has two).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Turn {
    pub speaker: Option<String>,
    pub text: String,
    /// Started by a dash: a change of speaker even when no name is given.
    pub dashed: bool,
}

/// A cue split into speech and hearing-impaired annotations.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Split {
    pub turns: Vec<Turn>,
    /// Annotations such as `[MUSIC]` or `♪ la la ♪`, in order.
    pub sounds: Vec<String>,
}

/// Removes markup and returns the clean text (lines kept, blank lines dropped)
/// and the WebVTT voice (`<v Name>`), if any.
pub(crate) fn strip_markup(raw: &str) -> (String, Option<String>) {
    let mut voice = None;
    let text = raw
        .replace("\\N", "\n")
        .replace("\\n", "\n")
        .replace("\\h", " ");
    let text = strip_ass_blocks(&text);
    let text = strip_tags(&text, &mut voice);
    let text = decode_entities(&text);
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    (lines.join("\n"), voice)
}

/// `{\i1}`-style override blocks (and MicroDVD `{y:i}` codes) go; text inside an
/// ASS drawing (`{\p1}m 0 0 l 10 10{\p0}`) is vector data, not words, so it goes too.
fn strip_ass_blocks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut drawing = false;
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        if !drawing {
            out.push_str(&rest[..open]);
        }
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let block = &after[..close];
                if let Some(level) = drawing_level(block) {
                    drawing = level > 0;
                }
                rest = &after[close + 1..];
            }
            None => {
                // Unclosed brace: literal text.
                if !drawing {
                    out.push('{');
                }
                rest = after;
            }
        }
    }
    if !drawing {
        out.push_str(rest);
    }
    out
}

/// The last `\pN` in an override block, if any.
fn drawing_level(block: &str) -> Option<u32> {
    let mut level = None;
    for (i, _) in block.match_indices("\\p") {
        let digits: String = block[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        // `\pos(...)` and `\pbo` also start with \p; only `\p<digits>` counts.
        if let Ok(n) = digits.parse::<u32>() {
            level = Some(n);
        }
    }
    level
}

/// Removes `<i>`, `</font>`, `<c.yellow>`, `<v Bob>`, `<00:00:01.000>`-like
/// tags; a `<` that does not open such a tag (as in `2<3`) stays.
fn strip_tags(s: &str, voice: &mut Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c.is_ascii_digit());
        let close = after.find(['>', '<', '\n']);
        match close {
            Some(c) if opens_tag && after.as_bytes()[c] == b'>' => {
                let tag = &after[..c];
                if let Some(name) = tag.strip_prefix("v ").or_else(|| {
                    tag.strip_prefix("v.")
                        .and_then(|t| t.split_once(' ').map(|x| x.1))
                }) {
                    let name = name.trim();
                    if !name.is_empty() && voice.is_none() {
                        *voice = Some(name.to_string());
                    }
                }
                // Digits: a WebVTT karaoke timestamp or a typo like "2<3,5>1"?
                // Only the former has a colon.
                if tag.starts_with(|c: char| c.is_ascii_digit()) && !tag.contains(':') {
                    out.push('<');
                    rest = after;
                    continue;
                }
                rest = &after[c + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&amp;", "&")
}

/// Words that look like a name in `WORD:` or `[Word]` but are not speakers.
const NOT_SPEAKERS: &[&str] = &[
    "note",
    "warning",
    "attention",
    "listen",
    "look",
    "question",
    "answer",
    "remember",
    "rule",
    "step",
    "ps",
    "re",
    "subject",
    "date",
    "time",
    "location",
    "remarque",
    "réponse",
    "objet",
    "lieu",
    "nota",
    "ojo",
    "atención",
    "respuesta",
    "asunto",
    "fecha",
    "hora",
    "music",
    "musique",
    "música",
    "song",
    "applause",
    "aplausos",
    "applaudissements",
    "laughter",
    "laughs",
    "laughing",
    "rires",
    "risas",
    "sighs",
    "silence",
    "silencio",
    "door",
    "phone",
    "telephone",
    "teléfono",
    "téléphone",
    "gunshot",
    "gunshots",
    "explosion",
    "thunder",
    "cheering",
    "screaming",
    "screams",
    "crying",
    "static",
    "narrator",
    "narrador",
    "narrateur",
    "chorus",
    "intro",
    "outro",
    "translation",
    "traduction",
    "traducción",
    "subtitles",
    "sous-titres",
    "subtítulos",
    "ok",
    "okay",
    "well",
    "so",
    "now",
    "yes",
    "no",
    "oh",
    "hey",
];

/// Is `s` plausibly a character name or label ("JOHN", "MAN #2", "Dr. Smith")?
pub(crate) fn speaker_like(s: &str) -> bool {
    let s = s.trim();
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 || s.chars().count() > 30 {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '\'' | '-' | '#' | '’'))
    {
        return false;
    }
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 2 {
        return false;
    }
    if NOT_SPEAKERS.contains(&s.to_lowercase().as_str()) {
        return false;
    }
    let all_caps = letters.iter().all(|c| !c.is_lowercase());
    let title = words.len() <= 3
        && words.iter().all(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || c == '#')
        });
    all_caps || title
}

/// Splits clean text into turns and sound annotations. `voice` is a speaker the
/// format named for the whole cue (ASS Name field, WebVTT `<v>`).
pub(crate) fn split(clean: &str, voice: Option<&str>) -> Split {
    let mut out = Split::default();
    let mut current: Option<Turn> = None;
    for line in clean.lines() {
        let mut l = line.trim();
        // ">>" marks a change of speaker in broadcast captions.
        let mut new_turn = false;
        if let Some(r) = l.strip_prefix(">>") {
            l = r.trim_start();
            new_turn = true;
        }
        if let Some(r) = strip_dash(l) {
            l = r;
            new_turn = true;
        }
        // Whole-line music: lyrics are sung, not dialogue.
        if is_music_line(l) {
            out.sounds.push(l.to_string());
            continue;
        }
        let mut speaker = None;
        // "[Alba] En 1928," (Netflix style): a bracketed name before speech.
        if let Some((inner, after)) = leading_group(l, '[', ']') {
            if speaker_like(inner) && !after.trim().is_empty() && !is_all_caps_sound(inner) {
                speaker = Some(inner.trim().to_string());
                l = after.trim_start();
            }
        }
        // The label may come before the annotations ("MAN: (whispering) Go")
        // or after them ("(SHOUTING) JOHN: Stop").
        let mut line_text = l.to_string();
        if speaker.is_none() {
            if let Some((name, rest)) = name_prefix(l) {
                speaker = Some(name);
                line_text = rest;
            }
        }
        let (spoken, sounds) = remove_annotations(&line_text);
        out.sounds.extend(sounds);
        let mut spoken = spoken.trim().to_string();
        if speaker.is_none() {
            if let Some((name, rest)) = name_prefix(&spoken) {
                speaker = Some(name);
                spoken = rest;
            }
        }
        let spoken = tidy(&spoken);
        let dashed = new_turn;
        if speaker.is_some() {
            new_turn = true;
        }
        if spoken.is_empty() {
            // A turn made only of sounds: the dash or name still marks who is next.
            continue;
        }
        match current.as_mut() {
            Some(t) if !new_turn => {
                t.text.push('\n');
                t.text.push_str(&spoken);
            }
            _ => {
                if let Some(t) = current.take() {
                    out.turns.push(t);
                }
                current = Some(Turn {
                    speaker,
                    text: spoken,
                    dashed,
                });
            }
        }
    }
    if let Some(t) = current.take() {
        out.turns.push(t);
    }
    if let Some(v) = voice.map(str::trim).filter(|v| !v.is_empty()) {
        for (i, t) in out.turns.iter_mut().enumerate() {
            // The format's own speaker opens the cue; a later dashed turn is
            // someone else answering.
            if t.speaker.is_none() && (i == 0 || !t.dashed) {
                t.speaker = Some(v.to_string());
            }
        }
    }
    out
}

/// "- Hi", "– Hi", "—Hi" → "Hi".
fn strip_dash(l: &str) -> Option<&str> {
    for d in ["-", "–", "—"] {
        if let Some(r) = l.strip_prefix(d) {
            // "--" or "-5 degrees" are not turn dashes.
            if r.starts_with(['-', '–', '—']) || r.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            return Some(r.trim_start());
        }
    }
    None
}

fn is_music_line(l: &str) -> bool {
    let t = l.trim();
    // "#" stands in for the note in old files ("# la la #"), but "#1 fan" is speech.
    t.starts_with(['♪', '♫', '♬', '♩'])
        || t.starts_with("# ")
        || (t.ends_with(['♪', '♫']) && t.chars().count() > 1)
}

/// `[X] rest` / `(X) rest` at the start of `l`.
fn leading_group(l: &str, open: char, close: char) -> Option<(&str, &str)> {
    let r = l.strip_prefix(open)?;
    let end = r.find(close)?;
    Some((&r[..end], &r[end + close.len_utf8()..]))
}

/// An all-caps bracketed word list is the SDH convention for sounds ([GUNSHOT]).
fn is_all_caps_sound(inner: &str) -> bool {
    let letters: Vec<char> = inner.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() > 1
        && letters.iter().all(|c| c.is_uppercase())
        && inner.split_whitespace().count() > 1
}

/// Removes `[...]` anywhere, and `(...)` when it opens the line or is in capitals
/// (plain dialogue uses parentheses too: "I (and she) agree"). Returns the rest
/// and the annotations with their brackets.
fn remove_annotations(l: &str) -> (String, Vec<String>) {
    let mut sounds = Vec::new();
    let mut rest = String::with_capacity(l.len());
    let mut s = l;
    loop {
        let next = s.find(['[', '(']);
        let Some(i) = next else {
            rest.push_str(s);
            break;
        };
        let open = s[i..].chars().next().unwrap_or('[');
        let close = if open == '[' { ']' } else { ')' };
        let Some(len) = s[i + 1..].find(close) else {
            rest.push_str(s);
            break;
        };
        let inner = &s[i + 1..i + 1 + len];
        let at_start = rest.trim().is_empty() && s[..i].trim().is_empty();
        let caps = inner.chars().any(|c| c.is_alphabetic())
            && inner
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_uppercase());
        let is_sound = open == '[' || at_start || caps;
        if is_sound {
            rest.push_str(&s[..i]);
            rest.push(' ');
            let ann = s[i..i + 2 + len].to_string();
            if !inner.trim().is_empty() {
                sounds.push(ann);
            }
        } else {
            rest.push_str(&s[..i + 2 + len]);
        }
        s = &s[i + 2 + len..];
    }
    (rest, sounds)
}

/// "JOHN: Hi", "Dr. Smith: Hi", "JEAN : Bonjour" → ("JOHN", "Hi").
fn name_prefix(l: &str) -> Option<(String, String)> {
    let colon = l.find(':')?;
    let (name, rest) = (&l[..colon], l[colon + 1..].trim());
    // "Note: 10:30" or a clock time is not a speaker.
    if rest.is_empty() || name.trim().is_empty() || name.ends_with(' ') && name.trim().len() < 2 {
        return None;
    }
    let name = name.trim();
    if !speaker_like(name) {
        return None;
    }
    // Title-case labels are riskier than SDH capitals ("Et Ron: ..." is prose);
    // allow at most two words for them.
    let caps = name
        .chars()
        .filter(|c| c.is_alphabetic())
        .all(|c| c.is_uppercase());
    if !caps && name.split_whitespace().count() > 2 {
        return None;
    }
    Some((name.to_string(), rest.to_string()))
}

/// Cleans what remains of a line once annotations and labels are gone.
fn tidy(s: &str) -> String {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = t.trim_matches(|c: char| c == ':' || c == '-' || c.is_whitespace());
    // Nothing but punctuation left ("...", "!") is not speech.
    if !t.chars().any(char::is_alphanumeric) {
        return String::new();
    }
    t.to_string()
}

/// ASS styles that hold on-screen signs or song lyrics rather than speech
/// (fansub conventions: "Sign", "OP", "ED Romaji", "Karaoke", "Song", "Lyrics").
pub(crate) fn is_sign_or_song_style(style: &str) -> bool {
    let s = style.trim().to_lowercase();
    let words: Vec<&str> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    [
        "sign", "song", "karaoke", "kara", "lyrics", "op", "ed", "insert", "title", "credits",
    ]
    .iter()
    .any(|k| words.contains(k))
        || s.starts_with("sign")
}

/// Advert and credit lines that subtitle sites and rippers insert.
const ADVERT_MARKERS: &[&str] = &[
    "downloaded from",
    "subtitles by",
    "subtitle by",
    "subtitled by",
    "subtitles:",
    "sync and corrections",
    "synced and corrected",
    "sync & corrections",
    "corrected by",
    "ripped by",
    "captioned by",
    "captioning by",
    "transcript by",
    "opensubtitles",
    "addic7ed",
    "subscene",
    "podnapisi",
    "yify",
    "allsubs",
    "advertise your product",
    "become vip member",
    "www.",
    "http://",
    "https://",
    "sous-titres par",
    "sous-titrage",
    "sous-titré par",
    "traduction :",
    "traduction:",
    "subtítulos por",
    "subtitulado por",
    "traducido por",
    "subtitulos por",
];

pub fn is_advert(clean: &str) -> bool {
    let l = clean.to_lowercase();
    ADVERT_MARKERS.iter().any(|m| l.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        strip_markup(s).0
    }

    #[test]
    fn markup_goes() {
        assert_eq!(clean("<i>Hello</i> <b>there</b>"), "Hello there");
        assert_eq!(
            clean("<font color=\"#0000FF\">blue</font>\n<invalid_tag par=5>x</invalid_tag>"),
            "blue\nx"
        );
        assert_eq!(
            clean("{\\an8}{\\i1}Top{\\i0} line\\NSecond\\hword"),
            "Top line\nSecond word"
        );
        assert_eq!(clean("2<3,5>1,4<6"), "2<3,5>1,4<6");
        assert_eq!(clean("a < b > c"), "a < b > c");
        assert_eq!(clean("{\\p1}m 0 0 l 100 0 100 100{\\p0}Sign"), "Sign");
        assert_eq!(clean("{\\pos(10,10)}Pos"), "Pos");
        assert_eq!(clean("{y:i}MicroDVD"), "MicroDVD");
        assert_eq!(clean("Tom &amp; Jerry&nbsp;!"), "Tom & Jerry !");
        assert_eq!(clean("<c.yellow>Cue</c> <00:00:01.000>tick"), "Cue tick");
        assert_eq!(clean("unclosed { brace"), "unclosed { brace");
        assert_eq!(clean("\n  \n  spaced   out  \n"), "spaced out");
        let (t, v) = strip_markup("<v.loud Jane Doe>Good morning</v>");
        assert_eq!(
            (t.as_str(), v.as_deref()),
            ("Good morning", Some("Jane Doe"))
        );
    }

    #[test]
    fn sounds_are_kept_apart() {
        let s = split("[MUSIC]", None);
        assert!(s.turns.is_empty());
        assert_eq!(s.sounds, ["[MUSIC]"]);
        let s = split("(SCREAMS) Get down! [GUNSHOT]", None);
        assert_eq!(s.turns[0].text, "Get down!");
        assert_eq!(s.sounds, ["(SCREAMS)", "[GUNSHOT]"]);
        assert_eq!(split("# Strangers in the night #", None).sounds.len(), 1);
        assert_eq!(split("#1 fan, that's me", None).turns.len(), 1);
        let s = split("♪ Strangers in the night ♪", None);
        assert!(s.turns.is_empty());
        assert_eq!(s.sounds.len(), 1);
        // Parentheses inside ordinary speech stay speech.
        let s = split("I told him (and her) twice.", None);
        assert_eq!(s.turns[0].text, "I told him (and her) twice.");
        assert!(s.sounds.is_empty());
        let s = split("[Ángeles ríe] Vamos.", None);
        assert_eq!(s.turns[0].text, "Vamos.");
        assert_eq!(s.turns[0].speaker, None);
    }

    #[test]
    fn speakers_from_labels_dashes_and_voice() {
        let s = split("JOHN: Hi.\n- MARY: Hello.", None);
        assert_eq!(s.turns.len(), 2);
        assert_eq!(s.turns[0].speaker.as_deref(), Some("JOHN"));
        assert_eq!(s.turns[1].speaker.as_deref(), Some("MARY"));
        assert_eq!(s.turns[1].text, "Hello.");
        let s = split("- Déjala.\n- Tú no te metas.\n¡No te metas!", None);
        assert_eq!(s.turns.len(), 2);
        assert_eq!(s.turns[1].text, "Tú no te metas.\n¡No te metas!");
        assert!(s.turns.iter().all(|t| t.dashed && t.speaker.is_none()));
        let s = split("[Alba] En 1928,", None);
        assert_eq!(s.turns[0].speaker.as_deref(), Some("Alba"));
        let s = split(">> ALICE: Hi, my name is Alice", None);
        assert_eq!(
            s.turns[0].speaker.as_deref(),
            Some("Alice".to_uppercase().as_str())
        );
        let s = split("MAN: (whispering) Go.", None);
        assert_eq!(
            (s.turns[0].speaker.as_deref(), s.turns[0].text.as_str()),
            (Some("MAN"), "Go.")
        );
        assert_eq!(s.sounds, ["(whispering)"]);
        let s = split("(SHOUTING) JOHN: Stop!", None);
        assert_eq!(
            (s.turns[0].speaker.as_deref(), s.turns[0].text.as_str()),
            (Some("JOHN"), "Stop!")
        );
        let s = split("JEAN : Bonjour", None);
        assert_eq!(s.turns[0].speaker.as_deref(), Some("JEAN"));
        let s = split("Hello there", Some("Bob"));
        assert_eq!(s.turns[0].speaker.as_deref(), Some("Bob"));
        // Not speakers: a clock, prose ending in a colon, a note.
        for t in [
            "Meet me at 10:30 sharp",
            "les surclassait tous:",
            "Note: bring it",
            "Et à San Diego, un présentateur: lui",
        ] {
            assert_eq!(split(t, None).turns[0].speaker, None, "{t}");
        }
        assert!(speaker_like("MAN #2"));
        assert!(speaker_like("Dr. Smith"));
        assert!(!speaker_like("the man"));
        assert!(!speaker_like("12"));
    }

    #[test]
    fn sign_and_song_styles() {
        for s in [
            "Sign",
            "signs_top",
            "OP Romaji",
            "ED-English",
            "Karaoke",
            "Song lyrics",
        ] {
            assert!(is_sign_or_song_style(s), "{s}");
        }
        for s in ["Default", "Main", "Italics", "Top", "Flashback", "Operator"] {
            assert!(!is_sign_or_song_style(s), "{s}");
        }
    }

    #[test]
    fn adverts() {
        assert!(is_advert("Downloaded From www.AllSubs.org"));
        assert!(is_advert("Subtitles by explosiveskull"));
        assert!(is_advert("Sync and corrections by n17t01"));
        assert!(is_advert(
            "Advertise your product or brand here\ncontact www.OpenSubtitles.org today"
        ));
        assert!(!is_advert("I downloaded it yesterday."));
        assert!(!is_advert("Where are the subtitles?"));
    }
}
