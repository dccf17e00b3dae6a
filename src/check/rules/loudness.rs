//! Loudness: the trailer's integrated loudness within a loudness unit of the
//! manifest's target.

use super::{headline, Evidence, Rule, Verdict};
use crate::check::CheckReport;
use std::fmt;

pub const LOUDNESS_TOLERANCE_LU: f64 = 1.0;

pub struct Loudness;

impl Rule for Loudness {
    fn name(&self) -> &'static str {
        "loudness"
    }
    fn measures(&self) -> &'static str {
        "the file's integrated loudness (EBU R128) against the manifest's target"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        r.loudness_lufs = ev.media.loudness_lufs;
        r.target_lufs = ev.manifest.render.loudness_lufs;
    }

    /// Silence measures as -inf or NaN: never within the tolerance.
    fn verdict(&self, r: &CheckReport) -> Verdict {
        let lu = r.loudness_lufs - r.target_lufs;
        Verdict::of(lu.abs() <= LOUDNESS_TOLERANCE_LU, || {
            format!(
                "loudness {:.1} LUFS is {:+.1} LU off the target {:.1}",
                r.loudness_lufs, lu, r.target_lufs
            )
        })
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = format!("{:.1} LUFS (target {:.1})", r.loudness_lufs, r.target_lufs);
        headline(f, self, &self.verdict(r), found)
    }
}
