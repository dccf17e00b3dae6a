//! The spoiler line: no clip may use footage after it.

use super::{headline, Evidence, Rule, Verdict};
use crate::check::CheckReport;
use crate::manifest::Item;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpoilerViolation {
    pub item: usize,
    pub source_out_s: f64,
    pub spoiler_line_s: f64,
}

pub struct SpoilerLine;

impl Rule for SpoilerLine {
    fn name(&self) -> &'static str {
        "spoiler line"
    }
    fn measures(&self) -> &'static str {
        "the clips whose footage runs past the manifest's spoiler line"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        let m = ev.manifest;
        r.spoiler_violations = m
            .timeline
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match it {
                Item::Clip(c) if c.source_out_s > m.spoiler_line_s + 1e-6 => {
                    Some(SpoilerViolation {
                        item: i,
                        source_out_s: c.source_out_s,
                        spoiler_line_s: m.spoiler_line_s,
                    })
                }
                _ => None,
            })
            .collect();
    }

    fn verdict(&self, r: &CheckReport) -> Verdict {
        let n = r.spoiler_violations.len();
        Verdict::of(n == 0, || {
            format!("{n} clip(s) use footage after the spoiler line")
        })
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = format!("{} clip(s) past it", r.spoiler_violations.len());
        headline(f, self, &self.verdict(r), found)
    }
}
