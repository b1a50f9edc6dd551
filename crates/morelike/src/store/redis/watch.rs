//! Watches the change channel: every store change publishes the store's
//! name on `ml:changes`, from the script that makes it. Pub/sub delivers a
//! message to a connected subscriber or drops it, so after every
//! (re)connection the watcher says [`Notice::Resync`] and the follower
//! checks every store's log; the log, not the message, is the record. A
//! subscription that stops answering pings is dropped and made again. In a
//! Cluster, a `PUBLISH` reaches the subscribers of every node, so the
//! watcher subscribes on any one node that answers.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use super::connection::{CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
use super::url::Target;
use crate::store::Notice;

/// How often a quiet subscription is pinged.
const PING_EVERY: Duration = Duration::from_secs(2);

/// Subscribes and forwards notices until the receiver is dropped.
pub async fn run(target: Target, channel: String, notices: UnboundedSender<Notice>) {
    let mut failures: u32 = 0;
    let mut next = 0;
    while !notices.is_closed() {
        let node = &target.nodes[next % target.nodes.len()];
        next += 1;
        match subscribe(node, &channel, &notices).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(30) {
                    tracing::warn!(redis = %target.shown, error = %e, "cannot watch store changes; retrying");
                }
            }
        }
        if notices.is_closed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(failures.clamp(1, 5)))).await;
    }
}

/// One subscription, until it fails (or the receiver is dropped: `Ok`).
async fn subscribe(
    node: &str,
    channel: &str,
    notices: &UnboundedSender<Notice>,
) -> Result<(), String> {
    let client = redis::Client::open(node).map_err(|e| e.to_string())?;
    let pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| "timed out connecting".to_owned())?
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = pubsub.split();
    tokio::time::timeout(RESPONSE_TIMEOUT, sink.subscribe(channel))
        .await
        .map_err(|_| "timed out subscribing".to_owned())?
        .map_err(|e| e.to_string())?;
    tracing::debug!("watching store changes");
    if notices.send(Notice::Resync).is_err() {
        return Ok(());
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Err("the subscription was closed".into());
                };
                let Ok(store) = message.get_payload::<String>() else { continue };
                if notices.send(Notice::Changed(store)).is_err() {
                    return Ok(());
                }
            }
            _ = ping.tick() => {
                match tokio::time::timeout(RESPONSE_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(e.to_string()),
                    Err(_) => return Err("the subscription stopped answering".into()),
                }
                if notices.is_closed() {
                    return Ok(());
                }
            }
        }
    }
}
