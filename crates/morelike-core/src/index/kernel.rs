//! Dot-product kernels over dense rows, picked once at run time for the CPU
//! at hand (AVX-512, AVX2+FMA, or portable code). The shipped binary runs on
//! any x86-64 and builds on aarch64.
//!
//! The portable kernels are plain Rust over chunks of 16; the x86-64 ones use
//! `std::arch` intrinsics (a benchmark showed they win). Unsafe code is
//! limited to unaligned loads within bounds and to calling a function
//! compiled for a CPU feature after checking that the CPU has it.
#![allow(unsafe_code)]

use std::sync::OnceLock;

use crate::views::LANES;

/// Dot product of a float query with float row values.
pub type DotF32 = fn(&[f32], &[f32]) -> f32;
/// Dot product of a float query with quantized row values.
pub type DotI8 = fn(&[f32], &[i8]) -> f32;

/// The kernels chosen for this CPU.
#[derive(Clone, Copy)]
pub struct Kernels {
    /// Float × float.
    pub f32: DotF32,
    /// Float × i8.
    pub i8: DotI8,
    /// Which instruction set they use.
    pub name: &'static str,
}

/// The kernels for this CPU, chosen on first use.
pub fn kernels() -> &'static Kernels {
    static CHOSEN: OnceLock<Kernels> = OnceLock::new();
    CHOSEN.get_or_init(choose)
}

/// The portable kernels (for tests that compare against the vector ones).
pub fn portable() -> Kernels {
    Kernels {
        f32: dot_f32_portable,
        i8: dot_i8_portable,
        name: "portable",
    }
}

fn choose() -> Kernels {
    available()
        .pop()
        .expect("the portable kernels are always available")
}

/// Every kernel set this CPU can run, the fastest last.
pub fn available() -> Vec<Kernels> {
    let mut sets = vec![portable()];
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            sets.push(Kernels {
                f32: x86::dot_f32_avx2,
                i8: x86::dot_i8_avx2,
                name: "avx2",
            });
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
            {
                sets.push(Kernels {
                    f32: x86::dot_f32_avx512,
                    i8: x86::dot_i8_avx512,
                    name: "avx512",
                });
            }
        }
    }
    sets
}

fn dot_f32_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

fn dot_i8_portable(a: &[f32], b: &[i8]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * f32::from(y[i]);
        }
    }
    acc.iter().sum()
}

/// Hand-written kernels: on the fashion scan (44k rows × 144 dims, i8) the
/// compiler's vectorization of the portable loop took 0.7–0.8 ms against
/// 0.3–0.5 ms for these (see BENCHMARKS.md, "Kernels").
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn f32_avx512(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len()) / 16;
        let mut acc = _mm512_setzero_ps();
        for c in 0..n {
            // SAFETY: c * 16 + 16 <= len of both slices, and loadu has no alignment need.
            let (x, y) = unsafe {
                (
                    _mm512_loadu_ps(a.as_ptr().add(c * 16)),
                    _mm512_loadu_ps(b.as_ptr().add(c * 16)),
                )
            };
            acc = _mm512_fmadd_ps(x, y, acc);
        }
        _mm512_reduce_add_ps(acc)
    }

    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn i8_avx512(a: &[f32], b: &[i8]) -> f32 {
        let n = a.len().min(b.len()) / 16;
        let mut acc = _mm512_setzero_ps();
        for c in 0..n {
            // SAFETY: c * 16 + 16 <= len of both slices (16 floats, 16 bytes), unaligned loads.
            let (x, bytes) = unsafe {
                (
                    _mm512_loadu_ps(a.as_ptr().add(c * 16)),
                    _mm_loadu_si128(b.as_ptr().add(c * 16).cast()),
                )
            };
            let y = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes));
            acc = _mm512_fmadd_ps(x, y, acc);
        }
        _mm512_reduce_add_ps(acc)
    }

    #[target_feature(enable = "avx2,fma")]
    fn sum256(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    #[target_feature(enable = "avx2,fma")]
    fn f32_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len()) / 8;
        let mut acc = _mm256_setzero_ps();
        for c in 0..n {
            // SAFETY: c * 8 + 8 <= len of both slices, unaligned loads.
            let (x, y) = unsafe {
                (
                    _mm256_loadu_ps(a.as_ptr().add(c * 8)),
                    _mm256_loadu_ps(b.as_ptr().add(c * 8)),
                )
            };
            acc = _mm256_fmadd_ps(x, y, acc);
        }
        sum256(acc)
    }

    #[target_feature(enable = "avx2,fma")]
    fn i8_avx2(a: &[f32], b: &[i8]) -> f32 {
        let n = a.len().min(b.len()) / 8;
        let mut acc = _mm256_setzero_ps();
        for c in 0..n {
            // SAFETY: c * 8 + 8 <= len of both slices (8 floats, 8 bytes), unaligned loads.
            let (x, bytes) = unsafe {
                (
                    _mm256_loadu_ps(a.as_ptr().add(c * 8)),
                    _mm_loadl_epi64(b.as_ptr().add(c * 8).cast()),
                )
            };
            let y = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
            acc = _mm256_fmadd_ps(x, y, acc);
        }
        sum256(acc)
    }

    pub(super) fn dot_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: offered only after is_x86_feature_detected! found avx512f, avx512bw and fma.
        unsafe { f32_avx512(a, b) }
    }
    pub(super) fn dot_i8_avx512(a: &[f32], b: &[i8]) -> f32 {
        // SAFETY: as above.
        unsafe { i8_avx512(a, b) }
    }
    pub(super) fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: offered only after is_x86_feature_detected! found avx2 and fma.
        unsafe { f32_avx2(a, b) }
    }
    pub(super) fn dot_i8_avx2(a: &[f32], b: &[i8]) -> f32 {
        // SAFETY: as above.
        unsafe { i8_avx2(a, b) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chosen_kernels_agree_with_the_portable_ones(
            pairs in prop::collection::vec((-1.0f32..1.0, any::<i8>(), -1.0f32..1.0), LANES * 3)
        ) {
            let a: Vec<f32> = pairs.iter().map(|p| p.0).collect();
            let q: Vec<i8> = pairs.iter().map(|p| p.1).collect();
            let b: Vec<f32> = pairs.iter().map(|p| p.2).collect();
            let slow = portable();
            for fast in available() {
                prop_assert!(((fast.f32)(&a, &b) - (slow.f32)(&a, &b)).abs() < 1e-4, "{}", fast.name);
                prop_assert!(((fast.i8)(&a, &q) - (slow.i8)(&a, &q)).abs() < 1e-2, "{}", fast.name);
            }
        }
    }
}
