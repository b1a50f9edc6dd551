//! A real `morelike serve` process on a data directory, on a free port,
//! with the tests' admin key.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `morelike serve`.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// Every line it wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary on `dir` with extra flags; waits until it listens.
    pub fn start(dir: &Path, flags: &[&str]) -> Server {
        Server::start_with_env(dir, flags, &[("MORELIKE_LOG", "warn")])
    }

    /// As [`Server::start`], with environment variables.
    pub fn start_with_env(dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_morelike"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--no-demo"])
            .args(flags)
            .env("MORELIKE_LOG", "warn")
            .env("MORELIKE_ADMIN_KEY", crate::helpers::ADMIN)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("morelike starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('/').to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("morelike says where it listens")
            .parse()
            .unwrap();
        Server { child, addr, log }
    }

    /// The process id (to stop and continue it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to write anything.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit: its status and how long it took.
    pub fn terminate(mut self) -> (ExitStatus, Duration) {
        let asked = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        (status, asked.elapsed())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
