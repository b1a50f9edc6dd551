//! The file under the embedded store, as redb sees it: the plain file
//! backend, with a switch that makes the disk behave as if it were full.
//! The switch is for fault tests (CI cannot always mount a small file
//! system): while it is on, every write, growth and sync fails with the
//! operating system's own "no space left on device" error, so redb and the
//! server go through exactly the paths a real full disk takes them through.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// A switch that makes a data directory's disk full (and free again).
#[derive(Clone, Debug, Default)]
pub struct DiskFaults {
    full: Arc<AtomicBool>,
}

impl DiskFaults {
    /// From now on, writes fail with "no space left on device".
    pub fn fill(&self) {
        self.full.store(true, Ordering::SeqCst);
    }

    /// From now on, writes succeed again.
    pub fn free(&self) {
        self.full.store(false, Ordering::SeqCst);
    }

    fn check(&self) -> io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            // ENOSPC: the error a full disk gives.
            Err(io::Error::from_raw_os_error(28))
        } else {
            Ok(())
        }
    }
}

/// The database file, with faults when a switch is given.
#[derive(Debug)]
pub(super) struct Disk {
    file: FileBackend,
    faults: Option<DiskFaults>,
}

impl Disk {
    pub(super) fn new(file: File, faults: Option<DiskFaults>) -> io::Result<Self> {
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(Disk { file, faults })
    }

    fn check(&self) -> io::Result<()> {
        self.faults.as_ref().map_or(Ok(()), DiskFaults::check)
    }
}

impl StorageBackend for Disk {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if len > self.file.len()? {
            self.check()?;
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.check()?;
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.check()?;
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}
