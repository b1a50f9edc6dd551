//! One test (or a few) per bug found in review, each module named after
//! the bug as ripgrep's `tests/regression.rs` does. Every test drives a real
//! server (port 0, a temporary data directory, real WebSockets and HTTP).
//! Bugs that need a killed process or a full disk are in `tests/faults/`:
//! "a crash loses every queued session change" (kill -9), "a full disk breaks
//! writes until restart", and "shutdown hangs" on a real `morelike serve`.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod a_deleted_store_left_its_unwritten_sessions_behind;
mod expired_sessions_are_purged_only_at_start;
mod resume_answers_the_wrong_page;
mod shutdown_hangs_on_a_client_that_never_reads;
mod store_changes_race_each_other;
mod two_connections_on_one_session_each_hold_their_own_copy;
