//! Loading a store's catalog from storage and importing files into it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use morelike_core::import::{ImportReport, Importer, Lookup};
use morelike_core::{Catalog, Change, Format, Mapping, Precision, Product};
use serde::Serialize;

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
            let reader = File::open(&file)
                .with_context(|| format!("cannot open the lookup table {}", file.display()))?;
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
    let (products, _) = Importer::new(&mapping, &lookups)
        .read_all(format, std::io::BufReader::new(file))
        .with_context(|| format!("cannot import {}", catalog.display()))?;
    Ok(Catalog::build(mapping, products, Precision::default()))
}

/// Builds a store's catalog from its settings and stored products.
pub fn load(storage: &dyn Storage, store: &str) -> anyhow::Result<Catalog> {
    let Some(settings) = storage.settings(store)? else {
        bail!("there is no store '{store}': import a catalog into it first");
    };
    let products = storage.products(store)?;
    build(&settings, products)
}

/// Builds a catalog from settings and products (weights applied).
pub fn build(settings: &StoreSettings, products: Vec<Product>) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog::build(settings.mapping.clone(), products, settings.precision);
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
    /// The products written (added or updated), for a live catalog to apply.
    #[serde(skip)]
    pub changed: Vec<Product>,
}

/// Imports a file into a store: an upsert that writes only what changed.
/// The mapping becomes the store's mapping.
pub fn import(
    storage: &dyn Storage,
    store: &str,
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read,
) -> anyhow::Result<ImportOutcome> {
    let existing: std::collections::HashMap<String, Product> = storage
        .products(store)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let mut outcome = ImportOutcome::default();
    let mut changed: Vec<Product> = Vec::new();
    let mut batch_ids = std::collections::HashSet::new();
    let report = Importer::new(mapping, lookups).read(format, input, |p| {
        let change = match existing.get(&p.id) {
            Some(old) if *old == p => Change::Unchanged,
            Some(_) => Change::Updated,
            None => Change::Added,
        };
        if batch_ids.insert(p.id.clone()) {
            match change {
                Change::Added => outcome.added += 1,
                Change::Updated => outcome.updated += 1,
                Change::Unchanged => outcome.unchanged += 1,
            }
        }
        if change != Change::Unchanged {
            changed.push(p);
        }
    })?;
    outcome.report = report;
    let mut settings = storage
        .settings(store)?
        .unwrap_or_else(|| StoreSettings::new(mapping.clone()));
    settings.mapping = mapping.clone();
    settings
        .weights
        .retain(|view, _| mapping.views.iter().any(|v| &v.name == view));
    storage.put_products(store, &changed)?;
    storage.put_settings(store, &settings)?;
    outcome.changed = changed;
    Ok(outcome)
}
