//! Text views: TF-IDF over words and character trigrams, fitted on the
//! catalog and hashed (signed) into a fixed dimension — a sparse random
//! projection that keeps cosines close to those of the full TF-IDF vectors.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::hash::{fnv1a, fnv1a_byte, mix, FNV_START};
use crate::product::Described;
#[cfg(test)]
use crate::product::Product;

/// How much a character trigram counts against a whole word.
const TRIGRAM_WEIGHT: f32 = 0.25;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct TextEncoder {
    fields: Vec<String>,
    idf: ByFeature<f32>,
    unseen_idf: f32,
    dim: usize,
}

/// Calls `emit(feature_hash, weight)` for each word and trigram of `text`.
/// A trigram is hashed in place (the bytes of three characters of the
/// word padded with a space at each end): no allocation per feature, and
/// none at all for ASCII text (most catalogs), whose words are lowercased
/// byte by byte as they are hashed.
fn features(text: &str, emit: impl FnMut(u64, f32)) {
    if text.is_ascii() {
        ascii_features(text.as_bytes(), emit);
    } else {
        unicode_features(text, emit);
    }
}

/// [`features`] of ASCII text: the same hashes, in the same order, as
/// [`unicode_features`] gives (for ASCII, `to_lowercase` is
/// `to_ascii_lowercase` and `is_alphanumeric` is `is_ascii_alphanumeric`).
fn ascii_features(text: &[u8], mut emit: impl FnMut(u64, f32)) {
    for word in text
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower = |i: usize| word[i].to_ascii_lowercase();
        emit(mix(fnv1a_with(word.len(), lower)), 1.0);
        // The word padded with a space at each end, a byte a character.
        if word.len() + 2 > 4 {
            let padded = |i: usize| match i {
                0 => b' ',
                i if i == word.len() + 1 => b' ',
                i => lower(i - 1),
            };
            for start in 0..word.len() {
                let gram = fnv1a_with(3, |i| padded(start + i));
                emit(mix(gram ^ TRIGRAMS), TRIGRAM_WEIGHT);
            }
        }
    }
}

/// FNV-1a of `len` bytes given one at a time (the same as [`fnv1a`] of them).
fn fnv1a_with(len: usize, byte: impl Fn(usize) -> u8) -> u64 {
    (0..len).fold(FNV_START, |h, i| fnv1a_byte(h, byte(i)))
}

/// [`features`] of any text.
fn unicode_features(text: &str, mut emit: impl FnMut(u64, f32)) {
    let lower = text.to_lowercase();
    let mut padded = String::new();
    let mut starts: Vec<usize> = Vec::new();
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        emit(mix(fnv1a(word.as_bytes())), 1.0);
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        starts.clear();
        starts.extend(padded.char_indices().map(|(at, _)| at));
        starts.push(padded.len());
        if starts.len() - 1 > 4 {
            for gram in starts.windows(4) {
                let bytes = &padded.as_bytes()[gram[0]..gram[3]];
                emit(mix(fnv1a(bytes) ^ TRIGRAMS), TRIGRAM_WEIGHT);
            }
        }
    }
}

thread_local! {
    /// The features of the product being encoded, kept from one product to
    /// the next (a build encodes millions).
    static TERMS: std::cell::RefCell<Vec<(u64, f32)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Told into a trigram's hash, so a trigram never hashes like a word.
const TRIGRAMS: u64 = 0x7472_6967_7261_6d73;

/// A map keyed by feature hashes, which are well spread already
/// ([`mix`]): they are their own hash.
type ByFeature<V> = HashMap<u64, V, BuildHasherDefault<Premixed>>;

/// The hasher of [`ByFeature`]: passes a premixed `u64` through.
#[derive(Default)]
pub(super) struct Premixed(u64);

impl Hasher for Premixed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; any other input is folded in.
        self.0 = bytes.iter().fold(self.0, |h, &b| mix(h ^ u64::from(b)));
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// How many products of a part of the catalog have each feature, and the
/// features in the order the part first saw them.
#[derive(Default)]
struct DocumentFrequencies {
    df: ByFeature<u32>,
    first_seen: Vec<u64>,
}

impl DocumentFrequencies {
    fn count<P: Described>(
        fields: &[String],
        name_field: &str,
        products: impl Iterator<Item = P>,
    ) -> Self {
        let mut counted = DocumentFrequencies::default();
        let mut seen = Vec::new();
        for product in products {
            seen.clear();
            for field in fields {
                if let Some(text) = product.text(field, name_field) {
                    features(text, |h, _| seen.push(h));
                }
            }
            seen.sort_unstable();
            seen.dedup();
            for &h in &seen {
                let count = counted.df.entry(h).or_insert_with(|| {
                    counted.first_seen.push(h);
                    0
                });
                *count += 1;
            }
        }
        counted
    }
}

impl TextEncoder {
    pub(super) fn fit<P: Described>(
        fields: &[String],
        name_field: &str,
        dim: usize,
        products: impl Iterator<Item = P> + Clone + Sync,
    ) -> Self {
        Self::fit_in_parts(fields, name_field, dim, products, crate::threads::cores())
    }

    /// [`TextEncoder::fit`] with the products counted in `parts` contiguous
    /// parts side by side, then merged part after part, each part's
    /// features in the order it first saw them: the map is the one a
    /// single pass would fill, key for key and in the same insertion order
    /// (so the same layout, and the same snapshot), whatever `parts`.
    fn fit_in_parts<P: Described>(
        fields: &[String],
        name_field: &str,
        dim: usize,
        products: impl Iterator<Item = P> + Clone + Sync,
        parts: usize,
    ) -> Self {
        let len = products.clone().count();
        let parts = crate::threads::ranges(len, parts);
        let counted = crate::threads::on_threads(parts.len(), parts.into_iter(), |part| {
            DocumentFrequencies::count(
                fields,
                name_field,
                products.clone().skip(part.start).take(part.len()),
            )
        });
        let mut counted = counted.into_iter();
        let DocumentFrequencies { mut df, .. } = counted.next().unwrap_or_default();
        for part in counted {
            for h in part.first_seen {
                *df.entry(h).or_default() += part.df[&h];
            }
        }
        let n = len as u32;
        let idf_of = |df: u32| ((1.0 + n as f32) / (1.0 + df as f32)).ln() + 1.0;
        TextEncoder {
            fields: fields.to_vec(),
            idf: df.into_iter().map(|(h, d)| (h, idf_of(d))).collect(),
            unseen_idf: idf_of(0),
            dim,
        }
    }

    /// Bytes held on the heap: the fitted IDF of each word and trigram.
    pub(super) fn heap_bytes(&self) -> usize {
        crate::heap::map(&self.idf)
    }

    pub(super) fn encode(&self, product: &impl Described, name_field: &str, out: &mut [f32]) {
        TERMS.with_borrow_mut(|tf| self.encode_with(tf, product, name_field, out));
    }

    fn encode_with(
        &self,
        tf: &mut Vec<(u64, f32)>,
        product: &impl Described,
        name_field: &str,
        out: &mut [f32],
    ) {
        tf.clear();
        for field in &self.fields {
            if let Some(text) = product.text(field, name_field) {
                features(text, |h, w| tf.push((h, w)));
            }
        }
        // Summed by feature, in hash order (the same order every time).
        tf.sort_unstable_by_key(|&(h, _)| h);
        let mut at = 0;
        while at < tf.len() {
            let h = tf[at].0;
            let mut weight = 0.0;
            while at < tf.len() && tf[at].0 == h {
                weight += tf[at].1;
                at += 1;
            }
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
    fn features_are_hashed_words_and_padded_trigrams() {
        let mut found = Vec::new();
        features("Ça va", |h, w| found.push((h, w)));
        let word = |s: &str| (mix(fnv1a(s.as_bytes())), 1.0);
        let gram = |s: &str| (mix(fnv1a(s.as_bytes()) ^ TRIGRAMS), TRIGRAM_WEIGHT);
        // "ça" and "va" pad to four characters: too short for trigrams.
        assert_eq!(found, vec![word("ça"), word("va")]);
        found.clear();
        features("Née", |h, w| found.push((h, w)));
        assert_eq!(
            found,
            vec![word("née"), gram(" né"), gram("née"), gram("ée ")]
        );
    }

    #[test]
    fn ascii_text_has_the_features_of_the_unicode_path() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "Men Blue  Denim-Jacket",
            "U.S. Polo Assn. Men Checks Navy Blue Shirt 2011",
            "  --x-- YY zzz 12345 ",
            "MiXeD cAsE wOrDs",
        ] {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            features(text, |h, w| fast.push((h, w)));
            unicode_features(text, |h, w| slow.push((h, w)));
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn a_fit_in_parts_is_the_fit_of_one_pass_byte_for_byte() {
        let names: Vec<Product> = (0..500)
            .map(|i| {
                let words = [
                    "red", "shirt", "blue", "jeans", "cotton", "polo", "belt", "née",
                ];
                let name = format!("{} {} {i}", words[i % 8], words[(i * 7 + 3) % 8]);
                Product::new(i.to_string(), name)
            })
            .collect();
        let fit = |parts| {
            let enc = TextEncoder::fit_in_parts(&["name".into()], "name", 128, names.iter(), parts);
            postcard::to_stdvec(&enc).expect("serializes")
        };
        let one = fit(1);
        for parts in [2, 3, 7, 500, 501] {
            assert_eq!(fit(parts), one, "{parts} parts");
        }
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
