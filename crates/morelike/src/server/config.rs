//! Server configuration: defaults, then a TOML file, then `MORELIKE_*`
//! environment variables, then command-line flags — each overriding the last.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::access::AdminKey;
use super::limits::{Limits, LimitsLayer};

/// The settings a running server uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The embedded store's directory.
    pub data_dir: PathBuf,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// Create the `demo` store from the bundled catalog when there are no stores.
    pub demo: bool,
    /// How long an untouched session is kept.
    pub session_ttl: Duration,
    /// The write-behind window: no session change is taken while the oldest
    /// unwritten one is older than this.
    pub session_write_window: Duration,
    /// No session change is taken while this many sessions are unwritten.
    pub session_backlog: usize,
    /// A store's index snapshot is written again once its live changes
    /// have paused this long.
    pub snapshot_delay: Duration,
    /// How long a shutdown may take, all in: sockets closed, requests
    /// finished or dropped, sessions written.
    pub shutdown_timeout: Duration,
    /// The largest WebSocket frame answered normally (bigger ones get `frame_too_large`).
    pub max_frame_bytes: usize,
    /// The largest catalog upload.
    pub max_upload_bytes: usize,
    /// The largest JSON request body.
    pub max_body_bytes: usize,
    /// The node's admin key (create and delete stores, rotate any store's
    /// keys); without one, admin calls are refused.
    pub admin_key: Option<AdminKey>,
    /// Host names the server answers to (`*`: any); by default the loopback
    /// names when listening on loopback, else any.
    pub allowed_hosts: Option<Vec<String>>,
    /// Behind a proxy: the header holding the client's address
    /// (`x-forwarded-for`; its last entry is used).
    pub client_address_header: Option<String>,
    /// Shared storage for several nodes (`redis://…`, `rediss://…`,
    /// `redis+cluster://…`) instead of the embedded store in `data_dir`.
    pub redis: Option<RedisUrl>,
    /// Each store's change log in Redis is capped near this many entries.
    pub redis_log_len: usize,
    /// The stores this node serves (names or patterns with `*`); all when
    /// `None`.
    pub stores: Option<Placement>,
    /// Threads of the CPU pool (`compute.rs`); 0: one per core.
    pub compute_threads: usize,
    /// Pages of stores with at least this many products are computed on
    /// the CPU pool; smaller stores' pages inline (BENCHMARKS.md).
    pub pool_pages_from: usize,
    /// The memory the stores' catalogs may take together, in bytes (what
    /// they hold on the heap, `Store::bytes`): past it the least recently
    /// used stores leave memory (they load again on their next call).
    /// By default half the memory the machine (or its container) gives
    /// the process (`machine_memory.rs`); `None`: no budget, nothing is
    /// evicted.
    pub memory_budget: Option<u64>,
    /// Every other limit.
    pub limits: Limits,
}

/// A size in bytes as an operator writes it: `2GB`, `512MiB`, `1.5G`,
/// `100000` (decimal units are powers of 1,000, `i` units of 1,024).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("'{s}' is not a size: write e.g. 2GB, 512MiB or 1000000"))?;
        let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "m" | "mb" => 1_000_000,
            "g" | "gb" => 1_000_000_000,
            "t" | "tb" => 1_000_000_000_000,
            "ki" | "kib" => 1 << 10,
            "mi" | "mib" => 1 << 20,
            "gi" | "gib" => 1 << 30,
            "ti" | "tib" => 1 << 40,
            other => {
                return Err(format!(
                    "'{s}': unknown unit '{other}': use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB"
                ))
            }
        };
        Ok(ByteSize((number * scale as f64) as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(u64),
            Text(String),
        }
        match Written::deserialize(d)? {
            Written::Number(n) => Ok(ByteSize(n)),
            Written::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A Redis URL as given; shown only without its password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RedisUrl(pub String);

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match crate::store::redis::url::parse(&self.0, None, None) {
            Ok(target) => f.write_str(&target.shown),
            Err(_) => f.write_str("<a Redis URL that cannot be read>"),
        }
    }
}

impl std::str::FromStr for RedisUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(RedisUrl(s.to_owned()))
    }
}

/// Which stores a node serves: names, or patterns where `*` stands for any
/// run of characters (`big-*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement(Vec<String>);

impl Placement {
    /// A placement from names and patterns (empty entries are ignored).
    pub fn new(patterns: Vec<String>) -> Self {
        Placement(
            patterns
                .into_iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    /// Whether a store is served.
    pub fn serves(&self, store: &str) -> bool {
        self.0.iter().any(|pattern| matches(pattern, store))
    }
}

/// Whether `name` matches `pattern`, where `*` is any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Pages of stores this big or bigger go to the CPU pool by default
/// (BENCHMARKS.md, "Inline pages or the CPU pool").
pub const POOL_PAGES_FROM: usize = 10_000;

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./morelike-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            demo: true,
            session_ttl: Duration::from_secs(24 * 3600),
            session_write_window: Duration::from_secs(1),
            session_backlog: 10_000,
            snapshot_delay: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            max_frame_bytes: 64 * 1024,
            max_upload_bytes: 64 << 20,
            max_body_bytes: 64 * 1024,
            admin_key: None,
            allowed_hosts: None,
            client_address_header: None,
            redis: None,
            redis_log_len: 1_000,
            stores: None,
            compute_threads: 0,
            pool_pages_from: POOL_PAGES_FROM,
            memory_budget: super::machine_memory::default_budget(),
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// A configuration for tests: a given directory, any free port, no demo.
    pub fn for_tests(data_dir: &Path) -> Self {
        Config {
            data_dir: data_dir.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo: false,
            ..Config::default()
        }
    }

    /// Whether this node serves a store (`--stores`).
    pub fn serves(&self, store: &str) -> bool {
        self.stores.as_ref().is_none_or(|p| p.serves(store))
    }

    /// Applies a layer of settings over this one.
    pub fn apply(&mut self, layer: Layer) {
        let Layer {
            data_dir,
            listen,
            no_demo,
            session_ttl_secs,
            session_write_window_ms,
            session_backlog,
            snapshot_delay_ms,
            shutdown_timeout_secs,
            max_frame_bytes,
            max_upload_bytes,
            max_body_bytes,
            admin_key: _,
            allowed_hosts,
            client_address_header,
            redis,
            redis_log_len,
            stores,
            compute_threads,
            pool_pages_from,
            memory_budget,
            limits,
        } = layer;
        if let Some(v) = data_dir {
            self.data_dir = v;
        }
        if let Some(v) = listen {
            self.listen = v;
        }
        if let Some(no_demo) = no_demo {
            self.demo = !no_demo;
        }
        if let Some(v) = session_ttl_secs {
            self.session_ttl = Duration::from_secs(v);
        }
        if let Some(v) = session_write_window_ms {
            self.session_write_window = Duration::from_millis(v);
        }
        if let Some(v) = session_backlog {
            self.session_backlog = v.max(1);
        }
        if let Some(v) = snapshot_delay_ms {
            self.snapshot_delay = Duration::from_millis(v);
        }
        if let Some(v) = shutdown_timeout_secs {
            self.shutdown_timeout = Duration::from_secs_f64(v.max(0.1));
        }
        if let Some(v) = max_frame_bytes {
            self.max_frame_bytes = v;
        }
        if let Some(v) = max_upload_bytes {
            self.max_upload_bytes = v;
        }
        if let Some(v) = max_body_bytes {
            self.max_body_bytes = v;
        }
        if let Some(v) = allowed_hosts {
            self.allowed_hosts = Some(v);
        }
        if let Some(v) = client_address_header {
            self.client_address_header = Some(v.to_ascii_lowercase());
        }
        if let Some(v) = redis.filter(|r| !r.0.trim().is_empty()) {
            self.redis = Some(v);
        }
        if let Some(v) = redis_log_len {
            self.redis_log_len = v.max(1);
        }
        if let Some(v) = stores {
            self.stores = Some(Placement::new(v));
        }
        if let Some(v) = compute_threads {
            self.compute_threads = v;
        }
        if let Some(v) = pool_pages_from {
            self.pool_pages_from = v;
        }
        if let Some(v) = memory_budget {
            self.memory_budget = (v.0 > 0).then_some(v.0);
        }
        self.limits.apply(limits);
    }

    fn set_admin_key(&mut self, key: Option<&str>) -> Result<(), ConfigError> {
        if let Some(key) = key.filter(|k| !k.trim().is_empty()) {
            self.admin_key = Some(AdminKey::new(key).map_err(ConfigError::Invalid)?);
        }
        Ok(())
    }

    /// Defaults, then the file (when given), then `flags` (which clap has
    /// already filled from `MORELIKE_*` where a flag was absent).
    pub fn load(file: Option<&Path>, flags: Layer) -> Result<Self, ConfigError> {
        let env_key = std::env::var("MORELIKE_ADMIN_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty());
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            let layer: Layer = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            // The admin key has no flag (a flag shows in `ps`): the file,
            // or the environment, which wins; the file's is judged only
            // when it is the one used.
            if env_key.is_none() {
                config.set_admin_key(layer.admin_key.as_deref())?;
            }
            config.apply(layer);
        }
        config.set_admin_key(env_key.as_deref())?;
        config.apply(flags);
        Ok(config)
    }
}

/// One source of settings; absent values leave the one below in place. The
/// same names serve as TOML keys, as `--flags` and as `MORELIKE_*` variables.
#[derive(Clone, Debug, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// The data directory of the embedded store [default: ./morelike-data].
    #[arg(long, env = "MORELIKE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The address to listen on [default: 127.0.0.1:7700].
    #[arg(long, env = "MORELIKE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Do not create the demo store on first start.
    #[arg(long, env = "MORELIKE_NO_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub no_demo: Option<bool>,
    /// Seconds an untouched session is kept [default: 86400].
    #[arg(long, env = "MORELIKE_SESSION_TTL_SECS")]
    pub session_ttl_secs: Option<u64>,
    /// The write-behind window for sessions, in milliseconds: no change is
    /// taken while an older one waits longer to be written [default: 1000].
    #[arg(long, env = "MORELIKE_SESSION_WRITE_WINDOW_MS")]
    pub session_write_window_ms: Option<u64>,
    /// No session change is taken while this many sessions wait to be
    /// written [default: 10000].
    #[arg(long, env = "MORELIKE_SESSION_BACKLOG")]
    pub session_backlog: Option<usize>,
    /// Milliseconds a store's live changes must pause before its index
    /// snapshot is written again [default: 10000].
    #[arg(long, env = "MORELIKE_SNAPSHOT_DELAY_MS")]
    pub snapshot_delay_ms: Option<u64>,
    /// Seconds a shutdown may take, all in [default: 10].
    #[arg(long, env = "MORELIKE_SHUTDOWN_TIMEOUT_SECS")]
    pub shutdown_timeout_secs: Option<f64>,
    /// Largest WebSocket frame answered normally, in bytes [default: 65536].
    #[arg(long, env = "MORELIKE_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
    /// Largest catalog upload, in bytes [default: 64 MiB].
    #[arg(long, env = "MORELIKE_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<usize>,
    /// Largest JSON request body, in bytes [default: 65536].
    #[arg(long, env = "MORELIKE_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// The node's admin key (at least 24 characters): in the file, or as
    /// `MORELIKE_ADMIN_KEY`; never a flag, never logged.
    #[arg(skip)]
    pub admin_key: Option<String>,
    /// Host names the server answers to, comma-separated (`*`: any)
    /// [default: the loopback names when listening on loopback, else any].
    #[arg(long, env = "MORELIKE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Option<Vec<String>>,
    /// Behind a proxy: the header that holds the client's address
    /// (`x-forwarded-for`); its last entry is used.
    #[arg(long, env = "MORELIKE_CLIENT_ADDRESS_HEADER")]
    pub client_address_header: Option<String>,
    /// Keep everything in Redis, shared with other nodes, instead of the
    /// data directory: `redis://[user:password@]host:6379[/db]`,
    /// `rediss://…` (TLS) or `redis+cluster://host:port,host:port`. Prefer
    /// `MORELIKE_REDIS_PASSWORD` to a password in the URL (a flag shows in
    /// `ps`); the password is never logged.
    #[arg(long, env = "MORELIKE_REDIS")]
    pub redis: Option<RedisUrl>,
    /// Each store's change log in Redis keeps about this many entries; a
    /// node that falls further behind reads the store again whole
    /// [default: 1000].
    #[arg(long, env = "MORELIKE_REDIS_LOG_LEN")]
    pub redis_log_len: Option<usize>,
    /// Serve only these stores: names or patterns with `*`, comma-separated
    /// (`big-shop,small-*`) [default: every store].
    #[arg(long, env = "MORELIKE_STORES", value_delimiter = ',')]
    pub stores: Option<Vec<String>>,
    /// Threads of the CPU pool that computes long pages, name searches and
    /// catalog builds off the async workers [default: 0, one per core].
    #[arg(long, env = "MORELIKE_COMPUTE_THREADS")]
    pub compute_threads: Option<usize>,
    /// Pages of stores with at least this many products are computed on
    /// the CPU pool, smaller ones inline [default: 10000].
    #[arg(long, env = "MORELIKE_POOL_PAGES_FROM")]
    pub pool_pages_from: Option<usize>,
    /// Memory the stores' catalogs may take together (`2GB`, `512MiB`), as
    /// they hold it on the heap (the process adds tens of MB): past it the
    /// least recently used stores leave memory and load again on their
    /// next call; 0: no budget [default: half the machine's memory, or its
    /// container's limit].
    #[arg(long, env = "MORELIKE_MEMORY_BUDGET")]
    pub memory_budget: Option<ByteSize>,
    /// Limits (the `[limits]` table of the file).
    #[command(flatten)]
    #[serde(default)]
    pub limits: LimitsLayer,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the configuration {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A value that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The file is not valid TOML or has unknown keys.
    #[error("configuration {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("morelike.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nsession_ttl_secs = 60\nno_demo = true\n",
        )
        .unwrap();
        let flags = Layer {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Layer::default()
        };
        let config = Config::load(Some(&file), flags).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(config.session_ttl, Duration::from_secs(60));
        assert!(!config.demo);
        assert_eq!(config.max_frame_bytes, Config::default().max_frame_bytes);
    }

    #[test]
    fn limits_and_the_admin_key_come_from_the_file_and_the_key_is_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("morelike.toml");
        std::fs::write(
            &file,
            "admin_key = \"correct-horse-battery-staple-42\"\n[limits]\nmax_stores = 7\nidle_socket_secs = 9\n",
        )
        .unwrap();
        let flags = Layer {
            limits: LimitsLayer {
                max_stores: Some(8),
                ..LimitsLayer::default()
            },
            ..Layer::default()
        };
        let config = Config::load(Some(&file), flags).unwrap();
        assert_eq!(config.limits.max_stores, 8, "a flag wins over the file");
        assert_eq!(config.limits.idle_socket_secs, 9);
        assert!(config.admin_key.is_some());
        let printed = format!("{config:?}");
        assert!(!printed.contains("correct-horse"), "{printed}");
        std::fs::write(&file, "admin_key = \"short\"\n").unwrap();
        let err = Config::load(Some(&file), Layer::default()).unwrap_err();
        assert!(err.to_string().contains("at least 24"), "{err}");
    }

    #[test]
    fn a_redis_url_from_the_file_is_never_printed_with_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("morelike.toml");
        std::fs::write(
            &file,
            "redis = \"redis://app:hunter2-secret@cache:6379/0\"\nstores = [\"big\", \"small-*\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), Layer::default()).unwrap();
        let url = config.redis.as_ref().unwrap();
        assert_eq!(url.0, "redis://app:hunter2-secret@cache:6379/0");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("cache:6379"), "{printed}");
        assert!(config.serves("big") && config.serves("small-1") && config.serves("small-"));
        assert!(!config.serves("bigger") && !config.serves("other"));
        assert!(Config::default().serves("anything"));
    }

    #[test]
    fn store_patterns_match_names_with_stars_anywhere() {
        for (pattern, name, served) in [
            ("*", "a", true),
            ("a*c", "abc", true),
            ("a*c", "abcd", false),
            ("*-eu", "shop-eu", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "acb", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ] {
            assert_eq!(matches(pattern, name), served, "{pattern} vs {name}");
        }
    }

    #[test]
    fn a_memory_budget_reads_as_an_operator_writes_it() {
        for (written, bytes) in [
            ("2GB", 2_000_000_000),
            ("512MiB", 512 << 20),
            ("1.5G", 1_500_000_000),
            ("100000", 100_000),
            (" 3 gib ", 3 << 30),
        ] {
            assert_eq!(
                written.parse::<ByteSize>(),
                Ok(ByteSize(bytes)),
                "{written}"
            );
        }
        let err = "2 parsecs".parse::<ByteSize>().unwrap_err();
        assert!(err.contains("unknown unit"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("morelike.toml");
        std::fs::write(&file, "memory_budget = \"2GB\"\n").unwrap();
        let config = Config::load(Some(&file), Layer::default()).unwrap();
        assert_eq!(config.memory_budget, Some(2_000_000_000));
        std::fs::write(&file, "memory_budget = 5000\n").unwrap();
        let config = Config::load(Some(&file), Layer::default()).unwrap();
        assert_eq!(config.memory_budget, Some(5000));
        // 0 is the operator's "no budget"; unset is the machine's share.
        std::fs::write(&file, "memory_budget = 0\n").unwrap();
        let config = Config::load(Some(&file), Layer::default()).unwrap();
        assert_eq!(config.memory_budget, None);
        let config = Config::load(None, Layer::default()).unwrap();
        assert_eq!(
            config.memory_budget,
            super::super::machine_memory::default_budget()
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("morelike.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&file), Layer::default()).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }
}
