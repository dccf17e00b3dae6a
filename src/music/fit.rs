//! Fitting a track to the trailer: music enters on a downbeat, its peak lands
//! on the act-3 montage, and it stops on a phrase boundary (a multiple of four
//! bars from the entry) or at the song's own end — never mid-bar.

use super::BeatGrid;
use serde::{Deserialize, Serialize};

/// Where to cut the music and where it sits in the trailer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MusicFit {
    /// In point in the music file (a downbeat).
    pub music_in_s: f64,
    /// Out point in the music file (a phrase-boundary downbeat, or the end).
    pub music_out_s: f64,
    /// Trailer time at which the music starts (0 unless the song's peak comes
    /// too early in the song to reach act 3 otherwise).
    pub trailer_start_s: f64,
    /// Trailer time of the music's peak (aim: the act-3 start).
    pub peak_trailer_s: f64,
    /// Bars between in and out.
    pub bars: usize,
    /// "phrase" (ends on a 4-bar boundary), "song_end" (the track's own
    /// ending), or "fade" (no downbeats were found; fade out).
    pub ending: String,
}

/// Choose in/out points; see the module doc for the rules.
pub fn fit_music(grid: &BeatGrid, trailer_len_s: f64, act3_start_s: f64) -> MusicFit {
    let d = &grid.downbeats;
    if d.len() < 2 {
        let out = grid.duration_s.min(trailer_len_s).max(0.0);
        return MusicFit {
            music_in_s: 0.0,
            music_out_s: out,
            trailer_start_s: 0.0,
            peak_trailer_s: grid.peak_s.min(out),
            bars: 0,
            ending: "fade".into(),
        };
    }
    // The downbeat that opens the peak section.
    let p = d
        .iter()
        .enumerate()
        .min_by(|a, b| {
            (a.1 - grid.peak_s)
                .abs()
                .total_cmp(&(b.1 - grid.peak_s).abs())
        })
        .map(|(i, _)| i)
        .unwrap_or(0);
    // Entry: a downbeat a whole number of phrases before the peak, so the peak
    // starts a phrase of the cut too; among those, the one that puts the
    // peak nearest the act-3 start without starting before the trailer.
    let in_idx = (0..=p)
        .filter(|&i| (p - i) % 4 == 0)
        .min_by(|&a, &b| {
            let ea = ((d[p] - d[a]) - act3_start_s).abs();
            let eb = ((d[p] - d[b]) - act3_start_s).abs();
            ea.total_cmp(&eb)
        })
        .unwrap_or(0);
    let lead = d[p] - d[in_idx];
    // If even the earliest entry reaches the peak before act 3, delay the
    // music's start in the trailer instead of missing the act-3 hit.
    let trailer_start_s = if lead < act3_start_s - 0.25 {
        (act3_start_s - lead).min(trailer_len_s)
    } else {
        0.0
    };
    let room = trailer_len_s - trailer_start_s;
    let music_in_s = d[in_idx];
    // Exit: the last phrase boundary that fits in the trailer.
    let last_phrase = (in_idx + 1..d.len())
        .filter(|&j| (j - in_idx) % 4 == 0 && d[j] - music_in_s <= room + 1e-6)
        .max();
    let bar_s = (d[d.len() - 1] - d[0]) / (d.len() - 1) as f64;
    let song_left = grid.duration_s - music_in_s;
    let (music_out_s, ending) = match last_phrase {
        // The song runs out before the trailer does: let it end by itself.
        _ if song_left <= room => (grid.duration_s, "song_end"),
        Some(j) => (d[j], "phrase"),
        // Trailer shorter than one phrase: end on the last whole bar.
        None => {
            let j = (in_idx + 1..d.len())
                .filter(|&j| d[j] - music_in_s <= room + 1e-6)
                .max()
                .unwrap_or(in_idx);
            (d[j], "phrase")
        }
    };
    MusicFit {
        music_in_s,
        music_out_s,
        trailer_start_s,
        peak_trailer_s: trailer_start_s + lead,
        bars: ((music_out_s - music_in_s) / bar_s.max(1e-6)).round() as usize,
        ending: ending.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(bpm: f64, dur: f64, peak_s: f64) -> BeatGrid {
        let beat = 60.0 / bpm;
        let beats: Vec<f64> = (0..)
            .map(|k| k as f64 * beat)
            .take_while(|&t| t < dur)
            .collect();
        let downbeats = beats.iter().step_by(4).cloned().collect();
        BeatGrid {
            bpm,
            beats,
            downbeats,
            meter: 4,
            sections: vec![],
            peak_s,
            duration_s: dur,
        }
    }

    #[test]
    fn peak_lands_on_act3_and_ends_on_a_phrase() {
        // 120 BPM: 2 s bars, 8 s phrases. Peak at 96 s in the song.
        let g = grid(120.0, 200.0, 96.0);
        let f = fit_music(&g, 120.0, 80.0);
        assert_eq!(f.trailer_start_s, 0.0);
        assert!(g.downbeats.contains(&f.music_in_s));
        assert!((f.peak_trailer_s - 80.0).abs() <= 4.0, "{f:?}");
        assert_eq!(f.ending, "phrase");
        assert_eq!(f.bars % 4, 0);
        assert!(f.music_out_s - f.music_in_s <= 120.0 + 1e-9);
        assert!(f.music_out_s - f.music_in_s > 120.0 - 8.0);
        // The out point is a downbeat.
        assert!(g
            .downbeats
            .iter()
            .any(|&d| (d - f.music_out_s).abs() < 1e-9));
    }

    #[test]
    fn early_peak_delays_the_music_instead_of_missing_act3() {
        let g = grid(120.0, 200.0, 16.0);
        let f = fit_music(&g, 120.0, 80.0);
        assert_eq!(f.music_in_s, 0.0);
        assert!((f.trailer_start_s - 64.0).abs() < 1e-9);
        assert!((f.peak_trailer_s - 80.0).abs() < 1e-9);
    }

    #[test]
    fn short_song_ends_with_the_song() {
        let g = grid(100.0, 60.0, 30.0);
        let f = fit_music(&g, 120.0, 80.0);
        assert_eq!(f.ending, "song_end");
        assert_eq!(f.music_out_s, 60.0);
    }

    #[test]
    fn no_downbeats_fades() {
        let mut g = grid(100.0, 60.0, 30.0);
        g.downbeats.clear();
        let f = fit_music(&g, 120.0, 80.0);
        assert_eq!(f.ending, "fade");
        assert_eq!(f.music_out_s, 60.0);
    }
}
