//! The work directory: atomic writes, input fingerprints and stage artifacts.
//!
//! Every artifact is written to a temporary file in the same folder, fsynced
//! and renamed into place, so a killed run never leaves a half-written file.
//! An artifact carries the fingerprint of the inputs it was made from; a stage
//! is skipped when its artifact exists and the fingerprint still matches.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What can go wrong in the work directory. The work directory is a leaf:
/// the top-level error turns this into its own `Io` / `Internal`.
#[derive(Debug, thiserror::Error)]
pub enum WorkdirError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bug: data of CineCut's own making could not be serialised.
    #[error("{0}")]
    Serialise(String),
    /// Another CineCut run holds the work folder.
    #[error("{}: another cinecut run is working in this folder{}", dir.display(), holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy { dir: PathBuf, holder: Option<u32> },
}

impl WorkdirError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        WorkdirError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = WorkdirError> = std::result::Result<T, E>;

/// Bumped whenever any artifact's layout changes, so old work dirs are redone.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|e| WorkdirError::io(&dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".cinecut-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(|e| WorkdirError::io(&dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| WorkdirError::io(path, e))?;
    // tempfile creates 0600 files; artifacts and outputs are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| WorkdirError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| WorkdirError::io(path, e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// The folder a path lives in ("." for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Same file? Works for outputs that do not exist yet.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let parent = parent_dir(p).canonicalize().ok()?;
        Some(parent.join(p.file_name()?))
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Makes a rename durable. Failure only weakens crash safety, so it is ignored.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A cheap, content-sensitive fingerprint of a (possibly huge) file: size,
/// modification time and a hash of blocks sampled at its start, middle and end.
pub fn file_fingerprint(path: &Path) -> Result<String> {
    const BLOCK: u64 = 64 * 1024;
    let mut f = File::open(path).map_err(|e| WorkdirError::io(path, e))?;
    let meta = f.metadata().map_err(|e| WorkdirError::io(path, e))?;
    let len = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(len.to_le_bytes());
    h.update(mtime.to_le_bytes());
    let mut buf = vec![0u8; BLOCK as usize];
    for off in [0, len / 2, len.saturating_sub(BLOCK)] {
        f.seek(SeekFrom::Start(off))
            .map_err(|e| WorkdirError::io(path, e))?;
        let n = read_up_to(&mut f, &mut buf).map_err(|e| WorkdirError::io(path, e))?;
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()[..16]))
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// A file's modification time in nanoseconds since the epoch (0 when unknown).
pub fn mtime_ns(p: &Path) -> u128 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// sha256 of a whole file, hex, for checksums of downloads.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| WorkdirError::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| WorkdirError::io(path, e))?;
    Ok(hex(&h.finalize()))
}

/// Combines the parts that decide a stage's output into one fingerprint.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(SCHEMA_VERSION.to_le_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize()[..16])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of the lock file in a work folder.
pub const LOCK_NAME: &str = ".cinecut.lock";

/// Holds a work folder for one run: a second run on the same folder is
/// refused at once instead of interleaving its artifacts with the first's.
///
/// Why `flock`: the kernel drops the lock when the holder dies, `kill -9`
/// included, so a lock is never stale and no run has to guess whether an
/// old lock file still means something. The file holds the holder's pid,
/// for the message only.
pub struct WorkLock {
    _file: File,
}

impl WorkLock {
    /// Takes the lock of `dir` (created if missing), or says who has it.
    pub fn acquire(dir: &Path) -> Result<WorkLock> {
        std::fs::create_dir_all(dir).map_err(|e| WorkdirError::io(dir, e))?;
        let path = dir.join(LOCK_NAME);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| WorkdirError::io(&path, e))?;
        if !try_lock(&file).map_err(|e| WorkdirError::io(&path, e))? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(WorkdirError::Busy {
                dir: dir.to_path_buf(),
                holder: text.trim().parse().ok(),
            });
        }
        // The pid is a courtesy for the message: a failure to write it
        // changes nothing about the lock.
        let _ = file.set_len(0);
        let _ = write!(file, "{}", std::process::id());
        Ok(WorkLock { _file: file })
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function's caller owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    schema_version: u32,
    fingerprint: String,
    data: T,
}

/// A stage artifact saved as JSON, tagged with the fingerprint of its inputs.
pub struct Artifact {
    pub path: PathBuf,
    pub fingerprint: String,
}

/// The fingerprint a saved artifact carries, whatever it holds.
pub fn saved_fingerprint(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let env: Envelope<serde::de::IgnoredAny> = serde_json::from_slice(&bytes).ok()?;
    (env.schema_version == SCHEMA_VERSION).then_some(env.fingerprint)
}

impl Artifact {
    pub fn new(dir: &Path, name: &str, fingerprint: String) -> Self {
        Artifact {
            path: dir.join(name),
            fingerprint,
        }
    }

    /// The saved data, if present, readable and made from the same inputs.
    /// A corrupt or stale artifact is treated as absent (and redone).
    pub fn load<T: DeserializeOwned>(&self) -> Option<T> {
        let bytes = std::fs::read(&self.path).ok()?;
        let env: Envelope<T> = serde_json::from_slice(&bytes).ok()?;
        (env.schema_version == SCHEMA_VERSION && env.fingerprint == self.fingerprint)
            .then_some(env.data)
    }

    pub fn save<T: Serialize>(&self, data: &T) -> Result<()> {
        let env = Envelope {
            schema_version: SCHEMA_VERSION,
            fingerprint: self.fingerprint.clone(),
            data,
        };
        let json =
            serde_json::to_vec_pretty(&env).map_err(|e| WorkdirError::Serialise(e.to_string()))?;
        atomic_write(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        atomic_write(&p, b"first").unwrap();
        atomic_write(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn artifact_round_trip_and_staleness() {
        let d = tempfile::tempdir().unwrap();
        let a = Artifact::new(d.path(), "x.json", "fp1".into());
        a.save(&vec![1, 2, 3]).unwrap();
        assert_eq!(a.load::<Vec<i32>>(), Some(vec![1, 2, 3]));
        let b = Artifact::new(d.path(), "x.json", "fp2".into());
        assert_eq!(b.load::<Vec<i32>>(), None);
        std::fs::write(&a.path, b"{garbage").unwrap();
        assert_eq!(a.load::<Vec<i32>>(), None);
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.bin");
        std::fs::write(&p, vec![7u8; 300_000]).unwrap();
        let a = file_fingerprint(&p).unwrap();
        let mut v = vec![7u8; 300_000];
        v[150_000] = 8;
        std::fs::write(&p, v).unwrap();
        assert_ne!(a, file_fingerprint(&p).unwrap());
        assert_ne!(fingerprint(&["a", "bc"]), fingerprint(&["ab", "c"]));
    }

    #[test]
    fn a_second_lock_on_a_folder_is_refused_and_freed_with_the_first() {
        let d = tempfile::tempdir().unwrap();
        let first = WorkLock::acquire(d.path()).unwrap();
        match WorkLock::acquire(d.path()) {
            Err(WorkdirError::Busy { dir, holder }) => {
                assert_eq!(dir, d.path());
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("expected Busy, got {:?}", other.err()),
        }
        drop(first);
        WorkLock::acquire(d.path()).expect("free again once the first is dropped");
    }
}
