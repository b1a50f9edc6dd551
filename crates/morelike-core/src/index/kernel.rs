//! Dot-product kernels over dense rows, picked once at run time for the CPU
//! at hand (AVX-512, AVX2+FMA, or portable code). The shipped binary runs on
//! any x86-64 and builds on aarch64.
//!
//! The kernels are plain Rust over chunks of 16 with 16 independent
//! accumulators, which the compiler turns into vector code; the only unsafe
//! code calls a function compiled for a CPU feature after checking that the
//! CPU has it.
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
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw") {
            return Kernels {
                f32: x86::dot_f32_avx512,
                i8: x86::dot_i8_avx512,
                name: "avx512",
            };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Kernels {
                f32: x86::dot_f32_avx2,
                i8: x86::dot_i8_avx2,
                name: "avx2",
            };
        }
    }
    portable()
}

#[inline(always)]
fn dot_f32_body(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] = x[i].mul_add(y[i], acc[i]);
        }
    }
    acc.iter().sum()
}

#[inline(always)]
fn dot_i8_body(a: &[f32], b: &[i8]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] = x[i].mul_add(f32::from(y[i]), acc[i]);
        }
    }
    acc.iter().sum()
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

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{dot_f32_body, dot_i8_body};

    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn f32_avx512(a: &[f32], b: &[f32]) -> f32 {
        dot_f32_body(a, b)
    }
    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn i8_avx512(a: &[f32], b: &[i8]) -> f32 {
        dot_i8_body(a, b)
    }
    #[target_feature(enable = "avx2,fma")]
    fn f32_avx2(a: &[f32], b: &[f32]) -> f32 {
        dot_f32_body(a, b)
    }
    #[target_feature(enable = "avx2,fma")]
    fn i8_avx2(a: &[f32], b: &[i8]) -> f32 {
        dot_i8_body(a, b)
    }

    pub(super) fn dot_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: chosen only after is_x86_feature_detected!("avx512f"/"avx512bw") (fma comes with avx512f).
        unsafe { f32_avx512(a, b) }
    }
    pub(super) fn dot_i8_avx512(a: &[f32], b: &[i8]) -> f32 {
        // SAFETY: as above.
        unsafe { i8_avx512(a, b) }
    }
    pub(super) fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: chosen only after is_x86_feature_detected!("avx2") and ("fma").
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
            let (fast, slow) = (kernels(), portable());
            prop_assert!(((fast.f32)(&a, &b) - (slow.f32)(&a, &b)).abs() < 1e-4);
            prop_assert!(((fast.i8)(&a, &q) - (slow.i8)(&a, &q)).abs() < 1e-2);
        }
    }
}
