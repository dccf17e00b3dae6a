//! Cuts on the beat: every cut (the start of each item after the first)
//! within a frame of a beat of the music as it plays in the trailer.

use super::{headline, Evidence, Rule, Verdict, LISTED};
use crate::check::CheckReport;
use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Below this share of cuts on the beat the trailer fails.
pub const MIN_CUT_ON_BEAT: f64 = 0.95;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OffBeatCut {
    /// Index in the timeline of the item that starts at this cut.
    pub item: usize,
    pub time_s: f64,
    pub nearest_beat_s: Option<f64>,
    pub off_frames: Option<f64>,
}

pub struct CutsOnBeat;

impl Rule for CutsOnBeat {
    fn name(&self) -> &'static str {
        "cuts on the beat"
    }
    fn measures(&self) -> &'static str {
        "the share of cuts within one frame of a beat of the trailer's music"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        let fps = ev.fps;
        let beats = trailer_beats(ev.manifest);
        r.cuts = ev.manifest.timeline.len().saturating_sub(1);
        if let Some(b) = &beats {
            for (i, s) in ev.starts.iter().enumerate().skip(1) {
                let t = *s as f64 / fps;
                let near = nearest(b, t);
                let off = near.map(|nb| (t - nb).abs() * fps);
                if off.is_some_and(|f| f <= 1.0 + 1e-6) {
                    r.cuts_on_beat += 1;
                } else {
                    r.off_beat_cuts.push(OffBeatCut {
                        item: i,
                        time_s: t,
                        nearest_beat_s: near,
                        off_frames: off,
                    });
                }
            }
        }
        r.cut_on_beat_rate = match (&beats, r.cuts) {
            (Some(_), n) if n > 0 => Some(r.cuts_on_beat as f64 / n as f64),
            _ => None,
        };
    }

    fn verdict(&self, r: &CheckReport) -> Verdict {
        match r.cut_on_beat_rate {
            Some(rate) => Verdict::of(rate >= MIN_CUT_ON_BEAT, || {
                format!(
                    "only {:.0} % of cuts on the beat (need {:.0} %)",
                    rate * 100.0,
                    MIN_CUT_ON_BEAT * 100.0
                )
            }),
            None => Verdict::Unchecked,
        }
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = self.verdict(r);
        match r.cut_on_beat_rate {
            Some(rate) => headline(
                f,
                self,
                &verdict,
                format_args!("{}/{} ({:.0} %)", r.cuts_on_beat, r.cuts, rate * 100.0),
            )?,
            None => headline(f, self, &verdict, "no beat grid")?,
        }
        for c in r.off_beat_cuts.iter().take(LISTED) {
            match (c.nearest_beat_s, c.off_frames) {
                (Some(b), Some(o)) => writeln!(
                    f,
                    "         item {} at {:.3} s: nearest beat {:.3} s, {:.1} frames off",
                    c.item, c.time_s, b, o
                )?,
                _ => writeln!(f, "         item {} at {:.3} s: no beat", c.item, c.time_s)?,
            }
        }
        Ok(())
    }
}

/// Beat times in trailer time: the grid's beats moved from the music's in
/// point to where the music enters the trailer.
pub fn trailer_beats(m: &Manifest) -> Option<Vec<f64>> {
    let grid = m.beat_grid.as_ref()?;
    let offset = m.music.as_ref().map(|mu| mu.in_s - mu.at_s).unwrap_or(0.0);
    let mut b: Vec<f64> = grid
        .beats
        .iter()
        .map(|t| t - offset)
        .filter(|t| t.is_finite())
        .collect();
    b.sort_by(f64::total_cmp);
    Some(b)
}

fn nearest(sorted: &[f64], t: f64) -> Option<f64> {
    let i = sorted.partition_point(|b| *b < t);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| sorted.get(j).copied())
        .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()))
}
