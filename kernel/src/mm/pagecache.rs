//! The page cache: a file's pages that are mapped into address spaces, shared by `mmap`,
//! `read` and `write` so that all three see the same bytes (Linux's `address_space`).
//!
//! A file gets a `Mapping` the first time one of its pages is mapped. From then on `read`
//! copies from cached pages where it has them and `write` updates them after writing through
//! to the inode (a disk file's pages it writes whole enter the cache then, as Linux's written
//! pages do), so the inode always holds everything written by `write` (not necessarily the
//! disk: ext4 keeps written data blocks in memory until a commit or fsync writes them back,
//! and its reads see them, `lintel_ext4`'s wb.rs); only stores through
//! shared mappings make a cached page newer than the inode (it is then in the dirty set until
//! written back by msync, fsync, sync, munmap or the end of the address space).
//!
//! Mappings are keyed by the address of the inode object and hold a `Weak` to it: the address
//! cannot be reused while the `Weak` lives, and a dead `Weak` means no one can reach the file
//! any more, so its pages are dropped.

use super::PAGE;
use crate::spinlock::Mutex;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Frame;
use lintel_vfs::readahead::{self, ReadAdvice};
use lintel_vfs::Inode;

pub use lintel_abi::fcntl::{
    F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
};

/// Not a Linux seal: marks a file that supports seals at all (memfd).
const SEALABLE: u32 = 1 << 31;
/// Not a seal either: log2 of the huge page size of a memfd made with MFD_HUGETLB (a file of
/// hugetlbfs, whose pool is empty), 0 for any other file.
const HUGE_SHIFT: u32 = 24;
const HUGE_MASK: u32 = 0x3f << HUGE_SHIFT;
/// What the seals word holds besides seals.
const MARKS: u32 = SEALABLE | HUGE_MASK;

pub struct Mapping {
    inode: Weak<dyn Inode>,
    pages: Mutex<BTreeMap<u64, Frame>>,
    /// Pages that may be newer than the inode (stored to through a shared mapping).
    dirty: Mutex<BTreeSet<u64>>,
    seals: AtomicU32,
    /// Reads fill the cache too (files on disks; tmpfs files already live in memory).
    cache_reads: bool,
    /// Bumped, under the `pages` lock, by every write and truncation that changes the
    /// inode: a fill that read the inode while it changed sees another value when it comes
    /// to insert, and reads again rather than caching what it read before the change (its
    /// read sleeps on the disk with no lock held; see `fill`).
    changes: AtomicU64,
    /// Serialises the file's writers and truncations against each other (Linux's inode
    /// `i_rwsem` for write and truncate): a write's two steps, the inode then the cached
    /// pages, and an O_APPEND write's reading of the size, happen with no other write or
    /// truncation of the file in between. Readers and faults do not take it (`changes`
    /// orders them against writers). A sleeping lock: it is held across the file system's
    /// I/O. See `write_locked`.
    write_lock: lintel_sync::Mutex<()>,
    /// Set when an unmap found `write_lock` held and left the dirty pages to
    /// `writeback_deferred` (`writeback_unmapped`): the inode, held until they are written.
    deferred: Mutex<Option<Arc<dyn Inode>>>,
    /// The address spaces that map the file (Linux's i_mmap, by address space rather than
    /// by VMA), so that truncation locks those alone: each is noted when it maps the file
    /// (`MmInner::map`, fork) and stays until truncation finds it no longer does or it is
    /// gone (a superset, never missing one). A leaf lock: taken under `Mm::inner` when
    /// noting; truncation copies the list out and locks the address spaces without it.
    mappers: Mutex<Mappers>,
}

/// [`Mapping::mappers`]: by the address of the `Mm`, with the table size at which noting
/// next drops the address spaces that are gone (amortised O(1), as `get`'s sweep).
#[derive(Default)]
struct Mappers {
    mms: BTreeMap<usize, Weak<super::Mm>>,
    sweep_at: usize,
}

/// Pages read at once when a read misses the cache of a disk file (Linux's default
/// read-ahead window, 128 KiB).
const READAHEAD: u64 = 32;

/// An open file's read-ahead state (Linux's file_ra_state and FMODE_RANDOM, which each open
/// of a file keeps for itself: posix_fadvise through one open file leaves the others'
/// alone). The file's mappings read around their faults with it too (exec gives the
/// program's and the interpreter's mappings one each, as their open files have).
pub struct ReadAhead {
    /// The page after the last window a read brought in: a miss there continues a
    /// sequential reader.
    next_read: AtomicU64,
    /// The read-ahead window in pages: [`READAHEAD`], twice that after
    /// POSIX_FADV_SEQUENTIAL, 0 after POSIX_FADV_RANDOM (reads bring in only the pages they
    /// ask for; faults still read around, as Linux's do).
    window: AtomicU64,
    /// Faults of the file's mappings that missed the cache, less those that found their
    /// page (Linux's ra->mmap_miss): past `MMAP_LOTSAMISS` a miss reads only its page.
    mmap_miss: AtomicU32,
}

impl Default for ReadAhead {
    fn default() -> ReadAhead {
        ReadAhead {
            next_read: AtomicU64::new(0),
            window: AtomicU64::new(READAHEAD),
            mmap_miss: AtomicU32::new(0),
        }
    }
}

impl ReadAhead {
    /// Sets the window for the access pattern announced (Linux's generic_fadvise: the
    /// default window, twice it, or none).
    pub fn set_access(&self, access: Access) {
        let window = match access {
            Access::Normal => READAHEAD,
            Access::Sequential => 2 * READAHEAD,
            Access::Random => 0,
        };
        self.window.store(window, Ordering::Relaxed);
    }

    fn window(ra: Option<&ReadAhead>) -> u64 {
        ra.map_or(READAHEAD, |r| r.window.load(Ordering::Relaxed))
    }

    /// `pages` faults (or pages mapped around one) found their page cached: as many fewer
    /// misses (Linux's do_async_mmap_readahead and filemap_map_pages). Not written when
    /// already zero (no shared cache line bounced for nothing).
    pub fn hits(&self, pages: u32) {
        let miss = self.mmap_miss.load(Ordering::Relaxed);
        if miss != 0 && pages != 0 {
            self.mmap_miss
                .store(miss.saturating_sub(pages), Ordering::Relaxed);
        }
    }

    /// A fault missed the cache: the miss count with it.
    fn missed(&self) -> u32 {
        let miss = readahead::count_miss(self.mmap_miss.load(Ordering::Relaxed));
        self.mmap_miss.store(miss, Ordering::Relaxed);
        miss
    }
}

/// The most pages readahead(2) and POSIX_FADV_WILLNEED bring in at once when the window is
/// smaller (Linux's force_page_cache_ra reads up to the device's optimal I/O size).
const FORCE_MAX: u64 = 256;

/// Reads a fill makes before it inserts what it read despite a change meanwhile.
const FILL_ROUNDS: u32 = 4;

/// Where `Mapping::read_with` takes a page's bytes from: a cached frame (and the offset in
/// it), or the inode at a file offset where no frame could be had.
enum Source<'a> {
    Frame(&'a Frame, usize),
    Inode(u64),
}

/// Files whose reads should stay in memory: those of disk file systems.
fn is_disk_file(inode: &Arc<dyn Inode>) -> bool {
    inode.as_any().is::<lintel_ext4::Ext4Inode>()
}

static MAPPINGS: Mutex<BTreeMap<usize, Arc<Mapping>>> = Mutex::new(BTreeMap::new());

/// The table size at which `get` next drops the mappings of files no one can reach.
static SWEEP_AT: AtomicUsize = AtomicUsize::new(64);

fn key(inode: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(inode) as *const u8 as usize
}

/// The file's mapping, if it has one.
pub fn find(inode: &Arc<dyn Inode>) -> Option<Arc<Mapping>> {
    let m = MAPPINGS.lock();
    if m.is_empty() {
        return None;
    }
    m.get(&key(inode)).cloned()
}

/// The file's mapping, made on first use; None for a file whose data does not live in the
/// cache (`Inode::page_cached`: procfs' files are made on each read, and a mapping of one
/// would serve its reads from a cache its size, 0, says is empty).
pub fn get(inode: &Arc<dyn Inode>) -> Option<Arc<Mapping>> {
    if !inode.page_cached() {
        return None;
    }
    let k = key(inode);
    let mut all = MAPPINGS.lock();
    if let Some(m) = all.get(&k) {
        return Some(m.clone());
    }
    // Files no one can reach any more have nothing worth keeping. Every regular file that
    // is written gets a mapping (its write lock), so the sweep runs when the table has
    // doubled since the last one rather than on every new entry (amortised O(1); `reclaim`
    // sweeps too when memory is short).
    if all.len() >= SWEEP_AT.load(Ordering::Relaxed) {
        all.retain(|_, m| m.inode.strong_count() > 0);
        SWEEP_AT.store((all.len() * 2).max(64), Ordering::Relaxed);
    }
    let m = Arc::new(Mapping {
        inode: Arc::downgrade(inode),
        pages: Mutex::new(BTreeMap::new()),
        dirty: Mutex::new(BTreeSet::new()),
        seals: AtomicU32::new(0),
        cache_reads: is_disk_file(inode),
        changes: AtomicU64::new(0),
        write_lock: lintel_sync::Mutex::named("pagecache::Mapping::write_lock", ()),
        deferred: Mutex::new(None),
        mappers: Mutex::new(Mappers::default()),
    });
    all.insert(k, m.clone());
    Some(m)
}

/// `mm` maps `inode` (a VMA of it was made, or copied by fork): truncation of the file will
/// look at it. Nothing for a file without a mapping (no cached pages to unmap).
pub(crate) fn note_mapper(inode: &Arc<dyn Inode>, mm: &Weak<super::Mm>) {
    let Some(m) = get(inode) else {
        return;
    };
    let mut l = m.mappers.lock();
    let k = mm.as_ptr() as usize;
    // An entry at this address left by an address space that is gone is replaced.
    if l.mms.get(&k).is_some_and(|w| w.ptr_eq(mm)) {
        return;
    }
    if l.mms.len() >= l.sweep_at {
        l.mms.retain(|_, w| w.strong_count() > 0);
        l.sweep_at = (l.mms.len() * 2).max(16);
    }
    l.mms.insert(k, mm.clone());
}

/// Unmaps the pages of `m`'s file past `size` from the address spaces that map it (each
/// under its own lock, taken one at a time with the list's lock not held), dropping from
/// the list those that are gone or map it no more.
fn unmap_from_mappers(m: &Mapping, inode: &Arc<dyn Inode>, size: u64) {
    let mms: Vec<(usize, Arc<super::Mm>)> = {
        let mut l = m.mappers.lock();
        l.mms.retain(|_, w| w.strong_count() > 0);
        l.mms
            .iter()
            .filter_map(|(k, w)| Some((*k, w.upgrade()?)))
            .collect()
    };
    for (k, mm) in mms {
        if !mm.inner.lock().unmap_file_pages(inode, size) {
            let mut l = m.mappers.lock();
            if l.mms
                .get(&k)
                .is_some_and(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(&mm)))
            {
                l.mms.remove(&k);
            }
        }
    }
}

/// Calls `f` on every mapping, a batch of 32 at a time taken under the table's lock and
/// visited without it: no list of every mapping is built (a file read from disk keeps one, so
/// they can be many thousands: one large heap block on every /proc/meminfo read), and the
/// lock is not held while `f` locks pages or writes back.
fn each_mapping(mut f: impl FnMut(&Arc<Mapping>)) {
    let mut next = 0usize;
    loop {
        let mut batch: [Option<(usize, Arc<Mapping>)>; 32] = Default::default();
        {
            let all = MAPPINGS.lock();
            for (slot, (k, m)) in batch.iter_mut().zip(all.range(next..)) {
                *slot = Some((*k, m.clone()));
            }
        }
        let mut n = 0;
        for (k, m) in batch.iter().flatten() {
            n += 1;
            next = k.saturating_add(1);
            f(m);
        }
        if n < batch.len() {
            return;
        }
    }
}

impl Mapping {
    /// The cached page `idx` for a fault of a mapping advised `advice`, read from the
    /// inode on a miss, with the pages around it for disk files (Linux 6.1's
    /// do_sync_mmap_readahead: `readahead::fault_window`). The caller checked that the page
    /// starts before the end of the file. Also tells whether it was a miss that read the
    /// file (a fault that waited for it is a major fault).
    /// `ra`: the read-ahead state of the mapped open file, if known.
    pub fn page_missed(
        &self,
        inode: &Arc<dyn Inode>,
        idx: u64,
        ra: Option<&ReadAhead>,
        advice: ReadAdvice,
    ) -> KResult<(Frame, bool)> {
        // A tmpfs file's pages are its own: mapped as they are, never copied.
        if let Some(r) = super::shmem::page(inode, idx) {
            return r.map(|f| (f, false));
        }
        if let Some(f) = self.pages.lock().get(&idx).cloned() {
            if let Some(ra) = ra {
                ra.hits(1);
            }
            return Ok((f, false));
        }
        let size = inode.stat().size;
        let (first, count) = if self.cache_reads {
            // The open file's window (POSIX_FADV_RANDOM does not change what faults read:
            // Linux's read-around ignores FMODE_RANDOM, 0 is the default window then).
            let window = match ReadAhead::window(ra) {
                0 => READAHEAD,
                w => w,
            };
            let miss = ra.map_or(1, ReadAhead::missed);
            let pages = size.div_ceil(PAGE as u64);
            readahead::fault_window(idx, pages, window, advice, miss)
        } else {
            (idx, 1)
        };
        let f = self
            .fill_window(inode, idx, first, count, size)?
            .ok_or(Errno::ENOMEM)?;
        Ok((f, true))
    }

    /// Reads the pages of `[first, first + count)` that are not cached (each run between
    /// cached pages with one call into the file system, as Linux's page_cache_ra_unbounded
    /// submits a read at each cached page it meets) and returns page `idx` (inside). The
    /// run holding `idx` comes first; the others are read-around, whose failure (a read
    /// error, no memory) is not the fault's.
    fn fill_window(
        &self,
        inode: &Arc<dyn Inode>,
        idx: u64,
        first: u64,
        count: u64,
        size: u64,
    ) -> KResult<Option<Frame>> {
        let end = first.saturating_add(count);
        let runs: Vec<(u64, u64)> = {
            let cached = self.pages.lock();
            let mut runs = Vec::new();
            let mut at = first;
            for &k in cached.range(first..end).map(|(k, _)| k) {
                if k > at {
                    runs.push((at, k));
                }
                at = k + 1;
            }
            if at < end {
                runs.push((at, end));
            }
            runs
        };
        let (start, stop) = runs
            .iter()
            .copied()
            .find(|&(a, b)| (a..b).contains(&idx))
            .unwrap_or((idx, idx + 1));
        let page = self.fill(inode, start, stop - start, idx, size)?;
        for (a, b) in runs.into_iter().filter(|&(a, _)| a != start) {
            let _ = self.fill(inode, a, b - a, a, size);
        }
        Ok(page)
    }

    /// A write of a disk file that lies inside one cached page and leaves some bytes of its
    /// file-system blocks (`blksize`, st_blksize) below the end of the file untold goes to
    /// the inode with those bytes from the cache around it, so the file system gets whole
    /// blocks (or blocks up to the end of the file) and does not read the rest of them from
    /// the disk first: Linux writes into the cached page and reads nothing. (sqlite3
    /// rewrites the 12-byte header of its rollback journal after each commit's first
    /// fdatasync wrote the block back: a disk read a transaction.) None when the write is
    /// not such a write (across pages, starting past the end of the file, the page not
    /// cached, blocks larger than a page, O_DIRECT's zero `blksize`); otherwise how many of
    /// `buf`'s bytes went in. The caller holds the file's write lock; the cached bytes are
    /// the file's (reads are served from them as well).
    fn write_merged(
        &self,
        inode: &Arc<dyn Inode>,
        off: u64,
        buf: &[u8],
        old_size: u64,
        blksize: u64,
    ) -> KResult<Option<usize>> {
        let p = PAGE as u64;
        let page_start = off - off % p;
        let end = off + buf.len() as u64;
        if !self.cache_reads
            || buf.is_empty()
            || end > page_start + p
            || off > old_size
            || blksize == 0
            || !blksize.is_power_of_two()
            || blksize > p
        {
            return Ok(None);
        }
        let start = off - off % blksize;
        let wide_end = end.max(end.next_multiple_of(blksize).min(old_size));
        if start == off && wide_end == end {
            return Ok(None);
        }
        let Some(frame) = self.pages.lock().get(&(page_start / p)).cloned() else {
            return Ok(None);
        };
        let len = (wide_end - start) as usize;
        let at = (off - start) as usize;
        let mut page = [0u8; PAGE];
        frame.read((start - page_start) as usize, &mut page[..len]);
        page[at..at + buf.len()].copy_from_slice(buf);
        let n = inode.write_at(start, &page[..len])?;
        match n.saturating_sub(at).min(buf.len()) {
            // The file system stopped before the caller's bytes (out of blocks).
            0 => Err(Errno::ENOSPC),
            got => Ok(Some(got)),
        }
    }

    /// The cached page `idx` if it is in the cache (nothing is read); a tmpfs file's own
    /// page.
    pub fn cached(&self, idx: u64) -> Option<Frame> {
        if let Some(f) = self.pages.lock().get(&idx).cloned() {
            return Some(f);
        }
        let inode = self.inode.upgrade()?;
        super::shmem::cached(&inode, idx).flatten()
    }

    /// The cached pages from `first` on, into `out[idx - first]`, under one lock (a fault's
    /// mapping of the pages around it); pages not cached leave their slots alone. Not for a
    /// tmpfs file, whose pages are its own (`shmem::cached_pages`).
    pub fn cached_pages(&self, first: u64, out: &mut [Option<Frame>]) {
        let end = first.saturating_add(out.len() as u64);
        for (&idx, f) in self.pages.lock().range(first..end) {
            out[(idx - first) as usize] = Some(f.clone());
        }
    }

    pub fn mark_dirty(&self, idx: u64) {
        self.dirty.lock().insert(idx);
    }

    /// Reads up to `pages` pages from `idx` on (not past the end of the file, but at least
    /// the first) into the cache with one call into the file system; pages already cached
    /// keep their contents. Returns the cached page `want` (None: no frame for it), so that a
    /// shrinker on another CPU dropping the new clean page before the caller looks it up
    /// cannot turn the miss into a failure. `want` lies in the window (else, or when a page
    /// cached meanwhile cuts the window short of it, `want` alone is read).
    ///
    /// The read runs with no lock held (a disk read sleeps), so a `write` or truncation can
    /// change the inode meanwhile; the pages it would have updated were not cached yet, and
    /// inserting what was read before it would leave the cache older than the inode (Linux
    /// inserts a locked page first and reads into it). A change seen at insert time (the
    /// `changes` count moved) means the read is done again, of the first page alone (the
    /// narrowest window); the last of `FILL_ROUNDS` inserts what it read even so (a writer
    /// that changed the file during every one of them: the window left, where Linux has
    /// none).
    ///
    /// The frames are allocated and filled before the `pages` lock is taken: an allocation
    /// that finds no free frame runs the shrinker (`reclaim`), which must then be able to
    /// take this mapping's lock too, and the spin lock is held only for the inserts.
    fn fill(
        &self,
        inode: &Arc<dyn Inode>,
        idx: u64,
        pages: u64,
        want: u64,
        size: u64,
    ) -> KResult<Option<Frame>> {
        let mut size = size;
        let mut pages = pages;
        let mut idx = idx;
        for round in 0..FILL_ROUNDS {
            let seen = self.changes.load(Ordering::Acquire);
            if round > 0 {
                size = inode.stat().size;
                pages = 1;
                idx = want;
            }
            let last = size.div_ceil(PAGE as u64);
            let mut count = last.saturating_sub(idx).clamp(1, pages);
            // The window ends at the next page the cache holds: it is not read again.
            if let Some((&next, _)) = self.pages.lock().range(idx + 1..).next() {
                count = count.min(next - idx);
            }
            if !(idx..idx + count).contains(&want) {
                (idx, count) = (want, 1);
            }
            let count = count as usize;
            let mut buf = alloc::vec![0u8; count * PAGE];
            let mut got = 0;
            while got < buf.len() {
                let n = inode.read_at(idx * PAGE as u64 + got as u64, &mut buf[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            // The first page always (zeros where the file ended early), then what was read;
            // short of memory, the rest is read directly later.
            let mut frames = Vec::new();
            for i in 0..got.div_ceil(PAGE).max(1) {
                let Some(frame) = Frame::alloc() else {
                    break;
                };
                let end = ((i + 1) * PAGE).min(got).max(i * PAGE);
                frame.write(0, &buf[i * PAGE..end]);
                frames.push(frame);
            }
            let mut cached = self.pages.lock();
            if self.changes.load(Ordering::Acquire) != seen && round + 1 < FILL_ROUNDS {
                drop(cached);
                continue;
            }
            for (i, frame) in frames.into_iter().enumerate() {
                // Pages cached meanwhile keep theirs; the spare frame is freed at once.
                cached.entry(idx + i as u64).or_insert(frame);
            }
            return Ok(cached.get(&want).cloned());
        }
        Ok(self.pages.lock().get(&want).cloned())
    }

    /// `read` through the cache: cached pages are copied, the rest comes from the inode (and,
    /// for disk files, stays cached, read ahead as the reading open file's `ra` says).
    pub fn read(
        &self,
        inode: &Arc<dyn Inode>,
        off: u64,
        buf: &mut [u8],
        ra: &ReadAhead,
    ) -> KResult<usize> {
        self.read_with(inode, off, buf.len(), ra, &mut |src, done, n| {
            let dst = &mut buf[done..done + n];
            match src {
                Source::Frame(f, at) => {
                    f.read(at, dst);
                    Ok(n)
                }
                Source::Inode(pos) => inode.read_at(pos, dst),
            }
        })
    }

    /// read(2) of a disk file straight from the cached frames into user memory at `ubuf`
    /// (one copy per page, no staging buffer: Linux's filemap_read and copy_page_to_iter);
    /// misses are read into the cache as `read` does. Short at the first fault, EFAULT if
    /// nothing could be copied.
    pub fn read_user(
        &self,
        inode: &Arc<dyn Inode>,
        off: u64,
        ubuf: usize,
        len: usize,
        ra: &ReadAhead,
    ) -> KResult<usize> {
        let mut faulted = false;
        let done = self.read_with(inode, off, len, ra, &mut |src, done, n| {
            let u = ubuf + done;
            let moved = match src {
                Source::Frame(f, at) => f.copy_to_user(at, u, n),
                // No frame for the page (memory is short): through a buffer of its bytes.
                Source::Inode(pos) => {
                    let mut tmp = alloc::vec![0u8; n];
                    let got = inode.read_at(pos, &mut tmp)?;
                    // All or nothing: a fault ends the read at this page.
                    let moved =
                        lintel_hal::usercopy::copy_to_user(u, &tmp[..got]).map_or(0, |()| got);
                    if moved == got {
                        return Ok(got);
                    }
                    moved
                }
            };
            faulted = moved < n;
            Ok(moved)
        })?;
        if faulted && done == 0 {
            return Err(Errno::EFAULT);
        }
        Ok(done)
    }

    /// The loop of `read` and `read_user`: `copy(source, done, n)` moves `n` bytes to byte
    /// `done` of the destination and returns how many it moved (short: the read ends there).
    fn read_with(
        &self,
        inode: &Arc<dyn Inode>,
        off: u64,
        len: usize,
        ra: &ReadAhead,
        copy: &mut dyn FnMut(Source<'_>, usize, usize) -> KResult<usize>,
    ) -> KResult<usize> {
        let size = inode.stat().size;
        if off >= size {
            return Ok(0);
        }
        let want = (len as u64).min(size - off) as usize;
        let mut done = 0;
        while done < want {
            let pos = off + done as u64;
            let idx = pos / PAGE as u64;
            let in_page = (pos % PAGE as u64) as usize;
            let n = (PAGE - in_page).min(want - done);
            let mut cached = self.pages.lock().get(&idx).cloned();
            if cached.is_none() && self.cache_reads {
                // A miss where the last window ended (or at the start) is a sequential
                // reader: a full window ahead. Elsewhere (and after POSIX_FADV_RANDOM) only
                // the pages this read asks for, as Linux's ondemand_readahead does for
                // random reads.
                let window = ra.window.load(Ordering::Relaxed);
                let asked = (off + want as u64).div_ceil(PAGE as u64) - idx;
                let pages =
                    if window != 0 && (idx == 0 || idx == ra.next_read.load(Ordering::Relaxed)) {
                        window
                    } else {
                        asked
                    };
                let pages = pages.clamp(1, window.max(READAHEAD));
                cached = self.fill(inode, idx, pages, idx, size)?;
                ra.next_read.store(idx + pages, Ordering::Relaxed);
            }
            let got = match &cached {
                Some(f) => copy(Source::Frame(f, in_page), done, n)?,
                None => copy(Source::Inode(pos), done, n)?,
            };
            done += got;
            if got < n {
                break;
            }
        }
        Ok(done)
    }

    /// After `write` put `data` into the inode at `off` (the file was `old_size` bytes long
    /// before it): the cached pages follow. With `keep`, a page of a disk file that is not
    /// cached yet enters the cache when the write tells all of its bytes (Linux's
    /// generic_perform_write, which writes into the page cache): the write covers it whole,
    /// or what it leaves of the page lies past the old end (a hole or past the end: zeros).
    /// Such pages are clean (the inode holds the bytes) and go with the others when memory
    /// is short (`reclaim`). Their frames are allocated before the `pages` lock is taken,
    /// as `fill`'s are; a page with no frame is simply left uncached.
    pub fn written(&self, off: u64, data: &[u8], old_size: u64, keep: bool) {
        let p = PAGE as u64;
        let end = off + data.len() as u64;
        // The pages the write tells wholly, each with its frame, made before the lock.
        let mut fresh: Vec<(u64, Frame)> = Vec::new();
        if keep && self.cache_reads && !data.is_empty() {
            let first = off / p;
            let last = (end - 1) / p;
            let known = |idx: u64| {
                let (s, e) = (idx * p, (idx + 1) * p);
                (off <= s || s >= old_size) && (end >= e || end >= old_size)
            };
            let candidates = (first..=last).filter(|&i| known(i));
            let cached = self.pages.lock();
            let missing: Vec<u64> = candidates.filter(|i| !cached.contains_key(i)).collect();
            drop(cached);
            if fresh.try_reserve_exact(missing.len()).is_ok() {
                for idx in missing {
                    let (s, e) = ((idx * p).max(off), ((idx + 1) * p).min(end));
                    // A page written whole needs no zeroing first; any other gets zeros
                    // around the written bytes.
                    let frame = if e - s == p {
                        Frame::alloc_to_overwrite()
                    } else {
                        Frame::alloc()
                    };
                    let Some(frame) = frame else {
                        break;
                    };
                    let from = (s - off) as usize;
                    frame.write((s - idx * p) as usize, &data[from..from + (e - s) as usize]);
                    fresh.push((idx, frame));
                }
            }
        }
        let mut pages = self.pages.lock();
        self.changes.fetch_add(1, Ordering::Release);
        if pages.is_empty() && fresh.is_empty() {
            return;
        }
        let mut fresh = fresh.into_iter().peekable();
        let mut done = 0;
        while done < data.len() {
            let pos = off + done as u64;
            let idx = pos / p;
            let in_page = (pos % p) as usize;
            let n = (PAGE - in_page).min(data.len() - done);
            if let Some(f) = pages.get(&idx) {
                // Cached meanwhile (a fault or read filled it after the look above, before
                // this write's change count): it is updated like any other; the spare
                // frame goes.
                f.write(in_page, &data[done..done + n]);
            } else if let Some((_, f)) = fresh.next_if(|(i, _)| *i == idx) {
                pages.insert(idx, f);
            }
            while fresh.next_if(|(i, _)| *i <= idx).is_some() {}
            done += n;
        }
    }

    /// Writes dirty pages back to the inode. A page stays dirty while some page table still
    /// maps it (it may be stored to again without a fault).
    pub fn writeback(&self, inode: &Arc<dyn Inode>) -> KResult<()> {
        let dirty: Vec<u64> = self.dirty.lock().iter().copied().collect();
        if dirty.is_empty() {
            return Ok(());
        }
        let size = inode.stat().size;
        let mut buf = alloc::vec![0u8; PAGE];
        for idx in dirty {
            let frame = self.pages.lock().get(&idx).cloned();
            let pos = idx * PAGE as u64;
            let Some(frame) = frame.filter(|_| pos < size) else {
                self.dirty.lock().remove(&idx);
                continue;
            };
            let n = (size - pos).min(PAGE as u64) as usize;
            frame.read(0, &mut buf[..n]);
            inode.write_at(pos, &buf[..n])?;
            // Ours and the cache's references only: no page table can dirty it again.
            if frame.ref_count() <= 2 {
                self.dirty.lock().remove(&idx);
            }
        }
        Ok(())
    }

    /// The file shrank or grew to `size`: pages past it go, the tail of the last one reads
    /// zeros.
    fn truncated(&self, size: u64) {
        let first_gone = size.div_ceil(PAGE as u64);
        let mut pages = self.pages.lock();
        self.changes.fetch_add(1, Ordering::Release);
        let _ = pages.split_off(&first_gone);
        if !size.is_multiple_of(PAGE as u64) {
            if let Some(f) = pages.get(&(size / PAGE as u64)) {
                let at = (size % PAGE as u64) as usize;
                f.fill(at, PAGE - at, 0);
            }
        }
        drop(pages);
        let _ = self.dirty.lock().split_off(&first_gone);
    }

    pub fn seals(&self) -> u32 {
        self.seals.load(Ordering::Relaxed) & !MARKS
    }
}

/// memfd_create: a file that supports seals, sealed against sealing unless `allow`.
pub fn make_sealable(inode: &Arc<dyn Inode>, allow: bool) {
    let Some(m) = get(inode) else {
        return;
    };
    let initial = if allow { 0 } else { F_SEAL_SEAL };
    m.seals.store(SEALABLE | initial, Ordering::Relaxed);
}

/// memfd_create(MFD_HUGETLB): the file is hugetlbfs', with pages of 1 << `shift` bytes.
pub fn make_huge(inode: &Arc<dyn Inode>, shift: u32) {
    if let Some(m) = get(inode) {
        m.seals
            .fetch_or((shift << HUGE_SHIFT) & HUGE_MASK, Ordering::Relaxed);
    }
}

/// log2 of the huge page size of a MFD_HUGETLB memfd, 0 for any other file.
pub fn huge_shift(inode: &Arc<dyn Inode>) -> u8 {
    find(inode).map_or(0, |m| {
        ((m.seals.load(Ordering::Relaxed) & HUGE_MASK) >> HUGE_SHIFT) as u8
    })
}

/// F_GET_SEALS: EINVAL for files that do not support seals.
pub fn get_seals(inode: &Arc<dyn Inode>) -> KResult<u32> {
    let m = find(inode).ok_or(Errno::EINVAL)?;
    let s = m.seals.load(Ordering::Relaxed);
    if s & SEALABLE == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(s & !MARKS)
}

/// Whether some address space maps `inode` shared and may write it (F_SEAL_WRITE is then
/// EBUSY): writable now, or open for writing so that mprotect could make it writable (Linux's
/// VM_SHARED with VM_MAYWRITE: a read-only MAP_SHARED mapping of a memfd open for writing
/// is EBUSY on Linux 6.18 too). Only those on the file's list of mappers are looked at
/// (Linux keeps a count, i_mmap_writable), each under its own lock with the list's let go.
fn writably_mapped(m: &Mapping, inode: &Arc<dyn Inode>) -> bool {
    let mms: Vec<Arc<super::Mm>> = m
        .mappers
        .lock()
        .mms
        .values()
        .filter_map(Weak::upgrade)
        .collect();
    mms.iter().any(|mm| {
        mm.inner.lock().vmas.values().any(|v| {
            v.shared
                && matches!(&v.backing, super::Backing::File { inode: i, may_write, .. }
                    if Arc::ptr_eq(i, inode) && (*may_write || v.prot.write))
        })
    })
}

/// F_ADD_SEALS: F_SEAL_WRITE is refused with EBUSY while a shared writable mapping exists.
pub fn add_seals(inode: &Arc<dyn Inode>, add: u32) -> KResult<()> {
    let all = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
    if add & !all != 0 {
        return Err(Errno::EINVAL);
    }
    let m = find(inode).ok_or(Errno::EINVAL)?;
    let s = m.seals.load(Ordering::Relaxed);
    if s & SEALABLE == 0 {
        return Err(Errno::EINVAL);
    }
    if s & F_SEAL_SEAL != 0 {
        return Err(Errno::EPERM);
    }
    if add & F_SEAL_WRITE != 0 && s & F_SEAL_WRITE == 0 && writably_mapped(&m, inode) {
        return Err(Errno::EBUSY);
    }
    m.seals.store(s | add, Ordering::Relaxed);
    Ok(())
}

fn seals_of(inode: &Arc<dyn Inode>) -> u32 {
    find(inode).map(|m| m.seals()).unwrap_or(0)
}

/// Whether a new shared writable mapping is refused by a seal (EPERM).
pub fn write_sealed(inode: &Arc<dyn Inode>) -> bool {
    seals_of(inode) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0
}

/// `read` on a regular file: through the cache for the files whose data it holds, straight
/// from the inode for the rest (which never have a mapping). `ra`: the reading open file's
/// read-ahead state (None: a fresh one's).
pub fn read(
    inode: &Arc<dyn Inode>,
    off: u64,
    buf: &mut [u8],
    ra: Option<&ReadAhead>,
) -> KResult<usize> {
    if !inode.page_cached() {
        return inode.read_at(off, buf);
    }
    let fresh;
    let ra = match ra {
        Some(r) => r,
        None => {
            fresh = ReadAhead::default();
            &fresh
        }
    };
    match find(inode) {
        Some(m) => m.read(inode, off, buf, ra),
        None if is_disk_file(inode) => match get(inode) {
            Some(m) => m.read(inode, off, buf, ra),
            None => inode.read_at(off, buf),
        },
        None => inode.read_at(off, buf),
    }
}

/// read(2) of a regular file of a disk file system straight from its cached pages into user
/// memory at `ubuf` (`Mapping::read_user`); None for other files (tmpfs has its own path,
/// the rest go through a kernel buffer). `ra`: the reading open file's read-ahead state.
pub fn read_user(
    inode: &Arc<dyn Inode>,
    off: u64,
    ubuf: usize,
    len: usize,
    ra: &ReadAhead,
) -> Option<KResult<usize>> {
    if !is_disk_file(inode) || !inode.page_cached() {
        return None;
    }
    let m = get(inode)?;
    Some(m.read_user(inode, off, ubuf, len, ra))
}

/// Whether `splice_page` serves the file (tmpfs and ext4 files).
pub fn splice_pages(inode: &Arc<dyn Inode>) -> bool {
    super::shmem::is_tmpfs(inode) || (is_disk_file(inode) && inode.page_cached())
}

/// A reference to page `idx` of a regular file whose data lives in frames (tmpfs' own pages,
/// an ext4 file's cached pages, read in on a miss), for splice to put into a pipe without a
/// copy: Some(Ok(None)) for a tmpfs hole (nothing is made there); None for other files.
/// The caller checked that the page starts before the end of the file.
pub fn splice_page(inode: &Arc<dyn Inode>, idx: u64) -> Option<KResult<Option<Frame>>> {
    if let Some(p) = super::shmem::cached(inode, idx) {
        return Some(Ok(p));
    }
    if !splice_pages(inode) {
        return None;
    }
    let m = get(inode)?;
    // A read as read(2)'s: the window forward from the page (Linux's filemap_splice_read
    // reads ahead as filemap_read does), not around it.
    Some(
        m.page_missed(inode, idx, None, ReadAdvice::Sequential)
            .map(|(f, _)| Some(f)),
    )
}

/// `splice_page` as a frame to read from: a tmpfs hole reads from `zero` (a zeroed frame,
/// made on first use and shared by the holes that follow); EINVAL for files it does not
/// serve.
pub fn splice_page_or_zero(
    inode: &Arc<dyn Inode>,
    idx: u64,
    zero: &mut Option<Frame>,
) -> KResult<Frame> {
    match splice_page(inode, idx) {
        Some(Ok(Some(f))) => Ok(f),
        Some(Ok(None)) => match zero {
            Some(z) => Ok(z.clone()),
            None => Frame::alloc()
                .map(|z| zero.insert(z).clone())
                .ok_or(Errno::ENOMEM),
        },
        Some(Err(e)) => Err(e),
        None => Err(Errno::EINVAL),
    }
}

/// The page references of `len` bytes of a regular file from `pos`, one page at a time:
/// (frame, offset in it, length), from `splice_page_or_zero` (holes read from `zero`). An
/// error is the last item. sendfile's and splice's walks over a file's pages.
pub struct FilePages<'a> {
    inode: &'a Arc<dyn Inode>,
    pos: u64,
    left: usize,
    zero: &'a mut Option<Frame>,
}

impl Iterator for FilePages<'_> {
    type Item = KResult<(Frame, usize, usize)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let idx = self.pos / PAGE as u64;
        let at = (self.pos % PAGE as u64) as usize;
        let n = (PAGE - at).min(self.left);
        match splice_page_or_zero(self.inode, idx, self.zero) {
            Ok(f) => {
                self.pos += n as u64;
                self.left -= n;
                Some(Ok((f, at, n)))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e))
            }
        }
    }
}

/// `FilePages` of `len` bytes of `inode` from `pos`.
pub fn file_pages<'a>(
    inode: &'a Arc<dyn Inode>,
    pos: u64,
    len: usize,
    zero: &'a mut Option<Frame>,
) -> FilePages<'a> {
    FilePages {
        inode,
        pos,
        left: len,
        zero,
    }
}

/// Runs `f`, a write of the regular file `inode` (with an O_APPEND write's reading of the
/// size), holding the file's write lock (`Mapping::write_lock`): writes and truncations of
/// one file happen one after the other, each reaching the inode and the cached pages before
/// the next starts, and an O_APPEND write lands at the end no other write has moved since.
/// `nesting` is the lock-order checker's subclass: 0 for a write from a system call, 1 for
/// a loop device's write of its backing file, which happens under the write lock of a file
/// on the file system the device holds (docs/architecture.md, "Sleeping locks and the lock
/// order").
///
/// Files whose data the cache does not hold (`Inode::page_cached`: procfs') have no mapping
/// and no write lock: `f` runs as it is.
pub fn write_locked<R>(inode: &Arc<dyn Inode>, nesting: u8, f: impl FnOnce() -> R) -> R {
    write_locked_in(get(inode).as_deref(), nesting, f)
}

/// `write_locked` with the file's mapping already at hand (`OpenFile::page_mapping` keeps
/// it, so that a write does not look it up in the global table).
pub fn write_locked_in<R>(m: Option<&Mapping>, nesting: u8, f: impl FnOnce() -> R) -> R {
    match m {
        Some(m) => {
            let _serialised = m.write_lock.lock_nested(nesting);
            f()
        }
        None => f(),
    }
}

/// `write` on a regular file: seals, then the inode, then the cached pages. The callers
/// writing for a system call hold the file's write lock (`write_locked`).
pub fn write(inode: &Arc<dyn Inode>, off: u64, buf: &[u8]) -> KResult<usize> {
    write_in(find(inode).as_deref(), inode, off, buf, true)
}

/// `write` with the file's mapping at hand (None: the file has none). `keep`: the pages
/// the write tells wholly enter the cache (`Mapping::written`); false for an O_DIRECT write,
/// which Linux does not cache (the pages already cached are updated either way).
pub fn write_in(
    m: Option<&Mapping>,
    inode: &Arc<dyn Inode>,
    off: u64,
    buf: &[u8],
    keep: bool,
) -> KResult<usize> {
    let Some(m) = m else {
        return inode.write_at(off, buf);
    };
    check_seals(m, inode, off, buf.len())?;
    let (old_size, blksize) = if keep && m.cache_reads {
        let st = inode.stat();
        (st.size, st.blksize)
    } else {
        (0, 0)
    };
    let n = match m.write_merged(inode, off, buf, old_size, blksize)? {
        Some(n) => n,
        None => inode.write_at(off, buf)?,
    };
    m.written(off, &buf[..n], old_size, keep);
    Ok(n)
}

/// EPERM when the file's seals forbid a write of `len` bytes at `off` (for writes that go
/// to the file's pages themselves, which no cached copy needs to follow: tmpfs).
/// `m`: the file's mapping, if it has one.
pub fn write_allowed(
    m: Option<&Mapping>,
    inode: &Arc<dyn Inode>,
    off: u64,
    len: usize,
) -> KResult<()> {
    match m {
        Some(m) => check_seals(m, inode, off, len),
        None => Ok(()),
    }
}

fn check_seals(m: &Mapping, inode: &Arc<dyn Inode>, off: u64, len: usize) -> KResult<()> {
    // hugetlbfs files have no write (vfs_write's EINVAL).
    if m.seals.load(Ordering::Relaxed) & HUGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let seals = m.seals();
    if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
        return Err(Errno::EPERM);
    }
    if seals & F_SEAL_GROW != 0 && off + len as u64 > inode.stat().size {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// truncate/ftruncate/O_TRUNC/fallocate growth: seals, the inode, the cache, and the pages
/// past the new end vanish from every address space (touching them then raises SIGBUS).
/// Under the file's write lock, so that no write runs between the inode's change and the
/// cache's (a regular file's; others have no cached pages to follow).
pub fn truncate(inode: &Arc<dyn Inode>, size: u64) -> KResult<()> {
    if inode.file_type() != lintel_vfs::FileType::Regular {
        return truncate_locked(inode, size);
    }
    write_locked(inode, 0, || truncate_locked(inode, size))
}

fn truncate_locked(inode: &Arc<dyn Inode>, size: u64) -> KResult<()> {
    let m = find(inode);
    if let Some(m) = &m {
        // A hugetlbfs file is whole huge pages long.
        let huge = (m.seals.load(Ordering::Relaxed) & HUGE_MASK) >> HUGE_SHIFT;
        if huge != 0 && size & ((1u64 << huge) - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        let seals = m.seals();
        let old = inode.stat().size;
        if (size < old && seals & F_SEAL_SHRINK != 0) || (size > old && seals & F_SEAL_GROW != 0) {
            return Err(Errno::EPERM);
        }
    }
    inode.truncate(size)?;
    if let Some(m) = m {
        m.truncated(size);
        unmap_from_mappers(&m, inode, size);
    }
    Ok(())
}

/// Writes back what shared mappings stored into this file, under the file's write lock (a
/// `write` of the same page then lands wholly before or after it: the file never keeps a
/// page's older bytes while the cache has the newer). The caller holds no `Mm::inner`
/// (truncation takes that under the write lock; see `writeback_unmapped`).
pub fn writeback(inode: &Arc<dyn Inode>) -> KResult<()> {
    writeback_nested(inode, 0)
}

/// `writeback` taking the write lock as the lock-order checker's `nesting` (1 for a loop
/// device's backing file, whose flush may come under a write lock of a file on the file
/// system the device holds, as `write_locked`).
pub fn writeback_nested(inode: &Arc<dyn Inode>, nesting: u8) -> KResult<()> {
    match find(inode) {
        Some(m) => {
            let _serialised = m.write_lock.lock_nested(nesting);
            m.writeback(inode)
        }
        None => Ok(()),
    }
}

/// `writeback` for a caller that holds the file's write lock (fallocate).
pub fn writeback_locked(inode: &Arc<dyn Inode>) -> KResult<()> {
    match find(inode) {
        Some(m) => m.writeback(inode),
        None => Ok(()),
    }
}

/// How many mappings hold a deferred writeback (`Mapping::deferred`): munmap's
/// `writeback_deferred` looks at this count alone when it is 0, as it nearly always is.
static DEFERRED: AtomicUsize = AtomicUsize::new(0);

/// A shared writable mapping of the file goes away under `Mm::inner` (munmap, mmap over it,
/// the end of an address space). A truncation takes `Mm::inner` under the file's write lock
/// (to unmap the pages past the end), so waiting here for the write lock could deadlock:
/// the pages are written back at once if the lock is free, else the file is deferred to
/// `writeback_deferred`, which munmap and sync run with no `Mm::inner` held (Linux leaves
/// them to its flusher threads).
///
/// Deferring allocates nothing and lists a file at most once however often it is unmapped
/// meanwhile: the mapping's own `deferred` slot takes a reference to the inode (which keeps
/// the inode, so its dirty pages, from going away with its last user before they are
/// written: the table holds only a `Weak`).
pub fn writeback_unmapped(inode: &Arc<dyn Inode>) {
    let Some(m) = find(inode) else {
        return;
    };
    if m.dirty.lock().is_empty() {
        return;
    }
    let r = match m.write_lock.try_lock() {
        Some(_serialised) => m.writeback(inode),
        None => {
            let mut slot = m.deferred.lock();
            if slot.is_none() {
                *slot = Some(inode.clone());
                DEFERRED.fetch_add(1, Ordering::Release);
            }
            Ok(())
        }
    };
    if let Err(e) = r {
        crate::warn!("writeback at unmap failed: {}", e.name());
    }
}

/// Writes back the files `writeback_unmapped` deferred. The caller holds no `Mm::inner`.
/// With none deferred (the count 0) it takes no lock; otherwise it walks the table, as
/// sync does, for the mappings whose slot is set.
pub fn writeback_deferred() {
    if DEFERRED.load(Ordering::Acquire) == 0 {
        return;
    }
    each_mapping(|m| {
        let inode = {
            let mut slot = m.deferred.lock();
            let inode = slot.take();
            if inode.is_some() {
                DEFERRED.fetch_sub(1, Ordering::Release);
            }
            inode
        };
        if let Some(inode) = inode {
            let _serialised = m.write_lock.lock();
            if let Err(e) = m.writeback(&inode) {
                crate::warn!("deferred writeback failed: {}", e.name());
            }
        }
    });
}

/// sync(2): every file's dirty pages, each under its write lock. Files with none are passed
/// over without a lock (the unused files kept for their cached pages are many, and clean).
pub fn writeback_all() {
    writeback_deferred();
    each_mapping(|m| {
        if m.dirty.lock().is_empty() {
            return;
        }
        let Some(inode) = m.inode.upgrade() else {
            return;
        };
        let _serialised = m.write_lock.lock();
        if let Err(e) = m.writeback(&inode) {
            crate::warn!("writeback failed: {}", e.name());
        }
    });
}

/// (pages held by the cache, of them pages nothing maps and nothing needs written back,
/// dirty pages), for /proc/meminfo's Cached, MemAvailable and Dirty.
pub fn page_counts() -> (usize, usize, usize) {
    let (mut all, mut clean, mut dirty) = (0, 0, 0);
    each_mapping(|m| {
        let pages = m.pages.lock();
        let d = m.dirty.lock();
        all += pages.len();
        dirty += d.len();
        clean += pages
            .iter()
            .filter(|(idx, f)| f.ref_count() <= 1 && !d.contains(idx))
            .count();
    });
    (all, clean, dirty)
}

/// The file system punched a hole over `[off, end)`: cached pages read zeros there, as the
/// file now does. (A page a shared mapping dirtied is written back whole later, so its part
/// of the hole may get blocks again; its bytes there are zeros either way.)
pub fn punched(inode: &Arc<dyn Inode>, off: u64, end: u64) {
    let Some(m) = find(inode) else {
        return;
    };
    let p = PAGE as u64;
    let pages = m.pages.lock();
    for (&idx, f) in pages.range(off / p..end.div_ceil(p)) {
        let (s, e) = ((idx * p).max(off), ((idx + 1) * p).min(end));
        f.fill((s - idx * p) as usize, (e - s) as usize, 0);
    }
}

/// FALLOC_FL_COLLAPSE_RANGE or INSERT_RANGE moved the file's data from `off` on: the cached
/// pages from there are read again from the file in place, so that every address space
/// mapping them sees the moved bytes (Linux drops and refaults them; the result reads the
/// same); pages past a shrunken end go as for truncate. Dirty pages were written back first.
pub fn shifted(inode: &Arc<dyn Inode>, off: u64) -> KResult<()> {
    let Some(m) = find(inode) else {
        return Ok(());
    };
    let size = inode.stat().size;
    m.truncated(size);
    unmap_from_mappers(&m, inode, size);
    let p = PAGE as u64;
    let frames: Vec<(u64, Frame)> = m
        .pages
        .lock()
        .range(off / p..)
        .map(|(&i, f)| (i, f.clone()))
        .collect();
    let mut buf = alloc::vec![0u8; PAGE];
    for (idx, f) in frames {
        buf.fill(0);
        let mut got = 0;
        while got < PAGE {
            let n = inode.read_at(idx * p + got as u64, &mut buf[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        f.write(0, &buf);
    }
    Ok(())
}

/// readahead(2) and POSIX_FADV_WILLNEED: reads the pages of `[off, off + len)` (to the end
/// of the file for `len` 0) that are not cached into the cache, at most the larger of the
/// open file's read-ahead window (`ra`) and [`FORCE_MAX`] pages (Linux's
/// force_page_cache_ra). Only disk files are cached so; a tmpfs file's pages are the file
/// itself.
pub fn fill_ahead(
    inode: &Arc<dyn Inode>,
    off: u64,
    len: u64,
    ra: Option<&ReadAhead>,
) -> KResult<()> {
    if !inode.page_cached() || !is_disk_file(inode) {
        return Ok(());
    }
    let Some(m) = get(inode) else {
        return Ok(());
    };
    let size = inode.stat().size;
    let page = PAGE as u64;
    let first = off / page;
    let end = if len == 0 {
        u64::MAX
    } else {
        off.saturating_add(len).div_ceil(page)
    };
    let max = ReadAhead::window(ra).max(FORCE_MAX);
    let end = end.min(size.div_ceil(page)).min(first.saturating_add(max));
    let mut idx = first;
    while idx < end {
        let next_missing = {
            let cached = m.pages.lock();
            let mut i = idx;
            while i < end && cached.contains_key(&i) {
                i += 1;
            }
            i
        };
        if next_missing >= end {
            break;
        }
        // A read of the run up to `end`, two windows at a time (the buffer is on the heap);
        // it stops at the next cached page.
        m.fill(
            inode,
            next_missing,
            (end - next_missing).min(2 * READAHEAD),
            next_missing,
            size,
        )?;
        idx = next_missing + 1;
    }
    Ok(())
}

/// The advice of POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL and POSIX_FADV_RANDOM.
#[derive(Clone, Copy)]
pub enum Access {
    Normal,
    Sequential,
    Random,
}

/// POSIX_FADV_DONTNEED: drops the cached pages of `inode` wholly inside `[off, off + len)`
/// (to the end for `len` 0) that nothing maps and nothing needs written back, as Linux's
/// invalidate_mapping_pages; the next fault or read of them reads the file again.
pub fn drop_clean(inode: &Arc<dyn Inode>, off: u64, len: u64) {
    let Some(m) = find(inode) else {
        return;
    };
    let first = off.div_ceil(PAGE as u64);
    let end = if len == 0 {
        u64::MAX
    } else {
        off.saturating_add(len) / PAGE as u64
    };
    let dirty = m.dirty.lock().clone();
    m.pages
        .lock()
        .retain(|idx, f| !(first..end).contains(idx) || f.ref_count() > 1 || dirty.contains(idx));
}

/// drop_caches, and memory short with no unused file left to let go of (`Unused`): drops
/// cached pages that nothing maps and nothing needs written back, of every file. Never waits
/// for a lock (the allocation that ran dry may hold one).
pub fn drop_all_clean() -> bool {
    let Some(mut all) = MAPPINGS.try_lock() else {
        return false;
    };
    let before = all.len();
    all.retain(|_, m| m.inode.strong_count() > 0);
    let mut freed = all.len() < before;
    for m in all.values() {
        let (Some(mut pages), Some(dirty)) = (m.pages.try_lock(), m.dirty.try_lock()) else {
            continue;
        };
        let n = pages.len();
        pages.retain(|idx, f| f.ref_count() > 1 || dirty.contains(idx));
        freed |= pages.len() < n;
    }
    freed
}

/// Heap bytes the cache keeps for a file besides its pages' entries: its `Mapping` and the
/// table's entry (for the bound on the heap share of the files kept unused,
/// `lintel_ext4::set_held_heap_limit`).
pub const MAPPING_BYTES: usize =
    core::mem::size_of::<Mapping>() + 2 * core::mem::size_of::<usize>() + 32;

/// Heap bytes per cached page (its entry in a mapping's B-tree, with the nodes' slack).
const PAGE_ENTRY_BYTES: usize = 24;

/// The table of mappings, held while the shrinkers let go of unused files (Linux's inode
/// LRU, ext4's held files): says what the going of a file frees, then drops the mappings
/// of the files that went.
pub struct Unused<'a>(crate::spinlock::MutexGuard<'a, BTreeMap<usize, Arc<Mapping>>>);

impl Unused<'_> {
    /// The table, unless it is busy (memory ran short in an allocation that holds it, or
    /// on another CPU): a shrinker never waits.
    pub fn try_lock() -> Option<Unused<'static>> {
        MAPPINGS.try_lock().map(Unused)
    }

    /// (frames, heap bytes) that the going of `inode`, used by no one else, frees: its
    /// cached pages that nothing maps (all of them, for an unused file, but a frame a pipe
    /// or a socket took by splice) and its mapping.
    pub fn freed_by(&self, inode: &dyn Inode) -> (usize, usize) {
        let k = inode as *const dyn Inode as *const u8 as usize;
        let Some(m) = self.0.get(&k) else {
            return (0, 0);
        };
        let Some(pages) = m.pages.try_lock() else {
            return (0, MAPPING_BYTES);
        };
        let frames = pages.values().filter(|f| f.ref_count() <= 1).count();
        (frames, MAPPING_BYTES + pages.len() * PAGE_ENTRY_BYTES)
    }

    /// Drops the mappings of files no one can reach any more (those let go), with their
    /// pages; whether any went.
    pub fn sweep(mut self) -> bool {
        let before = self.0.len();
        self.0.retain(|_, m| m.inode.strong_count() > 0);
        self.0.len() < before
    }
}
