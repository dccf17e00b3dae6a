//! The assembly stage: the three-act cut on the music's beat, written as
//! TRAILER_MANIFEST.json, the edit decision list the render follows. The
//! manifest may be edited by hand, so a rerun with unchanged inputs keeps the
//! file as it is; `assemble.json` only records what it was made from.

use crate::edit::{self, EditInput};
use crate::error::{Error, Result};
use crate::manifest::{self, FilmRef, Manifest, RenderSettings, StructureRef, MANIFEST_NAME};
use crate::media::probe;
use crate::pipeline::{Context, Stage};
use crate::render;
use crate::vibes::Transition;
use crate::workdir::Artifact;

use super::music::MusicChoice;

pub struct Assemble;

impl Stage for Assemble {
    type Output = Manifest;

    fn name(&self) -> &'static str {
        "assemble"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        let cut = cx.cut();
        let o = cut.opts;
        Ok(vec![
            o.vibe.name.clone(),
            format!("{:.3}/{:.4}", cut.target_s, o.spoiler_line),
            o.title.clone(),
            o.end_card.clone(),
            std::path::absolute(&o.film.film)
                .unwrap_or_default()
                .display()
                .to_string(),
        ])
    }

    fn run(&self, cx: &Context, _bar: &crate::ui::Stage) -> Result<(Manifest, String)> {
        let mut m = header(cx);
        let edit = cut_to_length(cx, m.render.fps);
        m.timeline = edit.timeline;
        m.notes = edit.notes;
        fit_to_music(&mut m, &edit.rooms, cx.music());
        settle_in_points(cx, &mut m, &edit.rooms);
        add_voice_over(cx, &mut m);
        m.sfx = sound_effects(&m)?;
        if let Err(msg) = m.validate() {
            return Err(Error::Internal(format!(
                "internal: the assembled manifest is invalid: {msg}"
            )));
        }
        let s = format!("{} clips, {:.1} s", m.clips().count(), m.total_duration_s());
        Ok((m, s))
    }

    fn load(&self, cx: &Context, art: &Artifact) -> Result<Option<Manifest>> {
        let path = cx.work.join(MANIFEST_NAME);
        if art.load::<String>().is_none() || !path.is_file() {
            return Ok(None);
        }
        Ok(Some(Manifest::load(&path)?))
    }

    fn save(&self, cx: &Context, art: &Artifact, m: Manifest) -> Result<Manifest> {
        let path = cx.work.join(MANIFEST_NAME);
        m.save(&path)?;
        // Continue with the manifest as a rerun will read it back, so both
        // runs fingerprint the render identically (JSON drops some float bits).
        let m = Manifest::load(&path)?;
        art.save(&"ok".to_string())?;
        Ok(m)
    }

    fn keep(&self, cx: &mut Context, m: Manifest) {
        cx.manifest = Some(m);
    }
}

/// The manifest's film, structure and render settings, before any clip.
fn header(cx: &Context) -> Manifest {
    let (film, cut, st) = (cx.film(), cx.cut(), cx.structure());
    let (o, p) = (cut.opts, &film.probe);
    let (w, h) = output_size(p.display_size());
    let path = &o.film.film;
    Manifest {
        schema_version: manifest::MANIFEST_SCHEMA,
        cinecut_version: env!("CARGO_PKG_VERSION").into(),
        film: FilmRef {
            path: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
            fingerprint: film.fingerprint.clone(),
            title: o.title.clone(),
            duration_s: p.duration_s,
            fps: p.fps,
            width: p.display_size().0,
            height: p.display_size().1,
            has_audio: p.has_audio,
            subtitles: o.film.subs.as_ref().map(|s| s.display().to_string()),
        },
        vibe: o.vibe.name.clone(),
        target_length_s: cut.target_s,
        structure: StructureRef {
            begin_t: st.begin_t,
            escalation_t: st.escalation_t,
            climax_t: st.climax_t,
            source: st.source.clone(),
            reasoning: st.reasoning.clone(),
        },
        spoiler_line_s: o.spoiler_line * p.duration_s,
        beat_grid: None,
        music: None,
        render: RenderSettings {
            width: w,
            height: h,
            fps: p.fps.clamp(10.0, 60.0),
            crf: 18,
            preset: "veryfast".into(),
            audio_sample_rate: render::AUDIO_RATE,
            loudness_lufs: o.vibe.loudness_lufs,
            true_peak_db: -1.5,
            grade: o.vibe.grade,
        },
        timeline: Vec::new(),
        voice_over: Vec::new(),
        sfx: Vec::new(),
        notes: Vec::new(),
    }
}

/// The three-act edit at the target length. Crossfade overlaps and short
/// shots make the cut come out shorter than asked; one corrected pass
/// brings it back to length.
fn cut_to_length(cx: &Context, fps: f64) -> edit::Edit {
    let (film, cut, an) = (cx.film(), cx.cut(), cx.analysis());
    let o = cut.opts;
    let target = cut.target_s;
    let assemble = |length: f64| {
        edit::assemble(&EditInput {
            shots: &an.shots,
            flashes: &an.flashes,
            cues: &cx.dialogue().cues,
            structure: cx.structure(),
            vibe: &o.vibe,
            runtime_s: film.probe.duration_s,
            fps,
            target_length_s: length,
            spoiler_line_s: o.spoiler_line * film.probe.duration_s,
            title: o.title.clone(),
            end_card: o.end_card.clone(),
            board: Some(cx.storyboard()),
        })
    };
    let edit = assemble(target);
    let got = manifest::timeline_duration_s(&edit.timeline, fps);
    if got > 1.0 && got < target * 0.97 {
        return assemble(target * target / got);
    }
    edit
}

/// Fits the track to the cut (entry on a downbeat, peak on the act-3
/// montage, end on a phrase), then moves every cut onto a beat.
fn fit_to_music(m: &mut Manifest, rooms: &[Option<edit::snap::Room>], mc: &MusicChoice) {
    use crate::manifest::{Act, BeatGridRef, MusicRef};
    let starts = m.item_starts();
    let act3 = m
        .timeline
        .iter()
        .zip(&starts)
        .find(|(i, _)| matches!(i.act(), Act::SilenceBeat | Act::Act3))
        .map(|(_, s)| *s)
        .unwrap_or(m.total_duration_s() * 0.6);
    let fit = crate::music::fit_music(&mc.grid, m.total_duration_s() + 4.0, act3);
    let shift = fit.trailer_start_s - fit.music_in_s;
    let grid_beats = beats_from_start(&mc.grid, shift);
    let beats: Vec<f64> = grid_beats
        .iter()
        .map(|b| b + shift)
        .filter(|t| *t >= -1e-6)
        .collect();
    let rep = edit::snap::snap_timeline(&mut m.timeline, rooms, &beats, m.render.fps);
    m.notes.push(format!(
        "beat snapping: {} of {} cuts moved onto a beat of the music ({} as split edits)",
        rep.on_beat, rep.cuts, rep.split_edits
    ));
    let t = &mc.track;
    m.beat_grid = Some(BeatGridRef {
        bpm: mc.grid.bpm,
        beats: grid_beats,
        downbeats: mc.grid.downbeats.clone(),
    });
    m.music = Some(MusicRef {
        path: t.path.clone(),
        source: t.source.clone(),
        title: t.title.clone(),
        artist: t.artist.clone(),
        licence: t.licence.clone(),
        licence_url: t.licence_url.clone(),
        attribution: t.attribution.clone(),
        in_s: fit.music_in_s,
        out_s: fit.music_out_s.max(fit.music_in_s + 1.0),
        at_s: fit.trailer_start_s,
        reason: format!(
            "{}; enters at {:.2} s of the track (a downbeat), peak at {:.1} s of the trailer (act 3 at {:.1} s), ends: {} after {} bars",
            t.reason, fit.music_in_s, fit.peak_trailer_s, act3, fit.ending, fit.bars
        ),
        gain_db: -6.0,
    });
}

/// The grid's beats in track time, carried back before its first beat to
/// the trailer's start: when the music enters late (so its peak meets act
/// 3), the cuts before it still keep its pulse.
fn beats_from_start(grid: &crate::music::BeatGrid, shift: f64) -> Vec<f64> {
    let mut grid_beats = grid.beats.clone();
    if let (Some(&first), true) = (grid_beats.first(), grid.bpm > 0.0) {
        let period = 60.0 / grid.bpm;
        let mut t = first - period;
        let mut before = Vec::new();
        while t + shift >= -period {
            before.push(t);
            t -= period;
        }
        before.reverse();
        before.extend(grid_beats);
        grid_beats = before;
    }
    grid_beats
}

/// Slides clips within their rooms to start just after a key frame the
/// render can start decoding at: in MP4/MOV any clean key frame (it seeks
/// there itself, see `decode_from_s`); elsewhere only the key frames the
/// container's index lists.
fn settle_in_points(cx: &Context, m: &mut Manifest, rooms: &[Option<edit::snap::Room>]) {
    let (film, an) = (cx.film(), cx.analysis());
    let p = &film.probe;
    let mov = p.format.split(',').any(|f| f == "mov");
    let starts = if mov {
        edit::in_points::exact_keys(&an.key_s, p.fps)
    } else {
        probe::seek_points(&film.opts.film, &an.key_s, 0.5 / p.fps.max(1.0)).unwrap_or_default()
    };
    let saved =
        edit::in_points::settle_in_points(&mut m.timeline, rooms, &starts, &an.flashes, p.fps);
    if mov {
        edit::in_points::mark_decode_starts(&mut m.timeline, &starts, p.fps);
    }
    m.notes.push(format!(
        "in-points: clips slid within their rooms to just after key frames, {saved:.1} s less decoding before them in the render"
    ));
}

/// Up to three lines of the protagonist over the cut, never over a split
/// edit's sound tail, each matched to the film's typical dialogue loudness.
fn add_voice_over(cx: &Context, m: &mut Manifest) {
    let dialogue = cx.dialogue();
    let protagonist = dialogue
        .protagonist
        .clone()
        .or_else(|| cx.structure().protagonist.clone());
    m.voice_over = edit::voiceover::choose(
        &m.timeline,
        &m.item_starts(),
        &dialogue.cues,
        protagonist.as_deref(),
        m.spoiler_line_s,
    );
    let tails = m.sound_tails();
    m.voice_over.retain(|v| {
        let end = v.at_s + v.source_out_s - v.source_in_s;
        !tails
            .iter()
            .any(|t| v.at_s < t.at_s + t.len_s && end > t.at_s)
    });
    edit::voiceover::match_loudness(
        &mut m.voice_over,
        &cx.analysis().loudness_curve,
        &dialogue.cues,
    );
}

/// Places a synthesized effect on the cuts that deserve one: every act
/// boundary (a riser into a boom, or a long swell), every whoosh transition,
/// and every other cut of the act-3 montage (hits). Plain cuts inside acts 1
/// and 2 stay dry so the effects keep their weight.
fn sound_effects(m: &Manifest) -> Result<Vec<crate::manifest::SfxCue>> {
    use crate::manifest::{Act, SfxCue};
    use crate::render::sfx;
    let starts = m.item_starts();
    let total = m.total_duration_s();
    let dir = crate::demo::cache_dir().join("sfx");
    let mut out = Vec::new();
    let mut montage_cut = 0;
    for (i, (item, prev)) in m.timeline.iter().skip(1).zip(&m.timeline).enumerate() {
        let i = i + 1;
        let (t, _) = item.transition();
        let act = item.act();
        let boundary = act != prev.act();
        let whoosh = matches!(t, Transition::WhooshForward | Transition::WhooshBackward);
        let hit = act == Act::Act3 && !boundary && {
            montage_cut += 1;
            montage_cut % 2 == 0
        };
        if !(boundary || whoosh || hit) || act == Act::SilenceBeat {
            continue;
        }
        let spec = sfx::sfx_for(t, boundary);
        let at = starts[i] - spec.cut_offset_s();
        if at < 0.0 || at + 0.05 >= total {
            continue;
        }
        let path = sfx::render_sfx(&spec, &dir)?;
        out.push(SfxCue {
            kind: format!("{:?}", spec.kind).to_lowercase(),
            path,
            at_s: at,
            duration_s: spec.duration_s,
            gain_db: if boundary { -6.0 } else { -10.0 },
        });
    }
    Ok(out)
}

/// The output size: the film's display size, capped at 1920×1080, even.
fn output_size((w, h): (u32, u32)) -> (u32, u32) {
    let scale = (1920.0 / w as f64).min(1080.0 / h as f64).min(1.0);
    let even = |v: f64| ((v.round() as u32) / 2 * 2).max(16);
    (even(w as f64 * scale), even(h as f64 * scale))
}
