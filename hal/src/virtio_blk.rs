//! virtio-blk (virtio 1.x) on any virtio transport (`crate::virtio`): one split virtqueue per
//! device, completions signalled by an interrupt on the block-device line (`irq::Line::Block`).
//! Data moves in whole 4 KiB frames; a request is the chain header, data frames, status byte.
//! Several requests may be in flight; `poll` collects the finished ones.

use crate::irq::{self, Line};
use crate::mm::Frame;
use crate::virtio::dma::Dma;
use crate::virtio::queue::{Buf, SplitQueue};
use crate::virtio::{self, DeviceType, Transport};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

/// Bytes per sector: virtio-blk always addresses 512-byte sectors.
pub const SECTOR: u64 = 512;
const PAGE: usize = 4096;

// Feature bits.
const F_SEG_MAX: u64 = 1 << 2;
const F_RO: u64 = 1 << 5;
const F_FLUSH: u64 = 1 << 9;

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

struct InFlight {
    token: Token,
    /// The data frames, kept alive until the device is done with them.
    _frames: Vec<Frame>,
}

struct Queue {
    vq: SplitQueue,
    /// Per head descriptor i: the request header at 32*i, the status byte at 32*i+16.
    hdr: Dma,
    /// Per head descriptor: the request whose chain it heads.
    inflight: Vec<Option<InFlight>>,
    next_token: u64,
    broken: bool,
}

/// One virtio-blk disk.
pub struct BlkDevice {
    transport: Box<dyn Transport>,
    q: Mutex<Queue>,
    sectors: u64,
    max_frames: usize,
    flush: bool,
    read_only: bool,
    seen_irqs: AtomicU64,
}

static DEVICES: spin::Once<Vec<BlkDevice>> = spin::Once::new();

/// Finds and initializes every virtio-blk device (once); returns how many work.
pub fn probe() -> usize {
    DEVICES
        .call_once(|| virtio::probe(DeviceType::Block, BlkDevice::init))
        .len()
}

/// Messages from probing (skipped devices, firmware quirks), taken once.
pub fn take_probe_log() -> Vec<String> {
    virtio::take_probe_log()
}

/// Disk `i` in PCI order.
pub fn device(i: usize) -> Option<&'static BlkDevice> {
    DEVICES.get()?.get(i)
}

impl BlkDevice {
    fn init(mut t: Box<dyn Transport>) -> Result<BlkDevice, &'static str> {
        let wanted = virtio::negotiate(&*t, F_FLUSH | F_SEG_MAX | F_RO)?;
        let fail = |t: &dyn Transport, why| Err(virtio::fail(t, why));
        if t.num_queues() < 1 {
            return fail(&*t, "the device has no queue");
        }
        // Vector 0 to this CPU's block-device interrupt line.
        if let Err(e) = t.route_interrupts(&[irq::msi(Line::Block)]) {
            return fail(&*t, e);
        }
        let max = t.max_queue_size(0);
        if max == 0 {
            return fail(&*t, "queue 0 is not available");
        }
        let size = SplitQueue::pick_size(max, MAX_QUEUE);
        if size < 4 {
            return fail(&*t, "the queue is too small");
        }
        let (Some(vq), Some(hdr)) = (SplitQueue::new(size), Dma::new()) else {
            return fail(&*t, "out of memory");
        };
        if let Err(e) = t.setup_queue(0, size, 0, vq.addresses()) {
            return fail(&*t, e);
        }
        virtio::driver_ok(&*t);

        let cfg = t.config();
        let sectors = loop {
            // capacity is 64 bits read as two halves: re-read until the generation is stable.
            let g = t.config_generation();
            let v = cfg.read64(0);
            if t.config_generation() == g {
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
            vq,
            hdr,
            inflight: (0..size).map(|_| None).collect(),
            next_token: 1,
            broken: false,
        };
        Ok(BlkDevice {
            transport: t,
            q: Mutex::new(q),
            sectors,
            max_frames,
            flush: wanted & F_FLUSH != 0,
            read_only: wanted & F_RO != 0,
            seen_irqs: AtomicU64::new(0),
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
        self.transport.location()
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
        let Some(chain) = q.vq.alloc(n) else {
            return Err(SubmitError::Busy);
        };
        let head = chain.head() as usize;
        let token = Token(q.next_token);
        q.next_token += 1;

        // Header and status byte in the head's slot.
        q.hdr.write::<u32>(32 * head, kind);
        q.hdr.write::<u32>(32 * head + 4, 0);
        q.hdr.write::<u64>(32 * head + 8, sector);
        q.hdr.write::<u8>(32 * head + 16, 0xff);
        let hdr_pa = q.hdr.pa() + 32 * head as u64;
        let data_writes = kind == T_IN;
        let mut parts: Vec<Buf> = Vec::with_capacity(n);
        parts.push(Buf {
            addr: hdr_pa,
            len: 16,
            device_writes: false,
        });
        for (i, f) in frames.iter().enumerate() {
            let len = (bytes - i * PAGE).min(PAGE);
            parts.push(Buf {
                addr: f.phys() as u64,
                len: len as u32,
                device_writes: data_writes,
            });
        }
        parts.push(Buf {
            addr: hdr_pa + 16,
            len: 1,
            device_writes: true,
        });
        q.inflight[head] = Some(InFlight {
            token,
            _frames: frames.to_vec(),
        });
        q.vq.publish(chain, &parts);
        self.transport.notify(0);
        Ok(token)
    }

    /// Requests the device finished since the last call. Cheap (no device access) unless an
    /// interrupt arrived since then; `force` looks anyway.
    pub fn poll(&self, force: bool) -> Vec<Completion> {
        let irqs = irq::count(Line::Block);
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
            let (id, _) = match q.vq.pop_used() {
                Ok(Some(u)) => u,
                Ok(None) => break,
                Err(_) => {
                    q.broken = true;
                    break;
                }
            };
            let id = id as usize;
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
            out.push(Completion {
                token: req.token,
                result,
            });
        }
        if virtio::device_broken(&*self.transport) {
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
