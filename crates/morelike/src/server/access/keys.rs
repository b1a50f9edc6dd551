//! API keys: made of 160 random bits, named after their store and kind
//! (`sk_shop_…` secret, `pk_shop_…` publishable), kept only as SHA-256
//! hashes (a fast hash is right for random keys), compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The kind of a store key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Every write, for the merchant's servers.
    Secret,
    /// Sessions, votes and product reads, for browsers.
    Publishable,
}

impl KeyKind {
    /// The key's prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk_",
            KeyKind::Publishable => "pk_",
        }
    }
}

/// Random bytes in a key.
const RANDOM_BYTES: usize = 20;

/// A new random key for a store.
pub fn generate(kind: KeyKind, store: &str) -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    format!("{}{store}_{}", kind.prefix(), hex(&bytes))
}

/// A key's hash, as stored.
pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A hash as stored (hex).
pub fn hash_hex(key: &str) -> String {
    hex(&hash(key))
}

/// Whether a presented key's hash equals a stored one (hex), in constant time.
pub fn matches(presented: &[u8; 32], stored: Option<&str>) -> bool {
    let Some(stored) = stored.and_then(unhex) else {
        return false;
    };
    presented.ct_eq(&stored).into()
}

/// The store and kind a key names (`sk_shop_…` → shop, secret), when it has
/// the shape of a generated key; the hash must still be checked.
pub fn owner(key: &str) -> Option<(KeyKind, &str)> {
    let (kind, rest) = if let Some(rest) = key.strip_prefix("sk_") {
        (KeyKind::Secret, rest)
    } else if let Some(rest) = key.strip_prefix("pk_") {
        (KeyKind::Publishable, rest)
    } else {
        return None;
    };
    let (store, random) = rest.rsplit_once('_')?;
    let shaped = random.len() == RANDOM_BYTES * 2 && random.bytes().all(|b| b.is_ascii_hexdigit());
    (shaped && !store.is_empty()).then_some((kind, store))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_names_its_store_and_kind_and_matches_only_its_hash() {
        let key = generate(KeyKind::Secret, "my_shop-1");
        assert!(key.starts_with("sk_my_shop-1_"), "{key}");
        assert_eq!(key.len(), "sk_my_shop-1_".len() + 40);
        assert_eq!(owner(&key), Some((KeyKind::Secret, "my_shop-1")));
        let stored = hash_hex(&key);
        assert!(matches(&hash(&key), Some(&stored)));
        let other = generate(KeyKind::Secret, "my_shop-1");
        assert_ne!(key, other, "keys are random");
        assert!(!matches(&hash(&other), Some(&stored)));
        assert!(!matches(&hash(&key), None));
        assert!(!matches(&hash(&key), Some("not hex")));
    }

    #[test]
    fn keys_without_the_generated_shape_name_no_owner() {
        for key in [
            "pk_demo",
            "sk_",
            "sk__0123",
            "xk_shop_00",
            "pk_shop_zz",
            "Bearer x",
        ] {
            assert_eq!(owner(key), None, "{key}");
        }
    }
}
