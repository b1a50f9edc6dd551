//! Whether storage can write right now, as the last write found it: every
//! writer (the session writer, each store's writer) reports here, `/readyz`
//! reads it, and the session writer probes storage while it is failing, so
//! the flag clears by itself once the disk has room again.

use std::sync::Mutex;

use crate::store::StorageError;

/// The last write's verdict on storage.
#[derive(Debug, Default)]
pub struct StorageHealth {
    failing: Mutex<Option<String>>,
}

impl StorageHealth {
    /// A write failed: storage is failing until a write succeeds.
    pub fn failed(&self, error: &StorageError) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if failing.is_none() {
            tracing::error!(%error, "storage cannot write; writes are refused until it can");
        }
        *failing = Some(error.to_string());
    }

    /// A write succeeded.
    pub fn succeeded(&self) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if failing.take().is_some() {
            tracing::info!("storage writes again");
        }
    }

    /// Why storage cannot write, while it cannot.
    pub fn failing(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records the outcome of a write and passes it on.
    pub fn record<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        match &result {
            Ok(_) => self.succeeded(),
            Err(e @ StorageError::Unavailable { .. }) => self.failed(e),
            Err(_) => {}
        }
        result
    }
}
