//! Index snapshots beside the data: each store's built catalog in one file
//! (`<data dir>/snapshots/<store in hex>.snapshot`, the format of
//! `morelike_core::catalog::snapshot`), mapped and read at start instead of
//! building the index again. A missing, stale, truncated or corrupt
//! snapshot is logged (a missing or stale one, which ordinary changes
//! leave, at info; an unreadable or corrupt one at warn) and the catalog is
//! built from the stored products (and snapshotted again); a snapshot is
//! never trusted over storage.

use std::fs::File;
use std::path::PathBuf;

use morelike_core::catalog::SnapshotError;
use morelike_core::{Catalog, Mapping};

/// The snapshots of a data directory.
pub struct Snapshots {
    dir: PathBuf,
}

impl Snapshots {
    /// The snapshots kept in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Snapshots { dir }
    }

    /// The file of a store's snapshot (the name in hex: any store name is a
    /// safe file name).
    pub fn path(&self, store: &str) -> PathBuf {
        let hex: String = store.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.snapshot"))
    }

    /// A store's catalog from its snapshot, if there is one, whole and
    /// stamped `stamp`; why not is logged.
    pub fn read(&self, store: &str, mapping: &Mapping, stamp: u64) -> Option<Catalog> {
        let path = self.path(store);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(store, "no index snapshot: building the index");
                return None;
            }
            Err(e) => {
                tracing::warn!(store, path = %path.display(), error = %e, "index snapshot unreadable: building the index");
                return None;
            }
        };
        let bytes = match map(&file) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(store, path = %path.display(), error = %e, "index snapshot unreadable: building the index");
                return None;
            }
        };
        match Catalog::from_snapshot(mapping.clone(), &bytes, stamp) {
            Ok(catalog) => Some(catalog),
            // A change made since (a CLI import or delete, a settings
            // change while the server was down), or a new build: expected.
            Err(e @ (SnapshotError::Stale { .. } | SnapshotError::Version { .. })) => {
                tracing::info!(store, error = %e, "the index snapshot predates the last change: rebuilding");
                None
            }
            // Damaged on disk: worth an operator's look.
            Err(e) => {
                tracing::warn!(store, path = %path.display(), error = %e, "index snapshot corrupt, not used: building the index");
                None
            }
        }
    }

    /// Writes a store's snapshot: to a new file, synced, then renamed over
    /// the old one, so a crash leaves the old snapshot or the new, whole.
    pub fn write(&self, store: &str, catalog: &Catalog, stamp: u64) -> std::io::Result<()> {
        self.stream(store, catalog, stamp)?.finish()
    }

    /// The first half of [`write`](Self::write): the catalog streamed to a
    /// new file beside the snapshot (what needs the catalog held still);
    /// [`Streamed::finish`] syncs and renames it.
    pub fn stream(&self, store: &str, catalog: &Catalog, stamp: u64) -> std::io::Result<Streamed> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(store);
        let partial = path.with_extension("snapshot.partial");
        let written = File::create(&partial).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            catalog.write_snapshot(stamp, &mut out)?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)
        });
        match written {
            Ok(file) => Ok(Streamed {
                file,
                partial,
                path,
                store: store.to_owned(),
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    /// Removes a store's snapshot (the store was deleted).
    pub fn remove(&self, store: &str) {
        let _ = std::fs::remove_file(self.path(store));
    }
}

/// A snapshot written to its new file, not yet in place.
pub struct Streamed {
    file: File,
    partial: PathBuf,
    path: PathBuf,
    store: String,
}

impl Streamed {
    /// Syncs the new file and renames it over the store's snapshot.
    pub fn finish(self) -> std::io::Result<()> {
        let done = self
            .file
            .sync_all()
            .and_then(|()| self.file.metadata())
            .and_then(|meta| {
                std::fs::rename(&self.partial, &self.path)?;
                Ok(meta.len())
            });
        match done {
            Ok(bytes) => {
                tracing::info!(store = %self.store, bytes, path = %self.path.display(), "index snapshot written");
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&self.partial);
                Err(e)
            }
        }
    }
}

/// The bytes of a snapshot file, mapped.
fn map(file: &File) -> std::io::Result<memmap2::Mmap> {
    #[allow(unsafe_code)]
    // SAFETY: the map is read-only and lives only while one snapshot is
    // decoded (its data is copied out). morelike never changes a snapshot
    // file in place (it writes a new file and renames it over the old), so
    // the bytes cannot change under the map; another program truncating
    // the file meanwhile is outside what we guard against (as for redb's
    // own file).
    let map = unsafe { memmap2::Mmap::map(file)? };
    Ok(map)
}
