//! Transition sound effects synthesized in Rust (no external assets): whooshes,
//! hits, riser-booms and swells, written as 48 kHz stereo 16-bit WAV files and
//! cached by a hash of their parameters, so the same spec is made only once.

use crate::vibes::Transition;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

pub const SAMPLE_RATE: u32 = 48_000;

/// Bumped whenever the synthesis changes, so old cached files are not reused.
const SYNTH_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SfxKind {
    /// Rising band-passed noise sweep that peaks at the cut.
    WhooshForward,
    /// The forward whoosh reversed: starts at the cut and falls away.
    WhooshBackward,
    /// Low thump with a click transient, for hard and beat cuts.
    Hit,
    /// A rising swell into a boom, for act boundaries.
    RiserBoom,
    /// A soft swell in and out, for crossfades and fades.
    Swell,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SfxSpec {
    pub kind: SfxKind,
    pub duration_s: f64,
    /// Peak level after normalisation, dBFS.
    pub peak_dbfs: f64,
    /// Seed of the noise, so a spec always gives the same samples.
    pub seed: u64,
}

impl SfxSpec {
    /// Where in the file the cut falls, in seconds from its start: the
    /// renderer delays the effect by `cut_time - cut_offset_s()`.
    pub fn cut_offset_s(&self) -> f64 {
        let d = self.duration_s;
        match self.kind {
            SfxKind::WhooshForward => d * WHOOSH_PEAK,
            SfxKind::WhooshBackward => d * (1.0 - WHOOSH_PEAK),
            SfxKind::Hit => 0.0,
            SfxKind::RiserBoom => d * RISER_SHARE,
            SfxKind::Swell => d * 0.5,
        }
    }

    /// The cache key: a hash of every parameter and the synthesis version.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        let json = serde_json::to_string(self).unwrap_or_default();
        h.update(format!("sfx-v{SYNTH_VERSION}-{SAMPLE_RATE}-{json}"));
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn file_name(&self) -> String {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "sfx".into());
        format!("sfx-{kind}-{}.wav", self.key())
    }
}

const WHOOSH_PEAK: f64 = 0.85;
const RISER_SHARE: f64 = 0.7;
const PLAIN_S: f64 = 0.4;
const ACT_BOUNDARY_S: f64 = 1.2;
const PEAK_DBFS: f64 = -6.0;

/// The effect for a transition: about 0.4 s on plain cuts, 1.2 s at act
/// boundaries (where hard and beat cuts get a riser-boom instead of a hit).
pub fn sfx_for(t: Transition, at_act_boundary: bool) -> SfxSpec {
    let kind = match t {
        Transition::WhooshForward => SfxKind::WhooshForward,
        Transition::WhooshBackward => SfxKind::WhooshBackward,
        Transition::HardCut | Transition::BeatCut if at_act_boundary => SfxKind::RiserBoom,
        Transition::HardCut | Transition::BeatCut => SfxKind::Hit,
        Transition::Crossfade | Transition::FadeToBlack | Transition::FadeToWhite => SfxKind::Swell,
    };
    SfxSpec {
        kind,
        duration_s: if at_act_boundary {
            ACT_BOUNDARY_S
        } else {
            PLAIN_S
        },
        peak_dbfs: PEAK_DBFS,
        seed: 0x00C1_7EC7,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SfxError {
    #[error("{}: cannot write the sound effect: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("sound effect duration {0} s is outside 0.05..10 s")]
    Duration(f64),
}

impl From<SfxError> for crate::error::Error {
    fn from(e: SfxError) -> Self {
        match e {
            SfxError::Io { path, source } => crate::error::Error::io(path, source),
            other => crate::error::Error::Internal(other.to_string()),
        }
    }
}

/// Small deterministic noise source (xorshift64*): the same seed gives the same
/// effect on every machine, which the cache relies on.
struct Noise(u64);
impl Noise {
    fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        v as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Topology-preserving state-variable filter (stable at any cutoff), band-pass
/// and low-pass outputs.
#[derive(Default)]
struct Svf {
    ic1: f64,
    ic2: f64,
}
impl Svf {
    fn tick(&mut self, x: f64, cutoff_hz: f64, q: f64) -> (f64, f64) {
        let fc = cutoff_hz.clamp(20.0, SAMPLE_RATE as f64 * 0.45);
        let g = (PI * fc / SAMPLE_RATE as f64).tan();
        let k = 1.0 / q;
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        let v3 = x - self.ic2;
        let v1 = a1 * self.ic1 + a2 * v3;
        let v2 = self.ic2 + a2 * self.ic1 + a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        (v1, v2)
    }
}

fn whoosh_forward(n: usize, noise: &mut Noise) -> Vec<f64> {
    // Two band-passes in series: steeper skirts, so the sweep is heard (and
    // measured) as a moving pitch rather than broadband hiss.
    let (mut f, mut f2) = (Svf::default(), Svf::default());
    let peak = (n as f64 * WHOOSH_PEAK).max(1.0);
    (0..n)
        .map(|i| {
            let x = i as f64 / peak;
            // Exponential sweep 250 Hz → 7 kHz up to the peak, then it holds.
            let fc = 250.0 * (7000.0_f64 / 250.0).powf(x.min(1.0));
            let (bp, _) = f.tick(noise.next(), fc, 1.5);
            let (bp, _) = f2.tick(bp, fc, 1.5);
            // Swells in (x²) to the cut, then a fast 15% release.
            let env = if x <= 1.0 {
                x * x
            } else {
                let r = (i as f64 - peak) / (n as f64 - peak).max(1.0);
                (1.0 - r).max(0.0).powi(2)
            };
            bp * env
        })
        .collect()
}

fn thump(n: usize, start: usize, len_s: f64, noise: &mut Noise) -> Vec<f64> {
    let sr = SAMPLE_RATE as f64;
    let mut out = vec![0.0; n];
    let mut phase = 0.0;
    let mut hp_prev_in = 0.0;
    let mut hp_prev_out = 0.0;
    for (i, o) in out.iter_mut().enumerate().skip(start) {
        let t = (i - start) as f64 / sr;
        // Pitch falls 110 → 45 Hz: a kick-drum-like body.
        let freq = 45.0 + 65.0 * (-t * 30.0).exp();
        phase += 2.0 * PI * freq / sr;
        let body = phase.sin() * (-t / (len_s * 0.35)).exp();
        // Click: 4 ms of high-passed noise at the onset.
        let nz = noise.next();
        let hp = 0.95 * (hp_prev_out + nz - hp_prev_in);
        hp_prev_in = nz;
        hp_prev_out = hp;
        let click = if t < 0.004 {
            hp * (1.0 - t / 0.004)
        } else {
            0.0
        };
        // 1 ms attack so the body does not start with a step.
        let attack = (t / 0.001).min(1.0);
        *o = attack * body + 0.6 * click;
    }
    out
}

fn swell(n: usize, noise: &mut Noise) -> Vec<f64> {
    let sr = SAMPLE_RATE as f64;
    let mut f = Svf::default();
    (0..n)
        .map(|i| {
            let x = i as f64 / n as f64;
            let env = (PI * x).sin().powi(2);
            let t = i as f64 / sr;
            let pad = 0.5 * (2.0 * PI * 220.0 * t).sin() + 0.3 * (2.0 * PI * 330.0 * t).sin();
            let (_, lp) = f.tick(noise.next(), 900.0, 0.7);
            env * (pad + 1.5 * lp)
        })
        .collect()
}

fn riser_boom(n: usize, noise: &mut Noise) -> Vec<f64> {
    let sr = SAMPLE_RATE as f64;
    let rise = ((n as f64) * RISER_SHARE) as usize;
    let mut f = Svf::default();
    let mut phase = 0.0;
    let mut out: Vec<f64> = (0..n)
        .map(|i| {
            if i >= rise {
                return 0.0;
            }
            let x = i as f64 / rise.max(1) as f64;
            let fc = 300.0 * (5000.0_f64 / 300.0).powf(x);
            let (bp, _) = f.tick(noise.next(), fc, 2.0);
            // A rising tone an octave and a half over the riser.
            phase += 2.0 * PI * (110.0 * 2f64.powf(1.5 * x)) / sr;
            x.powi(3) * (bp + 0.25 * phase.sin())
        })
        .collect();
    let boom = thump(n, rise, (n - rise) as f64 / sr, noise);
    for (o, b) in out.iter_mut().zip(boom) {
        *o += 1.4 * b;
    }
    out
}

/// The effect's mono samples, peak-normalised to `spec.peak_dbfs`, with 5 ms
/// fades at both ends so no click is added where it starts or stops.
pub fn synthesize(spec: &SfxSpec) -> Result<Vec<f64>, SfxError> {
    if !(0.05..=10.0).contains(&spec.duration_s) {
        return Err(SfxError::Duration(spec.duration_s));
    }
    let n = (spec.duration_s * SAMPLE_RATE as f64).round() as usize;
    let mut noise = Noise::new(spec.seed);
    let mut s = match spec.kind {
        SfxKind::WhooshForward => whoosh_forward(n, &mut noise),
        SfxKind::WhooshBackward => {
            let mut v = whoosh_forward(n, &mut noise);
            v.reverse();
            v
        }
        SfxKind::Hit => thump(n, 0, spec.duration_s, &mut noise),
        SfxKind::RiserBoom => riser_boom(n, &mut noise),
        SfxKind::Swell => swell(n, &mut noise),
    };
    let edge = (0.005 * SAMPLE_RATE as f64) as usize;
    for i in 0..edge.min(n / 2) {
        let g = i as f64 / edge as f64;
        // The hit starts on its transient: no fade-in there.
        if spec.kind != SfxKind::Hit {
            s[i] *= g;
        }
        s[n - 1 - i] *= g;
    }
    let peak = s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        let gain = 10f64.powf(spec.peak_dbfs.min(0.0) / 20.0) / peak;
        s.iter_mut().for_each(|v| *v *= gain);
    }
    Ok(s)
}

/// The effect's WAV in `cache_dir`, made only if not there yet (written
/// atomically, so a reader never sees half a file).
pub fn render_sfx(spec: &SfxSpec, cache_dir: &Path) -> Result<PathBuf, SfxError> {
    let path = cache_dir.join(spec.file_name());
    if path.is_file() {
        return Ok(path);
    }
    let samples = synthesize(spec)?;
    // Both channels the same.
    let stereo: Vec<f32> = samples.iter().flat_map(|&v| [v as f32, v as f32]).collect();
    let bytes = crate::media::wav::pcm16(&stereo, SAMPLE_RATE, 2);
    crate::workdir::atomic_write(&path, &bytes).map_err(|e| SfxError::Io {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spectral centroid (Hz) of a window, by a plain DFT (no FFT crate needed
    /// for a few test windows).
    fn centroid(x: &[f64]) -> f64 {
        let n = x.len();
        let (mut num, mut den) = (0.0, 0.0);
        for k in 1..n / 2 {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, v) in x.iter().enumerate() {
                let w = 0.5 - 0.5 * (2.0 * PI * j as f64 / n as f64).cos();
                let a = 2.0 * PI * (k * j) as f64 / n as f64;
                re += v * w * a.cos();
                im -= v * w * a.sin();
            }
            let mag = (re * re + im * im).sqrt();
            num += mag * k as f64 * SAMPLE_RATE as f64 / n as f64;
            den += mag;
        }
        num / den
    }

    fn centroids(s: &[f64]) -> (f64, f64) {
        // Windows at 20% and 75% of the sweep (away from the fades).
        let w = 512;
        let at = |f: f64| {
            let i = (s.len() as f64 * f) as usize;
            centroid(&s[i..i + w])
        };
        (at(0.2), at(0.75))
    }

    #[test]
    fn whoosh_centroid_rises_forward_and_falls_backward() {
        let f = synthesize(&sfx_for(Transition::WhooshForward, false)).unwrap();
        let (early, late) = centroids(&f);
        eprintln!("whoosh_forward centroid {early:.0} Hz -> {late:.0} Hz");
        assert!(late > early * 1.5, "forward: {early:.0} Hz -> {late:.0} Hz");
        let b = synthesize(&sfx_for(Transition::WhooshBackward, false)).unwrap();
        let (early, late) = centroids(&b);
        eprintln!("whoosh_backward centroid {early:.0} Hz -> {late:.0} Hz");
        assert!(
            early > late * 1.5,
            "backward: {early:.0} Hz -> {late:.0} Hz"
        );
    }

    #[test]
    fn durations_follow_position() {
        for t in Transition::ALL {
            let plain = sfx_for(t, false);
            let act = sfx_for(t, true);
            assert!((plain.duration_s - 0.4).abs() < 1e-9);
            assert!((1.0..=1.5).contains(&act.duration_s));
            let s = synthesize(&act).unwrap();
            assert_eq!(s.len(), (act.duration_s * 48_000.0).round() as usize);
            assert!((0.0..=act.duration_s).contains(&act.cut_offset_s()));
        }
        assert_eq!(sfx_for(Transition::HardCut, false).kind, SfxKind::Hit);
        assert_eq!(sfx_for(Transition::BeatCut, true).kind, SfxKind::RiserBoom);
        assert_eq!(sfx_for(Transition::Crossfade, false).kind, SfxKind::Swell);
    }

    #[test]
    fn no_nan_no_clipping_peak_at_minus_six() {
        for t in Transition::ALL {
            for b in [false, true] {
                let s = synthesize(&sfx_for(t, b)).unwrap();
                assert!(s.iter().all(|v| v.is_finite()), "{t:?}");
                let peak = s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let db = 20.0 * peak.log10();
                assert!((db + 6.0).abs() < 0.01, "{t:?} peak {db} dBFS");
                // Not silent in the body either.
                let rms = (s.iter().map(|v| v * v).sum::<f64>() / s.len() as f64).sqrt();
                assert!(rms > 0.01, "{t:?} rms {rms}");
            }
        }
    }

    #[test]
    fn deterministic_and_cached() {
        let spec = sfx_for(Transition::WhooshForward, true);
        assert_eq!(synthesize(&spec).unwrap(), synthesize(&spec).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let p1 = render_sfx(&spec, dir.path()).unwrap();
        let bytes = std::fs::read(&p1).unwrap();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2);
        assert_eq!(
            u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]),
            48_000
        );
        assert_eq!(bytes.len(), 44 + 57_600 * 4);
        let m1 = std::fs::metadata(&p1).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let p2 = render_sfx(&spec, dir.path()).unwrap();
        assert_eq!(p1, p2);
        assert_eq!(std::fs::metadata(&p2).unwrap().modified().unwrap(), m1);
        // A different spec is a different file.
        let other = SfxSpec { seed: 7, ..spec };
        assert_ne!(render_sfx(&other, dir.path()).unwrap(), p1);
        // Only the two WAVs, no leftover temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert!(synthesize(&SfxSpec {
            duration_s: 0.0,
            ..spec
        })
        .is_err());
    }
}
