//! Acts and pacing: each act's share of the running time and its average
//! shot length against the vibe's, and whether acts 1, 2, 3 get faster.
//! Reported for the editor; it fails nothing.

use super::{Evidence, Rule};
use crate::check::CheckReport;
use crate::manifest::{Act, Item};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActStat {
    pub act: Act,
    pub items: usize,
    pub clips: usize,
    pub duration_s: f64,
    /// Share of the trailer's running time.
    pub share: f64,
    /// Average rendered length of the act's clips.
    pub avg_shot_s: Option<f64>,
    /// The vibe's `act_cut_s` for acts 1-3.
    pub target_avg_shot_s: Option<f64>,
}

pub struct Acts;

impl Rule for Acts {
    fn name(&self) -> &'static str {
        "acts"
    }
    fn measures(&self) -> &'static str {
        "each act's items, running time and average shot, and whether the pace quickens"
    }
    fn hard(&self) -> bool {
        false
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        let m = ev.manifest;
        let targets = crate::vibes::get(&m.vibe).ok().map(|v| v.act_cut_s);
        let mut acts: Vec<ActStat> = Vec::new();
        for (i, it) in m.timeline.iter().enumerate() {
            let act = it.act();
            let idx = match acts.iter().position(|a| a.act == act) {
                Some(k) => k,
                None => {
                    acts.push(ActStat::empty(act, targets));
                    acts.len() - 1
                }
            };
            let a = &mut acts[idx];
            a.items += 1;
            a.duration_s += ev.rendered_s(i);
            if let Item::Clip(_) = it {
                a.clips += 1;
                // Sum first, divide below.
                *a.avg_shot_s.get_or_insert(0.0) += ev.frames[i].0 as f64 / ev.fps;
            }
        }
        for a in &mut acts {
            a.share = ev.share(a.duration_s);
            if let Some(s) = a.avg_shot_s.as_mut() {
                *s /= a.clips as f64;
            }
        }
        r.pacing_accelerates = accelerates(&acts);
        r.acts = acts;
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {}:", self.name())?;
        for a in &r.acts {
            let asl = match (a.avg_shot_s, a.target_avg_shot_s) {
                (Some(s), Some(t)) => format!("  avg shot {s:.2} s (vibe {t:.1} s)"),
                (Some(s), None) => format!("  avg shot {s:.2} s"),
                _ => String::new(),
            };
            writeln!(
                f,
                "    {:<12} {:>3} items {:>6.1} s {:>5.1} %{asl}",
                act_name(a.act),
                a.items,
                a.duration_s,
                a.share * 100.0
            )?;
        }
        if let Some(p) = r.pacing_accelerates {
            writeln!(
                f,
                "    pacing: {}",
                if p {
                    "accelerates (act 1 > act 2 > act 3)"
                } else {
                    "does NOT accelerate"
                }
            )?;
        }
        Ok(())
    }
}

impl ActStat {
    /// Nothing counted yet; acts 1-3 carry the vibe's average shot.
    fn empty(act: Act, targets: Option<[f64; 3]>) -> Self {
        let target = targets.and_then(|t| match act {
            Act::Act1 => Some(t[0]),
            Act::Act2 => Some(t[1]),
            Act::Act3 => Some(t[2]),
            _ => None,
        });
        ActStat {
            act,
            items: 0,
            clips: 0,
            duration_s: 0.0,
            share: 0.0,
            avg_shot_s: None,
            target_avg_shot_s: target,
        }
    }
}

/// True when acts 1, 2, 3 get faster (average shot length falls); None
/// when one of them has no clip.
fn accelerates(acts: &[ActStat]) -> Option<bool> {
    let asl = |act| {
        acts.iter()
            .find(|a| a.act == act)
            .and_then(|a| a.avg_shot_s)
    };
    match (asl(Act::Act1), asl(Act::Act2), asl(Act::Act3)) {
        (Some(a), Some(b), Some(c)) => Some(a > b && b > c),
        _ => None,
    }
}

/// The act as the manifest spells it (`cold_open`).
fn act_name(a: Act) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}"))
}
