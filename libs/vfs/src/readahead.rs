//! Which pages a page fault on a file mapping reads when its page is not cached (Linux 6.1's
//! do_sync_mmap_readahead and do_page_cache_ra): a window of the read-ahead size centred on
//! the fault ("read-around"), since a program's code and data are touched in no particular
//! order; only the page for a mapping advised MADV_RANDOM; the window forward from the fault
//! for one advised MADV_SEQUENTIAL; and only the page once the file's mappings have missed
//! the cache far more often than they found it (`mmap_miss`). The window is clamped to the
//! file, not to the mapping: the pages around belong to the file whoever maps them.

/// Misses beyond which read-around stops (Linux's MMAP_LOTSAMISS).
pub const MMAP_LOTSAMISS: u32 = 100;

/// A mapping's read advice (Linux's VM_RAND_READ and VM_SEQ_READ, set by madvise).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum ReadAdvice {
    /// MADV_NORMAL: read around the fault.
    #[default]
    Normal,
    /// MADV_RANDOM: only the page.
    Random,
    /// MADV_SEQUENTIAL: the window from the fault on.
    Sequential,
}

/// The miss count after a fault that found its page missing (Linux counts up to ten times
/// [`MMAP_LOTSAMISS`], so that as many hits bring read-around back).
pub fn count_miss(mmap_miss: u32) -> u32 {
    if mmap_miss < MMAP_LOTSAMISS * 10 {
        mmap_miss + 1
    } else {
        mmap_miss
    }
}

/// The pages `[first, first + count)` a fault at page `idx` reads, for a file of
/// `file_pages` pages (its last partial page included; `idx` lies before the end), a
/// read-ahead window of `ra_pages` pages, the mapping's `advice` and the file's miss count
/// `mmap_miss` (already counting this miss). The window always holds `idx`.
pub fn fault_window(
    idx: u64,
    file_pages: u64,
    ra_pages: u64,
    advice: ReadAdvice,
    mmap_miss: u32,
) -> (u64, u64) {
    let file_pages = file_pages.max(idx + 1);
    let (first, want) = match advice {
        _ if ra_pages == 0 => (idx, 1),
        ReadAdvice::Random => (idx, 1),
        ReadAdvice::Sequential => (idx, ra_pages),
        ReadAdvice::Normal if mmap_miss > MMAP_LOTSAMISS => (idx, 1),
        // ra->start = pgoff - ra_pages / 2 (not below 0), ra->size = ra_pages.
        ReadAdvice::Normal => (idx.saturating_sub(ra_pages / 2), ra_pages),
    };
    let count = want.min(file_pages - first).max(idx + 1 - first);
    (first, count)
}
