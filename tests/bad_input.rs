//! Bad input gets one clear message that names the file and the problem, a
//! non-zero exit (2 for usage and input errors), no panic, and nothing
//! half-written at the output path.

mod support;
use support::*;

fn assert_clean_failure(o: &std::process::Output, code: i32, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

fn no_outputs(dir: &std::path::Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mp4") && !n.starts_with("film") && !n.starts_with("short"))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn missing_film() {
    let d = tempfile::tempdir().unwrap();
    let o = cinecut(os!["trailer", "nope.mkv", "--vibe", "action"], d.path());
    assert_clean_failure(&o, 2, &["nope.mkv", "no such file"]);
    no_outputs(d.path());
}

#[test]
fn text_file_renamed_mp4() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("film.mp4");
    std::fs::write(&f, "this is not a video, just words\n".repeat(100)).unwrap();
    let o = cinecut(
        os![
            "trailer",
            f,
            "--vibe",
            "action",
            "-o",
            d.path().join("t.mp4")
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["film.mp4", "not a video"]);
    no_outputs(d.path());
}

#[test]
fn unknown_vibe_suggests_nearest() {
    let d = tempfile::tempdir().unwrap();
    let o = cinecut(
        os!["trailer", fixture("bbb_short.mp4"), "--vibe", "horor"],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["horor", "horror"]);
    no_outputs(d.path());
}

#[test]
fn garbage_subtitles() {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("bad.srt");
    std::fs::write(&s, b"\x00\x01garbage\xff\xfe no cues here").unwrap();
    let o = cinecut(
        os![
            "trailer",
            fixture("ted/test.mp4"),
            "--subs",
            s,
            "--vibe",
            "drama",
            "-o",
            d.path().join("t.mp4")
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["bad.srt"]);
    no_outputs(d.path());
    let o = cinecut(
        os![
            "trailer",
            fixture("ted/test.mp4"),
            "--subs",
            d.path().join("missing.srt"),
            "--vibe",
            "drama"
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["missing.srt"]);
}

#[test]
fn output_equal_to_input_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("film.mp4");
    std::fs::copy(fixture("bbb_short.mp4"), &f).unwrap();
    let before = sha256(&f);
    let o = cinecut(
        os![
            "trailer",
            "film.mp4",
            "--vibe",
            "action",
            "-o",
            "./film.mp4"
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["film.mp4", "overwrite the input"]);
    assert_eq!(sha256(&f), before);
}

#[test]
fn unwritable_output_folder() {
    let d = tempfile::tempdir().unwrap();
    // /proc refuses new files even to root, unlike a chmod'ed folder.
    let o = cinecut(
        os![
            "trailer",
            fixture("bbb_short.mp4"),
            "--vibe",
            "action",
            "-o",
            "/proc/trailer.mp4"
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["/proc", "not writable"]);
    let o = cinecut(
        os![
            "trailer",
            fixture("bbb_short.mp4"),
            "--vibe",
            "action",
            "-o",
            "/nonexistent-dir/t.mp4"
        ],
        d.path(),
    );
    assert_clean_failure(&o, 2, &["/nonexistent-dir", "does not exist"]);
}

#[test]
fn silent_short_film_with_hostile_title_still_makes_a_trailer() {
    // No audio stream, shorter than the asked length, and a title full of
    // filtergraph specials: the trailer is still made, with a warning.
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("short.mp4");
    excerpt(
        &fixture("bbb_short.mp4"),
        0.0,
        5.3,
        &f,
        &["-an", "-c:v", "copy"],
    );
    let out = d.path().join("t.mp4");
    let title = "It's 50% off: \\o/ [x], y; %{pts}\nz";
    let o = cinecut(
        os![
            "--json", "trailer", f, "--vibe", "comedy", "--length", "60", "--title", title, "-o",
            out
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("too short"), "{}", stderr(&o));
    let (s, dur) = streams(&out);
    assert!(
        s.iter().any(|x| x.0 == "audio"),
        "a silent film still gets a sound track"
    );
    assert!(dur > 3.0 && dur < 12.0, "{dur}");
}
