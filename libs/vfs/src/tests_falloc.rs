//! tmpfs fallocate (mode 0 and FALLOC_FL_KEEP_SIZE): the pages are made and counted against
//! the size limit, read and seek as holes until written, and a failure (out of space, out of
//! memory, a signal) takes back what the call made, as Linux's shmem_fallocate.
use super::*;
extern crate std;
use alloc::vec;
use core::cell::Cell;
use lintel_abi::stat::Timespec;

const PG: u64 = 4096;

std::thread_local! {
    /// Pages `ScarcePage::alloc` still hands out on this thread.
    static PAGES_LEFT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// A heap page of which only `PAGES_LEFT` can be had: memory running out.
#[derive(Clone)]
struct ScarcePage(HeapPage);

impl FilePage for ScarcePage {
    fn alloc() -> Option<Self> {
        PAGES_LEFT.with(|left| {
            let n = left.get();
            if n == 0 {
                return None;
            }
            left.set(n - 1);
            HeapPage::alloc().map(ScarcePage)
        })
    }
    fn read(&self, off: usize, buf: &mut [u8]) {
        self.0.read(off, buf)
    }
    fn write(&self, off: usize, buf: &[u8]) {
        self.0.write(off, buf)
    }
    fn zero(&self, off: usize, len: usize) {
        self.0.zero(off, len)
    }
    fn shared(&self) -> bool {
        self.0.shared()
    }
}

/// A tmpfs of `blocks` pages with files "f" and "g".
fn two_files<P: FilePage>(blocks: u64) -> (Arc<dyn Inode>, Arc<dyn Inode>, Arc<dyn Inode>) {
    let clock: Clock = Arc::new(|| Timespec { sec: 0, nsec: 0 });
    let o = TmpfsOptions {
        blocks: Some(blocks),
        ..TmpfsOptions::default()
    };
    let root = new_tmpfs_with::<P>(clock, 20, &o);
    let [f, g] = [b"f", b"g"].map(|name| {
        root.create(name, FileType::Regular, 0o644, 0, 0, 0)
            .unwrap()
    });
    (root, f, g)
}

fn falloc<P: FilePage>(f: &Arc<dyn Inode>, off: u64, len: u64, keep: bool) -> KResult<()> {
    tmpfs_allocate::<P>(f, off, len, keep, &mut || false).unwrap()
}

fn bfree<P: FilePage>(root: &Arc<dyn Inode>) -> u64 {
    tmpfs_statfs::<P>(root).unwrap().1
}

#[test]
fn fallocate_takes_space_that_reads_as_a_hole() {
    let (root, f, _) = two_files::<HeapPage>(8);
    // Mode 0 over 3 pages and a byte: four pages, the size grows to the range's end.
    falloc::<HeapPage>(&f, 0, 3 * PG + 1, false).unwrap();
    assert_eq!(f.stat().size, 3 * PG + 1);
    assert_eq!(f.stat().blocks, 4 * 8);
    assert_eq!(bfree::<HeapPage>(&root), 4);
    // Zeros, and a hole to SEEK_DATA; fault-around passes the pages over.
    let mut b = [1u8; 16];
    assert_eq!(f.read_at(PG, &mut b), Ok(16));
    assert_eq!(b, [0; 16]);
    assert_eq!(f.next_data(0), Ok(None));
    let mut around: [Option<HeapPage>; 4] = Default::default();
    assert!(tmpfs_file_pages::<HeapPage>(&f, 0, &mut around));
    assert!(around.iter().all(Option::is_none));
    // A second fallocate over a page makes it data (Linux's second SGP_FALLOC)...
    falloc::<HeapPage>(&f, 0, 1, true).unwrap();
    assert_eq!(f.next_data(0), Ok(Some(0..PG)));
    // ... as do a write and a fault; no page is counted twice.
    assert_eq!(f.write_at(2 * PG + 5, b"x"), Ok(1));
    let _ = tmpfs_page::<HeapPage>(&f, 3).unwrap().unwrap();
    assert_eq!(f.next_data(PG), Ok(Some(2 * PG..3 * PG)));
    assert_eq!(f.next_data(3 * PG - 1), Ok(Some(2 * PG..3 * PG)));
    assert_eq!(f.next_data(3 * PG), Ok(Some(3 * PG..4 * PG)));
    assert_eq!(bfree::<HeapPage>(&root), 4);
    // KEEP_SIZE past the end: the size stays, the pages count.
    falloc::<HeapPage>(&f, 5 * PG, 2 * PG, true).unwrap();
    assert_eq!(f.stat().size, 3 * PG + 1);
    assert_eq!(f.stat().blocks, 6 * 8);
    assert_eq!(bfree::<HeapPage>(&root), 2);
    // A punch past the end frees them (shmem_truncate_range is not bound by the size).
    assert_eq!(f.punch_hole(6 * PG, 7 * PG), Ok(true));
    assert_eq!(bfree::<HeapPage>(&root), 3);
    // Truncation to the same size frees what lies past it.
    f.truncate(3 * PG + 1).unwrap();
    assert_eq!(bfree::<HeapPage>(&root), 4);
    assert_eq!(f.stat().blocks, 4 * 8);
}

#[test]
fn fallocate_past_the_limit_is_enospc_and_undone() {
    let (root, f, g) = two_files::<HeapPage>(8);
    // Larger than the whole file system: refused before any page is made.
    assert_eq!(
        falloc::<HeapPage>(&f, 0, 8 * PG + 1, false),
        Err(Errno::ENOSPC)
    );
    assert_eq!(bfree::<HeapPage>(&root), 8);
    // Pages 0 and 5 reserved, page 1 written; g takes 3: two free.
    falloc::<HeapPage>(&f, 0, PG, true).unwrap();
    falloc::<HeapPage>(&f, 5 * PG, PG, true).unwrap();
    assert_eq!(f.write_at(PG, b"data"), Ok(4));
    assert_eq!(g.write_at(0, &[7u8; 3 * PG as usize]), Ok(3 * PG as usize));
    assert_eq!(bfree::<HeapPage>(&root), 2);
    // Pages 0..6 need 3 more: the call fails at page 4, its pages 2 and 3 go back; page 0
    // (reserved before) became data on the way and stays, page 5 was not reached and stays
    // a reservation; the size does not change.
    assert_eq!(falloc::<HeapPage>(&f, 0, 6 * PG, false), Err(Errno::ENOSPC));
    assert_eq!(bfree::<HeapPage>(&root), 2);
    assert_eq!(f.stat().size, PG + 4);
    assert_eq!(f.stat().blocks, 3 * 8);
    assert_eq!(f.next_data(0), Ok(Some(0..PG)));
    assert_eq!(f.next_data(2 * PG), Ok(None));
    // Space reserved is space a write can use when the file system is full.
    falloc::<HeapPage>(&f, 2 * PG, 2 * PG, true).unwrap();
    assert_eq!(bfree::<HeapPage>(&root), 0);
    assert_eq!(g.write_at(3 * PG, b"y"), Err(Errno::ENOSPC));
    assert_eq!(
        f.write_at(2 * PG, &[3u8; 2 * PG as usize]),
        Ok(2 * PG as usize)
    );
    assert_eq!(f.stat().size, 4 * PG);
    assert_eq!(bfree::<HeapPage>(&root), 0);
    // All of it comes back.
    drop(f);
    root.unlink(b"f").unwrap();
    assert_eq!(bfree::<HeapPage>(&root), 5);
}

#[test]
fn fallocate_out_of_memory_is_enomem_and_undone() {
    let (root, f, _) = two_files::<ScarcePage>(64);
    PAGES_LEFT.with(|l| l.set(3));
    assert_eq!(
        falloc::<ScarcePage>(&f, 0, 5 * PG, false),
        Err(Errno::ENOMEM)
    );
    assert_eq!(bfree::<ScarcePage>(&root), 64);
    assert_eq!(f.stat().blocks, 0);
    assert_eq!(f.stat().size, 0);
    // Writes out of memory: ENOMEM, not ENOSPC; a short count when some bytes got in.
    PAGES_LEFT.with(|l| l.set(1));
    assert_eq!(f.write_at(0, &[1u8; 2 * PG as usize]), Ok(PG as usize));
    assert_eq!(f.write_at(PG, b"z"), Err(Errno::ENOMEM));
    let r = tmpfs_copy::<ScarcePage>(&f, true, 3 * PG, 10, &mut |p, at, _, n| {
        p.unwrap().write(at, &[5; 10][..n]);
        n
    });
    assert_eq!(r, Some(Err(Errno::ENOMEM)));
    let r = tmpfs_copy::<ScarcePage>(&f, true, 4 * PG, PG as usize, &mut |p, at, _, n| {
        p.unwrap().write(at, &vec![5; n]);
        n
    });
    assert_eq!(r, Some(Err(Errno::ENOMEM)));
    assert_eq!(
        tmpfs_page::<ScarcePage>(&f, 9).unwrap().err(),
        Some(Errno::ENOMEM)
    );
    assert_eq!(bfree::<ScarcePage>(&root), 63);
    PAGES_LEFT.with(|l| l.set(usize::MAX));
}

#[test]
fn fallocate_interrupted_is_eintr_and_undone() {
    let (root, f, _) = two_files::<HeapPage>(1000);
    let mut asked = 0;
    let r = tmpfs_allocate::<HeapPage>(&f, 0, 200 * PG, false, &mut || {
        asked += 1;
        asked == 2
    });
    // Asked before page 0 and again before page 64.
    assert_eq!(r, Some(Err(Errno::EINTR)));
    assert_eq!(asked, 2);
    assert_eq!(bfree::<HeapPage>(&root), 1000);
    assert_eq!(f.stat().size, 0);
    // Not a tmpfs regular file.
    assert_eq!(falloc::<HeapPage>(&root, 0, PG, false), Err(Errno::EISDIR));
}
