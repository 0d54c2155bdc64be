//! fsync and fdatasync with a journal: what reaches the device, counted.

use super::*;
use std::sync::atomic::AtomicU64;

/// A file's device that counts writes (all, and the superblock's) and cache flushes.
struct CountDev {
    inner: Arc<dyn BlockDevice>,
    writes: AtomicU64,
    sb_writes: AtomicU64,
    flushes: AtomicU64,
}

impl CountDev {
    fn take(&self) -> (u64, u64, u64) {
        (
            self.writes.swap(0, Ordering::Relaxed),
            self.sb_writes.swap(0, Ordering::Relaxed),
            self.flushes.swap(0, Ordering::Relaxed),
        )
    }
}

impl BlockDevice for CountDev {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        self.inner.read(offset, buf)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        if offset <= 1024 && offset + buf.len() as u64 > 1024 {
            self.sb_writes.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.write(offset, buf)
    }
    fn flush(&self) -> KResult<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.inner.flush()
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
}

/// Mounts the image through a counting device.
fn mount_counted(img: &Path) -> (Arc<CountDev>, Arc<Ext4>) {
    let cd = Arc::new(CountDev {
        inner: dev(img),
        writes: AtomicU64::new(0),
        sb_writes: AtomicU64::new(0),
        flushes: AtomicU64::new(0),
    });
    let fs = Ext4::mount(cd.clone(), 7, clock(), false).expect("mount");
    (cd, fs)
}

fn recover_flag(img: &Path) -> bool {
    let b = std::fs::read(img).unwrap();
    u32::from_le_bytes(b[1024 + 0x60..1024 + 0x64].try_into().unwrap()) & 4 != 0
}

#[test]
fn fdatasync_of_an_overwrite_only_flushes() {
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("fsync", "16M", &["-b", bs]);
        let (cd, fs) = mount_counted(&img);
        assert!(fs.journaling());
        let root = fs.root();
        let data = pattern(5, 64 * 1024);
        let f = write_file(&root, "f", &data);
        let e = f.as_any().downcast_ref::<Ext4Inode>().unwrap();
        // New file: its size and blocks are in the running transaction, so fdatasync commits.
        cd.take();
        e.fdatasync().unwrap();
        let (w, _, fl) = cd.take();
        assert!(
            w > 0 && fl > 1,
            "fdatasync of a new file commits ({w} writes, {fl} flushes)"
        );
        // An overwrite changes only the times: it stays in memory until fdatasync writes
        // its block back (one write), then one flush.
        f.write_at(4096, b"overwritten").unwrap();
        assert_eq!(cd.take(), (0, 0, 0), "an overwrite is written back later");
        e.fdatasync().unwrap();
        assert_eq!(cd.take(), (1, 0, 1), "fdatasync of an overwrite");
        // fsync commits the times, and leaves RECOVER set (cleared by sync and unmount).
        e.fsync().unwrap();
        let (w, sbw, fl) = cd.take();
        std::eprintln!(
            "bs {bs}: fsync of an overwrite: {w} writes ({sbw} superblock), {fl} flushes"
        );
        // Two flushes, as jbd2's pre-flush and FUA commit block: the log is emptied
        // lazily, by the next commit's first flush (journal/commit.rs).
        assert!(
            sbw <= 1 && fl == 2,
            "fsync: {sbw} superblock writes, {fl} flushes"
        );
        assert!(recover_flag(&img));
        // Nothing left to commit: fsync only flushes.
        e.fsync().unwrap();
        assert_eq!(cd.take(), (0, 0, 1), "fsync with nothing to commit");
        // Growing the file changes its size: fdatasync commits again.
        f.write_at(data.len() as u64, b"more").unwrap();
        cd.take();
        e.fdatasync().unwrap();
        let (w, _, fl) = cd.take();
        assert!(w > 0 && fl > 1, "fdatasync after growing commits");
        // e2fsck -n accepts the image with RECOVER set and the last transaction in the log.
        fsck(&img);
        let mut expect = data.clone();
        expect[4096..4096 + 11].copy_from_slice(b"overwritten");
        expect.extend_from_slice(b"more");
        assert_eq!(read_all(&f), expect);
        drop(f);
        drop(root);
        fs.sync().unwrap();
        assert!(!recover_flag(&img));
        drop(fs);
        fsck(&img);
        let fs = mount(&img, true);
        assert_eq!(read_all(&walk(&fs.root(), "f").unwrap()), expect);
        drop(fs);
        let _ = std::fs::remove_dir_all(d);
    }
}

/// sqlite3's commit of a rollback journal: the new journal's fdatasync commits its creation,
/// then the folder's fdatasync has nothing left to commit and sends nothing, not even a
/// flush (Linux's ext4_sync_file forces a commit for a directory, and jbd2 has none
/// running); a change in the folder still commits (two flushes), and a regular file's fsync
/// with nothing to commit still flushes (its data may have been written back unflushed).
#[test]
fn fsync_of_a_directory_with_nothing_to_commit_sends_nothing() {
    let (d, img) = empty_image("fsyncdir", "16M", &["-b", "4096"]);
    let (cd, fs) = mount_counted(&img);
    let root = fs.root();
    let dir = create(&root, "db", FileType::Directory);
    let de = dir.as_any().downcast_ref::<Ext4Inode>().unwrap();
    de.fsync().unwrap();
    let j = write_file(&dir, "bench.db-journal", &pattern(2, 8192));
    let je = j.as_any().downcast_ref::<Ext4Inode>().unwrap();
    cd.take();
    je.fdatasync().unwrap();
    let (w, _, fl) = cd.take();
    assert!(w > 0 && fl == 2, "the new journal's fdatasync commits");
    de.fdatasync().unwrap();
    assert_eq!(cd.take(), (0, 0, 0), "the folder's fdatasync after it");
    de.fsync().unwrap();
    assert_eq!(cd.take(), (0, 0, 0), "the folder's fsync after it");
    // The journal's header rewritten: its fdatasync writes the block and flushes; its new
    // times stay in the running transaction, which the folder's fdatasync then commits (as
    // Linux's, whose running transaction holds the inode since the write).
    j.write_at(0, b"header").unwrap();
    je.fdatasync().unwrap();
    assert_eq!(
        cd.take(),
        (1, 0, 1),
        "the journal's overwrite: its block, a flush"
    );
    de.fdatasync().unwrap();
    let (w, _, fl) = cd.take();
    assert!(w > 0 && fl == 2, "the folder's fdatasync commits the times");
    // Removing the journal changes the folder: its fsync commits it.
    dir.unlink(b"bench.db-journal").unwrap();
    drop(j);
    de.fdatasync().unwrap();
    let (w, _, fl) = cd.take();
    assert!(
        w > 0 && fl == 2,
        "the folder's fdatasync after an unlink commits"
    );
    // A regular file with nothing to commit: a flush.
    let g = write_file(&root, "g", b"g");
    let ge = g.as_any().downcast_ref::<Ext4Inode>().unwrap();
    ge.fsync().unwrap();
    cd.take();
    ge.fsync().unwrap();
    assert_eq!(
        cd.take(),
        (0, 0, 1),
        "a file's fsync with nothing to commit"
    );
    drop(g);
    drop(dir);
    drop(root);
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let fs = mount(&img, true);
    assert!(walk(&fs.root(), "db/bench.db-journal").is_err());
    assert_eq!(read_all(&walk(&fs.root(), "g").unwrap()), b"g");
    drop(fs);
    let _ = std::fs::remove_dir_all(d);
}

/// Written data waits in memory: reads see it at once, overwrites of the same block before
/// fsync cost nothing, fsync writes adjacent blocks in one request, and the blocks of a file
/// truncated before any write-back are never written.
#[test]
fn data_is_written_back_in_runs() {
    // The bound is shared by every instance, those of tests running beside this one too.
    crate::set_dirty_data_limit(1 << 40);
    let (d, img) = empty_image("wb", "16M", &["-b", "4096"]);
    let (cd, fs) = mount_counted(&img);
    let root = fs.root();
    let data = pattern(9, 64 * 4096);
    let f = write_file(&root, "f", &data);
    let e = f.as_any().downcast_ref::<Ext4Inode>().unwrap();
    e.fsync().unwrap();
    cd.take();
    // 64 blocks overwritten piece by piece in a scattered order, each twice.
    let mut expect = data.clone();
    for round in 0..2u8 {
        for k in 0..64u64 {
            let b = (k * 37) % 64;
            let off = b * 4096 + 100;
            let piece = [round + b as u8; 3000];
            f.write_at(off, &piece).unwrap();
            expect[off as usize..off as usize + 3000].copy_from_slice(&piece);
        }
    }
    assert_eq!(cd.take().0, 0, "overwrites wait in memory");
    assert_eq!(read_all(&f), expect, "reads see the unwritten data");
    e.fdatasync().unwrap();
    let (w, _, _) = cd.take();
    assert_eq!(w, 1, "64 adjacent dirty blocks in one request");
    // A file written and cut before any write-back: its data never reaches the device.
    let g = write_file(&root, "g", &pattern(3, 32 * 4096));
    g.truncate(0).unwrap();
    let before = std::fs::read(&img).unwrap();
    drop(g);
    drop(f);
    drop(root);
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let after = std::fs::read(&img).unwrap();
    let p = pattern(3, 32 * 4096);
    let changed_to_g = (0..after.len() / 4096).any(|b| {
        let s = &after[b * 4096..b * 4096 + 4096];
        s != &before[b * 4096..b * 4096 + 4096] && s == &p[..4096]
    });
    assert!(
        !changed_to_g,
        "a truncated file's unwritten data stays off the disk"
    );
    let fs = mount(&img, true);
    assert_eq!(read_all(&walk(&fs.root(), "f").unwrap()), expect);
    drop(fs);
    let _ = std::fs::remove_dir_all(d);
}

/// A transaction that frees a block it changed (a directory's block, changed by the unlinks,
/// freed by the rmdir) does not log it: the cache forgets a block as it is freed, so the
/// commit is a plain one, two flushes, and its log can replay nothing over the block when it
/// is reused for file data (journal/commit.rs). The image is clean for e2fsck and a later
/// mount sees the tree as committed.
#[test]
fn a_commit_freeing_a_changed_block_does_not_log_it() {
    let (d, img) = empty_image("fsyncfree", "16M", &["-b", "1024"]);
    let (cd, fs) = mount_counted(&img);
    let root = fs.root();
    let sub = create(&root, "d", FileType::Directory);
    for i in 0..4 {
        write_file(&sub, &format!("f{i}"), b"x");
    }
    let e = sub.as_any().downcast_ref::<Ext4Inode>().unwrap();
    e.fsync().unwrap();
    cd.take();
    write_file(&root, "g", b"y");
    e.fsync().unwrap();
    assert_eq!(cd.take().2, 2, "a plain commit");
    for i in 0..4 {
        sub.unlink(format!("f{i}").as_bytes()).unwrap();
    }
    drop(sub);
    root.rmdir(b"d").unwrap();
    let r = root.as_any().downcast_ref::<Ext4Inode>().unwrap();
    r.fsync().unwrap();
    assert_eq!(cd.take().2, 2, "a commit freeing a block it changed");
    fsck(&img);
    drop(root);
    drop(fs);
    let fs = mount(&img, true);
    assert!(walk(&fs.root(), "d").is_err());
    assert_eq!(read_all(&walk(&fs.root(), "g").unwrap()), b"y");
    drop(fs);
    let _ = std::fs::remove_dir_all(d);
}
