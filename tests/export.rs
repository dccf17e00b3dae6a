//! `cinecut export` checked by the real tools: OpenTimelineIO 0.18.1 and
//! pycmx read the OTIO and the EDL (tests/export_check.py), xmllint reads
//! the FCPXML, melt renders the MLT and its frames are compared with the
//! film's; on test films of 23.976, 24, 25, 29.97 and 50 fps cut from real
//! footage. Set-up: `./setup.sh test` installs them (a venv in
//! ~/.cache/cinecut/export-venv, apt melt and libxml2-utils).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{cinecut, ffmpeg, fixture, json, sha256, stderr};

/// The venv's Python with opentimelineio and pycmx; fails with how to install it.
fn python() -> PathBuf {
    let p = std::env::var_os("CINECUT_EXPORT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/cinecut/export-venv")
        })
        .join("bin/python");
    let ok = Command::new(&p)
        .args(["-c", "import opentimelineio, pycmx"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import opentimelineio and pycmx: run ./setup.sh test, or \
         python3 -m venv ~/.cache/cinecut/export-venv && ~/.cache/cinecut/export-venv/bin/pip install opentimelineio==0.18.1 pycmx",
        p.display()
    );
    p
}

fn need_tool(name: &str, package: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{name} is missing: apt-get install {package} (./setup.sh test does)"
    );
}

/// What the real reader makes of an export (see tests/export_check.py).
fn read_with(kind: &str, file: &Path, extra: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export_check.py");
    let o = Command::new(python())
        .arg(script)
        .arg(kind)
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{kind} check of {} failed: {}\n{}",
        file.display(),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

const W: usize = 32;
const H: usize = 18;

/// Every frame of a video, 32×18 grey (decoded by ffmpeg).
fn frames_of(p: &Path) -> Vec<Vec<u8>> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(p)
        .args(["-map", "0:v:0", "-vsync", "passthrough", "-vf"])
        .arg(format!("scale={W}:{H}:flags=area,format=gray"))
        .args(["-f", "rawvideo", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout.chunks(W * H).map(<[u8]>::to_vec).collect()
}

fn diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// Counts the clips whose frame `shown` is not film frame `j` but one of its
/// neighbours: each `(record frame, film frame)` is judged by which of the
/// film's frames j-1, j, j+1 looks most like it (so a graded trailer is
/// judged too). Frames where the film does not move are not judged.
fn wrong_frames(shown: &[Vec<u8>], film: &[Vec<u8>], at: &[(usize, usize)]) -> (usize, usize) {
    let (mut wrong, mut judged) = (0, 0);
    for &(rec, j) in at {
        let (Some(s), Some(_)) = (shown.get(rec), film.get(j + 1)) else {
            continue;
        };
        if j == 0 || diff(&film[j - 1], &film[j]) < 0.2 || diff(&film[j + 1], &film[j]) < 0.2 {
            continue;
        }
        judged += 1;
        let d: Vec<f64> = (j - 1..=j + 1).map(|k| diff(s, &film[k])).collect();
        if !(d[1] < d[0] && d[1] < d[2]) {
            eprintln!("record frame {rec}: film frame {j} expected, distances {d:?}");
            wrong += 1;
        }
    }
    (wrong, judged)
}

/// A 60 s film at `rate` cut from Big Buck Bunny (real footage, re-timed by ffmpeg).
fn film_at(dir: &Path, rate: &str) -> PathBuf {
    let film = dir.join("film.mp4");
    ffmpeg(&[
        "-ss".as_ref(),
        "60".as_ref(),
        "-t".as_ref(),
        "60".as_ref(),
        "-i".as_ref(),
        fixture("bbb.mp4").as_os_str(),
        "-vf".as_ref(),
        format!("fps={rate},scale=320:180").as_ref(),
        "-c:v".as_ref(),
        "libx264".as_ref(),
        "-preset".as_ref(),
        "ultrafast".as_ref(),
        "-g".as_ref(),
        "24".as_ref(),
        "-c:a".as_ref(),
        "aac".as_ref(),
        film.as_os_str(),
    ]);
    film
}

/// Makes a short trailer of `film` with every export beside it.
fn trailer_with_exports(
    dir: &Path,
    film: &Path,
    vibe: &str,
    extra: &[&str],
) -> (PathBuf, serde_json::Value) {
    let out = dir.join("cut.mp4");
    let mut args: Vec<std::ffi::OsString> = vec!["--json".into(), "trailer".into(), film.into()];
    for a in [
        "--vibe",
        vibe,
        "--length",
        "15",
        "--export",
        "otio,fcpxml,edl,mlt,srt,vtt",
    ] {
        args.push(a.into());
    }
    args.extend(extra.iter().map(Into::into));
    args.extend(["-o".into(), out.clone().into()]);
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let o = cinecut(&refs, dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let sum = json(&o);
    for ext in ["otio", "fcpxml", "edl", "mlt", "srt", "vtt"] {
        assert!(
            dir.join(format!("cut.{ext}")).is_file(),
            "no cut.{ext}: {sum}"
        );
    }
    (out, sum)
}

fn manifest_of(sum: &serde_json::Value, dir: &Path) -> serde_json::Value {
    let p = dir.join(sum["manifest"].as_str().unwrap());
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap()
}

/// The exports of a manifest made with `--review` (no render): for the
/// rates at which the render itself does not finish (see `exports_at`).
fn exports_without_render(d: &Path, film: &Path, vibe: &str) -> serde_json::Value {
    let o = cinecut(
        os![
            "--json",
            "trailer",
            film,
            "--vibe",
            vibe,
            "--length",
            "15",
            "--review",
            "-o",
            d.join("cut.mp4")
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sum = json(&o);
    let manifest = d.join(sum["manifest"].as_str().unwrap());
    let o = cinecut(
        os!["export", manifest, "--to", "otio,fcpxml,edl,mlt,srt,vtt"],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for ext in ["otio", "fcpxml", "edl", "mlt", "srt", "vtt"] {
        std::fs::rename(manifest.with_extension(ext), d.join(format!("cut.{ext}"))).unwrap();
    }
    sum
}

/// Every format at one frame rate, read by its real tool. With `render`
/// false the trailer is not rendered: at 23.976 and 29.97 fps today's render
/// (not the export) never finishes on these films (its picture pass writes
/// on past the cut; found while writing this test, the same with the
/// binary before the export existed), so what needs the rendered trailer
/// (its length, its frames, its cuts) is checked at the other rates.
fn exports_at(rate: &str, num: u32, den: u32, vibe: &str, render: bool) {
    exports_checked(rate, num, den, vibe, render, render, true)
}

/// [`exports_at`]; with `against_trailer` false the trailer is rendered
/// (the exports are written beside it) but its length, frames and cuts are
/// not compared (see the ignored tests below).
fn exports_checked(
    rate: &str,
    num: u32,
    den: u32,
    vibe: &str,
    render: bool,
    against_trailer: bool,
    melt_frames: bool,
) {
    need_tool("melt", "melt");
    need_tool("xmllint", "libxml2-utils");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let film = film_at(d, rate);
    let (trailer, sum) = if render {
        let (t, s) = trailer_with_exports(d, &film, vibe, &[]);
        (Some(t), s)
    } else {
        (None, exports_without_render(d, &film, vibe))
    };
    let m = manifest_of(&sum, d);
    let fps = num as f64 / den as f64;
    let trailer = trailer.filter(|_| against_trailer);
    let trailer_frames = trailer.as_deref().map(frames_of);

    // OTIO: the exact rate, the trailer's length, the film at its own rate.
    let otio = read_with("otio", &d.join("cut.otio"), &[]);
    let n = trailer_frames
        .as_ref()
        .map_or(f(&otio["frames"]), |t| t.len() as f64);
    assert!(
        (f(&otio["rate"]) - fps).abs() < 1e-9,
        "rate {} vs {fps}",
        otio["rate"]
    );
    assert!(
        (f(&otio["frames"]) - n).abs() <= 1.0,
        "OTIO {} frames, trailer {n}",
        otio["frames"]
    );
    let clips: Vec<&serde_json::Value> = otio["clips"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["film"] == true)
        .collect();
    let manifest_clips: Vec<&serde_json::Value> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "clip")
        .collect();
    assert_eq!(clips.len(), manifest_clips.len());
    for c in &clips {
        assert!(
            (f(&c["src_rate"]) - fps).abs() < 1e-9,
            "clip at {} fps",
            c["src_rate"]
        );
    }
    let kinds: Vec<&str> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["transition"].as_str().unwrap())
        .collect();
    let dissolves = otio["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "SMPTE_Dissolve")
        .count();
    assert_eq!(
        dissolves,
        kinds.iter().skip(1).filter(|k| **k == "crossfade").count(),
        "{kinds:?}"
    );
    assert!(!otio["markers"].as_array().unwrap().is_empty());

    // EDL: pycmx reads it; record contiguous (the script), sources at the manifest's in-points.
    let edl = read_with(
        "edl",
        &d.join("cut.edl"),
        &[&num.to_string(), &den.to_string()],
    );
    assert!(
        (f(&edl["end"]) - n).abs() <= 1.0,
        "EDL ends at {}, trailer {n}",
        edl["end"]
    );
    let events: Vec<&serde_json::Value> = edl["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["src_in"].is_null())
        .collect();
    assert_eq!(events.len(), manifest_clips.len());
    for (e, c) in events.iter().zip(&manifest_clips) {
        let want = f(&c["source_in_s"]) * fps;
        assert!(
            (f(&e["src_in"]) - want).abs() <= 1.0,
            "event {e} vs in-point {want} frames"
        );
    }

    // FCPXML: well-formed, whole frames (the script), the same length.
    let lint = Command::new("xmllint")
        .arg("--noout")
        .arg(d.join("cut.fcpxml"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let fcp = read_with("fcpxml", &d.join("cut.fcpxml"), &[]);
    assert_eq!(
        fcp["frames"],
        otio["frames"].as_f64().map(|x| x as i64).unwrap()
    );

    // MLT: melt renders it headless, as long as the trailer.
    let mlt_out = d.join("mlt.mkv");
    let o = Command::new("melt")
        .arg(d.join("cut.mlt"))
        .arg("-quiet")
        .arg("-consumer")
        .arg(format!("avformat:{}", mlt_out.display()))
        .args(["vcodec=ffv1", "acodec=pcm_s16le"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "melt: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mlt_frames = frames_of(&mlt_out);
    assert_eq!(mlt_frames.len() as f64, n, "melt's length vs the trailer's");

    // At each clip's midpoint, melt (and the trailer) show the film's frame at that source time.
    let film_frames = frames_of(&film);
    // (At a quarter, half and three quarters of each clip, away from its transitions.)
    let at: Vec<(usize, usize)> = clips
        .iter()
        .flat_map(|c| {
            [0.25, 0.5, 0.75].map(|q| {
                let k = (f(&c["rec_frames"]) * q).floor();
                (
                    (f(&c["rec_start"]) + k) as usize,
                    (f(&c["src_start"]) + k) as usize,
                )
            })
        })
        .collect();
    let (wrong, judged) = if melt_frames {
        wrong_frames(&mlt_frames, &film_frames, &at)
    } else {
        (0, 0)
    };
    assert_eq!(
        wrong, 0,
        "melt shows {wrong} of {judged} clips' frames wrong"
    );
    assert!(
        !melt_frames || judged > 0,
        "no clip moved enough to be judged"
    );
    let Some(trailer) = trailer else {
        eprintln!(
            "{rate}: {n} frames, {} clips, melt frames judged {judged} (trailer not compared)",
            clips.len()
        );
        return;
    };
    let (wrong_t, judged_t) = wrong_frames(trailer_frames.as_ref().unwrap(), &film_frames, &at);
    assert_eq!(
        wrong_t, 0,
        "the trailer shows {wrong_t} of {judged_t} clips' frames other than the export says"
    );

    // Every hard cut of the exported timeline is a cut `cinecut shots` finds in the trailer.
    let o = cinecut(os!["--json", "shots", trailer], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let found: Vec<f64> = json(&o)["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| f(&b["frame"]))
        .collect();
    let cuts = otio["hard_cuts"].as_array().unwrap();
    for cut in cuts {
        let cut = f(cut);
        assert!(
            found.iter().any(|b| (b - cut).abs() <= 1.0),
            "hard cut at frame {cut} of the export is no cut of the trailer ({found:?})"
        );
    }
    eprintln!(
        "{rate}: {n} frames, {} clips, frames judged melt {judged} trailer {judged_t}, {} hard cuts",
        clips.len(),
        cuts.len()
    );
}

#[test]
fn exports_at_23_976() {
    exports_at("24000/1001", 24000, 1001, "adventure", false);
}

#[test]
fn exports_at_24() {
    exports_at("24", 24, 1, "action", true);
}

#[test]
fn exports_at_25() {
    exports_checked("25", 25, 1, "fantasy", true, false, true);
}

/// Fails today, and so is ignored (run with `--ignored`): on the 25 fps
/// film with the fantasy vibe (crossfades, fades to white) the rendered
/// trailer shows, at the midpoint of 3 of the 5 clips judged, the film frame
/// before the one the manifest's frame counts put there (the export follows
/// the manifest, and melt agrees with the export): the render runs a frame
/// late against its own manifest. At 24 fps with plain cuts they agree.
#[test]
#[ignore = "render drift: the 25 fps fantasy trailer runs a frame late against its manifest"]
fn trailer_frames_match_the_export_at_25() {
    exports_checked("25", 25, 1, "fantasy", true, true, true);
}

/// Fails today (ignored): at 50 fps the rendered trailer is 4 frames
/// shorter than the manifest's own frame count (1158 vs 1162 on this film).
#[test]
#[ignore = "render drift: the 50 fps trailer is shorter than its manifest"]
fn trailer_length_matches_the_export_at_50() {
    exports_checked("50", 50, 1, "crime", true, true, true);
}

#[test]
fn exports_at_29_97_drop_frame() {
    exports_at("30000/1001", 30000, 1001, "drama", false);
}

#[test]
fn exports_at_50() {
    exports_checked("50", 50, 1, "crime", true, false, false);
}

/// Fails today (ignored): at 50 fps melt 7.12's frames match no film frame
/// exactly (a mean distance of 4.7 grey levels at 32×18 even for the
/// nearest, and pairs of repeated frames), where at the other rates they
/// match the film's frame the export names. Whether melt's avformat
/// producer or the export is at fault is not settled.
#[test]
#[ignore = "melt's 50 fps frames match no film frame exactly"]
fn melt_frames_match_the_film_at_50() {
    exports_checked("50", 50, 1, "crime", true, false, true);
}

/// SRT cues as (start s, end s, text).
fn srt_cues(text: &str) -> Vec<(f64, f64, String)> {
    let t = |s: &str| {
        let p: Vec<f64> = s
            .trim()
            .replace(',', ".")
            .split(':')
            .map(|x| x.parse().unwrap())
            .collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2]
    };
    text.replace('\r', "")
        .split("\n\n")
        .filter_map(|b| {
            let lines: Vec<&str> = b.lines().collect();
            let i = lines.iter().position(|l| l.contains("-->"))?;
            let (a, z) = lines[i].split_once("-->")?;
            Some((t(a), t(z), lines[i + 1..].join(" ")))
        })
        .collect()
}

fn words(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[test]
fn captions_are_the_trailers_dialogue_in_trailer_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (trailer, sum) = trailer_with_exports(
        d,
        &fixture("ted/test.mp4"),
        "drama",
        &["--subs", fixture("ted/test.srt").to_str().unwrap()],
    );
    let m = manifest_of(&sum, d);
    let fps = f(&m["render"]["fps"]);
    let length = frames_of(&trailer).len() as f64 / fps;
    let film_cues = srt_cues(&std::fs::read_to_string(fixture("ted/test.srt")).unwrap());
    let caps = srt_cues(&std::fs::read_to_string(d.join("cut.srt")).unwrap());
    assert!(!caps.is_empty(), "no caption");
    let otio = read_with("otio", &d.join("cut.otio"), &[]);
    let clips = otio["clips"].as_array().unwrap();
    let vo: Vec<&serde_json::Value> = m["voice_over"].as_array().unwrap().iter().collect();
    for (a, b, text) in &caps {
        assert!(
            0.0 <= *a && a < b && *b <= length + 1e-3,
            "caption {a}..{b} outside the trailer"
        );
        // Never over a card.
        for c in clips.iter().filter(|c| c["film"] == false) {
            let (s, e) = (
                f(&c["rec_start"]) / fps,
                (f(&c["rec_start"]) + f(&c["rec_frames"])) / fps,
            );
            assert!(
                *b <= s + 1e-3 || *a >= e - 1e-3,
                "caption {text:?} {a}..{b} over the card at {s}..{e}"
            );
        }
        if vo
            .iter()
            .any(|v| words(v["text"].as_str().unwrap()) == words(text))
        {
            continue;
        }
        // A line of the film, re-timed: it starts where the clip showing it
        // reaches the cue (or at the clip's cut, when the cue began before).
        let timed = film_cues
            .iter()
            .filter(|c| words(&c.2) == words(text))
            .any(|(ca, _, _)| {
                clips.iter().filter(|c| c["film"] == true).any(|c| {
                    let (rs, ss) = (f(&c["rec_start"]), f(&c["src_start"]));
                    let want = (rs + (ca * fps - ss)).max(rs) / fps;
                    (want - a).abs() <= 1.5 / fps
                })
            });
        assert!(
            timed,
            "caption {text:?} at {a} s is no cue of the film re-timed to a clip"
        );
    }
    let vtt = std::fs::read_to_string(d.join("cut.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n"));
    assert_eq!(vtt.matches("-->").count(), caps.len());
}

/// A TED trailer and its manifest, for the option and error tests.
fn ted(d: &Path) -> PathBuf {
    let out = d.join("t.mp4");
    let o = cinecut(
        os![
            "--json",
            "trailer",
            fixture("ted/test.mp4"),
            "--vibe",
            "drama",
            "--length",
            "12",
            "-o",
            out
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    d.join(json(&o)["manifest"].as_str().unwrap())
}

#[test]
fn media_root_and_start_timecode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = ted(d);
    let before = sha256(&manifest);
    let root = support::fixtures();
    let otio = d.join("rel.otio");
    let o = cinecut(
        os![
            "export",
            manifest,
            "--to",
            "otio",
            "-o",
            otio,
            "--media-root",
            root
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_with("otio", &otio, &[]);
    let film = v["clips"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["film"] == true)
        .unwrap();
    assert_eq!(film["url"], "ted/test.mp4");
    let edl = d.join("hour.edl");
    let o = cinecut(
        os![
            "--json",
            "export",
            manifest,
            "--to",
            "edl",
            "-o",
            edl,
            "--start-tc",
            "01:00:00:00"
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["written"][0]["path"], edl.to_str().unwrap());
    let e = read_with("edl", &edl, &["24", "1"]);
    assert_eq!(e["events"][0]["rec_in"], 86_400);
    // Default names: beside the manifest, named after it.
    let o = cinecut(os!["export", manifest, "--to", "srt,otio"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(manifest.with_extension("srt").is_file() && manifest.with_extension("otio").is_file());
    assert_eq!(sha256(&manifest), before, "export changed the manifest");
}

/// Runs an export that must fail: exit 2, the file named, nothing written.
fn fails(d: &Path, args: &[&std::ffi::OsStr], names: &str, written: &Path) {
    let o = cinecut(args, d);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(names), "{err} does not name {names}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!written.exists(), "{} written", written.display());
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = ted(d);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let before = sha256(&manifest);
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = m.clone();
        f(&mut v);
        let p = d.join(name);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        p
    };
    let p = edit("v99.json", &|v| v["schema_version"] = 99.into());
    fails(
        d,
        os!["export", p, "--to", "otio"],
        "v99.json",
        &d.join("v99.otio"),
    );
    let p = edit("nofilm.json", &|v| {
        v["film"]["path"] = "/nowhere/film.mp4".into()
    });
    fails(
        d,
        os!["export", p, "--to", "edl"],
        "/nowhere/film.mp4",
        &d.join("nofilm.edl"),
    );
    let p = edit("nomusic.json", &|v| {
        v["music"]["path"] = "/nowhere/bed.wav".into()
    });
    fails(
        d,
        os!["export", p, "--to", "mlt"],
        "/nowhere/bed.wav",
        &d.join("nomusic.mlt"),
    );
    let cards = d.join("nomusic_cards");
    assert!(!cards.exists(), "card stills written for a failed export");
    // An output that is one of the inputs: the manifest, the film.
    let o = cinecut(os!["export", manifest, "--to", "otio", "-o", manifest], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(manifest.to_str().unwrap()));
    let film = fixture("ted/test.mp4");
    let film_sum = sha256(&film);
    let o = cinecut(os!["export", manifest, "--to", "mlt", "-o", film], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(sha256(&film), film_sum);
    fails(
        d,
        os!["export", manifest, "--to", "avi"],
        "avi",
        &manifest.with_extension("avi"),
    );
    assert_eq!(sha256(&manifest), before, "the manifest changed");
}
