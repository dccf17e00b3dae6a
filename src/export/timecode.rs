//! SMPTE timecode: frame counts to `HH:MM:SS:FF` and back, drop-frame
//! (`HH:MM:SS;FF`) at 29.97 and 59.94, where two (four) frame numbers are
//! skipped each minute except every tenth so the clock keeps to real time.

use super::timeline::Rate;

/// Frame numbers skipped per dropped minute (0 for non-drop rates).
fn dropped(rate: Rate) -> i64 {
    if rate.drop_frame() {
        rate.timecode_base() as i64 / 15
    } else {
        0
    }
}

/// The timecode of frame `frames` (counted from 00:00:00:00).
pub fn format(frames: i64, rate: Rate) -> String {
    let base = rate.timecode_base() as i64;
    let drop = dropped(rate);
    let mut f = frames.max(0);
    if drop > 0 {
        let per10 = base * 600 - drop * 9;
        let per_min = base * 60 - drop;
        let (tens, rest) = (f / per10, f % per10);
        f += drop * 9 * tens;
        if rest > drop {
            f += drop * ((rest - drop) / per_min);
        }
    }
    let (h, m, s, ff) = (
        f / (base * 3600) % 24,
        f / (base * 60) % 60,
        f / base % 60,
        f % base,
    );
    let sep = if drop > 0 { ';' } else { ':' };
    format!("{h:02}:{m:02}:{s:02}{sep}{ff:02}")
}

/// The frame count of a timecode `HH:MM:SS:FF` (or `;FF`) at `rate`.
pub fn parse(tc: &str, rate: Rate) -> Option<i64> {
    let parts: Vec<i64> = tc
        .split([':', ';', '.'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s, f] = parts[..] else {
        return None;
    };
    let base = rate.timecode_base() as i64;
    if m >= 60 || s >= 60 || f >= base || h < 0 || m < 0 || s < 0 || f < 0 {
        return None;
    }
    let minutes = h * 60 + m;
    Some((h * 3600 + m * 60 + s) * base + f - dropped(rate) * (minutes - minutes / 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DF: Rate = Rate {
        num: 30000,
        den: 1001,
    };

    #[test]
    fn drop_frame_skips_two_numbers_a_minute_but_every_tenth() {
        assert_eq!(format(1799, DF), "00:00:59;29");
        assert_eq!(format(1800, DF), "00:01:00;02");
        assert_eq!(format(17982, DF), "00:10:00;00");
        // One hour of 29.97 is 107892 frames.
        assert_eq!(format(107_892, DF), "01:00:00;00");
        for f in [0, 1799, 1800, 17981, 17982, 107_892, 123_456] {
            assert_eq!(parse(&format(f, DF), DF), Some(f), "{f}");
        }
        let r24 = Rate { num: 24, den: 1 };
        assert_eq!(format(86_400, r24), "01:00:00:00");
        assert_eq!(parse("01:00:00:00", r24), Some(86_400));
        assert_eq!(parse("00:00:00:24", r24), None);
    }
}
