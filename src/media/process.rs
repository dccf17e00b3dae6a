//! The one way CineCut runs ffmpeg and ffprobe (and any other media tool).
//!
//! Arguments are always vectors (never a shell string). stderr is drained on
//! its own thread and kept for the error message; ffmpeg's `-progress` output
//! is parsed for progress bars; the child is killed when its handle is
//! dropped mid-run (an error, a panic) or when the caller's [`CancelToken`]
//! is set. Four ways to run: [`Process::output`] (everything, whatever the
//! exit status), [`Process::stdout`] (stdout of a run that must succeed),
//! [`Process::run_with_progress`] (an ffmpeg job with progress) and
//! [`Process::stream`] (stdout read as it comes, e.g. decoded PCM).

use super::MediaError;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Makes the child die with CineCut: on Linux the kernel sends it SIGKILL
/// when the thread that started it ends — a `kill -9` of CineCut included,
/// which no drop handler sees. Without it an ffmpeg is reparented and keeps
/// writing a hidden partial file. Every child CineCut starts (media tools,
/// llama-server, python) goes through here.
///
/// Why the thread matters: the signal follows the spawning *thread*, so a
/// child must be started on a thread that outlives it (every caller waits
/// for its child on the thread that started it, or on the main thread).
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls are
        // allowed; prctl and getppid are plain system calls.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the prctl took effect.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other(
                        "CineCut exited while starting a tool",
                    ));
                }
                Ok(())
            });
        }
    }
    cmd
}

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

/// Set from any thread to stop a run: the runner polls it between progress
/// lines and stdout reads, kills the child and reports
/// [`MediaError::Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One run of a tool, its arguments added one by one.
#[derive(Debug, Clone)]
pub struct Process {
    /// The tool's name in messages ("ffmpeg"), whichever binary stands for it.
    tool: String,
    bin: PathBuf,
    args: Vec<OsString>,
    cancel: Option<CancelToken>,
}

/// Everything a finished run left: its exit status, stdout and stderr.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// A run that exited (its stdout read by the caller as it came).
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stderr: String,
}

/// The flags every progress run gets: quiet, never waiting on the terminal,
/// overwriting its output, progress on stdout.
const PROGRESS_FLAGS: [&str; 6] = [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-y",
    "-progress",
    "pipe:1",
];

impl Process {
    /// ffmpeg as configured ([`ffmpeg_bin`]).
    pub fn ffmpeg() -> Self {
        Self::named("ffmpeg", ffmpeg_bin())
    }

    /// ffprobe as configured ([`ffprobe_bin`]).
    pub fn ffprobe() -> Self {
        Self::named("ffprobe", ffprobe_bin())
    }

    /// Any binary (a path, or a name looked up on PATH), named as given.
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        let bin = bin.into();
        Self::named(&bin.display().to_string(), bin)
    }

    fn named(tool: &str, bin: PathBuf) -> Self {
        Process {
            tool: tool.to_string(),
            bin,
            args: Vec::new(),
            cancel: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Stops the run (killing the child) once `token` is set.
    pub fn cancel_on(mut self, token: &CancelToken) -> Self {
        self.cancel = Some(token.clone());
        self
    }

    /// Starts the tool with stdout piped to the caller, who reads it as it
    /// comes from the returned handle, then calls [`Running::finish`].
    pub fn stream(self) -> Result<Running, MediaError> {
        let spawned = die_with_parent(&mut Command::new(&self.bin))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = spawned.map_err(|source| {
            let tool = self.bin.display().to_string();
            if source.kind() == std::io::ErrorKind::NotFound {
                MediaError::ToolMissing { tool, source }
            } else {
                MediaError::ToolIo { tool, source }
            }
        })?;
        let stderr = drain_stderr(&mut child);
        let stdout = child.stdout.take();
        Ok(Running {
            tool: self.tool,
            child: Some(child),
            stdout,
            stderr: Some(stderr),
            cancel: self.cancel,
        })
    }

    /// Runs to the end; the exit status, stdout and stderr, whatever the
    /// status. An error only when the tool cannot be run or was cancelled.
    pub fn output(self) -> Result<Output, MediaError> {
        let mut running = self.stream()?;
        let mut stdout = Vec::new();
        if let Err(e) = running.read_to_end(&mut stdout) {
            return Err(running.read_error(e));
        }
        let Finished { status, stderr } = running.finish()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Runs a quick tool (ffprobe) to the end and returns its stdout; a
    /// failed exit is [`MediaError::ToolFailed`] with stderr's last 3 lines.
    pub fn stdout(self) -> Result<Vec<u8>, MediaError> {
        let tool = self.tool.clone();
        let out = self.output()?;
        if !out.status.success() {
            return Err(MediaError::ToolFailed {
                tool,
                stderr_tail: failure_lines(&out.stderr, 3),
            });
        }
        Ok(out.stdout)
    }

    /// Runs an ffmpeg job: `args` are its input/output options (the quiet,
    /// non-interactive and progress flags are added in front), and
    /// `on_progress` gets the output time in seconds as ffmpeg reports it. A
    /// failed exit is [`MediaError::ToolFailed`] with stderr's last 4 lines.
    pub fn run_with_progress(
        mut self,
        on_progress: &mut dyn FnMut(f64),
    ) -> Result<Finished, MediaError> {
        let tool = self.tool.clone();
        self.args
            .splice(0..0, PROGRESS_FLAGS.iter().map(OsString::from));
        let mut running = self.stream()?;
        let stdout = running.stdout.take().expect("stdout piped");
        for line in BufReader::new(stdout).lines() {
            if running.is_cancelled() {
                break;
            }
            let Ok(line) = line else { break };
            if let Some(t) = progress_seconds(&line) {
                on_progress(t);
            }
        }
        let fin = running.finish()?;
        if !fin.status.success() {
            return Err(MediaError::ToolFailed {
                tool,
                stderr_tail: failure_lines(&fin.stderr, 4),
            });
        }
        Ok(fin)
    }
}

/// A started tool whose stdout the caller reads ([`Read`]); killed if
/// dropped before [`Running::finish`].
pub struct Running {
    tool: String,
    /// `None` once waited for.
    child: Option<Child>,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    cancel: Option<CancelToken>,
}

impl Running {
    /// The child's process id.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The error for a failed read of stdout: a cancel, or the pipe's.
    pub fn read_error(&mut self, source: std::io::Error) -> MediaError {
        if self.is_cancelled() {
            self.kill();
            return MediaError::Cancelled {
                tool: self.tool.clone(),
            };
        }
        MediaError::ToolIo {
            tool: self.tool.clone(),
            source,
        }
    }

    /// Waits for the tool to exit (what is left of stdout is dropped) and
    /// returns its status and stderr; [`MediaError::Cancelled`] (the child
    /// killed) when the cancel token was set.
    pub fn finish(mut self) -> Result<Finished, MediaError> {
        drop(self.stdout.take());
        if self.is_cancelled() {
            self.kill();
            return Err(MediaError::Cancelled {
                tool: self.tool.clone(),
            });
        }
        let mut child = self.child.take().expect("a child not yet waited for");
        let status = child.wait().map_err(|source| MediaError::ToolIo {
            tool: self.tool.clone(),
            source,
        })?;
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Ok(Finished { status, stderr })
    }
}

impl Read for Running {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.is_cancelled() {
            self.kill();
            return Err(std::io::Error::other("cancelled"));
        }
        match self.stdout.as_mut() {
            Some(s) => s.read(buf),
            None => Ok(0),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads stderr on its own thread so a chatty tool never blocks on a full pipe.
fn drain_stderr(child: &mut Child) -> JoinHandle<String> {
    let mut err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// The output time in seconds of one line of ffmpeg's `-progress` output
/// (`out_time_us=…`; `N/A` before the first frame).
pub fn progress_seconds(line: &str) -> Option<f64> {
    let us = line
        .strip_prefix("out_time_us=")?
        .trim()
        .parse::<i64>()
        .ok()?;
    Some(us as f64 / 1e6)
}

/// The last meaningful lines of a tool's stderr, for error messages.
/// The operating-system errors ffmpeg prints (its `strerror` text), as the
/// error they are: what makes a failure the disk's or the folder's, not the
/// film's.
const OS_ERRORS: [(&str, i32); 5] = [
    ("No space left on device", libc::ENOSPC),
    ("Disk quota exceeded", libc::EDQUOT),
    ("File too large", libc::EFBIG),
    ("Read-only file system", libc::EROFS),
    ("Permission denied", libc::EACCES),
];

/// The operating-system error a tool's stderr reports, if any.
pub fn os_error(stderr: &str) -> Option<std::io::Error> {
    OS_ERRORS
        .iter()
        .find(|(text, _)| stderr.contains(text))
        .map(|&(_, errno)| std::io::Error::from_raw_os_error(errno))
}

/// The last `n` lines of a failed run's stderr, led by the first line that
/// names an operating-system error when that line is further up (ffmpeg
/// prints its encoder statistics after a failed write, pushing the cause
/// out of the tail).
fn failure_lines(stderr: &str, n: usize) -> String {
    let tail = tail_lines(stderr, n);
    let cause = stderr
        .lines()
        .map(str::trim)
        .find(|l| OS_ERRORS.iter().any(|(text, _)| l.contains(text)));
    match cause {
        Some(c) if !tail.contains(c) => format!("{c} | {tail}"),
        _ => tail,
    }
}

pub fn tail_lines(stderr: &str, n: usize) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// An input or output path as an ffmpeg argument: absolute, behind the
/// `file:` protocol, so names with colons or a leading dash stay literal.
pub fn file_arg(p: &Path) -> OsString {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut s = OsString::from("file:");
    s.push(abs.as_os_str());
    s
}

/// `ffmpeg -version`'s first line, or None when ffmpeg is missing.
pub fn version(bin: &PathBuf) -> Option<String> {
    let out = Process::new(bin).arg("-version").output().ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An ffmpeg that would run for ten minutes: a sine read at its own rate.
    fn ten_minutes() -> Process {
        Process::ffmpeg().args([
            "-hide_banner",
            "-nostdin",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            "600",
            "-f",
            "null",
            "-",
        ])
    }

    #[cfg(target_os = "linux")]
    fn alive(pid: u32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn a_failed_run_keeps_the_tail_of_stderr() {
        let e = Process::ffmpeg()
            .args([
                "-i",
                "/nonexistent/cinecut-no-such-film.mp4",
                "-f",
                "null",
                "-",
            ])
            .run_with_progress(&mut |_| {})
            .unwrap_err();
        let MediaError::ToolFailed { tool, stderr_tail } = &e else {
            panic!("expected a failed run, got {e:?}");
        };
        assert_eq!(tool, "ffmpeg");
        assert!(
            stderr_tail.contains("cinecut-no-such-film.mp4")
                && stderr_tail.contains("No such file or directory"),
            "{stderr_tail}"
        );
        assert!(e.to_string().starts_with("ffmpeg failed: "), "{e}");
    }

    #[test]
    fn progress_lines_are_parsed_into_seconds() {
        assert_eq!(progress_seconds("out_time_us=1500000"), Some(1.5));
        assert_eq!(progress_seconds("out_time_us=N/A"), None);
        assert_eq!(progress_seconds("out_time_ms=1500000"), None);
        let mut seen = Vec::new();
        Process::ffmpeg()
            .args(["-f", "lavfi", "-i", "sine=d=3", "-f", "null", "-"])
            .run_with_progress(&mut |t| seen.push(t))
            .expect("ffmpeg runs");
        let last = *seen.last().expect("progress reported");
        assert!((last - 3.0).abs() < 0.05, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    }

    #[test]
    fn stdout_and_stderr_come_back_whatever_the_status() {
        let out = Process::ffprobe()
            .args(["-v", "error", "-of", "csv=p=0", "-show_entries"])
            .args(["stream=sample_rate", "-f", "lavfi", "sine=r=22050:d=1"])
            .output()
            .expect("ffprobe runs");
        assert!(out.status.success(), "{}", out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "22050");
        let e = Process::ffprobe()
            .arg("/nonexistent/cinecut-no-such-film.mp4")
            .stdout()
            .unwrap_err();
        assert!(matches!(e, MediaError::ToolFailed { .. }), "{e:?}");
    }

    #[test]
    fn a_missing_binary_is_named_with_the_install_hint() {
        let bin = "/nonexistent/cinecut-no-such-ffmpeg";
        let e = Process::new(bin).arg("-version").output().unwrap_err();
        assert!(matches!(e, MediaError::ToolMissing { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("{bin} failed: not found on PATH — install it (Debian: apt-get install ffmpeg) or set CINECUT_FFMPEG/CINECUT_FFPROBE")
        );
        assert_eq!(e.os_detail(), "No such file or directory (os error 2)");
        assert_eq!(version(&PathBuf::from(bin)), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_dropped_run_kills_its_child() {
        let running = ten_minutes().stream().expect("ffmpeg starts");
        let pid = running.id().expect("a child");
        assert!(alive(pid));
        drop(running);
        assert!(!alive(pid), "ffmpeg {pid} outlived its handle");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_cancelled_stream_kills_its_child() {
        let token = CancelToken::new();
        let mut running = ten_minutes().cancel_on(&token).stream().expect("starts");
        let pid = running.id().expect("a child");
        token.cancel();
        let mut buf = [0u8; 16];
        let e = running.read(&mut buf).unwrap_err();
        assert!(matches!(
            running.read_error(e),
            MediaError::Cancelled { .. }
        ));
        assert!(!alive(pid), "ffmpeg {pid} outlived its cancel");
        assert!(matches!(
            running.finish(),
            Err(MediaError::Cancelled { .. })
        ));
    }

    #[test]
    fn a_cancelled_progress_run_stops() {
        let token = CancelToken::new();
        let cancel = token.clone();
        let e = ten_minutes()
            .cancel_on(&token)
            .run_with_progress(&mut |_| cancel.cancel())
            .unwrap_err();
        assert!(matches!(e, MediaError::Cancelled { .. }), "{e:?}");
        assert_eq!(e.to_string(), "ffmpeg failed: cancelled");
    }

    #[test]
    fn a_disk_error_further_up_leads_the_failure() {
        let stderr = "frame=1\n[out#0/mp4] Error writing trailer: No space left on device\n\
                      stats 1\nstats 2\nstats 3\nConversion failed!\n";
        let lines = failure_lines(stderr, 3);
        assert!(
            lines.starts_with("[out#0/mp4] Error writing trailer: No space left on device | "),
            "{lines}"
        );
        assert!(lines.ends_with("Conversion failed!"), "{lines}");
        assert_eq!(
            os_error(stderr).and_then(|e| e.raw_os_error()),
            Some(libc::ENOSPC)
        );
        assert_eq!(failure_lines("a\nb\n", 3), "a | b");
        assert!(os_error("Invalid data found when processing input").is_none());
    }
}
