//! Format detection (by content, never by extension) and the five readers:
//! SubRip, WebVTT, SubViewer/YouTube SBV, SubStation Alpha (SSA/ASS), MicroDVD.
//! Readers are lenient: a broken cue becomes a warning naming its line and the
//! rest of the file is still read; they only report timing, raw text and the
//! speaker a format carries itself (ASS Name, WebVTT `<v>`).

/// One cue as the file states it, before any cleaning.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawCue {
    /// 1-based line of the cue's timing line (or its only line).
    pub line: usize,
    pub start_s: f64,
    pub end_s: f64,
    /// Text lines joined by `\n`, markup kept.
    pub text: String,
    /// Speaker named by the format itself (ASS Name/Actor field).
    pub name: Option<String>,
    /// ASS style name; fansub files put signs and song lyrics in their own styles.
    pub style: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    SubRip,
    WebVtt,
    Sbv,
    Ass,
    Ssa,
    MicroDvd,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::SubRip => "srt",
            Format::WebVtt => "webvtt",
            Format::Sbv => "sbv",
            Format::Ass => "ass",
            Format::Ssa => "ssa",
            Format::MicroDvd => "microdvd",
        }
    }
}

/// What a reader returns: cues plus `line: message` warnings, and the line of the
/// first problem (used for the error when no cue could be read at all).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub cues: Vec<RawCue>,
    pub warnings: Vec<String>,
    pub first_problem: Option<(usize, String)>,
}

impl Parsed {
    fn problem(&mut self, line: usize, msg: String) {
        if self.first_problem.is_none() {
            self.first_problem = Some((line, msg.clone()));
        }
        self.warnings.push(format!("line {line}: {msg}"));
    }
}

/// Looks at the first non-blank lines to decide the format.
pub(crate) fn detect(text: &str) -> Option<Format> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    if first.starts_with("WEBVTT") {
        return Some(Format::WebVtt);
    }
    if first.eq_ignore_ascii_case("[Script Info]") {
        return Some(ass_flavour(text));
    }
    if is_microdvd_line(first) {
        return Some(Format::MicroDvd);
    }
    // Look further: index lines, comments or junk may precede the first cue.
    for line in text.lines().map(str::trim).take(200) {
        // "-->" also closes HTML comments (SAMI files): require a time before it.
        if let Some((before, _)) = line.split_once("-->") {
            if before
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit())
            {
                // A WebVTT file that lost its header still uses '.' before the
                // milliseconds; SRT uses ','.
                let vtt = !before.contains(',') && before.contains('.');
                return Some(if vtt { Format::WebVtt } else { Format::SubRip });
            }
        }
        if sbv_timing(line).is_some() {
            return Some(Format::Sbv);
        }
        if line.starts_with("Dialogue:") || line.eq_ignore_ascii_case("[Events]") {
            return Some(ass_flavour(text));
        }
        if is_microdvd_line(line) {
            return Some(Format::MicroDvd);
        }
    }
    None
}

fn ass_flavour(text: &str) -> Format {
    let lower_head: String = text.chars().take(4000).collect::<String>().to_lowercase();
    if lower_head.contains("[v4+ styles]") || lower_head.contains("scripttype: v4.00+") {
        Format::Ass
    } else if lower_head.contains("[v4 styles]") || lower_head.contains("scripttype: v4.00") {
        Format::Ssa
    } else {
        Format::Ass
    }
}

pub(crate) fn parse(format: Format, text: &str, fps: Option<f64>) -> Parsed {
    match format {
        Format::SubRip | Format::WebVtt | Format::Sbv => parse_blocks(text, format),
        Format::Ass | Format::Ssa => parse_ass(text),
        Format::MicroDvd => parse_microdvd(text, fps),
    }
}

// ---------------------------------------------------------------- timestamps

/// Parses `[[h:]m:]s[.,frac]` with any number of digits per field, which covers
/// SRT (`00:01:02,500`), WebVTT (`01:02.500`, `0:0:3.54`), SBV and ASS
/// (`0:01:02.50`). Returns seconds, or None when it is not such a timestamp.
pub(crate) fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.trim();
    let (clock, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    if fields.len() > 3 || fields.iter().any(|f| !all_digits(f, 9)) {
        return None;
    }
    let mut secs = 0.0_f64;
    for f in &fields {
        secs = secs * 60.0 + f.parse::<u64>().ok()? as f64;
    }
    if let Some(frac) = frac {
        if !all_digits(frac, 9) {
            return None;
        }
        secs += format!("0.{frac}").parse::<f64>().ok()?;
    }
    // A bare number with no colon is an index, not a time.
    if fields.len() < 2 {
        return None;
    }
    Some(secs)
}

fn all_digits(s: &str, max_len: usize) -> bool {
    !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
}

/// A timing line for SRT/WebVTT. `None`: not a timing line. `Some(Err)`: it has
/// an arrow, so it was meant as one, but it cannot be read.
fn arrow_timing(line: &str) -> Option<Result<(f64, f64), String>> {
    let (a, b) = line.split_once("-->")?;
    // WebVTT cue settings (and SRT's X1:... coordinates) follow the end time.
    let b = b.split_whitespace().next().unwrap_or("");
    Some(match (parse_timestamp(a), parse_timestamp(b)) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(format!("unreadable timing line {:?}", line.trim())),
    })
}

/// `0:00:12.440,0:00:14.955`: the SBV timing line.
fn sbv_timing(line: &str) -> Option<Result<(f64, f64), String>> {
    let t = line.trim();
    let looks_like = t.len() < 48
        && t.starts_with(|c: char| c.is_ascii_digit())
        && t.contains(':')
        && t.contains(',')
        && !t.contains(' ');
    if !looks_like {
        return None;
    }
    let (a, b) = t.split_once(',')?;
    Some(match (parse_timestamp(a), parse_timestamp(b)) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(format!("unreadable timing line {t:?}")),
    })
}

// ---------------------------------------------------------- SRT, VTT, SBV

/// SubRip, WebVTT and SBV share one shape: blocks separated by blank lines, each
/// with a timing line and text. One reader handles all three so that the same
/// repairs apply: missing blank lines between cues, missing index lines, text
/// split by a blank line, blocks with a broken timing line.
fn parse_blocks(text: &str, format: Format) -> Parsed {
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let mut reader = BlockReader {
        format,
        out: Parsed::default(),
        cur: None,
        after_blank: true,
        skipping_block: false,
    };
    let first = if format == Format::WebVtt {
        vtt_header_len(&lines)
    } else {
        0
    };
    for i in first..lines.len() {
        let (no, raw_line) = lines[i];
        let next = lines.get(i + 1).map(|&(_, l)| l);
        reader.read_line(no, raw_line.trim_end(), next);
    }
    reader.close_cue();
    reader.out
}

/// Lines of the WebVTT header block: "WEBVTT" plus optional metadata lines up
/// to the first blank, or up to the first cue when no blank line follows.
fn vtt_header_len(lines: &[(usize, &str)]) -> usize {
    lines
        .iter()
        .position(|(_, l)| l.trim().is_empty() || l.contains("-->"))
        .unwrap_or(lines.len())
}

/// Whether a block starting with `line` is WebVTT's NOTE, STYLE or REGION,
/// which hold no cue.
fn is_vtt_meta_block(line: &str) -> bool {
    let t = line.trim_start();
    ["NOTE", "STYLE", "REGION"]
        .iter()
        .any(|k| t == *k || t.starts_with(&format!("{k} ")) || t.starts_with(&format!("{k}\t")))
}

/// The state of [`parse_blocks`] between lines.
struct BlockReader {
    format: Format,
    out: Parsed,
    /// The cue whose text is being read.
    cur: Option<RawCue>,
    /// Whether the previous line was blank; text after a blank with no timing
    /// line is either a stray index or text split by a blank line.
    after_blank: bool,
    /// The rest of this block is skipped (broken, or not a cue).
    skipping_block: bool,
}

impl BlockReader {
    fn timing(&self, line: &str) -> Option<Result<(f64, f64), String>> {
        match self.format {
            Format::Sbv => sbv_timing(line),
            _ => arrow_timing(line),
        }
    }

    /// Line `no` (trailing blanks cut), knowing the raw line after it.
    fn read_line(&mut self, no: usize, line: &str, next: Option<&str>) {
        if line.trim().is_empty() {
            self.after_blank = true;
            self.skipping_block = false;
            return;
        }
        let starts_block = self.after_blank;
        self.after_blank = false;
        if self.skipping_block {
            return;
        }
        if self.format == Format::WebVtt && starts_block && is_vtt_meta_block(line) {
            self.skipping_block = true;
            return;
        }
        match self.timing(line) {
            Some(Ok((start_s, end_s))) => {
                self.close_cue();
                self.cur = Some(RawCue {
                    line: no,
                    start_s,
                    end_s,
                    text: String::new(),
                    name: None,
                    style: None,
                });
            }
            Some(Err(msg)) => {
                self.close_cue();
                self.out.problem(no, format!("{msg}; cue skipped"));
                self.skipping_block = true;
            }
            None => {
                let next_is_timing = next.is_some_and(|l| self.timing(l).is_some());
                self.read_text(no, line.trim(), starts_block, next_is_timing);
            }
        }
    }

    /// A line that is not a timing line: an index or identifier, or text.
    fn read_text(&mut self, no: usize, t: &str, starts_block: bool, next_is_timing: bool) {
        let is_index = all_digits(t, 9);
        // An index or identifier line directly before a timing line.
        if next_is_timing && (starts_block || is_index || self.cur.is_none()) {
            return;
        }
        if starts_block && is_index {
            // An index whose timing line is missing.
            self.close_cue();
            self.out
                .problem(no, format!("cue {t} has no timing line; skipped"));
            self.skipping_block = true;
            return;
        }
        match self.cur.as_mut() {
            Some(c) => {
                if starts_block {
                    self.out.warnings.push(format!(
                        "line {no}: text after a blank line joined to the cue of line {}",
                        c.line
                    ));
                }
                if !c.text.is_empty() {
                    c.text.push('\n');
                }
                c.text.push_str(t);
            }
            None => {
                self.out
                    .problem(no, "text without a timing line; skipped".into());
                self.skipping_block = true;
            }
        }
    }

    fn close_cue(&mut self) {
        if let Some(c) = self.cur.take() {
            self.out.cues.push(c);
        }
    }
}

// ------------------------------------------------------------------ SSA/ASS

/// Reads only the `[Events]` section; `[Fonts]`/`[Graphics]` hold uuencoded data
/// whose lines may start with `[`, so a section header must also end with `]`.
fn parse_ass(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut in_events = false;
    let mut fields: Option<Vec<String>> = None;
    // Without a Format line, assume the v4+ default order.
    let default_fields: Vec<String> =
        "layer,start,end,style,name,marginl,marginr,marginv,effect,text"
            .split(',')
            .map(String::from)
            .collect();
    let mut saw_events = false;
    for (idx, raw) in text.lines().enumerate() {
        let no = idx + 1;
        let line = raw.trim();
        if line.starts_with('[') && line.ends_with(']') && line.len() <= 40 {
            in_events = line.eq_ignore_ascii_case("[Events]");
            saw_events |= in_events;
            continue;
        }
        if !in_events {
            continue;
        }
        let Some((kind, rest)) = line.split_once(':') else {
            continue;
        };
        match kind.trim() {
            "Format" => {
                fields = Some(rest.split(',').map(|f| f.trim().to_lowercase()).collect());
            }
            "Dialogue" => {
                let fmt = fields.as_ref().unwrap_or(&default_fields);
                let n = fmt.len().max(1);
                let values: Vec<&str> = rest.splitn(n, ',').collect();
                let get = |key: &str| {
                    fmt.iter()
                        .position(|f| f == key)
                        .and_then(|p| values.get(p))
                        .map(|v| v.trim())
                };
                let start = get("start").and_then(parse_timestamp);
                let end = get("end").and_then(parse_timestamp);
                let (Some(s), Some(e)) = (start, end) else {
                    out.problem(
                        no,
                        "Dialogue line with unreadable Start/End; skipped".into(),
                    );
                    continue;
                };
                // Text is the last field and may itself contain commas.
                let text_val = if fmt.last().is_some_and(|f| f == "text") {
                    values.get(n - 1).copied().unwrap_or("")
                } else {
                    get("text").unwrap_or("")
                };
                let name = get("name")
                    .or_else(|| get("actor"))
                    .filter(|n| !n.is_empty())
                    .map(String::from);
                out.cues.push(RawCue {
                    line: no,
                    start_s: s,
                    end_s: e,
                    text: text_val.to_string(),
                    name,
                    style: get("style").map(String::from),
                });
            }
            _ => {}
        }
    }
    if !saw_events {
        out.problem(1, "no [Events] section".into());
    }
    out
}

// ----------------------------------------------------------------- MicroDVD

fn is_microdvd_line(line: &str) -> bool {
    microdvd_frames(line).is_some()
}

/// `{start}{end}text` → (start frame, end frame or None, text).
fn microdvd_frames(line: &str) -> Option<(u64, Option<u64>, &str)> {
    let rest = line.trim_start().strip_prefix('{')?;
    let (a, rest) = rest.split_once('}')?;
    let rest = rest.strip_prefix('{')?;
    let (b, text) = rest.split_once('}')?;
    if !all_digits(a, 12) || !(b.is_empty() || all_digits(b, 12)) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok(), text))
}

/// Frame rate used when neither the caller nor the file gives one: the most
/// common rate of films released with MicroDVD subtitles.
pub(crate) const DEFAULT_FPS: f64 = 23.976;

fn parse_microdvd(text: &str, fps: Option<f64>) -> Parsed {
    let mut out = Parsed::default();
    // Outside 1..1000 fps a "frame rate" is a mistake and would give absurd times.
    let mut fps_used: Option<f64> = fps.filter(|f| (1.0..1000.0).contains(f));
    let mut warned_default = false;
    for (idx, raw) in text.lines().enumerate() {
        let no = idx + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some((a, b, body)) = microdvd_frames(line) else {
            out.problem(no, "not a {start}{end}text line; skipped".into());
            continue;
        };
        // `{1}{1}23.976` (or {0}{0}) on the first cue line states the frame rate;
        // it wins over the caller's guess because it was written for this file.
        if out.cues.is_empty() && a <= 1 && b.is_some_and(|b| b <= 1) {
            if let Ok(f) = body.trim().parse::<f64>() {
                if f.is_finite() && f > 1.0 && f < 1000.0 {
                    fps_used = Some(f);
                    continue;
                }
            }
        }
        let fps = match fps_used {
            Some(f) => f,
            None => {
                if !warned_default {
                    out.warnings.push(format!(
                        "MicroDVD file states no frame rate and none was given; assumed {DEFAULT_FPS} fps"
                    ));
                    warned_default = true;
                }
                DEFAULT_FPS
            }
        };
        let start = a as f64 / fps;
        // An empty end frame means "until the next cue": NaN marks it for now.
        let end = b.map_or(f64::NAN, |b| b as f64 / fps);
        out.cues.push(RawCue {
            line: no,
            start_s: start,
            end_s: end,
            text: body.replace('|', "\n"),
            name: None,
            style: None,
        });
    }
    for i in 0..out.cues.len() {
        if out.cues[i].end_s.is_nan() {
            let start = out.cues[i].start_s;
            let next = out.cues.get(i + 1).map_or(start, |c| c.start_s);
            // Open-ended last cue (or next at the same frame): zero length, which
            // the common clean-up then gives a reading-time duration.
            out.cues[i].end_s = next.max(start);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("00:00:12,440"), Some(12.44));
        assert_eq!(parse_timestamp("01:02.5"), Some(62.5));
        assert_eq!(parse_timestamp("0:0:3.54"), Some(3.54));
        assert_eq!(parse_timestamp("1:2:7.950"), Some(3727.95));
        assert_eq!(parse_timestamp("00:00:01"), Some(1.0));
        assert_eq!(parse_timestamp("00:00:11:890"), None);
        assert_eq!(parse_timestamp("0:00:13.f89"), None);
        assert_eq!(parse_timestamp("12"), None);
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("-1:00:00"), None);
    }

    #[test]
    fn detection_is_by_content() {
        assert_eq!(
            detect("WEBVTT\n\n00:01.000 --> 00:02.000\nhi"),
            Some(Format::WebVtt)
        );
        assert_eq!(
            detect("1\n00:00:01,000 --> 00:00:02,000\nhi"),
            Some(Format::SubRip)
        );
        assert_eq!(detect("0:00:01.000,0:00:02.000\nhi"), Some(Format::Sbv));
        assert_eq!(detect("{1}{25}hi"), Some(Format::MicroDvd));
        assert_eq!(
            detect("[Script Info]\nScriptType: v4.00+\n[Events]\n"),
            Some(Format::Ass)
        );
        assert_eq!(
            detect(" [Script Info]\n ScriptType: v4.00\n [V4 Styles]\n"),
            Some(Format::Ssa)
        );
        assert_eq!(
            detect("00:00.500 --> 00:01.000\nno header"),
            Some(Format::WebVtt)
        );
        assert_eq!(detect("<SAMI><!-- comment -->\n<P>hi"), None);
        assert_eq!(detect("hello world"), None);
        assert_eq!(detect(""), None);
    }

    #[test]
    fn srt_repairs() {
        // No blank line between cues, a missing index, text split by a blank line.
        let p = parse(
            Format::SubRip,
            "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n\nmore two\n\n00:00:05,000 --> 00:00:06,000 X1:10\nThree\n",
            None,
        );
        let texts: Vec<&str> = p.cues.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["One", "Two\nmore two", "Three"]);
        assert_eq!(p.cues[2].line, 10);
        // Broken timing lines are reported with their line number.
        let p = parse(
            Format::SubRip,
            "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:07,000 --> 00:00:11:890\nTwo\n\n3\nThree\n",
            None,
        );
        assert_eq!(p.cues.len(), 1);
        assert_eq!(p.first_problem.as_ref().map(|p| p.0), Some(6));
        assert!(p
            .warnings
            .iter()
            .any(|w| w.starts_with("line 9: cue 3 has no timing")));
    }

    #[test]
    fn vtt_header_notes_and_settings() {
        let p = parse(
            Format::WebVtt,
            "WEBVTT - title\nKind: captions\n\nNOTE a --> b is not allowed but\nstill skipped\n\nSTYLE\n::cue { color: red }\n\nid-1\n00:01.000 --> 00:02.000 align:start line:0\n<v Bob>Hi</v>\n",
            None,
        );
        assert_eq!(p.cues.len(), 1, "{:?}", p);
        assert_eq!(p.cues[0].start_s, 1.0);
        assert_eq!(p.cues[0].text, "<v Bob>Hi</v>");
    }

    #[test]
    fn ass_fields_and_commas_in_text() {
        let p = parse(
            Format::Ass,
            "[Script Info]\n[Fonts]\n[not a section\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nComment: 0,0:00:00.00,0:00:01.00,D,,0,0,0,,no\nDialogue: 0,0:00:01.00,0:00:02.50,Default,Bob,0,0,0,,Hi, there{\\i1}!\nDialogue: 0,bad,0:00:02.50,Default,,0,0,0,,x\n",
            None,
        );
        assert_eq!(p.cues.len(), 1);
        assert_eq!(p.cues[0].text, "Hi, there{\\i1}!");
        assert_eq!(p.cues[0].name.as_deref(), Some("Bob"));
        assert_eq!(p.cues[0].end_s, 2.5);
        assert_eq!(p.first_problem.map(|p| p.0), Some(8));
    }

    #[test]
    fn microdvd_fps_header_wins() {
        let p = parse(Format::MicroDvd, "{1}{1}25.000\n{25}{50}a|b\n", Some(24.0));
        assert_eq!(p.cues.len(), 1);
        assert_eq!(p.cues[0].start_s, 1.0);
        assert_eq!(p.cues[0].text, "a\nb");
        let p = parse(Format::MicroDvd, "{48}{72}x\n", Some(24.0));
        assert_eq!(p.cues[0].start_s, 2.0);
        let p = parse(Format::MicroDvd, "{48}{72}x\n", None);
        assert!(p.warnings[0].contains("23.976"));
        let p = parse(Format::MicroDvd, "{24}{}a\n{48}{}b\n", Some(24.0));
        assert_eq!((p.cues[0].end_s, p.cues[1].end_s), (2.0, 2.0));
    }
}
