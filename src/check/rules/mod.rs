//! The editor's rules `cinecut check` measures, one file each behind
//! [`Rule`], in the order the report shows them ([`RULES`]). To add a rule:
//! a file here with its part of [`CheckReport`], an `impl Rule`, a line in
//! the table.

mod acts;
mod cuts_on_beat;
mod duration;
mod loudness;
mod spoiler_line;
mod straddles;
mod true_peak;
mod words_cut;
mod zones;

pub use acts::{ActStat, Acts};
pub use cuts_on_beat::{trailer_beats, CutsOnBeat, OffBeatCut, MIN_CUT_ON_BEAT};
pub use duration::Duration;
pub use loudness::{Loudness, LOUDNESS_TOLERANCE_LU};
pub use spoiler_line::{SpoilerLine, SpoilerViolation};
pub use straddles::{Straddle, Straddles};
pub use true_peak::{TruePeak, TRUE_PEAK_LIMIT_DB};
pub use words_cut::{CueCut, WordsCut, CUE_TOLERANCE_S, MUTED_DB};
pub use zones::{ZoneShare, Zones};

use super::{CheckReport, MediaMeasures};
use crate::analysis::Shot;
use crate::manifest::Manifest;
use crate::subtitles::Cue;
use std::fmt;

/// One rule of the editor's craft, measured on a finished trailer.
pub trait Rule: Sync {
    /// As the report's line names it ("cuts on the beat").
    fn name(&self) -> &'static str;
    /// What the rule measures, in a sentence.
    fn measures(&self) -> &'static str;
    /// Breaking a hard rule fails the trailer (`cinecut check` exits 3); the
    /// others are reported for the editor to judge.
    fn hard(&self) -> bool;
    /// Fills the rule's part of the report.
    fn evaluate(&self, ev: &Evidence, report: &mut CheckReport);
    /// Whether the report keeps the rule.
    fn verdict(&self, _report: &CheckReport) -> Verdict {
        Verdict::Unchecked
    }
    /// The rule's lines of the text report.
    fn write(&self, report: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Every rule, in the order of the text report.
pub static RULES: &[&dyn Rule] = &[
    &CutsOnBeat,
    &Straddles,
    &WordsCut,
    &SpoilerLine,
    &Loudness,
    &TruePeak,
    &Duration,
    &Acts,
    &Zones,
];

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not measurable here (no beat grid, no shot list, no subtitles), or a
    /// rule that only measures.
    Unchecked,
    Holds,
    /// Broken, with the summary's line saying how.
    Broken(String),
}

impl Verdict {
    /// Holds when `ok`, else broken as `why` says.
    pub fn of(ok: bool, why: impl FnOnce() -> String) -> Verdict {
        if ok {
            Verdict::Holds
        } else {
            Verdict::Broken(why())
        }
    }

    /// The report line's four-character mark.
    fn mark(&self) -> &'static str {
        match self {
            Verdict::Unchecked => "--  ",
            Verdict::Holds => "ok  ",
            Verdict::Broken(_) => "FAIL",
        }
    }
}

/// What every rule reads: the manifest, the file's measurements, the film's
/// shots and cues when known, and the timeline's frames as rendered.
pub struct Evidence<'a> {
    pub manifest: &'a Manifest,
    pub shots: Option<&'a [Shot]>,
    pub cues: Option<&'a [Cue]>,
    pub media: MediaMeasures,
    /// The render's frame rate.
    pub fps: f64,
    /// Frames of each item and the overlap of each crossfade into it.
    pub frames: Vec<(u64, u64)>,
    /// Trailer frame at which each item starts.
    pub starts: Vec<u64>,
    /// The trailer's length as the manifest says the renderer makes it.
    pub expected_duration_s: f64,
}

impl<'a> Evidence<'a> {
    pub fn new(
        manifest: &'a Manifest,
        shots: Option<&'a [Shot]>,
        cues: Option<&'a [Cue]>,
        media: MediaMeasures,
    ) -> Self {
        Evidence {
            manifest,
            shots,
            cues,
            media,
            fps: manifest.render.fps,
            frames: manifest.item_frames(),
            starts: manifest.item_start_frames(),
            expected_duration_s: manifest.total_duration_s(),
        }
    }

    /// Item `i`'s share of the running time in seconds: its frames less the
    /// overlap it shares with the previous item.
    pub fn rendered_s(&self, i: usize) -> f64 {
        (self.frames[i].0 - self.frames[i].1) as f64 / self.fps
    }

    /// `seconds` as a share of the trailer's running time.
    pub fn share(&self, seconds: f64) -> f64 {
        seconds / self.expected_duration_s.max(1e-9)
    }
}

/// A rule's first report line: its mark, its name, what it found.
fn headline(
    f: &mut fmt::Formatter<'_>,
    rule: &dyn Rule,
    verdict: &Verdict,
    found: impl fmt::Display,
) -> fmt::Result {
    writeln!(f, "  {} {:<20}{found}", verdict.mark(), rule.name())
}

/// The first few of a rule's findings are listed under its line.
const LISTED: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_fit_the_report_column() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name()).collect();
        assert!(names.iter().all(|n| n.len() < 20), "{names:?}");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        assert!(RULES.iter().all(|r| !r.measures().is_empty()));
    }

    #[test]
    fn the_hard_rules_are_the_seven_of_the_exit_code() {
        let hard: Vec<&str> = RULES
            .iter()
            .filter(|r| r.hard())
            .map(|r| r.name())
            .collect();
        assert_eq!(
            hard,
            [
                "cuts on the beat",
                "shot straddles",
                "words cut",
                "spoiler line",
                "loudness",
                "true peak",
                "duration"
            ]
        );
    }
}
