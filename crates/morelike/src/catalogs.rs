//! Loading a store's catalog from storage and importing files into it.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use morelike_core::import::{FieldLimits, ImportReport, Importer, Lookup};
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

/// Splits parsed products into what changes against `existing`, with the
/// counts of added, updated and unchanged products.
pub fn diff<'a>(parsed: Parsed, existing: impl Fn(&str) -> Option<&'a Product>) -> ImportOutcome {
    let mut outcome = ImportOutcome {
        report: parsed.report,
        ..ImportOutcome::default()
    };
    for p in parsed.products {
        let change = match existing(&p.id) {
            Some(old) if *old == p => Change::Unchanged,
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

/// Imports a file into a store (the CLI, the demo): an upsert that writes
/// only what changed, all of it in one transaction. The mapping becomes the
/// store's mapping. Fields are held to the default [`FieldLimits`].
pub fn import(
    storage: &dyn Storage,
    store: &str,
    mapping: &Mapping,
    lookups: &[Lookup],
    format: Format,
    input: impl Read,
) -> anyhow::Result<ImportOutcome> {
    let parsed = parse(mapping, lookups, format, input, FieldLimits::default())?;
    let existing: HashMap<String, Product> = storage
        .products(store)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let outcome = diff(parsed, |id| existing.get(id));
    let mut settings = storage
        .settings(store)?
        .unwrap_or_else(|| StoreSettings::new(mapping.clone()));
    settings.mapping = mapping.clone();
    settings
        .weights
        .retain(|view, _| mapping.views.iter().any(|v| &v.name == view));
    storage.put_products(store, &outcome.changed)?;
    storage.put_settings(store, &settings)?;
    Ok(outcome)
}
