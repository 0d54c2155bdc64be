//! Per-device I/O accounting, Linux's `struct disk_stats` (Documentation/admin-guide/
//! iostats.rst): requests completed, sectors and time per kind of request, requests in
//! flight, the time the device had any in flight and the time requests spent in it. Each
//! disk, partition and loop device has one; /proc/diskstats and /sys/block/NAME/stat print
//! it. Times come from the monotonic clock in nanoseconds and are shown in milliseconds.

use crate::spinlock::Mutex;
use alloc::string::String;

/// The kinds of request Linux counts apart (`enum stat_group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Read = 0,
    Write = 1,
    /// Lintel's disks take no discards (no VIRTIO_BLK_F_DISCARD); the counters stay 0.
    #[allow(dead_code)]
    Discard = 2,
    Flush = 3,
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Default, Debug)]
pub struct Counters {
    pub ios: [u64; 4],
    pub merges: [u64; 4],
    pub sectors: [u64; 4],
    pub nsecs: [u64; 4],
    pub in_flight: u64,
    /// Time with at least one request in flight (Linux's io_ticks).
    pub io_ticks_ns: u64,
    /// When `io_ticks_ns` was last brought up to date.
    stamp_ns: u64,
}

pub struct IoStats(Mutex<Counters>);

impl Default for IoStats {
    fn default() -> Self {
        Self::new()
    }
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

impl Counters {
    fn tick(&mut self, now: u64) {
        if self.in_flight > 0 {
            self.io_ticks_ns += now.saturating_sub(self.stamp_ns);
        }
        self.stamp_ns = now;
    }

    /// The 17 counters of a /proc/diskstats line after the name (Linux ≥ 5.5's format),
    /// which is also the whole of /sys/block/NAME/stat (there in columns of width 8).
    pub fn fields(&self) -> [u64; 17] {
        let (r, w, d, f) = (0, 1, 2, 3);
        [
            self.ios[r],
            self.merges[r],
            self.sectors[r],
            ms(self.nsecs[r]),
            self.ios[w],
            self.merges[w],
            self.sectors[w],
            ms(self.nsecs[w]),
            self.in_flight,
            ms(self.io_ticks_ns),
            // time_in_queue: every request's time, as Linux's part_stat_show sums it.
            ms(self.nsecs.iter().sum()),
            self.ios[d],
            self.merges[d],
            self.sectors[d],
            ms(self.nsecs[d]),
            self.ios[f],
            ms(self.nsecs[f]),
        ]
    }

    /// The counters separated by spaces, each right-aligned in `width` columns.
    fn joined(&self, width: usize) -> String {
        let v: alloc::vec::Vec<String> = self
            .fields()
            .iter()
            .map(|x| alloc::format!("{x:width$}"))
            .collect();
        v.join(" ")
    }

    /// /proc/diskstats' counters, space-separated.
    pub fn diskstats(&self) -> String {
        self.joined(0)
    }

    /// /sys/block/NAME/stat: the same counters in Linux's `%8lu` columns.
    pub fn sysfs_stat(&self) -> String {
        self.joined(8) + "\n"
    }
}

impl IoStats {
    pub const fn new() -> IoStats {
        IoStats(Mutex::new(Counters {
            ios: [0; 4],
            merges: [0; 4],
            sectors: [0; 4],
            nsecs: [0; 4],
            in_flight: 0,
            io_ticks_ns: 0,
            stamp_ns: 0,
        }))
    }

    /// A request was handed to the device at `now`.
    pub fn start(&self, now: u64) {
        let mut c = self.0.lock();
        c.tick(now);
        c.in_flight += 1;
    }

    /// A request started at `start` (with `start` called then) completed at `now`.
    pub fn done(&self, g: Group, sectors: u64, start: u64, now: u64) {
        let mut c = self.0.lock();
        c.tick(now);
        c.in_flight = c.in_flight.saturating_sub(1);
        let g = g as usize;
        c.ios[g] += 1;
        c.sectors[g] += sectors;
        c.nsecs[g] += now.saturating_sub(start);
    }

    /// The counters now (the busy time brought up to date).
    pub fn snapshot(&self) -> Counters {
        let now = crate::time::uptime_ns();
        let mut c = self.0.lock();
        c.tick(now);
        *c
    }

    /// Runs `f` as one request of kind `g` over `sectors` sectors (a device that does not
    /// see the requests below it: a partition over a device that is not a disk, a loop
    /// device).
    pub fn timed<T>(&self, g: Group, sectors: u64, f: impl FnOnce() -> T) -> T {
        let start = crate::time::uptime_ns();
        self.start(start);
        let r = f();
        self.done(g, sectors, start, crate::time::uptime_ns());
        r
    }
}
