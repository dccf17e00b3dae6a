//! Finds the film's story anchors BEGIN / ESCALATION / CLIMAX: from a text LLM
//! that reads the dialogue in chunks when one is configured, else (or when its
//! answer fails) from a built-in analyser that moves research priors for the five
//! turning points toward where the film's own intensity says.
//!
//! Mapping to the five TRIPOD turning points (Papalampidi et al., 99 films):
//! BEGIN_T = TP1 "opportunity" (0.15), ESCALATION_T = TP3 "point of no return"
//! (0.53), CLIMAX_T = TP4 "major setback", where the final push starts (0.74).
//! TP5 (0.89, the climax itself) is kept in `turning_points` but not used as a
//! zone start, since footage after the spoiler line (about 0.85) is never shown.

use serde::{Deserialize, Serialize};

use crate::llm::{LlmClient, LlmError, Message};

/// Fractions of runtime of the five turning points in the TRIPOD corpus.
pub const TRIPOD_PRIORS: [f64; 5] = [0.15, 0.32, 0.53, 0.74, 0.89];
/// Spread (standard deviation, fraction of runtime) of each turning point.
pub const PRIOR_SPREAD: f64 = 0.10;
/// No anchor may sit in the first or last 2 % (titles, credits).
pub const EDGE_MARGIN: f64 = 0.02;
const TP_NAMES: [&str; 5] = [
    "TP1 opportunity",
    "TP2 change of plans",
    "TP3 point of no return",
    "TP4 major setback",
    "TP5 climax",
];
/// Resolution of the intensity curve the built-in analyser works on.
const BINS: usize = 200;
/// How strongly intensity can pull an anchor away from its prior: a peak of
/// full strength one spread away from the prior still wins (e^1.5 > e^0.5).
const PULL: f64 = 1.5;
/// Chunk sizes for the LLM: the issue asks for 50-100 cues per summary.
const CHUNK_MIN: usize = 50;
const CHUNK_MAX: usize = 100;

/// A subtitle cue, reduced to what the structure needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CueLite {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub speaker: Option<String>,
    /// Emotional intensity of the line, 0..1.
    pub intensity: f32,
}

#[derive(Debug, Clone, Default)]
pub struct StructureInput {
    pub runtime_s: f64,
    /// Dialogue cues, any order.
    pub cues: Vec<CueLite>,
    /// (time_s, 0..1) film intensity from loudness and cut rate, any spacing.
    pub intensity: Vec<(f64, f32)>,
}

/// The story anchors (seconds) and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    pub begin_t: f64,
    pub escalation_t: f64,
    pub climax_t: f64,
    /// The five TRIPOD turning points in seconds, increasing.
    pub turning_points: Vec<f64>,
    pub protagonist: Option<String>,
    /// "llm:<model>" or "builtin".
    pub source: String,
    pub reasoning: String,
    /// Why the built-in analyser was used, when it was.
    pub fallback_reason: Option<String>,
}

/// LLM first; any failure ends in the built-in analyser with the reason kept.
/// `progress(done, total)` is called after each LLM request.
pub fn find_structure(
    client: Option<&LlmClient>,
    input: &StructureInput,
    progress: &mut dyn FnMut(usize, usize),
) -> Structure {
    let reason = match client {
        None => "no LLM server configured".to_string(),
        Some(_) if input.cues.is_empty() => "no dialogue for the LLM to read".to_string(),
        Some(c) => match llm_structure(c, input, progress) {
            Ok(s) => return s,
            Err(e) => format!("LLM failed: {e}"),
        },
    };
    let mut s = builtin_structure(input);
    s.fallback_reason = Some(reason);
    s
}

// ---------------------------------------------------------------- built-in

/// The built-in analyser: TRIPOD priors moved by the film's intensity
/// (dialogue emotion and density, loudness, cut rate). Never fails.
pub fn builtin_structure(input: &StructureInput) -> Structure {
    let runtime = effective_runtime(input);
    let protagonist = most_lines_speaker(&input.cues);
    if runtime <= 0.0 {
        return Structure {
            begin_t: 0.0,
            escalation_t: 0.0,
            climax_t: 0.0,
            turning_points: vec![0.0; 5],
            protagonist,
            source: "builtin".into(),
            reasoning: "runtime unknown and no cues: anchors set to 0".into(),
            fallback_reason: None,
        };
    }
    let curve = IntensityCurve::build(input, runtime);
    let mut tps = [0.0f64; 5];
    let mut notes = Vec::new();
    let min_gap = 0.03;
    let mut prev = EDGE_MARGIN - min_gap;
    for i in 0..5 {
        let prior = TRIPOD_PRIORS[i];
        // Keep room for the turning points still to come.
        let hi_limit = 1.0 - EDGE_MARGIN - min_gap * (4 - i) as f64;
        let lo = (prior - 2.0 * PRIOR_SPREAD)
            .max(prev + min_gap)
            .max(EDGE_MARGIN);
        let hi = (prior + 2.0 * PRIOR_SPREAD).min(hi_limit).max(lo);
        // The first two turning points are changes (the story starts moving):
        // look for a rise. The later three are peaks of intensity.
        let feature = if i < 2 { &curve.rise } else { &curve.level };
        let (best, strength) = if curve.has_signal {
            pick(feature, prior, lo, hi)
        } else {
            (prior.clamp(lo, hi), 0.0)
        };
        tps[i] = best;
        prev = best;
        notes.push(format!(
            "{} prior {:.0}% -> {:.1}% ({})",
            TP_NAMES[i],
            prior * 100.0,
            best * 100.0,
            if curve.has_signal {
                format!(
                    "{} {:.2}",
                    if i < 2 { "rise" } else { "intensity" },
                    strength
                )
            } else {
                "no signal, prior kept".to_string()
            }
        ));
    }
    let secs: Vec<f64> = tps.iter().map(|f| f * runtime).collect();
    Structure {
        begin_t: secs[0],
        escalation_t: secs[2],
        climax_t: secs[3],
        turning_points: secs,
        protagonist,
        source: "builtin".into(),
        reasoning: format!(
            "TRIPOD priors moved by film intensity from {}: {}",
            curve.components.join(" + "),
            notes.join("; ")
        ),
        fallback_reason: None,
    }
}

fn effective_runtime(input: &StructureInput) -> f64 {
    if input.runtime_s.is_finite() && input.runtime_s > 0.0 {
        return input.runtime_s;
    }
    let last_cue = input
        .cues
        .iter()
        .map(|c| c.end_s)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    let last_sample = input
        .intensity
        .iter()
        .map(|s| s.0)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    last_cue.max(last_sample)
}

/// The argmax of prior x exp(PULL x feature) over [lo, hi] (fractions of runtime).
fn pick(feature: &[f64], prior: f64, lo: f64, hi: f64) -> (f64, f64) {
    let n = feature.len();
    let mut best = (prior.clamp(lo, hi), f64::MIN, 0.0);
    for (b, &f) in feature.iter().enumerate() {
        let t = (b as f64 + 0.5) / n as f64;
        if t < lo || t > hi {
            continue;
        }
        let d = (t - prior) / PRIOR_SPREAD;
        let score = -0.5 * d * d + PULL * f;
        if score > best.1 {
            best = (t, score, f);
        }
    }
    (best.0, best.2)
}

/// Film intensity on a fixed grid of BINS, each component scaled to 0..1.
struct IntensityCurve {
    level: Vec<f64>,
    rise: Vec<f64>,
    has_signal: bool,
    components: Vec<String>,
}

impl IntensityCurve {
    fn build(input: &StructureInput, runtime: f64) -> Self {
        let bin_s = runtime / BINS as f64;
        let mut density = vec![0.0; BINS];
        let mut emotion = vec![0.0; BINS];
        for c in &input.cues {
            if !(c.start_s.is_finite() && c.end_s.is_finite()) {
                continue;
            }
            let (s, e) = (c.start_s.max(0.0), c.end_s.min(runtime));
            if e <= s {
                continue;
            }
            let words = c.text.split_whitespace().count() as f64;
            let emo = f64::from(c.intensity.clamp(0.0, 1.0));
            let b0 = ((s / bin_s) as usize).min(BINS - 1);
            let b1 = ((e / bin_s) as usize).min(BINS - 1);
            for b in b0..=b1 {
                let lo = b as f64 * bin_s;
                let overlap = (e.min(lo + bin_s) - s.max(lo)).max(0.0) / (e - s);
                density[b] += words * overlap;
                emotion[b] += emo * overlap;
            }
        }
        let mut film = vec![f64::NAN; BINS];
        let mut counts = vec![0u32; BINS];
        for &(t, v) in &input.intensity {
            if !t.is_finite() || !v.is_finite() || t < 0.0 || t > runtime {
                continue;
            }
            let b = ((t / bin_s) as usize).min(BINS - 1);
            film[b] = if counts[b] == 0 { 0.0 } else { film[b] } + f64::from(v.clamp(0.0, 1.0));
            counts[b] += 1;
        }
        for b in 0..BINS {
            if counts[b] > 0 {
                film[b] /= f64::from(counts[b]);
            }
        }
        fill_gaps(&mut film);

        let mut parts: Vec<(&str, f64, Vec<f64>)> = Vec::new();
        if film.iter().any(|v| *v > 0.0) {
            parts.push(("loudness/cut rate", 0.5, robust_scale(&film)));
        }
        if emotion.iter().any(|v| *v > 0.0) {
            parts.push(("dialogue emotion", 0.3, robust_scale(&emotion)));
        }
        if density.iter().any(|v| *v > 0.0) {
            parts.push(("dialogue density", 0.2, robust_scale(&density)));
        }
        let total_w: f64 = parts.iter().map(|p| p.1).sum();
        let mut level = vec![0.0; BINS];
        for (_, w, v) in &parts {
            for b in 0..BINS {
                level[b] += w / total_w * v[b];
            }
        }
        // About 2 % of runtime: one scene, not one line.
        let level = smooth(&level, 4.0);
        // Compare the next 3 % with the previous 3 %.
        let span = 6;
        let mean = |r: std::ops::Range<usize>| {
            let n = r.len().max(1) as f64;
            level[r].iter().sum::<f64>() / n
        };
        let rise: Vec<f64> = (0..BINS)
            .map(|b| (mean(b..(b + span).min(BINS)) - mean(b.saturating_sub(span)..b)).max(0.0))
            .collect();
        let rise = robust_scale(&rise);
        IntensityCurve {
            has_signal: !parts.is_empty(),
            level: robust_scale(&level),
            rise,
            components: if parts.is_empty() {
                vec!["nothing (no cues, no analysis)".into()]
            } else {
                parts.iter().map(|p| p.0.to_string()).collect()
            },
        }
    }
}

/// Empty bins take the value of the nearest filled bin (0 when none is).
fn fill_gaps(v: &mut [f64]) {
    let filled: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_nan()).collect();
    if filled.is_empty() {
        v.iter_mut().for_each(|x| *x = 0.0);
        return;
    }
    for i in 0..v.len() {
        if v[i].is_nan() {
            let nearest = filled
                .iter()
                .min_by_key(|&&j| j.abs_diff(i))
                .copied()
                .unwrap_or(0);
            v[i] = v[nearest];
        }
    }
}

/// Scale to 0..1 by the 5th..98th percentile: a peak must last about 2 % of
/// the film (4 bins) to count fully, so one loud bang does not flatten the rest.
fn robust_scale(v: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return vec![0.0; v.len()];
    }
    sorted.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.05), q(0.98));
    if hi - lo < 1e-12 {
        return vec![0.0; v.len()];
    }
    v.iter()
        .map(|x| ((x - lo) / (hi - lo)).clamp(0.0, 1.0))
        .collect()
}

fn smooth(v: &[f64], sigma_bins: f64) -> Vec<f64> {
    let r = (3.0 * sigma_bins).ceil() as isize;
    let kernel: Vec<f64> = (-r..=r)
        .map(|k| (-0.5 * (k as f64 / sigma_bins).powi(2)).exp())
        .collect();
    (0..v.len() as isize)
        .map(|i| {
            let (mut sum, mut wsum) = (0.0, 0.0);
            for (k, w) in (-r..=r).zip(&kernel) {
                let j = i + k;
                if j >= 0 && (j as usize) < v.len() {
                    sum += w * v[j as usize];
                    wsum += w;
                }
            }
            sum / wsum
        })
        .collect()
}

/// The named speaker with the most lines, if any speaker is named.
fn most_lines_speaker(cues: &[CueLite]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in cues {
        if let Some(s) = c
            .speaker
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            *counts.entry(s).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s.to_string())
}

// ---------------------------------------------------------------- LLM

/// Split `n` cues into chunks of 50-100 (fewer than 50 cues make one chunk),
/// as even as possible.
pub fn chunk_plan(n: usize) -> Vec<std::ops::Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let k = n.div_ceil(CHUNK_MAX).max(1);
    let k = if n / k < CHUNK_MIN {
        (n / CHUNK_MIN).max(1)
    } else {
        k
    };
    let (base, extra) = (n / k, n % k);
    let mut out = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let len = base + usize::from(i < extra);
        out.push(start..start + len);
        start += len;
    }
    out
}

/// Checks an LLM's anchors: finite, 0 < B < E < C < runtime, none in the
/// first or last 2 %. The error says which rule failed.
pub fn validate_anchors(b: f64, e: f64, c: f64, runtime: f64) -> Result<(), String> {
    if ![b, e, c].iter().all(|t| t.is_finite()) {
        return Err(format!("non-finite anchors B={b} E={e} C={c}"));
    }
    if !(0.0 < b && b < e && e < c && c < runtime) {
        return Err(format!(
            "anchors not in order 0 < BEGIN {b:.1} < ESCALATION {e:.1} < CLIMAX {c:.1} < runtime {runtime:.1}"
        ));
    }
    let (lo, hi) = (EDGE_MARGIN * runtime, (1.0 - EDGE_MARGIN) * runtime);
    for (name, t) in [("BEGIN", b), ("ESCALATION", e), ("CLIMAX", c)] {
        if t < lo || t > hi {
            return Err(format!(
                "{name} {t:.1} s lies in the first or last 2 % of the {runtime:.1} s film"
            ));
        }
    }
    Ok(())
}

fn format_cue(c: &CueLite) -> String {
    let text: String = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = crate::llm::shorten(&text, 160);
    match c.speaker.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => format!("[{:.0}s] {}: {}", c.start_s, s.trim(), text),
        None => format!("[{:.0}s] {}", c.start_s, text),
    }
}

/// The LLM path: one summary per chunk of 50-100 cues, then one call for the
/// anchors under a JSON schema; the answer is validated before it is used.
pub fn llm_structure(
    client: &LlmClient,
    input: &StructureInput,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Structure, LlmError> {
    let runtime = effective_runtime(input);
    if runtime <= 0.0 {
        return Err(LlmError::Invalid("the film's runtime is unknown".into()));
    }
    let cues = cues_in_time_order(input, runtime)?;
    let plan = chunk_plan(cues.len());
    let total = plan.len() + 1;
    let system = Message::system(
        "You are a film editor. You read subtitles of a film and answer only with JSON.",
    );
    let summaries = summarise_chunks(client, &system, &cues, &plan, &mut |done| {
        progress(done, total)
    })?;
    let answer = client.chat_json_full(
        &[
            system,
            Message::user(anchor_prompt(runtime, &summaries.lines)),
        ],
        &anchor_schema(runtime),
        400,
    )?;
    progress(total, total);
    let (b, e, c) = read_anchors(&answer.value, runtime)?;

    // The LLM gives three anchors; the other two turning points come from the
    // built-in analysis, kept inside the LLM's frame so the five stay in order.
    let builtin = builtin_structure(input);
    let v = &answer.value;
    let protagonist = v
        .get("protagonist")
        .and_then(|p| p.as_str())
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("unknown"))
        .map(str::to_string)
        .or(builtin.protagonist);
    let reasoning = v
        .get("reasoning")
        .and_then(|r| r.as_str())
        .unwrap_or("")
        .trim()
        .to_string();
    let model = answer
        .model
        .or(summaries.model)
        .unwrap_or_else(|| client.label());
    Ok(Structure {
        begin_t: b,
        escalation_t: e,
        climax_t: c,
        turning_points: five_turning_points(b, e, c, &builtin.turning_points, runtime),
        protagonist,
        source: format!("llm:{model}"),
        reasoning: format!(
            "{reasoning} [{} chunks of dialogue summarised{}]",
            plan.len(),
            if summaries.weak > 0 {
                format!(
                    ", {} summaries unusable and replaced by the lines",
                    summaries.weak
                )
            } else {
                String::new()
            }
        ),
        fallback_reason: None,
    })
}

/// The cues inside the runtime, by start time; an error when none is.
fn cues_in_time_order(input: &StructureInput, runtime: f64) -> Result<Vec<&CueLite>, LlmError> {
    let mut cues: Vec<&CueLite> = input
        .cues
        .iter()
        .filter(|c| c.start_s.is_finite() && c.start_s >= 0.0 && c.start_s <= runtime)
        .collect();
    cues.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    if cues.is_empty() {
        return Err(LlmError::Invalid(
            "no dialogue within the film's runtime".into(),
        ));
    }
    Ok(cues)
}

/// One line per chunk for the anchor prompt, and what it took to get them.
struct ChunkSummaries {
    lines: Vec<String>,
    /// The model name the server reported first.
    model: Option<String>,
    /// Summaries the model garbled, replaced by the chunk's first lines.
    weak: usize,
}

/// Ask for a summary and a tension rating of each chunk; `progress(done)`
/// after each. An error when the server fails or no summary is usable.
fn summarise_chunks(
    client: &LlmClient,
    system: &Message,
    cues: &[&CueLite],
    plan: &[std::ops::Range<usize>],
    progress: &mut dyn FnMut(usize),
) -> Result<ChunkSummaries, LlmError> {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "summary": { "type": "string", "minLength": 10, "maxLength": 300 },
            "tension": { "type": "integer", "minimum": 0, "maximum": 10 }
        },
        "required": ["summary", "tension"],
        "additionalProperties": false
    });
    let mut out = ChunkSummaries {
        lines: Vec::with_capacity(plan.len()),
        model: None,
        weak: 0,
    };
    for (i, range) in plan.iter().enumerate() {
        let chunk = &cues[range.clone()];
        let (t0, t1) = (chunk[0].start_s, chunk[chunk.len() - 1].end_s);
        let prompt = format!(
            "Dialogue of a film from {t0:.0}s to {t1:.0}s (part {} of {}):\n{}\n\n\
             Summarise what happens in this part in one or two sentences, and rate its \
             dramatic tension from 0 (calm) to 10 (highest).",
            i + 1,
            plan.len(),
            chunk
                .iter()
                .map(|c| format_cue(c))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let answer = client.chat_json_full(&[system.clone(), Message::user(prompt)], &schema, 200);
        let usable = match answer {
            Ok(a) => {
                out.model = out.model.or(a.model);
                let summary = a.value["summary"].as_str().unwrap_or("").trim().to_string();
                let tension = a.value["tension"].as_i64().unwrap_or(-1);
                (!summary.is_empty() && (0..=10).contains(&tension)).then_some((summary, tension))
            }
            // A weak model can garble one summary; the lines themselves stand in.
            Err(LlmError::BadJson { .. }) => None,
            Err(e) => return Err(e),
        };
        let line = match usable {
            Some((summary, tension)) => {
                format!("[{t0:.0}s-{t1:.0}s] tension {tension}/10: {summary}")
            }
            None => {
                out.weak += 1;
                format!("[{t0:.0}s-{t1:.0}s] {}", digest(chunk))
            }
        };
        out.lines.push(line);
        progress(i + 1);
    }
    if out.weak == plan.len() {
        return Err(LlmError::Invalid(format!(
            "none of the {} chunk summaries was usable",
            plan.len()
        )));
    }
    Ok(out)
}

/// The anchors' schema: whole seconds outside the first and last 2 %.
fn anchor_schema(runtime: f64) -> serde_json::Value {
    let lo = (EDGE_MARGIN * runtime).ceil() as i64;
    let hi = ((1.0 - EDGE_MARGIN) * runtime).floor() as i64;
    let t = |what: &str| serde_json::json!({ "type": "integer", "minimum": lo, "maximum": hi, "description": what });
    // Keys sort alphabetically in serde_json; they are named so that the
    // reasoning comes first and the times in story order.
    serde_json::json!({
        "type": "object",
        "properties": {
            "protagonist": { "type": "string", "maxLength": 60 },
            "reasoning": { "type": "string", "minLength": 10, "maxLength": 600 },
            "t1_begin": t("BEGIN_T, seconds"),
            "t2_escalation": t("ESCALATION_T, seconds"),
            "t3_climax": t("CLIMAX_T, seconds")
        },
        "required": ["protagonist", "reasoning", "t1_begin", "t2_escalation", "t3_climax"],
        "additionalProperties": false
    })
}

fn anchor_prompt(runtime: f64, summaries: &[String]) -> String {
    format!(
        "A film runs {runtime:.0} seconds. Summaries of its dialogue, in order:\n{}\n\n\
         Find three moments, in seconds from the start:\n\
         t1_begin: the inciting incident, when the story really begins (usually near {:.0}s);\n\
         t2_escalation: the point of no return, when the conflict escalates (usually near {:.0}s);\n\
         t3_climax: the major setback that starts the final push to the climax (usually near {:.0}s).\n\
         They must be in increasing order: t1_begin < t2_escalation < t3_climax.\n\
         Also name the protagonist (empty if unknown) and give a short reasoning.",
        summaries.join("\n"),
        TRIPOD_PRIORS[0] * runtime,
        TRIPOD_PRIORS[2] * runtime,
        TRIPOD_PRIORS[3] * runtime,
    )
}

/// BEGIN, ESCALATION and CLIMAX from the answer, validated.
fn read_anchors(v: &serde_json::Value, runtime: f64) -> Result<(f64, f64, f64), LlmError> {
    let num = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_f64())
            .ok_or_else(|| LlmError::Invalid(format!("answer lacks a number {k}: {v}")))
    };
    let (b, e, c) = (num("t1_begin")?, num("t2_escalation")?, num("t3_climax")?);
    validate_anchors(b, e, c, runtime).map_err(LlmError::Invalid)?;
    Ok((b, e, c))
}

/// The LLM's three anchors plus TP2 and TP5 from the built-in analysis
/// (`builtin`), each kept where it is only if it falls between its LLM
/// neighbours, else put halfway between them.
fn five_turning_points(b: f64, e: f64, c: f64, builtin: &[f64], runtime: f64) -> Vec<f64> {
    let tp2 = if b < builtin[1] && builtin[1] < e {
        builtin[1]
    } else {
        (b + e) / 2.0
    };
    let end = (1.0 - EDGE_MARGIN) * runtime;
    let tp5 = if c < builtin[4] && builtin[4] < end {
        builtin[4]
    } else {
        (c + end) / 2.0
    };
    vec![b, tp2, e, c, tp5]
}

/// A stand-in summary: the chunk's first lines, when the model's was unusable.
fn digest(chunk: &[&CueLite]) -> String {
    let text: Vec<String> = chunk.iter().take(3).map(|c| c.text.clone()).collect();
    crate::llm::shorten(&text.join(" / "), 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_with_peak(runtime: f64, peak_frac: f64) -> StructureInput {
        let intensity = (0..600)
            .map(|i| {
                let t = runtime * i as f64 / 600.0;
                let d = (t / runtime - peak_frac) / 0.02;
                (t, (0.2 + 0.8 * (-0.5 * d * d).exp()) as f32)
            })
            .collect();
        StructureInput {
            runtime_s: runtime,
            cues: vec![],
            intensity,
        }
    }

    #[test]
    fn no_signal_keeps_priors() {
        let s = builtin_structure(&StructureInput {
            runtime_s: 1000.0,
            ..Default::default()
        });
        for (t, p) in s.turning_points.iter().zip(TRIPOD_PRIORS) {
            assert!((t - p * 1000.0).abs() < 1e-6, "{t} vs {p}");
        }
        assert_eq!(s.climax_t, 740.0);
        assert!(s.reasoning.contains("prior kept"));
    }

    #[test]
    fn intensity_peak_pulls_the_nearest_anchor() {
        let s = builtin_structure(&input_with_peak(1000.0, 0.81));
        // TP4 (prior 0.74) moves onto the peak at 0.81.
        assert!(
            s.climax_t > 780.0 && s.climax_t < 820.0,
            "{:?}",
            s.turning_points
        );
        // A peak at 0.81 is 3 spreads away from TP3's prior: it stays put.
        assert!(
            (s.escalation_t - 530.0).abs() < 60.0,
            "{:?}",
            s.turning_points
        );
        validate_anchors(s.begin_t, s.escalation_t, s.climax_t, 1000.0).unwrap();
    }

    #[test]
    fn anchors_stay_ordered_under_any_curve() {
        for peak in [0.03, 0.2, 0.4, 0.5, 0.6, 0.75, 0.9, 0.97] {
            let s = builtin_structure(&input_with_peak(5000.0, peak));
            for w in s.turning_points.windows(2) {
                assert!(w[0] < w[1], "peak {peak}: {:?}", s.turning_points);
            }
            validate_anchors(s.begin_t, s.escalation_t, s.climax_t, 5000.0).unwrap();
        }
    }

    #[test]
    fn dialogue_emotion_moves_anchors_and_names_protagonist() {
        let mut cues = Vec::new();
        for i in 0..400 {
            let t = i as f64 * 15.0;
            let hot = (t - 3500.0).abs() < 120.0; // 0.58 of 6000 s
            cues.push(CueLite {
                start_s: t,
                end_s: t + 2.0,
                text: if hot {
                    "NO! Stop him now! Run!"
                } else {
                    "well, okay"
                }
                .into(),
                speaker: Some(if i % 3 == 0 { "Ron" } else { "Veronica" }.into()),
                intensity: if hot { 1.0 } else { 0.1 },
            });
        }
        let s = builtin_structure(&StructureInput {
            runtime_s: 6000.0,
            cues,
            intensity: vec![],
        });
        assert!(
            (s.escalation_t - 3500.0).abs() < 150.0,
            "{:?}",
            s.turning_points
        );
        assert_eq!(s.protagonist.as_deref(), Some("Veronica"));
        assert!(s.reasoning.contains("dialogue emotion"));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let s = builtin_structure(&StructureInput {
            runtime_s: f64::NAN,
            ..Default::default()
        });
        assert_eq!(s.turning_points, vec![0.0; 5]);
        let s = builtin_structure(&StructureInput {
            runtime_s: 0.0,
            cues: vec![
                CueLite {
                    start_s: 5.0,
                    end_s: f64::INFINITY,
                    ..Default::default()
                },
                CueLite {
                    start_s: 10.0,
                    end_s: 100.0,
                    text: "a b".into(),
                    ..Default::default()
                },
            ],
            intensity: vec![(f64::NAN, 1.0), (50.0, f32::NAN)],
        });
        assert!(s.climax_t > 0.0 && s.climax_t < 100.0);
    }

    #[test]
    fn chunks_are_50_to_100() {
        assert!(chunk_plan(0).is_empty());
        assert_eq!(chunk_plan(30), vec![0..30]);
        for n in [50, 99, 100, 101, 149, 150, 151, 865, 1332, 5000] {
            let plan = chunk_plan(n);
            assert_eq!(plan.first().unwrap().start, 0);
            assert_eq!(plan.last().unwrap().end, n);
            for w in plan.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
            for r in &plan {
                assert!((50..=100).contains(&r.len()), "n={n}: {plan:?}");
            }
        }
    }

    #[test]
    fn validation_rules() {
        assert!(validate_anchors(150.0, 530.0, 740.0, 1000.0).is_ok());
        assert!(validate_anchors(530.0, 150.0, 740.0, 1000.0)
            .unwrap_err()
            .contains("order"));
        assert!(validate_anchors(10.0, 530.0, 740.0, 1000.0)
            .unwrap_err()
            .contains("2 %"));
        assert!(validate_anchors(150.0, 530.0, 1500.0, 1000.0).is_err());
        assert!(validate_anchors(f64::NAN, 530.0, 740.0, 1000.0).is_err());
    }

    #[test]
    fn no_client_falls_back_with_reason() {
        let s = find_structure(None, &input_with_peak(100.0, 0.5), &mut |_, _| {});
        assert_eq!(s.source, "builtin");
        assert_eq!(
            s.fallback_reason.as_deref(),
            Some("no LLM server configured")
        );
    }
}
