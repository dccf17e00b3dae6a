//! The sound pass: each item's film sound (or silence) cut to the frame,
//! the stems mixed (see `mix`) into lossless raw f32, levelled in memory to
//! the vibe's loudness under its true-peak limit (`media::level`), encoded
//! to AAC once and measured as it ships.

use super::graph::{self, Graph, Pass, Slot};
use super::{mix, num, RenderError, AUDIO_RATE};
use crate::manifest::{Clip, Manifest};
use crate::media::level;
use crate::media::process::{file_arg, Process};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Lays clip `c`'s film sound (silence when the film has none) into the
/// graph as `[a{i}]`, at the clip's gain, with its fades.
pub(super) fn lay_clip(g: &mut Graph, m: &Manifest, c: &Clip, slot: &Slot, film_arg: &OsString) {
    let (k, _) = graph::clip_input(g, c, m.film.fps, slot.len_s, film_arg, Pass::Sound);
    let src = if m.film.has_audio {
        format!(
            "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,apad,"
        )
    } else {
        format!("anullsrc=r={AUDIO_RATE}:cl=stereo,")
    };
    g.chains.push(format!(
        "{src}atrim=end_sample={samples},asetpts=N/SR/TB,volume={}dB{afades}[a{i}]",
        num(c.film_gain_db),
        samples = samples(slot),
        afades = slot.audio_fades,
        i = slot.i,
    ));
}

/// Lays a title card's silence into the graph as `[a{i}]`.
pub(super) fn lay_card(g: &mut Graph, slot: &Slot) {
    g.chains.push(format!(
        "anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=end_sample={samples},asetpts=N/SR/TB[a{i}]",
        samples = samples(slot),
        i = slot.i,
    ));
}

/// The item's length in samples.
fn samples(slot: &Slot) -> u64 {
    (slot.len_s * AUDIO_RATE as f64).round() as u64
}

/// Arguments of the sound pass: the four stems mixed, before any gain, into
/// raw 32-bit float stereo at `out` (lossless, so levelling it later loses
/// nothing; see `level`).
fn sound_args(m: &Manifest, film: &Path, out: &Path) -> Vec<OsString> {
    let (mut g, a) = graph::build(m, film, None, Pass::Sound);
    let a = mix::mix_stems(m, &mut g, &a, film);
    g.chains.push(format!(
        "[{a}]aformat=sample_fmts=flt:sample_rates={AUDIO_RATE}:channel_layouts=stereo[aout]"
    ));
    let mut args = g.inputs;
    args.extend(crate::args![
        "-filter_complex",
        g.chains.join(";"),
        "-map",
        "[aout]",
        "-f",
        "f32le",
        out
    ]);
    args
}

/// At most this many levelling passes over the mixed sound.
const MAX_LEVEL_PASSES: u32 = 6;

/// How close to the vibe's loudness the levelled sound must come (each
/// pass is an in-memory sweep of about 0.2 s; the AAC encode then takes
/// 0.1–0.25 LU off).
const LOUDNESS_TOLERANCE_LU: f64 = 0.2;

/// Arguments that encode `sound` (raw f32 stereo) alone into `out` as the
/// trailer carries it.
fn aac_args(sound: &Path, out: &Path) -> Vec<OsString> {
    crate::args![
        "-f",
        "f32le",
        "-ar",
        AUDIO_RATE.to_string(),
        "-ac",
        "2",
        "-i",
        file_arg(sound),
        "-vn",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ar",
        AUDIO_RATE.to_string(),
        "-ac",
        "2",
        "-profile:a",
        "aac_low",
        "-f",
        "mp4",
        out
    ]
    .to_vec()
}

/// Arguments that decode the encoded sound back to raw f32 stereo, to
/// measure what ships.
fn decode_args(encoded: &Path, out: &Path) -> Vec<OsString> {
    crate::args![
        "-i",
        file_arg(encoded),
        "-vn",
        "-ac",
        "2",
        "-ar",
        AUDIO_RATE.to_string(),
        "-f",
        "f32le",
        out
    ]
    .to_vec()
}

/// Runs one ffmpeg job of the render, without progress.
fn ffmpeg(args: Vec<OsString>) -> Result<(), RenderError> {
    Process::ffmpeg()
        .args(args)
        .run_with_progress(&mut |_| {})?;
    Ok(())
}

/// The finished sound of a trailer, encoded as it will ship, with its
/// integrated loudness (LUFS) and true peak (dBTP).
pub(super) struct Sound {
    pub encoded: PathBuf,
    pub lufs: f64,
    pub true_peak_db: f64,
}

/// Mixes, levels and encodes the trailer's sound in `tmpdir` (see `render`).
pub(super) fn make_sound(m: &Manifest, film: &Path, tmpdir: &Path) -> Result<Sound, RenderError> {
    let mix = tmpdir.join("mix.f32");
    ffmpeg(sound_args(m, film, &mix))?;
    let samples = level::read_f32(&mix)?;
    let mix_lufs = level::measure(&samples, AUDIO_RATE, false)?.0;
    let lev = level::Leveller::new(samples, AUDIO_RATE);
    // Through the limiter a gain step gives a little less loudness than
    // asked, so measure the result and correct until within 0.2 LU. Then
    // check what ships: the AAC encoder overshoots the limiter's ceiling (by
    // 1.1 to 1.5 dB on the Big Buck Bunny trailers), so the ceiling comes
    // down until the encoded sound keeps the true-peak limit.
    let target = m.render.loudness_lufs;
    let tp_target = m.render.true_peak_db;
    // A silent mix (no film sound, no music) is left as it is.
    let mut gain = (mix_lufs.is_finite() && mix_lufs > -70.0).then_some(target - mix_lufs);
    // The first ceiling leaves room for the usual AAC overshoot, so one
    // encode is usually enough.
    let mut ceiling_db = tp_target - 1.8;
    let leveled = tmpdir.join("level.f32");
    let encoded = tmpdir.join("sound.m4a");
    let decoded = tmpdir.join("decoded.f32");
    let mut tries = 0;
    // The last (gain, loudness) point, for a secant step: at no gain the
    // loudness is the mix's own.
    let mut last = (0.0, mix_lufs);
    loop {
        tries += 1;
        let out = match gain {
            Some(g) => lev.apply(g, ceiling_db),
            None => lev.apply(0.0, 0.0),
        };
        if let Some(g) = gain {
            let i = level::measure(&out, AUDIO_RATE, false)?.0;
            let miss = target - i;
            if i.is_finite() && miss.abs() >= LOUDNESS_TOLERANCE_LU && tries < MAX_LEVEL_PASSES {
                // The limiter eats part of every step: a secant step through
                // the last two measurements, its slope kept sane.
                let (g0, i0) = last;
                let slope = if (g - g0).abs() > 0.05 && i0.is_finite() {
                    ((i - i0) / (g - g0)).clamp(0.3, 1.0)
                } else {
                    1.0
                };
                last = (g, i);
                gain = Some(g + miss / slope);
                continue;
            }
        }
        level::write_f32(&leveled, &out)?;
        drop(out);
        ffmpeg(aac_args(&leveled, &encoded))?;
        ffmpeg(decode_args(&encoded, &decoded))?;
        let (lufs, tp) = level::measure(&level::read_f32(&decoded)?, AUDIO_RATE, true)?;
        if tp <= tp_target || gain.is_none() || tries >= MAX_LEVEL_PASSES {
            return Ok(Sound {
                encoded,
                lufs,
                true_peak_db: tp,
            });
        }
        ceiling_db -= tp - tp_target + 0.2;
    }
}
