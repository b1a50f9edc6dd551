//! The `morelike` binary: parses the command line and runs it.

use clap::Parser;

/// mimalloc instead of the system's allocator: an import makes and frees
/// a dozen small strings per row across three threads, and glibc's malloc
/// spent a fifth of a 1M-row import on them (BENCHMARKS.md). Built
/// without transparent huge pages (`no_thp`): with them a server holding
/// a 44k store used 67 MB instead of glibc's 35 MB; without, 40 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MORELIKE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    morelike::cli::run(morelike::cli::Cli::parse())
}
