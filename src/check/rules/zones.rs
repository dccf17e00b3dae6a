//! Zones: how much of the running time each story zone's clips take.
//! Reported for the editor; it fails nothing.

use super::{Evidence, Rule};
use crate::check::CheckReport;
use crate::manifest::Item;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZoneShare {
    pub zone: String,
    pub clips: usize,
    pub duration_s: f64,
    pub share: f64,
}

pub struct Zones;

impl Rule for Zones {
    fn name(&self) -> &'static str {
        "zones"
    }
    fn measures(&self) -> &'static str {
        "each story zone's clips and share of the running time"
    }
    fn hard(&self) -> bool {
        false
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        let mut zones: Vec<ZoneShare> = Vec::new();
        for (i, it) in ev.manifest.timeline.iter().enumerate() {
            let Item::Clip(c) = it else { continue };
            let name = c.zone.clone().unwrap_or_else(|| "none".into());
            let k = match zones.iter().position(|z| z.zone == name) {
                Some(k) => k,
                None => {
                    zones.push(ZoneShare {
                        zone: name,
                        clips: 0,
                        duration_s: 0.0,
                        share: 0.0,
                    });
                    zones.len() - 1
                }
            };
            zones[k].clips += 1;
            zones[k].duration_s += ev.rendered_s(i);
        }
        for z in &mut zones {
            z.share = ev.share(z.duration_s);
        }
        r.zones = zones;
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {}:", self.name())?;
        for z in &r.zones {
            writeln!(
                f,
                "    {:<12} {:>3} clips {:>6.1} s {:>5.1} %",
                z.zone,
                z.clips,
                z.duration_s,
                z.share * 100.0
            )?;
        }
        Ok(())
    }
}
