//! Dot-product kernels over dense rows, picked once at run time for the CPU
//! at hand (AVX-512, AVX2+FMA, or portable code). The shipped binary runs on
//! any x86-64 and builds on aarch64.
//!
//! The portable kernels are plain Rust over chunks of 16; the x86-64 ones use
//! `std::arch` intrinsics (a benchmark showed they win).
//!
//! The *many* kernels dot one row with up to [`MAX_QUERIES`] queries at
//! once: each chunk of the row is loaded (and converted from i8) once and
//! multiplied into one accumulator per query. The queries come interleaved
//! chunk by chunk (`queries[(c * n + j) * 16..][..16]` is chunk `c` of query
//! `j` of `n`), so they are read in order. Each query's sum is formed in
//! the same order as the one-query kernel of the same set forms it: the
//! results are the same to the bit. Unsafe code is
//! limited to unaligned loads within bounds and to calling a function
//! compiled for a CPU feature after checking that the CPU has it.
#![allow(unsafe_code)]

use std::sync::OnceLock;

use crate::views::LANES;

/// Dot product of a float query with float row values.
pub type DotF32 = fn(&[f32], &[f32]) -> f32;
/// Dot product of a float query with quantized row values.
pub type DotI8 = fn(&[f32], &[i8]) -> f32;

/// Dot products of `out.len()` (1 to [`MAX_QUERIES`]) interleaved float
/// queries with one float row, into `out`.
pub type ManyF32 = fn(&[f32], &[f32], &mut [f32]);
/// Dot products of `out.len()` (1 to [`MAX_QUERIES`]) interleaved float
/// queries with one quantized row, into `out`.
pub type ManyI8 = fn(&[f32], &[i8], &mut [f32]);

/// The most queries one call of a *many* kernel takes (their accumulators
/// stay in registers).
pub const MAX_QUERIES: usize = 8;

/// The kernels chosen for this CPU.
#[derive(Clone, Copy)]
pub struct Kernels {
    /// Float × float.
    pub f32: DotF32,
    /// Float × i8.
    pub i8: DotI8,
    /// Several float queries × one float row.
    pub f32_many: ManyF32,
    /// Several float queries × one i8 row.
    pub i8_many: ManyI8,
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
        f32_many: many_f32_portable,
        i8_many: many_i8_portable,
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
                f32_many: x86::many_f32_avx2,
                i8_many: x86::many_i8_avx2,
                name: "avx2",
            });
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
            {
                sets.push(Kernels {
                    f32: x86::dot_f32_avx512,
                    i8: x86::dot_i8_avx512,
                    f32_many: x86::many_f32_avx512,
                    i8_many: x86::many_i8_avx512,
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

/// Calls `$kernel::<N>` for `N` = the number of queries (`$out.len()`,
/// 1 to [`MAX_QUERIES`]): each width is compiled with its accumulators
/// in an array of known length.
macro_rules! by_width {
    ($kernel:ident, $queries:expr, $row:expr, $out:expr) => {
        match $out.len() {
            1 => $kernel::<1>($queries, $row, $out),
            2 => $kernel::<2>($queries, $row, $out),
            3 => $kernel::<3>($queries, $row, $out),
            4 => $kernel::<4>($queries, $row, $out),
            5 => $kernel::<5>($queries, $row, $out),
            6 => $kernel::<6>($queries, $row, $out),
            7 => $kernel::<7>($queries, $row, $out),
            8 => $kernel::<8>($queries, $row, $out),
            n => panic!("{n} queries in one call: 1 to {MAX_QUERIES} are allowed"),
        }
    };
}

/// How many whole chunks of 16 a row and `N` interleaved queries share.
fn chunks<const N: usize, T>(queries: &[f32], row: &[T]) -> usize {
    (queries.len() / N).min(row.len()) / LANES
}

fn many_f32_portable(queries: &[f32], row: &[f32], out: &mut [f32]) {
    by_width!(many_f32_portable_n, queries, row, out)
}

fn many_f32_portable_n<const N: usize>(queries: &[f32], row: &[f32], out: &mut [f32]) {
    let mut acc = [[0.0f32; LANES]; N];
    for c in 0..chunks::<N, f32>(queries, row) {
        let y = &row[c * LANES..(c + 1) * LANES];
        for (j, acc) in acc.iter_mut().enumerate() {
            let x = &queries[(c * N + j) * LANES..(c * N + j + 1) * LANES];
            for i in 0..LANES {
                acc[i] += x[i] * y[i];
            }
        }
    }
    for (o, acc) in out.iter_mut().zip(&acc) {
        *o = acc.iter().sum();
    }
}

fn many_i8_portable(queries: &[f32], row: &[i8], out: &mut [f32]) {
    by_width!(many_i8_portable_n, queries, row, out)
}

fn many_i8_portable_n<const N: usize>(queries: &[f32], row: &[i8], out: &mut [f32]) {
    let mut acc = [[0.0f32; LANES]; N];
    for c in 0..chunks::<N, i8>(queries, row) {
        let mut y = [0.0f32; LANES];
        for (y, &b) in y.iter_mut().zip(&row[c * LANES..(c + 1) * LANES]) {
            *y = f32::from(b);
        }
        for (j, acc) in acc.iter_mut().enumerate() {
            let x = &queries[(c * N + j) * LANES..(c * N + j + 1) * LANES];
            for i in 0..LANES {
                acc[i] += x[i] * y[i];
            }
        }
    }
    for (o, acc) in out.iter_mut().zip(&acc) {
        *o = acc.iter().sum();
    }
}

/// Hand-written kernels: on the fashion scan (44k rows × 144 dims, i8) the
/// compiler's vectorization of the portable loop took 0.7–0.8 ms against
/// 0.3–0.5 ms for these (see BENCHMARKS.md, "Kernels").
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{chunks, MAX_QUERIES};

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

    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn many_f32_avx512_n<const N: usize>(queries: &[f32], row: &[f32], out: &mut [f32]) {
        let mut acc = [_mm512_setzero_ps(); N];
        for c in 0..chunks::<N, f32>(queries, row) {
            // SAFETY: c * 16 + 16 <= row.len(), unaligned load.
            let y = unsafe { _mm512_loadu_ps(row.as_ptr().add(c * 16)) };
            for (j, acc) in acc.iter_mut().enumerate() {
                // SAFETY: (c * N + j) * 16 + 16 <= queries.len() (c < queries.len() / N / 16).
                let x = unsafe { _mm512_loadu_ps(queries.as_ptr().add((c * N + j) * 16)) };
                *acc = _mm512_fmadd_ps(x, y, *acc);
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            *o = _mm512_reduce_add_ps(acc);
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,fma")]
    fn many_i8_avx512_n<const N: usize>(queries: &[f32], row: &[i8], out: &mut [f32]) {
        let mut acc = [_mm512_setzero_ps(); N];
        for c in 0..chunks::<N, i8>(queries, row) {
            // SAFETY: c * 16 + 16 <= row.len() (16 bytes), unaligned load.
            let bytes = unsafe { _mm_loadu_si128(row.as_ptr().add(c * 16).cast()) };
            let y = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes));
            for (j, acc) in acc.iter_mut().enumerate() {
                // SAFETY: (c * N + j) * 16 + 16 <= queries.len() (c < queries.len() / N / 16).
                let x = unsafe { _mm512_loadu_ps(queries.as_ptr().add((c * N + j) * 16)) };
                *acc = _mm512_fmadd_ps(x, y, *acc);
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            *o = _mm512_reduce_add_ps(acc);
        }
    }

    /// Each chunk of 16 in two halves of 8, low half first: the order
    /// [`f32_avx2`] adds them in.
    #[target_feature(enable = "avx2,fma")]
    fn many_f32_avx2_n<const N: usize>(queries: &[f32], row: &[f32], out: &mut [f32]) {
        let mut acc = [_mm256_setzero_ps(); N];
        for c in 0..chunks::<N, f32>(queries, row) {
            // SAFETY: c * 16 + 16 <= row.len(), unaligned loads.
            let (lo, hi) = unsafe {
                (
                    _mm256_loadu_ps(row.as_ptr().add(c * 16)),
                    _mm256_loadu_ps(row.as_ptr().add(c * 16 + 8)),
                )
            };
            for (j, acc) in acc.iter_mut().enumerate() {
                let at = (c * N + j) * 16;
                // SAFETY: at + 16 <= queries.len() (c < queries.len() / N / 16).
                let (x_lo, x_hi) = unsafe {
                    (
                        _mm256_loadu_ps(queries.as_ptr().add(at)),
                        _mm256_loadu_ps(queries.as_ptr().add(at + 8)),
                    )
                };
                *acc = _mm256_fmadd_ps(x_hi, hi, _mm256_fmadd_ps(x_lo, lo, *acc));
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            *o = sum256(acc);
        }
    }

    /// As [`many_f32_avx2_n`], over i8 rows.
    #[target_feature(enable = "avx2,fma")]
    fn many_i8_avx2_n<const N: usize>(queries: &[f32], row: &[i8], out: &mut [f32]) {
        let mut acc = [_mm256_setzero_ps(); N];
        for c in 0..chunks::<N, i8>(queries, row) {
            // SAFETY: c * 16 + 16 <= row.len() (16 bytes), unaligned load.
            let bytes = unsafe { _mm_loadu_si128(row.as_ptr().add(c * 16).cast()) };
            let lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
            let hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)));
            for (j, acc) in acc.iter_mut().enumerate() {
                let at = (c * N + j) * 16;
                // SAFETY: at + 16 <= queries.len() (c < queries.len() / N / 16).
                let (x_lo, x_hi) = unsafe {
                    (
                        _mm256_loadu_ps(queries.as_ptr().add(at)),
                        _mm256_loadu_ps(queries.as_ptr().add(at + 8)),
                    )
                };
                *acc = _mm256_fmadd_ps(x_hi, hi, _mm256_fmadd_ps(x_lo, lo, *acc));
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            *o = sum256(acc);
        }
    }

    pub(super) fn many_f32_avx512(queries: &[f32], row: &[f32], out: &mut [f32]) {
        // SAFETY: offered only after is_x86_feature_detected! found avx512f, avx512bw and fma.
        unsafe { by_width!(many_f32_avx512_n, queries, row, out) }
    }
    pub(super) fn many_i8_avx512(queries: &[f32], row: &[i8], out: &mut [f32]) {
        // SAFETY: as above.
        unsafe { by_width!(many_i8_avx512_n, queries, row, out) }
    }
    pub(super) fn many_f32_avx2(queries: &[f32], row: &[f32], out: &mut [f32]) {
        // SAFETY: offered only after is_x86_feature_detected! found avx2 and fma.
        unsafe { by_width!(many_f32_avx2_n, queries, row, out) }
    }
    pub(super) fn many_i8_avx2(queries: &[f32], row: &[i8], out: &mut [f32]) {
        // SAFETY: as above.
        unsafe { by_width!(many_i8_avx2_n, queries, row, out) }
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

        #[test]
        fn many_kernels_give_each_query_what_the_one_query_kernel_gives_to_the_bit(
            values in prop::collection::vec(-1.0f32..1.0, LANES * 3 * (MAX_QUERIES + 1)),
            bytes in prop::collection::vec(any::<i8>(), LANES * 3),
            n in 1..=MAX_QUERIES,
        ) {
            let dim = LANES * 3;
            let queries: Vec<&[f32]> = values.chunks(dim).take(n).collect();
            let row = &values[MAX_QUERIES * dim..];
            let interleaved: Vec<f32> = (0..dim / LANES)
                .flat_map(|c| queries.iter().flat_map(move |q| &q[c * LANES..(c + 1) * LANES]))
                .copied()
                .collect();
            for set in available() {
                let mut out = vec![0.0; n];
                (set.f32_many)(&interleaved, row, &mut out);
                for (q, got) in queries.iter().zip(&out) {
                    prop_assert_eq!(got.to_bits(), (set.f32)(q, row).to_bits(), "{}", set.name);
                }
                (set.i8_many)(&interleaved, &bytes, &mut out);
                for (q, got) in queries.iter().zip(&out) {
                    prop_assert_eq!(got.to_bits(), (set.i8)(q, &bytes).to_bits(), "{}", set.name);
                }
            }
        }
    }
}
