//! A split virtqueue (virtio 1.x, 2.7): the descriptor table, the driver ring (avail) and the
//! device ring (used), each in a page of its own. It knows neither the transport nor the device
//! type: a driver publishes chains of buffers and collects the chains the device used;
//! telling the device about new buffers is the transport's `notify`.

use super::dma::Dma;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

const DESC_NEXT: u16 = 1;
const DESC_WRITE: u16 = 2;
/// In the used ring's flags: the device does not need to be notified of new buffers.
const USED_F_NO_NOTIFY: u16 = 1;

/// Largest queue the one-page rings hold (256 descriptors of 16 bytes).
pub(crate) const MAX_SIZE: u16 = 256;

/// One buffer of a chain, as the device sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buf {
    /// Physical (bus) address.
    pub addr: u64,
    pub len: u32,
    /// The device writes the buffer (otherwise it reads it).
    pub device_writes: bool,
}

/// Descriptors taken from the free list, head first, not yet published.
pub(crate) struct Chain(Vec<u16>);

impl Chain {
    /// The head descriptor's index, which names the chain in the used ring.
    pub(crate) fn head(&self) -> u16 {
        self.0[0]
    }
}

/// The device returned something no driver published: it cannot be trusted any more.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Corrupt;

pub(crate) struct SplitQueue {
    size: u16,
    desc: Dma,
    avail: Dma,
    used: Dma,
    free: Vec<u16>,
    /// Per head descriptor: the chain in flight (empty when none).
    chains: Vec<Vec<u16>>,
    avail_idx: u16,
    last_used: u16,
}

impl SplitQueue {
    /// A queue of `size` descriptors (a power of two, at most `MAX_SIZE`); None when out of
    /// memory.
    pub(crate) fn new(size: u16) -> Option<SplitQueue> {
        assert!(size.is_power_of_two() && size <= MAX_SIZE);
        Some(SplitQueue {
            size,
            desc: Dma::new()?,
            avail: Dma::new()?,
            used: Dma::new()?,
            free: (0..size).rev().collect(),
            chains: (0..size).map(|_| Vec::new()).collect(),
            avail_idx: 0,
            last_used: 0,
        })
    }

    /// The largest power of two no larger than `max` (the device's maximum) or `want`.
    pub(crate) fn pick_size(max: u16, want: u16) -> u16 {
        let mut size = want.min(MAX_SIZE);
        while size > max {
            size /= 2;
        }
        size
    }

    /// Physical addresses of the descriptor table, driver ring and device ring.
    pub(crate) fn addresses(&self) -> (u64, u64, u64) {
        (self.desc.pa(), self.avail.pa(), self.used.pa())
    }

    /// Takes `n` descriptors for a chain; None when fewer are free.
    pub(crate) fn alloc(&mut self, n: usize) -> Option<Chain> {
        if n == 0 || self.free.len() < n {
            return None;
        }
        let at = self.free.len() - n;
        let mut chain = self.free.split_off(at);
        chain.reverse();
        Some(Chain(chain))
    }

    /// Writes the chain's descriptors for `bufs` (one each, in order) and makes it available
    /// to the device. The device learns of it at the next notify.
    pub(crate) fn publish(&mut self, chain: Chain, bufs: &[Buf]) {
        let chain = chain.0;
        assert_eq!(
            chain.len(),
            bufs.len(),
            "a chain and its buffers differ in length"
        );
        for (i, b) in bufs.iter().enumerate() {
            let d = 16 * chain[i] as usize;
            let next = chain.get(i + 1).copied();
            let flags = if b.device_writes { DESC_WRITE } else { 0 }
                | if next.is_some() { DESC_NEXT } else { 0 };
            self.desc.write::<u64>(d, b.addr);
            self.desc.write::<u32>(d + 8, b.len);
            self.desc.write::<u16>(d + 12, flags);
            self.desc.write::<u16>(d + 14, next.unwrap_or(0));
        }
        let head = chain[0];
        self.chains[head as usize] = chain;
        // Ring slot first, then (after the barrier) the index the device reads.
        let slot = (self.avail_idx % self.size) as usize;
        self.avail.write::<u16>(4 + 2 * slot, head);
        fence(Ordering::SeqCst);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.avail.write::<u16>(2, self.avail_idx);
        fence(Ordering::SeqCst);
    }

    /// `alloc` and `publish` together; the head, or None when descriptors are short.
    pub(crate) fn push(&mut self, bufs: &[Buf]) -> Option<u16> {
        let chain = self.alloc(bufs.len())?;
        let head = chain.head();
        self.publish(chain, bufs);
        Some(head)
    }

    /// Whether the device asks to be notified of new buffers (it may turn that off while it
    /// is busy with the queue anyway).
    pub(crate) fn wants_notify(&self) -> bool {
        fence(Ordering::SeqCst);
        self.used.read::<u16>(0) & USED_F_NO_NOTIFY == 0
    }

    /// The next chain the device finished: its head and the bytes the device wrote. Its
    /// descriptors are free again.
    pub(crate) fn pop_used(&mut self) -> Result<Option<(u16, u32)>, Corrupt> {
        fence(Ordering::SeqCst);
        let used_idx: u16 = self.used.read(2);
        if used_idx == self.last_used {
            return Ok(None);
        }
        fence(Ordering::SeqCst);
        let slot = (self.last_used % self.size) as usize;
        let id = self.used.read::<u32>(4 + 8 * slot);
        let len = self.used.read::<u32>(4 + 8 * slot + 4);
        self.last_used = self.last_used.wrapping_add(1);
        let chain = match self.chains.get_mut(id as usize) {
            Some(c) if !c.is_empty() => core::mem::take(c),
            _ => return Err(Corrupt),
        };
        self.free.extend(chain.iter().rev());
        Ok(Some((id as u16, len)))
    }

    /// Chains published and not yet used.
    pub(crate) fn in_flight(&self) -> usize {
        self.chains.iter().filter(|c| !c.is_empty()).count()
    }

    /// Keeps the rings from ever being freed (the device could not be reset).
    pub(crate) fn leak(&self) {
        self.desc.leak();
        self.avail.leak();
        self.used.leak();
    }
}
