//! sendfile, copy_file_range

use crate::fs::file::OpenFile;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_hal::mm::Frame;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "sendfile",
        sendfile,
        "from a tmpfs or ext4 file the bytes come straight from its page-cache pages: a pipe takes references to them (no copy), a tmpfs file one copy from page to page, a TCP socket one copy from the pages into its send buffer (up to 64 KiB a send), any other destination (Unix or UDP socket, ext4 file, device) its write of each page; other sources through a kernel buffer; O_APPEND destinations EINVAL as Linux",
    ),
    Syscall::implemented(
        "copy_file_range",
        copy_file_range,
        "from the source's page-cache pages as sendfile (tmpfs to tmpfs: one copy from page to page); Linux 6.1's checks: two file systems EXDEV (none of Lintel's has a copy_file_range of its own), the length cut at the source's end, overlapping ranges of one file EINVAL, O_APPEND destination EBADF",
    ),
];

/// What `copy_between` moved: the bytes, and the source's and destination's offsets after
/// them (when given explicitly).
pub(in crate::syscall) type Copied = (usize, Option<u64>, Option<u64>);

/// Pages taken from the source per round of `copy_from_pages` (64 KiB).
const BATCH: usize = 16;

/// Copies up to `len` bytes from `src` to `dst`, at explicit offsets when given (the file
/// positions are then left alone): from the source's page-cache pages when it is a tmpfs or
/// ext4 file (`copy_from_pages`), through a kernel buffer otherwise.
pub(in crate::syscall) fn copy_between(
    src: &OpenFile,
    src_off: Option<u64>,
    dst: &OpenFile,
    dst_off: Option<u64>,
    len: usize,
) -> KResult<Copied> {
    if let Some(r) = copy_from_pages(src, src_off, dst, dst_off, len) {
        return r;
    }
    copy_buffered(src, src_off, dst, dst_off, len)
}

/// `copy_between` from a regular file whose pages are frames (tmpfs, ext4: as splice into
/// a pipe takes them), with no staging copy of the source: its pages go straight into a tmpfs
/// destination's (one copy, Linux's splice_direct through the page cache), into a stream that
/// takes frames (a TCP socket: `FileOps::write_frames`) in one send per batch, and into any
/// other destination's write a batch at a time, through a staging buffer. Bytes are copied
/// when they are queued: a later write to the file does not change what a socket has queued
/// (Linux's skb frags keep the page itself, so there it may). None (nothing done) for other sources, and when
/// `src` and `dst` are one open file (whose one position both sides would move).
fn copy_from_pages(
    src: &OpenFile,
    src_off: Option<u64>,
    dst: &OpenFile,
    dst_off: Option<u64>,
    len: usize,
) -> Option<KResult<Copied>> {
    let inode = src.inode.as_ref()?;
    if len == 0
        || core::ptr::eq(src, dst)
        || inode.file_type() != FileType::Regular
        || !crate::mm::pagecache::splice_pages(inode)
    {
        return None;
    }
    let mut pos = match src_off {
        Some(o) => o,
        None => *src.pos.lock(),
    };
    let start = pos;
    // A tmpfs destination takes the frames themselves; others a kernel slice, staged one
    // page at a time.
    let to_tmpfs = dst.is_regular()
        && dst.ops_as::<crate::fs::file::InodeFile>().is_some()
        && dst.inode.as_ref().is_some_and(crate::mm::shmem::is_tmpfs);
    let mut staging: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    let mut zero: Option<Frame> = None;
    let mut frames: alloc::vec::Vec<(Frame, usize, usize)> = alloc::vec::Vec::new();
    if frames.try_reserve_exact(BATCH).is_err() {
        return Some(Err(Errno::ENOMEM));
    }
    let mut done = 0usize;
    let mut dpos = dst_off;
    let mut err = None;
    'outer: while done < len {
        let size = inode.stat().size;
        if pos >= size {
            break;
        }
        // Up to BATCH pages of the source, as references.
        let want = ((len - done) as u64).min(size - pos) as usize;
        let mut got = 0usize;
        frames.clear();
        // (A tmpfs hole reads as zeros.)
        for page in crate::mm::pagecache::file_pages(inode, pos, want, &mut zero).take(BATCH) {
            match page {
                Ok((frame, at, n)) => {
                    frames.push((frame, at, n));
                    got += n;
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if got == 0 {
            break;
        }
        let w = if to_tmpfs {
            write_frames_tmpfs(dst, dpos, &frames, got)
        } else if let Some(w) = dpos
            .is_none()
            .then(|| write_frames_stream(dst, &frames))
            .flatten()
        {
            w
        } else {
            write_frames_staged(dst, dpos, &frames, &mut staging)
        };
        frames.clear();
        let w = match w {
            Ok(w) => w,
            Err(e) => {
                err = Some(e);
                break 'outer;
            }
        };
        pos += w as u64;
        if let Some(o) = dpos.as_mut() {
            *o += w as u64;
        }
        done += w;
        if w < got || err.is_some() {
            break;
        }
    }
    if done == 0 {
        if let Some(e) = err {
            return Some(Err(e));
        }
    }
    if src_off.is_none() {
        // The position moves by what was copied (a concurrent read meanwhile, as Linux's
        // sendfile without an offset, is not serialised against this).
        let mut p = src.pos.lock();
        if *p == start {
            *p = pos;
        } else {
            *p += done as u64;
        }
    }
    src.report_io(done, lintel_vfs::inotify::IN_ACCESS);
    Some(Ok((done, src_off.map(|_| pos), dpos)))
}

/// The frames' bytes (`frames`: frame, offset, length; `len` in all) into the tmpfs file
/// `dst` at `off`, or its position when None, straight from frame to frame, with the checks of
/// a write (file size limit, seals) under the file's write lock. The bytes written.
fn write_frames_tmpfs(
    dst: &OpenFile,
    off: Option<u64>,
    frames: &[(Frame, usize, usize)],
    len: usize,
) -> KResult<usize> {
    let inode = dst.inode.as_ref().ok_or(Errno::EBADF)?;
    if !dst.writable() {
        return Err(Errno::EBADF);
    }
    let Some(first) = frames.first() else {
        return Ok(0);
    };
    let mut segs = [(&first.0, 0, 0); BATCH];
    for (s, f) in segs.iter_mut().zip(frames) {
        *s = (&f.0, f.1, f.2);
    }
    let segs = &segs[..frames.len().min(BATCH)];
    let write_at = |pos: u64| -> KResult<usize> {
        pos.checked_add(len as u64)
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or(Errno::EFBIG)?;
        let n = crate::fs::file::fsize_allows(pos, len)?;
        let m = dst.page_mapping().map(|m| &**m);
        crate::mm::pagecache::write_allowed(m, inode, pos, n)?;
        crate::mm::shmem::write_from_frames(inode, pos, segs, n)
    };
    let n = match off {
        Some(o) => dst.write_serialised(0, || write_at(o))?,
        None => {
            let mut pos = dst.pos.lock();
            let n = dst.write_serialised(0, || write_at(*pos))?;
            *pos += n as u64;
            n
        }
    };
    dst.report_io(n, lintel_vfs::inotify::IN_MODIFY);
    Ok(n)
}

/// A stream's write straight from the frames (a TCP socket's send buffer filled from the
/// page-cache pages: `FileOps::write_frames`), all of them in one call; None for a
/// destination without that path.
fn write_frames_stream(dst: &OpenFile, frames: &[(Frame, usize, usize)]) -> Option<KResult<usize>> {
    let (first, _) = frames.split_first()?;
    let mut segs = [(&first.0, 0, 0); BATCH];
    for (s, f) in segs.iter_mut().zip(frames) {
        *s = (&f.0, f.1, f.2);
    }
    dst.write_frames(&segs[..frames.len().min(BATCH)])
}

/// `dst`'s write of the frames' bytes, staged through `buf` (made on first use, a batch's
/// size): one write of the whole batch (a Unix socket queues it as one stretch, not one per
/// page), at `off` or at its position when None. The bytes written, short when the
/// destination took less.
fn write_frames_staged(
    dst: &OpenFile,
    off: Option<u64>,
    frames: &[(Frame, usize, usize)],
    buf: &mut alloc::vec::Vec<u8>,
) -> KResult<usize> {
    let len: usize = frames.iter().map(|f| f.2).sum();
    if buf.len() < len {
        buf.clear();
        buf.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
        buf.resize(len, 0);
    }
    let mut at = 0;
    for (f, o, l) in frames {
        f.read(*o, &mut buf[at..at + l]);
        at += l;
    }
    match off {
        Some(p) => dst.pwrite(&buf[..len], p),
        None => dst.write(&buf[..len]),
    }
}

/// Copies up to `len` bytes from `src` to `dst` through a kernel buffer (`copy_between` for
/// sources whose pages are not frames).
fn copy_buffered(
    src: &OpenFile,
    mut src_off: Option<u64>,
    dst: &OpenFile,
    mut dst_off: Option<u64>,
    len: usize,
) -> KResult<Copied> {
    let mut done = 0;
    let mut buf = alloc::vec![0u8; len.min(64 * 1024)];
    while done < len {
        let want = (len - done).min(buf.len());
        let n = match src_off {
            Some(o) => src.pread(&mut buf[..want], o),
            None => src.read(&mut buf[..want]),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let w = match dst_off {
            Some(o) => dst.pwrite(&buf[..n], o),
            None => dst.write(&buf[..n]),
        };
        let w = match w {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if let Some(o) = src_off.as_mut() {
            *o += w as u64;
        }
        if let Some(o) = dst_off.as_mut() {
            *o += w as u64;
        }
        done += w;
        if w < n || n < want {
            break;
        }
    }
    Ok((done, src_off, dst_off))
}

pub(in crate::syscall) fn read_off(p: usize) -> KResult<Option<u64>> {
    if p == 0 {
        return Ok(None);
    }
    let v = uaccess::read_u64(p)? as i64;
    if v < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(v as u64))
}

pub fn sendfile(c: &mut Call) -> SysResult {
    let [out_fd, in_fd, offp, count, ..] = c.a;
    let out = file(c, out_fd as i32)?;
    let inp = file(c, in_fd as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    // The source must be a file that can be read at an offset (Linux: mmap-able).
    if !inp.ops.seekable() || inp.is_dir() {
        return Err(Errno::EINVAL);
    }
    if out.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let off = read_off(offp)?;
    let count = count.min(0x7fff_f000);
    // Into a pipe from a page-cache file: the pipe takes references to the file's pages, as
    // splice (Linux's sendfile is a splice through its internal pipe).
    let (n, src_off) = match crate::fs::pipe::splice_from_file(&inp, off, &out, count, false) {
        Some(r) => r?,
        None => {
            let (n, o, _) = copy_between(&inp, off, &out, None, count)?;
            (n, o)
        }
    };
    if let Some(o) = src_off {
        uaccess::write_u64(offp, o)?;
    }
    ok(n)
}

pub fn copy_file_range(c: &mut Call) -> SysResult {
    let [fd_in, off_in, fd_out, off_out, len, flags] = c.a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = file(c, fd_in as i32)?;
    let out = file(c, fd_out as i32)?;
    if !inp.readable() || !out.writable() || out.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let regular = |f: &OpenFile| {
        f.inode
            .as_ref()
            .is_some_and(|i| i.file_type() == FileType::Regular)
    };
    if inp.is_dir() || out.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !regular(&inp) || !regular(&out) {
        return Err(Errno::EINVAL);
    }
    let oi = read_off(off_in)?;
    let oo = read_off(off_out)?;
    let (Some(a), Some(b)) = (inp.inode.as_ref(), out.inode.as_ref()) else {
        return Err(Errno::EINVAL);
    };
    // As Linux's generic_copy_file_checks (5.19 on): between two file systems only those
    // with a copy_file_range of their own (nfs, cifs), which Lintel has none of; offsets
    // that would wrap past 2^64; the length shortened to the end of the source; overlapping
    // ranges within one file refused; nothing to copy is 0.
    if inp.stat().dev != out.stat().dev {
        return Err(Errno::EXDEV);
    }
    // Not into an immutable file, on any file system, even for nothing.
    if lintel_vfs::is_immutable(&**b) {
        return Err(Errno::EPERM);
    }
    let si = oi.unwrap_or(*inp.pos.lock());
    let so = oo.unwrap_or(*out.pos.lock());
    if si.checked_add(len as u64).is_none() || so.checked_add(len as u64).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let len = (len as u64).min(inp.size().saturating_sub(si)) as usize;
    if Arc::ptr_eq(a, b) && si < so + len as u64 && so < si + len as u64 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return ok(0);
    }
    let (n, ni, no) = copy_between(&inp, oi, &out, oo, len.min(0x7fff_f000))?;
    if let Some(o) = ni {
        uaccess::write_u64(off_in, o)?;
    }
    if let Some(o) = no {
        uaccess::write_u64(off_out, o)?;
    }
    ok(n)
}
