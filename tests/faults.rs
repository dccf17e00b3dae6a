//! The fault campaign, the part that runs in CI: `kill -9` at three points
//! of every stage resumes to the same manifest, a killed cinecut takes its
//! ffmpeg with it, a busy work folder is refused, and the input files are
//! never written. Real binary, real ffmpeg, the real TED clip.
//!
//! Faults inside a stage are injected by the runner's hook
//! (`CINECUT_FAULT=STAGE:POINT`, see src/pipeline/fault.rs): the stages of a
//! short film take milliseconds, too short to hit from outside.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{cinecut_command, fixture, sha256, stderr};

const STAGES: [&str; 7] = [
    "analyse",
    "subtitles",
    "structure",
    "storyboard",
    "music",
    "assemble",
    "render",
];
const POINTS: [&str; 3] = ["begin", "made", "saved"];

/// `cinecut trailer` of the TED clip into `dir` (work folder `dir/work`).
fn trailer(dir: &Path) -> Command {
    trailer_to(dir, &dir.join("t.mp4"))
}

/// [`trailer`] with the trailer written to `out`.
fn trailer_to(dir: &Path, out: &Path) -> Command {
    let mut cmd = cinecut_command(dir);
    cmd.arg("trailer")
        .arg(fixture("ted/test.mp4"))
        .arg("--subs")
        .arg(fixture("ted/test.srt"))
        .args(["--vibe", "drama", "--length", "20", "-o"])
        .arg(out)
        .arg("--workdir")
        .arg(dir.join("work"));
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run cinecut")
}

/// The manifest with the run's own folder written as `<DIR>`.
fn manifest(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("work/TRAILER_MANIFEST.json"))
        .expect("the run wrote its manifest");
    text.replace(&dir.display().to_string(), "<DIR>")
}

/// Files a finished run must not leave: temporaries of atomic writes and
/// the render's partial files.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for d in [dir.to_path_buf(), dir.join("work"), dir.join("work/music")] {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".part")
                || name.contains(".cinecut-partial")
                || name.contains(".cinecut-picture")
            {
                found.push(e.path());
            }
        }
    }
    found
}

fn inputs_sha() -> Vec<String> {
    ["ted/test.mp4", "ted/test.srt"]
        .iter()
        .map(|f| sha256(&fixture(f)))
        .collect()
}

#[test]
fn a_kill_at_every_point_of_every_stage_resumes_to_the_same_manifest() {
    let before = inputs_sha();
    let clean = tempfile::tempdir().unwrap();
    let o = run(trailer(clean.path()));
    assert!(o.status.success(), "uninterrupted run: {}", stderr(&o));
    let want = manifest(clean.path());

    // One work folder through all 21 faults in order: each run resumes what
    // the last one left and is killed at the next point.
    let dir = tempfile::tempdir().unwrap();
    for (i, stage) in STAGES.iter().enumerate() {
        for point in POINTS {
            let mut cmd = trailer(dir.path());
            cmd.arg("--json")
                .env("CINECUT_FAULT", format!("{stage}:{point}"));
            let o = run(cmd);
            assert_eq!(
                o.status.signal(),
                Some(9),
                "{stage}:{point}: the run was to be killed there; it ended {:?}: {}",
                o.status,
                stderr(&o)
            );
            assert!(
                !dir.path().join("t.mp4").exists() || i == STAGES.len() - 1,
                "{stage}:{point}: a trailer appeared before the render"
            );
        }
    }
    let o = run(trailer(dir.path()));
    assert!(
        o.status.success(),
        "the rerun after the last kill: {}",
        stderr(&o)
    );
    assert_eq!(
        manifest(dir.path()),
        want,
        "the manifest of a run killed 21 times differs from an uninterrupted run's"
    );
    assert!(dir.path().join("t.mp4").is_file());
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
    assert_eq!(inputs_sha(), before, "an input file was written");
}

#[test]
fn a_rerun_after_a_kill_skips_what_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = trailer(dir.path());
    cmd.env("CINECUT_FAULT", "music:made");
    assert_eq!(run(cmd).status.signal(), Some(9));
    let mut cmd = trailer(dir.path());
    cmd.arg("--json");
    let o = run(cmd);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = support::json(&o);
    let status: Vec<(String, String)> = summary["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ran: Vec<&str> = status
        .iter()
        .filter(|(_, st)| st == "ran")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(ran, ["music", "assemble", "render"], "stages: {status:?}");
}

/// The pids of `pid`'s children that run `comm`.
fn children(pid: u32, comm: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces, so split after ')'.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let name = head.split_once(" (").map(|(_, n)| n).unwrap_or("");
        let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
        if name == comm && ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for a reaper does not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

#[test]
fn kill_9_of_cinecut_takes_its_ffmpeg_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = trailer(dir.path());
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut cinecut = cmd.spawn().expect("start cinecut");
    let pid = cinecut.id();
    let started = Instant::now();
    let ffmpeg = loop {
        if let Some(&f) = children(pid, "ffmpeg").first() {
            break f;
        }
        if let Ok(Some(status)) = cinecut.try_wait() {
            panic!("cinecut ended ({status:?}) before starting an ffmpeg");
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no ffmpeg child in 300 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    cinecut.kill().unwrap(); // SIGKILL: no destructor of cinecut runs
    cinecut.wait().unwrap();
    let killed = Instant::now();
    while alive(ffmpeg) && killed.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !alive(ffmpeg),
        "ffmpeg {ffmpeg} outlived the cinecut that started it"
    );
    // What it left behind is cleaned up by the next run, which finishes.
    let o = run(trailer(dir.path()));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_busy_work_folder_is_refused_and_other_folders_run_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    // The real flock(1) holds the folder's lock as another run would; `-o`
    // keeps the lock out of its `sleep`, so killing flock frees it.
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(work.join(".cinecut.lock"))
        .args(["sleep", "600"])
        .spawn()
        .expect("flock from util-linux");
    // flock takes the lock at once; give it the moment it needs to start.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        let probe = Command::new("flock")
            .args(["-n"])
            .arg(work.join(".cinecut.lock"))
            .arg("true")
            .status()
            .unwrap();
        if !probe.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = run(trailer(dir.path()));
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&work.display().to_string()) && err.contains("another cinecut run"),
        "{err}"
    );
    assert!(
        !work.join("analysis.json").exists(),
        "the refused run wrote artifacts"
    );
    assert!(!err.contains("panicked"), "{err}");

    // Two runs of the same film in two work folders at once both finish.
    let other = tempfile::tempdir().unwrap();
    let mut a = trailer(dir.path());
    let mut b = trailer(other.path());
    let a = a
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = b
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for (name, child) in [("first", a), ("second", b)] {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
    assert_eq!(manifest(dir.path()), manifest(other.path()));
}

/// A tmpfs of `size` mounted at `at` (the test runs as root, as setup.sh
/// does; a small tmpfs is the one honest way to fill a disk), unmounted
/// when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            o.status.success(),
            "mounting a tmpfs needs root (setup.sh runs as root): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs(at.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let o = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Everything on a tmpfs, hidden files included.
fn files_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_full_disk_gives_a_clear_error_leaves_nothing_half_written_and_the_next_run_succeeds() {
    let before = inputs_sha();
    // The work folder on a full disk: the first artifact cannot be written.
    let dir = tempfile::tempdir().unwrap();
    let work = Tmpfs::mount(&dir.path().join("work"), "16k");
    let o = run(trailer(dir.path()));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&work.0.display().to_string()) && err.contains("No space left"),
        "the error names the folder and the problem: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let left: Vec<String> = files_in(&work.0)
        .into_iter()
        .filter(|f| !f.ends_with(".cinecut.lock"))
        .collect();
    for f in &left {
        let text = std::fs::read(f).unwrap();
        assert!(
            serde_json::from_slice::<serde_json::Value>(&text).is_ok(),
            "{f} is half written"
        );
    }
    work.resize("64m");
    let o = run(trailer(dir.path()));
    assert!(o.status.success(), "with room again: {}", stderr(&o));

    // The output on a full disk: the render fails, no partial trailer.
    let dir = tempfile::tempdir().unwrap();
    let out = Tmpfs::mount(&dir.path().join("out"), "512k");
    let o = run(trailer_to(dir.path(), &out.0.join("t.mp4")));
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("cannot write the trailer in {}", out.0.display()))
            && err.contains("No space left"),
        "the error names the folder and the problem: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        files_in(&out.0),
        Vec::<String>::new(),
        "a partial trailer was left"
    );
    out.resize("64m");
    let o = run(trailer_to(dir.path(), &out.0.join("t.mp4")));
    assert!(o.status.success(), "with room again: {}", stderr(&o));
    assert!(out.0.join("t.mp4").is_file());
    assert_eq!(inputs_sha(), before, "an input file was written");
}
