//! Loading a store's catalog from storage and importing files into it.

mod fit;
mod import;

pub use fit::misfit;
pub use import::{import, import_and_index, Imported, Target};

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use morelike_core::catalog::snapshot;
use morelike_core::import::{FieldLimits, ImportReport, Importer, Lookup};
use morelike_core::{Catalog, CatalogBuilder, Change, Format, Mapping, Precision, Product};
use serde::Serialize;

use crate::snapshots::Snapshots;
use crate::store::{Storage, StoreSettings};

/// Reads a mapping file and the lookup tables it names (relative to it).
pub fn read_mapping(path: &Path) -> anyhow::Result<(Mapping, Vec<Lookup>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the mapping {}", path.display()))?;
    let mapping = Mapping::from_toml(&text).with_context(|| format!("in {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let lookups = mapping
        .lookups
        .iter()
        .map(|spec| {
            let file = base.join(&spec.file);
            let reader = File::open(&file).with_context(|| {
                // Where it was looked for, whatever the current directory.
                let resolved = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
                format!(
                    "cannot open the lookup table '{}' for '{}': looked for {} \
                     (a lookup's `file` is read relative to the folder of the mapping file, {})",
                    spec.file,
                    spec.into,
                    resolved.display(),
                    path.display()
                )
            })?;
            Lookup::from_csv(spec, reader).with_context(|| format!("in {}", file.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((mapping, lookups))
}

/// Reads a catalog file through a mapping file into a catalog, in file
/// order, without a store (what `morelike eval` plays on; no page depends
/// on the order, so the server, which loads a store in id order, serves
/// the same pages).
pub fn from_file(catalog: &Path, mapping: &Path) -> anyhow::Result<Catalog> {
    let (mapping, lookups) = read_mapping(mapping)?;
    let format = mapping
        .format
        .or_else(|| Format::from_file_name(&catalog.to_string_lossy()))
        .context("cannot tell the catalog's format from its name")?;
    let file = File::open(catalog).with_context(|| format!("cannot open {}", catalog.display()))?;
    // The same reading as an import into a store: field limits, and a
    // later row with the same id replaces the earlier one.
    let parsed = parse(
        &mapping,
        &lookups,
        format,
        std::io::BufReader::new(file),
        FieldLimits::default(),
    )
    .with_context(|| format!("cannot import {}", catalog.display()))?;
    Ok(Catalog::build(
        mapping,
        parsed.products,
        Precision::default(),
    ))
}

/// A store's catalog: read from its index snapshot when that is whole and
/// current, else built from its settings and stored products (and then
/// snapshotted).
pub fn load(storage: &dyn Storage, store: &str) -> anyhow::Result<Catalog> {
    let Some(settings) = storage.settings(store)? else {
        bail!("there is no store '{store}': import a catalog into it first");
    };
    load_with(storage, store, &settings)
}

/// [`load`] with the store's settings in hand.
pub fn load_with(
    storage: &dyn Storage,
    store: &str,
    settings: &StoreSettings,
) -> anyhow::Result<Catalog> {
    // Read before the products: a change in between leaves the snapshot
    // stamped with an older version than it holds (stale, never wrong).
    let version = storage.products_version(store)?;
    let stamp = snapshot::stamp(version, &settings.mapping, settings.precision);
    let snapshots = storage.snapshot_dir().map(Snapshots::new);
    if let Some(mut catalog) = snapshots
        .as_ref()
        .and_then(|s| s.read(store, &settings.mapping, stamp))
    {
        catalog
            .set_weights(&settings.weights)
            .context("the store's saved weights do not fit its views")?;
        return Ok(catalog);
    }
    let mut builder = CatalogBuilder::new(settings.mapping.clone(), settings.precision);
    storage.for_each_product(store, &mut |p| builder.add(p))?;
    let catalog = with_weights(builder.finish(), settings)?;
    if let Some(snapshots) = &snapshots {
        if let Err(e) = snapshots.write(store, &catalog, stamp) {
            tracing::warn!(store, error = %e, "index snapshot not written");
        }
    }
    Ok(catalog)
}

/// A built catalog with the store's saved weights.
fn with_weights(mut catalog: Catalog, settings: &StoreSettings) -> anyhow::Result<Catalog> {
    catalog
        .set_weights(&settings.weights)
        .context("the store's saved weights do not fit its views")?;
    Ok(catalog)
}

/// What an import did to a store.
#[derive(Debug, Default, Serialize)]
pub struct ImportOutcome {
    /// The per-row report.
    #[serde(flatten)]
    pub report: ImportReport,
    /// Products that are new.
    pub added: usize,
    /// Products that existed and changed.
    pub updated: usize,
    /// Products that existed unchanged (not written).
    pub unchanged: usize,
    /// The products written (added or updated), for a live catalog to
    /// apply (empty after [`import`], which has no live catalog).
    #[serde(skip)]
    pub changed: Vec<Product>,
}

/// A file read through a mapping: the per-row report and the good products.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The per-row report.
    pub report: ImportReport,
    /// The products read, each id once (a later row with the same id wins).
    pub products: Vec<Product>,
}

/// Reads a file through a mapping (no storage involved), holding fields to
/// `limits`. Rows with an id seen before replace the earlier one.
pub fn parse(
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read,
    limits: FieldLimits,
) -> anyhow::Result<Parsed> {
    let mut products: Vec<Product> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let report = Importer::new(mapping, lookups)
        .with_limits(limits)
        .read(format, input, |p| match at.get(&p.id) {
            Some(&i) => products[i] = p,
            None => {
                at.insert(p.id.clone(), products.len());
                products.push(p);
            }
        })?;
    Ok(Parsed { report, products })
}

/// Splits parsed products into what changes against `existing` (the
/// fingerprint of the stored product with an id, [`Product::fingerprint`]),
/// with the counts of added, updated and unchanged products.
pub fn diff(parsed: Parsed, existing: impl Fn(&str) -> Option<u64>) -> ImportOutcome {
    let mut outcome = ImportOutcome {
        report: parsed.report,
        ..ImportOutcome::default()
    };
    for p in parsed.products {
        let change = match existing(&p.id) {
            Some(old) if old == p.fingerprint() => Change::Unchanged,
            Some(_) => Change::Updated,
            None => Change::Added,
        };
        match change {
            Change::Added => outcome.added += 1,
            Change::Updated => outcome.updated += 1,
            Change::Unchanged => outcome.unchanged += 1,
        }
        if change != Change::Unchanged {
            outcome.changed.push(p);
        }
    }
    outcome
}
