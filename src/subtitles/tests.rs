//! Whole-pipeline unit tests on small inputs written here; the real files are
//! in `fixture_tests.rs`.

use super::*;

fn parse(s: &str) -> Dialogue {
    parse_bytes(s.as_bytes(), "t.srt", None, None).expect("parses")
}

fn texts(d: &Dialogue) -> Vec<&str> {
    d.cues.iter().map(|c| c.text.as_str()).collect()
}

#[test]
fn mixed_cue_becomes_speech_and_sound_with_same_timing() {
    let d = parse("1\n00:00:01,000 --> 00:00:03,000\n[GUNSHOT]\n<i>Get down!</i>\n");
    assert_eq!(d.cues.len(), 2);
    let speech = d.spoken().next().expect("speech");
    assert_eq!(speech.text, "Get down!");
    assert_eq!(speech.raw, "[GUNSHOT]\n<i>Get down!</i>");
    let sound = d
        .cues
        .iter()
        .find(|c| c.kind == CueKind::HearingImpaired)
        .expect("sound");
    assert_eq!(sound.text, "[GUNSHOT]");
    assert_eq!((sound.start_s, sound.end_s), (speech.start_s, speech.end_s));
    assert_eq!(sound.emotion.label, "tension");
    // Capitals are the convention for sounds, not shouting.
    let d = parse("1\n00:00:01,000 --> 00:00:03,000\n(SOUND EFFECT)\n");
    assert_eq!(d.cues[0].emotion.intensity, 0.0);
}

#[test]
fn adverts_dropped_and_reported() {
    let d = parse(
        "1\n00:00:01,000 --> 00:00:02,000\nDownloaded From www.AllSubs.org\n\n2\n00:00:03,000 --> 00:00:04,000\nHello.\n\n3\n00:00:05,000 --> 00:00:06,000\nSync and corrections by n17t01\n",
    );
    assert_eq!(texts(&d), ["Hello."]);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("dropped 2 advert") && w.contains("line(s) 2, 10")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn unsorted_duplicate_zero_length_and_overlapping_cues() {
    let d = parse(
        "1\n00:00:05,000 --> 00:00:06,000\nB\n\n2\n00:00:01,000 --> 00:00:02,100\nA\n\n3\n00:00:05,000 --> 00:00:06,000\nB\n\n4\n00:00:02,000 --> 00:00:02,000\nA two\n\n5\n00:00:08,000 --> 00:00:07,000\nC\n\n6\n00:00:07,500 --> 00:00:09,000\nD\n",
    );
    assert_eq!(texts(&d), ["A", "A two", "B", "D", "C"]);
    let w = d.warnings.join("\n");
    assert!(w.contains("not in time order"), "{w}");
    assert!(w.contains("1 duplicate"), "{w}");
    // The 0.1 s overlap of A into "A two" is slop and trimmed.
    assert_eq!(d.cues[0].end_s, 2.0);
    // Zero-length "A two" gets a reading time that stops at the next cue.
    assert!(
        d.cues[1].end_s > 2.5 && d.cues[1].end_s <= 5.0,
        "{:?}",
        d.cues[1]
    );
    // C ends before it starts: a reading time from its start instead.
    assert!((d.cues[4].end_s - 8.7).abs() < 1e-9, "{:?}", d.cues[4]);
    // D runs a second into C: real overlap, kept and reported.
    assert!(w.contains("1 spoken cue(s) overlap"), "{w}");
    assert!(d.cues.iter().all(|c| c.end_s > c.start_s));
    assert!(d.cues.iter().enumerate().all(|(i, c)| c.index == i));
}

#[test]
fn cues_past_the_film_end_are_dropped_and_reported() {
    let s = "1\n00:00:01,000 --> 00:00:02,000\nIn.\n\n2\n00:00:09,000 --> 00:00:12,000\nAcross.\n\n3\n00:00:20,000 --> 00:00:21,000\nPast.\n";
    let d = parse_bytes(s.as_bytes(), "f.srt", None, Some(10.0)).expect("parses");
    assert_eq!(texts(&d), ["In.", "Across."]);
    assert_eq!(d.cues[1].end_s, 10.0);
    let w = d.warnings.join("\n");
    assert!(
        w.contains(
            "f.srt: dropped 1 cue(s) that start after the film's end (10.0 s) at line(s) 10"
        ),
        "{w}"
    );
    assert!(w.contains("1 cue(s) cut at the film's end"), "{w}");
    let e = parse_bytes(s.as_bytes(), "f.srt", None, Some(0.5))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "f.srt: all 3 cues start after the film's end (0.5 s); wrong subtitle file or frame rate?"
    );
}

#[test]
fn speakers_protagonist_and_continuations() {
    let d = parse(
        "1\n00:00:01,000 --> 00:00:02,000\nRON: I'm kind of a big deal,\n\n2\n00:00:02,200 --> 00:00:03,000\npeople know me.\n\n3\n00:00:04,000 --> 00:00:05,000\n- VERONICA: Really?\n- RON: Yes.\n\n4\n00:00:06,000 --> 00:00:07,000\nRON: Stay classy.\n\n5\n00:00:08,000 --> 00:00:09,000\n- Who?\n- Me.\n",
    );
    let sp: Vec<Option<&str>> = d.cues.iter().map(|c| c.speaker.as_deref()).collect();
    assert_eq!(sp, [Some("RON"), Some("RON"), None, Some("RON"), None]);
    assert_eq!(d.cues[2].turns.len(), 2);
    assert_eq!(d.cues[2].turns[0].speaker.as_deref(), Some("VERONICA"));
    assert_eq!(d.cues[2].text, "Really?\nYes.");
    assert_eq!(
        d.speakers,
        [("RON".to_string(), 4), ("VERONICA".to_string(), 1)]
    );
    assert_eq!(d.protagonist.as_deref(), Some("RON"));
    // Nobody named: no protagonist, rather than a guess.
    assert_eq!(
        parse("1\n00:00:01,000 --> 00:00:02,000\nHi.\n").protagonist,
        None
    );
}

#[test]
fn ass_name_field_is_the_speaker() {
    let s = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,Default,Alice,0,0,0,,{\\i1}Hello{\\i0}\\NBob.\nDialogue: 0,0:00:03.00,0:00:04.00,Default,Bob,0,0,0,,Hi, Alice!\nDialogue: 0,0:00:05.00,0:00:06.00,Default,Alice,0,0,0,,How are you?\nDialogue: 0,0:00:07.00,0:00:08.00,Default,Alice,0,0,0,,Fine, thanks.\n";
    let d = parse_bytes(s.as_bytes(), "a.ass", None, None).expect("parses");
    assert_eq!(d.format, "ass");
    assert_eq!(d.cues[0].text, "Hello\nBob.");
    assert_eq!(d.cues[0].speaker.as_deref(), Some("Alice"));
    assert_eq!(d.protagonist.as_deref(), Some("Alice"));
    let s = s.replace(
        "0:00:07.00,0:00:08.00,Default",
        "0:00:07.00,0:00:08.00,Sign",
    );
    let d = parse_bytes(s.as_bytes(), "a.ass", None, None).expect("parses");
    assert_eq!(d.cues[3].kind, CueKind::HearingImpaired);
    assert_eq!(d.spoken().count(), 3);
}

#[test]
fn all_caps_file_does_not_shout_everywhere() {
    let mut s = String::new();
    for i in 0..10 {
        s.push_str(&format!(
            "{}\n00:00:{:02},000 --> 00:00:{:02},500\nTHE REPORT IS ON THE TABLE.\n\n",
            i + 1,
            i * 2,
            i * 2
        ));
    }
    let d = parse(&s);
    assert!(
        d.cues.iter().all(|c| c.emotion.intensity == 0.0),
        "{:?}",
        d.cues[0].emotion
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let e = parse_bytes(b"", "x.srt", None, None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "x.srt: the file is empty");
    let e = parse_bytes(&[0xFF, 0xFE, b' ', 0, b'\n', 0], "x.srt", None, None).unwrap_err();
    assert_eq!(e.to_string(), "x.srt: the file is empty");
    let e = parse_bytes(b"just some prose\n", "x.srt", None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.srt: not a subtitle format") && e.contains("just some prose"),
        "{e}"
    );
    let e = parse_bytes(b"1\n00:00:01,000 --> 00:00:xx\nHi\n", "x.srt", None, None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x.srt:2: unreadable timing line"), "{e}");
    let e = parse_bytes(b"WEBVTT\n\nNOTE nothing here\n", "x.vtt", None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.vtt: this webvtt file holds no cues"),
        "{e}"
    );
    let e = parse_bytes(
        &[0u8, 1, 2, 3, 0xFF, 0xD8, 7, 8, 9, 0, 0, 1],
        "x.srt",
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("binary"), "{e}");
    let e = load_subtitles(Path::new("/nonexistent/x.srt"), None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot read subtitle file /nonexistent/x.srt"),
        "{e}"
    );
}

#[test]
fn language_guess() {
    let mut en = String::new();
    let mut fr = String::new();
    for i in 0..12 {
        en.push_str(&format!("{}\n00:00:{:02},000 --> 00:00:{:02},500\nWhat is that? I don't know, it was the dog.\n\n", i + 1, i * 2, i * 2));
        fr.push_str(&format!("{}\n00:00:{:02},000 --> 00:00:{:02},500\nC'est pas vrai, je ne sais pas qui est là.\n\n", i + 1, i * 2, i * 2));
    }
    assert_eq!(parse(&en).language_guess.as_deref(), Some("en"));
    assert_eq!(parse(&fr).language_guess.as_deref(), Some("fr"));
    assert_eq!(
        parse("1\n00:00:01,000 --> 00:00:02,000\nHi.\n").language_guess,
        None
    );
}

#[test]
fn dialogue_round_trips_through_json() {
    let d = parse("1\n00:00:01,000 --> 00:00:02,000\n- A: Hi!\n- B: Hello.\n");
    let json = serde_json::to_string(&d).expect("serialises");
    let back: Dialogue = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back.cues.len(), 1);
    assert_eq!(back.cues[0].turns.len(), 2);
    assert_eq!(back.cues[0].kind, CueKind::Dialogue);
}

/// xorshift64*: a fixed-seed generator so the property test is reproducible
/// without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>- JOHN: Hi!</i>\r\n- [MUSIC] Hello?!\r\n\r\n2\r\n00:00:02,000 --> 00:00:01,000\r\n♪ la la ♪\r\n",
    "WEBVTT\n\nNOTE x\n\nSTYLE\n::cue{}\n\nid\n00:01.000 --> 00:02.000 align:start\n<v Bob>Hey <c.red>you</c><00:00:01.500>!</v>\n",
    "[Script Info]\nScriptType: v4.00+\n[Fonts]\n[x\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,Default,Ann,0,0,0,,{\\p1}m 0 0{\\p0}Hi,\\Nthere (SCREAMS)\n",
    "0:00:01.000,0:00:02.000\nHello\n\n0:00:03.000,0:00:02.000\n>> MAN: Bye\n",
    "{1}{1}25\n{25}{50}{y:i}Hi|there\n{60}{}Open end\n",
    "1\n00:00:01,000 --> 00:00:04,000\nDownloaded From www.AllSubs.org\n",
];

const TOKENS: &[&[u8]] = &[
    b"-->",
    b"{",
    b"}",
    b"{\\p1}",
    b"\\N",
    b"[",
    b"]",
    b"(",
    b")",
    b":",
    b"\r",
    b"\n",
    b"\n\n",
    "\u{FEFF}".as_bytes(),
    b"WEBVTT",
    b"{0}{0}",
    b"99999999999",
    b"00:00:",
    b",",
    b".",
    b"<",
    b">",
    b"<v ",
    b"- ",
    b"\xFF\xFE",
    b"\x00",
    b"\xC3",
    "♪".as_bytes(),
    b"[Events]\n",
    b"Dialogue: ",
    b"Format: Text\n",
    b"NOTE",
    b"|",
];

fn mutate(rng: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(6) {
        let pos = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(pos..pos, t.iter().copied());
            }
            2 if !v.is_empty() => {
                let end = (pos + rng.below(16)).min(v.len());
                v.drain(pos.min(end)..end);
            }
            3 => {
                // Duplicate a chunk: repeated and overlapping cues.
                let a = rng.below(v.len() + 1);
                let b = (a + rng.below(64)).min(v.len());
                let chunk: Vec<u8> = v[a..b].to_vec();
                v.splice(pos..pos, chunk);
            }
            _ => {
                let d = b"0123456789"[rng.below(10)];
                v.insert(pos, d);
            }
        }
    }
    v
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    // The stable-toolchain stand-in for the cargo-fuzz target: many thousand
    // inputs from a fixed seed; any panic or broken invariant fails the test.
    let mut rng = Rng(0x005E_EDC1_EC07);
    let mut oks = 0;
    for i in 0..12_000 {
        let input = if i % 5 == 0 {
            let n = rng.below(400);
            (0..n).map(|_| rng.next() as u8).collect()
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
            mutate(&mut rng, seed)
        };
        let fps = (i % 3 == 0).then_some(rng.below(2000) as f64 / 7.0);
        let dur = (i % 4 == 0).then_some(rng.below(10) as f64);
        match parse_bytes(&input, "rand.sub", fps, dur) {
            Ok(d) => {
                oks += 1;
                if let Err(e) = d.check() {
                    panic!("input {i} {:?}: {e}", String::from_utf8_lossy(&input));
                }
            }
            Err(e) => {
                let m = e.to_string();
                assert!(
                    m.starts_with("rand.sub"),
                    "input {i}: error does not name the file: {m}"
                );
            }
        }
    }
    // The mutations must mostly keep inputs readable, or the test tests nothing.
    assert!(oks > 4_000, "only {oks} inputs parsed");
}
