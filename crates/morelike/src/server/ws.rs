//! The WebSocket side: one connection is one shopper at a time (one
//! current session, which it knows by id only: every request works on the
//! session's latest version, so two sockets on one session share one
//! history). The socket loop is generic over `Sink`/`Stream` so it runs as
//! well on a real socket as on a vector in a unit test; a sender and a
//! receiver run side by side. On shutdown the receiver stops after the
//! request in hand and queues a close frame; the sender gets a short grace
//! to deliver it, so a client that never reads cannot hold the server. A
//! socket silent for `idle_socket_secs` is closed the same way (code 1000,
//! reason `idle`), and messages past the socket's rate are answered
//! `rate_limited`.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::ApiError;
use super::limits::SocketRate;
use super::protocol::{parse, Reply, ReplyBody, Request};
use super::state::AppState;

/// After a shutdown (or an idle close), how long the sender may take to
/// deliver what is queued and the close frame before the connection is
/// dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Replies queued for a slow reader before the receiver stops reading.
const QUEUE: usize = 32;

/// What one connection remembers: its store and its session's id.
pub struct Connection {
    state: AppState,
    store: String,
    session: Option<String>,
    rate: Option<SocketRate>,
    idle: Duration,
}

impl Connection {
    /// A connection to a store.
    pub fn new(state: AppState, store: String) -> Self {
        let idle = Duration::from_secs(state.config.limits.idle_socket_secs.max(1));
        Connection {
            state,
            store,
            session: None,
            rate: None,
            idle,
        }
    }

    /// The same connection with its message rate limited.
    pub fn with_rate(mut self, rate: SocketRate) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Answers one text frame.
    pub async fn answer(&mut self, text: &str) -> Reply {
        let started = Instant::now();
        if text.len() > self.state.config.max_frame_bytes {
            let error = ApiError::FrameTooLarge {
                size: text.len(),
                limit: self.state.config.max_frame_bytes,
            };
            return Reply::new(None, ReplyBody::Error(error.body()));
        }
        let (id, request) = match parse(text) {
            Ok(parsed) => parsed,
            Err(rejected) => {
                tracing::debug!(code = rejected.error.code(), "refused a frame");
                return Reply::new(rejected.id, ReplyBody::Error(rejected.error.body()));
            }
        };
        if let Some(Err(error)) = self.rate.as_ref().map(SocketRate::check) {
            return Reply::new(id, ReplyBody::Error(error.body()));
        }
        let body = match self.run(request, started).await {
            Ok(ReplyBody::Page(page)) => {
                tracing::debug!(session = %page.session, round = page.round, took_us = page.took_us, "page");
                ReplyBody::Page(page)
            }
            Ok(body) => body,
            Err(error) => {
                tracing::debug!(code = error.code(), %error, "refused a request");
                ReplyBody::Error(error.body())
            }
        };
        Reply::new(id, body)
    }

    async fn run(&mut self, request: Request, started: Instant) -> Result<ReplyBody, ApiError> {
        let store = self.state.store(&self.store).await?;
        let sessions = &self.state.sessions;
        let page = match request {
            Request::Ping => return Ok(ReplyBody::Pong {}),
            Request::Start(req) => {
                let address = self.rate.as_ref().and_then(SocketRate::address);
                self.state
                    .limits
                    .rates
                    .check_session_start(&store.name, address)?;
                let page = sessions.start(&store, req).await?;
                self.session = Some(page.session.clone());
                page
            }
            Request::Resume(id) => {
                let page = sessions.resume(&store, &id)?;
                self.session = Some(id);
                page
            }
            other => {
                let id = self.session.as_deref().ok_or(ApiError::NoSession)?;
                match other {
                    Request::Vote(votes) => sessions.vote(&store, id, votes).await?,
                    Request::More => sessions.more(&store, id).await?,
                    Request::Undo(product) => sessions.undo(&store, id, product.as_deref()).await?,
                    Request::Reset => sessions.reset(&store, id).await?,
                    Request::Explain(product) => {
                        return Ok(ReplyBody::Explanation(
                            sessions.explain(&store, id, &product).await?,
                        ))
                    }
                    Request::Click(product) => {
                        return Ok(ReplyBody::Clicked(sessions.click(&store, id, &product)?))
                    }
                    Request::Start(_) | Request::Resume(_) | Request::Ping => {
                        unreachable!("handled above")
                    }
                }
            }
        };
        let mut page = page;
        page.took_us = started.elapsed().as_micros() as u64;
        sessions.served(&store, &page);
        Ok(ReplyBody::Page(page))
    }
}

/// Serves one WebSocket until the client leaves or the server shuts down.
pub async fn serve<S, R, E>(sink: S, stream: R, mut conn: Connection, shutdown: CancellationToken)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let send = async move {
        let mut sink = sink;
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    };
    let stopping = shutdown.clone();
    let receive = async move {
        let mut stream = stream;
        let idle = conn.idle;
        let close = loop {
            let frame = tokio::select! {
                frame = stream.next() => frame,
                () = tokio::time::sleep(idle) => break CloseFrame {
                    code: 1000,
                    reason: "idle".into(),
                },
                () = shutdown.cancelled() => break going_away(),
            };
            let reply = match frame {
                // Inline on purpose: a page is ~1 ms of CPU at 44k products
                // (docs/SERVER.md); the blocking pool measured worse.
                Some(Ok(Message::Text(text))) => conn.answer(text.as_str()).await,
                Some(Ok(Message::Binary(_))) => Reply::new(
                    None,
                    ReplyBody::Error(
                        ApiError::BadJson("binary frames are not read: send JSON as text".into())
                            .body(),
                    ),
                ),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return false,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "the socket failed");
                    return false;
                }
            };
            // The answer to the request in hand is queued even during a
            // shutdown; a reader too slow to leave room for it is not waited for.
            tokio::select! {
                biased;
                sent = tx.send(Message::text(reply.to_json())) => if sent.is_err() { return false },
                () = shutdown.cancelled() => break going_away(),
            }
        };
        let _ = tx.try_send(Message::Close(Some(close)));
        true
    };
    tokio::pin!(send, receive);
    tokio::select! {
        () = &mut send => {}
        closing = &mut receive => {
            // The server closes (idle, or shutting down): the close frame
            // gets a short grace. The client closed: its replies are sent
            // unless a shutdown comes first.
            let grace = async {
                if !closing {
                    stopping.cancelled().await;
                }
                tokio::time::sleep(CLOSE_GRACE).await;
            };
            tokio::select! {
                () = &mut send => {}
                () = grace => tracing::debug!("the client did not take the close frame in time; dropped"),
            }
        }
    }
}

fn going_away() -> CloseFrame {
    CloseFrame {
        code: 1001,
        reason: "the server is shutting down".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;

    use futures_util::stream;
    use morelike_core::{Catalog, Mapping, Precision, Product};
    use serde_json::Value;

    use super::*;
    use crate::server::config::Config;
    use crate::server::state::Store;
    use crate::store::{Embedded, StoreSettings};

    pub(super) fn shop(dir: &std::path::Path) -> AppState {
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n",
        )
        .unwrap();
        let products: Vec<Product> = ["red", "red", "blue", "blue", "green", "green"]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Product::new(i.to_string(), format!("{c} thing {i}")).with_attribute("colour", c)
            })
            .collect();
        let catalog = Catalog::build(mapping.clone(), products, Precision::F32);
        let state = AppState::new(
            Arc::new(Embedded::open(dir).unwrap()),
            Config::for_tests(dir),
        );
        state.replace(Store::new("shop", StoreSettings::new(mapping), catalog).unwrap());
        state
    }

    #[tokio::test]
    async fn the_socket_loop_answers_every_frame_in_order_and_survives_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let state = shop(dir.path());
        let frames = [
            "{oops",
            r#"{"v":1,"id":1,"type":"start","seed":"0","k":2}"#,
            r#"{"v":1,"id":2,"type":"vote","product":"nope","vote":"up"}"#,
            r#"{"v":1,"id":3,"type":"more"}"#,
        ];
        let input = stream::iter(frames.map(|f| Ok::<_, Infallible>(Message::text(f))));
        let mut output: Vec<Message> = Vec::new();
        let conn = Connection::new(state.clone(), "shop".into());
        serve(&mut output, input, conn, state.shutdown.clone()).await;

        let replies: Vec<Value> = output
            .iter()
            .map(|m| serde_json::from_str(m.to_text().unwrap()).unwrap())
            .collect();
        let summary: Vec<(Value, Value, Value)> = replies
            .iter()
            .map(|r| {
                (
                    r["id"].clone(),
                    r["type"].clone(),
                    r.get("code").or(r.get("round")).cloned().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Value::Null, "error".into(), "bad_json".into()),
                (1.into(), "page".into(), 1.into()),
                (2.into(), "error".into(), "unknown_product".into()),
                (3.into(), "page".into(), 2.into()),
            ]
        );
        state
            .sessions
            .close(Instant::now() + Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_shutdown_closes_the_socket_with_going_away() {
        let dir = tempfile::tempdir().unwrap();
        let state = shop(dir.path());
        state.shutdown.cancel();
        let mut output: Vec<Message> = Vec::new();
        let conn = Connection::new(state.clone(), "shop".into());
        serve(
            &mut output,
            stream::pending::<Result<Message, Infallible>>(),
            conn,
            state.shutdown.clone(),
        )
        .await;
        match output.as_slice() {
            [Message::Close(Some(frame))] => assert_eq!(frame.code, 1001),
            other => panic!("expected one close frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_request_in_hand_when_shutdown_begins_is_answered_before_the_close_frame() {
        let dir = tempfile::tempdir().unwrap();
        let state = shop(dir.path());
        let shutdown = state.shutdown.clone();
        // The shutdown begins the moment the request arrives.
        let input = stream::iter([Ok::<_, Infallible>(Message::text(
            r#"{"v":1,"id":1,"type":"start","seed":"0","k":2}"#,
        ))])
        .inspect(move |_| shutdown.cancel())
        .chain(stream::pending());
        let mut output: Vec<Message> = Vec::new();
        let conn = Connection::new(state.clone(), "shop".into());
        serve(&mut output, input, conn, state.shutdown.clone()).await;
        match output.as_slice() {
            [Message::Text(page), Message::Close(Some(frame))] => {
                assert!(page.as_str().contains(r#""type":"page""#), "{page}");
                assert_eq!(frame.code, 1001);
            }
            other => panic!("expected the page, then a close frame: {other:?}"),
        }
        state
            .sessions
            .close(Instant::now() + Duration::from_secs(5));
    }

    /// A client that never reads: every send waits forever.
    struct NeverReads;

    impl Sink<Message> for NeverReads {
        type Error = Infallible;
        fn poll_ready(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Pending
        }
        fn start_send(self: std::pin::Pin<&mut Self>, _: Message) -> Result<(), Infallible> {
            Ok(())
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Pending
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_client_that_never_reads_holds_its_socket_no_longer_than_the_close_grace() {
        let dir = tempfile::tempdir().unwrap();
        let state = shop(dir.path());
        // Far more requests than the reply queue holds, then silence.
        let frames = (0..200).map(|i| {
            Ok::<_, Infallible>(Message::text(format!(
                r#"{{"v":1,"id":{i},"type":"ping"}}"#
            )))
        });
        let input = stream::iter(frames).chain(stream::pending());
        let conn = Connection::new(state.clone(), "shop".into());
        let shutdown = state.shutdown.clone();
        let served = tokio::spawn(serve(NeverReads, input, conn, shutdown.clone()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!served.is_finished(), "the socket is open until shutdown");
        let asked = Instant::now();
        shutdown.cancel();
        tokio::time::timeout(CLOSE_GRACE * 3, served)
            .await
            .expect("the socket ends within the close grace")
            .unwrap();
        assert!(asked.elapsed() >= CLOSE_GRACE, "the sender got its grace");
    }
}

#[cfg(test)]
mod hostile_frames {
    //! Generated hostile frames: the parser and a connection never panic,
    //! every frame gets exactly one well-formed answer with a known code,
    //! and the `id` of an object is echoed whatever else is wrong.

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::tests::shop;
    use super::Connection;
    use crate::server::protocol::parse;

    const CODES: [&str; 17] = [
        "bad_json",
        "unknown_type",
        "bad_field",
        "unsupported_version",
        "no_session",
        "unknown_product",
        "unknown_session",
        "bad_filter",
        "nothing_to_undo",
        "frame_too_large",
        "unknown_store",
        "rate_limited",
        "session_full",
        "too_many_sessions",
        "storage_unavailable",
        "internal",
        "bad_request",
    ];

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,12}".prop_map(Value::from),
            prop_oneof![
                Just("start"),
                Just("vote"),
                Just("more"),
                Just("undo"),
                Just("reset"),
                Just("resume"),
                Just("explain"),
                Just("ping"),
                Just("up"),
                Just("down"),
                Just("0"),
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("v".to_owned()),
                        Just("id".to_owned()),
                        Just("seed".to_owned()),
                        Just("k".to_owned()),
                        Just("product".to_owned()),
                        Just("vote".to_owned()),
                        Just("votes".to_owned()),
                        Just("session".to_owned()),
                        Just("filters".to_owned()),
                        Just("attributes".to_owned()),
                        Just("price_min".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_text_is_parsed_or_refused_with_a_known_code(text in "\\PC{0,120}") {
            if let Err(rejected) = parse(&text) {
                prop_assert!(CODES.contains(&rejected.error.code()), "{}", rejected.error.code());
            }
        }

        #[test]
        fn any_json_is_parsed_or_refused_and_an_objects_id_is_echoed(value in json_value()) {
            let text = value.to_string();
            match parse(&text) {
                Ok((id, _)) => prop_assert_eq!(id, value.get("id").cloned()),
                Err(rejected) => {
                    prop_assert!(CODES.contains(&rejected.error.code()));
                    if value.is_object() {
                        prop_assert_eq!(rejected.id, value.get("id").cloned());
                    }
                }
            }
        }
    }

    #[test]
    fn a_connection_answers_every_generated_frame_with_one_well_formed_reply() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _inside = runtime.enter();
        let dir = tempfile::tempdir().unwrap();
        let state = shop(dir.path());
        let conn = std::cell::RefCell::new(Connection::new(state.clone(), "shop".into()));
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 400,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        // A real session first, so votes and explains reach the core.
        let started = runtime.block_on(
            conn.borrow_mut()
                .answer(&json!({"type": "start", "seed": "0", "k": 2}).to_string()),
        );
        assert!(started.to_json().contains("\"page\""));
        let frames = prop_oneof![
            json_value().prop_map(|v| v.to_string()),
            "\\PC{0,60}",
            json_value().prop_map(
                |v| json!({"v": 1, "type": "vote", "product": v, "vote": "up"}).to_string()
            ),
            json_value().prop_map(|v| json!({"type": "start", "seed": "1", "k": v}).to_string()),
            json_value()
                .prop_map(|v| json!({"type": "start", "seed": "1", "filters": v}).to_string()),
            json_value().prop_map(|v| json!({"type": "explain", "product": v}).to_string()),
            json_value().prop_map(|v| json!({"type": "vote", "votes": v}).to_string()),
        ];
        runner
            .run(&frames, |frame| {
                let answer = runtime.block_on(conn.borrow_mut().answer(&frame));
                let reply: Value = serde_json::from_str(&answer.to_json()).unwrap();
                prop_assert_eq!(&reply["v"], &json!(1));
                let kind = reply["type"].as_str().unwrap_or("");
                prop_assert!(
                    ["page", "explanation", "pong", "error"].contains(&kind),
                    "{}",
                    reply
                );
                if kind == "error" {
                    let code = reply["code"].as_str().unwrap_or("");
                    prop_assert!(CODES.contains(&code), "{}", reply);
                    prop_assert!(!reply["message"].as_str().unwrap_or("").is_empty());
                }
                Ok(())
            })
            .unwrap();
        state
            .sessions
            .close(std::time::Instant::now() + std::time::Duration::from_secs(5));
    }
}
