//! `cinecut demo`: Big Buck Bunny, fetched once from the Python package index
//! (it ships inside moviepy's source distribution), checked by sha256 and kept
//! in the user cache.

use crate::error::{Error, Result};
use crate::ui::Ui;
use crate::workdir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BBB_SHA256: &str = "475fbbf34c4c367998f80c29ea03b15a743941179b12da3373fc6706e68621d0";
const SDIST: &str = "moviepy==2.2.1";
const ZIP_IN_SDIST: &str =
    "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip";
const MEMBER: &str = "moviepy_10_minutes/resources/bbb.mp4";

pub fn cache_dir() -> PathBuf {
    std::env::var_os("CINECUT_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("cinecut")))
        .unwrap_or_else(|| PathBuf::from(".cinecut-cache"))
}

/// The demo film's path, fetching it on first use.
pub fn fetch_bbb(ui: &Ui) -> Result<PathBuf> {
    let dest = cache_dir().join("demo").join("bbb.mp4");
    if dest.is_file() && workdir::sha256_file(&dest)? == BBB_SHA256 {
        return Ok(dest);
    }
    // The test fixtures hold the same file; reuse it rather than download again.
    let fixtures = std::env::var_os("CINECUT_FIXTURES")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("cinecut/fixtures")));
    if let Some(f) = fixtures.map(|f| f.join("bbb.mp4")).filter(|f| f.is_file()) {
        if workdir::sha256_file(&f)? == BBB_SHA256 {
            copy_atomic(&f, &dest)?;
            return Ok(dest);
        }
    }
    let st = ui.stage("download", None);
    st.message("Big Buck Bunny (moviepy sdist, 58 MB) from PyPI");
    let res = download(&dest);
    match res {
        Ok(()) => {
            st.finish("Big Buck Bunny");
            Ok(dest)
        }
        Err(e) => {
            st.abandon();
            Err(e)
        }
    }
}

fn copy_atomic(src: &Path, dest: &Path) -> Result<()> {
    let dir = workdir::parent_dir(dest);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let tmp = dir.join(".bbb.mp4.part");
    std::fs::copy(src, &tmp).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))
}

fn download(dest: &Path) -> Result<()> {
    let dir = workdir::parent_dir(dest);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let tmp = tempfile::tempdir_in(&dir).map_err(|e| Error::io(&dir, e))?;
    // pip is the registry's own client; it honours the machine's index settings.
    let status = crate::media::process::die_with_parent(&mut Command::new("python3"))
        .args([
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--no-build-isolation",
            SDIST,
            "-d",
        ])
        .arg(tmp.path())
        .stdin(Stdio::null())
        .status()
        .map_err(|e| Error::tool("python3 -m pip", format!("{e} — install python3 and pip")))?;
    if !status.success() {
        return Err(Error::tool(
            "pip download",
            format!("could not fetch {SDIST} (offline? see README)"),
        ));
    }
    let part = dir.join(".bbb.mp4.part");
    let script = format!(
        "import sys,tarfile,zipfile,io,shutil,glob\n\
         a=glob.glob(sys.argv[1]+'/moviepy-2.2.1.tar.gz')[0]\n\
         t=tarfile.open(a)\n\
         z=zipfile.ZipFile(io.BytesIO(t.extractfile('{ZIP_IN_SDIST}').read()))\n\
         shutil.copyfileobj(z.open('{MEMBER}'),open(sys.argv[2],'wb'),1<<20)\n"
    );
    let status = crate::media::process::die_with_parent(&mut Command::new("python3"))
        .args(["-c", &script])
        .arg(tmp.path())
        .arg(&part)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| Error::tool("python3", e.to_string()))?;
    if !status.success() {
        return Err(Error::tool(
            "python3",
            "could not unpack Big Buck Bunny from the sdist",
        ));
    }
    let sum = workdir::sha256_file(&part)?;
    if sum != BBB_SHA256 {
        let _ = std::fs::remove_file(&part);
        return Err(Error::tool(
            "cinecut demo",
            format!("Big Buck Bunny checksum mismatch: {sum}"),
        ));
    }
    std::fs::rename(&part, dest).map_err(|e| Error::io(dest, e))
}
