//! Importing a file into a store (the CLI, the demo), streamed: one thread
//! reads rows into products and hands them over in bounded batches; the
//! other writes each batch into one open storage transaction and keeps the
//! products only as catalog cards. Nothing holds the whole file, the whole
//! product list or the whole store's documents. The transaction commits
//! (with the store's settings) while the views are fitted and the index is
//! built; the index snapshot is written last, so the next start is quick.

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc;
use std::time::Instant;

use morelike_core::catalog::snapshot;
use morelike_core::import::{FieldLimits, Importer, Lookup};
use morelike_core::{Catalog, CatalogBuilder, Change, Format, Mapping, Precision, Product};

use super::{load_with, with_weights, ImportOutcome};
use crate::snapshots::Snapshots;
use crate::store::{ProductImport, Storage, StorageError, StoreSettings};

/// Products per batch handed from the reading thread to the writing one.
const BATCH: usize = 2_048;
/// Batches in flight between them: memory stays bounded whichever is slower.
const IN_FLIGHT: usize = 4;

/// What an import did, and the store's catalog after it.
pub struct Imported {
    /// The per-row report and the counts of what changed.
    pub outcome: ImportOutcome,
    /// The store's catalog as stored after the import (snapshotted), when
    /// asked for.
    pub catalog: Option<Catalog>,
    /// Whether anything was stored: not when the file had rows and every
    /// one was rejected (then the store is as it was: its mapping, products
    /// and index).
    pub stored: bool,
}

/// Imports a file into a store: an upsert that writes only what changed, in
/// one storage transaction with the store's settings (all or nothing: a
/// failure or a crash before the commit leaves the store as it was). The
/// mapping becomes the store's mapping. Fields are held to the default
/// [`FieldLimits`]. Bad rows are rejected in the report; the good ones are
/// imported; when every row of the file is rejected, nothing is stored
/// (an error). A later row with an id seen before replaces the earlier one.
/// The store's catalog is not built (its first load builds it).
pub fn import(
    storage: &dyn Storage,
    store: &str,
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read + Send,
) -> anyhow::Result<ImportOutcome> {
    let to = Target {
        store,
        precision: None,
    };
    let imported = run(storage, to, mapping, lookups, format, input, false)?;
    if !imported.stored {
        anyhow::bail!(
            "every one of the file's {} rows was rejected; nothing was stored",
            imported.outcome.report.rows
        );
    }
    Ok(imported.outcome)
}

/// The store an import goes into, and the precision its index is to be
/// stored in (`None`: a new store gets the default, an existing one keeps
/// its own).
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// The store's name.
    pub store: &'a str,
    /// The precision to store its index in.
    pub precision: Option<Precision>,
}

/// [`import`], then the store's catalog: built from the file as it is
/// read when the store had no products (else from storage, after the
/// commit), at the target's precision, and its index snapshot written
/// beside the data (the CLI). When the file has rows and every one is
/// rejected, nothing is stored (`stored` is false, no catalog): a mapping
/// under which no row imports never replaces the store's.
pub fn import_and_index(
    storage: &dyn Storage,
    to: Target<'_>,
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read + Send,
) -> anyhow::Result<Imported> {
    run(storage, to, mapping, lookups, format, input, true)
}

/// An import, with the catalog built (`index`) or not.
fn run(
    storage: &dyn Storage,
    to: Target<'_>,
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read + Send,
    index: bool,
) -> anyhow::Result<Imported> {
    let store = to.store;
    let mut settings = storage
        .settings(store)?
        .unwrap_or_else(|| StoreSettings::new(mapping.clone()));
    settings.mapping = mapping.clone();
    if let Some(precision) = to.precision {
        settings.precision = precision;
    }
    settings
        .weights
        .retain(|view, _| mapping.views.iter().any(|v| &v.name == view));
    let mut import = storage.begin_import(store)?;
    // A store that had no products ends with exactly the file's: its
    // catalog is built from the stream. Otherwise from storage, after.
    let mut builder = (index && import.was_empty())
        .then(|| CatalogBuilder::new(mapping.clone(), settings.precision));
    let (sender, batches) = mpsc::sync_channel::<Vec<Product>>(IN_FLIGHT);
    // Batches the cards' thread is done with go back to the reader, whose
    // next rows are written over their products: few allocations per row,
    // and none freed on another thread than the one that made it.
    let (give_back, spent) = mpsc::channel::<Vec<Product>>();
    let streaming = Instant::now();
    let (report, tally) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut spares: Vec<Product> = Vec::new();
            let mut batch = Vec::with_capacity(BATCH);
            let report = Importer::new(mapping, lookups)
                .with_limits(FieldLimits::default())
                .read_reusing(format, input, |p| {
                    batch.push(p);
                    if batch.len() == BATCH {
                        let next = match spent.try_recv() {
                            Ok(mut back) => {
                                spares.append(&mut back);
                                back
                            }
                            Err(_) => Vec::with_capacity(BATCH),
                        };
                        let full = std::mem::replace(&mut batch, next);
                        // A closed channel: the writer failed and says why.
                        let _ = sender.send(full);
                    }
                    spares.pop()
                });
            if !batch.is_empty() {
                let _ = sender.send(batch);
            }
            report
        });
        // A third thread keeps the written batches as cards (and hands
        // them back), beside the storage writes.
        let (to_cards, written) = mpsc::sync_channel::<Vec<Product>>(IN_FLIGHT);
        let cards = builder.as_mut().map(|builder| {
            scope.spawn(move || {
                for mut batch in written {
                    batch.iter_mut().for_each(|p| builder.add_from(p));
                    // The reader may be done: then the batch is freed here.
                    let _ = give_back.send(batch);
                }
                builder.len()
            })
        });
        let tally = write(&mut *import, batches, cards.is_some().then_some(to_cards));
        let report = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let carded = cards.map(|cards| {
            cards
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        let tally = tally.map(|mut tally| {
            // Nothing was stored before: every distinct product is new.
            if let Some(added) = carded {
                tally.added = added;
            }
            tally
        });
        (report, tally)
    });
    tracing::info!(
        store,
        seconds = streaming.elapsed().as_secs_f64(),
        "import: rows read and written"
    );
    let report = report?;
    let tally = tally?;
    let outcome = ImportOutcome {
        report,
        added: tally.added,
        updated: tally.updated,
        unchanged: tally.unchanged,
        changed: Vec::new(),
    };
    if outcome.report.rows > 0 && outcome.report.imported == 0 {
        // Not committed: the store stays as it was, mapping included.
        drop(import);
        tracing::info!(store, "import: every row rejected, nothing stored");
        return Ok(Imported {
            outcome,
            catalog: None,
            stored: false,
        });
    }
    // The commit (a disk flush) runs while the index is built.
    let building = Instant::now();
    let (committed, built) = std::thread::scope(|scope| {
        let commit = scope.spawn(|| import.commit(&settings));
        let built = builder.map(CatalogBuilder::finish);
        (
            commit
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            built,
        )
    });
    committed?;
    tracing::info!(
        store,
        seconds = building.elapsed().as_secs_f64(),
        "import: committed and indexed"
    );
    let catalog = match built {
        Some(catalog) => {
            let catalog = with_weights(catalog, &settings)?;
            let snapshotting = Instant::now();
            snapshot_new(storage, store, &settings, &catalog)?;
            tracing::info!(
                store,
                seconds = snapshotting.elapsed().as_secs_f64(),
                "import: index snapshot written"
            );
            Some(catalog)
        }
        None if index => Some(load_with(storage, store, &settings)?),
        None => None,
    };
    Ok(Imported {
        outcome,
        catalog,
        stored: true,
    })
}

/// Writes the snapshot of a catalog built from what was just committed.
fn snapshot_new(
    storage: &dyn Storage,
    store: &str,
    settings: &StoreSettings,
    catalog: &Catalog,
) -> anyhow::Result<()> {
    let Some(dir) = storage.snapshot_dir() else {
        return Ok(());
    };
    let version = storage.products_version(store)?;
    let stamp = snapshot::stamp(version, &settings.mapping, settings.precision);
    if let Err(e) = Snapshots::new(dir).write(store, catalog, stamp) {
        tracing::warn!(store, error = %e, "index snapshot not written");
    }
    Ok(())
}

/// How many distinct products were added, updated or found unchanged.
#[derive(Default)]
struct Tally {
    added: usize,
    updated: usize,
    unchanged: usize,
}

impl Tally {
    fn count(&mut self, change: Change, by: isize) {
        let n = match change {
            Change::Added => &mut self.added,
            Change::Updated => &mut self.updated,
            Change::Unchanged => &mut self.unchanged,
        };
        *n = n.saturating_add_signed(by);
    }
}

/// What an import knows of an id it has read: the product stored before
/// the import, what its last row did, and whether the import wrote it.
struct Seen {
    stored: Option<u64>,
    last: Change,
    written: bool,
}

/// Writes the batches into the import and hands them on to be kept as
/// cards (when the store was empty); else counts each id once, by its last row. A product equal
/// to the stored one is not written (unless an earlier row of the same id
/// was: then it is written back).
fn write(
    import: &mut dyn ProductImport,
    batches: mpsc::Receiver<Vec<Product>>,
    cards: Option<mpsc::SyncSender<Vec<Product>>>,
) -> Result<Tally, StorageError> {
    let mut tally = Tally::default();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut changed = Vec::with_capacity(BATCH);
    for batch in batches {
        if let Some(cards) = &cards {
            // Nothing stored before: every row is new and written, then
            // kept as a card (the caller counts them).
            import.put(&batch)?;
            // Only a panic closes the cards' thread: its join says why.
            let _ = cards.send(batch);
            continue;
        }
        for p in batch {
            let fingerprint = p.fingerprint();
            let classify = |stored: Option<u64>| match stored {
                Some(old) if old == fingerprint => Change::Unchanged,
                Some(_) => Change::Updated,
                None => Change::Added,
            };
            let write = match seen.get_mut(&p.id) {
                Some(s) => {
                    tally.count(s.last, -1);
                    s.last = classify(s.stored);
                    tally.count(s.last, 1);
                    s.written |= s.last != Change::Unchanged;
                    s.written
                }
                None => {
                    let stored = import.stored_fingerprint(&p.id)?;
                    let last = classify(stored);
                    tally.count(last, 1);
                    let written = last != Change::Unchanged;
                    seen.insert(
                        p.id.clone(),
                        Seen {
                            stored,
                            last,
                            written,
                        },
                    );
                    written
                }
            };
            if write {
                changed.push(p);
            }
        }
        import.put(&changed)?;
        changed.clear();
    }
    Ok(tally)
}
