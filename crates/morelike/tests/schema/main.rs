//! The OpenAPI document against the server it describes: schemathesis
//! (from PyPI, in the virtualenv `scripts/test` makes) generates requests
//! for every operation from `/v1/openapi.json` of a real `morelike serve`,
//! sent with the demo store's secret key, and checks every answer: no 5xx,
//! every status and content type documented, every body and header as the
//! schema says. A bounded number of cases per operation, with a fixed seed.
//! Fails loudly when schemathesis is missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "schemathesis-admin-key-0123456789";

/// One HTTP/1.1 request; returns the status and the body.
fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = if key.is_empty() {
        String::new()
    } else {
        format!("authorization: Bearer {key}\r\n")
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

/// The value of `"name": "…"` in a small JSON answer.
fn field(json: &str, name: &str) -> String {
    let start = json
        .find(&format!("\"{name}\":\""))
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        + name.len()
        + 4;
    json[start..].split('"').next().unwrap().to_owned()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let st = std::env::var_os("MORELIKE_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/schemathesis-venv/bin/st"));
    assert!(
        st.exists(),
        "this test needs schemathesis at {}: run scripts/test (it makes the virtualenv) or set MORELIKE_SCHEMATHESIS",
        st.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_morelike"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data.path())
            .env("MORELIKE_ADMIN_KEY", ADMIN)
            // A few thousand requests from one address in seconds: the
            // per-address rate would answer most with 429 (documented, but
            // it would test little else).
            .env("MORELIKE_REQUESTS_PER_SEC_PER_ADDRESS", "0")
            .env("MORELIKE_SESSION_STARTS_PER_MIN_PER_ADDRESS", "0")
            // Debug logs, to check no key is ever written to them.
            .env("MORELIKE_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("morelike serve starts"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err()
        || http(port, "GET", "/readyz", "", "").0 != 200
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server was not ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, keys) = http(
        port,
        "POST",
        "/v1/stores/demo/keys/rotate",
        ADMIN,
        r#"{"keys":"secret"}"#,
    );
    assert_eq!(status, 200, "{keys}");
    let secret = field(&keys, "secret_key");
    let (status, page) = http(
        port,
        "POST",
        "/v1/stores/demo/sessions",
        "pk_demo",
        r#"{"seed":"15970"}"#,
    );
    assert_eq!(status, 200, "{page}");
    let session = field(&page, "session");

    // Real identifiers, so requests reach past "no such store / product".
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("schemathesis.toml"),
        format!(
            "[parameters]\n\"path.store\" = \"demo\"\n\"path.id\" = \"15970\"\n\"path.product\" = \"15528\"\n\"path.session\" = \"{session}\"\n"
        ),
    )
    .unwrap();
    let output = Command::new(&st)
        .current_dir(work.path())
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/v1/openapi.json"),
            "--header",
            &format!("Authorization: Bearer {secret}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
            // Rotating the key would lock the rest of the run out; a
            // WebSocket cannot be tested by plain HTTP requests.
            "--exclude-path-regex",
            "(/keys/rotate|/ws)$",
            "--max-examples",
            "25",
            "--seed",
            "20261126",
            // One worker: with two threads, hypothesis parses source with
            // `ast.parse` in both at once, and CPython 3.11 (Debian 12's)
            // can fail that with "AST constructor recursion depth
            // mismatch" (its recursion count is shared between threads),
            // an error of the tool, not of the server (CI, 2026-11-27).
            "--workers",
            "1",
            "--no-color",
        ])
        .output()
        .expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    // A key in a WebSocket URL (as browsers send it) is redacted in the log.
    let (status, _) = http(
        port,
        "GET",
        &format!("/v1/stores/demo/ws?key={secret}"),
        "",
        "",
    );
    assert_eq!(status, 400);
    drop(server);
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.contains("key=<redacted>"),
        "the URL was logged, redacted"
    );
    for key in [secret.as_str(), ADMIN] {
        assert!(!logged.contains(key), "a key was written to the log");
    }
    assert!(
        output.status.success(),
        "schemathesis failed: see its report above"
    );
    let summary = text
        .lines()
        .find(|l| l.contains(" generated, "))
        .expect("a summary line");
    assert!(summary.contains(" passed"), "{summary}");
    assert!(!summary.contains("failed"), "{summary}");
}
