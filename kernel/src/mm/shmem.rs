//! tmpfs data in page frames: the page type the kernel's tmpfs instances use (`lintel_vfs`
//! arranges the pages, hal's frames hold the bytes). A tmpfs file is its own page cache: a
//! shared mapping maps the file's frame itself, so no copy is kept and nothing is written
//! back, and the file's data is bounded by its mount's `size=`, not by the kernel heap.

use alloc::sync::Arc;
use lintel_abi::KResult;
use lintel_hal::mm::Frame;
use lintel_vfs::{FilePage, Inode};

/// One page of a tmpfs file: a frame.
#[derive(Clone)]
pub struct ShmemPage(Frame);

impl FilePage for ShmemPage {
    fn alloc() -> Option<Self> {
        Frame::alloc().map(ShmemPage)
    }

    fn alloc_to_overwrite() -> Option<Self> {
        Frame::alloc_to_overwrite().map(ShmemPage)
    }

    fn read(&self, off: usize, buf: &mut [u8]) {
        self.0.read(off, buf)
    }

    fn write(&self, off: usize, buf: &[u8]) {
        self.0.write(off, buf)
    }

    fn zero(&self, off: usize, len: usize) {
        self.0.fill(off, len, 0)
    }

    fn shared(&self) -> bool {
        self.0.ref_count() > 1
    }
}

/// A new tmpfs whose files keep their data in frames.
pub fn new_tmpfs(
    clock: lintel_vfs::Clock,
    id: u64,
    o: &lintel_vfs::TmpfsOptions,
) -> Arc<dyn Inode> {
    lintel_vfs::new_tmpfs_with::<ShmemPage>(clock, id, o)
}

/// Sets the st_blksize of the files of the tmpfs holding `inode`.
pub fn set_blksize(inode: &Arc<dyn Inode>, blksize: u32) {
    lintel_vfs::tmpfs_set_blksize::<ShmemPage>(inode, blksize)
}

pub fn is_tmpfs(inode: &Arc<dyn Inode>) -> bool {
    inode.as_any().is::<lintel_vfs::TmpInode<ShmemPage>>()
}

/// (f_blocks, f_bfree, f_files, f_ffree) of a tmpfs; None for other file systems.
pub fn statfs(inode: &Arc<dyn Inode>) -> Option<(u64, u64, u64, u64)> {
    lintel_vfs::tmpfs_statfs::<ShmemPage>(inode)
}

pub fn mount_options(
    inode: &Arc<dyn Inode>,
    blocks: u64,
    inodes: u64,
) -> Option<alloc::string::String> {
    lintel_vfs::tmpfs_mount_options::<ShmemPage>(inode, blocks, inodes)
}

pub fn reconfigure(inode: &Arc<dyn Inode>, o: &lintel_vfs::TmpfsOptions) -> KResult<()> {
    lintel_vfs::tmpfs_reconfigure::<ShmemPage>(inode, o)
}

/// The frame of page `idx` of a tmpfs file, made in a hole (what a fault maps); None for
/// files of other file systems.
pub fn page(inode: &Arc<dyn Inode>, idx: u64) -> Option<KResult<Frame>> {
    lintel_vfs::tmpfs_page::<ShmemPage>(inode, idx).map(|r| r.map(|p| p.0))
}

/// The frame of page `idx` of a tmpfs file if it has one (nothing is made); None for files
/// of other file systems.
pub fn cached(inode: &Arc<dyn Inode>, idx: u64) -> Option<Option<Frame>> {
    lintel_vfs::tmpfs_file_page::<ShmemPage>(inode, idx).map(|p| p.map(|p| p.0))
}

/// The frames of a tmpfs file's pages from `first` on that hold data, into `out[idx - first]`
/// (at most [`super::FAULT_AROUND`] of them), under one lock; holes leave their slots
/// alone. False for files of other file systems.
pub fn cached_pages(inode: &Arc<dyn Inode>, first: u64, out: &mut [Option<Frame>]) -> bool {
    let mut pages: [Option<ShmemPage>; super::FAULT_AROUND] = Default::default();
    let n = out.len().min(pages.len());
    if !lintel_vfs::tmpfs_file_pages::<ShmemPage>(inode, first, &mut pages[..n]) {
        return false;
    }
    for (o, p) in out.iter_mut().zip(pages) {
        if let Some(p) = p {
            *o = Some(p.0);
        }
    }
    true
}

/// read(2) or write(2) (`write`) of a tmpfs file straight between its frames and user memory
/// at `ubuf` (a hole read zeroes the user's bytes); EINVAL for files of other file systems.
pub fn user_io(
    inode: &Arc<dyn Inode>,
    write: bool,
    off: u64,
    ubuf: usize,
    len: usize,
) -> KResult<usize> {
    let mut copy = |page: Option<&ShmemPage>, at: usize, done: usize, n: usize| {
        let u = ubuf + done;
        match page {
            Some(p) if write => p.0.copy_from_user(at, u, n),
            Some(p) => p.0.copy_to_user(at, u, n),
            None => lintel_hal::usercopy::zero_user(u, n).map_or(0, |()| n),
        }
    };
    lintel_vfs::tmpfs_copy::<ShmemPage>(inode, write, off, len, &mut copy)
        .unwrap_or(Err(lintel_abi::Errno::EINVAL))
}

/// A write of the tmpfs regular file `inode` at `off` of `len` bytes taken from frames
/// (`src`: a frame, an offset in it and a length, in order): splice from a pipe, one copy
/// from the pipe's pages into the file's and no staging buffer (Linux's
/// iter_file_splice_write). The bytes written, as `user_io`'s write.
pub fn write_from_frames(
    inode: &Arc<dyn Inode>,
    off: u64,
    src: &[(&Frame, usize, usize)],
    len: usize,
) -> KResult<usize> {
    // The segment holding byte `base` of the source onwards (`done` only grows).
    let (mut seg, mut base) = (0usize, 0usize);
    let mut copy = |page: Option<&ShmemPage>, at: usize, done: usize, n: usize| {
        let Some(p) = page else { return 0 };
        if done < base {
            (seg, base) = (0, 0);
        }
        let mut moved = 0;
        while moved < n {
            let pos = done + moved;
            while seg < src.len() && base + src[seg].2 <= pos {
                base += src[seg].2;
                seg += 1;
            }
            let Some(&(f, o, l)) = src.get(seg) else {
                break;
            };
            let within = pos - base;
            let m = (l - within).min(n - moved);
            p.0.copy_from_frame(at + moved, f, o + within, m);
            moved += m;
        }
        moved
    };
    lintel_vfs::tmpfs_copy::<ShmemPage>(inode, true, off, len, &mut copy)
        .unwrap_or(Err(lintel_abi::Errno::EINVAL))
}

/// Frames held by all tmpfs files (/proc/meminfo's Shmem).
pub fn pages() -> u64 {
    lintel_vfs::tmpfs_pages()
}
