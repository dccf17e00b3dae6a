//! The fault campaign's hook: with `CINECUT_FAULT=STAGE:POINT` set, the
//! process kills itself with SIGKILL when the runner reaches that point of
//! that stage — as a power cut or `kill -9` would, no destructor run.
//!
//! Why a hook and not a timer: the stages of a short film take
//! milliseconds, so a kill sent from outside cannot land inside a chosen
//! stage reliably; the hook lands exactly, and the campaign
//! (tests/faults.rs) then shows that a rerun makes the same manifest. The
//! points: `begin` (the stage starts), `made` (its output is made, not yet
//! saved), `saved` (its artifact is on disk, the next stage not started).

/// The points of a stage at which a fault can be injected.
pub const POINTS: [&str; 3] = ["begin", "made", "saved"];

/// Dies here when `CINECUT_FAULT` names this stage and point.
pub fn point(stage: &str, point: &str) {
    let Some(want) = std::env::var_os("CINECUT_FAULT") else {
        return;
    };
    if want.to_str() == Some(&format!("{stage}:{point}")) {
        // SAFETY: raise with a constant signal number.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
