//! Each metric on hand-made manifests; no files, no ffmpeg.

use super::*;
use crate::analysis::Signals;
use crate::manifest::{Act, Item};
use crate::subtitles::CueKind;

const FPS: f64 = 24.0;

/// A manifest at 24 fps, 120 BPM music starting 10 s into the track (so a
/// trailer beat every 0.5 s from 0), vibe "action" (act_cut_s 4.0/2.5/1.2).
/// Items: (act, seconds, transition, transition_s, source_in, zone).
fn manifest(items: &[(&str, f64, &str, f64, f64, &str)]) -> Manifest {
    let timeline: Vec<serde_json::Value> = items
        .iter()
        .map(|(act, d, tr, ts, sin, zone)| {
            if *sin < 0.0 {
                serde_json::json!({"type": "card", "act": act, "text": "TITLE",
                    "duration_s": d, "transition": tr, "transition_s": ts})
            } else {
                serde_json::json!({"type": "clip", "act": act, "source_in_s": sin,
                    "source_out_s": sin + d, "transition": tr, "transition_s": ts,
                    "zone": zone})
            }
        })
        .collect();
    let beats: Vec<f64> = (0..400).map(|k| 10.0 + k as f64 * 0.5).collect();
    let v = serde_json::json!({
        "schema_version": 1, "cinecut_version": "test",
        "film": {"path": "film.mp4", "fingerprint": "x", "title": "T", "duration_s": 600.0,
                 "fps": 24.0, "width": 1280, "height": 720, "has_audio": true},
        "vibe": "action", "target_length_s": 30.0,
        "structure": {"begin_t": 0.1, "escalation_t": 0.5, "climax_t": 0.8,
                      "source": "test", "reasoning": ""},
        "spoiler_line_s": 500.0,
        "beat_grid": {"bpm": 120.0, "beats": beats},
        "music": {"path": "m.ogg", "source": "test", "title": "m", "in_s": 10.0,
                  "out_s": 100.0, "gain_db": 0.0},
        "render": {"width": 1280, "height": 720, "fps": FPS, "crf": 20, "preset": "veryfast",
                   "audio_sample_rate": 48000, "loudness_lufs": -14.0, "true_peak_db": -1.0,
                   "grade": crate::vibes::Grade::neutral()},
        "timeline": timeline,
    });
    let m: Manifest = serde_json::from_value(v).unwrap();
    m.validate().unwrap();
    m
}

fn good_media(m: &Manifest) -> MediaMeasures {
    MediaMeasures {
        loudness_lufs: -14.2,
        true_peak_dbtp: -1.5,
        duration_s: m.total_duration_s(),
    }
}

fn eval(m: &Manifest, shots: Option<&[Shot]>, cues: Option<&[Cue]>) -> CheckReport {
    evaluate(Path::new("t.mp4"), m, shots, cues, good_media(m))
}

fn three_acts() -> Manifest {
    manifest(&[
        ("act1", 4.0, "hard_cut", 0.0, 10.0, "setup"),
        ("act1", 4.0, "hard_cut", 0.0, 20.0, "setup"),
        ("act2", 2.5, "beat_cut", 0.0, 100.0, "rising"),
        ("act2", 2.5, "beat_cut", 0.0, 110.0, "rising"),
        ("act3", 1.0, "hard_cut", 0.0, 200.0, "climax"),
        ("act3", 1.5, "hard_cut", 0.0, 210.0, "climax"),
        ("title", 2.0, "fade_to_black", 0.5, -1.0, ""),
    ])
}

#[test]
fn all_cuts_on_beat_pass() {
    let m = three_acts();
    let r = eval(&m, None, None);
    assert_eq!(r.cuts, 6);
    assert_eq!(r.cuts_on_beat, 6);
    assert_eq!(r.cut_on_beat_rate, Some(1.0));
    assert!(r.hard_failures().is_empty(), "{:?}", r.hard_failures());
    assert!(r.to_string().ends_with("PASS"), "{r}");
}

#[test]
fn off_beat_cut_is_counted_and_fails_below_95_percent() {
    // Second clip 1.25 s: every later cut is 0.25 s (6 frames) off.
    let m = manifest(&[
        ("act1", 2.0, "hard_cut", 0.0, 10.0, ""),
        ("act1", 1.25, "hard_cut", 0.0, 20.0, ""),
        ("act1", 1.0, "hard_cut", 0.0, 30.0, ""),
    ]);
    let r = eval(&m, None, None);
    assert_eq!((r.cuts, r.cuts_on_beat), (2, 1));
    assert_eq!(r.off_beat_cuts.len(), 1);
    assert_eq!(r.off_beat_cuts[0].item, 2);
    assert!((r.off_beat_cuts[0].off_frames.unwrap() - 6.0).abs() < 1e-9);
    assert!(r
        .hard_failures()
        .iter()
        .any(|f| f.contains("50 % of cuts on the beat")));
}

#[test]
fn one_frame_off_is_on_beat_two_frames_is_not() {
    let one = manifest(&[
        ("act1", 2.0 + 1.0 / FPS, "hard_cut", 0.0, 10.0, ""),
        ("act1", 1.0, "hard_cut", 0.0, 20.0, ""),
    ]);
    assert_eq!(eval(&one, None, None).cut_on_beat_rate, Some(1.0));
    let two = manifest(&[
        ("act1", 2.0 + 2.0 / FPS, "hard_cut", 0.0, 10.0, ""),
        ("act1", 1.0, "hard_cut", 0.0, 20.0, ""),
    ]);
    assert_eq!(eval(&two, None, None).cut_on_beat_rate, Some(0.0));
}

#[test]
fn beats_are_shifted_by_music_in_point() {
    let mut m = three_acts();
    m.music.as_mut().unwrap().in_s = 10.25;
    assert_eq!(eval(&m, None, None).cut_on_beat_rate, Some(0.0));
    // No beat grid: no rate, and no failure for it.
    m.beat_grid = None;
    let r = eval(&m, None, None);
    assert_eq!(r.cut_on_beat_rate, None);
    assert!(r.hard_failures().is_empty());
}

#[test]
fn crossfade_overlap_moves_the_cut_like_the_renderer() {
    let m = manifest(&[
        ("act1", 2.0, "hard_cut", 0.0, 10.0, ""),
        ("act1", 2.5, "crossfade", 0.5, 20.0, ""),
        ("act1", 1.0, "hard_cut", 0.0, 30.0, ""),
    ]);
    // 48 frames; then 60 frames starting 12 early (36); then at 96.
    assert_eq!(m.item_start_frames(), vec![0, 36, 96]);
    assert!((m.total_duration_s() - 120.0 / FPS).abs() < 1e-9);
    let r = eval(&m, None, None);
    assert_eq!(r.cut_on_beat_rate, Some(1.0));
}

fn shot(index: usize, start_s: f64, end_s: f64) -> Shot {
    Shot {
        index,
        start_s,
        end_s,
        start_frame: (start_s * FPS) as u64,
        end_frame: (end_s * FPS) as u64,
        keyframe_s: start_s,
        signals: Signals::default(),
        raw: Signals::default(),
    }
}

#[test]
fn straddles_found_and_snapped_edges_allowed() {
    let shots = [shot(0, 0.0, 5.0), shot(1, 5.0, 10.0), shot(2, 10.0, 600.0)];
    let m = manifest(&[
        ("act1", 2.0, "hard_cut", 0.0, 4.0, ""),  // 4..6 crosses 5
        ("act1", 2.0, "hard_cut", 0.0, 5.0, ""),  // 5..7 starts on it
        ("act1", 2.0, "hard_cut", 0.0, 3.0, ""),  // 3..5 ends on it
        ("act1", 1.0, "hard_cut", 0.0, 9.01, ""), // 9.01..10.01: 0.01 s < half a frame
    ]);
    let r = eval(&m, Some(&shots), None);
    let s = r.straddles.as_ref().unwrap();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!((s[0].item, s[0].boundary_s), (0, 5.0));
    assert!(r.hard_failures().iter().any(|f| f.contains("straddle")));
    // Without a shot list the metric is absent, not zero.
    assert!(eval(&m, None, None).straddles.is_none());
}

fn cue(start_s: f64, end_s: f64, kind: CueKind) -> Cue {
    // Through JSON, so the test follows the Cue type's optional fields.
    serde_json::from_value(serde_json::json!({
        "index": 0, "start_s": start_s, "end_s": end_s, "text": "We have to go",
        "raw": "We have to go", "speaker": null, "kind": kind, "line": 1,
        "emotion": {"label": "neutral", "valence": 0.0, "intensity": 0.0}
    }))
    .unwrap()
}

#[test]
fn dialogue_cut_inside_a_cue() {
    let cues = [
        cue(10.0, 12.0, CueKind::Dialogue),
        cue(30.0, 32.0, CueKind::HearingImpaired),
    ];
    let mut m = manifest(&[
        ("act1", 2.0, "hard_cut", 0.0, 11.0, ""), // in at 11: inside
        ("act1", 2.0, "hard_cut", 0.0, 8.03, ""), // out at 10.03: within 50 ms
        ("act1", 1.0, "hard_cut", 0.0, 30.5, ""), // [MUSIC] cue: not dialogue
        ("act1", 1.0, "hard_cut", 0.0, 10.5, ""), // both edges inside
    ]);
    let r = eval(&m, None, Some(&cues));
    let d = r.dialogue_cuts.as_ref().unwrap();
    let got: Vec<(usize, &str)> = d.iter().map(|c| (c.item, c.edge.as_str())).collect();
    assert_eq!(got, vec![(0, "in"), (3, "in"), (3, "out")]);
    assert!(r.hard_failures().iter().any(|f| f.contains("dialogue cue")));
    // A clip whose film sound is muted cuts no audible word.
    for it in m.timeline.iter_mut() {
        if let Item::Clip(c) = it {
            c.film_gain_db = -60.0;
        }
    }
    assert!(eval(&m, None, Some(&cues))
        .dialogue_cuts
        .unwrap()
        .is_empty());
}

#[test]
fn spoiler_violation() {
    let mut m = three_acts();
    m.spoiler_line_s = 205.0;
    let r = eval(&m, None, None);
    // act 3 clips: 200..201 is fine, 210..211.5 is past the line.
    assert_eq!(r.spoiler_violations.len(), 1);
    assert_eq!(r.spoiler_violations[0].item, 5);
    assert!(r.hard_failures().iter().any(|f| f.contains("spoiler")));
}

#[test]
fn loudness_true_peak_and_duration_limits() {
    let m = three_acts();
    let base = good_media(&m);
    let fails =
        |media: MediaMeasures| evaluate(Path::new("t.mp4"), &m, None, None, media).hard_failures();
    assert!(fails(MediaMeasures {
        loudness_lufs: -12.9,
        ..base
    })
    .iter()
    .any(|f| f.contains("LU off")));
    assert!(fails(MediaMeasures {
        loudness_lufs: -13.1,
        ..base
    })
    .is_empty());
    assert!(fails(MediaMeasures {
        true_peak_dbtp: -0.9,
        ..base
    })
    .iter()
    .any(|f| f.contains("true peak")));
    // Silence measures as -inf/NaN: that is a failure, not a pass.
    assert!(!fails(MediaMeasures {
        loudness_lufs: f64::NAN,
        ..base
    })
    .is_empty());
    let d = base.duration_s;
    assert!(fails(MediaMeasures {
        duration_s: d + 0.9 / FPS,
        ..base
    })
    .is_empty());
    let f = fails(MediaMeasures {
        duration_s: d + 2.0 / FPS,
        ..base
    });
    assert!(f.iter().any(|x| x.contains("2.0 frames off")), "{f:?}");
}

#[test]
fn act_pacing_and_zone_shares() {
    let m = three_acts();
    let r = eval(&m, None, None);
    let total = m.total_duration_s();
    assert!((total - 17.5).abs() < 1e-9);
    let act = |a: Act| r.acts.iter().find(|x| x.act == a).unwrap().clone();
    let a1 = act(Act::Act1);
    assert_eq!((a1.items, a1.clips), (2, 2));
    assert_eq!(a1.avg_shot_s, Some(4.0));
    assert_eq!(a1.target_avg_shot_s, Some(4.0));
    assert!((a1.share - 8.0 / 17.5).abs() < 1e-9);
    assert_eq!(act(Act::Act2).avg_shot_s, Some(2.5));
    assert_eq!(act(Act::Act3).avg_shot_s, Some(1.25));
    assert_eq!(act(Act::Act3).target_avg_shot_s, Some(1.2));
    let title = act(Act::Title);
    assert_eq!(
        (title.clips, title.avg_shot_s, title.target_avg_shot_s),
        (0, None, None)
    );
    assert!((r.acts.iter().map(|a| a.share).sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(r.pacing_accelerates, Some(true));
    let z: Vec<(&str, usize)> = r.zones.iter().map(|z| (z.zone.as_str(), z.clips)).collect();
    assert_eq!(z, vec![("setup", 2), ("rising", 2), ("climax", 2)]);
    assert!((r.zones[2].share - 2.5 / 17.5).abs() < 1e-9);
    // A slow act 3 is reported (not a hard failure).
    let slow = manifest(&[
        ("act1", 2.0, "hard_cut", 0.0, 10.0, ""),
        ("act2", 2.0, "hard_cut", 0.0, 20.0, ""),
        ("act3", 3.0, "hard_cut", 0.0, 30.0, ""),
    ]);
    let r = eval(&slow, None, None);
    assert_eq!(r.pacing_accelerates, Some(false));
    assert!(r.to_string().contains("does NOT accelerate"));
}

#[test]
fn report_serializes_and_prints_failures() {
    let mut m = three_acts();
    m.spoiler_line_s = 100.0;
    let r = eval(&m, None, None);
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["cuts"], 6);
    assert_eq!(j["spoiler_violations"].as_array().unwrap().len(), 4);
    let text = r.to_string();
    assert!(text.contains("FAIL spoiler line"), "{text}");
    assert!(text.contains("FAIL: 4 clip(s) use footage after the spoiler line"));
}

#[test]
fn context_is_read_from_the_work_folder() {
    let dir = tempfile::tempdir().unwrap();
    let shots = vec![shot(0, 0.0, 5.0), shot(1, 5.0, 9.0)];
    let cues = vec![cue(1.0, 2.0, CueKind::Dialogue)];
    let env = |data: serde_json::Value| {
        serde_json::json!({"schema_version": 1, "fingerprint": "f", "data": data}).to_string()
    };
    std::fs::write(
        dir.path().join("analysis.json"),
        env(
            serde_json::json!({"fps": 24.0, "frame_count": 216, "duration_s": 9.0,
                               "boundaries": [], "shots": shots}),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("dialogue.json"),
        env(
            serde_json::json!({"source": "s.srt", "format": "srt", "encoding": "utf-8",
                               "cues": cues, "protagonist": null, "warnings": []}),
        ),
    )
    .unwrap();
    let ctx = load_context(&dir.path().join("TRAILER_MANIFEST.json"));
    assert_eq!(ctx.shots.unwrap(), shots);
    let c = ctx.cues.unwrap();
    assert_eq!((c.len(), c[0].start_s, c[0].end_s), (1, 1.0, 2.0));
    assert!(ctx.warnings.is_empty());
    let ctx = load_context(&dir.path().join("elsewhere/TRAILER_MANIFEST.json"));
    assert!(ctx.shots.is_none() && ctx.cues.is_none() && ctx.warnings.is_empty());
    // A damaged file is reported, not silently taken as "no subtitles".
    std::fs::write(dir.path().join("dialogue.json"), "{not json").unwrap();
    let ctx = load_context(&dir.path().join("TRAILER_MANIFEST.json"));
    assert!(ctx.cues.is_none());
    assert!(
        ctx.warnings[0].contains("dialogue.json"),
        "{:?}",
        ctx.warnings
    );
}

#[test]
fn errors_keep_their_messages_and_exit_codes() {
    let bad_json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
    let cases = [
        (
            CheckError::Trailer {
                path: "t.mp4".into(),
                problem: TrailerProblem::Missing,
            },
            "t.mp4: no such trailer file".to_string(),
            2,
        ),
        (
            CheckError::Trailer {
                path: "t.mp4".into(),
                problem: TrailerProblem::NoVideoDuration,
            },
            "t.mp4: ffprobe found no video duration".into(),
            2,
        ),
        (
            CheckError::UnreadableProbe(bad_json),
            "ffprobe failed: unreadable output: EOF while parsing an object at line 1 column 1"
                .into(),
            1,
        ),
        (
            CheckError::Measure(crate::media::MediaError::ToolFailed {
                tool: "ffmpeg".into(),
                stderr_tail: "boom".into(),
            }),
            "ffmpeg failed: boom".into(),
            1,
        ),
        (
            Manifest::load(Path::new("/nonexistent/m.json"))
                .unwrap_err()
                .into(),
            "/nonexistent/m.json: no such manifest".into(),
            2,
        ),
    ];
    for (e, text, code) in cases {
        assert_eq!((e.to_string(), e.exit_code()), (text.clone(), code));
        let top = crate::error::Error::from(e);
        assert_eq!((top.to_string(), top.exit_code()), (text, code));
    }
}

#[test]
fn report_lines_follow_the_rule_table() {
    let m = three_acts();
    let text = eval(&m, None, None).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "check t.mp4 (vibe action)");
    assert_eq!(lines[1], "  ok   cuts on the beat    6/6 (100 %)");
    assert_eq!(lines[2], "  --   shot straddles      no shot list");
    assert_eq!(lines[3], "  --   words cut           no subtitles");
    assert_eq!(lines[4], "  ok   spoiler line        0 clip(s) past it");
    assert_eq!(
        lines[5],
        "  ok   loudness            -14.2 LUFS (target -14.0)"
    );
    assert_eq!(
        lines[6],
        "  ok   true peak           -1.5 dBTP (limit -1.0)"
    );
    assert!(lines[7].starts_with("  ok   duration            17.500 s (manifest 17.500 s"));
    assert_eq!(lines[8], "  acts:");
    assert_eq!(lines.last(), Some(&"PASS"));
}

#[test]
fn the_summary_names_the_beat_rate_last() {
    let mut m = three_acts();
    m.spoiler_line_s = 100.0;
    m.music.as_mut().unwrap().in_s = 10.25;
    let f = eval(&m, None, None).hard_failures();
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f[0].contains("spoiler line") && f[1].contains("of cuts on the beat"));
}
