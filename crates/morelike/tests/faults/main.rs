//! Faults, on purpose: a real `morelike serve` process killed with SIGKILL
//! mid-session and mid-upload, stopped with SIGTERM while clients never
//! read, and (in process) a disk that fills and frees again. Each test says
//! which durability promise of docs/SERVER.md it checks.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)] // shared with tests/nodes
mod process;

mod full_disk;
mod kill_9;
mod sigterm;
