//! virtio-blk over modern virtio-pci (virtio 1.x): one split virtqueue per device, completions
//! signalled by MSI-X to the block-device interrupt (`irq::block_msi`). Data moves in whole 4 KiB frames; a request is
//! the chain header, data frames, status byte. Several requests may be in flight; `poll`
//! collects the finished ones.

use crate::irq;
use crate::mm::{phys_to_virt, Frame};
use crate::pci::{Mmio, PciFunction};
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicU64, Ordering};
use spin::Mutex;

/// Bytes per sector: virtio-blk always addresses 512-byte sectors.
pub const SECTOR: u64 = 512;
const PAGE: usize = 4096;

// Device status bits.
const ACKNOWLEDGE: u8 = 1;
const DRIVER: u8 = 2;
const DRIVER_OK: u8 = 4;
const FEATURES_OK: u8 = 8;
const NEEDS_RESET: u8 = 0x40;
const FAILED: u8 = 0x80;

// Feature bits.
const F_SEG_MAX: u64 = 1 << 2;
const F_RO: u64 = 1 << 5;
const F_FLUSH: u64 = 1 << 9;
const F_VERSION_1: u64 = 1 << 32;

// Common configuration registers.
const DEVICE_FEATURE_SELECT: usize = 0;
const DEVICE_FEATURE: usize = 4;
const DRIVER_FEATURE_SELECT: usize = 8;
const DRIVER_FEATURE: usize = 12;
const CONFIG_MSIX_VECTOR: usize = 16;
const NUM_QUEUES: usize = 18;
const DEVICE_STATUS: usize = 20;
const QUEUE_SELECT: usize = 22;
const QUEUE_SIZE: usize = 24;
const QUEUE_MSIX_VECTOR: usize = 26;
const QUEUE_ENABLE: usize = 28;
const QUEUE_NOTIFY_OFF: usize = 30;
const QUEUE_DESC: usize = 32;
const QUEUE_DRIVER: usize = 40;
const QUEUE_DEVICE: usize = 48;
const NO_VECTOR: u16 = 0xffff;

// Descriptor flags.
const DESC_NEXT: u16 = 1;
const DESC_WRITE: u16 = 2;

// Request types and status values.
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
const S_OK: u8 = 0;
const S_UNSUPP: u8 = 2;

/// Largest queue used (the header frame holds 32 bytes per descriptor slot).
const MAX_QUEUE: u16 = 128;
/// Data frames per request at most (the device's seg_max may lower it).
const MAX_FRAMES: usize = 64;

/// One request. Data requests move `bytes` (a multiple of 512) through `frames`, which are
/// filled in order: every frame but the last is used whole.
#[derive(Clone, Copy)]
pub enum Op<'a> {
    /// Reads from `sector` into the frames.
    Read {
        sector: u64,
        frames: &'a [Frame],
        bytes: usize,
    },
    /// Writes the frames' contents to the disk from `sector`.
    Write {
        sector: u64,
        frames: &'a [Frame],
        bytes: usize,
    },
    /// Makes completed writes durable.
    Flush,
}

/// Names one submitted request until `poll` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// No free descriptors: wait for a completion and retry.
    Busy,
    /// More frames than `max_frames()`, or `bytes` does not match the frames or is not a
    /// multiple of 512.
    TooLarge,
    /// The range leaves the disk.
    OutOfRange,
    /// A write to a read-only disk.
    ReadOnly,
    /// The device failed and takes no more requests.
    Broken,
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoError {
    /// The device reported an I/O error, or failed.
    Io,
    /// The device does not support the request type.
    Unsupported,
}

#[derive(Clone, Copy, Debug)]
pub struct Completion {
    pub token: Token,
    pub result: Result<(), IoError>,
}

/// A frame used as device-shared memory, accessed with volatile operations.
struct Dma {
    frame: Frame,
}

impl Dma {
    fn new() -> Option<Dma> {
        Some(Dma {
            frame: Frame::alloc()?,
        })
    }
    fn pa(&self) -> u64 {
        self.frame.phys() as u64
    }
    fn ptr<T>(&self, off: usize) -> *mut T {
        assert!(
            off + core::mem::size_of::<T>() <= PAGE
                && off.is_multiple_of(core::mem::align_of::<T>())
        );
        (phys_to_virt(self.frame.phys()) + off) as *mut T
    }
    fn read<T: Copy>(&self, off: usize) -> T {
        // SAFETY: in bounds and aligned (checked by `ptr`), inside a frame this driver owns; the
        // device may write it concurrently, hence volatile.
        unsafe { core::ptr::read_volatile(self.ptr(off)) }
    }
    fn write<T: Copy>(&self, off: usize, v: T) {
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.ptr(off), v) }
    }
}

struct InFlight {
    token: Token,
    /// Descriptors of the chain, head first.
    chain: Vec<u16>,
    /// The data frames, kept alive until the device is done with them.
    _frames: Vec<Frame>,
}

struct Queue {
    size: u16,
    desc: Dma,
    avail: Dma,
    used: Dma,
    /// Per head descriptor i: the request header at 32*i, the status byte at 32*i+16.
    hdr: Dma,
    free: Vec<u16>,
    inflight: Vec<Option<InFlight>>,
    avail_idx: u16,
    last_used: u16,
    next_token: u64,
    broken: bool,
}

/// One virtio-blk disk.
pub struct BlkDevice {
    common: Mmio,
    notify: Mmio,
    q: Mutex<Queue>,
    sectors: u64,
    max_frames: usize,
    flush: bool,
    read_only: bool,
    seen_irqs: AtomicU64,
    location: String,
}

static DEVICES: spin::Once<Vec<BlkDevice>> = spin::Once::new();
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Finds and initializes every virtio-blk device (once); returns how many work.
pub fn probe() -> usize {
    DEVICES
        .call_once(|| {
            let mut log = |s: String| LOG.lock().push(s);
            let mut out = Vec::new();
            for f in crate::pci::enumerate(&mut log) {
                if f.vendor != 0x1af4 || !(f.device == 0x1042 || f.device == 0x1001) {
                    continue;
                }
                match BlkDevice::init(&f) {
                    Ok(d) => out.push(d),
                    Err(e) => log(alloc::format!(
                        "virtio-blk {:02x}:{:02x}.{}: {e}, device skipped",
                        f.bus,
                        f.dev,
                        f.func
                    )),
                }
            }
            out
        })
        .len()
}

/// Messages from probing (skipped devices, firmware quirks), taken once.
pub fn take_probe_log() -> Vec<String> {
    core::mem::take(&mut *LOG.lock())
}

/// Disk `i` in PCI order.
pub fn device(i: usize) -> Option<&'static BlkDevice> {
    DEVICES.get()?.get(i)
}

/// The capabilities virtio-pci needs, each as an MMIO window.
struct Caps {
    common: Mmio,
    notify: Mmio,
    notify_mult: u32,
    device: Mmio,
    msix: Option<(usize, Mmio)>,
}

fn find_caps(f: &PciFunction) -> Result<Caps, &'static str> {
    let (mut common, mut notify, mut device, mut msix) = (None, None, None, None);
    for (off, id) in f.capabilities() {
        match id {
            0x09 => {
                let kind = f.read8(off + 3);
                let bar = f.read8(off + 4);
                let offset = f.read32(off + 8) as u64;
                let len = f.read32(off + 12) as usize;
                let Some(b) = f.bar(bar) else { continue };
                let win =
                    || Mmio::new(b.base + offset, len).ok_or("a BAR is above 4 GiB or misaligned");
                match kind {
                    1 if common.is_none() => common = Some(win()?),
                    2 if notify.is_none() => {
                        let mult = f.read32(off + 16);
                        notify = Some((b.base + offset, len, mult));
                    }
                    4 if device.is_none() => device = Some(win()?),
                    _ => {}
                }
            }
            0x11 => {
                let table = f.read32(off + 4);
                let n = (f.read16(off + 2) & 0x7ff) as usize + 1;
                let Some(b) = f.bar((table & 7) as u8) else {
                    continue;
                };
                let w = Mmio::new(b.base + (table & !7) as u64, 16 * n)
                    .ok_or("the MSI-X table is above 4 GiB or misaligned")?;
                msix = Some((off, w));
            }
            _ => {}
        }
    }
    let common = common.ok_or("no virtio common configuration (legacy-only device)")?;
    let (nbase, nlen, mult) = notify.ok_or("no virtio notify capability")?;
    let device = device.ok_or("no virtio device configuration")?;
    // The queue's notify address is resolved later; keep the whole window.
    let notify = Mmio::new(nbase, nlen).ok_or("a BAR is above 4 GiB or misaligned")?;
    // Everything the driver touches must be inside the windows the device describes.
    if common.len() < 56 || device.len() < 16 {
        return Err("a virtio configuration window is too small");
    }
    Ok(Caps {
        common,
        notify,
        notify_mult: mult,
        device,
        msix,
    })
}

impl BlkDevice {
    fn init(f: &PciFunction) -> Result<BlkDevice, &'static str> {
        let caps = find_caps(f)?;
        let (msix_cap, msix_table) = caps.msix.ok_or("no MSI-X capability")?;
        f.enable();
        let c = caps.common;
        // Reset, then acknowledge.
        c.write8(DEVICE_STATUS, 0);
        let mut guard = 0;
        while c.read8(DEVICE_STATUS) != 0 {
            guard += 1;
            if guard > 1_000_000 {
                return Err("the device does not reset");
            }
            core::hint::spin_loop();
        }
        c.write8(DEVICE_STATUS, ACKNOWLEDGE);
        c.write8(DEVICE_STATUS, ACKNOWLEDGE | DRIVER);
        let fail = |why: &'static str| {
            c.write8(DEVICE_STATUS, c.read8(DEVICE_STATUS) | FAILED);
            Err(why)
        };
        let mut offered = 0u64;
        for sel in 0..2u32 {
            c.write32(DEVICE_FEATURE_SELECT, sel);
            offered |= (c.read32(DEVICE_FEATURE) as u64) << (32 * sel);
        }
        if offered & F_VERSION_1 == 0 {
            return fail("the device does not offer VIRTIO_F_VERSION_1");
        }
        let wanted = offered & (F_VERSION_1 | F_FLUSH | F_SEG_MAX | F_RO);
        for sel in 0..2u32 {
            c.write32(DRIVER_FEATURE_SELECT, sel);
            c.write32(DRIVER_FEATURE, (wanted >> (32 * sel)) as u32);
        }
        c.write8(DEVICE_STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if c.read8(DEVICE_STATUS) & FEATURES_OK == 0 {
            return fail("the device refuses our features");
        }
        if c.read16(NUM_QUEUES) < 1 {
            return fail("the device has no queue");
        }

        // MSI-X: entry 0 to this CPU's block-device interrupt, unmasked; then turn it on.
        let msi = irq::block_msi();
        msix_table.write32(0, msi.addr as u32);
        msix_table.write32(4, (msi.addr >> 32) as u32);
        msix_table.write32(8, msi.data);
        msix_table.write32(12, 0);
        let mc = f.read16(msix_cap + 2);
        f.write16(msix_cap + 2, (mc | 0x8000) & !0x4000);
        c.write16(CONFIG_MSIX_VECTOR, NO_VECTOR);

        c.write16(QUEUE_SELECT, 0);
        let max = c.read16(QUEUE_SIZE);
        if max == 0 {
            return fail("queue 0 is not available");
        }
        // A power of two no larger than the device's maximum or MAX_QUEUE.
        let mut size = MAX_QUEUE;
        while size > max {
            size /= 2;
        }
        if size < 4 {
            return fail("the queue is too small");
        }
        c.write16(QUEUE_SIZE, size);
        c.write16(QUEUE_MSIX_VECTOR, 0);
        if c.read16(QUEUE_MSIX_VECTOR) != 0 {
            return fail("the device cannot use MSI-X vector 0");
        }
        let (Some(desc), Some(avail), Some(used), Some(hdr)) =
            (Dma::new(), Dma::new(), Dma::new(), Dma::new())
        else {
            return fail("out of memory");
        };
        c.write64(QUEUE_DESC, desc.pa());
        c.write64(QUEUE_DRIVER, avail.pa());
        c.write64(QUEUE_DEVICE, used.pa());
        let notify_off = c.read16(QUEUE_NOTIFY_OFF) as usize * caps.notify_mult as usize;
        let Some(notify) = caps.notify.sub(notify_off, 2) else {
            return fail("the notify address is outside its capability");
        };
        c.write16(QUEUE_ENABLE, 1);
        c.write8(
            DEVICE_STATUS,
            ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK,
        );

        let cfg = caps.device;
        let sectors = loop {
            // capacity is 64 bits read as two halves: re-read until the generation is stable.
            let g = c.read8(21);
            let v = cfg.read64(0);
            if c.read8(21) == g {
                break v;
            }
        };
        let mut max_frames = MAX_FRAMES.min(size as usize - 2);
        if wanted & F_SEG_MAX != 0 {
            let seg_max = cfg.read32(12) as usize;
            if seg_max > 0 {
                max_frames = max_frames.min(seg_max);
            }
        }
        let q = Queue {
            size,
            desc,
            avail,
            used,
            hdr,
            free: (0..size).rev().collect(),
            inflight: (0..size).map(|_| None).collect(),
            avail_idx: 0,
            last_used: 0,
            next_token: 1,
            broken: false,
        };
        Ok(BlkDevice {
            common: c,
            notify,
            q: Mutex::new(q),
            sectors,
            max_frames,
            flush: wanted & F_FLUSH != 0,
            read_only: wanted & F_RO != 0,
            seen_irqs: AtomicU64::new(0),
            location: alloc::format!("{:02x}:{:02x}.{}", f.bus, f.dev, f.func),
        })
    }

    pub fn capacity_bytes(&self) -> u64 {
        self.sectors.saturating_mul(SECTOR)
    }

    /// Data frames one request may carry.
    pub fn max_frames(&self) -> usize {
        self.max_frames
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the device has a volatile write cache that `Op::Flush` empties. Without one,
    /// completed writes are already durable and flushes complete at once.
    pub fn has_flush(&self) -> bool {
        self.flush
    }

    /// PCI location, e.g. "00:03.0".
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Requests submitted and not yet reported by `poll`.
    pub fn in_flight(&self) -> usize {
        self.q
            .lock()
            .inflight
            .iter()
            .filter(|x| x.is_some())
            .count()
    }

    /// Queues a request. Its completion comes back from `poll` with the returned token.
    pub fn submit(&self, op: Op<'_>) -> Result<Token, SubmitError> {
        let (kind, sector, frames, bytes): (u32, u64, &[Frame], usize) = match op {
            Op::Read {
                sector,
                frames,
                bytes,
            } => (T_IN, sector, frames, bytes),
            Op::Write {
                sector,
                frames,
                bytes,
            } => (T_OUT, sector, frames, bytes),
            Op::Flush => (T_FLUSH, 0, &[], 0),
        };
        if kind != T_FLUSH {
            let n = frames.len();
            if n == 0
                || n > self.max_frames
                || !(bytes as u64).is_multiple_of(SECTOR)
                || bytes > n * PAGE
                || bytes <= (n - 1) * PAGE
            {
                return Err(SubmitError::TooLarge);
            }
            let end = sector
                .checked_add(bytes as u64 / SECTOR)
                .ok_or(SubmitError::OutOfRange)?;
            if end > self.sectors {
                return Err(SubmitError::OutOfRange);
            }
        }
        if kind == T_OUT && self.read_only {
            return Err(SubmitError::ReadOnly);
        }
        let mut q = self.q.lock();
        if q.broken {
            return Err(SubmitError::Broken);
        }
        let n = frames.len() + 2;
        if q.free.len() < n {
            return Err(SubmitError::Busy);
        }
        let at = q.free.len() - n;
        let mut chain: Vec<u16> = q.free.split_off(at);
        chain.reverse();
        let head = chain[0] as usize;
        let token = Token(q.next_token);
        q.next_token += 1;

        // Header and status byte in the head's slot.
        q.hdr.write::<u32>(32 * head, kind);
        q.hdr.write::<u32>(32 * head + 4, 0);
        q.hdr.write::<u64>(32 * head + 8, sector);
        q.hdr.write::<u8>(32 * head + 16, 0xff);
        let hdr_pa = q.hdr.pa() + 32 * head as u64;
        let data_flag = if kind == T_IN { DESC_WRITE } else { 0 };
        let mut parts: Vec<(u64, u32, u16)> = Vec::with_capacity(n);
        parts.push((hdr_pa, 16, 0));
        for (i, f) in frames.iter().enumerate() {
            let len = (bytes - i * PAGE).min(PAGE);
            parts.push((f.phys() as u64, len as u32, data_flag));
        }
        parts.push((hdr_pa + 16, 1, DESC_WRITE));
        for (i, &(addr, len, flags)) in parts.iter().enumerate() {
            let d = 16 * chain[i] as usize;
            let next = chain.get(i + 1).copied();
            q.desc.write::<u64>(d, addr);
            q.desc.write::<u32>(d + 8, len);
            q.desc
                .write::<u16>(d + 12, flags | if next.is_some() { DESC_NEXT } else { 0 });
            q.desc.write::<u16>(d + 14, next.unwrap_or(0));
        }
        q.inflight[head] = Some(InFlight {
            token,
            chain,
            _frames: frames.to_vec(),
        });
        // Publish: ring slot, then (after the barrier) the index, then tell the device.
        let slot = (q.avail_idx % q.size) as usize;
        q.avail.write::<u16>(4 + 2 * slot, head as u16);
        fence(Ordering::SeqCst);
        q.avail_idx = q.avail_idx.wrapping_add(1);
        q.avail.write::<u16>(2, q.avail_idx);
        fence(Ordering::SeqCst);
        self.notify.write16(0, 0);
        Ok(token)
    }

    /// Requests the device finished since the last call. Cheap (no device access) unless an
    /// interrupt arrived since then; `force` looks anyway.
    pub fn poll(&self, force: bool) -> Vec<Completion> {
        let irqs = irq::block_irqs();
        if !force && self.seen_irqs.load(Ordering::Relaxed) == irqs {
            return Vec::new();
        }
        self.seen_irqs.store(irqs, Ordering::Relaxed);
        let mut out = Vec::new();
        let mut q = self.q.lock();
        if q.broken {
            return out;
        }
        loop {
            fence(Ordering::SeqCst);
            let used_idx: u16 = q.used.read(2);
            if used_idx == q.last_used {
                break;
            }
            fence(Ordering::SeqCst);
            let slot = (q.last_used % q.size) as usize;
            let id = q.used.read::<u32>(4 + 8 * slot) as usize;
            q.last_used = q.last_used.wrapping_add(1);
            let Some(req) = q.inflight.get_mut(id).and_then(|r| r.take()) else {
                // A completion for no request of ours: the device is confused.
                q.broken = true;
                break;
            };
            let status: u8 = q.hdr.read(32 * id + 16);
            let result = match status {
                S_OK => Ok(()),
                S_UNSUPP => Err(IoError::Unsupported),
                _ => Err(IoError::Io),
            };
            q.free.extend(req.chain.iter().rev());
            out.push(Completion {
                token: req.token,
                result,
            });
        }
        if self.common.read8(DEVICE_STATUS) & (NEEDS_RESET | FAILED) != 0 {
            q.broken = true;
        }
        if q.broken {
            // Fail whatever is still outstanding; the frames stay referenced by nobody but
            // the device cannot be trusted, so they are leaked rather than reused.
            for r in q.inflight.iter_mut() {
                if let Some(req) = r.take() {
                    out.push(Completion {
                        token: req.token,
                        result: Err(IoError::Io),
                    });
                    core::mem::forget(req._frames);
                }
            }
        }
        out
    }
}
