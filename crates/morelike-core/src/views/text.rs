//! Text views: TF-IDF over words and character trigrams, fitted on the
//! catalog and hashed (signed) into a fixed dimension — a sparse random
//! projection that keeps cosines close to those of the full TF-IDF vectors.

use std::collections::HashMap;

use crate::hash::{fnv1a, mix};
use crate::product::Described;
#[cfg(test)]
use crate::product::Product;

/// How much a character trigram counts against a whole word.
const TRIGRAM_WEIGHT: f32 = 0.25;

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct TextEncoder {
    fields: Vec<String>,
    idf: HashMap<u64, f32>,
    unseen_idf: f32,
    dim: usize,
}

/// Calls `emit(feature_hash, weight)` for each word and trigram of `text`.
fn features(text: &str, mut emit: impl FnMut(u64, f32)) {
    let lower = text.to_lowercase();
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        emit(mix(fnv1a(word.as_bytes())), 1.0);
        let padded: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        if padded.len() > 4 {
            for gram in padded.windows(3) {
                let s: String = gram.iter().collect();
                emit(
                    mix(fnv1a(s.as_bytes()) ^ 0x7472_6967_7261_6d73),
                    TRIGRAM_WEIGHT,
                );
            }
        }
    }
}

impl TextEncoder {
    pub(super) fn fit<P: Described>(
        fields: &[String],
        name_field: &str,
        dim: usize,
        products: impl Iterator<Item = P>,
    ) -> Self {
        let mut df: HashMap<u64, u32> = HashMap::new();
        let mut n = 0u32;
        let mut seen = Vec::new();
        for product in products {
            n += 1;
            seen.clear();
            for field in fields {
                if let Some(text) = product.text(field, name_field) {
                    features(text, |h, _| seen.push(h));
                }
            }
            seen.sort_unstable();
            seen.dedup();
            for &h in &seen {
                *df.entry(h).or_default() += 1;
            }
        }
        let idf_of = |df: u32| ((1.0 + n as f32) / (1.0 + df as f32)).ln() + 1.0;
        TextEncoder {
            fields: fields.to_vec(),
            idf: df.into_iter().map(|(h, d)| (h, idf_of(d))).collect(),
            unseen_idf: idf_of(0),
            dim,
        }
    }

    pub(super) fn encode(&self, product: &impl Described, name_field: &str, out: &mut [f32]) {
        let mut tf: HashMap<u64, f32> = HashMap::new();
        for field in &self.fields {
            if let Some(text) = product.text(field, name_field) {
                features(text, |h, w| *tf.entry(h).or_default() += w);
            }
        }
        for (h, weight) in tf {
            let idf = self.idf.get(&h).copied().unwrap_or(self.unseen_idf);
            let slot = (h % self.dim as u64) as usize;
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            out[slot] += sign * weight.sqrt() * idf;
        }
        super::normalize(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder(names: &[&str]) -> (TextEncoder, Vec<Product>) {
        let products: Vec<Product> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Product::new(i.to_string(), *n))
            .collect();
        (
            TextEncoder::fit(&["name".into()], "name", 128, products.iter()),
            products,
        )
    }

    fn cosine(enc: &TextEncoder, a: &Product, b: &Product) -> f32 {
        let (mut x, mut y) = (vec![0.0; 128], vec![0.0; 128]);
        enc.encode(a, "name", &mut x);
        enc.encode(b, "name", &mut y);
        x.iter().zip(&y).map(|(p, q)| p * q).sum()
    }

    #[test]
    fn names_sharing_rare_words_are_closer_than_names_sharing_common_ones() {
        let (enc, p) = encoder(&[
            "Men Blue Denim Jacket",
            "Men Blue Denim Jeans",
            "Men Red Cotton Shirt",
            "Men Green Polo Shirt",
            "Men Black Leather Belt",
        ]);
        assert!(cosine(&enc, &p[0], &p[1]) > cosine(&enc, &p[0], &p[2]));
        assert!((cosine(&enc, &p[0], &p[0]) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn plural_and_singular_share_trigrams() {
        let (enc, _) = encoder(&["shirt", "shirts", "trousers", "belt"]);
        let shirt = Product::new("a", "shirt");
        let shirts = Product::new("b", "shirts");
        let belt = Product::new("c", "belt");
        assert!(cosine(&enc, &shirt, &shirts) > cosine(&enc, &shirt, &belt) + 0.3);
    }
}
