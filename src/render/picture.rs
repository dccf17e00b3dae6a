//! The picture pass: every clip cut from the film frame-exact (fps, scaled
//! and padded to the trailer's size, trimmed by frame count), title cards
//! drawn, the items joined (see `graph`) and the vibe's grade applied, in
//! one x264 encode.

use super::graph::{self, Graph, Pass, Slot};
use super::{num, rate};
use crate::manifest::{Card, Clip, Manifest};
use crate::media::escape::filter_value;
use crate::vibes::Grade;
use std::ffi::OsString;
use std::path::Path;

/// Lays clip `c`'s picture into the graph as `[v{i}]`.
pub(super) fn lay_clip(g: &mut Graph, m: &Manifest, c: &Clip, slot: &Slot, film_arg: &OsString) {
    let r = &m.render;
    let (w, h) = (r.width, r.height);
    let (k, drop_lead) = graph::clip_input(g, c, m.film.fps, slot.len_s, film_arg, Pass::Picture);
    g.chains.push(format!(
        "[{k}:v:0]{drop_lead}fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,tpad=stop_mode=clone:stop_duration=2,trim=end_frame={n},setpts=N/FRAME_RATE/TB{vfades},settb=AVTB[v{i}]",
        fps = rate(r.fps),
        n = slot.frames,
        vfades = slot.video_fades,
        i = slot.i,
    ));
}

/// The card's text as a drawtext filter: centred, white, a tenth of the
/// picture's height. The render's cards and the exports' stills share it.
fn card_text(text: &str, h: u32, font: Option<&Path>) -> String {
    let fontfile = font
        .map(|f| format!("fontfile={}:", filter_value(&f.display().to_string())))
        .unwrap_or_default();
    format!(
        "drawtext={fontfile}expansion=none:text={text}:fontcolor=white:fontsize={fs}:x=(w-text_w)/2:y=(h-text_h)/2",
        text = filter_value(text),
        fs = (h / 10).max(12),
    )
}

/// Lays title card `c` into the graph as `[v{i}]`: its text centred in
/// white on black, faded in and out.
pub(super) fn lay_card(g: &mut Graph, m: &Manifest, c: &Card, slot: &Slot, font: Option<&Path>) {
    let r = &m.render;
    let (w, h) = (r.width, r.height);
    let len = slot.len_s;
    let fade = 0.5f64.min(len / 3.0);
    g.chains.push(format!(
        "color=c=black:s={w}x{h}:r={fps}:d={d},format=yuv420p,{text},fade=t=in:st=0:d={fade},fade=t=out:st={fo}:d={fade},trim=end_frame={n},setpts=N/FRAME_RATE/TB,setsar=1,settb=AVTB[v{i}]",
        fps = rate(r.fps),
        d = num(len + 0.5),
        text = card_text(&c.text, h, font),
        fade = num(fade),
        fo = num(len - fade),
        n = slot.frames,
        i = slot.i,
    ));
}

/// Arguments that draw a card as the render shows it between its fades
/// (its text on black, `w`×`h`) into one PNG at `out`: the still an
/// editing program places where the trailer has the card.
pub fn card_still_args(
    text: &str,
    w: u32,
    h: u32,
    font: Option<&Path>,
    out: &Path,
) -> Vec<OsString> {
    crate::args![
        "-f",
        "lavfi",
        "-i",
        format!("color=c=black:s={w}x{h}:d=1"),
        "-vf",
        format!("{},format=rgb24", card_text(text, h, font)),
        "-frames:v",
        "1",
        "-f",
        "image2",
        "-c:v",
        "png",
        crate::media::process::file_arg(out)
    ]
    .to_vec()
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
            fps = rate(fps)
        ));
        chains.push(format!(
            "[{graded}][vmask]blend=c0_mode=multiply:c1_mode=normal:c2_mode=normal[{output}]"
        ));
    } else if lut.is_empty() {
        chains.push(format!("[{input}]null[{output}]"));
    }
    chains
}

/// Arguments of the picture pass into `out` (video only): every clip cut
/// from the film, joined and graded.
pub fn picture_args(m: &Manifest, film: &Path, font: Option<&Path>, out: &Path) -> Vec<OsString> {
    let (mut g, v) = graph::build(m, film, font, Pass::Picture);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_grade_moves_chroma_and_neutral_grade_does_not() {
        let warm = crate::vibes::get("western").unwrap().grade;
        let f = grade_chains(&warm, 640, 360, 24.0, "in", "out").join(";");
        assert!(f.starts_with("[in]lutyuv=") && f.ends_with("[out]"), "{f}");
        assert!(f.contains("u='clip(") && f.contains("+(-"), "{f}");
        let n = grade_chains(&Grade::neutral(), 640, 360, 24.0, "in", "out");
        assert_eq!(n, vec!["[in]null[out]".to_string()]);
    }
}
