//! How often each limit refused something, for the log: every refusal is
//! counted here (through `ApiError::body`), and the server logs the counts
//! that moved once a minute.

use std::sync::atomic::{AtomicU64, Ordering};

/// The error codes that are limits.
pub const CODES: [&str; 17] = [
    "unauthorized",
    "forbidden",
    "origin_not_allowed",
    "host_not_allowed",
    "rate_limited",
    "too_many_connections",
    "too_many_sockets",
    "too_many_uploads",
    "too_many_sessions",
    "too_many_stores",
    "session_full",
    "query_too_long",
    "mapping_too_large",
    "body_too_large",
    "frame_too_large",
    "request_timeout",
    // Catalog rows refused by a field limit or a rule (each upload's report
    // names them; this is their sum).
    "rows_rejected",
];

static COUNTS: [AtomicU64; CODES.len()] = [const { AtomicU64::new(0) }; CODES.len()];

/// Counts one refusal with this code (other codes are not limits: ignored).
pub fn count(code: &str) {
    if let Some(i) = CODES.iter().position(|c| *c == code) {
        COUNTS[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts `n` refusals with this code.
pub fn count_n(code: &str, n: u64) {
    if let Some(i) = CODES.iter().position(|c| *c == code) {
        COUNTS[i].fetch_add(n, Ordering::Relaxed);
    }
}

/// Every limit's count since the process started.
pub fn snapshot() -> Vec<(&'static str, u64)> {
    CODES
        .iter()
        .zip(&COUNTS)
        .map(|(code, n)| (*code, n.load(Ordering::Relaxed)))
        .collect()
}

/// Logs the counts that moved since `last` (and remembers them).
pub fn log_changes(last: &mut Vec<(&'static str, u64)>) {
    let now = snapshot();
    let moved: Vec<String> = now
        .iter()
        .zip(last.iter())
        .filter(|(a, b)| a.1 != b.1)
        .map(|((code, n), (_, before))| format!("{code}={n} (+{})", n - before))
        .collect();
    if !moved.is_empty() {
        tracing::info!(refusals = %moved.join(" "), "limits refused requests");
    }
    *last = now;
}
