//! What `cinecut check` found: the report every rule fills its part of, its
//! JSON shape (`cinecut check --json`), its text, and the broken hard rules.

use super::rules::{CutsOnBeat, Rule, Verdict, RULES};
use super::{ActStat, CueCut, OffBeatCut, SpoilerViolation, Straddle, ZoneShare};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// What ffmpeg/ffprobe measured on the trailer file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct MediaMeasures {
    pub loudness_lufs: f64,
    pub true_peak_dbtp: f64,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    pub trailer: PathBuf,
    pub vibe: String,
    pub fps: f64,
    pub cuts: usize,
    pub cuts_on_beat: usize,
    /// None when the manifest has no beat grid (or no cuts).
    pub cut_on_beat_rate: Option<f64>,
    pub off_beat_cuts: Vec<OffBeatCut>,
    /// None when no shot list was given.
    pub straddles: Option<Vec<Straddle>>,
    /// None when no subtitles were given.
    pub dialogue_cuts: Option<Vec<CueCut>>,
    pub spoiler_violations: Vec<SpoilerViolation>,
    pub loudness_lufs: f64,
    pub target_lufs: f64,
    pub true_peak_dbtp: f64,
    pub true_peak_limit_db: f64,
    pub duration_s: f64,
    pub expected_duration_s: f64,
    pub duration_off_frames: f64,
    pub acts: Vec<ActStat>,
    /// True when acts 1, 2, 3 get faster (average shot length falls).
    pub pacing_accelerates: Option<bool>,
    pub zones: Vec<ZoneShare>,
}

impl CheckReport {
    /// The broken hard rules, one line each; empty means the trailer passes.
    pub fn hard_failures(&self) -> Vec<String> {
        let mut hard: Vec<&dyn Rule> = RULES.iter().copied().filter(|r| r.hard()).collect();
        // The summary names the beat rate last, after the rules about single
        // clips and about the file, as it always has.
        hard.sort_by_key(|r| r.name() == CutsOnBeat.name());
        hard.iter()
            .filter_map(|r| match r.verdict(self) {
                Verdict::Broken(why) => Some(why),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "check {} (vibe {})", self.trailer.display(), self.vibe)?;
        for rule in RULES {
            rule.write(self, f)?;
        }
        let fails = self.hard_failures();
        if fails.is_empty() {
            write!(f, "PASS")
        } else {
            write!(f, "FAIL: {}", fails.join("; "))
        }
    }
}
