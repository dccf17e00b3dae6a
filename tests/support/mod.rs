//! What the integration tests share, written once: where the real media live
//! (`fixtures.rs`), running the real binary (here), making and measuring media
//! with the real ffmpeg/ffprobe (`media.rs`), the real llama-server and real
//! keyframes (`llm.rs`), and a loopback HTTP stand-in for faults (`standin.rs`).
//! Each test file declares `mod support;`; this folder is no test target itself.
#![allow(dead_code)] // each test target uses a part

mod fixtures;
pub mod llm;
pub mod media;
pub mod standin;

pub use fixtures::{fixture, fixtures, need};
#[allow(unused_imports)] // re-exported for the test files that use them, not all do
pub use media::{excerpt, ffmpeg, loudness, streams};

use std::path::Path;
use std::process::{Command, Output};

/// The real `cinecut` binary, to run in `cwd` without colour.
pub fn cinecut_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cinecut"));
    cmd.current_dir(cwd).env("NO_COLOR", "1");
    cmd
}

/// Runs the real `cinecut` binary with `args` in `cwd`, without colour.
pub fn cinecut(args: &[&std::ffi::OsStr], cwd: &Path) -> Output {
    cinecut_command(cwd)
        .args(args)
        .output()
        .expect("run cinecut")
}

/// `&[&OsStr]` of mixed strings and paths, for [`cinecut`].
#[macro_export]
macro_rules! os {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new(&$a)),*] };
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run's stdout as JSON; fails with both streams when it is not.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

/// The file's SHA-256, by `sha256sum` (independent of the code under test).
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
