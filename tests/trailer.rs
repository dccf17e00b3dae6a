//! End-to-end: the real binary makes real trailers from real films with the
//! real ffmpeg, and what it writes is checked with ffprobe and ebur128.

mod support;
use std::path::Path;
use support::*;

fn check_trailer(out: &Path, manifest: &serde_json::Value, film_duration: f64) {
    let (streams, dur) = streams(out);
    let v: Vec<_> = streams.iter().filter(|s| s.0 == "video").collect();
    let a: Vec<_> = streams.iter().filter(|s| s.0 == "audio").collect();
    assert_eq!(v.len(), 1, "{streams:?}");
    assert_eq!(v[0].1, "h264");
    assert_eq!(a.len(), 1, "{streams:?}");
    assert_eq!(a[0].1, "aac");
    // The manifest's total, counted in frames as the renderer does.
    let fps = manifest["render"]["fps"].as_f64().unwrap();
    let mut frames = 0i64;
    for (i, it) in manifest["timeline"].as_array().unwrap().iter().enumerate() {
        let d = if it["type"] == "clip" {
            it["source_out_s"].as_f64().unwrap() - it["source_in_s"].as_f64().unwrap()
        } else {
            it["duration_s"].as_f64().unwrap()
        };
        let n = (d * fps).round() as i64;
        let overlap = if i > 0 && it["transition"] == "crossfade" {
            ((it["transition_s"].as_f64().unwrap() * fps).round() as i64).min(n / 2)
        } else {
            0
        };
        frames += n - overlap;
    }
    let total = frames as f64 / fps;
    assert!(
        (dur - total).abs() <= 1.0,
        "duration {dur} vs manifest {total}"
    );
    for it in manifest["timeline"].as_array().unwrap() {
        if it["type"] == "clip" {
            let (a, b) = (
                it["source_in_s"].as_f64().unwrap(),
                it["source_out_s"].as_f64().unwrap(),
            );
            assert!(
                a >= 0.0 && b > a && b <= film_duration + 1e-6,
                "clip outside film: {it}"
            );
        }
    }
    let target = manifest["render"]["loudness_lufs"].as_f64().unwrap();
    let (i, tp) = loudness(out);
    assert!(
        (i - target).abs() <= 1.0,
        "loudness {i} LUFS, target {target}"
    );
    assert!(tp <= -1.0, "true peak {tp} dBTP");
}

/// Runs `cinecut check` on a finished trailer and asserts every editing
/// rule of the product; returns the report.
fn check_rules(out: &Path, manifest: &str, cwd: &Path) -> serde_json::Value {
    let o = cinecut(os!["--json", "check", out, "--manifest", manifest], cwd);
    let rep = json(&o);
    assert!(o.status.success(), "check failed: {rep}\n{}", stderr(&o));
    let rate = rep["cut_on_beat_rate"]
        .as_f64()
        .expect("a beat grid was checked");
    assert!(rate >= 0.95, "cut on beat {rate}: {rep}");
    for k in ["straddles", "dialogue_cuts", "spoiler_violations"] {
        assert_eq!(rep[k].as_array().map(|a| a.len()), Some(0), "{k}: {rep}");
    }
    let (l, t) = (
        rep["loudness_lufs"].as_f64().unwrap(),
        rep["target_lufs"].as_f64().unwrap(),
    );
    assert!((l - t).abs() <= 1.0, "loudness {l} LUFS, target {t}");
    let tp = rep["true_peak_dbtp"].as_f64().unwrap();
    assert!(tp <= -1.0, "true peak {tp} dBTP");
    assert!(
        rep["duration_off_frames"].as_f64().unwrap().abs() <= 1.0,
        "{rep}"
    );
    rep
}

#[test]
fn ted_clip_with_subtitles_end_to_end_rerun_and_render_round_trip() {
    let film = fixture("ted/test.mp4");
    let subs = fixture("ted/test.srt");
    let before = sha256(&film);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ted_trailer.mp4");
    let o = cinecut(
        os![
            "--json", "trailer", film, "--subs", subs, "--vibe", "drama", "--length", "24", "-o",
            out
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sum = json(&o);
    let manifest_path = sum["manifest"].as_str().unwrap().to_string();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    check_trailer(&out, &manifest, 61.7);
    assert!(sum["clips"].as_u64().unwrap() >= 4);
    // The editing rules hold on a dialogue-led trailer too: no word cut
    // (a line that does not fit between two beats becomes a split edit).
    assert!(manifest["music"]["path"].is_string(), "no music bed");
    check_rules(&out, &manifest_path, dir.path());
    assert_eq!(sha256(&film), before, "the input film was modified");
    // Some clip carries a whole line of dialogue from the subtitles.
    assert!(
        manifest["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["dialogue"].is_string()),
        "no dialogue clip"
    );

    // A rerun after success runs no stage at all.
    let o2 = cinecut(
        os![
            "--json", "trailer", film, "--subs", subs, "--vibe", "drama", "--length", "24", "-o",
            out
        ],
        dir.path(),
    );
    assert!(o2.status.success(), "{}", stderr(&o2));
    let ran: Vec<String> = json(&o2)["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "ran")
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert!(ran.is_empty(), "stages ran again: {ran:?}");

    // The manifest round-trips through `cinecut render` to the same cut.
    let out2 = dir.path().join("again.mp4");
    let o3 = cinecut(
        os!["--json", "render", manifest_path, "-o", out2],
        dir.path(),
    );
    assert!(o3.status.success(), "{}", stderr(&o3));
    let (_, d1) = streams(&out);
    let (_, d2) = streams(&out2);
    assert!((d1 - d2).abs() < 0.05, "{d1} vs {d2}");
    assert_eq!(json(&o3)["clips"], sum["clips"]);
    assert_eq!(sha256(&film), before);
}

#[test]
fn big_buck_bunny_excerpt_makes_an_action_trailer() {
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("bunny.mp4");
    excerpt(&fixture("bbb.mp4"), 60.0, 150.0, &film, &["-c", "copy"]);
    let out = dir.path().join("bunny_trailer.mp4");
    let o = cinecut(
        os![
            "--json",
            "trailer",
            film,
            "--vibe",
            "action",
            "--length",
            "45",
            "--music",
            fixture("music/Armygeddon/mix.ogg"),
            "-o",
            out
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sum = json(&o);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sum["manifest"].as_str().unwrap()).unwrap()).unwrap();
    check_trailer(&out, &manifest, 150.0);
    // Three acts, in order, and the title card.
    let acts: Vec<&str> = manifest["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["act"].as_str().unwrap())
        .collect();
    let pos = |a: &str| {
        acts.iter()
            .position(|x| *x == a)
            .unwrap_or_else(|| panic!("no {a} in {acts:?}"))
    };
    assert!(pos("act1") < pos("act2") && pos("act2") < pos("act3") && pos("act3") < pos("title"));
    // Every clip carries the storyboard's zone, beat type and reasoning.
    for it in manifest["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "clip")
    {
        assert!(
            it["zone"].is_string() && it["beat_type"].is_string(),
            "{it}"
        );
        assert!(!it["reasoning"].as_str().unwrap_or("").is_empty());
    }
    // The real song is the bed, and the editing rules hold on the rendered
    // file, as `cinecut check` measures them.
    assert!(
        manifest["music"]["path"]
            .as_str()
            .is_some_and(|p| p.contains("Armygeddon")),
        "{}",
        manifest["music"]
    );
    let rep = check_rules(&out, sum["manifest"].as_str().unwrap(), dir.path());
    // Cuts quicken act by act.
    let avg = |a: &str| {
        rep["acts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["act"] == a)
            .and_then(|x| x["avg_shot_s"].as_f64())
            .unwrap_or_else(|| panic!("no {a} in {rep}"))
    };
    assert!(
        avg("act1") > avg("act2") && avg("act2") > avg("act3"),
        "average shot act1 {} act2 {} act3 {}",
        avg("act1"),
        avg("act2"),
        avg("act3")
    );
    // --review writes the manifest and stops.
    let o = cinecut(
        os![
            "--json",
            "trailer",
            film,
            "--vibe",
            "action",
            "--length",
            "45",
            "-o",
            dir.path().join("r.mp4"),
            "--review"
        ],
        dir.path(),
    );
    assert!(o.status.success());
    assert_eq!(json(&o)["review_pending"], true);
    assert!(!dir.path().join("r.mp4").exists());
}
