//! `cinecut check` on a real file, the grade LUT through the real ffmpeg, and
//! the synthesized sound effects read back by ffprobe.

mod support;
use cinecut::check;
use cinecut::manifest::Manifest;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// A 4.000 s, 24 fps, 48 kHz stereo mp4 cut from the real bbb_short.mp4.
fn make_trailer(dir: &Path) -> PathBuf {
    let src = fixture("bbb_short.mp4");
    let out = dir.join("trailer.mp4");
    ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-vf",
        "fps=24,scale=640:360",
        "-frames:v",
        "96",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-ar",
        "48000",
        "-ac",
        "2",
        out.to_str().unwrap(),
    ]);
    out
}

/// Two 2 s clips of the one shot, 120 BPM beats from the music's in-point.
fn manifest(film: &Path, lufs: f64, second_clip_s: f64) -> Manifest {
    let beats: Vec<f64> = (0..40).map(|k| 3.0 + k as f64 * 0.5).collect();
    let v = serde_json::json!({
        "schema_version": 1, "cinecut_version": "test",
        "film": {"path": film, "fingerprint": "x", "title": "BBB", "duration_s": 5.28,
                 "fps": 25.0, "width": 1280, "height": 720, "has_audio": true},
        "vibe": "adventure", "target_length_s": 4.0,
        "structure": {"begin_t": 0.1, "escalation_t": 0.5, "climax_t": 0.8,
                      "source": "test", "reasoning": ""},
        "spoiler_line_s": 4.5,
        "beat_grid": {"bpm": 120.0, "beats": beats},
        "music": {"path": "m.ogg", "source": "test", "title": "m", "in_s": 3.0,
                  "out_s": 7.0, "gain_db": 0.0},
        "render": {"width": 640, "height": 360, "fps": 24.0, "crf": 23, "preset": "ultrafast",
                   "audio_sample_rate": 48000, "loudness_lufs": lufs, "true_peak_db": -1.0,
                   "grade": cinecut::vibes::Grade::neutral()},
        "timeline": [
            {"type": "clip", "act": "act1", "source_in_s": 0.0, "source_out_s": 2.0,
             "transition": "hard_cut", "transition_s": 0.0, "zone": "setup"},
            {"type": "clip", "act": "act2", "source_in_s": 2.0,
             "source_out_s": 2.0 + second_clip_s,
             "transition": "beat_cut", "transition_s": 0.0, "zone": "rising"}
        ],
    });
    let m: Manifest = serde_json::from_value(v).expect("valid manifest");
    m.validate().expect("valid manifest");
    m
}

fn one_shot() -> Vec<cinecut::analysis::Shot> {
    let v = serde_json::json!([{"index": 0, "start_s": 0.0, "end_s": 5.28, "start_frame": 0,
        "end_frame": 132, "keyframe_s": 0.0, "signals": {"motion": 0.0, "contrast": 0.0,
        "saturation": 0.0, "brightness": 0.0, "uniqueness": 0.0, "faces": 0.0,
        "loudness": 0.0, "onset_density": 0.0},
        "raw": {"motion": 0.0, "contrast": 0.0,
        "saturation": 0.0, "brightness": 0.0, "uniqueness": 0.0, "faces": 0.0,
        "loudness": 0.0, "onset_density": 0.0}}]);
    serde_json::from_value(v).unwrap()
}

#[test]
fn check_measures_a_real_trailer() {
    let dir = tempfile::tempdir().unwrap();
    let film = fixture("bbb_short.mp4");
    let trailer = make_trailer(dir.path());
    let shots = one_shot();
    // Big Buck Bunny's opening measures -34 LUFS, -10.7 dBTP with ffmpeg's
    // ebur128; the check must find the same in the re-encoded excerpt.
    let m = manifest(&film, -34.0, 2.0);
    let r = check::check(&trailer, &m, Some(&shots), Some(&[])).expect("check runs");
    eprintln!("{r}");
    assert!((r.loudness_lufs + 34.0).abs() < 1.5, "{r}");
    assert!(r.true_peak_dbtp < -8.0 && r.true_peak_dbtp > -17.0, "{r}");
    assert!((r.duration_s - 4.0).abs() < 0.5 / 24.0, "{r}");
    assert_eq!(r.cut_on_beat_rate, Some(1.0));
    assert!(r.hard_failures().is_empty(), "{r}");
    assert!(r.to_string().ends_with("PASS"));

    // The same file against a manifest 2 frames longer, a louder target and a
    // tighter spoiler line: each shows up as a hard failure.
    let mut bad = manifest(&film, -20.0, 2.0 + 2.0 / 24.0);
    bad.spoiler_line_s = 3.0;
    let r = check::check(&trailer, &bad, Some(&shots), None).expect("check runs");
    let f = r.hard_failures().join("\n");
    assert!(f.contains("frames off"), "{f}");
    assert!(f.contains("LU off the target -20.0"), "{f}");
    assert!(f.contains("spoiler line"), "{f}");
    assert!(r.dialogue_cuts.is_none());

    // A missing trailer is the user's input error, named.
    let e = check::check(&dir.path().join("nope.mp4"), &m, None, None).unwrap_err();
    assert!(e.to_string().contains("nope.mp4"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn check_run_reads_manifest_and_workdir() {
    let dir = tempfile::tempdir().unwrap();
    let film = fixture("bbb_short.mp4");
    let trailer = make_trailer(dir.path());
    let mpath = dir.path().join("TRAILER_MANIFEST.json");
    manifest(&film, -34.0, 2.0).save(&mpath).unwrap();
    assert!(check::run(&trailer, &mpath, true).expect("check runs"));
    manifest(&film, -20.0, 2.0).save(&mpath).unwrap();
    assert!(!check::run(&trailer, &mpath, false).expect("check runs"));
}

#[test]
fn grade_lut_applies_in_real_ffmpeg() {
    use cinecut::render::lut;
    let dir = tempfile::tempdir().unwrap();
    // A folder name with filtergraph specials, to prove the escaping.
    let sub = dir.path().join("a'b,c");
    std::fs::create_dir_all(&sub).unwrap();
    let cube = sub.join("warm.cube");
    let warm = cinecut::vibes::Grade {
        contrast: 1.1,
        saturation: 0.9,
        warmth: 0.6,
        ..cinecut::vibes::Grade::neutral()
    };
    lut::write_cube(&warm, lut::CUBE_SIZE, &cube).unwrap();
    let src = fixture("bbb_short.mp4");
    // Mean R and B of 5 frames, with and without the LUT.
    let means = |vf: String| -> (f64, f64) {
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-i"])
            .arg(&src)
            .args(["-frames:v", "5", "-vf"])
            .arg(format!("{vf}scale=64:36,format=rgb24"))
            .args(["-f", "rawvideo", "-"])
            .output()
            .expect("ffmpeg runs");
        assert!(
            out.status.success(),
            "ffmpeg rejected the LUT: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let px = &out.stdout;
        assert_eq!(px.len(), 5 * 64 * 36 * 3);
        let n = (px.len() / 3) as f64;
        let sum = |c: usize| px.iter().skip(c).step_by(3).map(|&v| v as f64).sum::<f64>() / n;
        (sum(0), sum(2))
    };
    let (r0, b0) = means(String::new());
    let (r1, b1) = means(format!("{},", lut::lut_filter(&cube)));
    assert!(
        r1 - b1 > r0 - b0 + 10.0,
        "R-B {:.1} -> {:.1}",
        r0 - b0,
        r1 - b1
    );
}

#[test]
fn sound_effects_are_valid_48k_stereo_wavs() {
    use cinecut::render::sfx;
    use cinecut::vibes::Transition;
    let dir = tempfile::tempdir().unwrap();
    for (t, b, want) in [
        (Transition::WhooshForward, false, 0.4),
        (Transition::HardCut, true, 1.2),
    ] {
        let p = sfx::render_sfx(&sfx::sfx_for(t, b), dir.path()).unwrap();
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries"])
            .args([
                "stream=codec_name,sample_rate,channels,duration",
                "-of",
                "json",
            ])
            .arg(&p)
            .output()
            .expect("ffprobe runs");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let s = &v["streams"][0];
        assert_eq!(s["codec_name"], "pcm_s16le");
        assert_eq!(s["sample_rate"], "48000");
        assert_eq!(s["channels"], 2);
        let d: f64 = s["duration"].as_str().unwrap().parse().unwrap();
        assert!((d - want).abs() < 1e-3, "{d}");
        // ebur128 agrees the peak sits near -6 dBFS (true peak may overshoot a little).
        let (_, tp) = loudness(&p);
        assert!((-7.0..=-5.0).contains(&tp), "true peak {tp}");
    }
}

/// Frame hashes (framemd5) and the number of video packets ffmpeg demuxed
/// for `seek` args then 12 frames of the film through `vf`.
fn frames_from(film: &Path, seek: &[std::ffi::OsString], t: f64, vf: &str) -> (Vec<String>, usize) {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-debug_ts",
            "-threads",
            "1",
            "-an",
        ])
        .args(seek)
        .args(["-t", &format!("{t:.6}"), "-i"])
        .arg(film)
        .args([
            "-vf",
            &format!("{vf}null"),
            "-frames:v",
            "12",
            "-f",
            "framemd5",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hashes = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap_or("").trim().to_string())
        .collect();
    let demuxed = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("demuxer -> ist_index:0 type:video"))
        .count();
    (hashes, demuxed)
}

/// What `pick` makes of each csv line ffprobe prints for `args`.
fn probe_times(args: &[&str], film: &Path, pick: impl Fn(&[&str]) -> Option<f64>) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(args)
        .args(["-of", "csv=p=0"])
        .arg(film)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| pick(&l.split(',').collect::<Vec<_>>()))
        .collect()
}

/// The decoder's key intra frames in a minute of the film (60-120 s), and
/// the key frames its MP4 index lists (packets read without parsers).
fn bbb_key_frames(film: &Path) -> (Vec<f64>, Vec<f64>) {
    let keys = probe_times(
        &[
            "-read_intervals",
            "60%+60",
            "-show_entries",
            "frame=pts_time,key_frame,pict_type",
        ],
        film,
        // key_frame, pts_time, pict_type
        |f| (f.first() == Some(&"1") && f.get(2) == Some(&"I")).then(|| f.get(1)?.parse().ok())?,
    );
    let indexed = probe_times(
        &[
            "-fflags",
            "+noparse+nofillin",
            "-show_entries",
            "packet=pts_time,flags",
        ],
        film,
        |f| {
            f.get(1)?
                .starts_with('K')
                .then(|| f.first()?.parse().ok())?
        },
    );
    (keys, indexed)
}

#[test]
fn a_clip_decoded_from_an_unindexed_key_frame_has_the_accurate_seeks_frames() {
    let film = fixture("bbb.mp4");
    let (keys, indexed) = bbb_key_frames(&film);
    let unindexed: Vec<f64> = keys
        .iter()
        .copied()
        .filter(|k| indexed.iter().all(|i| (i - k).abs() > 1e-3))
        .collect();
    assert!(
        unindexed.len() >= 3,
        "expected unindexed key frames in BBB 60-120 s: keys {keys:?}, index {indexed:?}"
    );
    let fps = 24.0;
    for &k in unindexed.iter().take(4) {
        // Six frames and a half into the shot, as the editor places clips.
        let clip: cinecut::manifest::Clip = serde_json::from_value(serde_json::json!({
            "act": "act1", "source_in_s": k + 6.5 / fps, "source_out_s": k + 2.0,
            "transition": "hard_cut", "transition_s": 0.0, "decode_from_s": k
        }))
        .unwrap();
        let (seek, lead) = cinecut::render::clip_seek(&clip, fps, true);
        let (lead_s, lead_vf) = lead.expect("a clip with decode_from_s seeks to it");
        let (ours, ours_demuxed) = frames_from(&film, &seek, lead_s + 1.0, &lead_vf);
        let plain_seek = ["-ss".into(), format!("{:.6}", clip.source_in_s).into()];
        let (plain, plain_demuxed) = frames_from(&film, &plain_seek, 1.0, "");
        assert_eq!(ours.len(), 12);
        assert_eq!(
            ours, plain,
            "frames differ for a clip decoded from the key frame at {k} s"
        );
        assert!(
            ours_demuxed < plain_demuxed,
            "decoding from {k} s read {ours_demuxed} packets, the indexed seek {plain_demuxed}"
        );
    }
}

#[test]
fn seek_points_are_the_key_frames_a_seek_lands_on() {
    let film = fixture("bbb.mp4");
    let (keys, indexed) = bbb_key_frames(&film);
    let indexed: Vec<f64> = indexed
        .into_iter()
        .filter(|t| keys.iter().any(|k| (k - t).abs() < 1e-3))
        .collect();
    // The analysis reads times to six significant digits: round them so.
    let rounded: Vec<f64> = keys.iter().map(|k| (k * 1000.0).round() / 1000.0).collect();
    let got = cinecut::media::probe::seek_points(&film, &rounded, 0.5 / 24.0).unwrap();
    assert!(
        indexed.len() >= 3 && indexed.len() < keys.len(),
        "{keys:?} / {indexed:?}"
    );
    assert_eq!(
        got.len(),
        indexed.len(),
        "seek points {got:?}, indexed {indexed:?}"
    );
    for (g, i) in got.iter().zip(&indexed) {
        assert!(
            (g - i).abs() < 1e-6,
            "seek points {got:?}, indexed {indexed:?}"
        );
    }
}
