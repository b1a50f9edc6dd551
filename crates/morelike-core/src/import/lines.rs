//! The CSV input as the reader reads it, tapped: where each line ends (for
//! the line a row is on) and the bytes of the rows not yet passed (for a
//! row to be read again when a quote swallowed it).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// Bytes of passed rows are dropped once this many have piled up (so the
/// tap costs one copy of the input, not one move per row).
const KEEP_PASSED: usize = 64 * 1024;

/// The input under the CSV reader. The csv crate's own line count is one
/// short on files with CRLF line ends (BurntSushi/rust-csv#395), which
/// Python's `csv` module and spreadsheets write, so a merchant would be
/// sent to the wrong line: the lines are counted here.
pub(super) struct Lines<R> {
    inner: R,
    read: u64,
    tap: Rc<RefCell<Tap>>,
}

impl<R> Lines<R> {
    /// The input, with its first line numbered `first_line`.
    pub(super) fn new(inner: R, first_line: u64) -> (Self, Rc<RefCell<Tap>>) {
        let tap = Rc::new(RefCell::new(Tap {
            first_line,
            ..Tap::default()
        }));
        let lines = Lines {
            inner,
            read: 0,
            tap: tap.clone(),
        };
        (lines, tap)
    }
}

/// What the tap saw: the line ends read but not yet passed by a row (at
/// most the reader's buffer ahead), how many were passed, and the bytes
/// from (at least) the current row on.
#[derive(Default)]
pub(super) struct Tap {
    first_line: u64,
    pending: VecDeque<u64>,
    passed: u64,
    bytes: Vec<u8>,
    bytes_from: u64,
}

impl Tap {
    /// The line of a row starting at this offset; offsets come in order.
    /// With CRLF ends the reader puts a row's start on the `\n` that ends
    /// the line before it, so a line end at the offset is passed.
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        while self.pending.front().is_some_and(|&end| end <= byte) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.first_line + self.passed
    }

    /// Everything before `byte` is passed: its bytes may go.
    pub(super) fn pass(&mut self, byte: u64) {
        let passed = byte.saturating_sub(self.bytes_from) as usize;
        if passed >= KEEP_PASSED {
            self.bytes.drain(..passed.min(self.bytes.len()));
            self.bytes_from += passed as u64;
        }
    }

    /// The bytes from offset `from` to `to` (both read, `from` not passed).
    pub(super) fn bytes(&self, from: u64, to: u64) -> &[u8] {
        let start = from.saturating_sub(self.bytes_from) as usize;
        let end = to.saturating_sub(self.bytes_from) as usize;
        &self.bytes[start.min(self.bytes.len())..end.min(self.bytes.len())]
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut tap = self.tap.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                tap.pending.push_back(self.read + i as u64);
            }
        }
        tap.bytes.extend_from_slice(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}
