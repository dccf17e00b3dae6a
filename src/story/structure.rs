//! Story structure: BEGIN / ESCALATION / CLIMAX anchors.
//!
//! First version: research priors for the five turning points (TRIPOD, 99
//! films: 0.15 / 0.32 / 0.53 / 0.74 / 0.89 of runtime).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Structure {
    pub begin_t: f64,
    pub escalation_t: f64,
    pub climax_t: f64,
    pub turning_points: Vec<f64>,
    pub protagonist: Option<String>,
    pub source: String,
    pub reasoning: String,
    pub fallback_reason: Option<String>,
}

pub const TRIPOD_PRIORS: [f64; 5] = [0.15, 0.32, 0.53, 0.74, 0.89];

pub fn prior_structure(runtime_s: f64) -> Structure {
    let tp: Vec<f64> = TRIPOD_PRIORS.iter().map(|p| p * runtime_s).collect();
    Structure {
        begin_t: tp[0],
        escalation_t: tp[2],
        climax_t: tp[4],
        turning_points: tp,
        protagonist: None,
        source: "priors".into(),
        reasoning: "TRIPOD research priors (turning points at 0.15/0.32/0.53/0.74/0.89 of runtime)"
            .into(),
        fallback_reason: None,
    }
}
