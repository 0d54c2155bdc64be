//! virtio-net (virtio 1.x) on any virtio transport (`crate::virtio`): one receive and one
//! transmit queue, each buffer a 2 KiB slot holding the 12-byte virtio-net header and one
//! Ethernet frame. The receive queue is kept full: every buffer taken by `receive` goes back
//! at once. Transmitted buffers are reclaimed when their completion is seen. Negotiated:
//! VERSION_1, MAC, and checksum offload when the device offers both halves (CSUM and
//! GUEST_CSUM: `checksum_offload`): frames may then go out with the TCP/UDP checksum left
//! for the device (`transmit_partial`), and received ones say whether the device vouched for
//! theirs (`receive_checked`). QEMU offers them only with a backend that passes virtio-net
//! headers on (tap, vhost), not with user networking. No merged receive buffers (MRG_RXBUF)
//! and no segmentation offload, so a received frame fits one buffer.
//!
//! Interrupts: receive on `irq::Line::NetRx`, transmit completions on `irq::Line::NetTx`,
//! shared by every network device. The handler only counts and calls the hook the kernel
//! registered with `set_net_irq_hook`; `VirtioNet::irq_ack` tells a device what arrived.

use crate::irq::{self, Line, MsiMessage};
use crate::virtio::dma::Dma;
use crate::virtio::queue::{Buf, SplitQueue};
use crate::virtio::{self, DeviceType, Transport};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

/// The device completes checksums of frames it sends (VIRTIO_NET_F_CSUM).
const F_CSUM: u64 = 1 << 0;
/// The device may deliver frames with checksums it verified or left partial
/// (VIRTIO_NET_F_GUEST_CSUM).
const F_GUEST_CSUM: u64 = 1 << 1;
/// The device's configuration holds its MAC address.
const F_MAC: u64 = 1 << 5;
/// virtio_net_hdr flags: the checksum from csum_start is left to the receiver of the frame
/// (device on transmit, us on receive, where the data itself is trusted), and the device
/// verified the frame's checksum.
const HDR_F_NEEDS_CSUM: u8 = 1;
const HDR_F_DATA_VALID: u8 = 2;
/// The virtio-net header before every frame (with VERSION_1 it always has num_buffers).
const HDR: usize = 12;
/// One buffer: header and frame. Without MRG_RXBUF or segmentation offload a received frame
/// is at most 1514 bytes (1518 with a VLAN tag), so 2 KiB holds any.
const BUF: usize = 2048;
const PAGE: usize = 4096;
const PER_PAGE: usize = PAGE / BUF;
/// Buffers per queue at most (the device's maximum may lower it).
const QUEUE_WANT: u16 = 128;
const RXQ: u16 = 0;
const TXQ: u16 = 1;
/// The Ethernet payload size this driver supports (the device's MTU feature is not used).
pub const MTU: usize = 1500;
/// The shortest and longest frame `transmit` takes: an Ethernet header, and the MTU plus the
/// header and a VLAN tag.
const MIN_FRAME: usize = 14;
const MAX_FRAME: usize = MTU + 18;

/// Why `transmit` did not queue a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// Every transmit buffer is in flight: retry after a transmit completion (`irq_ack`
    /// reports `tx`) or after `reclaim_tx` frees one.
    Full,
    /// Shorter than an Ethernet header or longer than `mtu() + 18`.
    BadLength,
    /// The device failed and takes no more frames.
    Broken,
}

/// What arrived since the previous `irq_ack`. Both lines are shared by every network device,
/// so an event may belong to another device: it means "look", not "there is something".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetEvents {
    /// Frames may have been received.
    pub rx: bool,
    /// Transmitted frames may have completed (already reclaimed by `irq_ack`).
    pub tx: bool,
}

/// Fixed buffers of BUF bytes, PER_PAGE to a page.
struct Buffers {
    pages: Vec<Dma>,
}

impl Buffers {
    fn new(n: usize) -> Option<Buffers> {
        let pages = (0..n.div_ceil(PER_PAGE))
            .map(|_| Dma::new())
            .collect::<Option<Vec<Dma>>>()?;
        Some(Buffers { pages })
    }
    fn page(&self, slot: usize) -> (&Dma, usize) {
        (&self.pages[slot / PER_PAGE], (slot % PER_PAGE) * BUF)
    }
    fn addr(&self, slot: usize) -> u64 {
        let (p, off) = self.page(slot);
        p.pa() + off as u64
    }
    fn read(&self, slot: usize, off: usize, buf: &mut [u8]) {
        let (p, base) = self.page(slot);
        p.read_bytes(base + off, buf)
    }
    fn write(&self, slot: usize, off: usize, buf: &[u8]) {
        let (p, base) = self.page(slot);
        p.write_bytes(base + off, buf)
    }
    fn leak(&self) {
        self.pages.iter().for_each(Dma::leak)
    }
}

/// One virtio-net device, owned by whoever drives it (the network stack).
pub struct VirtioNet {
    transport: Box<dyn Transport>,
    mac: [u8; 6],
    rx: SplitQueue,
    rx_bufs: Buffers,
    /// Per receive head descriptor: the buffer slot it points at.
    rx_slot: Vec<u16>,
    tx: SplitQueue,
    tx_bufs: Buffers,
    /// Per transmit head descriptor: the buffer slot it points at.
    tx_slot: Vec<u16>,
    tx_free: Vec<u16>,
    /// Both queues raise the receive line (the device has a single MSI-X vector).
    shared_vector: bool,
    seen_rx: u64,
    seen_tx: u64,
    rx_dropped: u64,
    broken: bool,
    /// CSUM and GUEST_CSUM were both accepted.
    csum: bool,
}

// The stack may move a device to whichever thread drives it.
const _: () = {
    const fn send<T: Send>() {}
    send::<VirtioNet>()
};

static PROBED: AtomicBool = AtomicBool::new(false);

/// Finds and initializes every virtio-net device. The first call hands them all out; later
/// calls find none (a device has one owner).
pub fn probe_net() -> Vec<VirtioNet> {
    if PROBED.swap(true, Ordering::AcqRel) {
        return Vec::new();
    }
    virtio::probe(DeviceType::Net, VirtioNet::init)
}

/// Installs the function every network interrupt calls (the first call wins). It runs in
/// interrupt context with interrupts disabled: it must not block, and must not take a lock
/// the kernel may hold while it waits for an interrupt; it should only record that there is
/// work.
pub fn set_net_irq_hook(f: fn()) {
    irq::set_net_hook(f)
}

impl VirtioNet {
    fn init(mut t: Box<dyn Transport>) -> Result<VirtioNet, &'static str> {
        // Both checksum halves or neither: GUEST_CSUM alone would bring received frames with
        // partial checksums into a stack that checks them.
        let both = F_CSUM | F_GUEST_CSUM;
        let mut accepted = virtio::negotiate(&*t, F_MAC | both)?;
        if accepted & both != both && accepted & both != 0 {
            accepted = virtio::negotiate(&*t, F_MAC)?;
        }
        let csum = accepted & both == both;
        let fail = |t: &dyn Transport, why| Err(virtio::fail(t, why));
        if t.num_queues() < 2 {
            return fail(&*t, "the device has no transmit queue");
        }
        // Receive and transmit on lines of their own when the device has two vectors.
        let shared_vector = t.interrupt_vectors() < 2;
        let msgs: Vec<MsiMessage> = if shared_vector {
            alloc::vec![irq::msi(Line::NetRx)]
        } else {
            alloc::vec![irq::msi(Line::NetRx), irq::msi(Line::NetTx)]
        };
        if let Err(e) = t.route_interrupts(&msgs) {
            return fail(&*t, e);
        }
        let rx_size = SplitQueue::pick_size(t.max_queue_size(RXQ), QUEUE_WANT);
        let tx_size = SplitQueue::pick_size(t.max_queue_size(TXQ), QUEUE_WANT);
        if rx_size < 2 || tx_size < 2 {
            return fail(&*t, "a queue is missing or too small");
        }
        let (Some(rx), Some(tx), Some(rx_bufs), Some(tx_bufs)) = (
            SplitQueue::new(rx_size),
            SplitQueue::new(tx_size),
            Buffers::new(rx_size as usize),
            Buffers::new(tx_size as usize),
        ) else {
            return fail(&*t, "out of memory");
        };
        if let Err(e) = t.setup_queue(RXQ, rx_size, 0, rx.addresses()) {
            return fail(&*t, e);
        }
        let tx_vector = if shared_vector { 0 } else { 1 };
        if let Err(e) = t.setup_queue(TXQ, tx_size, tx_vector, tx.addresses()) {
            return fail(&*t, e);
        }
        let mac = if accepted & F_MAC != 0 {
            read_mac(&*t)
        } else {
            // No address from the device: a random locally administered unicast one.
            let r = crate::hw_random().to_le_bytes();
            [0x02, r[0], r[1], r[2], r[3], r[4]]
        };
        let mut dev = VirtioNet {
            transport: t,
            mac,
            rx,
            rx_bufs,
            rx_slot: alloc::vec![0; rx_size as usize],
            tx,
            tx_bufs,
            tx_slot: alloc::vec![0; tx_size as usize],
            tx_free: (0..tx_size).rev().collect(),
            shared_vector,
            seen_rx: irq::count(Line::NetRx),
            seen_tx: irq::count(Line::NetTx),
            rx_dropped: 0,
            broken: false,
            csum,
        };
        // Every receive buffer to the device before it starts.
        for slot in 0..rx_size {
            dev.post_rx(slot, false);
        }
        virtio::driver_ok(&*dev.transport);
        dev.transport.notify(RXQ);
        Ok(dev)
    }

    /// Hands receive buffer `slot` to the device.
    fn post_rx(&mut self, slot: u16, notify: bool) {
        let buf = Buf {
            addr: self.rx_bufs.addr(slot as usize),
            len: BUF as u32,
            device_writes: true,
        };
        // As many descriptors as buffers, and this one is not in the queue: never None.
        if let Some(head) = self.rx.push(&[buf]) {
            self.rx_slot[head as usize] = slot;
        }
        if notify && self.rx.wants_notify() {
            self.transport.notify(RXQ);
        }
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The largest Ethernet payload (IP packet) a frame may carry.
    pub fn mtu(&self) -> usize {
        MTU
    }

    /// Where the device is (its PCI location, e.g. "00:02.0").
    pub fn location(&self) -> &str {
        self.transport.location()
    }

    /// Received frames dropped because the device reported an impossible length, or memory
    /// for the copy was short.
    pub fn rx_dropped(&self) -> u64 {
        self.rx_dropped
    }

    /// Whether the device failed; it then sends and receives nothing.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Frames queued for transmission and not yet completed.
    pub fn tx_in_flight(&self) -> usize {
        self.tx.in_flight()
    }

    /// Whether the device completes TCP/UDP checksums on transmit and reports verified ones
    /// on receive (CSUM and GUEST_CSUM negotiated).
    pub fn checksum_offload(&self) -> bool {
        self.csum
    }

    /// Queues one Ethernet frame (destination, source, type, payload; no FCS) for
    /// transmission. The frame is copied: the caller's buffer is free on return.
    pub fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError> {
        self.send(frame, [0u8; HDR])
    }

    /// As `transmit`, for a frame whose checksum the device completes: it sums from byte
    /// `start` to the end (the checksum field holding the pseudo-header sum) and stores the
    /// result at `start + offset`. Without `checksum_offload`, the same as `transmit`.
    pub fn transmit_partial(
        &mut self,
        frame: &[u8],
        start: u16,
        offset: u16,
    ) -> Result<(), TxError> {
        let mut hdr = [0u8; HDR];
        if self.csum {
            hdr[0] = HDR_F_NEEDS_CSUM;
            hdr[6..8].copy_from_slice(&start.to_le_bytes());
            hdr[8..10].copy_from_slice(&offset.to_le_bytes());
        }
        self.send(frame, hdr)
    }

    fn send(&mut self, frame: &[u8], hdr: [u8; HDR]) -> Result<(), TxError> {
        if self.broken {
            return Err(TxError::Broken);
        }
        if !(MIN_FRAME..=MAX_FRAME).contains(&frame.len()) {
            return Err(TxError::BadLength);
        }
        if self.tx_free.is_empty() {
            self.reclaim_tx();
        }
        let Some(slot) = self.tx_free.pop() else {
            return Err(TxError::Full);
        };
        // No segmentation; a checksum offload at most.
        self.tx_bufs.write(slot as usize, 0, &hdr);
        self.tx_bufs.write(slot as usize, HDR, frame);
        let buf = Buf {
            addr: self.tx_bufs.addr(slot as usize),
            len: (HDR + frame.len()) as u32,
            device_writes: false,
        };
        let Some(head) = self.tx.push(&[buf]) else {
            self.tx_free.push(slot);
            return Err(TxError::Full);
        };
        self.tx_slot[head as usize] = slot;
        if self.tx.wants_notify() {
            self.transport.notify(TXQ);
        }
        Ok(())
    }

    /// Takes back the buffers of frames the device has sent; returns how many.
    pub fn reclaim_tx(&mut self) -> usize {
        let mut n = 0;
        while !self.broken {
            match self.tx.pop_used() {
                Ok(Some((head, _))) => {
                    self.tx_free.push(self.tx_slot[head as usize]);
                    n += 1;
                }
                Ok(None) => break,
                Err(_) => self.broken = true,
            }
        }
        n
    }

    /// The next received Ethernet frame (without the virtio-net header), or None when there
    /// is none now. Its buffer goes back to the device at once.
    pub fn receive(&mut self) -> Option<Vec<u8>> {
        self.receive_checked().map(|(f, _)| f)
    }

    /// As `receive`, with whether the device vouched for the frame's TCP/UDP checksum:
    /// verified it (DATA_VALID), or left it partial for data that never crossed a wire
    /// (NEEDS_CSUM). Always false without `checksum_offload`.
    pub fn receive_checked(&mut self) -> Option<(Vec<u8>, bool)> {
        while !self.broken {
            let (head, len) = match self.rx.pop_used() {
                Ok(Some(u)) => u,
                Ok(None) => return None,
                Err(_) => {
                    self.broken = true;
                    return None;
                }
            };
            let slot = self.rx_slot[head as usize];
            let len = len as usize;
            let mut frame = Vec::new();
            let ok = (HDR + MIN_FRAME..=BUF).contains(&len)
                && frame.try_reserve_exact(len - HDR).is_ok();
            let mut flags = [0u8; 1];
            if ok {
                frame.resize(len - HDR, 0);
                self.rx_bufs.read(slot as usize, HDR, &mut frame);
                self.rx_bufs.read(slot as usize, 0, &mut flags);
            }
            self.post_rx(slot, true);
            if ok {
                let vouched = self.csum && flags[0] & (HDR_F_DATA_VALID | HDR_F_NEEDS_CSUM) != 0;
                return Some((frame, vouched));
            }
            self.rx_dropped += 1;
        }
        None
    }

    /// Which interrupts arrived since the previous call (transmit completions are reclaimed
    /// here). A device that reported a failure is marked broken.
    pub fn irq_ack(&mut self) -> NetEvents {
        let rx = irq::count(Line::NetRx);
        let tx = irq::count(Line::NetTx);
        let mut ev = NetEvents {
            rx: rx != self.seen_rx,
            tx: tx != self.seen_tx,
        };
        if self.shared_vector {
            ev.tx |= ev.rx;
        }
        self.seen_rx = rx;
        self.seen_tx = tx;
        if ev.tx {
            self.reclaim_tx();
        }
        if virtio::device_broken(&*self.transport) {
            self.broken = true;
        }
        ev
    }
}

/// The MAC address from the device configuration, re-read until the generation is stable.
fn read_mac(t: &dyn Transport) -> [u8; 6] {
    let cfg = t.config();
    loop {
        let g = t.config_generation();
        let mut mac = [0u8; 6];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = cfg.read8(i);
        }
        if t.config_generation() == g {
            return mac;
        }
    }
}

impl Drop for VirtioNet {
    /// Stops the device before its rings and buffers are freed; one that does not reset
    /// keeps them for good.
    fn drop(&mut self) {
        if self.transport.reset().is_err() {
            self.rx.leak();
            self.tx.leak();
            self.rx_bufs.leak();
            self.tx_bufs.leak();
        }
    }
}
