//! Cheap in-points: slides each clip within the room its shot allows to where
//! the render's seek costs little decoding.
//!
//! The render cuts each clip from the film with an accurate seek, which
//! decodes from the intra frame before the in-point and throws those frames
//! away. On Big Buck Bunny (an intra frame every 0.5–5.5 s) an 85 s trailer
//! decoded 39 s of such frames, 3.4 CPU-s. A clip that starts just after an
//! intra frame decodes one frame before it instead. The edit is unchanged in
//! every way the rules see: same shot, same length (so every cut stays on its
//! beat), the same kept dialogue, inside the same room (a pause between
//! lines, the margins, the spoiler line) and clear of flashes at both ends.

use super::snap::Room;
use crate::manifest::Item;

/// The key frame times whose rounding (the analysis reads them to six
/// significant digits) is under an eighth of a frame, so a seek to a
/// quarter frame past one lands on that frame and no other.
pub fn exact_keys(key_s: &[f64], fps: f64) -> Vec<f64> {
    let eighth = 0.125 / fps.max(1.0);
    key_s
        .iter()
        .copied()
        .filter(|&t| {
            let digits = if t >= 1.0 {
                t.log10().floor() + 1.0
            } else {
                1.0
            };
            0.5 * 10f64.powf(digits - 6.0) < eighth
        })
        .collect()
}

/// Sets each clip's `decode_from_s` to the last key frame before its first
/// frame (the render seeks there and decodes from it; see `Clip`).
pub fn mark_decode_starts(items: &mut [Item], keys: &[f64], fps: f64) {
    let quarter = 0.25 / fps.max(1.0);
    for item in items {
        if let Item::Clip(c) = item {
            let i = keys.partition_point(|&k| k + quarter <= c.source_in_s);
            c.decode_from_s = i.checked_sub(1).map(|i| keys[i]);
        }
    }
}

/// How many seconds of slide one second less of decoding is worth: the clip
/// moves only when it saves at least twice the distance in decoding.
const SLIDE_COST: f64 = 0.5;

/// The farthest a clip moves: the editor chose its place in the shot (the
/// middle, or its line), and this keeps the clip near that choice. On the
/// BBB trailer 1.5 s takes 80 % of what an unbounded slide saves.
const MAX_SLIDE_S: f64 = 1.5;

/// Moves each clip (not split edits, whose in-point is their line's start)
/// to the in-point that minimises pre-roll + SLIDE_COST × distance moved.
/// `intra_s` are the film's intra-frame times, sorted. Returns the seconds
/// of pre-roll decoding saved over the whole timeline.
pub fn settle_in_points(
    items: &mut [Item],
    rooms: &[Option<Room>],
    intra_s: &[f64],
    flashes: &[f64],
    fps: f64,
) -> f64 {
    if intra_s.is_empty() || fps <= 0.0 {
        return 0.0;
    }
    // Six frames, as the editor keeps between a cut and a flash.
    let margin = 6.0 / fps;
    // An in-point half a frame after the intra frame: the seek lands on that
    // frame (never the one before, whatever the rounding of the times), and
    // the clip's first frame is the one after it.
    let after = 0.5 / fps;
    let preroll = |t: f64| {
        let i = intra_s.partition_point(|&k| k <= t);
        if i == 0 {
            t
        } else {
            t - intra_s[i - 1]
        }
    };
    let mut saved = 0.0;
    for (item, room) in items.iter_mut().zip(rooms) {
        let (Item::Clip(c), Some(r)) = (item, room) else {
            continue;
        };
        if c.sound_tail_s > 0.0 {
            continue;
        }
        let a = c.source_in_s;
        let len = c.source_out_s - a;
        let (mut lo, mut hi) = (r.lo.max(a - MAX_SLIDE_S), (r.hi - len).min(a + MAX_SLIDE_S));
        if let Some((ka, kb)) = r.keep {
            lo = lo.max(kb - len);
            hi = hi.min(ka);
        }
        if hi <= lo {
            continue;
        }
        let clear = |t: f64| {
            flashes
                .iter()
                .all(|f| (f - t).abs() >= margin && (f - (t + len)).abs() >= margin)
        };
        let cost = |t: f64| preroll(t) + SLIDE_COST * (t - a).abs();
        let start = intra_s.partition_point(|&k| k + after < lo);
        let best = intra_s[start..]
            .iter()
            .map(|k| k + after)
            .take_while(|&t| t <= hi)
            .chain([lo])
            .filter(|&t| clear(t))
            .fold((a, cost(a)), |best, t| {
                let ct = cost(t);
                if ct < best.1 - 1e-9 {
                    (t, ct)
                } else {
                    best
                }
            });
        if best.0 != a {
            saved += preroll(a) - preroll(best.0);
            c.source_in_s = best.0;
            c.source_out_s = best.0 + len;
        }
    }
    saved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Act;
    use crate::vibes::Transition;

    fn clip(a: f64, b: f64) -> Item {
        crate::edit::test_clip(Act::Act1, a, b, Transition::HardCut, 0.0)
    }

    fn room(lo: f64, hi: f64, keep: Option<(f64, f64)>) -> Option<Room> {
        Some(Room { lo, hi, keep })
    }

    fn span(it: &Item) -> (f64, f64) {
        match it {
            Item::Clip(c) => (c.source_in_s, c.source_out_s),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_clip_slides_to_just_after_a_near_intra_frame() {
        let fps = 24.0;
        // Intra frames at 10 and 15 s; the clip starts at 16.2 s (1.2 s of
        // pre-roll) in a shot with room from 14 to 22 s.
        let mut items = vec![clip(16.2, 18.2)];
        let rooms = [room(14.0, 22.0, None)];
        let saved = settle_in_points(&mut items, &rooms, &[10.0, 15.0], &[], fps);
        let (a, b) = span(&items[0]);
        assert!((a - (15.0 + 0.5 / fps)).abs() < 1e-9, "in-point {a}");
        assert!((b - a - 2.0).abs() < 1e-9, "length kept");
        assert!((saved - (1.2 - 0.5 / fps)).abs() < 1e-9, "saved {saved}");
    }

    #[test]
    fn a_clip_stays_near_its_place_and_inside_its_room() {
        let fps = 24.0;
        // No intra frame within reach: sliding 1.5 s earlier (the most it
        // may) is the cheapest place, not the room's far start.
        let mut items = vec![clip(18.0, 19.0)];
        let rooms = [room(10.5, 25.0, None)];
        settle_in_points(&mut items, &rooms, &[10.0], &[], fps);
        let (a, b) = span(&items[0]);
        assert!((a - (18.0 - MAX_SLIDE_S)).abs() < 1e-9, "in-point {a}");
        assert!((b - a - 1.0).abs() < 1e-9);
        // A kept dialogue line pins the clip: it must still contain 16–16.9.
        let mut items = vec![clip(15.9, 17.0)];
        let rooms = [room(14.0, 20.0, Some((15.9, 16.9)))];
        settle_in_points(&mut items, &rooms, &[15.0, 15.85], &[], fps);
        let (a, b) = span(&items[0]);
        assert!(a <= 15.9 && b >= 16.9, "kept line cut: {a}..{b}");
        assert!((a - (15.85 + 0.5 / fps)).abs() < 1e-9);
    }

    #[test]
    fn no_slide_puts_a_flash_near_either_end() {
        let fps = 24.0;
        let mut items = vec![clip(16.2, 18.2)];
        let rooms = [room(14.0, 22.0, None)];
        // A flash 2 s after the intra frame would sit on the moved out-point.
        settle_in_points(&mut items, &rooms, &[15.0], &[17.05], fps);
        let (a, b) = span(&items[0]);
        assert!((a - 17.05).abs() >= 0.25 && (b - 17.05).abs() >= 0.25);
    }

    #[test]
    fn rounded_key_times_are_kept_only_when_a_seek_past_them_is_safe() {
        // Six significant digits: 1e-3 s below 1000 s, 1e-2 s above; an
        // eighth of a 24 fps frame is 5.2 ms, of a 60 fps frame 2.1 ms.
        assert_eq!(
            exact_keys(&[12.3457, 999.5, 1234.57], 24.0),
            vec![12.3457, 999.5, 1234.57]
        );
        assert_eq!(
            exact_keys(&[12.3457, 999.5, 1234.57], 60.0),
            vec![12.3457, 999.5]
        );
    }

    #[test]
    fn each_clip_decodes_from_the_last_key_frame_before_its_first_frame() {
        let fps = 24.0;
        let mut items = vec![
            clip(15.0 + 0.5 / fps, 17.0),
            clip(15.0, 16.0),
            clip(3.0, 4.0),
        ];
        mark_decode_starts(&mut items, &[10.0, 15.0], fps);
        let from = |it: &Item| match it {
            Item::Clip(c) => c.decode_from_s,
            _ => unreachable!(),
        };
        // Half a frame after a key frame: decode from it.
        assert_eq!(from(&items[0]), Some(15.0));
        // On the key frame itself: the seek past it would drop it, so the
        // key frame before.
        assert_eq!(from(&items[1]), Some(10.0));
        // Before the first key frame: no start known.
        assert_eq!(from(&items[2]), None);
    }
}
