//! The arithmetic of the own forward: the matmuls of a [`Linear`] layer (f32
//! through the `gemm` crate, or bf16 products summed in f32 by the AVX-512 BF16
//! kernel of `bf16.rs`), attention, LayerNorm, GELU and softmax as single
//! vectorised passes. The instruction set is chosen at run time, per CPU, so
//! one binary runs everywhere and uses AVX-512 where it is there.

use super::{Precision, DIM, HEAD_DIM};

#[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
mod bf16;

/// Whether this CPU runs the bf16 matmul kernel (AVX-512 F/BW/VL + BF16).
pub fn bf16_supported() -> bool {
    #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(all(target_arch = "x86_64", cinecut_avx512bf16)))]
    {
        false
    }
}

/// A PyTorch `Linear`: `w` is [n][k] (out, in), `y = x wᵀ + b`.
pub(super) struct Linear {
    w: Vec<f32>,
    b: Vec<f32>,
    n: usize,
    k: usize,
    /// `w` rounded to bf16 and laid out for the bf16 kernel, where the CPU has one.
    #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
    packed: Option<bf16::PackedB>,
}

impl Linear {
    pub(super) fn new(w: Vec<f32>, b: Vec<f32>, n: usize, k: usize) -> Self {
        #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
        let packed = if bf16_supported() {
            bf16::PackedB::new(&w, n, k)
        } else {
            None
        };
        Linear {
            w,
            b,
            n,
            k,
            #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
            packed,
        }
    }

    /// `out[m][n] = x[m][k] wᵀ + b (+ add)`: bias and residual are written first and the
    /// matmul accumulates onto them, so neither costs a pass of its own.
    pub(super) fn forward(
        &self,
        x: &[f32],
        m: usize,
        add: Option<&[f32]>,
        out: &mut [f32],
        precision: Precision,
        scratch: &mut Vec<u16>,
    ) {
        let (n, k) = (self.n, self.k);
        let out = &mut out[..m * n];
        let x = &x[..m * k];
        match add {
            Some(add) => {
                for (o, a) in out.chunks_exact_mut(n).zip(add.chunks_exact(n)) {
                    for ((o, a), b) in o.iter_mut().zip(a).zip(&self.b) {
                        *o = a + b;
                    }
                }
            }
            None => {
                for o in out.chunks_exact_mut(n) {
                    o.copy_from_slice(&self.b);
                }
            }
        }
        #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
        if let (Precision::Bf16, Some(packed)) = (precision, &self.packed) {
            scratch.resize(m * k, 0);
            bf16::convert(x, scratch);
            packed.gemm(scratch, m, out);
            return;
        }
        let _ = (precision, scratch);
        // SAFETY: the strides describe x as [m][k] and out as [m][n] row-major and w as
        // [n][k] read transposed; the slices above are exactly that long.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                true,
                x.as_ptr(),
                1,
                k as isize,
                self.w.as_ptr(),
                k as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// Self-attention of one text: the `n` tokens from row `start` of `qkv`, all heads,
/// softmax(q kᵀ·scale) v written into `ctx`. No mask: a pack holds no padding.
/// Per head, kᵀ is copied once into rows padded to 16, so a query's scores are 16 keys
/// at a time of plain vector FMAs and its context one [f32; HEAD_DIM] accumulator, both
/// held in registers: no horizontal sums, and none of a general matmul's set-up for
/// these tiny shapes.
#[inline(always)]
fn attention_body(
    qkv: &[f32],
    ctx: &mut [f32],
    start: usize,
    n: usize,
    scale: f32,
    kt: &mut Vec<f32>,
    scores: &mut Vec<f32>,
) {
    const D: usize = DIM;
    let np = n.div_ceil(16) * 16;
    kt.clear();
    kt.resize(HEAD_DIM * np, 0.0);
    scores.clear();
    scores.resize(np, 0.0);
    let rows = &qkv[start * 3 * D..(start + n) * 3 * D];
    let out = &mut ctx[start * D..(start + n) * D];
    for col in (0..D).step_by(HEAD_DIM) {
        for (j, row) in rows.chunks_exact(3 * D).enumerate() {
            for (d, &v) in row[D + col..D + col + HEAD_DIM].iter().enumerate() {
                kt[d * np + j] = v;
            }
        }
        for (row, o) in rows.chunks_exact(3 * D).zip(out.chunks_exact_mut(D)) {
            let mut q = [0f32; HEAD_DIM];
            for (q, v) in q.iter_mut().zip(&row[col..col + HEAD_DIM]) {
                *q = v * scale;
            }
            for (b, block) in scores.chunks_exact_mut(16).enumerate() {
                // Four partial sums over the head's columns: four independent add
                // chains instead of one 32 long.
                let mut acc = [[0f32; 16]; 4];
                for (qs, ks) in q.chunks_exact(4).zip(kt.chunks_exact(4 * np)) {
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let k = &ks[r * np + b * 16..r * np + b * 16 + 16];
                        for (a, k) in acc.iter_mut().zip(k) {
                            *a += qs[r] * k;
                        }
                    }
                }
                for (i, v) in block.iter_mut().enumerate() {
                    *v = (acc[0][i] + acc[1][i]) + (acc[2][i] + acc[3][i]);
                }
            }
            softmax_body(&mut scores[..n]);
            // Even and odd keys in two accumulators: two independent add chains.
            let (mut even, mut odd) = ([0f32; HEAD_DIM], [0f32; HEAD_DIM]);
            let values = |j: usize| &rows[j * 3 * D + 2 * D + col..][..HEAD_DIM];
            let probs = &scores[..n];
            let pairs = probs.chunks_exact(2);
            if let [p] = pairs.remainder() {
                for (a, v) in even.iter_mut().zip(values(n - 1)) {
                    *a += p * v;
                }
            }
            for (j, pp) in pairs.enumerate() {
                let (v0, v1) = (values(2 * j), values(2 * j + 1));
                for ((a, b), (x, y)) in even.iter_mut().zip(&mut odd).zip(v0.iter().zip(v1)) {
                    *a += pp[0] * x;
                    *b += pp[1] * y;
                }
            }
            for ((o, a), b) in o[col..col + HEAD_DIM].iter_mut().zip(&even).zip(&odd) {
                *o = a + b;
            }
        }
    }
}

/// Defines `$name` that runs the `#[inline(always)]` body `$generic` compiled for
/// AVX-512 or AVX2+FMA when the CPU has them, so the plain loops below vectorise.
macro_rules! simd_dispatch {
    ($name:ident, $generic:ident, ($($a:ident : $t:ty),* $(,)?)) => {
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name($($a: $t),*) {
            // AVX-512 target features need Rust 1.89 (see build.rs).
            #[cfg(all(target_arch = "x86_64", cinecut_avx512bf16))]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn v4($($a: $t),*) { $generic($($a),*) }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features v4 is compiled for.
                    return unsafe { v4($($a),*) };
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v3($($a: $t),*) { $generic($($a),*) }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features v3 is compiled for.
                    return unsafe { v3($($a),*) };
                }
            }
            $generic($($a),*)
        }
    };
}

simd_dispatch!(layer_norm, layer_norm_body, (x: &mut [f32], g: &[f32], b: &[f32], eps: f32));
simd_dispatch!(
    attention,
    attention_body,
    (
        qkv: &[f32],
        ctx: &mut [f32],
        start: usize,
        n: usize,
        scale: f32,
        kt: &mut Vec<f32>,
        scores: &mut Vec<f32>
    )
);
simd_dispatch!(gelu, gelu_body, (x: &mut [f32]));

/// Sum with 16 independent partial sums, which the compiler keeps in one vector.
#[inline(always)]
fn sum16(v: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let chunks = v.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + rest
}

#[inline(always)]
fn layer_norm_body(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let d = g.len();
    for r in x.chunks_exact_mut(d) {
        let mean = sum16(r) / d as f32;
        let mut acc = [0f32; 16];
        let chunks = r.chunks_exact(16);
        let mut rest = 0f32;
        for v in chunks.remainder() {
            rest += (v - mean) * (v - mean);
        }
        for c in chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += (v - mean) * (v - mean);
            }
        }
        let var = (acc.iter().sum::<f32>() + rest) / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in r.iter_mut().zip(g).zip(b) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// e^x for x ≤ 88 (Cephes' expf: range reduction to [-ln2/2, ln2/2] and a degree-6
/// polynomial, ~1 ulp), branch-free so it vectorises; std's exp is a libm call per value.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * (r * r) + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[inline(always)]
fn softmax_body(row: &mut [f32]) {
    // Lane-wise maxima (f32::max's NaN rules keep the compiler scalar; scores are finite).
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = row.chunks_exact(16);
    let mut max = f32::NEG_INFINITY;
    for &v in chunks.remainder() {
        max = if v > max { v } else { max };
    }
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = if v > *m { v } else { *m };
        }
    }
    for m in lanes {
        max = if m > max { m } else { max };
    }
    for v in row.iter_mut() {
        *v = exp_f32(*v - max);
    }
    let inv = 1.0 / sum16(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// erf(x) to ~1e-7 (the rational approximation Eigen and XLA use for f32), branch-free
/// so it vectorises; beyond ±4 erf is ±1 in f32.
#[inline(always)]
fn erf_f32(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p - 2.101_024e-6;
    p = x2 * p - 5.692_506_4e-5;
    p = x2 * p - 7.349_906_3e-4;
    p = x2 * p - 2.954_6e-3;
    p = x2 * p - 1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
    q = x2 * q - 1.682_827e-3;
    q = x2 * q - 7.373_329e-3;
    q = x2 * q - 1.426_473_9e-2;
    x * p / q
}

/// BERT's exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)).
#[inline(always)]
fn gelu_body(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf_f32(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_math_matches_f64() {
        // erf by its Taylor series in f64 (converges fine for |x| <= 5).
        let erf64 = |x: f64| {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 10.0 {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
                if n > 200.0 {
                    break;
                }
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        for i in -500..=500 {
            let x = i as f32 / 100.0;
            let err = (f64::from(erf_f32(x)) - erf64(f64::from(x))).abs();
            assert!(err < 5e-7, "erf({x}) off by {err}");
        }
        for i in 0..=870 {
            let x = -(i as f32) / 10.0;
            let want = f64::from(x).exp();
            let rel = ((f64::from(exp_f32(x)) - want) / want).abs();
            assert!(rel < 5e-7, "exp({x}) off by {rel}");
        }
        let mut row = vec![1.0f32, 2.0, 3.0, -1.0];
        softmax_body(&mut row);
        let z: f64 = [1.0f64, 2.0, 3.0, -1.0].iter().map(|v| v.exp()).sum();
        assert!((f64::from(row[2]) - 3f64.exp() / z).abs() < 1e-7);
    }
}
