//! Media made and measured with the real ffmpeg and ffprobe, never with the
//! code under test: odd inputs cut from real footage, and what a finished
//! file holds (streams, duration, EBU R128 loudness and true peak).

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

/// Runs ffmpeg quietly (overwriting outputs); fails the test with its stderr.
pub fn ffmpeg<S: AsRef<OsStr>>(args: &[S]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "ffmpeg {:?} failed: {}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Cuts a piece of a real film (stream copy, so it stays real footage).
pub fn excerpt(src: &Path, start: f64, len: f64, dest: &Path, extra: &[&str]) {
    let mut args: Vec<OsString> = vec!["-ss".into(), start.to_string().into(), "-i".into()];
    args.push(src.into());
    args.extend(["-t".into(), len.to_string().into()]);
    args.extend(extra.iter().map(OsString::from));
    args.push(dest.into());
    ffmpeg(&args);
}

/// ffprobe's JSON of the file's streams and container.
pub fn ffprobe_json(p: &Path) -> Vec<u8> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(p)
        .output()
        .expect("ffprobe must be installed");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        p.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// (codec_type, codec_name) of every stream, and the container duration.
pub fn streams(p: &Path) -> (Vec<(String, String)>, f64) {
    let v: serde_json::Value = serde_json::from_slice(&ffprobe_json(p)).expect("ffprobe json");
    let s = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or("").to_string(),
                s["codec_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let d = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    (s, d)
}

/// Integrated loudness (LUFS) and true peak (dBTP) with ffmpeg's ebur128.
pub fn loudness(p: &Path) -> (f64, f64) {
    let summary = ebur128_summary(p, &[]);
    (
        summary_value(&summary, "I:"),
        summary_value(&summary, "Peak:"),
    )
}

/// Integrated loudness (LUFS) of `p` between `from` and `to` seconds.
pub fn loudness_between(p: &Path, from: f64, to: f64) -> f64 {
    let window = [
        "-ss".to_string(),
        format!("{from}"),
        "-t".to_string(),
        format!("{}", to - from),
    ];
    summary_value(&ebur128_summary(p, &window), "I:")
}

/// The closing summary ebur128 prints for the audio of `p` read with
/// `input_options` (a seek window, say).
fn ebur128_summary(p: &Path, input_options: &[String]) -> String {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats"])
        .args(input_options)
        .arg("-i")
        .arg(p)
        .args(["-vn", "-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .expect("ffmpeg must be installed");
    let err = String::from_utf8_lossy(&out.stderr);
    match err.rfind("Summary:") {
        Some(at) => err[at..].to_string(),
        None => panic!("no ebur128 summary for {}: {err}", p.display()),
    }
}

/// The number after `key` in an ebur128 summary.
fn summary_value(summary: &str, key: &str) -> f64 {
    let at = summary
        .find(key)
        .unwrap_or_else(|| panic!("{key} in {summary}"))
        + key.len();
    summary[at..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {summary}"))
}
