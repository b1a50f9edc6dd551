//! `morelike bench`: load a running server over real WebSockets.

use anyhow::Context;

use crate::bench::{self, Plan};

/// Arguments of `morelike bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:7700")]
    pub server: String,
    /// The store.
    #[arg(long, default_value = "demo")]
    pub store: String,
    /// Concurrent sessions.
    #[arg(long, default_value_t = 1)]
    pub clients: usize,
    /// Interactions per session.
    #[arg(long, default_value_t = 1000)]
    pub interactions: usize,
    /// Products per page.
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// Interactions before a client starts a fresh session (0: never).
    #[arg(long, default_value_t = 20)]
    pub session_length: usize,
    /// Seed products (sessions take them in turn); the defaults are fashion ids.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "15970,15528,22395,59365,5891,12190,13846,5865"
    )]
    pub seed: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `morelike bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let base = args
        .server
        .trim_end_matches('/')
        .replacen("http://", "ws://", 1)
        .replacen("https://", "wss://", 1);
    let plan = Plan {
        url: format!("{base}/v1/stores/{}/ws", args.store),
        clients: args.clients.max(1),
        interactions: args.interactions,
        k: args.k,
        session_length: args.session_length,
        seeds: args.seed,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(bench::run(plan.clone()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} session(s) × {} interactions on {}: {} timed in {:.2} s, {:.0} interactions/s",
        report.clients,
        args.interactions,
        plan.url,
        report.interactions,
        report.seconds,
        report.throughput
    );
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8}",
        "µs", "p50", "p90", "p99", "max"
    );
    for (name, p) in [
        ("round trip (client)", &report.round_trip_us),
        ("server (took_us)", &report.server_us),
    ] {
        println!(
            "{name:<22} {:>8} {:>8} {:>8} {:>8}",
            p.p50, p.p90, p.p99, p.max
        );
    }
    Ok(())
}
