//! Numeric views: each number becomes a bump over overlapping buckets, on a
//! log scale when the values span orders of magnitude (prices), so that close
//! numbers have a high cosine and far ones a low one.

#[cfg(test)]
use crate::product::Product;

/// Buckets per numeric field.
pub const BUCKETS: usize = 16;

/// A bucket weight below this is 0 (its distance to the value is past ~6.4
/// buckets): never a subnormal float, which a dot product at f32 is several
/// times slower on.
const TAIL: f64 = 1e-9;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Scale {
    field: String,
    log: bool,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn position(&self, value: f64) -> f64 {
        let x = if self.log {
            value.max(0.0).ln_1p()
        } else {
            value
        };
        let t = if self.hi > self.lo {
            (x - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        t.clamp(0.0, 1.0) * (BUCKETS - 1) as f64
    }
}

/// The fitted ranges of a numeric view's fields.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct NumericEncoder {
    scales: Vec<Scale>,
}

impl NumericEncoder {
    pub(super) fn fit<P>(
        fields: &[String],
        products: impl Iterator<Item = P> + Clone,
        value: impl Fn(&P, &str) -> Option<f64>,
    ) -> Self {
        let scales = fields
            .iter()
            .map(|field| {
                let mut values: Vec<f64> =
                    products.clone().filter_map(|p| value(&p, field)).collect();
                values.sort_by(f64::total_cmp);
                let pick = |q: f64| -> f64 {
                    if values.is_empty() {
                        0.0
                    } else {
                        values[((values.len() - 1) as f64 * q).round() as usize]
                    }
                };
                let (p1, p99) = (pick(0.01), pick(0.99));
                let log = p1 > 0.0 && p99 / p1 > 20.0;
                let (lo, hi) = if log {
                    (p1.ln_1p(), p99.ln_1p())
                } else {
                    (p1, p99)
                };
                Scale {
                    field: field.clone(),
                    log,
                    lo,
                    hi,
                }
            })
            .collect();
        NumericEncoder { scales }
    }

    pub(super) fn dim(&self) -> usize {
        self.scales.len() * BUCKETS
    }

    pub(super) fn encode(&self, value: impl Fn(&str) -> Option<f64>, out: &mut [f32]) {
        let share = 1.0 / (self.scales.len() as f32).sqrt();
        for (scale, block) in self.scales.iter().zip(out.chunks_exact_mut(BUCKETS)) {
            let Some(v) = value(&scale.field) else {
                continue;
            };
            let t = scale.position(v);
            for (i, slot) in block.iter_mut().enumerate() {
                let d = i as f64 - t;
                let bump = (-(d * d) / 2.0).exp();
                *slot = if bump < TAIL { 0.0 } else { bump as f32 };
            }
            super::normalize(block);
            block.iter_mut().for_each(|x| *x *= share);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: &NumericEncoder, v: f64) -> Vec<f32> {
        let mut out = vec![0.0; enc.dim()];
        enc.encode(|_| Some(v), &mut out);
        out
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn closer_prices_are_more_similar_on_a_log_scale() {
        let products: Vec<Product> = [1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0]
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut product = Product::new(i.to_string(), "x");
                product.price = Some(*p);
                product
            })
            .collect();
        let enc = NumericEncoder::fit(&["price".into()], products.iter(), |p, _| p.price);
        assert!(enc.scales[0].log);
        let (a, b, c) = (encode(&enc, 20.0), encode(&enc, 25.0), encode(&enc, 400.0));
        assert!(dot(&a, &b) > 0.9, "{}", dot(&a, &b));
        assert!(dot(&a, &b) > dot(&a, &c));
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
    }
}
