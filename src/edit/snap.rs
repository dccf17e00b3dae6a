//! Beat snapping: moves every cut of an assembled timeline onto a beat of the
//! music as it plays in the trailer.
//!
//! Works in whole output frames from the trailer's start, so rounding never
//! drifts: each cut is placed at the frame nearest its beat, and a clip only
//! grows or shrinks inside the room its shot allows (and never so far that a
//! line of dialogue it carries would be cut). When no beat leaves a dialogue
//! clip room for its whole line, the cut becomes a split edit (an L-cut): the
//! picture cuts on the beat and the line's sound runs on under the next item.

use crate::manifest::{frames, Item, MAX_SOUND_TAIL_S};
use crate::vibes::Transition;

/// Where a clip may lie in the film, and what it must keep whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Room {
    /// Earliest source time (shot start plus margin).
    pub lo: f64,
    /// Latest source time (shot end minus margin, or the spoiler line).
    pub hi: f64,
    /// A span (a dialogue cue with its margins) the clip must contain.
    pub keep: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SnapReport {
    pub cuts: usize,
    pub on_beat: usize,
    /// Cuts made split edits (picture on the beat, the line's sound running on).
    pub split_edits: usize,
}

/// A split edit cannot precede a crossfade: the clip's sound is already
/// crossfaded into the next item's there.
fn split_ok(next: &Item) -> bool {
    next.transition().0 != Transition::Crossfade
}

/// Places the picture of a dialogue clip from its line's start to a beat
/// before the line ends, and gives it the sound tail that finishes the line.
/// Returns the cut frame; None when no beat leaves a useful picture (at
/// least 1 s and half the line) and a tail of at most MAX_SOUND_TAIL_S.
fn split_cut(
    beats: &[i64],
    item: &mut Item,
    room: Option<Room>,
    start: i64,
    want: i64,
    fps: f64,
) -> Option<i64> {
    let Item::Clip(c) = item else { return None };
    let r = room?;
    let (ka, kb) = r.keep?;
    let a = ka.max(r.lo);
    let line = kb - a;
    let cut = beats
        .iter()
        .copied()
        .filter(|&b| {
            let len = (b - start) as f64 / fps;
            len >= 1.0_f64.max(line / 2.0)
                && len < line
                && a + len <= r.hi + 1e-9
                && kb - (a + len) <= MAX_SOUND_TAIL_S
        })
        .min_by_key(|&b| (b - want).abs())?;
    let len = (cut - start) as f64 / fps;
    c.source_in_s = a;
    c.source_out_s = a + len;
    c.sound_tail_s = ((kb - c.source_out_s) * 1000.0).round() / 1000.0;
    Some(cut)
}

fn overlap_frames(item: &Item, fps: f64) -> u64 {
    match item.transition() {
        (Transition::Crossfade, d) if d > 0.0 => frames(d, fps),
        _ => 0,
    }
}

/// Snaps the cut after each item to a beat. `beats` are trailer-time seconds,
/// sorted; `rooms[i]` is None for cards (which may take any length).
pub fn snap_timeline(
    items: &mut [Item],
    rooms: &[Option<Room>],
    beats: &[f64],
    fps: f64,
) -> SnapReport {
    let mut rep = SnapReport::default();
    if beats.len() < 2 {
        return rep;
    }
    let beat_frames: Vec<i64> = beats.iter().map(|b| (b * fps).round() as i64).collect();
    let mut start: i64 = 0; // trailer frame where the current item starts
    let n = items.len();
    for i in 0..n {
        let cur_frames = frames(items[i].duration_s(), fps) as i64;
        let next_overlap = if i + 1 < n {
            overlap_frames(&items[i + 1], fps) as i64
        } else {
            0
        };
        let own_overlap = overlap_frames(&items[i], fps) as i64;
        // Length limits for this item, in frames.
        let (min_f, max_f) = match (&items[i], rooms.get(i).copied().flatten()) {
            (Item::Clip(c), Some(r)) => {
                let keep = r.keep.map(|(a, b)| b - a).unwrap_or(0.0);
                let min_len = keep.max(0.5).max(c.transition_s * 2.0);
                (
                    frames(min_len, fps) as i64,
                    ((r.hi - r.lo) * fps).floor() as i64,
                )
            }
            _ => (frames(1.5, fps) as i64, frames(8.0, fps) as i64),
        };
        let min_f = min_f.max(2 * own_overlap.max(next_overlap) + 1);
        let want_cut = start + cur_frames - next_overlap;
        if i + 1 == n {
            // The last item ends the trailer; it ends on a beat too when it can.
            let best = pick(&beat_frames, start, want_cut, min_f, max_f, 0);
            if let Some(cut) = best {
                resize(
                    &mut items[i],
                    rooms.get(i).copied().flatten(),
                    (cut - start) as u64,
                    fps,
                );
            }
            break;
        }
        rep.cuts += 1;
        let room = rooms.get(i).copied().flatten();
        let mut cut = cut_on_beat(
            &beat_frames,
            items,
            i,
            room,
            start,
            (min_f, max_f),
            next_overlap,
            fps,
            &mut rep,
        );
        // A line that cannot end on a beat needs a split edit, which a
        // crossfade into the next item rules out: that crossfade becomes a
        // plain cut, and the line runs on under the next item.
        if cut.is_none() && room.is_some_and(|r| r.keep.is_some()) && !split_ok(&items[i + 1]) {
            set_hard_cut(&mut items[i + 1]);
            let min_f = min_f.max(2 * own_overlap + 1);
            cut = cut_on_beat(
                &beat_frames,
                items,
                i,
                room,
                start,
                (min_f, max_f),
                0,
                fps,
                &mut rep,
            );
        }
        let cut = cut.unwrap_or(want_cut);
        start = cut;
    }
    rep
}

/// Cuts item `i` on a beat: the nearest beat its room allows, else (when
/// the next item allows it) a split edit. None when neither works.
#[allow(clippy::too_many_arguments)]
fn cut_on_beat(
    beats: &[i64],
    items: &mut [Item],
    i: usize,
    room: Option<Room>,
    start: i64,
    (min_f, max_f): (i64, i64),
    next_overlap: i64,
    fps: f64,
    rep: &mut SnapReport,
) -> Option<i64> {
    let want = start + frames(items[i].duration_s(), fps) as i64 - next_overlap;
    if let Some(cut) = pick(beats, start, want, min_f, max_f, next_overlap) {
        if resize(
            &mut items[i],
            room,
            (cut - start + next_overlap) as u64,
            fps,
        ) {
            rep.on_beat += 1;
            return Some(cut);
        }
    }
    // The line does not fit between two beats: cut the picture on the beat
    // and let the sound finish under the next item.
    if split_ok(&items[i + 1]) {
        if let Some(cut) = split_cut(beats, &mut items[i], room, start, want, fps) {
            rep.on_beat += 1;
            rep.split_edits += 1;
            return Some(cut);
        }
    }
    None
}

fn set_hard_cut(item: &mut Item) {
    match item {
        Item::Clip(c) => (c.transition, c.transition_s) = (Transition::HardCut, 0.0),
        Item::Card(c) => (c.transition, c.transition_s) = (Transition::HardCut, 0.0),
    }
}

/// The beat frame nearest `want` that gives the item a length in [min_f, max_f].
fn pick(beats: &[i64], start: i64, want: i64, min_f: i64, max_f: i64, overlap: i64) -> Option<i64> {
    beats
        .iter()
        .copied()
        .filter(|&b| {
            let len = b - start + overlap;
            len >= min_f && len <= max_f
        })
        .min_by_key(|&b| (b - want).abs())
}

/// Gives the item exactly `n` frames, moving its source in/out inside its
/// room; false when it cannot.
fn resize(item: &mut Item, room: Option<Room>, n: u64, fps: f64) -> bool {
    let len = n as f64 / fps;
    match item {
        Item::Card(c) => {
            c.duration_s = len;
            true
        }
        Item::Clip(c) => {
            let Some(r) = room else { return false };
            if len > r.hi - r.lo + 1e-9 {
                return false;
            }
            // Grow or shrink around the clip's middle (or its kept span).
            let (ka, kb) = r.keep.unwrap_or((
                (c.source_in_s + c.source_out_s) / 2.0,
                (c.source_in_s + c.source_out_s) / 2.0,
            ));
            if kb - ka > len + 1e-9 {
                return false;
            }
            let mid = (ka + kb) / 2.0;
            let mut a = (mid - len / 2.0).max(r.lo);
            if a + len > r.hi {
                a = r.hi - len;
            }
            // Keep the cue whole after clamping.
            if a > ka || a + len < kb {
                return false;
            }
            c.source_in_s = a;
            c.source_out_s = a + len;
            c.sound_tail_s = 0.0;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Act, Card};

    fn clip(a: f64, b: f64, t: Transition, d: f64) -> Item {
        crate::edit::test_clip(Act::Act1, a, b, t, d)
    }

    #[test]
    fn every_cut_lands_on_a_beat_frame() {
        let fps = 24.0;
        let beats: Vec<f64> = (0..400).map(|k| k as f64 * 60.0 / 137.0).collect();
        let mut items = vec![
            clip(10.0, 14.1, Transition::HardCut, 0.0),
            clip(30.0, 32.7, Transition::Crossfade, 0.3),
            clip(50.0, 51.3, Transition::HardCut, 0.0),
            Item::Card(Card {
                act: Act::Title,
                text: "T".into(),
                duration_s: 3.5,
                transition: Transition::FadeToBlack,
                transition_s: 0.6,
            }),
            clip(70.0, 72.5, Transition::FadeToBlack, 0.4),
        ];
        let rooms: Vec<Option<Room>> = vec![
            Some(Room {
                lo: 8.0,
                hi: 18.0,
                keep: None,
            }),
            Some(Room {
                lo: 28.0,
                hi: 36.0,
                keep: None,
            }),
            Some(Room {
                lo: 49.0,
                hi: 54.0,
                keep: None,
            }),
            None,
            Some(Room {
                lo: 69.0,
                hi: 75.0,
                keep: None,
            }),
        ];
        let rep = snap_timeline(&mut items, &rooms, &beats, fps);
        assert_eq!(rep.cuts, 4);
        assert_eq!(rep.on_beat, 4);
        // Recompute cut positions as the renderer will.
        let mut start = 0i64;
        for i in 0..items.len() - 1 {
            let n = frames(items[i].duration_s(), fps) as i64;
            let ov = overlap_frames(&items[i + 1], fps) as i64;
            let cut = start + n - ov;
            let t = cut as f64 / fps;
            let near = beats.iter().map(|b| (b - t).abs()).fold(f64::MAX, f64::min);
            assert!(near <= 1.0 / fps + 1e-9, "cut {i} at {t} is {near} s off");
            start = cut;
        }
        for (it, r) in items.iter().zip(&rooms) {
            if let (Item::Clip(c), Some(r)) = (it, r) {
                assert!(c.source_in_s >= r.lo - 1e-9 && c.source_out_s <= r.hi + 1e-9);
            }
        }
    }

    #[test]
    fn dialogue_span_is_never_cut() {
        let mut items = vec![
            clip(10.0, 13.0, Transition::HardCut, 0.0),
            clip(20.0, 21.0, Transition::HardCut, 0.0),
        ];
        let rooms = vec![
            Some(Room {
                lo: 9.5,
                hi: 13.2,
                keep: Some((10.0, 13.0)),
            }),
            Some(Room {
                lo: 19.0,
                hi: 23.0,
                keep: None,
            }),
        ];
        // Beats every 2 s: a 3 s cue can only end on a beat by growing to
        // 4 s, which the room forbids, so the cut becomes a split edit: the
        // picture cuts on the beat at 2 s, the line's sound runs on 1 s.
        let beats: Vec<f64> = (0..20).map(|k| k as f64 * 2.0).collect();
        let rep = snap_timeline(&mut items, &rooms, &beats, 24.0);
        assert_eq!((rep.cuts, rep.on_beat, rep.split_edits), (1, 1, 1));
        let Item::Clip(c) = &items[0] else { panic!() };
        assert!(c.source_in_s <= 10.0, "{c:?}");
        assert!((c.source_out_s - c.source_in_s - 2.0).abs() < 1e-9, "{c:?}");
        assert!(
            (c.source_out_s + c.sound_tail_s - 13.0).abs() < 1e-6,
            "{c:?}"
        );

        // Before a crossfade the sound cannot run on (it is crossfaded into
        // the next item): the crossfade becomes a plain cut, and the line a
        // split edit on the beat.
        let mut items = vec![
            clip(10.0, 13.0, Transition::HardCut, 0.0),
            clip(20.0, 21.0, Transition::Crossfade, 0.5),
        ];
        let rep = snap_timeline(&mut items, &rooms, &beats, 24.0);
        assert_eq!((rep.cuts, rep.on_beat, rep.split_edits), (1, 1, 1));
        assert_eq!(items[1].transition(), (Transition::HardCut, 0.0));
        let Item::Clip(c) = &items[0] else { panic!() };
        assert!((c.source_out_s - c.source_in_s - 2.0).abs() < 1e-9, "{c:?}");
        assert!(
            (c.source_out_s + c.sound_tail_s - 13.0).abs() < 1e-6,
            "{c:?}"
        );

        // A crossfade after a clip that reaches its beat stays a crossfade.
        let mut items = vec![
            clip(10.0, 12.0, Transition::HardCut, 0.0),
            clip(20.0, 21.0, Transition::Crossfade, 0.5),
        ];
        let rooms = vec![
            Some(Room {
                lo: 9.0,
                hi: 14.0,
                keep: Some((10.0, 11.5)),
            }),
            rooms[1],
        ];
        snap_timeline(&mut items, &rooms, &beats, 24.0);
        assert_eq!(items[1].transition(), (Transition::Crossfade, 0.5));
    }
}
