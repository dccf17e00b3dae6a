//! `cinecut check`: measures a finished trailer against its manifest and the
//! editor's rules (cuts on the beat, no straddled shots, no words cut, no
//! spoilers, loudness, duration, pacing) and says which hard rules it breaks.

use crate::analysis::Shot;
use crate::error::{Error, Result};
use crate::manifest::{Act, Item, Manifest};
use crate::subtitles::{Cue, CueKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A clip edge this close to a cue's edge counts as on it (subtitle timing is
/// rarely better than this).
pub const CUE_TOLERANCE_S: f64 = 0.05;
/// Below this film gain a clip's own sound is inaudible, so its edges cannot
/// cut a word the viewer hears.
pub const MUTED_DB: f64 = -40.0;
pub const MIN_CUT_ON_BEAT: f64 = 0.95;
pub const LOUDNESS_TOLERANCE_LU: f64 = 1.0;
pub const TRUE_PEAK_LIMIT_DB: f64 = -1.0;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OffBeatCut {
    /// Index in the timeline of the item that starts at this cut.
    pub item: usize,
    pub time_s: f64,
    pub nearest_beat_s: Option<f64>,
    pub off_frames: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Straddle {
    pub item: usize,
    pub source_in_s: f64,
    pub source_out_s: f64,
    pub boundary_s: f64,
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpoilerViolation {
    pub item: usize,
    pub source_out_s: f64,
    pub spoiler_line_s: f64,
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZoneShare {
    pub zone: String,
    pub clips: usize,
    pub duration_s: f64,
    pub share: f64,
}

/// What ffmpeg/ffprobe measured on the trailer file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct MediaMeasures {
    pub loudness_lufs: f64,
    pub true_peak_dbtp: f64,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    pub trailer: PathBuf,
    pub vibe: String,
    pub fps: f64,
    pub cuts: usize,
    pub cuts_on_beat: usize,
    /// None when the manifest has no beat grid (or no cuts).
    pub cut_on_beat_rate: Option<f64>,
    pub off_beat_cuts: Vec<OffBeatCut>,
    /// None when no shot list was given.
    pub straddles: Option<Vec<Straddle>>,
    /// None when no subtitles were given.
    pub dialogue_cuts: Option<Vec<CueCut>>,
    pub spoiler_violations: Vec<SpoilerViolation>,
    pub loudness_lufs: f64,
    pub target_lufs: f64,
    pub true_peak_dbtp: f64,
    pub true_peak_limit_db: f64,
    pub duration_s: f64,
    pub expected_duration_s: f64,
    pub duration_off_frames: f64,
    pub acts: Vec<ActStat>,
    /// True when acts 1, 2, 3 get faster (average shot length falls).
    pub pacing_accelerates: Option<bool>,
    pub zones: Vec<ZoneShare>,
}

/// Measures `trailer` (loudness, true peak, duration) and checks it against
/// `manifest`, the film's shots and its subtitle cues (each optional).
pub fn check(
    trailer: &Path,
    manifest: &Manifest,
    shots: Option<&[Shot]>,
    cues: Option<&[Cue]>,
) -> Result<CheckReport, Error> {
    if !trailer.is_file() {
        return Err(Error::input(trailer, "no such trailer file"));
    }
    let (loudness_lufs, true_peak_dbtp) = crate::media::level::measure_file(trailer)?;
    let duration_s = video_duration(trailer)?;
    let media = MediaMeasures {
        loudness_lufs,
        true_peak_dbtp,
        duration_s,
    };
    Ok(evaluate(trailer, manifest, shots, cues, media))
}

/// The video stream's duration (ffprobe); the container's can be longer by the
/// audio encoder's padding, which is not what the viewer sees.
pub fn video_duration(path: &Path) -> Result<f64> {
    let out = crate::media::process::Process::ffprobe()
        .args(crate::args![
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=duration:format=duration",
            "-of",
            "json",
            path
        ])
        .stdout()?;
    let v: serde_json::Value = serde_json::from_slice(&out)
        .map_err(|e| Error::tool("ffprobe", format!("unreadable output: {e}")))?;
    let num = |x: &serde_json::Value| x.as_str().and_then(|s| s.trim().parse::<f64>().ok());
    v["streams"]
        .get(0)
        .and_then(|s| num(&s["duration"]))
        .or_else(|| num(&v["format"]["duration"]))
        .ok_or_else(|| Error::input(path, "ffprobe found no video duration"))
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

/// Every check that needs no media, plus the given file measurements.
pub fn evaluate(
    trailer: &Path,
    m: &Manifest,
    shots: Option<&[Shot]>,
    cues: Option<&[Cue]>,
    media: MediaMeasures,
) -> CheckReport {
    let fps = m.render.fps;
    let frames = m.item_frames();
    let starts = m.item_start_frames();
    let expected_duration_s = m.total_duration_s();

    // Cuts on the beat: each item after the first starts at a cut.
    let beats = trailer_beats(m);
    let mut off_beat_cuts = Vec::new();
    let cuts = m.timeline.len().saturating_sub(1);
    let mut cuts_on_beat = 0;
    if let Some(b) = &beats {
        for (i, s) in starts.iter().enumerate().skip(1) {
            let t = *s as f64 / fps;
            let near = nearest(b, t);
            let off = near.map(|nb| (t - nb).abs() * fps);
            if off.is_some_and(|f| f <= 1.0 + 1e-6) {
                cuts_on_beat += 1;
            } else {
                off_beat_cuts.push(OffBeatCut {
                    item: i,
                    time_s: t,
                    nearest_beat_s: near,
                    off_frames: off,
                });
            }
        }
    }
    let cut_on_beat_rate = match (&beats, cuts) {
        (Some(_), n) if n > 0 => Some(cuts_on_beat as f64 / n as f64),
        _ => None,
    };

    // Straddles: a shot boundary strictly inside a clip, by more than half a
    // film frame (edges snapped to a boundary land on it up to rounding).
    let film_tol = 0.5 / m.film.fps.max(1.0);
    let straddles = shots.map(|shots| {
        let bounds: Vec<f64> = shots.iter().skip(1).map(|s| s.start_s).collect();
        let mut v = Vec::new();
        for (i, it) in m.timeline.iter().enumerate() {
            if let Item::Clip(c) = it {
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
        }
        v
    });

    // Words cut: a clip edge strictly inside a dialogue cue (beyond the
    // tolerance), on clips whose film sound is heard.
    let dialogue_cuts = cues.map(|cues| {
        let mut v = Vec::new();
        for (i, it) in m.timeline.iter().enumerate() {
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

    let spoiler_violations = m
        .timeline
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it {
            Item::Clip(c) if c.source_out_s > m.spoiler_line_s + 1e-6 => Some(SpoilerViolation {
                item: i,
                source_out_s: c.source_out_s,
                spoiler_line_s: m.spoiler_line_s,
            }),
            _ => None,
        })
        .collect();

    // Shares and pacing, on rendered time: an item's frames less the overlap
    // it shares with the previous one.
    let rendered = |i: usize| (frames[i].0 - frames[i].1) as f64 / fps;
    let total = expected_duration_s.max(1e-9);
    let targets = crate::vibes::get(&m.vibe).ok().map(|v| v.act_cut_s);
    let mut acts: Vec<ActStat> = Vec::new();
    for (i, it) in m.timeline.iter().enumerate() {
        let act = it.act();
        let idx = match acts.iter().position(|a| a.act == act) {
            Some(k) => k,
            None => {
                let target = targets.and_then(|t| match act {
                    Act::Act1 => Some(t[0]),
                    Act::Act2 => Some(t[1]),
                    Act::Act3 => Some(t[2]),
                    _ => None,
                });
                acts.push(ActStat {
                    act,
                    items: 0,
                    clips: 0,
                    duration_s: 0.0,
                    share: 0.0,
                    avg_shot_s: None,
                    target_avg_shot_s: target,
                });
                acts.len() - 1
            }
        };
        let a = &mut acts[idx];
        a.items += 1;
        a.duration_s += rendered(i);
        if let Item::Clip(_) = it {
            a.clips += 1;
            // Sum first, divide below.
            *a.avg_shot_s.get_or_insert(0.0) += frames[i].0 as f64 / fps;
        }
    }
    for a in &mut acts {
        a.share = a.duration_s / total;
        if let Some(s) = a.avg_shot_s.as_mut() {
            *s /= a.clips as f64;
        }
    }
    let asl = |act| {
        acts.iter()
            .find(|a| a.act == act)
            .and_then(|a| a.avg_shot_s)
    };
    let pacing_accelerates = match (asl(Act::Act1), asl(Act::Act2), asl(Act::Act3)) {
        (Some(a), Some(b), Some(c)) => Some(a > b && b > c),
        _ => None,
    };

    let mut zones: Vec<ZoneShare> = Vec::new();
    for (i, it) in m.timeline.iter().enumerate() {
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
        zones[k].duration_s += rendered(i);
    }
    for z in &mut zones {
        z.share = z.duration_s / total;
    }

    CheckReport {
        trailer: trailer.to_path_buf(),
        vibe: m.vibe.clone(),
        fps,
        cuts,
        cuts_on_beat,
        cut_on_beat_rate,
        off_beat_cuts,
        straddles,
        dialogue_cuts,
        spoiler_violations,
        loudness_lufs: media.loudness_lufs,
        target_lufs: m.render.loudness_lufs,
        true_peak_dbtp: media.true_peak_dbtp,
        true_peak_limit_db: TRUE_PEAK_LIMIT_DB,
        duration_s: media.duration_s,
        expected_duration_s,
        duration_off_frames: (media.duration_s - expected_duration_s).abs() * fps,
        acts,
        pacing_accelerates,
        zones,
    }
}

impl CheckReport {
    /// The broken hard rules, one line each; empty means the trailer passes.
    pub fn hard_failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        // False for NaN too: an unmeasurable value never passes.
        let within = |v: f64, limit: f64| v <= limit;
        if let Some(s) = &self.straddles {
            if !s.is_empty() {
                f.push(format!("{} clip(s) straddle a shot boundary", s.len()));
            }
        }
        if let Some(d) = &self.dialogue_cuts {
            if !d.is_empty() {
                f.push(format!(
                    "{} clip edge(s) cut inside a dialogue cue",
                    d.len()
                ));
            }
        }
        if !self.spoiler_violations.is_empty() {
            f.push(format!(
                "{} clip(s) use footage after the spoiler line",
                self.spoiler_violations.len()
            ));
        }
        let lu = self.loudness_lufs - self.target_lufs;
        if !within(lu.abs(), LOUDNESS_TOLERANCE_LU) {
            f.push(format!(
                "loudness {:.1} LUFS is {:+.1} LU off the target {:.1}",
                self.loudness_lufs, lu, self.target_lufs
            ));
        }
        if !within(self.true_peak_dbtp, self.true_peak_limit_db) {
            f.push(format!(
                "true peak {:.1} dBTP is above {:.1} dBTP",
                self.true_peak_dbtp, self.true_peak_limit_db
            ));
        }
        if !within(self.duration_off_frames, 1.0 + 1e-6) {
            f.push(format!(
                "duration {:.3} s is {:.1} frames off the manifest's {:.3} s",
                self.duration_s, self.duration_off_frames, self.expected_duration_s
            ));
        }
        if let Some(r) = self.cut_on_beat_rate {
            if r < MIN_CUT_ON_BEAT {
                f.push(format!(
                    "only {:.0} % of cuts on the beat (need {:.0} %)",
                    r * 100.0,
                    MIN_CUT_ON_BEAT * 100.0
                ));
            }
        }
        f
    }
}

fn act_name(a: Act) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}"))
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = |ok: bool| if ok { "ok  " } else { "FAIL" };
        writeln!(f, "check {} (vibe {})", self.trailer.display(), self.vibe)?;
        match self.cut_on_beat_rate {
            Some(r) => writeln!(
                f,
                "  {} cuts on the beat    {}/{} ({:.0} %)",
                mark(r >= MIN_CUT_ON_BEAT),
                self.cuts_on_beat,
                self.cuts,
                r * 100.0
            )?,
            None => writeln!(f, "  --   cuts on the beat    no beat grid")?,
        }
        for c in self.off_beat_cuts.iter().take(5) {
            match (c.nearest_beat_s, c.off_frames) {
                (Some(b), Some(o)) => writeln!(
                    f,
                    "         item {} at {:.3} s: nearest beat {:.3} s, {:.1} frames off",
                    c.item, c.time_s, b, o
                )?,
                _ => writeln!(f, "         item {} at {:.3} s: no beat", c.item, c.time_s)?,
            }
        }
        match &self.straddles {
            Some(s) => {
                writeln!(
                    f,
                    "  {} shot straddles      {}",
                    mark(s.is_empty()),
                    s.len()
                )?;
                for x in s.iter().take(5) {
                    writeln!(
                        f,
                        "         item {} ({:.3}-{:.3} s) crosses the cut at {:.3} s",
                        x.item, x.source_in_s, x.source_out_s, x.boundary_s
                    )?;
                }
            }
            None => writeln!(f, "  --   shot straddles      no shot list")?,
        }
        match &self.dialogue_cuts {
            Some(d) => {
                writeln!(
                    f,
                    "  {} words cut           {}",
                    mark(d.is_empty()),
                    d.len()
                )?;
                for x in d.iter().take(5) {
                    writeln!(
                        f,
                        "         item {} {} at {:.3} s inside \"{}\" ({:.3}-{:.3} s)",
                        x.item, x.edge, x.time_s, x.cue_text, x.cue_start_s, x.cue_end_s
                    )?;
                }
            }
            None => writeln!(f, "  --   words cut           no subtitles")?,
        }
        writeln!(
            f,
            "  {} spoiler line        {} clip(s) past it",
            mark(self.spoiler_violations.is_empty()),
            self.spoiler_violations.len()
        )?;
        writeln!(
            f,
            "  {} loudness            {:.1} LUFS (target {:.1})",
            mark((self.loudness_lufs - self.target_lufs).abs() <= LOUDNESS_TOLERANCE_LU),
            self.loudness_lufs,
            self.target_lufs
        )?;
        writeln!(
            f,
            "  {} true peak           {:.1} dBTP (limit {:.1})",
            mark(self.true_peak_dbtp <= self.true_peak_limit_db),
            self.true_peak_dbtp,
            self.true_peak_limit_db
        )?;
        writeln!(
            f,
            "  {} duration            {:.3} s (manifest {:.3} s, {:.1} frames off)",
            mark(self.duration_off_frames <= 1.0 + 1e-6),
            self.duration_s,
            self.expected_duration_s,
            self.duration_off_frames
        )?;
        writeln!(f, "  acts:")?;
        for a in &self.acts {
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
        if let Some(p) = self.pacing_accelerates {
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
        writeln!(f, "  zones:")?;
        for z in &self.zones {
            writeln!(
                f,
                "    {:<12} {:>3} clips {:>6.1} s {:>5.1} %",
                z.zone,
                z.clips,
                z.duration_s,
                z.share * 100.0
            )?;
        }
        let fails = self.hard_failures();
        if fails.is_empty() {
            write!(f, "PASS")
        } else {
            write!(f, "FAIL: {}", fails.join("; "))
        }
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ShotsOnly {
    shots: Vec<Shot>,
}

#[derive(Deserialize)]
struct CuesOnly {
    cues: Vec<Cue>,
}

/// What the pipeline saved beside the manifest in its work folder.
#[derive(Debug, Default)]
pub struct Context {
    pub shots: Option<Vec<Shot>>,
    pub cues: Option<Vec<Cue>>,
    /// Files that are there but could not be read (stale or damaged): the
    /// checks that need them are skipped, and the user is told.
    pub warnings: Vec<String>,
}

/// The shots and cues the pipeline saved beside the manifest in its work
/// folder (`analysis.json`, `dialogue.json`), when they are there.
pub fn load_context(manifest_path: &Path) -> Context {
    let dir = crate::workdir::parent_dir(manifest_path);
    let mut ctx = Context::default();
    let path = dir.join("analysis.json");
    if let Ok(b) = std::fs::read(&path) {
        match serde_json::from_slice::<Envelope<ShotsOnly>>(&b) {
            Ok(e) => ctx.shots = Some(e.data.shots),
            Err(e) => ctx.warnings.push(format!(
                "{}: unreadable ({e}); shot straddles not checked",
                path.display()
            )),
        }
    }
    let path = dir.join("dialogue.json");
    if let Ok(b) = std::fs::read(&path) {
        match serde_json::from_slice::<Envelope<CuesOnly>>(&b) {
            Ok(e) => ctx.cues = Some(e.data.cues),
            Err(e) => ctx.warnings.push(format!(
                "{}: unreadable ({e}); words cut inside cues not checked",
                path.display()
            )),
        }
    }
    ctx
}

/// The `cinecut check` command: loads the manifest (and the shots and cues
/// saved beside it), measures, prints, and returns whether hard rules broke.
pub fn run(trailer: &Path, manifest_path: &Path, json: bool) -> Result<bool> {
    let m = Manifest::load(manifest_path)?;
    let ctx = load_context(manifest_path);
    for w in &ctx.warnings {
        eprintln!("warning: {w}");
    }
    let r = check(trailer, &m, ctx.shots.as_deref(), ctx.cues.as_deref())?;
    if json {
        let s = serde_json::to_string_pretty(&r).map_err(|e| Error::Internal(e.to_string()))?;
        println!("{s}");
    } else {
        println!("{r}");
    }
    Ok(r.hard_failures().is_empty())
}

#[cfg(test)]
mod tests;
