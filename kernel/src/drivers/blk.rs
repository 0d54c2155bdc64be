//! Disks: synchronous, sector-aligned I/O on the HAL's virtio-blk devices. A caller submits
//! requests, then sleeps until the completion interrupt's work (`poll`, a tick hook) has
//! collected its completions and woken it; another thread runs meanwhile. Where no thread can
//! sleep (boot, the idle loop's background work, power-off) the CPU halts instead.

use super::iostats::{Group, IoStats};
use crate::sched::{Ticket, WaitQueue};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Frame;
use lintel_hal::virtio_blk::{self, BlkDevice, IoError, Op, SubmitError, Token};

const PAGE: usize = 4096;
pub const SECTOR: u64 = virtio_blk::SECTOR;
/// Requests a single call keeps in flight at most.
const BATCH: usize = 8;
/// Bytes of writes `write_segments` keeps in flight before it waits for them.
const INFLIGHT_MAX: usize = 4 << 20;
/// After this long without a completion, look at the device even without an interrupt.
const STALL_NS: u64 = 1_000_000_000;
/// A sleeping submitter looks at the device at least this often (a lost interrupt).
const RECHECK_NS: u64 = 100_000_000;

/// Set at power-off: from then on waits halt the CPU rather than sleep, so that the last
/// writes finish without the scheduler.
static NO_SLEEP: AtomicBool = AtomicBool::new(false);

/// One disk.
pub struct Disk {
    dev: &'static BlkDevice,
    index: usize,
    /// Completions `poll` collected, until their submitter takes them.
    done: Mutex<BTreeMap<Token, Result<(), IoError>>>,
    /// Submitters asleep until a completion of this disk is collected.
    waiters: WaitQueue,
    /// The disk's I/O counters (/proc/diskstats).
    stats: IoStats,
    /// Requests in flight, for the counters: when each started, what it is, and the
    /// partition it was made for (whose counters count it too, as Linux counts a request on
    /// the partition and on the whole disk).
    pending: Mutex<BTreeMap<Token, Pending>>,
}

struct Pending {
    start: u64,
    group: Group,
    sectors: u64,
    part: Option<Arc<IoStats>>,
}

impl Pending {
    fn done(self, disk: &IoStats, now: u64) {
        disk.done(self.group, self.sectors, self.start, now);
        if let Some(p) = &self.part {
            p.done(self.group, self.sectors, self.start, now);
        }
    }
}

/// What a request counts as, and over how many sectors.
fn group_of(op: &Op<'_>) -> (Group, u64) {
    match op {
        Op::Read { bytes, .. } => (Group::Read, *bytes as u64 / SECTOR),
        Op::Write { bytes, .. } => (Group::Write, *bytes as u64 / SECTOR),
        Op::Flush => (Group::Flush, 0),
    }
}

static DISKS: spin::Once<Vec<Arc<Disk>>> = spin::Once::new();

/// Finds the disks (once, at boot).
pub fn init() {
    DISKS.call_once(|| {
        let n = virtio_blk::probe();
        for m in virtio_blk::take_probe_log() {
            crate::warn!("{}", m);
        }
        (0..n)
            .filter_map(|i| virtio_blk::device(i).map(|dev| (i, dev)))
            .map(|(index, dev)| {
                crate::info!(
                    "{}: virtio-blk at {}, {} sectors ({} MiB){}",
                    disk_name(index),
                    dev.location(),
                    dev.capacity_bytes() / SECTOR,
                    dev.capacity_bytes() >> 20,
                    if dev.read_only() { ", read-only" } else { "" }
                );
                Arc::new(Disk {
                    dev,
                    index,
                    done: Mutex::new(BTreeMap::new()),
                    waiters: WaitQueue::new(),
                    stats: IoStats::new(),
                    pending: Mutex::new(BTreeMap::new()),
                })
            })
            .collect()
    });
}

pub fn disks() -> Vec<Arc<Disk>> {
    DISKS.get().cloned().unwrap_or_default()
}

/// "vda", "vdb", ... "vdz", "vdaa"...
pub fn disk_name(i: usize) -> alloc::string::String {
    let mut s = alloc::vec::Vec::new();
    let mut n = i;
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    alloc::format!("vd{}", core::str::from_utf8(&s).unwrap_or("?"))
}

/// Collects finished requests of every disk and wakes their submitters (cheap when no device
/// interrupt arrived).
pub fn poll() -> Option<u64> {
    if let Some(d) = DISKS.get() {
        for disk in d {
            disk.collect(false);
        }
    }
    None
}

/// Flushes every disk (sync(2), power-off). Errors are logged, not returned.
pub fn sync_all() {
    for d in disks() {
        if let Err(e) = d.flush() {
            crate::warn!("{}: flush failed: {}", disk_name(d.index), e.name());
        }
    }
}

/// Power-off begins: disk waits halt the CPU from now on (see [`NO_SLEEP`]).
pub fn stop_sleeping() {
    NO_SLEEP.store(true, Ordering::Relaxed);
}

/// At power-off: waits (boundedly) for requests still in flight, then flushes every disk
/// without relying on the scheduler.
pub fn shutdown() {
    stop_sleeping();
    for d in disks() {
        let deadline = crate::time::uptime_ns() + 2 * STALL_NS;
        while d.dev.in_flight() > 0 && crate::time::uptime_ns() < deadline {
            d.collect(true);
            crate::sched::halt_briefly();
        }
        if !d.dev.has_flush() {
            continue;
        }
        match d.dev.submit(Op::Flush) {
            Ok(t) => {
                while crate::time::uptime_ns() < deadline {
                    d.collect(true);
                    if let Some(r) = d.done.lock().remove(&t) {
                        match r {
                            Ok(()) => crate::debug!("{}: flushed at power-off", disk_name(d.index)),
                            Err(_) => {
                                crate::warn!("{}: flush failed at power-off", disk_name(d.index))
                            }
                        }
                        break;
                    }
                    crate::sched::halt_briefly();
                }
            }
            Err(e) => crate::warn!("{}: cannot flush at power-off: {:?}", disk_name(d.index), e),
        }
    }
}

/// Copies `data` into `frames` (pages of one request) from byte `pos` of the request on.
fn copy_into(frames: &[Frame], mut pos: usize, mut data: &[u8]) {
    while !data.is_empty() {
        let off = pos % PAGE;
        let k = (PAGE - off).min(data.len());
        frames[pos / PAGE].write(off, &data[..k]);
        pos += k;
        data = &data[k..];
    }
}

fn submit_error(e: SubmitError) -> Errno {
    match e {
        SubmitError::ReadOnly => Errno::EROFS,
        SubmitError::OutOfRange | SubmitError::TooLarge => Errno::EINVAL,
        SubmitError::Busy | SubmitError::Broken => Errno::EIO,
    }
}

impl Disk {
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn read_only(&self) -> bool {
        self.dev.read_only()
    }

    /// Moves the device's completions into `done`; wakes waiters when there were any.
    fn collect(&self, force: bool) {
        let c = self.dev.poll(force);
        if c.is_empty() {
            return;
        }
        let now = crate::time::uptime_ns();
        {
            // `pending` stays held while `done` takes the completions, as in
            // `account_start`: a request is always counted as finished exactly once.
            let mut pending = self.pending.lock();
            for x in &c {
                if let Some(p) = pending.remove(&x.token) {
                    p.done(&self.stats, now);
                }
            }
            let mut done = self.done.lock();
            for x in c {
                done.insert(x.token, x.result);
            }
        }
        self.waiters.wake_all();
    }

    /// Waits until something may have completed. A thread sleeps until `collect` (run by the
    /// completion interrupt's tick work) wakes it, or for at most `RECHECK_NS`; the locks its
    /// callers hold across I/O (file position, ext4, address space) are sleeping locks, so
    /// whoever else runs meanwhile and wants one sleeps too. Without a thread (boot, the idle
    /// loop's journal commit) or at power-off the CPU halts until the next interrupt instead.
    /// The caller took `tk` before it looked at `done` (or tried to submit): a collection on
    /// another CPU since then ends the wait at once, so no wake-up is lost.
    fn wait(&self, tk: Ticket, since: u64) {
        let now = crate::time::uptime_ns();
        let stalled = now.saturating_sub(since) > STALL_NS;
        if NO_SLEEP.load(Ordering::Relaxed)
            || crate::sched::try_current().is_none()
            || crate::spinlock::sleeping_with_spin_lock("disk wait")
        {
            crate::sched::halt_briefly();
        } else {
            self.waiters
                .wait_once(tk, Some(now.saturating_add(RECHECK_NS)));
        }
        self.collect(stalled);
    }

    fn submit(&self, op: Op<'_>, part: Option<&Arc<IoStats>>) -> KResult<Token> {
        let since = crate::time::uptime_ns();
        loop {
            let tk = self.waiters.ticket();
            match self.dev.submit(op) {
                Ok(t) => {
                    self.account_start(t, &op, part);
                    return Ok(t);
                }
                Err(SubmitError::Busy) => self.wait(tk, since),
                Err(e) => return Err(submit_error(e)),
            }
        }
    }

    /// Counts request `t`, just submitted, as in flight (or as done already, should its
    /// completion have been collected in between).
    fn account_start(&self, t: Token, op: &Op<'_>, part: Option<&Arc<IoStats>>) {
        let now = crate::time::uptime_ns();
        let (group, sectors) = group_of(op);
        self.stats.start(now);
        if let Some(p) = part {
            p.start(now);
        }
        let p = Pending {
            start: now,
            group,
            sectors,
            part: part.cloned(),
        };
        let mut pending = self.pending.lock();
        if self.done.lock().contains_key(&t) {
            drop(pending);
            p.done(&self.stats, now);
        } else {
            pending.insert(t, p);
        }
    }

    /// The disk's I/O counters.
    pub fn stats(&self) -> &IoStats {
        &self.stats
    }

    /// Waits for `tokens`; Ok when every one succeeded.
    fn wait_all(&self, tokens: &[Token]) -> KResult<()> {
        let since = crate::time::uptime_ns();
        let mut left: Vec<Token> = tokens.to_vec();
        let mut failed = false;
        loop {
            let tk = self.waiters.ticket();
            {
                let mut done = self.done.lock();
                left.retain(|t| match done.remove(t) {
                    Some(r) => {
                        failed |= r.is_err();
                        false
                    }
                    None => true,
                });
            }
            if left.is_empty() {
                return if failed { Err(Errno::EIO) } else { Ok(()) };
            }
            self.wait(tk, since);
        }
    }

    fn check(&self, offset: u64, len: usize) -> KResult<()> {
        if !offset.is_multiple_of(SECTOR) || !(len as u64).is_multiple_of(SECTOR) {
            return Err(Errno::EINVAL);
        }
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.size() => Ok(()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Runs a read or write of `len` bytes at `offset` in batches of requests. `fill` prepares
    /// the frames of a write, `drain` takes the data of a read out of them.
    fn transfer(
        &self,
        write: bool,
        offset: u64,
        len: usize,
        mut fill: impl FnMut(usize, &[Frame]),
        mut drain: impl FnMut(usize, &[Frame]),
        part: Option<&Arc<IoStats>>,
    ) -> KResult<()> {
        self.check(offset, len)?;
        let per_req = self.dev.max_frames() * PAGE;
        let mut pos = 0;
        while pos < len {
            // Submit up to BATCH requests, then wait for all of them.
            let mut batch: Vec<(usize, usize, Vec<Frame>, Token)> = Vec::new();
            let mut err = None;
            while pos < len && batch.len() < BATCH {
                let n = (len - pos).min(per_req);
                let frames: Option<Vec<Frame>> =
                    (0..n.div_ceil(PAGE)).map(|_| Frame::alloc()).collect();
                let Some(frames) = frames else {
                    err = Some(Errno::ENOMEM);
                    break;
                };
                if write {
                    fill(pos, &frames);
                }
                let sector = (offset + pos as u64) / SECTOR;
                let op = if write {
                    Op::Write {
                        sector,
                        frames: &frames,
                        bytes: n,
                    }
                } else {
                    Op::Read {
                        sector,
                        frames: &frames,
                        bytes: n,
                    }
                };
                match self.submit(op, part) {
                    Ok(t) => batch.push((pos, n, frames, t)),
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
                pos += n;
            }
            let tokens: Vec<Token> = batch.iter().map(|b| b.3).collect();
            let r = self.wait_all(&tokens);
            if let Some(e) = err {
                return Err(e);
            }
            r?;
            if !write {
                for (p, _, frames, _) in &batch {
                    drain(*p, frames);
                }
            }
        }
        Ok(())
    }

    /// Reads `buf.len()` bytes at `offset` (both multiples of 512), counted on the disk and
    /// on `part`.
    pub fn read(&self, offset: u64, buf: &mut [u8], part: Option<&Arc<IoStats>>) -> KResult<()> {
        let len = buf.len();
        self.transfer(
            false,
            offset,
            len,
            |_, _| {},
            |pos, frames| {
                for (i, f) in frames.iter().enumerate() {
                    let s = pos + i * PAGE;
                    let e = (s + PAGE).min(len);
                    f.read(0, &mut buf[s..e]);
                }
            },
            part,
        )
    }

    /// Writes `buf` at `offset` (both multiples of 512), counted on the disk and on `part`.
    pub fn write(&self, offset: u64, buf: &[u8], part: Option<&Arc<IoStats>>) -> KResult<()> {
        if self.read_only() {
            return Err(Errno::EROFS);
        }
        self.transfer(
            true,
            offset,
            buf.len(),
            |pos, frames| {
                for (i, f) in frames.iter().enumerate() {
                    let s = pos + i * PAGE;
                    let e = (s + PAGE).min(buf.len());
                    f.write(0, &buf[s..e]);
                }
            },
            |_, _| {},
            part,
        )
    }

    /// Writes every `(offset, bytes)` of `segs` (offsets and lengths multiples of 512):
    /// segments that continue one another share a request (up to the device's request size),
    /// and every request is submitted before the first is waited for (up to
    /// [`INFLIGHT_MAX`] bytes at once), as Linux's block layer merges and queues a plug's
    /// worth of bios. The order in which they reach the medium is not defined (a flush
    /// orders). Ok when every request succeeded, else the first error, once every request
    /// submitted has finished.
    pub fn write_segments(
        &self,
        segs: &[(u64, &[u8])],
        part: Option<&Arc<IoStats>>,
    ) -> KResult<()> {
        if self.read_only() {
            return Err(Errno::EROFS);
        }
        for (o, b) in segs {
            self.check(*o, b.len())?;
        }
        let per_req = self.dev.max_frames() * PAGE;
        let mut flight: Vec<(Vec<Frame>, Token)> = Vec::new();
        let mut bytes = 0usize;
        let mut err = None;
        // The cursor: segment `si`, `so` bytes into it.
        let (mut si, mut so) = (0usize, 0usize);
        while si < segs.len() {
            // One request: from the cursor while the segments continue one another.
            let start = segs[si].0 + so as u64;
            let (mut ei, mut eo, mut n) = (si, so, 0usize);
            while ei < segs.len() && n < per_req {
                let (o, b) = segs[ei];
                if o + eo as u64 != start + n as u64 {
                    break;
                }
                let take = (b.len() - eo).min(per_req - n);
                n += take;
                eo += take;
                if eo == b.len() {
                    ei += 1;
                    eo = 0;
                }
            }
            if n == 0 {
                (si, so) = (ei, eo);
                continue;
            }
            let frames: Option<Vec<Frame>> =
                (0..n.div_ceil(PAGE)).map(|_| Frame::alloc()).collect();
            let Some(frames) = frames else {
                err = Some(Errno::ENOMEM);
                break;
            };
            let mut p = 0;
            while p < n {
                let b = segs[si].1;
                let take = (b.len() - so).min(n - p);
                copy_into(&frames, p, &b[so..so + take]);
                p += take;
                so += take;
                if so == b.len() {
                    si += 1;
                    so = 0;
                }
            }
            let op = Op::Write {
                sector: start / SECTOR,
                frames: &frames,
                bytes: n,
            };
            match self.submit(op, part) {
                Ok(t) => flight.push((frames, t)),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
            bytes += n;
            if bytes >= INFLIGHT_MAX {
                let tokens: Vec<Token> = flight.iter().map(|f| f.1).collect();
                if let Err(e) = self.wait_all(&tokens) {
                    err.get_or_insert(e);
                }
                flight.clear();
                bytes = 0;
            }
        }
        let tokens: Vec<Token> = flight.iter().map(|f| f.1).collect();
        let r = self.wait_all(&tokens);
        drop(flight);
        match err {
            Some(e) => Err(e),
            None => r,
        }
    }

    /// Makes completed writes durable.
    pub fn flush(&self) -> KResult<()> {
        if !self.dev.has_flush() {
            return Ok(());
        }
        let t = self.submit(Op::Flush, None)?;
        self.wait_all(&[t])
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.dev.capacity_bytes()
    }
}
