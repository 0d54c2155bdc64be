//! The text of a generated file (/proc above all), built as Linux's seq_file builds it: into a
//! buffer whose growth can fail. Many of these files are as long as user space makes them
//! (/proc/PID/maps of tens of thousands of mappings, /proc/net/unix of thousands of sockets,
//! mountinfo, the groups in status, an environment of megabytes), and the global allocator
//! aborts the kernel on a failed allocation (a fuzzer's read of smaps did: "memory allocation
//! of 1507328 bytes failed"). A [`SeqText`] grows with `try_reserve` and keeps the kernel
//! heap's reserve (`kheap::reserve_in`); once a write does not fit it stops taking text and
//! [`SeqText::finish`] answers ENOMEM, as Linux's seq_read does when kvmalloc fails.
//!
//! Write to it with `write!` (it is a `core::fmt::Write`, which formats straight into the
//! buffer with no `String` of its own) or the push methods; the text is checked only at the
//! end, so the generators need no error path of their own.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use lintel_abi::{Errno, KResult};

#[derive(Default)]
pub struct SeqText {
    buf: Vec<u8>,
    /// A write did not fit: the text is cut, and `finish` says ENOMEM.
    failed: bool,
}

impl SeqText {
    pub fn new() -> SeqText {
        SeqText::default()
    }

    /// Appends `b`, or marks the text failed when the heap cannot hold it.
    pub fn bytes(&mut self, b: &[u8]) {
        if self.failed {
            return;
        }
        if self.buf.capacity() - self.buf.len() < b.len() {
            // Doubling, as Vec would, but through the heap's headroom check.
            let want = b.len().max(self.buf.len()).max(64);
            if crate::mm::kheap::reserve_in(&mut self.buf, want).is_err()
                && crate::mm::kheap::reserve_in(&mut self.buf, b.len()).is_err()
            {
                self.failed = true;
                return;
            }
        }
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn byte(&mut self, c: u8) {
        self.bytes(&[c]);
    }

    /// Appends a string made elsewhere (a small one: its own allocation was not fallible).
    pub fn string(&mut self, s: String) {
        self.bytes(s.as_bytes());
    }

    /// `c` until the text is `len` bytes long (column padding).
    pub fn pad_to(&mut self, len: usize, c: u8) {
        while !self.failed && self.buf.len() < len {
            self.byte(c);
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Whether a write has not fitted.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The text so far (cut short if a write failed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the text (and a failure), keeping the buffer.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.failed = false;
    }

    /// The whole text, or ENOMEM when some of it did not fit.
    pub fn finish(self) -> KResult<Vec<u8>> {
        if self.failed {
            return Err(Errno::ENOMEM);
        }
        Ok(self.buf)
    }
}

impl fmt::Write for SeqText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        if self.failed {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}
