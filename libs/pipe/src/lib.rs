//! A pipe's ring of page buffers without the kernel around it (Linux's pipe_inode_info and
//! pipe_buffer): which page holds which bytes, how many slots are in use or held by a writer,
//! where a small write merges into the last page, which emptied pages stay as spares, what
//! tee duplicates and when F_SETPIPE_SZ may shrink the ring. The kernel adds the locking,
//! the waiting and the copies (its pages are frames); everything here is host-tested, with
//! pages that count their references.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;
use lintel_abi::{Errno, KResult};

/// Bytes in a page: one buffer holds at most this many.
pub const PAGE: usize = 4096;

/// A page a buffer refers to: cloning takes another reference.
pub trait Page: Clone {
    /// Whether this is the only reference (nothing else — a tee'd buffer of another pipe, a
    /// reader or writer copying outside the lock — can still see the page).
    fn unique(&self) -> bool;
}

/// One slot of the ring: `len` bytes at `off` of a page.
pub struct Buf<P> {
    pub page: P,
    pub off: usize,
    pub len: usize,
    /// A write may append into the page after `off + len` (Linux's PIPE_BUF_FLAG_CAN_MERGE):
    /// the page is this pipe's own and nothing else's bytes follow there. Off for pages of the
    /// page cache and for references tee duplicated.
    pub merge: bool,
    /// Which buffer this is, so that a reader or writer that copied outside the lock finds
    /// the same one again (or knows it went).
    pub id: u64,
}

/// The last buffer's page, where a write appends first: `at` is the end of its data.
pub struct Tail<P> {
    pub page: P,
    pub at: usize,
    pub id: u64,
}

/// What a write may fill (`Ring::plan_write`): `merged` bytes after the tail's data, then
/// `pages` new pages (reserved slots), the first of them the ring's spare if it had one.
pub struct WritePlan<P> {
    pub tail: Option<Tail<P>>,
    pub merged: usize,
    pub pages: usize,
    pub spare: Option<P>,
}

pub struct Ring<P> {
    bufs: VecDeque<Buf<P>>,
    /// Bytes in `bufs` (FIONREAD).
    bytes: usize,
    /// Capacity in pages (F_GETPIPE_SZ / 4096).
    slots: usize,
    /// Slots a writer holds while it fills pages outside the lock.
    reserved: usize,
    next_id: u64,
    /// A page of this pipe's own that a read emptied, for the next write (Linux's
    /// pipe->tmp_page): a small write into an empty pipe reuses it instead of allocating one.
    spare: Option<P>,
}

/// F_SETPIPE_SZ's size for `arg` bytes (Linux's round_pipe_size): at least a page, rounded
/// up to a power of two; EINVAL above 2 GiB.
pub fn round_size(arg: u32) -> KResult<usize> {
    if arg > 1 << 31 {
        return Err(Errno::EINVAL);
    }
    Ok((arg as usize).max(PAGE).next_power_of_two())
}

impl<P: Page> Ring<P> {
    pub const fn new(slots: usize) -> Ring<P> {
        Ring {
            bufs: VecDeque::new(),
            bytes: 0,
            slots,
            reserved: 0,
            next_id: 0,
            spare: None,
        }
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bufs.is_empty()
    }

    /// Slots holding data.
    pub fn buffers(&self) -> usize {
        self.bufs.len()
    }

    /// Capacity in bytes (F_GETPIPE_SZ).
    pub fn capacity(&self) -> usize {
        self.slots * PAGE
    }

    /// Slots neither holding data nor held by a writer: poll's POLLOUT while one is.
    pub fn free_slots(&self) -> usize {
        self.slots.saturating_sub(self.bufs.len() + self.reserved)
    }

    /// Whether a spare page is kept.
    pub fn has_spare(&self) -> bool {
        self.spare.is_some()
    }

    pub fn front(&self) -> Option<&Buf<P>> {
        self.bufs.front()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Buf<P>> {
        self.bufs.iter()
    }

    /// Adds `len` bytes at `off` of `page` at the end of the ring (room was reserved, or
    /// checked with `free_slots`); empty ones are not added.
    fn push(&mut self, page: P, off: usize, len: usize, merge: bool) {
        if len == 0 {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.bytes += len;
        self.bufs.push_back(Buf {
            page,
            off,
            len,
            merge,
            id,
        });
    }

    /// Plans a write of `left` more bytes (`first`: none moved yet), as Linux's pipe_write:
    /// the first `left % 4096` bytes merge after the last buffer's data when they fit there
    /// (so a write of at most PIPE_BUF bytes goes in whole), the rest take free slots, which
    /// stay reserved until `end_write`. Ok(None) when nothing fits (the writer waits);
    /// ENOMEM when the ring cannot grow.
    pub fn plan_write(&mut self, left: usize, first: bool) -> KResult<Option<WritePlan<P>>> {
        let chars = if first { left % PAGE } else { 0 };
        let tail = self
            .bufs
            .back()
            .filter(|b| chars > 0 && b.merge && b.off + b.len + chars <= PAGE)
            .map(|b| Tail {
                page: b.page.clone(),
                at: b.off + b.len,
                id: b.id,
            });
        let merged = if tail.is_some() { chars } else { 0 };
        let pages = (left - merged).div_ceil(PAGE).min(self.free_slots());
        if tail.is_none() && pages == 0 {
            return Ok(None);
        }
        if self.bufs.try_reserve(pages + 1).is_err() {
            return Err(Errno::ENOMEM);
        }
        self.reserved = pages;
        let spare = if pages > 0 { self.spare.take() } else { None };
        Ok(Some(WritePlan {
            tail,
            merged,
            pages,
            spare,
        }))
    }

    /// A planned write put `n` bytes after the tail's data: they join its buffer, or stand
    /// alone in the same page when a read took that buffer meanwhile.
    pub fn merged(&mut self, tail: Tail<P>, n: usize) {
        match self.bufs.back_mut().filter(|b| b.id == tail.id) {
            Some(b) => {
                b.len += n;
                self.bytes += n;
            }
            None => self.push(tail.page, tail.at, n, true),
        }
    }

    /// One reserved slot is filled: `len` bytes at `off` of `page` (`merge`: the pipe's own
    /// page, which later writes may append to).
    pub fn filled(&mut self, page: P, off: usize, len: usize, merge: bool) {
        self.reserved = self.reserved.saturating_sub(1);
        self.push(page, off, len, merge);
    }

    /// Ends a write: its reserved slots go back, and so does the spare page it did not use.
    pub fn end_write(&mut self, spare: Option<P>) {
        self.reserved = 0;
        if spare.is_some() {
            self.spare = spare;
        }
    }

    /// Drops `n` bytes from the front of buffer `id` (the ring's first; nothing when it is
    /// not). An emptied buffer's page stays as a spare when it is the pipe's own and nothing
    /// else holds it (Linux's anon_pipe_buf_release).
    pub fn consume(&mut self, id: u64, n: usize) {
        let Some(b) = self.bufs.front_mut().filter(|b| b.id == id) else {
            return;
        };
        let n = n.min(b.len);
        b.off += n;
        b.len -= n;
        self.bytes -= n;
        if b.len == 0 {
            if let Some(b) = self.bufs.pop_front() {
                if self.spare.is_none() && b.merge && b.page.unique() {
                    self.spare = Some(b.page);
                }
            }
        }
    }

    /// tee: references to up to `len` bytes of this ring's buffers, from the front, go into
    /// `dst`'s free slots (never merged into: the pages stay shared, so neither ring appends
    /// to them); the bytes duplicated.
    pub fn tee_into(&self, dst: &mut Ring<P>, len: usize) -> usize {
        let mut done = 0;
        for b in self.bufs.iter() {
            if done >= len || dst.free_slots() == 0 || dst.bufs.try_reserve(1).is_err() {
                break;
            }
            let n = b.len.min(len - done);
            dst.push(b.page.clone(), b.off, n, false);
            done += n;
        }
        done
    }

    /// F_SETPIPE_SZ to `size` bytes (from `round_size`), as Linux's pipe_resize_ring: EBUSY
    /// when the slots holding data (or held by a writer) would not fit.
    pub fn resize(&mut self, size: usize) -> KResult<()> {
        let slots = size / PAGE;
        if slots == 0 {
            return Err(Errno::EINVAL);
        }
        if slots < self.bufs.len() + self.reserved {
            return Err(Errno::EBUSY);
        }
        self.slots = slots;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
