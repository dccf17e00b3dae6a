//! MLT XML for melt, Shotcut and Kdenlive: a profile with the trailer's
//! size, exact frame rate and colourspace; V1 a playlist of one producer
//! per item (its film sound gain as a volume filter), each crossfade a
//! small tractor of the two items under a luma transition, as Shotcut
//! writes them; A2–A5 audio-only playlists (`hide="video"`), each mixed in
//! by a mix transition. Producer, playlist and tractor ids share one
//! namespace (a clash crashes melt 7.12), so each kind has its own prefix.

use super::timeline::{AudioItem, AudioTrack, Entry, Source, Timeline, VideoItem};
use super::{ExportError, Exporter, Format};
use std::fmt::Write as _;

pub struct Mlt;

/// Text for an XML attribute or element.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => o.push(c),
        }
    }
    o
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

fn prop(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "    <property name=\"{name}\">{}</property>",
        xml_escape(value)
    );
}

fn volume(out: &mut String, gain_db: f64) {
    if gain_db != 0.0 {
        let _ = writeln!(
            out,
            "    <filter mlt_service=\"volume\"><property name=\"level\">{gain_db:.2}</property></filter>"
        );
    }
}

/// The producer of V1 item `v`, id `item_NN`.
fn item_producer(out: &mut String, t: &Timeline, v: &VideoItem) -> String {
    let id = format!("item_{:02}", v.index + 1);
    match &v.source {
        Source::Film { .. } => {
            let len = t.film_length().unwrap_or(i64::MAX / 4).max(1);
            let _ = writeln!(out, "  <producer id=\"{id}\" in=\"0\" out=\"{}\">", len - 1);
            prop(out, "resource", &t.reference(&t.film.path));
            prop(out, "mlt_service", "avformat");
            prop(out, "shotcut:caption", &v.name);
            prop(out, "cinecut:note", &v.note);
            volume(out, v.gain_db);
        }
        Source::Card { still, .. } => {
            let _ = writeln!(
                out,
                "  <producer id=\"{id}\" in=\"0\" out=\"{}\">",
                v.frames - 1
            );
            prop(out, "resource", &t.reference(still));
            prop(out, "mlt_service", "qimage");
            prop(out, "length", &v.frames.to_string());
            prop(out, "ttl", "1");
            prop(out, "shotcut:caption", &v.name);
        }
    }
    out.push_str("  </producer>\n");
    id
}

/// The producer's frame shown at trailer frame `rec` (MLT counts frames at
/// the profile's rate, which is the trailer's).
fn source_at(t: &Timeline, v: &VideoItem, rec: i64) -> i64 {
    match v.source {
        Source::Film { in_frame } => in_frame + t.film_frames(rec - v.start),
        Source::Card { .. } => rec - v.start,
    }
}

/// V1: plain entries, and a tractor with a luma transition for each crossfade.
fn picture(out: &mut String, t: &Timeline) -> String {
    let ids: Vec<String> = t.video.iter().map(|v| item_producer(out, t, v)).collect();
    let mut entries = String::new();
    let mut xfades = String::new();
    for (k, v) in t.video.iter().enumerate() {
        // This item alone: after its own overlap, up to the next one's.
        let from = match v.into {
            Entry::Dissolve { frames } => v.start + frames,
            _ => v.start,
        };
        let to = t.video.get(k + 1).map_or(v.start + v.frames, |n| n.start);
        if let Entry::Dissolve { frames } = v.into {
            let p = &t.video[k - 1];
            let id = format!("xfade_{:02}", v.index + 1);
            let _ = writeln!(
                xfades,
                "  <tractor id=\"{id}\" in=\"0\" out=\"{}\">",
                frames - 1
            );
            let _ = writeln!(
                xfades,
                "    <track producer=\"{}\" in=\"{}\" out=\"{}\"/>\n    <track producer=\"{}\" in=\"{}\" out=\"{}\"/>",
                ids[k - 1],
                source_at(t, p, v.start),
                source_at(t, p, v.start + frames) - 1,
                ids[k],
                source_at(t, v, v.start),
                source_at(t, v, v.start + frames) - 1
            );
            let _ = writeln!(
                xfades,
                "    <transition mlt_service=\"luma\" in=\"0\" out=\"{o}\" a_track=\"0\" b_track=\"1\"/>\n    <transition mlt_service=\"mix\" in=\"0\" out=\"{o}\" a_track=\"0\" b_track=\"1\" start=\"-1\"/>\n  </tractor>",
                o = frames - 1
            );
            let _ = writeln!(
                entries,
                "    <entry producer=\"{id}\" in=\"0\" out=\"{}\"/>",
                frames - 1
            );
        }
        if to > from {
            let _ = writeln!(
                entries,
                "    <entry producer=\"{}\" in=\"{}\" out=\"{}\"/>",
                ids[k],
                source_at(t, v, from),
                source_at(t, v, to) - 1
            );
        }
    }
    out.push_str(&xfades);
    let _ = writeln!(out, "  <playlist id=\"playlist_v1\">");
    prop(out, "shotcut:name", "V1");
    out.push_str(&entries);
    out.push_str("  </playlist>\n");
    "playlist_v1".into()
}

/// One lane of an audio track as a playlist of its own producers.
fn sound_lane(out: &mut String, t: &Timeline, id: &str, name: &str, lane: &[&AudioItem]) {
    let mut entries = String::new();
    let mut at = 0;
    for (k, a) in lane.iter().enumerate() {
        let pid = format!("{id}_sound_{:02}", k + 1);
        let _ = writeln!(out, "  <producer id=\"{pid}\">");
        prop(out, "resource", &t.reference(&a.media));
        prop(out, "mlt_service", "avformat");
        prop(out, "shotcut:caption", &a.name);
        volume(out, a.gain_db);
        out.push_str("  </producer>\n");
        if a.start > at {
            let _ = writeln!(entries, "    <blank length=\"{}\"/>", a.start - at);
        }
        // The producer counts in the profile's frames from the file's start.
        let src = (a.source_in as f64 * t.rate.fps() / a.media_rate.fps()).round() as i64;
        let _ = writeln!(
            entries,
            "    <entry producer=\"{pid}\" in=\"{src}\" out=\"{}\"/>",
            src + a.frames - 1
        );
        at = a.start + a.frames;
    }
    let _ = writeln!(out, "  <playlist id=\"{id}\">");
    prop(out, "shotcut:name", name);
    prop(out, "shotcut:audio", "1");
    out.push_str(&entries);
    out.push_str("  </playlist>\n");
}

impl Exporter for Mlt {
    fn format(&self) -> Format {
        Format::Mlt
    }

    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let (w, h) = (t.width, t.height);
        let g = gcd(w, h);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<mlt LC_NUMERIC=\"C\" version=\"7.12.0\" title=\"{}\" producer=\"main\">",
            xml_escape(&t.name)
        );
        let _ = writeln!(
            out,
            "  <profile description=\"{w}x{h} {}/{}\" width=\"{w}\" height=\"{h}\" progressive=\"1\" sample_aspect_num=\"1\" sample_aspect_den=\"1\" display_aspect_num=\"{}\" display_aspect_den=\"{}\" frame_rate_num=\"{}\" frame_rate_den=\"{}\" colorspace=\"{}\"/>",
            t.rate.num, t.rate.den, w / g, h / g, t.rate.num, t.rate.den,
            if h >= 720 { 709 } else { 601 }
        );
        let mut tracks = vec![(picture(&mut out, t), false)];
        for track in &AudioTrack::ALL[1..] {
            for (k, lane) in t.audio_lanes(*track).iter().enumerate() {
                let id = format!("playlist_a{}_{}", *track as usize + 1, k + 1);
                sound_lane(&mut out, t, &id, track.label(), lane);
                tracks.push((id, true));
            }
        }
        let _ = writeln!(
            out,
            "  <tractor id=\"main\" in=\"0\" out=\"{}\">",
            t.frames - 1
        );
        prop(&mut out, "shotcut", "1");
        for (id, audio) in &tracks {
            let hide = if *audio { " hide=\"video\"" } else { "" };
            let _ = writeln!(out, "    <track producer=\"{id}\"{hide}/>");
        }
        for k in 1..tracks.len() {
            let _ = writeln!(
                out,
                "    <transition mlt_service=\"mix\" a_track=\"0\" b_track=\"{k}\" always_active=\"1\" sum=\"1\"/>"
            );
        }
        out.push_str("  </tractor>\n</mlt>\n");
        Ok(out)
    }
}
