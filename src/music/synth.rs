//! The built-in music bed: drums, bass and pad at the vibe's tempo with an
//! intro, a build (riser and snare roll) and a peak, then a final hit — so a
//! trailer made offline still has music. Pure synthesis plus an atomic WAV writer.

use super::MusicError;
use std::f32::consts::PI;
use std::path::Path;

/// Broad character of the bed; each vibe maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BedStyle {
    /// Four-on-the-floor build into a rock peak, minor key (action, war…).
    Driving,
    /// Sparse low pulses, dissonant pad, heavy hits (horror, thriller, mystery).
    Dark,
    /// Major key, bouncy hats (comedy, family, animation, music).
    Bright,
    /// Soft pulse and warm pad, drums only at the peak (drama, romance…).
    Gentle,
}

/// How to synthesize a bed.
#[derive(Clone, Debug, PartialEq)]
pub struct BedParams {
    pub bpm: f64,
    /// MIDI note of the key's root (bass plays an octave or two below).
    pub root_midi: u8,
    pub minor: bool,
    pub style: BedStyle,
    /// Where the peak (the drop after the build) should land; rounded to a
    /// 4-bar phrase. None: at 60 % of the length.
    pub peak_at_s: Option<f64>,
    /// Seeds the noise of drums and risers; same seed, same samples.
    pub seed: u64,
}

impl BedParams {
    /// Style, key and mode for a vibe name (unknown vibes get a driving bed).
    pub fn for_vibe(vibe: &str, bpm: f64) -> Self {
        let v = vibe.to_ascii_lowercase();
        let (style, root, minor) = match v.as_str() {
            "horror" | "thriller" | "mystery" | "crime" => (BedStyle::Dark, 50, true),
            "comedy" | "family" | "animation" | "music" => (BedStyle::Bright, 60, false),
            "drama" | "romance" | "documentary" | "history" => (BedStyle::Gentle, 57, false),
            "western" => (BedStyle::Driving, 52, true),
            _ => (BedStyle::Driving, 57, true),
        };
        // A stable seed per vibe: the same vibe always gets the same bed.
        let seed = v.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        BedParams {
            bpm: bpm.clamp(50.0, 200.0),
            root_midi: root,
            minor,
            style,
            peak_at_s: None,
            seed,
        }
    }
}

/// Bar layout of a bed of a given length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BedLayout {
    pub bar_s: f64,
    pub bars: usize,
    /// First bar of the peak.
    pub peak_bar: usize,
}

/// The bar plan [`synthesize_bed`] follows; exposed so callers and tests know
/// where the peak and the final hit are.
pub fn bed_layout(params: &BedParams, length_s: f64) -> BedLayout {
    let bar_s = 4.0 * 60.0 / params.bpm.clamp(50.0, 200.0);
    // The last bar holds the final hit and its ring-out.
    let bars = ((length_s / bar_s).floor() as usize).max(8);
    let want = params.peak_at_s.unwrap_or(length_s * 0.6) / bar_s;
    let peak_bar = (((want / 4.0).round() as usize) * 4).clamp(4, bars.saturating_sub(3).max(4));
    BedLayout {
        bar_s,
        bars,
        peak_bar,
    }
}

/// Render the bed: stereo interleaved f32 at `sample_rate`, peak at -1 dBFS.
pub fn synthesize_bed(params: &BedParams, length_s: f64, sample_rate: u32) -> Vec<f32> {
    let layout = bed_layout(params, length_s);
    let sr = sample_rate.max(8000) as f32;
    let total = (length_s.max(layout.bars as f64 * layout.bar_s) * sr as f64) as usize;
    let mut s = Synth {
        l: vec![0.0; total],
        r: vec![0.0; total],
        sr,
        seed: params.seed | 1,
    };
    for bar in 0..layout.bars {
        let at = BarAt {
            t0: bar as f32 * layout.bar_s as f32,
            bar_s: layout.bar_s as f32,
            beat: layout.bar_s as f32 / 4.0,
            chord: chord_of_bar(params, bar),
            style: params.style,
        };
        match bar_role(&layout, bar) {
            BarRole::Intro => s.intro_bar(&at),
            BarRole::Build { build, to_peak } => s.build_bar(&at, build, to_peak),
            BarRole::Peak { into_peak } => s.peak_bar(&at, into_peak),
            BarRole::FinalHit => s.final_hit(&at),
        }
    }
    s.finish()
}

/// The chord a bar plays: its root and notes (MIDI).
struct Chord {
    root: i32,
    notes: Vec<i32>,
}

/// i–VI–III–VII in minor, I–V–vi–IV in major (the two most used loops), one
/// chord a bar; dark beds add a minor second on top.
fn chord_of_bar(params: &BedParams, bar: usize) -> Chord {
    let prog: [(i32, bool); 4] = if params.minor {
        [(0, true), (8, false), (3, false), (10, false)]
    } else {
        [(0, false), (7, false), (9, true), (5, false)]
    };
    let (deg, chord_minor) = prog[bar % 4];
    let root = params.root_midi as i32 + deg;
    let third = if chord_minor { 3 } else { 4 };
    let mut notes = vec![root, root + third, root + 7];
    if params.style == BedStyle::Dark {
        // A minor second on top: tension without losing the key.
        notes.push(root + 13);
    }
    Chord { root, notes }
}

/// What a bar plays, by its place in the layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BarRole {
    /// Before the build: a soft pulse.
    Intro,
    /// Towards the peak; `build` is 0 at its start and rises towards 1,
    /// `to_peak` counts the bars left before the peak (at least 1).
    Build { build: f32, to_peak: usize },
    /// The peak, `into_peak` bars after its start.
    Peak { into_peak: usize },
    /// The last bar: the final hit, left to ring.
    FinalHit,
}

fn bar_role(layout: &BedLayout, bar: usize) -> BarRole {
    let (peak, last) = (layout.peak_bar, layout.bars - 1);
    let build_start = 4.min(peak);
    if bar == last {
        BarRole::FinalHit
    } else if bar >= peak {
        BarRole::Peak {
            into_peak: bar - peak,
        }
    } else if bar >= build_start {
        BarRole::Build {
            build: (bar - build_start) as f32 / (peak - build_start).max(1) as f32,
            to_peak: peak - bar,
        }
    } else {
        BarRole::Intro
    }
}

/// Where a bar starts and what it plays in.
struct BarAt {
    t0: f32,
    bar_s: f32,
    beat: f32,
    chord: Chord,
    style: BedStyle,
}

impl Synth {
    fn final_hit(&mut self, at: &BarAt) {
        self.kick(at.t0, 1.0);
        self.crash(at.t0, 0.5);
        self.pad(at.t0, at.bar_s, &at.chord.notes, 0.18, 0.01);
        self.bass(at.t0, at.bar_s * 0.9, at.chord.root - 24, 0.45);
    }

    /// The pad under every bar but the last.
    fn bar_pad(&mut self, at: &BarAt, amp: f32) {
        self.pad(at.t0, at.bar_s, &at.chord.notes, amp, 0.25);
    }

    /// Full drums (a crash every four bars) and a driving bass.
    fn peak_bar(&mut self, at: &BarAt, into_peak: usize) {
        self.bar_pad(at, 0.16);
        let beat = at.beat;
        if into_peak % 4 == 0 {
            self.crash(at.t0, 0.35);
        }
        for b in 0..4 {
            let t = at.t0 + b as f32 * beat;
            match at.style {
                BedStyle::Dark => {
                    if b % 2 == 0 {
                        self.kick(t, 1.0);
                    }
                    if b == 2 {
                        self.snare(t, 0.5);
                    }
                    self.hat(t, 0.10, false);
                }
                _ => {
                    self.kick(t, if b % 2 == 0 { 1.0 } else { 0.75 });
                    if b % 2 == 1 {
                        self.snare(t, 0.55);
                    }
                    self.hat(t, 0.12, false);
                    self.hat(t + beat / 2.0, 0.07, at.style == BedStyle::Bright);
                }
            }
            // Bass on every beat, octave jump on the off-beat eighth.
            self.bass(t, beat * 0.45, at.chord.root - 24, 0.32);
            self.bass(t + beat / 2.0, beat * 0.4, at.chord.root - 12, 0.16);
        }
    }

    /// Kicks and bass getting louder; a snare roll and a riser into the peak.
    fn build_bar(&mut self, at: &BarAt, build: f32, to_peak: usize) {
        self.bar_pad(at, 0.09 + 0.05 * build);
        let beat = at.beat;
        let gain = 0.45 + 0.4 * build;
        for b in 0..4 {
            let t = at.t0 + b as f32 * beat;
            let kick_here = match at.style {
                BedStyle::Gentle | BedStyle::Dark => b % 2 == 0,
                _ => true,
            };
            if kick_here {
                self.kick(t, gain * if b == 0 { 1.0 } else { 0.8 });
            }
            if build > 0.3 && at.style != BedStyle::Gentle {
                self.hat(t, 0.08 * gain, false);
            }
            self.bass(t, beat * 0.8, at.chord.root - 24, 0.2 + 0.1 * build);
        }
        if to_peak == 1 {
            // Snare roll in sixteenths, getting louder, into the peak.
            for k in 0..16 {
                let t = at.t0 + k as f32 * beat / 4.0;
                self.snare(t, 0.12 + 0.35 * k as f32 / 15.0);
            }
        }
        if to_peak <= 2 {
            self.riser(at.t0, at.bar_s, 0.12 * (3 - to_peak) as f32);
        }
    }

    /// A soft pulse on the downbeat and a low root.
    fn intro_bar(&mut self, at: &BarAt) {
        self.bar_pad(at, 0.09);
        self.kick(at.t0, 0.5);
        self.bass(at.t0, at.bar_s * 0.9, at.chord.root - 24, 0.18);
    }
}

struct Synth {
    l: Vec<f32>,
    r: Vec<f32>,
    sr: f32,
    seed: u64,
}

impl Synth {
    fn noise(&mut self) -> f32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 40) as f32 / (1u64 << 23) as f32 * 2.0 - 1.0
    }

    /// Add a mono voice at time `t0`, panned (-1 left … 1 right).
    fn add(&mut self, t0: f32, len_s: f32, pan: f32, mut f: impl FnMut(&mut Self, f32) -> f32) {
        let start = (t0 * self.sr) as usize;
        let n = (len_s * self.sr) as usize;
        let (gl, gr) = ((1.0 - pan).min(1.0), (1.0 + pan).min(1.0));
        for i in 0..n {
            let idx = start + i;
            if idx >= self.l.len() {
                break;
            }
            let v = f(self, i as f32 / self.sr);
            self.l[idx] += v * gl;
            self.r[idx] += v * gr;
        }
    }

    fn kick(&mut self, t0: f32, amp: f32) {
        let mut phase = 0.0f32;
        let sr = self.sr;
        self.add(t0, 0.35, 0.0, |_, t| {
            let f = 45.0 + 110.0 * (-t / 0.035).exp();
            phase += 2.0 * PI * f / sr;
            amp * 0.9 * phase.sin() * (-t / 0.18).exp()
        });
    }

    fn snare(&mut self, t0: f32, amp: f32) {
        let mut prev = 0.0;
        self.add(t0, 0.25, 0.1, |s, t| {
            let n = s.noise();
            let hp = n - prev;
            prev = n;
            amp * (0.5 * hp * (-t / 0.09).exp()
                + 0.5 * (2.0 * PI * 185.0 * t).sin() * (-t / 0.05).exp())
        });
    }

    fn hat(&mut self, t0: f32, amp: f32, open: bool) {
        let decay = if open { 0.12 } else { 0.03 };
        let mut prev = 0.0;
        self.add(t0, decay * 5.0, -0.3, |s, t| {
            let n = s.noise();
            let hp = n - prev;
            prev = n;
            amp * hp * (-t / decay).exp()
        });
    }

    fn crash(&mut self, t0: f32, amp: f32) {
        let mut prev = 0.0;
        for pan in [-0.5, 0.5] {
            self.add(t0, 2.5, pan, |s, t| {
                let n = s.noise();
                let hp = n - prev;
                prev = n;
                amp * 0.5 * hp * (-t / 0.7).exp()
            });
        }
    }

    fn bass(&mut self, t0: f32, dur: f32, midi: i32, amp: f32) {
        let f = midi_hz(midi);
        let mut lp = 0.0f32;
        let sr = self.sr;
        let a = 1.0 - (-2.0 * PI * 400.0 / sr).exp();
        self.add(t0, dur + 0.03, 0.0, |_, t| {
            let saw = 2.0 * (t * f).fract() - 1.0;
            lp += a * (saw - lp);
            let env = (t / 0.005).min(1.0)
                * if t > dur {
                    (1.0 - (t - dur) / 0.03).max(0.0)
                } else {
                    1.0
                };
            amp * lp * env
        });
    }

    fn pad(&mut self, t0: f32, dur: f32, notes: &[i32], amp: f32, attack: f32) {
        let sr = self.sr;
        let a = 1.0 - (-2.0 * PI * 1500.0 / sr).exp();
        for (k, &m) in notes.iter().enumerate() {
            let f = midi_hz(m);
            // Two detuned saws per note, one per side: width without phasing.
            for (pan, det) in [(-0.6f32, 0.997f32), (0.6, 1.003)] {
                let mut lp = 0.0f32;
                let ff = f * det;
                let ph0 = (k as f32 * 0.37 + pan).fract();
                self.add(t0, dur + 0.4, pan, |_, t| {
                    let saw = 2.0 * ((t * ff + ph0).fract()) - 1.0;
                    lp += a * (saw - lp);
                    let env = (t / attack.max(0.005)).min(1.0)
                        * if t > dur {
                            (1.0 - (t - dur) / 0.4).max(0.0)
                        } else {
                            1.0
                        };
                    amp / notes.len() as f32 * lp * env
                });
            }
        }
    }

    /// Noise swell whose brightness rises: the classic pre-drop riser.
    fn riser(&mut self, t0: f32, dur: f32, amp: f32) {
        let sr = self.sr;
        let mut lp = 0.0f32;
        self.add(t0, dur, 0.0, |s, t| {
            let x = (t / dur).clamp(0.0, 1.0);
            let cutoff = 300.0 + 6000.0 * x * x;
            let a = 1.0 - (-2.0 * PI * cutoff / sr).exp();
            lp += a * (s.noise() - lp);
            amp * x * lp
        });
    }

    /// Interleave and normalise to -1 dBFS peak.
    fn finish(self) -> Vec<f32> {
        let peak = self
            .l
            .iter()
            .chain(self.r.iter())
            .fold(0f32, |m, v| m.max(v.abs()));
        let g = if peak > 0.0 { 0.891 / peak } else { 1.0 };
        self.l
            .iter()
            .zip(self.r.iter())
            .flat_map(|(l, r)| [l * g, r * g])
            .collect()
    }
}

fn midi_hz(m: i32) -> f32 {
    440.0 * 2f32.powf((m - 69) as f32 / 12.0)
}

/// Write interleaved f32 samples as 16-bit PCM WAV, atomically: a temp file
/// in the same folder, fsync, rename — a crash never leaves half a file.
pub fn write_wav_atomic(
    path: &Path,
    samples: &[f32],
    sample_rate: u32,
    channels: u16,
) -> Result<(), MusicError> {
    let bytes = crate::media::wav::pcm16(samples, sample_rate, channels);
    crate::workdir::atomic_write(path, &bytes).map_err(|e| MusicError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_puts_peak_on_a_phrase_and_leaves_an_ending() {
        let mut p = BedParams::for_vibe("action", 120.0);
        p.peak_at_s = Some(41.0);
        let l = bed_layout(&p, 60.0);
        assert_eq!(l.bar_s, 2.0);
        assert_eq!(l.bars, 30);
        assert_eq!(l.peak_bar % 4, 0);
        assert_eq!(l.peak_bar, 20);
        // A peak asked for past the end is pulled back before the final bars.
        p.peak_at_s = Some(500.0);
        let l = bed_layout(&p, 60.0);
        assert!(l.peak_bar <= l.bars - 3);
    }

    #[test]
    fn bed_is_stereo_normalised_and_deterministic() {
        let p = BedParams::for_vibe("horror", 90.0);
        let a = synthesize_bed(&p, 20.0, 48_000);
        let b = synthesize_bed(&p, 20.0, 48_000);
        assert_eq!(a, b);
        assert!(a.len() >= 20 * 48_000 * 2);
        let peak = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.891).abs() < 0.01, "peak {peak}");
        // Not mono: left and right differ (panned hats, detuned pad).
        assert!(a.chunks(2).any(|c| (c[0] - c[1]).abs() > 0.01));
    }

    #[test]
    fn wav_header_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        write_wav_atomic(&path, &[0.0, 0.5, -0.5, 1.0], 48_000, 2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(bytes.len(), 44 + 8);
        assert_eq!(
            u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
            48_000
        );
        assert_eq!(i16::from_le_bytes([bytes[46], bytes[47]]), 16384);
    }
}
