//! Scoring shot detections against ground truth from the generated test
//! films (scripts/make_shot_truth.sh): precision, recall and F1 with cuts
//! matched within ±1 frame, gradual transitions by overlap, and flashes
//! reported as boundaries counted as false positives. Pure logic plus
//! readers for the truth JSON and PySceneDetect's scene-list CSV.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AnalysisError, FilmAnalysis};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthTransition {
    /// "cut", "dissolve", "fade_black" or "fade_white".
    pub kind: String,
    /// First and last frame of the transition; for a cut both are the
    /// first frame of the new shot.
    pub start_frame: u64,
    pub end_frame: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthSpan {
    pub start_frame: u64,
    pub end_frame: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Truth {
    pub film: String,
    pub fps: f64,
    pub frame_count: u64,
    pub transitions: Vec<TruthTransition>,
    #[serde(default)]
    pub flashes: Vec<TruthSpan>,
}

/// A detection in frames: a point (`start == end == frame`) or a span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Det {
    pub frame: u64,
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Score {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub flash_fp: usize,
    /// Matched truth cuts whose detected frame was exactly right.
    pub exact_cuts: usize,
    pub matched_cuts: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn read_truth(path: &Path) -> Result<Truth, AnalysisError> {
    let text = std::fs::read_to_string(path).map_err(|e| AnalysisError::BadFile {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| AnalysisError::BadFile {
        path: path.to_path_buf(),
        problem: format!("not a truth JSON: {e}"),
    })
}

/// Our boundaries as detections (frames from the analysis' own numbering).
pub fn dets_from_analysis(a: &FilmAnalysis) -> Vec<Det> {
    a.boundaries
        .iter()
        .map(|b| {
            let f = |t: f64| (t * a.fps).round().max(0.0) as u64;
            Det {
                frame: b.frame,
                start: f(b.start_s).min(b.frame),
                end: f(b.end_s).max(b.frame),
            }
        })
        .collect()
}

/// Cuts from PySceneDetect's `list-scenes` CSV: the start frame of every
/// scene but the first. Its "Start Frame" column counts from 1.
pub fn dets_from_scenedetect_csv(path: &Path) -> Result<Vec<Det>, AnalysisError> {
    let text = std::fs::read_to_string(path).map_err(|e| AnalysisError::BadFile {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    let mut col = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split(',').map(|c| c.trim()).collect();
        if col.is_none() {
            col = cells.iter().position(|c| *c == "Start Frame");
            continue;
        }
        let Some(c) = col else { continue };
        if let Some(v) = cells.get(c).and_then(|x| x.parse::<u64>().ok()) {
            out.push(v.saturating_sub(1));
        }
    }
    if col.is_none() {
        return Err(AnalysisError::BadFile {
            path: path.to_path_buf(),
            problem: "no 'Start Frame' column: not a PySceneDetect scene list".into(),
        });
    }
    Ok(out
        .into_iter()
        .filter(|&f| f > 0)
        .map(|f| Det {
            frame: f,
            start: f,
            end: f,
        })
        .collect())
}

/// Score detections against truth (see module docs for the rules). Extra
/// detections inside an already matched gradual transition (a fade-out and
/// fade-in pair, say) are neither hits nor false positives.
pub fn score(truth: &Truth, dets: &[Det]) -> Score {
    let mut matched = vec![false; truth.transitions.len()];
    let mut sc = Score::default();
    let mut dets = dets.to_vec();
    dets.sort_by_key(|d| d.frame);
    for d in &dets {
        let hit = truth
            .transitions
            .iter()
            .enumerate()
            .find(|(i, t)| !matched[*i] && hits(t, d));
        if let Some((i, t)) = hit {
            matched[i] = true;
            sc.tp += 1;
            if t.kind == "cut" {
                sc.matched_cuts += 1;
                if d.frame == t.start_frame {
                    sc.exact_cuts += 1;
                }
            }
            continue;
        }
        let inside_gradual = truth
            .transitions
            .iter()
            .enumerate()
            .any(|(i, t)| matched[i] && t.kind != "cut" && hits(t, d));
        if inside_gradual {
            continue;
        }
        sc.fp += 1;
        if truth
            .flashes
            .iter()
            .any(|f| d.frame + 1 >= f.start_frame && d.frame <= f.end_frame + 2)
        {
            sc.flash_fp += 1;
        }
    }
    sc.fn_ = matched.iter().filter(|m| !**m).count();
    let tp = sc.tp as f64;
    sc.precision = if sc.tp + sc.fp > 0 {
        tp / (sc.tp + sc.fp) as f64
    } else {
        1.0
    };
    sc.recall = if truth.transitions.is_empty() {
        1.0
    } else {
        tp / truth.transitions.len() as f64
    };
    sc.f1 = if sc.precision + sc.recall > 0.0 {
        2.0 * sc.precision * sc.recall / (sc.precision + sc.recall)
    } else {
        0.0
    };
    sc
}

fn hits(t: &TruthTransition, d: &Det) -> bool {
    if t.kind == "cut" {
        d.frame.abs_diff(t.start_frame) <= 1
    } else {
        d.start <= t.end_frame + 1 && t.start_frame <= d.end + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth() -> Truth {
        Truth {
            film: "x".into(),
            fps: 24.0,
            frame_count: 1000,
            transitions: vec![
                TruthTransition {
                    kind: "cut".into(),
                    start_frame: 100,
                    end_frame: 100,
                },
                TruthTransition {
                    kind: "fade_black".into(),
                    start_frame: 300,
                    end_frame: 324,
                },
            ],
            flashes: vec![TruthSpan {
                start_frame: 500,
                end_frame: 501,
            }],
        }
    }

    fn p(f: u64) -> Det {
        Det {
            frame: f,
            start: f,
            end: f,
        }
    }

    #[test]
    fn perfect_and_tolerances() {
        let s = score(&truth(), &[p(101), p(310), p(318)]);
        assert_eq!((s.tp, s.fp, s.fn_), (2, 0, 0));
        assert_eq!(s.exact_cuts, 0);
        assert!((s.f1 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn off_by_two_and_flash_are_false_positives() {
        let s = score(&truth(), &[p(102), p(500)]);
        assert_eq!((s.tp, s.fp, s.fn_, s.flash_fp), (0, 2, 2, 1));
        assert_eq!(s.f1, 0.0);
    }

    #[test]
    fn double_detection_of_a_cut_counts_once() {
        let s = score(&truth(), &[p(100), p(100), p(312)]);
        assert_eq!((s.tp, s.fp), (2, 1));
        assert_eq!(s.exact_cuts, 1);
    }
}
