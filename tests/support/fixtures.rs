//! Where the real test media live: `$CINECUT_FIXTURES`, else
//! `~/.cache/cinecut/fixtures` (filled by `scripts/fixtures.sh`, described in
//! shared/media/README.md). Plain std, so that the subtitle unit tests in src/
//! and the benches include this same file (`#[path]`) instead of a copy.
#![allow(dead_code)] // each includer uses a part

use std::path::PathBuf;

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    std::env::var_os("CINECUT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/cinecut/fixtures")
        })
}

/// A fixture file; the test fails (never skips) when it is missing.
pub fn fixture(rel: &str) -> PathBuf {
    let p = fixtures().join(rel);
    assert!(
        p.is_file(),
        "missing test media {} — run scripts/fixtures.sh tests (see shared/media/README.md) \
         or set CINECUT_FIXTURES",
        p.display()
    );
    p
}

/// A file or folder that must exist: a missing one fails the test with its path.
pub fn need(p: PathBuf) -> PathBuf {
    assert!(
        p.exists(),
        "missing test file {} (run the set-up script; CINECUT_FIXTURES / CINECUT_MODELS_DIR)",
        p.display()
    );
    p
}
