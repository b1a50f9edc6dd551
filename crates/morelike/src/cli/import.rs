//! `morelike import` and `morelike delete`.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use morelike_core::{Format, Precision};

use super::DataDir;
use crate::catalogs;
use crate::server::access::{issue_keys, Rotate};
use crate::store::Storage;

/// Arguments of `morelike import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The catalog file.
    pub file: PathBuf,
    /// The store to import into (created when new).
    #[arg(long)]
    pub store: String,
    /// The column mapping (TOML).
    #[arg(long)]
    pub mapping: PathBuf,
    /// The file's format, when its name does not tell.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// How the store's index holds its vectors: `i8` (a quarter of the
    /// memory; the default for a new store) or `f32` (exact). Left out, an
    /// existing store keeps its own.
    #[arg(long, value_parser = parse_precision)]
    pub precision: Option<Precision>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    data: DataDir,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    match s {
        "f32" => Ok(Precision::F32),
        "i8" => Ok(Precision::I8),
        _ => Err(format!("unknown precision '{s}': use f32 or i8")),
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_file_name(&format!("x.{s}"))
        .ok_or_else(|| format!("unknown format '{s}': use csv, jsonl or json"))
}

/// Counts bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// Runs `morelike import`.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (mapping, lookups) = catalogs::read_mapping(&args.mapping)?;
    let format = args
        .format
        .or(mapping.format)
        .or_else(|| Format::from_file_name(&args.file.to_string_lossy()))
        .context("cannot tell the file's format from its name: pass --format csv|jsonl|json")?;
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if std::io::stderr().is_terminal() && !args.json {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let storage = args.data.open()?;
    let input = Counted {
        inner: std::io::BufReader::with_capacity(1 << 16, file),
        bar: bar.clone(),
    };
    let to = catalogs::Target {
        store: &args.store,
        precision: args.precision,
    };
    let imported = catalogs::import_and_index(&storage, to, &mapping, &lookups, format, input)?;
    bar.finish_and_clear();
    if !imported.stored {
        return nothing_imported(&args, &imported.outcome);
    }
    let outcome = imported.outcome;
    let products = imported.catalog.as_ref().map_or(0, |c| c.len());
    let precision = imported
        .catalog
        .as_ref()
        .map_or(Precision::default(), |c| c.index().precision());
    // The process ends right after: freeing a million products' cards and
    // index rows piece by piece would cost about a second for nothing.
    std::mem::forget(imported.catalog);
    // A new store gets its keys here, shown once (only their hashes are kept).
    let keys = match storage.access(&args.store)? {
        Some(_) => None,
        None => Some(issue_keys(&storage, &args.store, Rotate::Both)?),
    };
    let ready = started.elapsed();
    if args.json {
        let mut value = serde_json::to_value(&outcome)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("precision".into(), serde_json::to_value(precision)?);
        }
        if let (Some(keys), Some(object)) = (&keys, value.as_object_mut()) {
            object.insert("secret_key".into(), keys.secret_key.clone().into());
            object.insert(
                "publishable_key".into(),
                keys.publishable_key.clone().into(),
            );
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    print_report(&args, &outcome);
    println!(
        "store '{}' holds {} products (index at {}); imported and indexed in {:.2} s",
        args.store,
        products,
        serde_json::to_value(precision)?
            .as_str()
            .unwrap_or_default(),
        ready.as_secs_f64()
    );
    if let Some(keys) = keys {
        println!(
            "new store '{}': secret key {} (for your servers only), publishable key {} (for the widget); shown once",
            args.store,
            keys.secret_key.unwrap_or_default(),
            keys.publishable_key.unwrap_or_default()
        );
    }
    Ok(())
}

/// The report as text: the counts, every warning and rejection listed.
fn print_report(args: &ImportArgs, outcome: &catalogs::ImportOutcome) {
    let r = &outcome.report;
    println!(
        "{}: {} rows: {} imported ({} repaired), {} rejected; {} added, {} updated, {} unchanged",
        args.file.display(),
        r.rows,
        r.imported,
        r.repaired,
        r.rejected,
        outcome.added,
        outcome.updated,
        outcome.unchanged
    );
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    for e in &r.errors {
        println!("  rejected: {e}");
    }
    if r.errors.len() as u64 != r.rejected {
        println!(
            "  ({} more rejected rows not listed)",
            r.rejected - r.errors.len() as u64
        );
    }
}

/// Every row of the file was rejected, so nothing was stored: the report,
/// then an error (exit code 1) saying the store is as it was.
fn nothing_imported(args: &ImportArgs, outcome: &catalogs::ImportOutcome) -> anyhow::Result<()> {
    if args.json {
        let mut value = serde_json::to_value(outcome)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("stored".into(), false.into());
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_report(args, outcome);
    }
    anyhow::bail!(
        "nothing was imported: every one of the file's {} rows was rejected (the reasons are listed above). \
         Store '{}' is unchanged: its mapping, products and index are as they were. \
         Fix the rows or the mapping ({}) and import again",
        outcome.report.rows,
        args.store,
        args.mapping.display()
    )
}

/// Arguments of `morelike delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Product ids.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// The store.
    #[arg(long)]
    pub store: String,
    #[command(flatten)]
    data: DataDir,
}

/// Runs `morelike delete`.
pub fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let storage = args.data.open()?;
    // Which ids the store lacks, asked before: the delete answers a count.
    let mut missing = Vec::new();
    for id in &args.ids {
        if crate::store::Storage::product(&storage, &args.store, id)?.is_none()
            && !missing.contains(id)
        {
            missing.push(id.clone());
        }
    }
    let deleted = crate::store::Storage::delete_products(&storage, &args.store, &args.ids)?;
    println!(
        "deleted {deleted} of {} products from '{}'",
        args.ids.len(),
        args.store
    );
    if !missing.is_empty() {
        let quoted: Vec<String> = missing.iter().map(|id| format!("'{id}'")).collect();
        println!(
            "not found in '{}' (nothing to delete): {}",
            args.store,
            quoted.join(", ")
        );
    }
    Ok(())
}
