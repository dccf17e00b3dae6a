//! The bf16 matmul: `vdpbf16ps` multiplies pairs of bf16 and adds both products into an
//! f32 lane, twice the f32 FMA rate on AVX-512 BF16 CPUs. No crate of the field offers
//! it on stable Rust (gemm's f16/bf16 paths convert to f32 and run the f32 kernel), so
//! this is a plain register-blocked kernel: 8 rows × 48 columns of f32 accumulators,
//! weights pre-packed once so each step reads them contiguously.

// Built only by compilers from 1.89 on (build.rs sets the cfg), so the
// crate's MSRV of 1.85 does not apply here.
#![allow(clippy::incompatible_msrv)]

use std::arch::x86_64::*;

/// Columns per weight panel (3 zmm of 16 f32).
const NR: usize = 48;
/// Rows per kernel call.
const MR: usize = 8;

/// Weights as bf16 panels: [n/NR][k/2][NR][2], i.e. for each k pair the NR columns'
/// two values side by side, as `vdpbf16ps` wants them.
pub(super) struct PackedB {
    k: usize,
    n: usize,
    data: Vec<u16>,
}

/// Round to nearest even, as `vcvtneps2bf16` does.
fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

impl PackedB {
    /// `w` is [n][k]; `None` for shapes the kernel does not tile.
    pub(super) fn new(w: &[f32], n: usize, k: usize) -> Option<Self> {
        if !n.is_multiple_of(NR) || !k.is_multiple_of(2) || w.len() < n * k {
            return None;
        }
        let mut data = Vec::with_capacity(n * k);
        for panel in 0..n / NR {
            for kp in 0..k / 2 {
                for j in 0..NR {
                    let row = &w[(panel * NR + j) * k + 2 * kp..];
                    data.push(to_bf16(row[0]));
                    data.push(to_bf16(row[1]));
                }
            }
        }
        Some(PackedB { k, n, data })
    }

    /// `c[m][n] += a[m][k] · w` with `a` in bf16.
    pub(super) fn gemm(&self, a: &[u16], m: usize, c: &mut [f32]) {
        let (k, n) = (self.k, self.n);
        assert!(a.len() >= m * k && c.len() >= m * n && self.data.len() == n * k);
        assert!(
            super::bf16_supported(),
            "bf16 kernel on a CPU without AVX-512 BF16"
        );
        for panel in 0..n / NR {
            let mut i0 = 0;
            while i0 < m {
                let rows = (m - i0).min(MR);
                // SAFETY: the CPU has the features (asserted above); rows i0..i0+rows
                // of a and c, and columns panel·NR..+NR of c, are in bounds (asserted
                // lengths), and the panel holds k/2·NR pairs.
                unsafe {
                    kernel_rows(
                        rows,
                        k / 2,
                        a.as_ptr().add(i0 * k),
                        k,
                        self.data.as_ptr().add(panel * k * NR),
                        c.as_mut_ptr().add(i0 * n + panel * NR),
                        n,
                    );
                }
                i0 += rows;
            }
        }
    }
}

/// f32 → bf16, round to nearest even.
pub(super) fn convert(x: &[f32], out: &mut [u16]) {
    assert!(out.len() >= x.len());
    assert!(
        super::bf16_supported(),
        "bf16 kernel on a CPU without AVX-512 BF16"
    );
    // SAFETY: features asserted; lengths checked.
    unsafe { convert_avx512(x, out) }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn convert_avx512(x: &[f32], out: &mut [u16]) {
    let whole = x.len() / 16 * 16;
    for i in (0..whole).step_by(16) {
        let v = _mm512_loadu_ps(x.as_ptr().add(i));
        let h: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(v));
        _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, h);
    }
    for i in whole..x.len() {
        out[i] = to_bf16(x[i]);
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn kernel_rows(
    rows: usize,
    k2: usize,
    a: *const u16,
    lda: usize,
    b: *const u16,
    c: *mut f32,
    ldc: usize,
) {
    match rows {
        8 => kernel::<8>(k2, a, lda, b, c, ldc),
        7 => kernel::<7>(k2, a, lda, b, c, ldc),
        6 => kernel::<6>(k2, a, lda, b, c, ldc),
        5 => kernel::<5>(k2, a, lda, b, c, ldc),
        4 => kernel::<4>(k2, a, lda, b, c, ldc),
        3 => kernel::<3>(k2, a, lda, b, c, ldc),
        2 => kernel::<2>(k2, a, lda, b, c, ldc),
        _ => kernel::<1>(k2, a, lda, b, c, ldc),
    }
}

/// R rows × 48 columns: 3R zmm accumulators loaded from c, k2 steps of one
/// broadcast bf16 pair per row against three packed weight vectors, stored back.
#[inline(always)]
unsafe fn kernel<const R: usize>(
    k2: usize,
    a: *const u16,
    lda: usize,
    b: *const u16,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); 3]; R];
    for (i, row) in acc.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = _mm512_loadu_ps(c.add(i * ldc + j * 16));
        }
    }
    for p in 0..k2 {
        let bp = b.add(p * NR * 2);
        let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp as *const __m512i));
        let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(32) as *const __m512i));
        let b2: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(64) as *const __m512i));
        for (i, row) in acc.iter_mut().enumerate() {
            let pair = (a.add(i * lda + 2 * p) as *const u32).read_unaligned();
            let av: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair as i32));
            row[0] = _mm512_dpbf16_ps(row[0], av, b0);
            row[1] = _mm512_dpbf16_ps(row[1], av, b1);
            row[2] = _mm512_dpbf16_ps(row[2], av, b2);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            _mm512_storeu_ps(c.add(i * ldc + j * 16), *v);
        }
    }
}
