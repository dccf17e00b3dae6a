//! Beat tracking: onset strength, tempo with explicit octave/3:2 checks,
//! dynamic-programming beat placement, downbeats, energy sections and the peak.
//! Pure functions over a mono signal; no I/O, so everything is unit-testable.

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

/// Sample rate the pipeline should decode music at before calling [`track_beats`]:
/// enough bandwidth for kick, snare and hats, half the work of 44.1 kHz.
pub const ANALYSIS_SR: u32 = 11_025;

/// Slowest and fastest tempo the tracker reports. Wider than any vibe prior so
/// that the 3:2 and 2:1 alternatives of common tempos stay inside the range.
const MIN_BPM: f64 = 50.0;
const MAX_BPM: f64 = 220.0;

/// A faster metrical level wins when its pulse salience is at least this
/// fraction of its parent level's (twice or three times as slow). Salience is the geometric mean of the
/// full-band and the low-band (<200 Hz: kick, bass) phase-aligned pulse
/// strength. Measured: real beat levels against their half tempo score
/// 0.79-0.87 (the four Muldjord songs, synthetic rock drums); an eighth-note
/// subdivision against the beat scores 0.57-0.70, because hats and strums
/// fill the off-beats but the kick and bass do not.
const FASTER_LEVEL_RATIO: f64 = 0.75;

/// One stretch of the track with roughly constant loudness.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Section {
    pub start_s: f64,
    pub end_s: f64,
    /// Loudness relative to the loudest section, 0..=1.
    pub energy: f64,
}

/// Everything the editor needs to cut to a track.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BeatGrid {
    pub bpm: f64,
    pub beats: Vec<f64>,
    pub downbeats: Vec<f64>,
    pub meter: u32,
    pub sections: Vec<Section>,
    /// Start of the climax: the first downbeat of the loudest section.
    pub peak_s: f64,
    pub duration_s: f64,
}

/// Frame-level features shared by every later step.
struct Features {
    fps: f64,
    /// Onset strength (SuperFlux on log-mel), zero-mean-ish, unit std.
    onset: Vec<f32>,
    /// Onset strength of the low mel bands only (kick drum, bass notes).
    low_onset: Vec<f32>,

    /// Log-mel spectrum per frame, for harmonic-change novelty.
    logmel: Vec<Vec<f32>>,
    /// Frame RMS in dBFS.
    rms_db: Vec<f32>,
}

/// Track tempo, beats, downbeats and sections of a mono signal.
///
/// `tempo_prior_bpm` (the vibe's tempo) only nudges near-ties between metrical
/// levels; the decision itself comes from the audio (see [`choose_level`]).
pub fn track_beats(mono: &[f32], sample_rate: u32, tempo_prior_bpm: Option<f64>) -> BeatGrid {
    let sr = sample_rate.max(1) as f64;
    let duration_s = mono.len() as f64 / sr;
    let empty = BeatGrid {
        bpm: 0.0,
        beats: vec![],
        downbeats: vec![],
        meter: 4,
        sections: vec![],
        peak_s: 0.0,
        duration_s,
    };
    // Under ~3 s there is not enough signal for even a slow tempo.
    if duration_s < 3.0 || mono.iter().all(|x| x.abs() < 1e-6) {
        return empty;
    }
    let f = features(mono, sample_rate);
    let Some(period) = estimate_period(&f.onset, &f.low_onset, f.fps, tempo_prior_bpm) else {
        return empty;
    };
    let beat_frames = dp_beats(&f.onset, period);
    if beat_frames.len() < 2 {
        return empty;
    }
    let beats: Vec<f64> = beat_frames
        .iter()
        .map(|&b| b / f.fps)
        .filter(|&t| t >= 0.0 && t <= duration_s)
        .collect();
    let (meter, phase) = bar_phase(&f, &beat_frames);
    let downbeats: Vec<f64> = beats
        .iter()
        .enumerate()
        .filter(|(i, _)| i % meter as usize == phase)
        .map(|(_, &t)| t)
        .collect();
    let (sections, peak_s) = sections(&f, &downbeats, duration_s);
    BeatGrid {
        bpm: 60.0 * f.fps / period,
        beats,
        downbeats,
        meter,
        sections,
        peak_s,
        duration_s,
    }
}

fn features(mono: &[f32], sample_rate: u32) -> Features {
    let sr = sample_rate as f64;
    // ~46 ms window, ~10 ms hop: beat positions to within a few ms, cheap FFTs.
    let n_fft = ((sr * 0.046).round() as usize).next_power_of_two().max(256);
    let hop = ((sr / 100.0).round() as usize).max(1);
    let fps = sr / hop as f64;
    let n_frames = mono.len() / hop + 1;
    let fmax = (sr / 2.0).min(11_000.0);
    let mel = mel_filters(40, n_fft, sr, 30.0, fmax);
    let low_bands = mel
        .iter()
        .filter(|m| m.first_bin as f64 * sr / n_fft as f64 <= 200.0)
        .count()
        .max(2);

    let window: Vec<f32> = (0..n_fft)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos()) as f32)
        .collect();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n_fft);
    // The STFT is most of the work; frames are independent, so split them
    // over a few threads (each with its own buffers).
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = n_frames.div_ceil(threads);
    let ctx = StftCtx {
        mono,
        window: &window,
        mel: &mel,
        n_fft,
        hop,
    };
    let parts: Vec<(Vec<Vec<f32>>, Vec<f32>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let fft = fft.clone();
                let ctx = &ctx;
                let range = (i * chunk).min(n_frames)..((i + 1) * chunk).min(n_frames);
                scope.spawn(move || ctx.frames(fft.as_ref(), range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut logmel = Vec::with_capacity(n_frames);
    let mut rms_db = Vec::with_capacity(n_frames);
    for (l, r) in parts {
        logmel.extend(l);
        rms_db.extend(r);
    }

    let onset = superflux(&logmel, 0..mel.len(), fps);
    let low_onset = superflux(&logmel, 0..low_bands, fps);
    Features {
        fps,
        onset,
        low_onset,
        logmel,
        rms_db,
    }
}

/// What each STFT worker thread needs to compute its frames.
struct StftCtx<'a> {
    mono: &'a [f32],
    window: &'a [f32],
    mel: &'a [MelFilter],
    n_fft: usize,
    hop: usize,
}

impl StftCtx<'_> {
    /// Log-mel spectrum and RMS (dBFS) of frames `range`.
    fn frames(
        &self,
        fft: &dyn realfft::RealToComplex<f32>,
        range: std::ops::Range<usize>,
    ) -> (Vec<Vec<f32>>, Vec<f32>) {
        let (mono, n_fft, half) = (self.mono, self.n_fft, self.n_fft / 2);
        let mut input = fft.make_input_vec();
        let mut spec = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let mut power = vec![0f32; n_fft / 2 + 1];
        let mut logmel = Vec::with_capacity(range.len());
        let mut rms_db = Vec::with_capacity(range.len());
        for t in range {
            // Centred frames: frame t describes time t*hop/sr.
            let start = (t * self.hop) as isize - half as isize;
            if start >= 0 && start as usize + n_fft <= mono.len() {
                let src = &mono[start as usize..start as usize + n_fft];
                for ((v, s), w) in input.iter_mut().zip(src).zip(self.window) {
                    *v = s * w;
                }
            } else {
                for (i, v) in input.iter_mut().enumerate() {
                    let idx = start + i as isize;
                    let s = if idx >= 0 && (idx as usize) < mono.len() {
                        mono[idx as usize]
                    } else {
                        0.0
                    };
                    *v = s * self.window[i];
                }
            }
            // Windowed energy (a Hann window keeps 3/8 of the power): the same
            // scale for every frame, which is all section loudness needs.
            let energy: f32 = input.iter().map(|v| v * v).sum();
            rms_db.push(10.0 * (energy / (0.375 * n_fft as f32) + 1e-12).log10());
            if fft
                .process_with_scratch(&mut input, &mut spec, &mut scratch)
                .is_err()
            {
                // Buffer lengths come from the plan itself; cannot fail.
                spec.iter_mut().for_each(|c| *c = Default::default());
            }
            for (p, c) in power.iter_mut().zip(spec.iter()) {
                *p = c.norm_sqr();
            }
            let bands: Vec<f32> = self
                .mel
                .iter()
                .map(|m| {
                    let e: f32 = m
                        .weights
                        .iter()
                        .zip(&power[m.first_bin..])
                        .map(|(w, p)| w * p)
                        .sum();
                    // log(1 + C x): compresses like dB without a -inf floor.
                    (1.0 + 1.0e3 * e).ln()
                })
                .collect();
            logmel.push(bands);
        }
        (logmel, rms_db)
    }
}

struct MelFilter {
    first_bin: usize,
    weights: Vec<f32>,
}

fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

fn mel_filters(n: usize, n_fft: usize, sr: f64, fmin: f64, fmax: f64) -> Vec<MelFilter> {
    let (lo, hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
    let edges: Vec<f64> = (0..n + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n + 1) as f64))
        .collect();
    let bin_hz = sr / n_fft as f64;
    (0..n)
        .map(|b| {
            let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2]);
            let first = (l / bin_hz).floor() as usize;
            let last = ((r / bin_hz).ceil() as usize).min(n_fft / 2);
            let mut weights: Vec<f32> = (first..=last)
                .map(|k| {
                    let f = k as f64 * bin_hz;
                    let w = if f <= c {
                        (f - l) / (c - l)
                    } else {
                        (r - f) / (r - c)
                    };
                    w.max(0.0) as f32
                })
                .collect();
            // Narrow low bands can fall between bins; keep at least the nearest one.
            if weights.iter().all(|&w| w == 0.0) {
                weights = vec![1.0];
                return MelFilter {
                    first_bin: ((c / bin_hz).round() as usize).min(n_fft / 2),
                    weights,
                };
            }
            MelFilter {
                first_bin: first,
                weights,
            }
        })
        .collect()
}

/// SuperFlux (Böck & Widmer 2013): positive log-mel difference against a
/// frequency-max-filtered earlier frame, which ignores vibrato and distorted
/// guitar wobble. Then a local-mean high-pass and a unit-std scale.
fn superflux(logmel: &[Vec<f32>], bands: std::ops::Range<usize>, fps: f64) -> Vec<f32> {
    let n = logmel.len();
    let lag = 1;
    let mut flux = vec![0f32; n];
    for t in lag..n {
        let (cur, prev) = (&logmel[t], &logmel[t - lag]);
        let mut s = 0f32;
        for b in bands.clone() {
            let lo = b.saturating_sub(1).max(bands.start);
            let hi = (b + 1).min(bands.end - 1);
            let reference = prev[lo..=hi].iter().cloned().fold(f32::MIN, f32::max);
            s += (cur[b] - reference).max(0.0);
        }
        flux[t] = s;
    }
    // Remove the slowly varying part (sustained noise, crescendos) so the
    // autocorrelation sees pulses, not loudness.
    let w = ((fps * 0.5) as usize).max(1);
    let mean = moving_average(&flux, w);
    let mut out: Vec<f32> = flux
        .iter()
        .zip(mean.iter())
        .map(|(f, m)| (f - m).max(0.0))
        .collect();
    let sd = (out.iter().map(|x| (x * x) as f64).sum::<f64>() / n.max(1) as f64).sqrt();
    if sd > 1e-9 {
        out.iter_mut().for_each(|x| *x /= sd as f32);
    }
    out
}

/// Centred moving average with a half-width of `w` samples.
fn moving_average(x: &[f32], w: usize) -> Vec<f32> {
    let mut prefix = vec![0f64; x.len() + 1];
    for (i, v) in x.iter().enumerate() {
        prefix[i + 1] = prefix[i] + *v as f64;
    }
    (0..x.len())
        .map(|i| {
            let lo = i.saturating_sub(w);
            let hi = (i + w + 1).min(x.len());
            ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

/// Autocorrelation for lags 0..max_lag via FFT, normalised by overlap length.
fn autocorrelation(x: &[f32], max_lag: usize) -> Vec<f64> {
    let n = (x.len() * 2).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut buf = fwd.make_input_vec();
    for (b, v) in buf.iter_mut().zip(x.iter()) {
        *b = *v as f64;
    }
    let mut spec = fwd.make_output_vec();
    if fwd.process(&mut buf, &mut spec).is_err() {
        return vec![0.0; max_lag + 1];
    }
    for c in spec.iter_mut() {
        *c = realfft::num_complex::Complex::new(c.norm_sqr(), 0.0);
    }
    let mut out = inv.make_output_vec();
    if inv.process(&mut spec, &mut out).is_err() {
        return vec![0.0; max_lag + 1];
    }
    (0..=max_lag.min(x.len().saturating_sub(1)))
        .map(|l| out[l] / (n as f64 * (x.len() - l) as f64))
        .collect()
}

/// Linear interpolation into a lag-indexed curve; 0 outside it.
fn interp(a: &[f64], x: f64) -> f64 {
    if x < 0.0 {
        return 0.0;
    }
    let i = x.floor() as usize;
    if i + 1 >= a.len() {
        return 0.0;
    }
    let f = x - i as f64;
    a[i] * (1.0 - f) + a[i + 1] * f
}

/// Beat period in frames, or None when the signal has no pulse at all.
///
/// 1. A harmonic comb over the onset autocorrelation finds the strongest
///    periodicity family (the pulse and its multiples).
/// 2. That family's members (x1/2, x1/3, x2/3, x3/2, x2, x3) are refined to
///    sub-frame precision and each is scored by its phase-aligned pulse
///    salience — how strong the onsets are *on* a grid of that period, in
///    the full band and in the kick/bass band.
/// 3. [`choose_level`] picks the level: a faster level only wins when its
///    pulses are nearly as strong as the slower one's, which is what separates
///    a real beat (every pulse strong) from a subdivision (every other weak).
fn estimate_period(
    onset: &[f32],
    low_onset: &[f32],
    fps: f64,
    prior_bpm: Option<f64>,
) -> Option<f64> {
    let min_lag = 60.0 * fps / MAX_BPM;
    let max_lag = 60.0 * fps / MIN_BPM;
    // Lightly smooth so that ±1-frame jitter does not split ACF peaks.
    let smooth = gaussian_smooth(onset, 1.0);
    let acf = autocorrelation(&smooth, (max_lag * 8.0) as usize + 4);
    if acf.first().copied().unwrap_or(0.0) <= 1e-12 {
        return None;
    }
    let comb = |lag: f64| -> f64 {
        (1..=4)
            .map(|k| interp(&acf, lag * k as f64) / (k as f64).sqrt())
            .sum::<f64>()
    };
    // Coarse search on a 0.5 % log grid.
    let mut best = (0.0, f64::MIN);
    let mut lag = min_lag;
    while lag <= max_lag {
        let s = comb(lag);
        if s > best.1 {
            best = (lag, s);
        }
        lag *= 1.005;
    }
    if best.1 <= 0.0 {
        return None;
    }
    let base = best.0;
    let mut candidates: Vec<f64> = [1.0, 0.5, 2.0, 1.5, 2.0 / 3.0, 3.0, 1.0 / 3.0, 4.0, 0.25]
        .iter()
        .map(|m| base * m)
        .filter(|&l| l >= min_lag * 0.98 && l <= max_lag * 1.02)
        .map(|l| refine_period(&acf, l))
        .collect();
    candidates.dedup_by(|a, b| (*a / *b - 1.0).abs() < 0.02);
    let scored: Vec<(f64, f64)> = candidates
        .iter()
        .map(|&p| {
            (
                p,
                (pulse_salience(low_onset, p) * pulse_salience(onset, p)).sqrt(),
            )
        })
        .collect();
    choose_level(&scored, fps, prior_bpm)
}

/// Pick a metrical level from (period, salience) pairs. Start at the most
/// salient level (often the half-note or bar level) and walk down the
/// metrical tree: move to the level twice (or three times) as fast while its
/// salience is at least [`FASTER_LEVEL_RATIO`] of the current one's — a
/// real beat keeps nearly all the strength of its parent level, a
/// subdivision does not. A tempo prior only tilts saliences by up to ±1 %, so
/// it settles near-ties and nothing else.
fn choose_level(scored: &[(f64, f64)], fps: f64, prior_bpm: Option<f64>) -> Option<f64> {
    let weighted: Vec<(f64, f64)> = scored
        .iter()
        .map(|&(p, s)| {
            let w = match prior_bpm {
                Some(prior) if prior > 0.0 => {
                    let bpm = 60.0 * fps / p;
                    1.01 - 0.02 * (bpm / prior).log2().abs().min(1.0)
                }
                _ => 1.0,
            };
            (p, s * w)
        })
        .collect();
    let mut cur = *weighted.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    loop {
        let child = weighted
            .iter()
            .filter(|(p, _)| {
                [2.0, 3.0]
                    .iter()
                    .any(|d| (p * d / cur.0 - 1.0).abs() < 0.03)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match child {
            Some(&c) if c.1 >= FASTER_LEVEL_RATIO * cur.1 => cur = c,
            _ => return Some(cur.0),
        }
    }
}

/// Sub-frame period: maximise the ACF summed over the first eight multiples,
/// so a 0.1-frame error does not grow into a beat of drift over a song.
fn refine_period(acf: &[f64], lag: f64) -> f64 {
    let mut best = (lag, f64::MIN);
    let steps = 200;
    for i in 0..=steps {
        let l = lag * (0.97 + 0.06 * i as f64 / steps as f64);
        let s: f64 = (1..=8).map(|k| interp(acf, l * k as f64)).sum();
        if s > best.1 {
            best = (l, s);
        }
    }
    best.0
}

/// Mean onset strength on the best-phase grid of this period, measured in
/// ~8 s windows (so slow drift does not smear the phase) and averaged.
fn pulse_salience(onset: &[f32], period: f64) -> f64 {
    let n = onset.len();
    let win = ((period * 16.0).max(800.0) as usize).min(n);
    if win == 0 || period < 1.0 {
        return 0.0;
    }
    let hop = (win / 2).max(1);
    // Max over ±1 frame so that rounding the grid does not miss a peak.
    let peak: Vec<f32> = (0..n)
        .map(|i| {
            onset[i.saturating_sub(1)..(i + 2).min(n)]
                .iter()
                .cloned()
                .fold(0.0, f32::max)
        })
        .collect();
    let mut total = 0.0;
    let mut count = 0;
    let mut start = 0;
    while start + win <= n {
        let mean_all: f64 = peak[start..start + win]
            .iter()
            .map(|&x| x as f64)
            .sum::<f64>()
            / win as f64;
        if mean_all > 1e-6 {
            let mut best = 0.0f64;
            let phases = period.ceil() as usize;
            for ph in 0..phases {
                let mut s = 0.0;
                let mut k = 0;
                loop {
                    let pos = start as f64 + ph as f64 + k as f64 * period;
                    let idx = pos.round() as usize;
                    if idx >= start + win {
                        break;
                    }
                    s += peak[idx] as f64;
                    k += 1;
                }
                if k > 0 {
                    best = best.max(s / k as f64);
                }
            }
            total += best / mean_all;
            count += 1;
        }
        start += hop;
    }
    if count == 0 {
        0.0
    } else {
        total / count as f64
    }
}

fn gaussian_smooth(x: &[f32], sigma: f64) -> Vec<f32> {
    let r = (sigma * 3.0).ceil() as isize;
    let k: Vec<f64> = (-r..=r)
        .map(|i| (-0.5 * (i as f64 / sigma).powi(2)).exp())
        .collect();
    let norm: f64 = k.iter().sum();
    (0..x.len() as isize)
        .map(|i| {
            let mut s = 0.0;
            for (j, w) in k.iter().enumerate() {
                let idx = i + j as isize - r;
                if idx >= 0 && (idx as usize) < x.len() {
                    s += w * x[idx as usize] as f64;
                }
            }
            (s / norm) as f32
        })
        .collect()
}

/// Ellis (2007) dynamic programming: each beat = onset strength here plus the
/// best earlier beat, penalised by the squared log deviation of the interval
/// from the period. Returns beat positions in (fractional) frames.
fn dp_beats(onset: &[f32], period: f64) -> Vec<f64> {
    let n = onset.len();
    // Local score: onsets smeared by a narrow Gaussian, as in Ellis' paper.
    let local = gaussian_smooth(onset, (period / 32.0).max(0.5));
    let tightness = 400.0;
    let lo = (period / 2.0).round().max(1.0) as usize;
    let hi = (period * 2.0).round() as usize;
    let penalty: Vec<f64> = (0..=hi)
        .map(|d| {
            if d < lo {
                f64::NEG_INFINITY
            } else {
                -tightness * ((d as f64 / period).ln()).powi(2)
            }
        })
        .collect();
    let mut cum = vec![0f64; n];
    let mut back = vec![usize::MAX; n];
    for t in 0..n {
        let mut best = f64::NEG_INFINITY;
        let mut arg = usize::MAX;
        if t >= lo {
            let start = t.saturating_sub(hi);
            for tau in start..=t - lo {
                let v = cum[tau] + penalty[t - tau];
                if v > best {
                    best = v;
                    arg = tau;
                }
            }
        }
        if arg == usize::MAX || best < 0.0 {
            // Start a new chain: nothing earlier helps.
            cum[t] = local[t] as f64;
            back[t] = if arg == usize::MAX { usize::MAX } else { arg };
            if best < 0.0 {
                back[t] = usize::MAX;
            }
        } else {
            cum[t] = local[t] as f64 + best;
            back[t] = arg;
        }
    }
    // End on the best-scoring frame within the last period, so trailing
    // silence does not hide the final beats.
    let tail_start = n.saturating_sub(period.ceil() as usize + 1);
    let mut end = tail_start;
    for t in tail_start..n {
        if cum[t] > cum[end] {
            end = t;
        }
    }
    let mut beats = vec![];
    let mut t = end;
    loop {
        beats.push(t as f64);
        if back[t] == usize::MAX {
            break;
        }
        t = back[t];
    }
    beats.reverse();
    // The chain cannot start before the first onset; extend the grid back to
    // the start of the audio at the local period so intros keep their beats.
    if let Some(&first) = beats.first() {
        let p = if beats.len() > 4 {
            (beats[4] - beats[0]) / 4.0
        } else {
            period
        };
        let mut x = first - p;
        let mut pre = vec![];
        while x >= 0.0 {
            pre.push(x);
            x -= p;
        }
        pre.reverse();
        pre.extend(beats);
        beats = pre;
    }
    beats
}

/// Meter (3 or 4) and which beat index (mod meter) is the downbeat.
///
/// Downbeats carry the kick drum and the chord changes, so each beat gets a
/// score from low-band onset strength plus harmonic change (cosine distance
/// of the log-mel spectrum before and after it); the phase whose beats score
/// highest is the bar phase. 3/4 must clearly beat 4/4 to be chosen.
fn bar_phase(f: &Features, beats: &[f64]) -> (u32, usize) {
    let n = beats.len();
    if n < 8 {
        return (4, 0);
    }
    let frames = f.onset.len();
    let idx = |b: f64| (b.round().max(0.0) as usize).min(frames - 1);
    let low: Vec<f64> = beats
        .iter()
        .map(|&b| {
            let i = idx(b);
            f.low_onset[i.saturating_sub(2)..(i + 3).min(frames)]
                .iter()
                .cloned()
                .fold(0.0, f32::max) as f64
        })
        .collect();
    let seg_mean = |a: usize, b: usize| -> Vec<f64> {
        let (a, b) = (a.min(frames - 1), b.min(frames).max(a.min(frames - 1) + 1));
        let dims = f.logmel[0].len();
        let mut m = vec![0f64; dims];
        for row in &f.logmel[a..b] {
            for (x, v) in m.iter_mut().zip(row) {
                *x += *v as f64;
            }
        }
        m
    };
    let novelty: Vec<f64> = (0..n)
        .map(|i| {
            if i < 2 || i + 2 >= n {
                return 0.0;
            }
            let before = seg_mean(idx(beats[i - 2]), idx(beats[i]));
            let after = seg_mean(idx(beats[i]), idx(beats[i + 2]));
            1.0 - cosine(&before, &after)
        })
        .collect();
    let score: Vec<f64> = zscore(&low)
        .iter()
        .zip(zscore(&novelty))
        .map(|(a, b)| a + b)
        .collect();
    let strength = |m: usize| -> (f64, usize) {
        let mut best = (f64::MIN, 0);
        for p in 0..m {
            let vals: Vec<f64> = score.iter().skip(p).step_by(m).cloned().collect();
            let mean = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
            if mean > best.0 {
                best = (mean, p);
            }
        }
        best
    };
    let (s4, p4) = strength(4);
    let (s3, p3) = strength(3);
    if s3 > 1.5 * s4.max(0.05) {
        (3, p3)
    } else {
        (4, p4)
    }
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na * nb <= 1e-12 {
        1.0
    } else {
        dot / (na * nb)
    }
}

fn zscore(x: &[f64]) -> Vec<f64> {
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    x.iter()
        .map(|v| if sd > 1e-9 { (v - mean) / sd } else { 0.0 })
        .collect()
}

/// Split the track into sections of whole 4-bar phrases with similar
/// loudness, and find the peak: the start of the loudest section (ties go to
/// the one with the biggest jump into it — the drop after a build).
fn sections(f: &Features, downbeats: &[f64], duration_s: f64) -> (Vec<Section>, f64) {
    // Phrase boundaries: every 4th downbeat, plus the start and end.
    let mut bounds: Vec<f64> = vec![0.0];
    for (i, &d) in downbeats.iter().enumerate() {
        if i % 4 == 0 && d > 0.5 {
            bounds.push(d);
        }
    }
    if duration_s - bounds.last().copied().unwrap_or(0.0) > 1.0 {
        bounds.push(duration_s);
    } else if let Some(last) = bounds.last_mut() {
        *last = duration_s;
    }
    if bounds.len() < 2 {
        return (
            vec![Section {
                start_s: 0.0,
                end_s: duration_s,
                energy: 1.0,
            }],
            0.0,
        );
    }
    // Loudness of a span: mean power of its frames, in dB.
    let loud = |a: f64, b: f64| -> f64 {
        let lo = ((a * f.fps) as usize).min(f.rms_db.len() - 1);
        let hi = ((b * f.fps) as usize).clamp(lo + 1, f.rms_db.len());
        let p: f64 = f.rms_db[lo..hi]
            .iter()
            .map(|&d| 10f64.powf(d as f64 / 10.0))
            .sum::<f64>()
            / (hi - lo) as f64;
        10.0 * (p + 1e-12).log10()
    };
    let phrase_db: Vec<f64> = bounds.windows(2).map(|w| loud(w[0], w[1])).collect();
    // Merge phrases into sections while loudness stays within 3 dB of the
    // running section mean.
    let mut groups: Vec<(usize, usize)> = vec![];
    let mut start = 0;
    for j in 1..=phrase_db.len() {
        let split = j == phrase_db.len() || {
            let mean = phrase_db[start..j].iter().sum::<f64>() / (j - start) as f64;
            (phrase_db[j] - mean).abs() > 3.0
        };
        if split {
            groups.push((start, j));
            start = j;
        }
    }
    let sec_db: Vec<f64> = groups
        .iter()
        .map(|&(a, b)| loud(bounds[a], bounds[b]))
        .collect();
    let max_db = sec_db.iter().cloned().fold(f64::MIN, f64::max);
    let sections: Vec<Section> = groups
        .iter()
        .zip(&sec_db)
        .map(|(&(a, b), &db)| Section {
            start_s: bounds[a],
            end_s: bounds[b],
            energy: 10f64.powf((db - max_db) / 20.0).clamp(0.0, 1.0),
        })
        .collect();
    // Peak: loudest section of at least two phrases if any (a one-phrase
    // blip is a fill, not a climax); ties within 1 dB go to the biggest rise.
    let long: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].1 - groups[i].0 >= 2)
        .collect();
    let pool: Vec<usize> = if long.is_empty() {
        (0..groups.len()).collect()
    } else {
        long
    };
    let top = pool.iter().map(|&i| sec_db[i]).fold(f64::MIN, f64::max);
    let rise = |i: usize| {
        if i == 0 {
            0.0
        } else {
            sec_db[i] - sec_db[i - 1]
        }
    };
    let peak_idx = pool
        .iter()
        .cloned()
        .filter(|&i| sec_db[i] >= top - 1.0)
        .max_by(|&a, &b| rise(a).total_cmp(&rise(b)))
        .unwrap_or(0);
    let peak_s = sections[peak_idx].start_s;
    (sections, peak_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise so tests never flake.
    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    }

    fn click_track(bpm: f64, secs: f64, sr: u32, offset: f64) -> Vec<f32> {
        let n = (secs * sr as f64) as usize;
        let mut x = vec![0f32; n];
        let period = 60.0 / bpm;
        let mut t = offset;
        while t < secs {
            let s = (t * sr as f64) as usize;
            for i in 0..(0.02 * sr as f64) as usize {
                if s + i < n {
                    let env = (-(i as f32) / (0.003 * sr as f32)).exp();
                    x[s + i] +=
                        env * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / sr as f32).sin();
                }
            }
            t += period;
        }
        x
    }

    /// Rock pattern: kick on 1 and 3, snare on 2 and 4, eighth-note hats at
    /// lower level, a bass note per bar — beats are the quarter notes.
    pub(crate) fn drum_track(bpm: f64, secs: f64, sr: u32) -> Vec<f32> {
        let n = (secs * sr as f64) as usize;
        let mut x = vec![0f32; n];
        let beat = 60.0 / bpm;
        let mut seed = 7u64;
        let srf = sr as f32;
        let mut k = 0usize;
        loop {
            let t = k as f64 * beat / 2.0;
            if t >= secs {
                break;
            }
            let s = (t * sr as f64) as usize;
            let on_beat = k.is_multiple_of(2);
            let beat_idx = k / 2;
            // hats on every eighth, quieter off the beat
            let hat_amp = if on_beat { 0.25 } else { 0.15 };
            for i in 0..(0.05 * srf) as usize {
                if s + i < n {
                    x[s + i] += hat_amp * lcg(&mut seed) * (-(i as f32) / (0.01 * srf)).exp();
                }
            }
            if on_beat {
                let kick = beat_idx.is_multiple_of(2);
                for i in 0..(0.25 * srf) as usize {
                    if s + i >= n {
                        break;
                    }
                    let tt = i as f32 / srf;
                    if kick {
                        let f = 50.0 + 100.0 * (-tt / 0.03).exp();
                        x[s + i] +=
                            0.9 * (2.0 * std::f32::consts::PI * f * tt).sin() * (-tt / 0.15).exp();
                    } else {
                        x[s + i] += 0.6 * lcg(&mut seed) * (-tt / 0.06).exp()
                            + 0.5
                                * (2.0 * std::f32::consts::PI * 180.0 * tt).sin()
                                * (-tt / 0.08).exp();
                    }
                }
            }
            k += 1;
        }
        // A bass note per bar that changes with each bar (a chord change):
        // the only thing that marks beat 1 apart from beat 3.
        let bar = 4.0 * beat;
        let notes = [55.0f32, 73.4, 65.4, 49.0];
        let mut b = 0usize;
        while (b as f64) * bar < secs {
            let s = (b as f64 * bar * sr as f64) as usize;
            let len = (bar * 0.95 * sr as f64) as usize;
            for i in 0..len.min(n.saturating_sub(s)) {
                let tt = i as f32 / srf;
                x[s + i] += 0.25
                    * (2.0 * std::f32::consts::PI * notes[b % 4] * tt).sin()
                    * (tt / 0.01).min(1.0);
            }
            b += 1;
        }
        x
    }

    fn f_measure(est: &[f64], truth: &[f64], tol: f64) -> f64 {
        let mut used = vec![false; est.len()];
        let mut hits = 0;
        for &t in truth {
            if let Some((i, _)) = est
                .iter()
                .enumerate()
                .filter(|(i, &e)| !used[*i] && (e - t).abs() <= tol)
                .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()))
            {
                used[i] = true;
                hits += 1;
            }
        }
        if hits == 0 {
            return 0.0;
        }
        let p = hits as f64 / est.len() as f64;
        let r = hits as f64 / truth.len() as f64;
        2.0 * p * r / (p + r)
    }

    #[test]
    fn click_sweep_has_no_octave_or_three_two_errors() {
        let sr = ANALYSIS_SR;
        let mut bpm = 60.0;
        while bpm <= 200.0 {
            let x = click_track(bpm, 30.0, sr, 0.1);
            let g = track_beats(&x, sr, None);
            assert!(
                (g.bpm / bpm - 1.0).abs() < 0.02,
                "clicks at {bpm} BPM tracked as {:.2} BPM",
                g.bpm
            );
            let truth: Vec<f64> = (0..)
                .map(|k| 0.1 + k as f64 * 60.0 / bpm)
                .take_while(|&t| t < 30.0)
                .collect();
            let f = f_measure(&g.beats, &truth, 0.07);
            assert!(f > 0.95, "clicks at {bpm} BPM: F = {f:.3}");
            bpm += 10.0;
        }
    }

    #[test]
    fn drum_sweep_has_no_octave_errors_even_with_a_wrong_prior() {
        let sr = ANALYSIS_SR;
        for bpm in [
            60.0, 72.0, 85.0, 96.0, 110.0, 128.0, 140.0, 155.0, 170.0, 185.0, 200.0,
        ] {
            let x = drum_track(bpm, 30.0, sr);
            // A prior an octave off must not drag the estimate with it.
            for prior in [None, Some(bpm * 2.0), Some(bpm / 2.0)] {
                let g = track_beats(&x, sr, prior);
                assert!(
                    (g.bpm / bpm - 1.0).abs() < 0.02,
                    "drums at {bpm} BPM (prior {prior:?}) tracked as {:.2} BPM",
                    g.bpm
                );
            }
            let g = track_beats(&x, sr, None);
            let truth: Vec<f64> = (0..)
                .map(|k| k as f64 * 60.0 / bpm)
                .take_while(|&t| t < 30.0)
                .collect();
            let f = f_measure(&g.beats, &truth, 0.07);
            assert!(f > 0.95, "drums at {bpm} BPM: F = {f:.3}");
            // Downbeats: the kick bars start at beat 0, so every downbeat is a
            // multiple of four beats.
            let bar = 4.0 * 60.0 / bpm;
            let ok = g
                .downbeats
                .iter()
                .filter(|&&d| ((d / bar).round() * bar - d).abs() < 0.07)
                .count();
            assert!(
                ok * 10 >= g.downbeats.len() * 9,
                "drums at {bpm} BPM: only {ok}/{} downbeats on the bar",
                g.downbeats.len()
            );
        }
    }

    #[test]
    fn silence_and_tiny_input_give_an_empty_grid() {
        let g = track_beats(&vec![0.0; 22050 * 10], 22050, None);
        assert!(g.beats.is_empty());
        assert_eq!(g.bpm, 0.0);
        let g = track_beats(&[0.5; 100], 22050, Some(120.0));
        assert!(g.beats.is_empty());
    }

    #[test]
    fn louder_second_half_is_the_peak() {
        let sr = ANALYSIS_SR;
        let mut x = drum_track(120.0, 64.0, sr);
        let half = x.len() / 2;
        x[..half].iter_mut().for_each(|v| *v *= 0.15);
        let g = track_beats(&x, sr, None);
        assert!(
            (g.peak_s - 32.0).abs() < 2.1,
            "peak at {:.2}s, sections {:?}",
            g.peak_s,
            g.sections
        );
        assert!(g.sections.len() >= 2);
        let last = g.sections.last().unwrap();
        assert!((last.energy - 1.0).abs() < 1e-9);
        assert!(g.sections[0].energy < 0.4);
    }
}
