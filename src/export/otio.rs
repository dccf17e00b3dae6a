//! OpenTimelineIO JSON (the schema OTIO 0.18 reads), written with serde:
//! no maintained Rust OTIO crate exists. V1 and A1 carry the clips with
//! their transitions centred on the cuts; A2–A5 the music, effects,
//! voice-over and sound tails between gaps; markers on the stack. Media
//! are external references (card stills as PNG files, never generators,
//! which adapters refuse).

use super::timeline::{AudioItem, AudioTrack, Entry, Piece, Rate, Source, Timeline};
use super::{ExportError, Exporter, Format};
use serde_json::{json, Value};

pub struct Otio;

fn rt(value: i64, rate: Rate) -> Value {
    json!({"OTIO_SCHEMA": "RationalTime.1", "rate": rate.fps(), "value": value as f64})
}

fn range(start: i64, dur: i64, rate: Rate) -> Value {
    json!({"OTIO_SCHEMA": "TimeRange.1", "start_time": rt(start, rate), "duration": rt(dur, rate)})
}

fn reference(t: &Timeline, path: &std::path::Path, available: Option<Value>) -> Value {
    json!({
        "OTIO_SCHEMA": "ExternalReference.1",
        "name": path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        "target_url": t.url(path),
        "available_range": available,
        "available_image_bounds": null,
        "metadata": {},
    })
}

fn clip(name: &str, source: Value, media: Value, meta: Value) -> Value {
    json!({
        "OTIO_SCHEMA": "Clip.2",
        "name": name,
        "source_range": source,
        "media_references": {"DEFAULT_MEDIA": media},
        "active_media_reference_key": "DEFAULT_MEDIA",
        "effects": [],
        "markers": [],
        "enabled": true,
        "metadata": {"cinecut": meta},
    })
}

fn gap(frames: i64, rate: Rate) -> Value {
    json!({
        "OTIO_SCHEMA": "Gap.1", "name": "", "source_range": range(0, frames, rate),
        "effects": [], "markers": [], "enabled": true, "metadata": {},
    })
}

fn track(name: &str, kind: &str, children: Vec<Value>) -> Value {
    json!({
        "OTIO_SCHEMA": "Track.1", "name": name, "kind": kind, "children": children,
        "source_range": null, "effects": [], "markers": [], "enabled": true, "metadata": {},
    })
}

/// The transition into a piece, centred on its cut: `before` frames come
/// from the incoming item's media before its cut, the rest from the
/// outgoing item's after its cut.
fn transition(e: Entry, rate: Rate) -> Option<Value> {
    let (kind, name) = match e {
        Entry::Cut => return None,
        Entry::Dissolve { .. } => ("SMPTE_Dissolve", "Cross Dissolve".to_string()),
        Entry::Dip { white, .. } => (
            "Custom_Transition",
            format!("Dip to {}", if white { "White" } else { "Black" }),
        ),
    };
    let before = e.before_cut();
    Some(json!({
        "OTIO_SCHEMA": "Transition.1",
        "name": name,
        "transition_type": kind,
        "in_offset": rt(before, rate),
        "out_offset": rt(e.frames() - before, rate),
        "metadata": {"cinecut": {"frames": e.frames()}},
    }))
}

/// V1 (`video`) or A1 (the film's sound under the same pieces, gaps under cards).
fn picture_track(t: &Timeline, pieces: &[Piece], video: bool) -> Value {
    let mut children = Vec::new();
    let film_len = t.film_length().map(|n| range(0, n, t.film_rate));
    for p in pieces {
        if let Some(tr) = transition(p.item.into, t.rate) {
            children.push(tr);
        }
        let v = p.item;
        let meta = json!({
            "manifest_index": v.index, "note": v.note, "gain_db": v.gain_db,
            "record_start_frame": v.start, "frames": v.frames,
        });
        let dur = p.to - p.from;
        children.push(match &v.source {
            Source::Film { .. } => clip(
                &v.name,
                range(p.source_at, t.film_frames(dur), t.film_rate),
                reference(t, &t.film.path, film_len.clone()),
                meta,
            ),
            Source::Card { still, .. } if video => clip(
                &v.name,
                range(0, dur, t.rate),
                reference(t, still, None),
                meta,
            ),
            Source::Card { .. } => gap(dur, t.rate),
        });
    }
    if video {
        track("V1", "Video", children)
    } else {
        track(AudioTrack::Film.label(), "Audio", children)
    }
}

/// One lane of an audio track: its sounds with gaps between them.
fn sound_track(t: &Timeline, name: &str, lane: &[&AudioItem]) -> Value {
    let mut children = Vec::new();
    let mut at = 0;
    for a in lane {
        if a.start > at {
            children.push(gap(a.start - at, t.rate));
        }
        let available = t
            .sounds
            .iter()
            .chain([&t.film])
            .find(|s| s.path == a.media)
            .and_then(|s| s.duration_s)
            .map(|d| range(0, (d * a.media_rate.fps()).floor() as i64, a.media_rate));
        let dur = (a.frames as f64 * a.media_rate.fps() / t.rate.fps()).round() as i64;
        children.push(clip(
            &a.name,
            range(a.source_in, dur, a.media_rate),
            reference(t, &a.media, available),
            json!({"gain_db": a.gain_db, "record_start_frame": a.start}),
        ));
        at = a.start + a.frames;
    }
    track(name, "Audio", children)
}

impl Exporter for Otio {
    fn format(&self) -> Format {
        Format::Otio
    }

    fn write(&self, t: &Timeline) -> Result<String, ExportError> {
        let pieces = t.pieces();
        let mut tracks = vec![picture_track(t, &pieces, true)];
        if t.film_has_audio {
            tracks.push(picture_track(t, &pieces, false));
        }
        for track in &AudioTrack::ALL[1..] {
            for (k, lane) in t.audio_lanes(*track).iter().enumerate() {
                let name = match k {
                    0 => track.label().to_string(),
                    _ => format!("{} ({})", track.label(), k + 1),
                };
                tracks.push(sound_track(t, &name, lane));
            }
        }
        let markers: Vec<Value> = t
            .markers
            .iter()
            .map(|m| {
                json!({
                    "OTIO_SCHEMA": "Marker.2", "name": m.name, "marked_range": range(m.frame, 0, t.rate),
                    "color": if m.name.starts_with("act") { "GREEN" } else { "RED" },
                    "comment": m.note, "metadata": {},
                })
            })
            .collect();
        let doc = json!({
            "OTIO_SCHEMA": "Timeline.1",
            "name": t.name,
            "global_start_time": rt(t.start_tc, t.rate),
            "metadata": {"cinecut": {"frames": t.frames, "rate": format!("{}/{}", t.rate.num, t.rate.den)}},
            "tracks": {
                "OTIO_SCHEMA": "Stack.1", "name": "tracks", "children": tracks,
                "source_range": null, "effects": [], "markers": markers, "enabled": true, "metadata": {},
            },
        });
        serde_json::to_string_pretty(&doc).map_err(|e| ExportError::Encode(e.to_string()))
    }
}
