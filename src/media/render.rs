//! The render: the picture of every clip is cut from the original film in
//! one ffmpeg filtergraph (no intermediate lossy encode), and the sound is
//! mixed from the original film into lossless raw f32 beside it.
//!
//! Each clip is its own input (`-ss IN -t LEN -i film`, an accurate seek, or
//! a seek to the decoder's key frame before it; see `clip_seek`), so ffmpeg
//! decodes only what the trailer uses. Clips are made frame-exact (fps, trim
//! by frame count), joined with concat or xfade and graded. The sound pass
//! mixes the four stems; `level` brings the mix to the vibe's loudness
//! through a true-peak limiter in memory; a last step muxes the two.

use crate::error::{Error, Result};
use crate::manifest::{Act, Item, Manifest, SoundOverlay, SOUND_CUT_FADE_S};
use crate::media::escape::filter_value;
use crate::media::{ffmpeg, level};
use crate::vibes::{Grade, Transition};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const AUDIO_RATE: u32 = 48_000;

/// The sound pass builds the audio graph, the picture pass the video graph.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Sound,
    Picture,
}

/// ffmpeg's `file:` protocol keeps names with colons or a leading dash literal.
fn file_arg(p: &Path) -> OsString {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut s = OsString::from("file:");
    s.push(abs.as_os_str());
    s
}

fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The colour grade as filtergraph chains from label `input` to `output`,
/// all in YUV. Contrast, brightness, gamma, saturation and the warmth/tint
/// chroma shift are one lookup table per plane (the maths of ffmpeg's eq,
/// then the shift); the vignette multiplies the luma by a mask drawn once.
/// Per-frame eq + vignette cost 12 s of a 87 s render; the table and the
/// mask cost under 1 s.
pub fn grade_chains(g: &Grade, w: u32, h: u32, fps: f64, input: &str, output: &str) -> Vec<String> {
    let mut lut = Vec::new();
    if g.contrast != 1.0 || g.brightness != 0.0 || g.gamma != 1.0 {
        // eq: v = c*(x-0.5)+0.5+b, then v^(1/gamma); 0 below 0, 255 above 1.
        lut.push(format!(
            "y='st(0,{c}*(val/255-0.5)+0.5+{b});if(lte(ld(0),0),0,min(255,256*pow(ld(0),{ig})))'",
            c = num(g.contrast),
            b = num(g.brightness),
            ig = num(1.0 / g.gamma)
        ));
    }
    // Warmth and tint move the chroma planes (warm: less blue U, more red V;
    // magenta: both up) after the saturation scales them around the middle.
    let du = (-12.0 * g.warmth + 8.0 * g.tint).round();
    let dv = (12.0 * g.warmth + 8.0 * g.tint).round();
    for (plane, d) in [("u", du), ("v", dv)] {
        if g.saturation != 1.0 || d != 0.0 {
            lut.push(format!(
                "{plane}='clip(256*({s}*(val/255-0.5)+0.5)+({d}),0,255)'",
                s = num(g.saturation),
                d = num(d)
            ));
        }
    }
    let graded = if lut.is_empty() {
        input.to_string()
    } else if g.vignette > 0.0 {
        "graded0".to_string()
    } else {
        output.to_string()
    };
    let mut chains = Vec::new();
    if !lut.is_empty() {
        chains.push(format!("[{input}]lutyuv={}[{graded}]", lut.join(":")));
    }
    if g.vignette > 0.0 {
        // One mask frame, repeated by blend for every frame of the picture:
        // the luma is multiplied by the vignette's falloff, the chroma kept.
        chains.push(format!(
            "color=c=white:s={w}x{h}:r={fps}:d=1,trim=end_frame=1,format=yuv420p,lutyuv=y=255:u=128:v=128,vignette=angle={}:dither=0[vmask]",
            num(0.15 + 0.45 * g.vignette),
            fps = num(fps)
        ));
        chains.push(format!(
            "[{graded}][vmask]blend=c0_mode=multiply:c1_mode=normal:c2_mode=normal[{output}]"
        ));
    } else if lut.is_empty() {
        chains.push(format!("[{input}]null[{output}]"));
    }
    chains
}

struct Graph {
    inputs: Vec<OsString>,
    chains: Vec<String>,
    n_inputs: usize,
}

impl Graph {
    fn input(&mut self, args: Vec<OsString>) -> usize {
        self.inputs.extend(args);
        self.n_inputs += 1;
        self.n_inputs - 1
    }
}

fn fade_color(t: Transition) -> Option<&'static str> {
    match t {
        Transition::FadeToBlack => Some("black"),
        Transition::FadeToWhite => Some("white"),
        _ => None,
    }
}

/// How a clip's input seeks: the `-ss` arguments, and for a clip decoded
/// from the decoder's key frame before it (`Clip::decode_from_s`), the seconds decoded
/// before the in-point and the filter that drops them.
///
/// ffmpeg's accurate seek starts decoding at the key frame its container
/// index lists before the in-point; in Big Buck Bunny's MP4 that is 0.5–5 s
/// before most clips, because the I-frames at its cuts are not indexed. With
/// `-seek2any` the demuxer lands on the sample at the seek time itself: a
/// quarter frame past the decoder's own key frame, it lands on that intra
/// frame, decoding starts cleanly there, and a trim drops the frames up to
/// the in-point. The sound pass seeks plainly (audio seeks are cheap).
pub fn clip_seek(
    c: &crate::manifest::Clip,
    film_fps: f64,
    video: bool,
) -> (Vec<OsString>, Option<(f64, String)>) {
    let quarter = 0.25 / film_fps.max(1.0);
    match c.decode_from_s {
        Some(k) if video && k + quarter <= c.source_in_s => {
            let ss = k + quarter;
            let lead = c.source_in_s - ss;
            (
                vec!["-seek2any".into(), "1".into(), "-ss".into(), num(ss).into()],
                // The frame at the in-point itself is kept whatever the
                // rounding of the two times (frames are far more than 1e-4 s
                // apart).
                Some((
                    lead,
                    format!(
                        "trim=start={},setpts=PTS-STARTPTS,",
                        num((lead - 1e-4).max(0.0))
                    ),
                )),
            )
        }
        _ => (vec!["-ss".into(), num(c.source_in_s).into()], None),
    }
}

/// Builds the inputs and the filtergraph of one pass; returns them and the
/// label of the joined stream.
fn build(m: &Manifest, film: &Path, font: Option<&Path>, pass: Pass) -> (Graph, String) {
    let r = &m.render;
    let fps = r.fps;
    let (w, h) = (r.width, r.height);
    let with_video = pass == Pass::Picture;
    let mut g = Graph {
        inputs: Vec::new(),
        chains: Vec::new(),
        n_inputs: 0,
    };
    let fr = m.item_frames();
    let film_arg = file_arg(film);
    for (i, item) in m.timeline.iter().enumerate() {
        let (n, _) = fr[i];
        let len = n as f64 / fps;
        let samples = (len * AUDIO_RATE as f64).round() as u64;
        let (t_in, d_in) = item.transition();
        // The fade out at this item's end belongs to the next item's transition.
        let next = m.timeline.get(i + 1).map(|x| x.transition());
        let mut vfades = String::new();
        // Every item's sound fades in and out briefly so no cut clicks; a
        // fade through black or white fades the sound with the picture.
        let mut a_in = 0.02;
        let mut a_out = (len - SOUND_CUT_FADE_S, SOUND_CUT_FADE_S);
        if let Some(c) = fade_color(t_in).filter(|_| i > 0 && d_in > 0.0) {
            let _ = write!(vfades, ",fade=t=in:st=0:d={}:color={c}", num(d_in / 2.0));
            a_in = d_in / 2.0;
        }
        if let Some((t, d)) = next.filter(|(_, d)| *d > 0.0) {
            if let Some(c) = fade_color(t) {
                let st = (len - d / 2.0).max(0.0);
                let _ = write!(
                    vfades,
                    ",fade=t=out:st={}:d={}:color={c}",
                    num(st),
                    num(d / 2.0)
                );
                a_out = (st, d / 2.0);
            }
        }
        let afades = format!(
            ",afade=t=in:d={},afade=t=out:st={}:d={}",
            num(a_in),
            num(a_out.0.max(0.0)),
            num(a_out.1)
        );
        match item {
            Item::Clip(c) => {
                // Each pass demuxes only the streams it decodes.
                let (seek, lead) = clip_seek(c, m.film.fps, with_video);
                let mut args: Vec<OsString> = Vec::new();
                if with_video {
                    // One decoding thread per clip: the clips are decoded one
                    // after another, so frame threads only add hand-over work
                    // (1.5 CPU-s on an 85 s BBB trailer) while x264 has the
                    // other cores.
                    args.extend(["-threads".into(), "1".into(), "-an".into()]);
                } else {
                    args.push("-vn".into());
                }
                args.extend(seek);
                args.extend([
                    "-t".into(),
                    num(len + lead.as_ref().map_or(0.0, |l| l.0) + 1.0).into(),
                    "-i".into(),
                    film_arg.clone(),
                ]);
                let k = g.input(args);
                if with_video {
                    g.chains.push(format!(
                        "[{k}:v:0]{}fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,tpad=stop_mode=clone:stop_duration=2,trim=end_frame={n},setpts=N/FRAME_RATE/TB{vfades},settb=AVTB[v{i}]",
                        lead.map(|l| l.1).unwrap_or_default(),
                        fps = num(fps)
                    ));
                }
                if with_video {
                    continue;
                }
                let src = if m.film.has_audio {
                    format!(
                        "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,apad,"
                    )
                } else {
                    format!("anullsrc=r={AUDIO_RATE}:cl=stereo,")
                };
                g.chains.push(format!(
                    "{src}atrim=end_sample={samples},asetpts=N/SR/TB,volume={}dB{afades}[a{i}]",
                    num(c.film_gain_db)
                ));
            }
            Item::Card(c) => {
                if with_video {
                    let fontfile = font
                        .map(|f| format!("fontfile={}:", filter_value(&f.display().to_string())))
                        .unwrap_or_default();
                    let fade = 0.5f64.min(len / 3.0);
                    g.chains.push(format!(
                        "color=c=black:s={w}x{h}:r={fps}:d={d},format=yuv420p,drawtext={fontfile}expansion=none:text={text}:fontcolor=white:fontsize={fs}:x=(w-text_w)/2:y=(h-text_h)/2,fade=t=in:st=0:d={fade},fade=t=out:st={fo}:d={fade},trim=end_frame={n},setpts=N/FRAME_RATE/TB,setsar=1,settb=AVTB[v{i}]",
                        fps = num(fps),
                        d = num(len + 0.5),
                        text = filter_value(&c.text),
                        fs = (h / 10).max(12),
                        fade = num(fade),
                        fo = num(len - fade),
                    ));
                }
                if !with_video {
                    g.chains.push(format!(
                        "anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=end_sample={samples},asetpts=N/SR/TB[a{i}]"
                    ));
                }
            }
        }
    }
    // Join: runs of plain cuts go through one concat; a crossfade closes the
    // run and xfades it with the next item.
    let mut run: Vec<usize> = Vec::new();
    let mut acc: Option<(String, u64)> = None; // label + frames of the joined head
                                               // The one stream this pass builds: item i's is `[{kind}{i}]`.
    let kind = if with_video { "v" } else { "a" };
    let mut tmp = 0;
    let join_run =
        |g: &mut Graph, acc: &mut Option<(String, u64)>, run: &mut Vec<usize>, tmp: &mut usize| {
            let mut parts: Vec<(String, u64)> = Vec::new();
            parts.extend(acc.take());
            parts.extend(run.drain(..).map(|i| (format!("{kind}{i}"), fr[i].0)));
            if parts.len() == 1 {
                *acc = parts.pop();
                return;
            }
            let total: u64 = parts.iter().map(|p| p.1).sum();
            *tmp += 1;
            let out = format!("{kind}c{tmp}");
            let ins: String = parts.iter().map(|p| format!("[{}]", p.0)).collect();
            let (v, a) = (with_video as u8, !with_video as u8);
            g.chains
                .push(format!("{ins}concat=n={}:v={v}:a={a}[{out}]", parts.len()));
            *acc = Some((out, total));
        };
    for (i, item) in m.timeline.iter().enumerate() {
        let (t, _) = item.transition();
        let overlap = fr[i].1;
        if i > 0 && t == Transition::Crossfade && overlap > 0 {
            join_run(&mut g, &mut acc, &mut run, &mut tmp);
            let (head, hn) = acc.take().expect("a head exists after the first item");
            tmp += 1;
            let d = overlap as f64 / fps;
            let out = format!("{kind}x{tmp}");
            g.chains.push(if with_video {
                format!(
                    "[{head}][v{i}]xfade=transition=fade:duration={}:offset={}[{out}]",
                    num(d),
                    num((hn - overlap) as f64 / fps)
                )
            } else {
                format!("[{head}][a{i}]acrossfade=d={}[{out}]", num(d))
            });
            acc = Some((out, hn + fr[i].0 - overlap));
        } else {
            run.push(i);
        }
    }
    join_run(&mut g, &mut acc, &mut run, &mut tmp);
    let (label, _) = acc.expect("timeline is not empty");
    (g, label)
}

/// `between(t,a,b)+...` for an enable expression over trailer-time spans;
/// callers wrap it in single quotes, which keep its commas literal.
fn spans_expr(spans: &[(f64, f64)]) -> String {
    spans
        .iter()
        .map(|(a, b)| format!("between(t,{},{})", num(*a), num(*b)))
        .collect::<Vec<_>>()
        .join("+")
}

/// Lays a stretch of film sound into the graph as `[label]`: cut from the
/// film, faded in and out (80 ms), at its level, delayed to its place.
fn lay_overlay(g: &mut Graph, film_arg: &OsString, o: &SoundOverlay, label: &str) {
    let k = g.input(vec![
        "-vn".into(),
        "-ss".into(),
        num(o.source_in_s.max(0.0)).into(),
        "-t".into(),
        num(o.len_s + 0.5).into(),
        "-i".into(),
        film_arg.clone(),
    ]);
    let delay = (o.at_s.max(0.0) * AUDIO_RATE as f64).round() as u64;
    g.chains.push(format!(
        "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=duration={},asetpts=N/SR/TB,afade=t=in:d={},afade=t=out:st={}:d=0.08,volume={}dB,adelay={delay}S:all=1[{label}]",
        num(o.len_s),
        num(o.fade_in_s),
        num((o.len_s - 0.08).max(0.0)),
        num(o.gain_db)
    ));
}

/// Mixes the four stems — film sound `film`, music, sound effects and
/// voice-over — into one; returns the label of the mix. Music is ducked under
/// speech (dialogue clips and voice-over) with a sidechain compressor and
/// silenced during the silence beat.
fn mix_stems(m: &Manifest, g: &mut Graph, film: &str, film_path: &Path) -> String {
    let total = m.total_duration_s();
    let total_samples = (total * AUDIO_RATE as f64).round() as u64;
    let starts = m.item_starts();
    let spans: Vec<(Act, bool, f64, f64)> = m
        .timeline
        .iter()
        .zip(&starts)
        .map(|(it, s)| {
            let speech = matches!(it, Item::Clip(c) if c.dialogue.is_some());
            (it.act(), speech, *s, s + it.duration_s())
        })
        .collect();
    let film_arg = file_arg(film_path);
    let mut stems: Vec<String> = Vec::new();
    // Voice-over lines, each cut from the film and placed. Split edits: a
    // line's sound runs on under the next item, its fade-in mirroring the
    // clip's own fade-out so the two halves of the line add up seamlessly.
    let tails = m.sound_tails();
    let overlays = m.voice_over.iter().map(|v| ("vo", v.overlay()));
    let mut vo_labels = Vec::new();
    for (j, (kind, o)) in overlays
        .chain(tails.iter().map(|t| ("tail", *t)))
        .enumerate()
    {
        let label = format!("{kind}{j}");
        lay_overlay(g, &film_arg, &o, &label);
        vo_labels.push(format!("[{label}]"));
    }
    let vo = if vo_labels.is_empty() || !m.film.has_audio {
        None
    } else {
        g.chains.push(format!(
            "{}amix=inputs={}:normalize=0:duration=longest,apad,atrim=end_sample={total_samples}[vomix]",
            vo_labels.join(""),
            vo_labels.len()
        ));
        Some("vomix")
    };
    // Film sound steps back under the voice-over.
    let vo_spans: Vec<(f64, f64)> = m
        .voice_over
        .iter()
        .map(|v| (v.at_s, v.at_s + v.source_out_s - v.source_in_s))
        .chain(
            tails
                .iter()
                .map(|t| (t.at_s + t.fade_in_s, t.at_s + t.len_s)),
        )
        .collect();
    let film_duck = if vo.is_some() {
        format!(",volume=0.3:enable='{}'", spans_expr(&vo_spans))
    } else {
        String::new()
    };
    g.chains.push(format!(
        "[{film}]asetpts=N/SR/TB{film_duck},asplit=2[filmout][filmsc]"
    ));
    stems.push("[filmout]".into());
    if let Some(mu) = &m.music {
        let k = g.input(vec![
            "-ss".into(),
            num(mu.in_s).into(),
            "-t".into(),
            num(total + 1.0).into(),
            "-i".into(),
            file_arg(&mu.path),
        ]);
        let silence: Vec<(f64, f64)> = spans
            .iter()
            .filter(|s| s.0 == Act::SilenceBeat)
            .map(|s| (s.2, s.3))
            .collect();
        let hush = if silence.is_empty() {
            String::new()
        } else {
            format!(",volume=0.08:enable='{}'", spans_expr(&silence))
        };
        let fade = 2.0f64.min(total / 4.0);
        let play = (mu.out_s - mu.in_s).min(total - mu.at_s).max(0.1);
        let delay = (mu.at_s * 1000.0).round() as u64;
        // The music ends where the manifest says (a phrase boundary), with a
        // short release rather than a long fade, unless the trailer ends first.
        g.chains.push(format!(
            "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=duration={},afade=t=in:d=0.03,afade=t=out:st={}:d=0.25,adelay={delay}:all=1,apad,atrim=end_sample={total_samples},asetpts=N/SR/TB,volume={}dB{hush},afade=t=out:st={}:d={}[music0]",
            num(play),
            num((play - 0.25).max(0.0)),
            num(mu.gain_db),
            num(total - fade),
            num(fade)
        ));
        // The sidechain hears speech only: film sound of dialogue clips, and voice-over.
        let quiet: Vec<(f64, f64)> = spans.iter().filter(|s| !s.1).map(|s| (s.2, s.3)).collect();
        let gate = if quiet.is_empty() {
            "anull".to_string()
        } else {
            format!("volume=0:enable='{}'", spans_expr(&quiet))
        };
        match vo {
            Some(v) => {
                g.chains.push(format!("[{v}]asplit=2[voout][vosc]"));
                g.chains.push(format!("[filmsc]{gate}[speech0];[speech0][vosc]amix=inputs=2:normalize=0:duration=first[speech]"));
                stems.push("[voout]".into());
            }
            None => g.chains.push(format!("[filmsc]{gate}[speech]")),
        }
        g.chains.push("[music0][speech]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:makeup=1[music]".into());
        stems.push("[music]".into());
    } else {
        g.chains.push("[filmsc]anullsink".into());
        if let Some(v) = vo {
            stems.push(format!("[{v}]"));
        }
    }
    let mut sfx_labels = Vec::new();
    for (j, x) in m.sfx.iter().enumerate() {
        let k = g.input(vec!["-i".into(), file_arg(&x.path)]);
        let ms = (x.at_s * 1000.0).round() as u64;
        g.chains.push(format!(
            "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,volume={}dB,adelay={ms}:all=1[sfx{j}]",
            num(x.gain_db)
        ));
        sfx_labels.push(format!("[sfx{j}]"));
    }
    if !sfx_labels.is_empty() {
        g.chains.push(format!(
            "{}amix=inputs={}:normalize=0:duration=longest,apad,atrim=end_sample={total_samples}[sfxmix]",
            sfx_labels.join(""),
            sfx_labels.len()
        ));
        stems.push("[sfxmix]".into());
    }
    if stems.len() == 1 {
        return "filmout".into();
    }
    g.chains.push(format!(
        "{}amix=inputs={}:normalize=0:duration=first[mix]",
        stems.join(""),
        stems.len()
    ));
    "mix".into()
}

/// Arguments of the sound pass: the four stems mixed, before any gain, into
/// raw 32-bit float stereo at `out` (lossless, so levelling it later loses
/// nothing; see `level`).
fn sound_args(m: &Manifest, film: &Path, out: &Path) -> Vec<OsString> {
    let (mut g, a) = build(m, film, None, Pass::Sound);
    let a = mix_stems(m, &mut g, &a, film);
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

/// Arguments of the picture pass into `out` (video only): every clip cut
/// from the film, joined and graded.
pub fn picture_args(m: &Manifest, film: &Path, font: Option<&Path>, out: &Path) -> Vec<OsString> {
    let (mut g, v) = build(m, film, font, Pass::Picture);
    let r = &m.render;
    g.chains.extend(grade_chains(
        &r.grade, r.width, r.height, r.fps, &v, "graded",
    ));
    g.chains.push("[graded]format=yuv420p[vout]".into());
    let mut args = g.inputs;
    args.extend(crate::args![
        "-filter_complex",
        g.chains.join(";"),
        "-map",
        "[vout]",
        "-c:v",
        "libx264",
        "-preset",
        r.preset.as_str(),
        "-crf",
        r.crf.to_string(),
        "-pix_fmt",
        "yuv420p",
        "-f",
        "mp4",
        out
    ]);
    args
}

/// Arguments that put the picture and the encoded sound in one file, as
/// they are (no re-encode), with the index up front for streaming.
fn mux_args(picture: &Path, sound: &Path, out: &Path) -> Vec<OsString> {
    crate::args![
        "-i",
        file_arg(picture),
        "-i",
        file_arg(sound),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        out
    ]
    .to_vec()
}

/// Integrated loudness (LUFS) and true peak (dBTP) from the summary that
/// ffmpeg's ebur128 filter prints at the end.
pub fn parse_ebur128(stderr: &str) -> Option<(f64, f64)> {
    let sum = &stderr[stderr.rfind("Summary:")?..];
    let grab = |key: &str| -> Option<f64> {
        let i = sum.find(key)? + key.len();
        sum[i..].split_whitespace().next()?.parse().ok()
    };
    Some((grab("I:")?, grab("Peak:").unwrap_or(f64::NEG_INFINITY)))
}

/// A font for cards: $CINECUT_FONT, else a bold sans from the usual places.
pub fn find_font() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os("CINECUT_FONT") {
        return Some(PathBuf::from(f));
    }
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
        "/Library/Fonts/Arial Bold.ttf",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Removes a partial output if the render does not finish.
struct PartialGuard(Option<PathBuf>);
impl Drop for PartialGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub struct RenderReport {
    /// Integrated loudness (LUFS) and true peak (dBTP) of the trailer's
    /// sound, measured on the encoded sound that the mux copies unchanged.
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
    /// Seconds spent on the sound (beside the picture), and on the whole render.
    pub sound_s: f64,
    pub encode_s: f64,
}

/// The finished sound of a trailer, encoded as it will ship, with its
/// integrated loudness (LUFS) and true peak (dBTP).
struct Sound {
    encoded: PathBuf,
    lufs: f64,
    true_peak_db: f64,
}

/// Mixes, levels and encodes the trailer's sound in `tmpdir` (see `render`).
fn make_sound(m: &Manifest, film: &Path, tmpdir: &Path) -> Result<Sound> {
    let mix = tmpdir.join("mix.f32");
    ffmpeg::run(&sound_args(m, film, &mix), &mut |_| {})?;
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
        ffmpeg::run(&aac_args(&leveled, &encoded), &mut |_| {})?;
        ffmpeg::run(&decode_args(&encoded, &decoded), &mut |_| {})?;
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

/// Renders the manifest into `out`, atomically: the trailer is written under
/// a hidden temporary name in the same folder and renamed only when complete.
///
/// The sound and the picture are made side by side. The sound pass mixes
/// the four stems into lossless raw f32 (no video decoded); in memory, a
/// gain and a true-peak limiter bring it to the vibe's loudness, measured
/// as they go (`level`); the result is encoded once, decoded and its true
/// peak checked. Meanwhile the picture pass cuts, joins and grades every
/// clip. A last step muxes the two without re-encoding. loudnorm's own
/// dynamic mode undershot by 1.7 LU on real trailer sound.
pub fn render(
    m: &Manifest,
    film: &Path,
    out: &Path,
    on_progress: &mut dyn FnMut(&str, f64),
) -> Result<RenderReport> {
    let font = find_font();
    if font.is_none() && m.timeline.iter().any(|i| matches!(i, Item::Card(_))) {
        return Err(Error::tool(
            "cinecut",
            "no font found for the title card — install one (Debian: apt-get install fonts-dejavu-core) or set CINECUT_FONT",
        ));
    }
    let tmpdir = tempfile::Builder::new()
        .prefix("cinecut-sound")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let dir = crate::workdir::parent_dir(out);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trailer.mp4".into());
    // Both temporaries live beside the output (same disk, renamed at the end)
    // and are removed if the render does not finish.
    let picture = dir.join(format!(".{name}.cinecut-picture.mp4"));
    let _picture_guard = PartialGuard(Some(picture.clone()));
    let tmp = dir.join(format!(".{name}.cinecut-partial.mp4"));
    let mut guard = PartialGuard(Some(tmp.clone()));
    let t0 = std::time::Instant::now();
    let (sound, sound_s, picture_res) = std::thread::scope(|scope| {
        let sound = scope.spawn(|| {
            let r = make_sound(m, film, tmpdir.path());
            (r, t0.elapsed().as_secs_f64())
        });
        let pic = ffmpeg::run(
            &picture_args(m, film, font.as_deref(), &picture),
            &mut |t| on_progress("picture", t),
        );
        let (snd, secs) = sound.join().unwrap_or_else(|_| {
            (
                Err(Error::Internal("the sound thread panicked".into())),
                0.0,
            )
        });
        (snd, secs, pic)
    });
    picture_res?;
    let sound = sound?;
    on_progress("mux", m.total_duration_s());
    ffmpeg::run(&mux_args(&picture, &sound.encoded, &tmp), &mut |_| {})?;
    if let Ok(f) = std::fs::File::open(&tmp) {
        let _ = f.sync_all();
    }
    std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))?;
    guard.0 = None;
    crate::workdir::sync_dir(&dir);
    Ok(RenderReport {
        loudness_lufs: sound.lufs,
        true_peak_db: sound.true_peak_db,
        sound_s,
        encode_s: t0.elapsed().as_secs_f64(),
    })
}

/// Integrated loudness and true peak of a finished file (ffmpeg ebur128).
pub fn measure_file(path: &Path) -> Result<(f64, f64)> {
    let fin = ffmpeg::run(
        &crate::args![
            "-i",
            file_arg(path),
            "-vn",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-"
        ],
        &mut |_| {},
    )?;
    parse_ebur128(&fin.stderr)
        .ok_or_else(|| Error::tool("ffmpeg", "ebur128 printed no integrated loudness"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ebur128_summary() {
        let s = "[Parsed_ebur128_0 @ 0x1] t: 1.2 M: -20 S: -21 I: -30.0 LUFS\n[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -14.3 LUFS\n    Threshold: -24.6 LUFS\n\n  True peak:\n    Peak:       -1.4 dBFS\n";
        assert_eq!(parse_ebur128(s), Some((-14.3, -1.4)));
        assert!(parse_ebur128("nothing").is_none());
    }

    #[test]
    fn warm_grade_moves_chroma_and_neutral_grade_does_not() {
        let warm = crate::vibes::get("western").unwrap().grade;
        let f = grade_chains(&warm, 640, 360, 24.0, "in", "out").join(";");
        assert!(f.starts_with("[in]lutyuv=") && f.ends_with("[out]"), "{f}");
        assert!(f.contains("u='clip(") && f.contains("+(-"), "{f}");
        let n = grade_chains(&Grade::neutral(), 640, 360, 24.0, "in", "out");
        assert_eq!(n, vec!["[in]null[out]".to_string()]);
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.25), "-0.25");
        assert_eq!(num(0.0), "0");
    }
}
