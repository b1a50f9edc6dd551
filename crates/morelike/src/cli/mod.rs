//! The command line: `morelike <subcommand>`. Each subcommand is a file here;
//! they parse, call the library, and print.

mod bench;
mod eval;
mod import;
mod serve;
mod session;
mod similar;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::store::Embedded;

/// Real-time interactive product recommender.
#[derive(Debug, Parser)]
#[command(name = "morelike", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the embedded store lives.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// The data directory of the embedded store.
    #[arg(long, env = "MORELIKE_DATA_DIR", default_value = "./morelike-data")]
    pub data_dir: PathBuf,
}

impl DataDir {
    /// Opens the embedded store.
    pub fn open(&self) -> anyhow::Result<Embedded> {
        Ok(Embedded::open(&self.data_dir)?)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a catalog file (CSV, JSON Lines, JSON) into a store.
    ///
    /// Exit code 0: the import was stored (rows it rejected, if any, are
    /// listed). 1: nothing was stored, because every row of the file was
    /// rejected (the store keeps its mapping, products and index) or the
    /// import could not run at all.
    Import(import::ImportArgs),
    /// Delete products from a store by id.
    Delete(import::DeleteArgs),
    /// Print the products most similar to one product.
    Similar(similar::SimilarArgs),
    /// Play a session in the terminal: `+3` / `-5` vote on shown items.
    Session(session::SessionArgs),
    /// Load a running server over WebSockets and report round-trip percentiles.
    Bench(bench::BenchArgs),
    /// Serve the HTTP API, the WebSocket protocol and the demo page.
    Serve(Box<serve::ServeArgs>),
    /// Simulated shoppers: every strategy side by side, a table and a plot.
    Eval(eval::EvalArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Import(args) => import::run(args),
        Command::Delete(args) => import::delete(args),
        Command::Similar(args) => similar::run(args),
        Command::Session(args) => session::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
    }
}
