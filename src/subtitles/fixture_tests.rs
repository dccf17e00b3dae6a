//! Every real subtitle file of the fixtures (see shared/media/README.md) gets a
//! sensible parse or a clear error naming it: one test per file, plus checks of
//! the two real films (Anchorman FR, Las chicas del cable ES), the encodings
//! set, the TED clip in six formats, and extraction from the MKV.
//! Fixtures come from $CINECUT_FIXTURES (default ~/.cache/cinecut/fixtures); a
//! missing file fails the test with its path.

use super::*;

// The one fixtures lookup of the integration tests, shared rather than copied.
#[path = "../../tests/support/fixtures.rs"]
mod fixtures;
use fixtures::{fixture, fixtures};

fn load(rel: &str) -> Dialogue {
    let p = fixture(rel);
    load_subtitles(&p, None, None).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

enum Expect {
    /// format, total cues, of which hearing-impaired.
    Ok(&'static str, usize, usize),
    /// A substring of the error, which must also name the file.
    Err(&'static str),
}

fn check(rel: &str, expect: Expect) {
    let p = fixture(rel);
    let got = load_subtitles(&p, None, None);
    match (expect, got) {
        (Expect::Ok(format, n, hi), Ok(d)) => {
            let got_hi = d
                .cues
                .iter()
                .filter(|c| c.kind == CueKind::HearingImpaired)
                .count();
            assert_eq!(
                (d.format.as_str(), d.cues.len(), got_hi),
                (format, n, hi),
                "{rel}: {:?}",
                d.warnings
            );
            for c in &d.cues {
                assert!(
                    c.end_s > c.start_s && c.start_s >= 0.0,
                    "{rel}: bad timing {c:?}"
                );
                assert!(!c.text.trim().is_empty(), "{rel}: empty text {c:?}");
                let tag_left = c.text.match_indices('<').any(|(i, _)| {
                    c.text[i + 1..].starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '/')
                });
                assert!(!tag_left, "{rel}: tag left in {:?}", c.text);
                assert!(
                    !c.text.contains("{\\"),
                    "{rel}: ASS block left in {:?}",
                    c.text
                );
                assert!((0.0..=1.0).contains(&c.emotion.intensity), "{rel}: {c:?}");
            }
            assert!(
                d.cues.windows(2).all(|w| w[0].start_s <= w[1].start_s),
                "{rel}: unsorted"
            );
            for w in &d.warnings {
                assert!(
                    w.starts_with(&p.display().to_string()),
                    "{rel}: warning does not name the file: {w}"
                );
            }
        }
        (Expect::Err(what), Err(e)) => {
            let msg = e.to_string();
            assert!(
                msg.contains(what),
                "{rel}: error {msg:?} should say {what:?}"
            );
            assert!(
                msg.starts_with(&p.display().to_string()),
                "{rel}: error does not name the file: {msg}"
            );
        }
        (Expect::Ok(..), Err(e)) => panic!("{rel}: expected a parse, got: {e}"),
        (Expect::Err(what), Ok(d)) => {
            panic!(
                "{rel}: expected an error saying {what:?}, got {} cues",
                d.cues.len()
            )
        }
    }
}

macro_rules! fixture_case {
    ($($name:ident: $rel:expr => $expect:expr;)*) => {
        $(#[test] fn $name() { check($rel, $expect) })*
    };
}

use Expect::{Err as E, Ok as O};

fixture_case! {
    pysrt_bom_utf16_be: "subs/pysrt/bom-utf-16-be.srt" => O("srt", 7, 0);
    pysrt_bom_utf16_le: "subs/pysrt/bom-utf-16-le.srt" => O("srt", 7, 0);
    pysrt_bom_utf32_be: "subs/pysrt/bom-utf-32-be.srt" => O("srt", 7, 0);
    pysrt_bom_utf32_le: "subs/pysrt/bom-utf-32-le.srt" => O("srt", 7, 0);
    pysrt_bom_utf8: "subs/pysrt/bom-utf-8.srt" => O("srt", 7, 0);
    pysrt_not_subtitles: "subs/pysrt/cStringIO.py" => E("not a subtitle format");
    // Two hidden zero-length cues and an {\an8} cue: 37 cues, one of them sound.
    pysrt_capability_tester: "subs/pysrt/capability_tester.srt" => O("srt", 38, 1);
    // Two cues have no text at all.
    pysrt_empty_cues: "subs/pysrt/empty.srt" => O("srt", 5, 0);
    // "00:00:01 --> 00:00:10" lacks milliseconds; read as whole seconds.
    pysrt_invalid: "subs/pysrt/invalid.srt" => O("srt", 1, 0);
    pysrt_no_indexes: "subs/pysrt/no-indexes.srt" => O("srt", 7, 0);
    // 1332 cues, two of them "Downloaded From www.AllSubs.org".
    pysrt_anchorman_utf8: "subs/pysrt/utf-8.srt" => O("srt", 1330, 0);
    pysrt_anchorman_cp1252: "subs/pysrt/windows-1252.srt" => O("srt", 1330, 0);
    pysubs2_aegisub_with_fonts: "subs/pysubs2/subtitle_with_attached_fonts_aegisub.ass" => O("ass", 1, 0);
    subsrt_ass: "subs/subsrt/sample.ass" => O("ass", 1, 0);
    subsrt_json: "subs/subsrt/sample.json" => E("not a subtitle format");
    subsrt_lrc: "subs/subsrt/sample.lrc" => E("not a subtitle format");
    subsrt_sbv: "subs/subsrt/sample.sbv" => O("sbv", 6, 2);
    subsrt_smi: "subs/subsrt/sample.smi" => E("not a subtitle format");
    subsrt_srt: "subs/subsrt/sample.srt" => O("srt", 5, 1);
    subsrt_ssa: "subs/subsrt/sample.ssa" => O("ssa", 1, 0);
    // Frames written as milliseconds × 25 by its generator: parsed, and the
    // absurd durations are reported.
    subsrt_sub: "subs/subsrt/sample.sub" => O("microdvd", 5, 1);
    subsrt_vtt: "subs/subsrt/sample.vtt" => O("webvtt", 5, 0);
    vtt_captions_with_bom: "subs/webvtt/captions_with_bom.vtt" => O("webvtt", 4, 0);
    vtt_comments: "subs/webvtt/comments.vtt" => O("webvtt", 3, 0);
    vtt_cue_tags: "subs/webvtt/cue_tags.vtt" => O("webvtt", 3, 0);
    vtt_empty: "subs/webvtt/empty.vtt" => E("the file is empty");
    // No WEBVTT header: read anyway.
    vtt_invalid: "subs/webvtt/invalid.vtt" => O("webvtt", 7, 0);
    sbv_invalid_format: "subs/webvtt/invalid_format.sbv" => E("not a subtitle format");
    srt_invalid_format1: "subs/webvtt/invalid_format1.srt" => E("not a subtitle format");
    srt_invalid_format2: "subs/webvtt/invalid_format2.srt" => E("not a subtitle format");
    srt_invalid_format3: "subs/webvtt/invalid_format3.srt" => E("not a subtitle format");
    srt_invalid_format4: "subs/webvtt/invalid_format4.srt" => E("holds no cues");
    sbv_invalid_timeframe: "subs/webvtt/invalid_timeframe.sbv" => O("sbv", 4, 0);
    srt_invalid_timeframe: "subs/webvtt/invalid_timeframe.srt" => O("srt", 4, 0);
    vtt_invalid_timeframe: "subs/webvtt/invalid_timeframe.vtt" => O("webvtt", 6, 0);
    vtt_invalid_timeframe_in_cue_text: "subs/webvtt/invalid_timeframe_in_cue_text.vtt" => O("webvtt", 3, 0);
    vtt_metadata_headers: "subs/webvtt/metadata_headers.vtt" => O("webvtt", 2, 0);
    vtt_metadata_headers_multiline: "subs/webvtt/metadata_headers_multiline.vtt" => O("webvtt", 2, 0);
    sbv_missing_caption_text: "subs/webvtt/missing_caption_text.sbv" => O("sbv", 4, 0);
    srt_missing_caption_text: "subs/webvtt/missing_caption_text.srt" => O("srt", 4, 0);
    vtt_missing_caption_text: "subs/webvtt/missing_caption_text.vtt" => O("webvtt", 4, 0);
    sbv_missing_timeframe: "subs/webvtt/missing_timeframe.sbv" => O("sbv", 4, 0);
    srt_missing_timeframe: "subs/webvtt/missing_timeframe.srt" => O("srt", 4, 0);
    vtt_missing_timeframe: "subs/webvtt/missing_timeframe.vtt" => O("webvtt", 6, 0);
    // 865 cues; 56 carry sounds ([música], [risas]...), some of them with speech.
    vtt_chicas_del_cable: "subs/webvtt/netflix_chicas_del_cable.vtt" => O("webvtt", 884, 56);
    vtt_no_captions: "subs/webvtt/no_captions.vtt" => E("holds no cues");
    vtt_non_padded_timestamps: "subs/webvtt/non_padded_timestamps.vtt" => O("webvtt", 3, 0);
    srt_one_caption: "subs/webvtt/one_caption.srt" => O("srt", 1, 0);
    vtt_one_caption: "subs/webvtt/one_caption.vtt" => O("webvtt", 1, 0);
    vtt_regions: "subs/webvtt/regions.vtt" => O("webvtt", 2, 0);
    sbv_sample: "subs/webvtt/sample.sbv" => O("sbv", 5, 0);
    srt_sample: "subs/webvtt/sample.srt" => O("srt", 5, 0);
    vtt_sample: "subs/webvtt/sample.vtt" => O("webvtt", 16, 0);
    vtt_styles: "subs/webvtt/styles.vtt" => O("webvtt", 1, 0);
    srt_styles_colours: "subs/webvtt/styles_colours.srt" => O("srt", 4, 0);
    vtt_styles_colours: "subs/webvtt/styles_colours.vtt" => O("webvtt", 4, 0);
    vtt_styles_with_comments: "subs/webvtt/styles_with_comments.vtt" => O("webvtt", 1, 0);
    sbv_two_captions: "subs/webvtt/two_captions.sbv" => O("sbv", 2, 0);
    vtt_using_identifiers: "subs/webvtt/using_identifiers.vtt" => O("webvtt", 6, 0);
    vtt_youtube_dl: "subs/webvtt/youtube_dl.vtt" => O("webvtt", 4, 0);
    // TED: 17 cues, the last two an identical 1 ms "(SOUND EFFECT)".
    ted_srt: "ted/test.srt" => O("srt", 16, 1);
    ted_vtt: "ted/test.vtt" => O("webvtt", 16, 1);
    ted_ass: "ted/test.ass" => O("ass", 16, 1);
    ted_ssa: "ted/test.ssa" => O("ssa", 16, 1);
    ted_sbv: "ted/test.sbv" => O("sbv", 16, 1);
    ted_sub: "ted/test.sub" => O("microdvd", 16, 1);
    ted_mkv_is_not_a_subtitle_file: "ted/test.mkv" => E("binary");
    ted_mp4_is_not_a_subtitle_file: "ted/test.mp4" => E("binary");
}

#[test]
fn every_fixture_file_is_in_the_table() {
    // A file added to the fixtures without a case here would go untested.
    let src = include_str!("fixture_tests.rs");
    let mut missing = Vec::new();
    for dir in [
        "subs/pysrt",
        "subs/pysubs2",
        "subs/subsrt",
        "subs/webvtt",
        "ted",
    ] {
        let d = fixtures().join(dir);
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("fixture folder {}: {e}", d.display()));
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("\"{dir}/{name}\"");
            if !src.contains(&rel) {
                missing.push(rel);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fixture files without a test case: {missing:?}"
    );
}

#[test]
fn anchorman_encodings_give_identical_text() {
    let a = load("subs/pysrt/utf-8.srt");
    let b = load("subs/pysrt/windows-1252.srt");
    assert_eq!(a.encoding, "UTF-8");
    assert_eq!(b.encoding, "windows-1252");
    assert_eq!(a.language_guess.as_deref(), Some("fr"));
    assert_eq!(a.cues.len(), b.cues.len());
    for (x, y) in a.cues.iter().zip(&b.cues) {
        assert_eq!((&x.text, x.start_s, x.end_s), (&y.text, y.start_s, y.end_s));
    }
    assert_eq!(
        a.cues[0].text,
        "CE FILM RELATE DES ÉVÉNEMENTS\nQUI ONT EXISTÉ."
    );
    assert!((a.cues[0].start_s - 27.074).abs() < 1e-9);
    assert_eq!(
        a.cues.last().map(|c| c.text.as_str()),
        Some("PRESENTATEUR VEDETTE\nLa légende de Ron Burgundy")
    );
    assert!(a
        .cues
        .iter()
        .all(|c| !c.text.to_lowercase().contains("allsubs")));
    assert!(a.warnings.iter().any(|w| w.contains("dropped 2 advert")));
    // Real dialogue carries emotion: a good share of lines is not neutral.
    let emotional = a.cues.iter().filter(|c| c.emotion.intensity > 0.2).count();
    assert!(emotional > 200, "only {emotional} emotional lines");
}

#[test]
fn chicas_del_cable_speakers_and_sounds() {
    let d = load("subs/webvtt/netflix_chicas_del_cable.vtt");
    assert_eq!(d.language_guess.as_deref(), Some("es"));
    let spoken = d.spoken().count();
    assert!((800..=865).contains(&spoken), "{spoken} spoken cues");
    assert_eq!(d.protagonist.as_deref(), Some("Alba"));
    let first = &d.cues[0];
    assert_eq!(
        (first.text.as_str(), first.speaker.as_deref()),
        ("En 1928,", Some("Alba"))
    );
    assert!(d
        .cues
        .iter()
        .any(|c| c.kind == CueKind::HearingImpaired && c.text == "[música]"));
    // Turn dashes: "- Déjala.\n- Tú no te metas. ¡No te metas!"
    let c = d
        .cues
        .iter()
        .find(|c| c.text.starts_with("Déjala."))
        .expect("cue");
    assert_eq!(c.turns.len(), 2);
    assert!(c.emotion.intensity > 0.0);
}

#[test]
fn bom_variants_give_identical_text() {
    let base = load("subs/pysrt/bom-utf-8.srt");
    for f in [
        "bom-utf-16-le.srt",
        "bom-utf-16-be.srt",
        "bom-utf-32-le.srt",
        "bom-utf-32-be.srt",
    ] {
        let d = load(&format!("subs/pysrt/{f}"));
        let a: Vec<(&str, f64)> = base
            .cues
            .iter()
            .map(|c| (c.text.as_str(), c.start_s))
            .collect();
        let b: Vec<(&str, f64)> = d
            .cues
            .iter()
            .map(|c| (c.text.as_str(), c.start_s))
            .collect();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn ted_clip_reads_the_same_in_six_formats() {
    let srt = load("ted/test.srt");
    for f in ["test.vtt", "test.ass", "test.ssa", "test.sbv", "test.sub"] {
        let d = load(&format!("ted/{f}"));
        assert_eq!(d.cues.len(), srt.cues.len(), "{f}");
        for (x, y) in srt.cues.iter().zip(&d.cues) {
            assert_eq!(x.text, y.text, "{f}");
            // ASS keeps centiseconds, MicroDVD frames at 25 fps.
            assert!(
                (x.start_s - y.start_s).abs() < 0.045,
                "{f}: {} vs {}",
                x.start_s,
                y.start_s
            );
        }
    }
    assert_eq!(srt.cues[0].text, "I've spent nearly two decades");
    assert_eq!(srt.language_guess.as_deref(), Some("en"));
    // The film is 61.7 s: nothing is past its end.
    let d = load_subtitles(&fixture("ted/test.srt"), None, Some(61.7)).expect("parses");
    assert!(
        !d.warnings.iter().any(|w| w.contains("film's end")),
        "{:?}",
        d.warnings
    );
    // A 30 s film: the cues after it are dropped and reported.
    let d = load_subtitles(&fixture("ted/test.srt"), None, Some(30.0)).expect("parses");
    assert!(d.cues.iter().all(|c| c.end_s <= 30.0));
    assert!(d
        .warnings
        .iter()
        .any(|w| w.contains("start after the film's end (30.0 s)")));
}

#[test]
fn microdvd_uses_the_given_fps_without_header() {
    // The TED .sub states 25 fps; without that header line the caller's fps applies.
    let text = std::fs::read_to_string(fixture("ted/test.sub")).expect("reads");
    let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let d = parse_bytes(body.as_bytes(), "ted.sub", Some(25.0), None).expect("parses");
    assert!((d.cues[0].start_s - 12.44).abs() < 1e-9);
    let d = parse_bytes(body.as_bytes(), "ted.sub", Some(50.0), None).expect("parses");
    assert!((d.cues[0].start_s - 6.22).abs() < 1e-9);
}

#[test]
fn embedded_subrip_stream_is_extracted_from_mkv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let film = fixture("ted/test.mkv");
    let got = extract_embedded(&film, dir.path()).expect("extracts");
    let Embedded::Extracted {
        path,
        stream,
        codec,
        ..
    } = got
    else {
        panic!("expected a stream, got {got:?}");
    };
    assert_eq!((stream, codec.as_str()), (0, "subrip"));
    assert!(path.is_file());
    assert!(!dir
        .path()
        .read_dir()
        .expect("dir")
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "part")));
    let d = load_embedded(&film, dir.path(), None, Some(61.7)).expect("loads");
    assert!(
        d.source.starts_with("embedded stream 0 of "),
        "{}",
        d.source
    );
    let srt = load("ted/test.srt");
    let a: Vec<&str> = d.cues.iter().map(|c| c.text.as_str()).collect();
    let b: Vec<&str> = srt.cues.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(a, b);
}

#[test]
fn film_without_subtitle_streams_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let film = fixture("ted/test.mp4");
    assert_eq!(
        extract_embedded(&film, dir.path()).expect("probes"),
        Embedded::Unavailable {
            reason: "the film has no subtitle streams".into()
        }
    );
    let e = load_embedded(&film, dir.path(), None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("test.mp4: no usable embedded subtitles: the film has no subtitle streams"),
        "{e}"
    );
    let e = extract_embedded(&fixture("subs/pysrt/cStringIO.py"), dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cStringIO.py: ffprobe failed"), "{e}");
}

#[test]
fn ass_stream_is_kept_as_ass_and_forced_stream_skipped() {
    // Mux the TED clip with a forced SubRip stream and a plain ASS stream: the
    // ASS one must win and stay ASS (its Name field would carry speakers).
    let dir = tempfile::tempdir().expect("tempdir");
    let mkv = dir.path().join("two subs.mkv");
    let out = crate::media::process::Process::ffmpeg()
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(fixture("ted/test.mp4"))
        .arg("-i")
        .arg(fixture("ted/test.srt"))
        .arg("-i")
        .arg(fixture("ted/test.ass"))
        .args([
            "-map", "0:v", "-map", "1", "-map", "2", "-c:v", "copy", "-c:s:0", "srt", "-c:s:1",
            "ass",
        ])
        .args(["-disposition:s:0", "forced", "-disposition:s:1", "0"])
        .arg(&mkv)
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "{}", out.stderr);
    let out = dir.path().join("out");
    let got = extract_embedded(&mkv, &out).expect("extracts");
    let Embedded::Extracted {
        path,
        stream,
        codec,
        ..
    } = got
    else {
        panic!("expected a stream, got {got:?}");
    };
    assert_eq!((stream, codec.as_str()), (1, "ass"));
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some("two subs.embedded-s1.ass")
    );
    let d = load_subtitles(&path, None, None).expect("parses");
    assert_eq!(d.format, "ass");
    assert_eq!(d.spoken().count(), load("ted/test.ass").spoken().count());
}
