//! `morelike bench` against the real server: the binary run as an operator
//! runs it, its `--json` report read back.

use std::process::Command;

use morelike::server::limits::Limits;
use morelike::server::Config;
use serde_json::Value;

use crate::helpers::{config, demo_data_dir, TestApp};

/// A demo server whose rate limits let one client address load it.
async fn unlimited() -> (tempfile::TempDir, TestApp) {
    let dir = demo_data_dir();
    let app = TestApp::start(Config {
        limits: Limits {
            requests_per_sec_per_address: 0,
            session_starts_per_min_per_address: 0,
            requests_per_sec_per_key: 0,
            messages_per_sec_per_socket: 0,
            ..Limits::default()
        },
        ..config(dir.path())
    })
    .await;
    (dir, app)
}

/// Runs `morelike bench --json` on the app's demo store; answers its report.
async fn bench(app: &TestApp, args: &[&str]) -> Value {
    let server = format!("http://{}", app.addr);
    let mut command = Command::new(env!("CARGO_BIN_EXE_morelike"));
    command
        .args(["bench", "--server", &server, "--key", "pk_demo", "--json"])
        .args(args)
        .env("MORELIKE_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(&text).unwrap()
}

fn percentiles_are_ordered(report: &Value, name: &str) {
    let p = &report[name];
    let at = |q: &str| p[q].as_u64().unwrap_or_else(|| panic!("{name}.{q}: {p}"));
    assert!(at("p50") > 0, "{name}: {p}");
    assert!(
        at("p50") <= at("p90") && at("p90") <= at("p99") && at("p99") <= at("p999"),
        "{name}: {p}"
    );
    assert!(at("p999") <= at("max"), "{name}: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_bench_answers_every_scheduled_page_and_reports_json() {
    let (_dir, app) = unlimited().await;
    let report = bench(
        &app,
        &[
            "--rate",
            "40",
            "--seconds",
            "2",
            "--clients",
            "4",
            "--sockets",
            "6",
        ],
    )
    .await;
    assert_eq!(report["mode"], "open", "{report}");
    assert_eq!(report["rate"], 40.0);
    assert_eq!(report["scheduled"], 80, "rate × seconds: {report}");
    assert_eq!(report["interactions"], 80, "every page answered: {report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert_eq!(report["clients"], 4);
    // The schedule spans 2 s: the run cannot end before the last page is due.
    assert!(report["seconds"].as_f64().unwrap() >= 1.9, "{report}");
    percentiles_are_ordered(&report, "round_trip_us");
    percentiles_are_ordered(&report, "server_us");
    let idle = &report["idle_sockets"];
    assert_eq!(idle["held"], 6, "{report}");
    assert_eq!(idle["failed"], 0, "{report}");
    assert_eq!(idle["closed_by_server"], 0, "{report}");
    assert!(report["healthz_asks"].as_u64().unwrap() >= 10, "{report}");
    assert_eq!(report["healthz_failures"], 0, "{report}");
    percentiles_are_ordered(&report, "healthz_us");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_bench_keeps_its_flags_and_reports_json() {
    let (_dir, app) = unlimited().await;
    let report = bench(&app, &["--clients", "3", "--interactions", "10"]).await;
    assert_eq!(report["mode"], "closed", "{report}");
    assert_eq!(report["interactions"], 30, "{report}");
    assert_eq!(report["scheduled"], 0);
    assert!(report["rate"].is_null());
    assert!(report["idle_sockets"].is_null());
    assert!(report["throughput"].as_f64().unwrap() > 0.0);
    percentiles_are_ordered(&report, "round_trip_us");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_with_a_seed_the_store_lacks_stops_and_names_the_code_that_refused_it() {
    let (_dir, app) = unlimited().await;
    // A seed the store does not have: the first page is refused, and the
    // run says so instead of timing nothing.
    let server = format!("http://{}", app.addr);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_morelike"))
            .args(["bench", "--server", &server, "--key", "pk_demo"])
            .args([
                "--rate",
                "10",
                "--seconds",
                "1",
                "--seed",
                "no-such-product",
            ])
            .env("MORELIKE_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown_product"), "{stderr}");
    app.stop().await;
}
