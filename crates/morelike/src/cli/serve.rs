//! `morelike serve`: runs the HTTP and WebSocket server until ctrl-c or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::server::config::{Config, Layer};
use crate::server::{shutdown_signal, Application};

/// Arguments of `morelike serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A configuration file (TOML); environment variables and flags override it.
    #[arg(long, env = "MORELIKE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    settings: Layer,
}

/// Runs `morelike serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    warn_unknown_variables();
    let config = Config::load(args.config.as_deref(), args.settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async {
        let app = Application::build(config).await?;
        eprintln!("morelike is serving on http://{}/", app.address());
        app.run(shutdown_signal()).await?;
        Ok(())
    });
    // `run` kept the deadline; a blocking task still going (an upload whose
    // client stalled) does not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    served
}

/// Warns about each `MORELIKE_*` variable that is none of `serve`'s
/// settings (a misspelling would otherwise be ignored silently).
fn warn_unknown_variables() {
    let command = <ServeArgs as clap::Args>::augment_args(clap::Command::new("serve"));
    let known: Vec<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    crate::server::unknown_env::warn(known.iter().map(String::as_str));
}
