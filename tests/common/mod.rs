//! Shared helpers for the integration tests: where the real media lives, how
//! to run the real binary, and measurements with the real ffprobe/ffmpeg.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures() -> PathBuf {
    std::env::var_os("CINECUT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".cache/cinecut/fixtures"))
}

fn dirs_home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

/// A fixture file; the test fails (never skips) when it is missing.
pub fn fixture(rel: &str) -> PathBuf {
    let p = fixtures().join(rel);
    assert!(
        p.is_file(),
        "missing test media {} — run scripts/fixtures.sh tests",
        p.display()
    );
    p
}

pub fn cinecut(args: &[&std::ffi::OsStr], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cinecut"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cinecut")
}

#[macro_export]
macro_rules! os {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new(&$a)),*] };
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

pub fn sha256(p: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(p)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// (codec_type, codec_name) of every stream, and the container duration.
pub fn streams(p: &Path) -> (Vec<(String, String)>, f64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(p)
        .output()
        .expect("ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
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
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(p)
        .args(["-vn", "-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let s = String::from_utf8_lossy(&out.stderr);
    let sum = &s[s.rfind("Summary:").expect("ebur128 summary")..];
    let grab = |k: &str| -> f64 {
        let i = sum.find(k).unwrap() + k.len();
        sum[i..].split_whitespace().next().unwrap().parse().unwrap()
    };
    (grab("I:"), grab("Peak:"))
}

/// Cuts a piece of a real film (stream copy, so it stays real footage).
pub fn excerpt(src: &Path, start: f64, len: f64, dest: &Path, extra: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-ss"])
        .arg(start.to_string())
        .arg("-i")
        .arg(src)
        .arg("-t")
        .arg(len.to_string())
        .args(extra)
        .arg(dest)
        .status()
        .expect("ffmpeg");
    assert!(st.success());
}
