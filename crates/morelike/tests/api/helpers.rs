//! Test fixtures: a real server on port 0 over a temporary data directory,
//! a real WebSocket client, and a small HTTP client.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use morelike::server::access::AdminKey;
use morelike::server::limits::Limits;
use morelike::server::state::AppState;
use morelike::server::{Application, Config};
use morelike::store::{Embedded, Storage};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A data directory holding the `demo` store (the real fashion catalog),
/// created once per test binary and copied by each test.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let storage = Embedded::open(dir.path()).unwrap();
            morelike::server::demo::create(&storage).unwrap();
            dir
        })
        .path()
}

/// A fresh data directory with the demo store in it.
pub fn demo_data_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(template()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// The admin key of every test server.
pub const ADMIN: &str = "test-admin-key-that-is-long-enough";

/// A test configuration: a given directory, any free port, no demo, the
/// test admin key.
pub fn config(dir: &Path) -> Config {
    Config {
        admin_key: Some(AdminKey::new(ADMIN).unwrap()),
        ..Config::for_tests(dir)
    }
}

/// A server on a copy of the demo data with these limits.
pub async fn with_limits(limits: Limits) -> (TempDir, TestApp) {
    let dir = demo_data_dir();
    let app = TestApp::start(Config {
        limits,
        ..config(dir.path())
    })
    .await;
    (dir, app)
}

/// A server on an empty data directory with these limits.
#[allow(dead_code)]
pub async fn empty_with_limits(limits: Limits) -> (TempDir, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(Config {
        limits,
        ..config(dir.path())
    })
    .await;
    (dir, app)
}

/// A request's headers.
pub type Headers<'a> = &'a [(&'a str, &'a str)];

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The server's state, for checks a client cannot make (the fault tests).
    #[allow(dead_code)]
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl TestApp {
    /// Starts a server with this configuration.
    pub async fn start(config: Config) -> TestApp {
        let app = Application::build(config).await.expect("the server starts");
        TestApp::run(app)
    }

    /// Starts a server over a storage already open.
    #[allow(dead_code)]
    pub async fn start_on(config: Config, storage: std::sync::Arc<dyn Storage>) -> TestApp {
        let app = Application::build_on(config, storage)
            .await
            .expect("the server starts");
        TestApp::run(app)
    }

    fn run(app: Application) -> TestApp {
        let addr = app.address();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            app.run(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs and stops cleanly");
        });
        TestApp {
            addr,
            state,
            stop: Some(stop),
            join: Some(join),
        }
    }

    /// Starts a server on a copy of the demo store.
    pub async fn with_demo(dir: &TempDir) -> TestApp {
        TestApp::start(config(dir.path())).await
    }

    /// Loads the demo store now (stores are loaded on first use, or by the
    /// background warm-up some time after the start).
    #[allow(dead_code)]
    pub async fn load_demo(&self) {
        let (status, body) = self
            .http_as(ADMIN, "GET", "/v1/stores/demo/similar/15970", None)
            .await;
        assert_eq!(status, 200, "the demo store loads: {body}");
    }

    /// A new secret key for the demo store (the admin rotates it; the
    /// publishable key stays `pk_demo`).
    pub async fn demo_secret(&self) -> String {
        let (status, keys) = self
            .http_as(
                ADMIN,
                "POST",
                "/v1/stores/demo/keys/rotate",
                Some(("application/json", r#"{"keys":"secret"}"#.into())),
            )
            .await;
        assert_eq!(status, 200, "{keys}");
        keys["secret_key"].as_str().unwrap().to_owned()
    }

    /// Creates a store with the admin key; returns its (secret, publishable) keys.
    pub async fn create_store(&self, name: &str, mapping: &str) -> (String, String) {
        let (status, body) = self
            .http_as(
                ADMIN,
                "PUT",
                &format!("/v1/stores/{name}"),
                Some(("application/toml", mapping.into())),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["secret_key"].as_str().unwrap().to_owned(),
            body["publishable_key"].as_str().unwrap().to_owned(),
        )
    }

    /// Shuts the server down gracefully and waits until it has.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.join.take().unwrap().await.unwrap();
    }

    /// A WebSocket on a store.
    pub async fn socket(&self, store: &str) -> Socket {
        socket_at(self.addr, store).await
    }

    /// A WebSocket opened with extra headers (`Origin`, `Authorization`)
    /// and a query string; a refusal before the upgrade comes back as its
    /// status and body.
    pub async fn socket_with(
        &self,
        store: &str,
        query: &str,
        headers: Headers<'_>,
    ) -> Result<Socket, (u16, Value)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("ws://{}/v1/stores/{store}/ws{query}", self.addr);
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Socket { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().clone().unwrap_or_default();
                Err((
                    response.status().as_u16(),
                    json_or_text(String::from_utf8_lossy(&body).into_owned()),
                ))
            }
            Err(other) => panic!("the upgrade failed: {other}"),
        }
    }

    /// An HTTP request; returns the status and the body as JSON (or as a
    /// JSON string when it is not JSON).
    pub async fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
    ) -> (u16, Value) {
        http_at(self.addr, method, path, body).await
    }

    /// An HTTP request with `Authorization: Bearer <key>`.
    pub async fn http_as(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
    ) -> (u16, Value) {
        let auth = format!("Bearer {key}");
        let (status, _, body) = self
            .request(method, path, &[("authorization", &auth)], body)
            .await;
        (status, json_or_text(body))
    }

    /// An HTTP request; returns status, headers and body text.
    pub async fn http_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
    ) -> (u16, hyper::HeaderMap, String) {
        http_raw_at(self.addr, method, path, body).await
    }

    /// An HTTP request with headers; returns status, headers and body text.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: Headers<'_>,
        body: Option<(&str, String)>,
    ) -> (u16, hyper::HeaderMap, String) {
        request_at(self.addr, method, path, headers, body).await
    }
}

/// A WebSocket on a store of the server at `addr`.
pub async fn socket_at(addr: SocketAddr, store: &str) -> Socket {
    let url = format!("ws://{addr}/v1/stores/{store}/ws");
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    Socket { ws }
}

/// A WebSocket on a store of the server at `addr`, opened from the
/// loopback address `from` (any of 127.0.0.0/8): another client address.
#[allow(dead_code)]
pub async fn socket_from(addr: SocketAddr, store: &str, from: std::net::IpAddr) -> Socket {
    let tcp = tokio::net::TcpSocket::new_v4().expect("a socket");
    tcp.bind(SocketAddr::new(from, 0))
        .expect("bound to the address");
    let stream = tcp.connect(addr).await.expect("connected");
    let url = format!("ws://{addr}/v1/stores/{store}/ws");
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .expect("the socket opens");
    Socket { ws }
}

/// An HTTP request to the server at `addr`; the status and the body as
/// JSON (or as a JSON string when it is not JSON).
pub async fn http_at(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let (status, _, body) = http_raw_at(addr, method, path, body).await;
    (status, json_or_text(body))
}

/// A body as JSON, or as a JSON string when it is not JSON.
pub fn json_or_text(body: String) -> Value {
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

/// An HTTP request with `Authorization: Bearer <key>` to the server at
/// `addr`; the status and the body as JSON (or a JSON string). For the
/// fault tests' server processes.
#[allow(dead_code)]
pub async fn http_as_at(
    addr: SocketAddr,
    key: &str,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let (status, _, body) = request_at(addr, method, path, &[("authorization", &auth)], body).await;
    (status, json_or_text(body))
}

/// An HTTP request to the server at `addr`: status, headers and body text.
pub async fn http_raw_at(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, hyper::HeaderMap, String) {
    request_at(addr, method, path, &[], body).await
}

/// An HTTP request with headers to the server at `addr`: status, headers
/// and body text.
pub async fn request_at(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: Headers<'_>,
    body: Option<(&str, String)>,
) -> (u16, hyper::HeaderMap, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some((content_type, text)) => {
            req = req.header("content-type", content_type);
            Full::from(text)
        }
        None => Full::default(),
    };
    let resp = client
        .request(req.body(body).unwrap())
        .await
        .expect("the request is answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A client's WebSocket.
pub struct Socket {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    /// Sends a text frame as is and reads the answer.
    pub async fn send_text(&mut self, text: String) -> Value {
        self.ws
            .send(Message::text(text))
            .await
            .expect("the frame is sent");
        self.recv().await
    }

    /// Sends a message (with `"v": 1` added) and reads the answer.
    pub async fn send(&mut self, mut message: Value) -> Value {
        message["v"] = json!(1);
        self.send_text(message.to_string()).await
    }

    /// The next text frame, as JSON.
    pub async fn recv(&mut self) -> Value {
        loop {
            match self
                .ws
                .next()
                .await
                .expect("the socket stays open")
                .expect("a frame")
            {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("replies are JSON")
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Sends a message that must be answered with a page, and returns it.
    pub async fn page(&mut self, message: Value) -> Value {
        let reply = self.send(message.clone()).await;
        assert_eq!(reply["type"], "page", "{message} was answered with {reply}");
        reply
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// The next frame of any kind (None when the socket ended).
    pub async fn next_frame(&mut self) -> Option<Message> {
        match self.ws.next().await {
            Some(Ok(message)) => Some(message),
            _ => None,
        }
    }

    /// Sends a text frame without waiting for an answer.
    pub async fn push(&mut self, text: String) {
        let _ = self.ws.send(Message::text(text)).await;
    }
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a page has items")
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}
