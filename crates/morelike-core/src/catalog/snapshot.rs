//! Snapshots: a built catalog (cards, fitted views, index rows, weights,
//! the name words of search) as bytes, read back without fitting or
//! encoding anything, so a large store starts in the time it takes to read
//! a file.
//!
//! Layout: a 32-byte header — magic `MLSNAP\r\n`, the format version (u32),
//! the CRC-32 of the body (u32), the stamp (u64), the body's length (u64),
//! all little endian — then the body (postcard). The stamp names the state
//! the snapshot was built from (the store's products, mapping and
//! precision, this format and this build: see [`stamp`]); a snapshot whose
//! stamp differs is stale. Each way a snapshot can be unusable is its own
//! [`SnapshotError`].

use std::io::{Seek, SeekFrom, Write};

use serde::{Deserialize, Serialize};

use super::{Cards, Catalog, Words};
use crate::hash::{fnv1a, mix};
use crate::index::{Index, Precision};
use crate::mapping::Mapping;

/// The format version; bump it whenever what a snapshot holds changes.
pub const VERSION: u32 = 7;
const MAGIC: &[u8; 8] = b"MLSNAP\r\n";
const HEADER: usize = 32;

/// Why a snapshot cannot be used (the catalog is then built again).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SnapshotError {
    /// The bytes do not start like a snapshot.
    #[error("not a snapshot (no header)")]
    NotASnapshot,
    /// Written by a build with another format.
    #[error("snapshot format {found}; this build reads format {expected}")]
    Version {
        /// The file's version.
        found: u32,
        /// The version read here.
        expected: u32,
    },
    /// Built from another state of the store.
    #[error("snapshot is stale: stamp {found:016x}, the store is at {expected:016x}")]
    Stale {
        /// The file's stamp.
        found: u64,
        /// The stamp of the store as it is.
        expected: u64,
    },
    /// Shorter (or longer) than its header says.
    #[error("snapshot truncated: {found} bytes of body, the header says {expected}")]
    Truncated {
        /// Bytes present.
        found: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The body does not match its checksum.
    #[error("snapshot corrupt: checksum {found:08x}, the header says {expected:08x}")]
    Checksum {
        /// The body's CRC-32.
        found: u32,
        /// The header's CRC-32.
        expected: u32,
    },
    /// The body passed the checksum but does not decode into this mapping's catalog.
    #[error("snapshot does not decode: {0}")]
    Decode(String),
}

/// The stamp of a store's state: its products' version (which storage bumps
/// on every change), its mapping and precision, the snapshot format and the
/// version of this build (encoders may change between builds).
pub fn stamp(products_version: u64, mapping: &Mapping, precision: Precision) -> u64 {
    let mapping = serde_json::to_vec(mapping).unwrap_or_default();
    let mut h = fnv1a(&mapping);
    for part in [
        products_version,
        u64::from(VERSION),
        fnv1a(env!("CARGO_PKG_VERSION").as_bytes()),
        precision as u64,
    ] {
        h = mix(h ^ part);
    }
    h
}

#[derive(Serialize)]
struct Body<'a> {
    cards: &'a Cards,
    index: &'a Index,
    weights: &'a [f32],
    words: &'a Words,
}

/// A writer that passes bytes on and keeps their CRC-32 and count.
struct Checksummed<W> {
    out: W,
    crc: crc32fast::Hasher,
    len: u64,
    /// The first error of the writer underneath.
    failed: Option<std::io::Error>,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = match self.out.write(buf) {
            Ok(n) => n,
            Err(e) => {
                let kept = std::io::Error::new(e.kind(), e.to_string());
                self.failed.get_or_insert(e);
                return Err(kept);
            }
        };
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[derive(Deserialize)]
struct OwnedBody {
    cards: Cards,
    index: Index,
    weights: Vec<f32>,
    words: Words,
}

impl Catalog {
    /// The catalog as a snapshot stamped `stamp`.
    pub fn to_snapshot(&self, stamp: u64) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        self.write_snapshot(stamp, &mut out)
            .expect("writing to memory cannot fail");
        out.into_inner()
    }

    /// Writes the catalog as a snapshot stamped `stamp`, streamed (no copy
    /// of the whole body is held): the body first, then the header with its
    /// length and checksum at the start.
    pub fn write_snapshot<W: Write + Seek>(&self, stamp: u64, out: &mut W) -> std::io::Result<()> {
        let body = Body {
            cards: &self.cards,
            index: &self.index,
            weights: &self.weights,
            words: &self.words,
        };
        let start = out.stream_position()?;
        out.write_all(&[0u8; HEADER])?;
        let mut counted = Checksummed {
            out: &mut *out,
            crc: crc32fast::Hasher::new(),
            len: 0,
            failed: None,
        };
        // postcard writes value by value (a byte at a time for the index
        // rows): buffered here, the checksum and the writer below see
        // large slices.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut counted);
        let written = postcard::to_io(&body, &mut buffered)
            .map(drop)
            .map_err(std::io::Error::other)
            .and_then(|()| buffered.flush());
        drop(buffered);
        if let Err(e) = written {
            // postcard keeps no I/O error's cause: the writer kept it.
            return Err(counted.failed.take().unwrap_or(e));
        }
        let (crc, len) = (counted.crc.finalize(), counted.len);
        let mut header = [0u8; HEADER];
        header[0..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&crc.to_le_bytes());
        header[16..24].copy_from_slice(&stamp.to_le_bytes());
        header[24..32].copy_from_slice(&len.to_le_bytes());
        out.seek(SeekFrom::Start(start))?;
        out.write_all(&header)?;
        out.seek(SeekFrom::Start(start + HEADER as u64 + len))?;
        Ok(())
    }

    /// Reads a snapshot of a catalog with `mapping`, if it is whole, of this
    /// format and stamped `stamp`.
    pub fn from_snapshot(
        mapping: Mapping,
        bytes: &[u8],
        stamp: u64,
    ) -> Result<Self, SnapshotError> {
        let header = bytes.get(..HEADER).ok_or(SnapshotError::NotASnapshot)?;
        if &header[0..8] != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        let long = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        let version = word(8);
        if version != VERSION {
            return Err(SnapshotError::Version {
                found: version,
                expected: VERSION,
            });
        }
        let found = long(16);
        if found != stamp {
            return Err(SnapshotError::Stale {
                found,
                expected: stamp,
            });
        }
        let body = &bytes[HEADER..];
        if body.len() as u64 != long(24) {
            return Err(SnapshotError::Truncated {
                found: body.len() as u64,
                expected: long(24),
            });
        }
        let crc = crc32fast::hash(body);
        if crc != word(12) {
            return Err(SnapshotError::Checksum {
                found: crc,
                expected: word(12),
            });
        }
        let body: OwnedBody =
            postcard::from_bytes(body).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if body.index.layout().views.len() != mapping.views.len()
            || body.weights.len() != mapping.views.len()
        {
            return Err(SnapshotError::Decode(format!(
                "{} views in the snapshot, {} in the mapping",
                body.index.layout().views.len(),
                mapping.views.len()
            )));
        }
        let mut catalog = Catalog {
            mapping,
            cards: body.cards,
            index: body.index,
            weights: body.weights,
            words: body.words,
        };
        // The decoder grows long columns by doubling: give back the spare.
        catalog.cards.shrink();
        catalog.index.shrink();
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Filters;
    use crate::product::Product;

    fn catalog() -> Catalog {
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ntext = [\"name\"]\n\
             categorical = [\"colour\"]\nnumeric = [\"year\"]\n",
        )
        .unwrap();
        let colours = ["Red", "Blue", "Green", "Navy Blue"];
        let products: Vec<Product> = (0..300)
            .map(|i| {
                let mut p = Product::new(
                    format!("p{i}"),
                    format!("{} shirt {}", colours[i % 4], i % 7),
                )
                .with_attribute("colour", colours[i % 4])
                .with_number("year", 2000.0 + (i % 13) as f64);
                p.price = Some(10.0 + i as f64);
                p.in_stock = i % 5 != 0;
                p
            })
            .collect();
        Catalog::build(mapping, products, Precision::I8)
    }

    fn pages(catalog: &Catalog) -> Vec<Vec<(String, f32)>> {
        ["p0", "p17", "p123", "p299"]
            .iter()
            .map(|id| {
                catalog
                    .similar(id, 8, &Filters::default())
                    .unwrap()
                    .iter()
                    .map(|h| (catalog.index().id(h.row).to_owned(), h.score))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_catalog_read_from_its_snapshot_gives_the_same_pages_and_cards() {
        let mut built = catalog();
        built.delete("p5");
        let bytes = built.to_snapshot(7);
        let read = Catalog::from_snapshot(built.mapping().clone(), &bytes, 7).unwrap();
        assert_eq!(pages(&read), pages(&built));
        assert_eq!(read.len(), built.len());
        assert!(read.get("p5").is_none());
        for (a, b) in read.products().zip(built.products()) {
            assert_eq!(a.to_product(), b.to_product());
        }
        assert_eq!(read.weights(), built.weights());
    }

    #[test]
    fn a_catalog_read_from_its_snapshot_takes_upserts_like_the_one_built() {
        let mut built = catalog();
        let mut read =
            Catalog::from_snapshot(built.mapping().clone(), &built.to_snapshot(1), 1).unwrap();
        let new = Product::new("new", "Purple shirt 3").with_attribute("colour", "Purple");
        assert_eq!(built.upsert(new.clone()), read.upsert(new.clone()));
        assert_eq!(read.upsert(new), super::super::Change::Unchanged);
        assert_eq!(pages(&read), pages(&built));
        assert_eq!(
            read.similar("new", 8, &Filters::default()),
            built.similar("new", 8, &Filters::default())
        );
    }

    #[test]
    fn a_flipped_byte_is_caught_by_the_checksum() {
        let built = catalog();
        let mut bytes = built.to_snapshot(1);
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        assert!(matches!(
            Catalog::from_snapshot(built.mapping().clone(), &bytes, 1),
            Err(SnapshotError::Checksum { .. })
        ));
    }

    #[test]
    fn a_truncated_snapshot_is_refused() {
        let built = catalog();
        let bytes = built.to_snapshot(1);
        for len in [bytes.len() - 1, bytes.len() / 2, HEADER] {
            assert!(matches!(
                Catalog::from_snapshot(built.mapping().clone(), &bytes[..len], 1),
                Err(SnapshotError::Truncated { .. })
            ));
        }
        assert_eq!(
            Catalog::from_snapshot(built.mapping().clone(), &bytes[..10], 1).err(),
            Some(SnapshotError::NotASnapshot)
        );
    }

    #[test]
    fn a_snapshot_of_another_state_or_format_is_refused() {
        let built = catalog();
        let mut bytes = built.to_snapshot(1);
        assert_eq!(
            Catalog::from_snapshot(built.mapping().clone(), &bytes, 2).err(),
            Some(SnapshotError::Stale {
                found: 1,
                expected: 2
            })
        );
        bytes[8] = 99;
        assert!(matches!(
            Catalog::from_snapshot(built.mapping().clone(), &bytes, 1),
            Err(SnapshotError::Version { found: 99, .. })
        ));
        assert_eq!(
            Catalog::from_snapshot(
                built.mapping().clone(),
                b"not a snapshot at all, no, not one",
                1
            )
            .err(),
            Some(SnapshotError::NotASnapshot)
        );
    }

    #[test]
    fn the_stamp_changes_with_the_products_the_mapping_and_the_precision() {
        let mapping = catalog().mapping().clone();
        let base = stamp(3, &mapping, Precision::I8);
        assert_eq!(base, stamp(3, &mapping, Precision::I8));
        assert_ne!(base, stamp(4, &mapping, Precision::I8));
        assert_ne!(base, stamp(3, &mapping, Precision::F32));
        let mut other = mapping.clone();
        other.views[0].weight += 1.0;
        assert_ne!(base, stamp(3, &other, Precision::I8));
    }
}
