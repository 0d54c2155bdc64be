//! A tmpfs file's data: pages that exist only where something was written, as Linux's shmem
//! keeps them. A hole reads as zeros and costs nothing, so `ftruncate` to a large size (what
//! programs do before mapping a file) needs no memory, and the file's blocks count only the
//! pages written. The pages themselves are `P` (page frames in the kernel): the map from page
//! index to page is all this file keeps, with which of them fallocate made and nothing has
//! written since.

use crate::page::{FilePage, PAGE};
use alloc::collections::{BTreeMap, BTreeSet};

pub struct SparseData<P> {
    size: u64,
    pages: BTreeMap<u64, P>,
    /// Pages fallocate made that nothing has written or mapped since (Linux's !uptodate
    /// shmem folios): they hold their space, zero-filled, but read and seek as holes, and a
    /// failed fallocate takes back those of its range.
    reserved: BTreeSet<u64>,
}

impl<P> Default for SparseData<P> {
    fn default() -> Self {
        SparseData {
            size: 0,
            pages: BTreeMap::new(),
            reserved: BTreeSet::new(),
        }
    }
}

impl<P: FilePage> SparseData<P> {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The first page holding data that ends after byte `off`, as a byte range: a page
    /// never written (a hole, or fallocate's reservation) is a hole, as on Linux's shmem.
    pub fn next_data(&self, off: u64) -> Option<core::ops::Range<u64>> {
        let page = PAGE as u64;
        self.pages
            .range(off / page..)
            .map(|(&i, _)| i)
            .find(|i| !self.reserved.contains(i))
            .map(|i| i * page..(i + 1) * page)
    }

    /// Pages the file holds, fallocate's reservations included (for st_blocks).
    pub fn allocated_pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// The page indices a write of `len` bytes at `offset` touches.
    fn span(offset: u64, len: usize) -> core::ops::Range<u64> {
        if len == 0 {
            return 0..0;
        }
        offset / PAGE as u64..(offset + len as u64 - 1) / PAGE as u64 + 1
    }

    /// How many new pages a write of `len` bytes at `offset` needs.
    pub fn pages_needed(&self, offset: u64, len: usize) -> u64 {
        Self::span(offset, len)
            .filter(|i| !self.pages.contains_key(i))
            .count() as u64
    }

    /// The longest start of a write of `len` bytes at `offset` that needs at most `budget`
    /// new pages (a tmpfs at its size limit takes what fits).
    pub fn fitting(&self, offset: u64, len: usize, budget: u64) -> usize {
        let mut missing = 0;
        for i in Self::span(offset, len) {
            if !self.pages.contains_key(&i) {
                missing += 1;
                if missing > budget {
                    return (i * PAGE as u64).saturating_sub(offset) as usize;
                }
            }
        }
        len
    }

    /// Copies what lies at `offset` into `buf` (zeros in holes); the bytes read, 0 at or
    /// past the end.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let n = buf
            .len()
            .min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let (idx, within) = (pos / PAGE as u64, (pos % PAGE as u64) as usize);
            let len = (PAGE - within).min(n - done);
            let dst = &mut buf[done..done + len];
            match self.pages.get(&idx) {
                Some(p) => p.read(within, dst),
                None => dst.fill(0),
            }
            done += len;
        }
        n
    }

    /// Writes `buf` at `offset`, growing the file; the bytes stored, short (nothing changed
    /// past them) when a page cannot be allocated. The caller checks the offset limit.
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (idx, within) = (pos / PAGE as u64, (pos % PAGE as u64) as usize);
            let len = (PAGE - within).min(buf.len() - done);
            let page = match self.pages.entry(idx) {
                alloc::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(e) => match P::alloc() {
                    Some(p) => e.insert(p),
                    None => break,
                },
            };
            self.reserved.remove(&idx);
            page.write(within, &buf[done..done + len]);
            done += len;
            self.size = self.size.max(pos + len as u64);
        }
        done
    }

    /// The page `idx` if the file has one (a reservation's zeros included), to read from.
    pub fn page(&self, idx: u64) -> Option<P> {
        self.pages.get(&idx).cloned()
    }

    /// The page `idx` if the file has one, for the caller to store into: a reservation
    /// becomes data (Linux marks the folio uptodate).
    pub fn page_to_write(&mut self, idx: u64) -> Option<P> {
        let p = self.pages.get(&idx).cloned()?;
        self.reserved.remove(&idx);
        Some(p)
    }

    /// Each page from `first` on that holds data, into `out[idx - first]` (holes and pages
    /// past the slice leave their slots alone; so do reservations, which a fault of their
    /// own makes data first, as Linux's fault-around maps only uptodate folios).
    pub fn pages_into(&self, first: u64, out: &mut [Option<P>]) {
        let end = first.saturating_add(out.len() as u64);
        for (&idx, p) in self.pages.range(first..end) {
            if !self.reserved.contains(&idx) {
                out[(idx - first) as usize] = Some(p.clone());
            }
        }
    }

    /// The page `idx`, made (zero-filled) in a hole: what a fault of a mapping of the file
    /// maps (a reservation becomes data). None when no page can be had. The size does not
    /// change.
    pub fn page_or_alloc(&mut self, idx: u64) -> Option<P> {
        self.reserved.remove(&idx);
        match self.pages.entry(idx) {
            alloc::collections::btree_map::Entry::Occupied(e) => Some(e.get().clone()),
            alloc::collections::btree_map::Entry::Vacant(e) => Some(e.insert(P::alloc()?).clone()),
        }
    }

    /// Puts `page` at `idx` if that is a hole; otherwise gives back the page already there
    /// (made meanwhile by a fault, another write or fallocate), for the caller to store
    /// into.
    pub fn insert_if_hole(&mut self, idx: u64, page: P) -> Result<(), P> {
        match self.pages.entry(idx) {
            alloc::collections::btree_map::Entry::Occupied(e) => {
                self.reserved.remove(&idx);
                Err(e.get().clone())
            }
            alloc::collections::btree_map::Entry::Vacant(e) => {
                e.insert(page);
                Ok(())
            }
        }
    }

    /// Whether the file has page `idx`, for fallocate: a reservation an earlier fallocate
    /// made becomes data, as a second SGP_FALLOC on Linux marks the folio uptodate (so that
    /// this call's failure cannot take it back).
    pub fn settle(&mut self, idx: u64) -> bool {
        self.reserved.remove(&idx);
        self.pages.contains_key(&idx)
    }

    /// fallocate's page `idx`: `page` (zero-filled) goes into a hole as a reservation (true);
    /// where the file has a page already, nothing is added (false), and a reservation made
    /// by an earlier fallocate becomes data, as a second SGP_FALLOC on Linux marks the
    /// folio uptodate (so that a later failure cannot take it back).
    pub fn reserve(&mut self, idx: u64, page: P) -> bool {
        match self.pages.entry(idx) {
            alloc::collections::btree_map::Entry::Occupied(_) => {
                self.reserved.remove(&idx);
                false
            }
            alloc::collections::btree_map::Entry::Vacant(e) => {
                e.insert(page);
                self.reserved.insert(idx);
                true
            }
        }
    }

    /// A failed fallocate takes back the reservations in pages `[first, end)` (Linux's
    /// shmem_undo_range of the !uptodate folios it added); returns how many went.
    pub fn unreserve(&mut self, first: u64, end: u64) -> u64 {
        if first >= end {
            return 0;
        }
        let gone: alloc::vec::Vec<u64> = self.reserved.range(first..end).copied().collect();
        for idx in &gone {
            self.reserved.remove(idx);
            self.pages.remove(idx);
        }
        gone.len() as u64
    }

    /// Drops page `idx` (a page just made that nothing was stored into); whether it was there.
    pub fn remove(&mut self, idx: u64) -> bool {
        self.reserved.remove(&idx);
        self.pages.remove(&idx).is_some()
    }

    /// Grows the size to `size` if it is smaller (after bytes were stored into its pages).
    pub fn grow_to(&mut self, size: u64) {
        self.size = self.size.max(size);
    }

    /// FALLOC_FL_PUNCH_HOLE over `[off, end)`: the pages it wholly covers that nothing maps
    /// are freed (a hole again, as Linux's shmem_undo_range), fallocate's reservations past
    /// the size included; what is left of the range, partial pages and mapped ones, is
    /// zeroed in place, so mappings keep seeing the file. Returns how many pages were freed.
    pub fn punch(&mut self, off: u64, end: u64) -> u64 {
        if off >= end {
            return 0;
        }
        let p = PAGE as u64;
        let idxs: alloc::vec::Vec<u64> = self
            .pages
            .range(off / p..end.div_ceil(p))
            .map(|(&k, _)| k)
            .collect();
        let mut freed = 0;
        for idx in idxs {
            let (s, e) = ((idx * p).max(off), ((idx + 1) * p).min(end));
            let Some(page) = self.pages.get(&idx) else {
                continue;
            };
            if e - s == p && !page.shared() {
                self.pages.remove(&idx);
                self.reserved.remove(&idx);
                freed += 1;
            } else {
                page.zero((s - idx * p) as usize, (e - s) as usize);
            }
        }
        freed
    }

    /// Sets the size: pages past it are freed and the tail of the last one zeroed, so growing
    /// again shows zeros. A size that does not grow frees fallocate's reservations past it
    /// too, even the same size (Linux's shmem_setattr truncates from the new size on
    /// whenever it is not larger).
    pub fn set_len(&mut self, size: u64) {
        if size <= self.size {
            let first_gone = size.div_ceil(PAGE as u64);
            let _ = self.pages.split_off(&first_gone);
            let _ = self.reserved.split_off(&first_gone);
            let within = (size % PAGE as u64) as usize;
            if within != 0 {
                if let Some(p) = self.pages.get(&(size / PAGE as u64)) {
                    p.zero(within, PAGE - within);
                }
            }
        }
        self.size = size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::HeapPage;
    use alloc::vec;
    use alloc::vec::Vec;

    type SparseData = super::SparseData<HeapPage>;

    #[test]
    fn holes_read_as_zeros_and_cost_nothing() {
        let mut d = SparseData::default();
        d.set_len(1 << 40);
        assert_eq!(d.size(), 1 << 40);
        assert_eq!(d.allocated_pages(), 0);
        let mut b = [7u8; 10];
        assert_eq!(d.read_at(12345, &mut b), 10);
        assert_eq!(b, [0; 10]);
        assert_eq!(d.read_at(1 << 40, &mut b), 0);
    }

    #[test]
    fn writes_span_pages_and_truncation_zeroes_the_tail() {
        let mut d = SparseData::default();
        let data: Vec<u8> = (0..10000u32).map(|i| (i % 251) as u8).collect();
        assert!(d.write_at(4090, &data) > 0);
        assert_eq!(d.size(), 14090);
        assert_eq!(d.allocated_pages(), 4);
        let mut back = vec![0u8; 10010];
        assert_eq!(d.read_at(4085, &mut back), 10005);
        assert_eq!(&back[..5], &[0; 5]);
        assert_eq!(&back[5..10005], &data[..]);
        d.set_len(5000);
        assert_eq!(d.allocated_pages(), 2);
        d.set_len(9000);
        let mut b = [1u8; 8];
        assert_eq!(d.read_at(4999, &mut b), 8);
        assert_eq!(b[0], data[909]);
        assert_eq!(&b[1..], &[0; 7]);
        d.set_len(0);
        assert_eq!(d.allocated_pages(), 0);
    }

    #[test]
    fn a_mapped_page_is_the_file_page() {
        let mut d = SparseData::default();
        d.set_len(3 * PAGE as u64);
        assert!(d.page(1).is_none());
        // A fault in a hole makes the page; stores through it are what reads see.
        let p = d.page_or_alloc(1).unwrap();
        assert_eq!(d.allocated_pages(), 1);
        p.write(10, b"abc");
        let mut b = [0u8; 3];
        d.read_at(PAGE as u64 + 10, &mut b);
        assert_eq!(&b, b"abc");
        // And writes are what the mapping sees.
        assert!(d.write_at(PAGE as u64 + 11, b"X") > 0);
        p.read(10, &mut b);
        assert_eq!(&b, b"aXc");
        assert_eq!(d.allocated_pages(), 1);
        assert_eq!(d.size(), 3 * PAGE as u64);
        // Truncation lets go of the page; the holder keeps its copy alive.
        d.set_len(0);
        assert!(d.page(1).is_none());
        p.read(10, &mut b);
        assert_eq!(&b, b"aXc");
    }

    #[test]
    fn data_runs_are_the_written_pages() {
        let mut d = SparseData::default();
        assert_eq!(d.next_data(0), None);
        assert!(d.write_at(PAGE as u64 + 5, b"x") > 0);
        assert!(d.write_at(3 * PAGE as u64, b"y") > 0);
        d.set_len(10 * PAGE as u64);
        let p = PAGE as u64;
        assert_eq!(d.next_data(0), Some(p..2 * p));
        assert_eq!(d.next_data(2 * p - 1), Some(p..2 * p));
        assert_eq!(d.next_data(2 * p), Some(3 * p..4 * p));
        assert_eq!(d.next_data(4 * p), None);
    }

    #[test]
    fn punching_frees_whole_unmapped_pages() {
        let mut d = SparseData::default();
        assert!(d.write_at(0, &vec![7u8; 4 * PAGE]) > 0);
        let mapped = d.page(2).unwrap();
        // Pages 1 and 2 wholly, page 0 and 3 in part; page 2 is mapped.
        assert_eq!(d.punch(100, 3 * PAGE as u64 + 10), 1);
        assert_eq!(d.allocated_pages(), 3);
        assert_eq!(d.size(), 4 * PAGE as u64);
        let mut buf = vec![1u8; 4 * PAGE];
        d.read_at(0, &mut buf);
        assert!(buf[..100].iter().all(|&b| b == 7));
        assert!(buf[100..3 * PAGE + 10].iter().all(|&b| b == 0));
        assert!(buf[3 * PAGE + 10..].iter().all(|&b| b == 7));
        let mut one = [1u8; 1];
        mapped.read(0, &mut one);
        assert_eq!(one[0], 0);
        // Past the size: nothing.
        assert_eq!(d.punch(8 * PAGE as u64, 9 * PAGE as u64), 0);
    }

    #[test]
    fn pages_a_write_needs() {
        let mut d = SparseData::default();
        assert_eq!(d.pages_needed(4000, 200), 2);
        assert!(d.write_at(0, &[1; 10]) > 0);
        assert_eq!(d.pages_needed(4000, 200), 1);
        assert_eq!(d.pages_needed(4000, 0), 0);
        // One new page allowed: the write stops where the second would start.
        assert_eq!(d.fitting(4000, 10000, 1), 8192 - 4000);
        assert_eq!(d.fitting(4000, 10000, 0), 4096 - 4000);
        assert_eq!(d.fitting(4000, 10000, 2), 3 * 4096 - 4000);
        assert_eq!(d.fitting(4000, 10000, 3), 10000);
    }
}
