//! Beat tracking: onset strength, tempo with explicit octave/3:2 checks,
//! dynamic-programming beat placement, downbeats, energy sections and the peak.
//! Pure functions over a mono signal; no I/O, so everything is unit-testable.

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, OnceLock};

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
    /// Log-mel spectrum, frame-major (`n_mels` values per frame), for
    /// harmonic-change novelty. One flat buffer: no allocation per frame.
    logmel: Vec<f32>,
    n_mels: usize,
    /// Mean power of each windowed frame (linear), for section loudness.
    power: Vec<f32>,
}

impl Features {
    fn frames(&self) -> usize {
        self.onset.len()
    }
}

/// Track tempo, beats, downbeats and sections of a mono signal.
///
/// `tempo_prior_bpm` (the vibe's tempo) only nudges near-ties between metrical
/// levels; the decision itself comes from the audio (see [`choose_level`]).
pub fn track_beats(mono: &[f32], sample_rate: u32, tempo_prior_bpm: Option<f64>) -> BeatGrid {
    track_beats_with(mono, sample_rate, tempo_prior_bpm, &mut |_| {})
}

/// [`track_beats`] that also returns the wall time of each stage in seconds,
/// in order (for the benchmark's breakdown; same work, same result).
pub fn track_beats_profiled(
    mono: &[f32],
    sample_rate: u32,
    tempo_prior_bpm: Option<f64>,
) -> (BeatGrid, Vec<(&'static str, f64)>) {
    let mut stages = vec![];
    let mut last = std::time::Instant::now();
    let grid = track_beats_with(mono, sample_rate, tempo_prior_bpm, &mut |name| {
        let now = std::time::Instant::now();
        stages.push((name, (now - last).as_secs_f64()));
        last = now;
    });
    (grid, stages)
}

/// The pipeline; `lap(stage)` is called as each stage ends.
fn track_beats_with(
    mono: &[f32],
    sample_rate: u32,
    tempo_prior_bpm: Option<f64>,
    lap: &mut dyn FnMut(&'static str),
) -> BeatGrid {
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
    let f = features(mono, sample_rate, lap);
    let period = estimate_period(&f.onset, &f.low_onset, f.fps, tempo_prior_bpm);
    lap("tempo");
    let Some(period) = period else {
        return empty;
    };
    let beat_frames = dp_beats(&f.onset, period);
    lap("dp");
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
    lap("downbeats");
    let (sections, peak_s) = sections(&f, &downbeats, duration_s);
    lap("sections");
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

fn features(mono: &[f32], sample_rate: u32, lap: &mut dyn FnMut(&'static str)) -> Features {
    let sr = sample_rate as f64;
    // ~46 ms window, ~10 ms hop: beat positions to within a few ms, cheap FFTs.
    let n_fft = ((sr * 0.046).round() as usize).next_power_of_two().max(256);
    let hop = ((sr / 100.0).round() as usize).max(1);
    let fps = sr / hop as f64;
    let n_frames = mono.len() / hop + 1;
    let fmax = (sr / 2.0).min(11_000.0);
    let mel = mel_filters(40, n_fft, sr, 30.0, fmax);
    let n_mels = mel.len();
    let low_bands = mel
        .iter()
        .filter(|m| m.first_bin as f64 * sr / n_fft as f64 <= 200.0)
        .count()
        .max(2);

    let window: Vec<f32> = (0..n_fft)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos()) as f32)
        .collect();
    let fft = plan_r2c(n_fft);
    let mut logmel = vec![0f32; n_frames * n_mels];
    let mut power = vec![0f32; n_frames];
    let ctx = StftCtx {
        mono,
        window: &window,
        mel: &mel,
        n_fft,
        hop,
    };
    // The STFT is most of the work; frames are independent, so a few
    // threads share it. They take chunks of frames from a common queue
    // rather than one fixed half each: on a shared machine a thread that
    // loses its core then does fewer chunks instead of holding up the rest.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(n_frames.div_ceil(STFT_CHUNK));
    if threads <= 1 {
        ctx.frames(fft.as_ref(), 0, &mut logmel, &mut power);
    } else {
        let queue = Mutex::new(
            logmel
                .chunks_mut(STFT_CHUNK * n_mels)
                .zip(power.chunks_mut(STFT_CHUNK))
                .enumerate()
                .collect::<Vec<_>>(),
        );
        let work = || loop {
            // A worker that panicked cannot leave a chunk half-taken: pop is
            // the only operation under the lock.
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some((i, (mel_part, pow_part))) = next else {
                break;
            };
            ctx.frames(fft.as_ref(), i * STFT_CHUNK, mel_part, pow_part);
        };
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(work);
            }
            work();
        });
    }
    lap("stft+mel");
    let (onset, low_onset) = superflux(&logmel, n_mels, low_bands, fps);
    lap("onset");
    Features {
        fps,
        onset,
        low_onset,
        logmel,
        n_mels,
        power,
    }
}

/// Forward f32 real FFT plan of length `n`. One planner serves every call,
/// so plans (and their twiddle tables) are built once per length, not once
/// per track.
fn plan_r2c(n: usize) -> Arc<dyn realfft::RealToComplex<f32>> {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f32>>> = OnceLock::new();
    let planner = PLANNER.get_or_init(|| Mutex::new(RealFftPlanner::new()));
    // Plans are inserted whole, so a poisoned lock still holds a usable cache.
    let mut planner = planner.lock().unwrap_or_else(|e| e.into_inner());
    planner.plan_fft_forward(n)
}

/// Forward and inverse f64 real FFT plans of length `n`, cached like
/// [`plan_r2c`].
fn plan_f64(
    n: usize,
) -> (
    Arc<dyn realfft::RealToComplex<f64>>,
    Arc<dyn realfft::ComplexToReal<f64>>,
) {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f64>>> = OnceLock::new();
    let planner = PLANNER.get_or_init(|| Mutex::new(RealFftPlanner::new()));
    let mut planner = planner.lock().unwrap_or_else(|e| e.into_inner());
    (planner.plan_fft_forward(n), planner.plan_fft_inverse(n))
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
    /// Log-mel spectrum and mean power of the frames starting at `first`,
    /// written into `logmel` (`mel.len()` values per frame) and `power`.
    ///
    /// Frames go through the mel filterbank [`MEL_BLOCK`] at a time, with the
    /// block's power spectra stored bin-major: each band is then a sum of
    /// short SIMD rows (one lane per frame) instead of a dot product per frame
    /// whose horizontal add costs more than the multiplies.
    fn frames(
        &self,
        fft: &dyn realfft::RealToComplex<f32>,
        first: usize,
        logmel: &mut [f32],
        power: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { self.frames_avx2(fft, first, logmel, power) };
            return;
        }
        self.frames_portable(fft, first, logmel, power);
    }

    /// [`Self::frames`] compiled for AVX2: the same code and the same
    /// results (Rust never fuses a multiply and an add on its own), with the
    /// window, power, filterbank and log loops eight lanes wide instead of
    /// the baseline x86-64's four.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn frames_avx2(
        &self,
        fft: &dyn realfft::RealToComplex<f32>,
        first: usize,
        logmel: &mut [f32],
        power: &mut [f32],
    ) {
        self.frames_portable(fft, first, logmel, power);
    }

    #[inline(always)]
    fn frames_portable(
        &self,
        fft: &dyn realfft::RealToComplex<f32>,
        first: usize,
        logmel: &mut [f32],
        power: &mut [f32],
    ) {
        const B: usize = MEL_BLOCK;
        let (mono, n_fft, half) = (self.mono, self.n_fft, self.n_fft / 2);
        let n_mels = self.mel.len();
        let mut input = fft.make_input_vec();
        let mut spec = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let mut block = vec![[0f32; B]; spec.len()];
        let n = power.len();
        let mut t0 = 0;
        while t0 < n {
            let count = (n - t0).min(B);
            for j in 0..count {
                // Centred frames: frame t describes time t*hop/sr.
                let start = ((first + t0 + j) * self.hop) as isize - half as isize;
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
                // Windowed energy (a Hann window keeps 3/8 of the power): the
                // same scale for every frame, which is all section loudness
                // needs.
                power[t0 + j] = sum_squares(&input) / (0.375 * n_fft as f32) + 1e-12;
                if fft
                    .process_with_scratch(&mut input, &mut spec, &mut scratch)
                    .is_err()
                {
                    // Buffer lengths come from the plan itself; cannot fail.
                    spec.iter_mut().for_each(|c| *c = Default::default());
                }
                for (p, c) in block.iter_mut().zip(spec.iter()) {
                    p[j] = c.re * c.re + c.im * c.im;
                }
            }
            // Sparse mel filterbank: each band reads only its own bins.
            for (b, m) in self.mel.iter().enumerate() {
                let mut acc = [0f32; B];
                for (&w, p) in m.weights.iter().zip(&block[m.first_bin..]) {
                    for (a, x) in acc.iter_mut().zip(p) {
                        *a += w * x;
                    }
                }
                for (j, a) in acc.iter().take(count).enumerate() {
                    logmel[(t0 + j) * n_mels + b] = *a;
                }
            }
            t0 += count;
        }
        // log(1 + C x): compresses like dB without a -inf floor.
        for v in logmel.iter_mut() {
            *v = ln_ge1(1.0 + 1.0e3 * *v);
        }
    }
}

/// Frames per unit of STFT work shared between threads (~10 s of audio).
const STFT_CHUNK: usize = 1024;

/// Frames per mel-filterbank block (SIMD lanes; see [`StftCtx::frames`]).
const MEL_BLOCK: usize = 8;

/// Sum with eight independent accumulators (see [`sum_squares`]).
#[inline(always)]
fn lane_sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let mut s: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    for v in acc {
        s += v;
    }
    s
}

/// Sum of squares with eight independent accumulators, so the compiler can
/// keep them in SIMD lanes (a single f32 accumulator forces serial adds).
#[inline(always)]
fn sum_squares(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let mut s: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    for v in acc {
        s += v;
    }
    s
}

/// Natural log of `x >= 1` (finite) to ~1e-7 relative error, branch-free so
/// that a loop over a slice vectorises (libm's `ln` does not, and was an
/// eighth of the tracker's time). x = m * 2^e with m in [0.707, 1.414);
/// ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172, by its odd series.
#[inline(always)]
fn ln_ge1(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = s * (2.0 + s2 * (2.0 / 3.0 + s2 * (2.0 / 5.0 + s2 * (2.0 / 7.0))));
    e as f32 * std::f32::consts::LN_2 + series
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
/// `logmel` is frame-major with `n_mels` values per frame. Returns the onset
/// strength of all bands and of the lowest `low` bands (kick and bass), whose
/// max filter stops at band `low - 1`.
fn superflux(logmel: &[f32], n_mels: usize, low: usize, fps: f64) -> (Vec<f32>, Vec<f32>) {
    let n = logmel.len() / n_mels.max(1);
    let low = low.clamp(1, n_mels.max(1));
    let mut flux = vec![0f32; n];
    let mut low_flux = vec![0f32; n];
    let mut reference = vec![0f32; n_mels];
    let mut rise = vec![0f32; n_mels];
    if n_mels >= 2 {
        for t in 1..n {
            let cur = &logmel[t * n_mels..(t + 1) * n_mels];
            let prev = &logmel[(t - 1) * n_mels..t * n_mels];
            // Max over the band and its two neighbours (one at the edges).
            reference[0] = prev[0].max(prev[1]);
            reference[n_mels - 1] = prev[n_mels - 2].max(prev[n_mels - 1]);
            let (left, mid, right) = (&prev[..n_mels - 2], &prev[1..n_mels - 1], &prev[2..]);
            for (((r, a), b), c) in reference[1..n_mels - 1]
                .iter_mut()
                .zip(left)
                .zip(mid)
                .zip(right)
            {
                *r = a.max(*b).max(*c);
            }
            for ((d, c), r) in rise.iter_mut().zip(cur).zip(&reference) {
                *d = (c - r).max(0.0);
            }
            let below = lane_sum(&rise[..low - 1]);
            flux[t] = below + lane_sum(&rise[low - 1..]);
            // The low band's top band has no upper neighbour inside it.
            let top = prev[low - 1].max(prev[low.saturating_sub(2)]);
            low_flux[t] = below + (cur[low - 1] - top).max(0.0);
        }
    }
    (normalise_flux(flux, fps), normalise_flux(low_flux, fps))
}

/// Remove the slowly varying part of a flux curve (sustained noise,
/// crescendos) so the autocorrelation sees pulses, not loudness; then scale
/// to unit RMS.
fn normalise_flux(flux: Vec<f32>, fps: f64) -> Vec<f32> {
    let n = flux.len();
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
    // Zero-padding to n + max_lag is enough for lags up to max_lag to
    // never wrap around.
    let n = (x.len() + max_lag + 1).next_power_of_two();
    let (fwd, inv) = plan_f64(n);
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
    let (peak, low_peak) = (local_peak(onset), local_peak(low_onset));
    let scored: Vec<(f64, f64)> = candidates
        .iter()
        .map(|&p| {
            (
                p,
                (pulse_salience(&low_peak, p) * pulse_salience(&peak, p)).sqrt(),
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

/// Max over ±1 frame, so that rounding a beat grid does not miss a peak.
fn local_peak(onset: &[f32]) -> Vec<f32> {
    let n = onset.len();
    (0..n)
        .map(|i| {
            onset[i.saturating_sub(1)..(i + 2).min(n)]
                .iter()
                .cloned()
                .fold(0.0, f32::max)
        })
        .collect()
}

/// Mean onset strength on the best-phase grid of this period, measured in
/// ~8 s windows (so slow drift does not smear the phase) and averaged.
/// `peak` is the onset strength through [`local_peak`].
fn pulse_salience(peak: &[f32], period: f64) -> f64 {
    let n = peak.len();
    let win = ((period * 16.0).max(800.0) as usize).min(n);
    if win == 0 || period < 1.0 {
        return 0.0;
    }
    let hop = (win / 2).max(1);
    // Grid offsets round(k * period) inside a window, and how many of them
    // each phase keeps (phase + offset < win). A phase's grid is then the
    // window start + phase + these offsets, so every phase can be summed at
    // once, offset by offset, over a contiguous run of frames.
    let offsets: Vec<usize> = (0..)
        .map(|k| (k as f64 * period + 0.5) as usize)
        .take_while(|&o| o < win)
        .collect();
    let phases = period.ceil() as usize;
    let counts: Vec<usize> = (0..phases)
        .map(|ph| offsets.iter().filter(|&&o| o + ph < win).count())
        .collect();
    let mut sums = vec![0f64; phases];
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
            sums.iter_mut().for_each(|s| *s = 0.0);
            for &o in &offsets {
                let len = phases.min(win - o);
                for (s, &p) in sums[..len]
                    .iter_mut()
                    .zip(&peak[start + o..start + o + len])
                {
                    *s += p as f64;
                }
            }
            let mut best = 0.0f64;
            for (s, &k) in sums.iter().zip(&counts) {
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
    let frames = f.frames();
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
    // Log-mel sum over each inter-beat span [beat i, beat i+1), in one pass
    // over the frames; the two-beat spans before and after a beat are sums
    // of two of these.
    let dims = f.n_mels;
    let mut span = vec![0f64; n * dims];
    for i in 0..n - 1 {
        let (a, b) = (idx(beats[i]), idx(beats[i + 1]));
        let acc = &mut span[i * dims..(i + 1) * dims];
        for row in f.logmel[a * dims..b.max(a) * dims].chunks_exact(dims) {
            for (x, v) in acc.iter_mut().zip(row) {
                *x += *v as f64;
            }
        }
    }
    let two_spans = |i: usize| -> Vec<f64> {
        span[i * dims..(i + 1) * dims]
            .iter()
            .zip(&span[(i + 1) * dims..(i + 2) * dims])
            .map(|(a, b)| a + b)
            .collect()
    };
    let novelty: Vec<f64> = (0..n)
        .map(|i| {
            if i < 2 || i + 2 >= n {
                return 0.0;
            }
            1.0 - cosine(&two_spans(i - 2), &two_spans(i))
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
    // Loudness of a span: mean power of its frames, in dB (prefix sums, so
    // each span costs two lookups).
    let mut prefix = Vec::with_capacity(f.power.len() + 1);
    prefix.push(0f64);
    let mut acc = 0f64;
    for &p in &f.power {
        acc += p as f64;
        prefix.push(acc);
    }
    let frames = f.power.len();
    let loud = |a: f64, b: f64| -> f64 {
        let lo = ((a * f.fps) as usize).min(frames - 1);
        let hi = ((b * f.fps) as usize).clamp(lo + 1, frames);
        let p = (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
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
            let on_beat = k % 2 == 0;
            let beat_idx = k / 2;
            // hats on every eighth, quieter off the beat
            let hat_amp = if on_beat { 0.25 } else { 0.15 };
            for i in 0..(0.05 * srf) as usize {
                if s + i < n {
                    x[s + i] += hat_amp * lcg(&mut seed) * (-(i as f32) / (0.01 * srf)).exp();
                }
            }
            if on_beat {
                let kick = beat_idx % 2 == 0;
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
