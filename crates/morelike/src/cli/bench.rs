//! `morelike bench`: load a running server over real WebSockets.

use anyhow::Context;

use crate::bench::hold::{self, HoldPlan};
use crate::bench::{self, Plan};

/// Arguments of `morelike bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The server; several, comma-separated, for nodes without a load
    /// balancer: client `i` uses server `i` mod their number (the load
    /// check uses the first).
    #[arg(long, default_value = "http://127.0.0.1:7700", value_delimiter = ',')]
    pub server: Vec<String>,
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
    /// The store's publishable key, sent as the `key` query parameter (as
    /// the widget does).
    #[arg(long)]
    pub key: Option<String>,
    /// Open loop: pages per second, all sessions together, scheduled at fixed
    /// intervals and timed from the moment each was due (the `--clients`
    /// sessions take the next due page as they come free: give enough of
    /// them to keep up). Without it, each session waits for its answer.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Open loop: seconds of scheduled pages (rate × seconds pages in all).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Beside the pages: hold this many idle WebSockets open on the store
    /// (on the first server) for the whole run.
    #[arg(long, default_value_t = 0)]
    pub sockets: usize,
    /// Instead of interactions: hold this many idle WebSockets (the load
    /// check of the limits; see BENCHMARKS.md).
    #[arg(long, default_value_t = 0)]
    pub hold_sockets: usize,
    /// With the load check: this many slowloris connections.
    #[arg(long, default_value_t = 0)]
    pub slowloris: usize,
    /// With the load check: seconds to hold everything open.
    #[arg(long, default_value_t = 30)]
    pub hold_secs: u64,
    /// With the load check: the server's process id, to read its memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `morelike bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let urls: Vec<String> = args
        .server
        .iter()
        .map(|server| {
            let base = server
                .trim_end_matches('/')
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1);
            let url = format!("{base}/v1/stores/{}/ws", args.store);
            match &args.key {
                Some(key) => format!("{url}?key={key}"),
                None => url,
            }
        })
        .collect();
    anyhow::ensure!(!urls.is_empty(), "name a server with --server");
    if let Some(rate) = args.rate {
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0 && args.seconds > 0.0,
            "--rate and --seconds must be positive"
        );
    }
    if args.hold_sockets > 0 || args.slowloris > 0 {
        return hold_check(&args, urls[0].clone());
    }
    let plan = Plan {
        urls,
        clients: args.clients.max(1),
        interactions: args.interactions,
        k: args.k,
        session_length: args.session_length,
        seeds: args.seed.clone(),
        rate: args.rate,
        seconds: args.seconds,
        idle_sockets: args.sockets,
        address: Some(address_of(&args.server[0])),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(bench::run(plan.clone()))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    match report.rate {
        Some(rate) => println!(
            "open loop at {rate} pages/s, {} session(s) on {}: {} of {} scheduled answered in {:.2} s, {:.0} pages/s",
            report.clients,
            plan.urls.join(", "),
            report.interactions,
            report.scheduled,
            report.seconds,
            report.throughput
        ),
        None => println!(
            "{} session(s) × {} interactions on {}: {} timed in {:.2} s, {:.0} interactions/s",
            report.clients,
            args.interactions,
            plan.urls.join(", "),
            report.interactions,
            report.seconds,
            report.throughput
        ),
    }
    if !report.errors.is_empty() {
        println!("refused: {:?}", report.errors);
    }
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "µs", "p50", "p90", "p99", "p99.9", "max"
    );
    for (name, p) in [
        ("round trip (client)", &report.round_trip_us),
        ("server (took_us)", &report.server_us),
        ("/healthz", &report.healthz_us),
    ] {
        println!(
            "{name:<22} {:>8} {:>8} {:>8} {:>8} {:>8}",
            p.p50, p.p90, p.p99, p.p999, p.max
        );
    }
    if report.healthz_failures > 0 {
        println!(
            "/healthz: {} of {} asks failed or took over 1 s",
            report.healthz_failures, report.healthz_asks
        );
    }
    if let Some(idle) = &report.idle_sockets {
        println!(
            "idle WebSockets: {} held ({} closed by the server), refused {:?}, failed {}",
            idle.held, idle.closed_by_server, idle.refused, idle.failed
        );
    }
    Ok(())
}

/// `host:port` of a server URL.
fn address_of(server: &str) -> String {
    server
        .trim_end_matches('/')
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

/// Runs the load check of the limits.
fn hold_check(args: &BenchArgs, ws_url: String) -> anyhow::Result<()> {
    let plan = HoldPlan {
        address: address_of(&args.server[0]),
        ws_url,
        sockets: args.hold_sockets,
        slowloris: args.slowloris,
        seconds: args.hold_secs,
        server_pid: args.server_pid,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(hold::run(plan));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "WebSockets: {} held ({} still open after {} s), refused {:?}, failed {}; opened in {:.1} s",
        report.sockets_held,
        report.sockets_open_at_end,
        args.hold_secs,
        report.sockets_refused,
        report.sockets_failed,
        report.open_seconds
    );
    println!(
        "slowloris: {} of {} closed by the server, after p50 {} s, max {} s",
        report.slowloris_closed,
        args.slowloris,
        report.slowloris_close_secs.p50,
        report.slowloris_close_secs.max
    );
    let h = &report.healthz_us;
    println!(
        "/healthz: {} asks, {} failed or over 1 s; µs p50 {} p90 {} p99 {} max {}",
        report.healthz_asks, report.healthz_failures, h.p50, h.p90, h.p99, h.max
    );
    if !report.server_rss_kib.is_empty() {
        println!(
            "server RSS (KiB): before, all open, end: {:?}",
            report.server_rss_kib
        );
    }
    Ok(())
}
