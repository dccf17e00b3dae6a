//! Words cut: no clip edge the viewer hears may fall inside a line of
//! dialogue.

use super::{headline, Evidence, Rule, Verdict, LISTED};
use crate::check::CheckReport;
use crate::manifest::Item;
use crate::subtitles::CueKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A clip edge this close to a cue's edge counts as on it (subtitle timing is
/// rarely better than this).
pub const CUE_TOLERANCE_S: f64 = 0.05;
/// At or below this film gain a clip's own sound is inaudible, so its edges
/// cannot cut a word the viewer hears.
pub use crate::manifest::MUTED_DB;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CueCut {
    pub item: usize,
    /// "in" or "out": which edge of the clip falls inside the cue.
    pub edge: String,
    pub time_s: f64,
    pub cue_start_s: f64,
    pub cue_end_s: f64,
    pub cue_text: String,
}

pub struct WordsCut;

impl Rule for WordsCut {
    fn name(&self) -> &'static str {
        "words cut"
    }
    fn measures(&self) -> &'static str {
        "clip edges strictly inside a dialogue cue, on clips whose film sound is heard"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        r.dialogue_cuts = ev.cues.map(|cues| {
            let mut v = Vec::new();
            for (i, it) in ev.manifest.timeline.iter().enumerate() {
                let Item::Clip(c) = it else { continue };
                if c.film_gain_db <= MUTED_DB {
                    continue;
                }
                for cue in cues.iter().filter(|q| q.kind == CueKind::Dialogue) {
                    // A split edit's sound runs on past the picture: its line
                    // ends where the sound tail ends.
                    let sound_out = c.source_out_s + c.sound_tail_s;
                    for (edge, t) in [("in", c.source_in_s), ("out", sound_out)] {
                        if t > cue.start_s + CUE_TOLERANCE_S && t < cue.end_s - CUE_TOLERANCE_S {
                            v.push(CueCut {
                                item: i,
                                edge: edge.into(),
                                time_s: t,
                                cue_start_s: cue.start_s,
                                cue_end_s: cue.end_s,
                                cue_text: cue.text.clone(),
                            });
                        }
                    }
                }
            }
            v
        });
    }

    fn verdict(&self, r: &CheckReport) -> Verdict {
        match &r.dialogue_cuts {
            Some(d) => Verdict::of(d.is_empty(), || {
                format!("{} clip edge(s) cut inside a dialogue cue", d.len())
            }),
            None => Verdict::Unchecked,
        }
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = self.verdict(r);
        let Some(d) = &r.dialogue_cuts else {
            return headline(f, self, &verdict, "no subtitles");
        };
        headline(f, self, &verdict, d.len())?;
        for x in d.iter().take(LISTED) {
            writeln!(
                f,
                "         item {} {} at {:.3} s inside \"{}\" ({:.3}-{:.3} s)",
                x.item, x.edge, x.time_s, x.cue_text, x.cue_start_s, x.cue_end_s
            )?;
        }
        Ok(())
    }
}
