//! Real Redis servers for the tests: `redis-server` processes on free ports
//! in temporary directories, standalone or as a three-master Cluster made
//! with `redis-cli --cluster create`. Each is killed when dropped. A
//! machine without `redis-server` fails the test loudly (`scripts/test`
//! installs Debian's).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` process.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    args: Vec<String>,
}

/// A port free now, whose Cluster bus port (+10,000) is free too.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair for redis-server");
}

/// Sends one inline command and answers what came back (best effort).
fn ask(port: u16, command: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut buf = vec![0u8; 8192];
    let n = stream.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

impl RedisServer {
    /// A standalone server that keeps nothing on disk.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// A server with more arguments (persistence, cluster mode).
    pub fn start_with(args: &[&str]) -> RedisServer {
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            args: args.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        // Through a shell that kills the server when our end of its stdin
        // closes: when this process exits, however it exits, no server is
        // left behind (shared servers live in statics, never dropped).
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                "command -v redis-server >/dev/null || exit 127; \
                 redis-server \"$@\" & pid=$!; read _ignored; kill -9 $pid; wait $pid; exit 0",
            )
            .arg("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run sh");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(20);
        while !ask(self.port, "PING").is_some_and(|r| r.contains("PONG") || r.contains("NOAUTH")) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server exited ({status}){}",
                    if status.code() == Some(127) {
                        ": it is not installed (scripts/test installs Debian's redis-server)"
                    } else {
                        ""
                    }
                );
            }
            assert!(
                Instant::now() < until,
                "redis-server did not answer on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's directory (its AOF lives there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server with SIGKILL: nothing is saved but what it wrote.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Closing its stdin makes the shell kill -9 the server.
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Runs one command; answers the raw reply.
    pub fn command(&self, command: &str) -> String {
        ask(self.port, command).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis Cluster of three masters, no replicas.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three servers in cluster mode and joins them.
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                ])
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let made = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli ({e}): install redis-tools"));
        assert!(
            made.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&made.stdout),
            String::from_utf8_lossy(&made.stderr)
        );
        let until = Instant::now() + Duration::from_secs(30);
        for node in &nodes {
            while !node.command("CLUSTER INFO").contains("cluster_state:ok") {
                assert!(Instant::now() < until, "the cluster did not become ok");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    /// `redis+cluster://` with every node.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }
}
