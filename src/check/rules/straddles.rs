//! Shot straddles: no clip may hold a shot boundary of the film, so every
//! clip is one shot and the trailer's cuts are the only cuts.

use super::{headline, Evidence, Rule, Verdict, LISTED};
use crate::check::CheckReport;
use crate::manifest::Item;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Straddle {
    pub item: usize,
    pub source_in_s: f64,
    pub source_out_s: f64,
    pub boundary_s: f64,
}

pub struct Straddles;

impl Rule for Straddles {
    fn name(&self) -> &'static str {
        "shot straddles"
    }
    fn measures(&self) -> &'static str {
        "the film's shot boundaries that fall inside a clip"
    }
    fn hard(&self) -> bool {
        true
    }

    /// A boundary counts when strictly inside a clip by more than half a
    /// film frame (edges snapped to a boundary land on it up to rounding).
    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        let m = ev.manifest;
        let film_tol = 0.5 / m.film.fps.max(1.0);
        r.straddles = ev.shots.map(|shots| {
            let bounds: Vec<f64> = shots.iter().skip(1).map(|s| s.start_s).collect();
            let mut v = Vec::new();
            for (i, it) in m.timeline.iter().enumerate() {
                let Item::Clip(c) = it else { continue };
                for &b in &bounds {
                    if b > c.source_in_s + film_tol && b < c.source_out_s - film_tol {
                        v.push(Straddle {
                            item: i,
                            source_in_s: c.source_in_s,
                            source_out_s: c.source_out_s,
                            boundary_s: b,
                        });
                    }
                }
            }
            v
        });
    }

    fn verdict(&self, r: &CheckReport) -> Verdict {
        match &r.straddles {
            Some(s) => Verdict::of(s.is_empty(), || {
                format!("{} clip(s) straddle a shot boundary", s.len())
            }),
            None => Verdict::Unchecked,
        }
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = self.verdict(r);
        let Some(s) = &r.straddles else {
            return headline(f, self, &verdict, "no shot list");
        };
        headline(f, self, &verdict, s.len())?;
        for x in s.iter().take(LISTED) {
            writeln!(
                f,
                "         item {} ({:.3}-{:.3} s) crosses the cut at {:.3} s",
                x.item, x.source_in_s, x.source_out_s, x.boundary_s
            )?;
        }
        Ok(())
    }
}
