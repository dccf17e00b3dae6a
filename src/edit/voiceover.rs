//! Voice-over: up to three of the protagonist's lines laid over other clips —
//! one in act 1, up to two in act 2, none in act 3 — chosen for being short,
//! complete and strong, and placed where no clip carries its own dialogue.

use crate::analysis::LoudnessCurve;
use crate::manifest::{Act, Item, VoiceOver};
use crate::subtitles::{Cue, CueKind};

/// Lines shorter than this are grunts; longer ones stall the trailer.
const MIN_S: f64 = 0.8;
const MAX_S: f64 = 4.5;

fn complete(text: &str) -> bool {
    let t = text.trim_end_matches(['"', '\'', '»', ')', ' ']);
    t.ends_with(['.', '!', '?', '…'])
        && !t.ends_with("...")
        && t.chars().next().is_some_and(|c| !c.is_lowercase())
}

/// Chooses and places the voice-over lines. `starts` are the items' trailer
/// start times; `used` are the source spans already heard as dialogue clips.
pub fn choose(
    timeline: &[Item],
    starts: &[f64],
    cues: &[Cue],
    protagonist: Option<&str>,
    spoiler_line_s: f64,
) -> Vec<VoiceOver> {
    let heard: Vec<(f64, f64)> = timeline
        .iter()
        .filter_map(|i| match i {
            Item::Clip(c) if c.dialogue.is_some() => Some((c.source_in_s, c.source_out_s)),
            _ => None,
        })
        .collect();
    let mut lines: Vec<&Cue> = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue)
        .filter(|c| (MIN_S..=MAX_S).contains(&(c.end_s - c.start_s)))
        .filter(|c| c.end_s + 0.2 < spoiler_line_s && complete(&c.text))
        .filter(|c| match (protagonist, &c.speaker) {
            (Some(p), Some(s)) => s.eq_ignore_ascii_case(p),
            (Some(_), None) => false,
            (None, _) => true,
        })
        .filter(|c| !heard.iter().any(|(a, b)| c.start_s < *b && c.end_s > *a))
        .collect();
    // Strong first; shorter breaks ties (a trailer line should land fast).
    lines.sort_by(|a, b| {
        let s = |c: &Cue| c.emotion.intensity as f64 - 0.05 * (c.end_s - c.start_s);
        s(b).total_cmp(&s(a))
    });
    let mut out: Vec<VoiceOver> = Vec::new();
    for (act, want) in [(Act::Act1, 1usize), (Act::Act2, 2usize)] {
        // Runs of consecutive clips of this act without their own dialogue.
        let mut runs: Vec<(f64, f64)> = Vec::new();
        let mut cur: Option<(f64, f64)> = None;
        for (it, s) in timeline.iter().zip(starts) {
            let free = matches!(it, Item::Clip(c) if c.act == act && c.dialogue.is_none());
            let end = s + it.duration_s();
            cur = match (free, cur) {
                (true, Some((a, _))) => Some((a, end)),
                (true, None) => Some((*s, end)),
                (false, Some(r)) => {
                    runs.push(r);
                    None
                }
                (false, None) => None,
            };
        }
        runs.extend(cur);
        let mut placed = 0;
        for line in lines.iter() {
            if placed == want {
                break;
            }
            if out
                .iter()
                .any(|v| v.source_in_s < line.end_s && v.source_out_s > line.start_s)
            {
                continue;
            }
            let (a, b) = (line.start_s - 0.05, line.end_s + 0.15);
            let len = b - a;
            let slot = runs.iter().position(|(ra, rb)| {
                let at = ra + 0.15;
                at + len <= rb - 0.1
                    && !out.iter().any(|v| {
                        at < v.at_s + (v.source_out_s - v.source_in_s) + 0.3
                            && at + len + 0.3 > v.at_s
                    })
            });
            if let Some(k) = slot {
                let ra = runs[k].0;
                out.push(VoiceOver {
                    text: line.text.clone(),
                    speaker: line.speaker.clone(),
                    source_in_s: a.max(0.0),
                    source_out_s: b,
                    at_s: ra + 0.15,
                    gain_db: 0.0,
                });
                placed += 1;
                // The run is used up to the end of this line.
                runs[k].0 = ra + 0.15 + len + 0.3;
            }
        }
    }
    out
}

/// Loudness-matches the voice-over: each line's gain brings it to the
/// film's typical dialogue level (the median over its dialogue cues), so a
/// whispered line and a shouted one sit at the same level over the music.
/// The gain is bounded (±12 dB) so a line that is mostly silence is not
/// pumped up into noise.
pub fn match_loudness(vo: &mut [VoiceOver], curve: &LoudnessCurve, cues: &[Cue]) {
    let mut levels: Vec<f64> = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue)
        .filter_map(|c| curve.energy_mean_db(c.start_s, c.end_s))
        .filter(|l| *l > -60.0)
        .collect();
    if levels.is_empty() {
        return;
    }
    levels.sort_by(f64::total_cmp);
    let reference = levels[levels.len() / 2];
    for v in vo {
        if let Some(l) = curve
            .energy_mean_db(v.source_in_s, v.source_out_s)
            .filter(|l| *l > -60.0)
        {
            v.gain_db = ((reference - l) * 10.0).round() / 10.0;
            v.gain_db = v.gain_db.clamp(-12.0, 12.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subtitles::Emotion;
    use crate::vibes::Transition;

    fn cue(a: f64, b: f64, text: &str, who: Option<&str>, k: f32) -> Cue {
        Cue {
            index: 0,
            start_s: a,
            end_s: b,
            text: text.into(),
            raw: text.into(),
            speaker: who.map(Into::into),
            kind: CueKind::Dialogue,
            emotion: Emotion {
                label: "x".into(),
                valence: 0.0,
                intensity: k,
            },
            line: 0,
            turns: Vec::new(),
        }
    }

    fn clip(act: Act, a: f64, b: f64) -> Item {
        crate::edit::test_clip(act, a, b, Transition::HardCut, 0.0)
    }

    #[test]
    fn one_in_act1_two_in_act2_none_in_act3_protagonist_only() {
        let tl: Vec<Item> = (0..12)
            .map(|i| {
                clip(
                    if i < 4 {
                        Act::Act1
                    } else if i < 8 {
                        Act::Act2
                    } else {
                        Act::Act3
                    },
                    i as f64 * 10.0,
                    i as f64 * 10.0 + 3.0,
                )
            })
            .collect();
        let starts: Vec<f64> = (0..12).map(|i| i as f64 * 3.0).collect();
        let cues = vec![
            cue(100.0, 102.0, "We have to go now!", Some("ANNA"), 0.9),
            cue(110.0, 111.5, "Who are you?", Some("ANNA"), 0.7),
            cue(120.0, 122.0, "It ends tonight.", Some("ANNA"), 0.8),
            cue(130.0, 131.0, "Never.", Some("BOB"), 1.0),
            cue(
                140.0,
                149.0,
                "A very long speech that goes on and on.",
                Some("ANNA"),
                1.0,
            ),
            cue(150.0, 151.5, "and then", Some("ANNA"), 1.0),
            cue(500.0, 501.5, "The twist!", Some("ANNA"), 1.0),
        ];
        let vo = choose(&tl, &starts, &cues, Some("anna"), 400.0);
        assert_eq!(vo.len(), 3, "{vo:?}");
        assert!(vo.iter().all(|v| v.speaker.as_deref() == Some("ANNA")));
        assert!(vo.iter().all(|v| v.source_out_s - v.source_in_s >= 0.8));
        assert!(vo.iter().all(|v| v.at_s < 24.0), "nothing in act 3");
        assert_eq!(vo.iter().filter(|v| v.at_s < 12.0).count(), 1);
        // No two lines overlap in the trailer.
        for (i, a) in vo.iter().enumerate() {
            for b in &vo[i + 1..] {
                let (ae, be) = (
                    a.at_s + a.source_out_s - a.source_in_s,
                    b.at_s + b.source_out_s - b.source_in_s,
                );
                assert!(ae <= b.at_s || be <= a.at_s);
            }
        }
    }

    #[test]
    fn voice_over_lines_are_brought_to_the_median_dialogue_level() {
        // 0.1 s steps: -30 dBFS everywhere, a quiet line at -40 and a loud one at -22.
        let mut db = vec![-30.0f32; 1000];
        db[100..120].iter_mut().for_each(|d| *d = -40.0);
        db[300..320].iter_mut().for_each(|d| *d = -22.0);
        let curve = LoudnessCurve { step_s: 0.1, db };
        let cues: Vec<Cue> = (0..9)
            .map(|k| {
                cue(
                    k as f64 * 10.0 + 1.0,
                    k as f64 * 10.0 + 3.0,
                    "Yes.",
                    None,
                    0.5,
                )
            })
            .collect();
        let line = |a: f64, b: f64| VoiceOver {
            text: "x".into(),
            speaker: None,
            source_in_s: a,
            source_out_s: b,
            at_s: 0.0,
            gain_db: 0.0,
        };
        let mut vo = vec![line(10.0, 12.0), line(30.0, 32.0), line(50.0, 52.0)];
        match_loudness(&mut vo, &curve, &cues);
        assert_eq!(vo[0].gain_db, 10.0, "{vo:?}");
        assert_eq!(vo[1].gain_db, -8.0, "{vo:?}");
        assert_eq!(vo[2].gain_db, 0.0, "{vo:?}");
    }
}
