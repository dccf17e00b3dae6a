//! True peak: the trailer's true peak at most the broadcast limit.

use super::{headline, Evidence, Rule, Verdict};
use crate::check::CheckReport;
use std::fmt;

pub const TRUE_PEAK_LIMIT_DB: f64 = -1.0;

pub struct TruePeak;

impl Rule for TruePeak {
    fn name(&self) -> &'static str {
        "true peak"
    }
    fn measures(&self) -> &'static str {
        "the file's true peak against the -1 dBTP limit"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        r.true_peak_dbtp = ev.media.true_peak_dbtp;
        r.true_peak_limit_db = TRUE_PEAK_LIMIT_DB;
    }

    /// False for NaN too: an unmeasurable peak never passes.
    fn verdict(&self, r: &CheckReport) -> Verdict {
        Verdict::of(r.true_peak_dbtp <= r.true_peak_limit_db, || {
            format!(
                "true peak {:.1} dBTP is above {:.1} dBTP",
                r.true_peak_dbtp, r.true_peak_limit_db
            )
        })
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = format!(
            "{:.1} dBTP (limit {:.1})",
            r.true_peak_dbtp, r.true_peak_limit_db
        );
        headline(f, self, &self.verdict(r), found)
    }
}
