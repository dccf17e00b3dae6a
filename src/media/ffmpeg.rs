//! The one way CineCut runs ffmpeg and ffprobe.
//!
//! Arguments are always vectors (never a shell string). stderr is captured so a
//! failure can say what ffmpeg said; `-progress` output is parsed for progress
//! bars; the child is killed if we are dropped mid-run (cancel, error).

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The ffmpeg binary: $CINECUT_FFMPEG, else `ffmpeg` on PATH.
pub fn ffmpeg_bin() -> PathBuf {
    std::env::var_os("CINECUT_FFMPEG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ffmpeg"))
}

/// The ffprobe binary: $CINECUT_FFPROBE, else `ffprobe` on PATH.
pub fn ffprobe_bin() -> PathBuf {
    std::env::var_os("CINECUT_FFPROBE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ffprobe"))
}

/// Kills the child when dropped, unless it was waited for.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(bin: &PathBuf, args: &[OsString], stdout: Stdio) -> Result<Child> {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let name = bin.display().to_string();
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::tool(
                    &name,
                    "not found on PATH — install it (Debian: apt-get install ffmpeg) or set CINECUT_FFMPEG/CINECUT_FFPROBE",
                )
            } else {
                Error::tool(&name, e.to_string())
            }
        })
}

/// Reads stderr on its own thread so a chatty ffmpeg never blocks on a full pipe.
fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// The last meaningful lines of ffmpeg's stderr, for error messages.
pub fn tail_lines(stderr: &str, n: usize) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// Runs ffprobe (or any quick tool) and returns its stdout.
pub fn probe_output(args: &[OsString]) -> Result<Vec<u8>> {
    let bin = ffprobe_bin();
    let mut child = spawn(&bin, args, Stdio::piped())?;
    let errs = drain_stderr(&mut child);
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout piped")
        .read_to_end(&mut out)
        .map_err(|e| Error::tool("ffprobe", e.to_string()))?;
    let status = child
        .wait()
        .map_err(|e| Error::tool("ffprobe", e.to_string()))?;
    let stderr = errs.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::tool("ffprobe", tail_lines(&stderr, 3)));
    }
    Ok(out)
}

/// What a finished ffmpeg run left behind.
pub struct Finished {
    pub stderr: String,
}

/// Runs ffmpeg with `args` (input/output options; the runner adds the quiet,
/// non-interactive and progress flags), calling `on_progress` with the output
/// time in seconds as ffmpeg reports it.
pub fn run(args: &[OsString], on_progress: &mut dyn FnMut(f64)) -> Result<Finished> {
    let bin = ffmpeg_bin();
    let mut full: Vec<OsString> = ["-hide_banner", "-nostdin", "-nostats", "-y"]
        .iter()
        .map(OsString::from)
        .collect();
    full.extend(["-progress", "pipe:1"].iter().map(OsString::from));
    full.extend_from_slice(args);
    let mut child = spawn(&bin, &full, Stdio::piped())?;
    let errs = drain_stderr(&mut child);
    let stdout = child.stdout.take().expect("stdout piped");
    let mut guard = KillOnDrop(Some(child));
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(v) = line.strip_prefix("out_time_us=") {
            if let Ok(us) = v.trim().parse::<i64>() {
                on_progress(us as f64 / 1e6);
            }
        }
    }
    let mut child = guard.0.take().expect("child present");
    let status = child
        .wait()
        .map_err(|e| Error::tool("ffmpeg", e.to_string()))?;
    let stderr = errs.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::tool("ffmpeg", tail_lines(&stderr, 4)));
    }
    Ok(Finished { stderr })
}

/// `ffmpeg -version`'s first line, or None when ffmpeg is missing.
pub fn version(bin: &PathBuf) -> Option<String> {
    let out = Command::new(bin)
        .arg("-version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}

/// Convenience: turn string-ish things into an argument vector.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { [$(std::ffi::OsString::from($a)),*] };
}
