//! An open /proc file's text, kept between reads as Linux's seq_file keeps its buffer: the
//! text is made when a read starts at offset 0 (or nothing was made yet), and later reads
//! continue in it. A program reading in small pieces then sees one consistent text (no line
//! torn between two states of the process) and pays for making it once, not once per piece.

use super::{Node, PidFile, ProcInode};
use crate::fs::file::{FileOps, InodeFile, OpenFile};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::FileType;

#[derive(Default)]
pub(super) struct Snapshot {
    text: crate::spinlock::Mutex<Option<Arc<Vec<u8>>>>,
}

/// The file operations of a /proc node: a snapshot for the generated regular files; a
/// cursor for /proc/PID/smaps, which is rendered a window of entries per read (its whole text
/// for a process of many VMAs is megabytes of kernel heap: the fuzzer's seed 430419 died
/// on a 1.5 MB allocation there); None (plain inode reads) for the rest and for
/// /proc/PID/mem, which is the process's memory.
pub(super) fn ops_for(inode: &ProcInode) -> Option<Arc<dyn FileOps>> {
    if inode.kind() != FileType::Regular || matches!(inode.node, Node::PidFile(_, PidFile::Mem, _))
    {
        return None;
    }
    if matches!(inode.node, Node::PidFile(_, PidFile::Smaps, _)) {
        return Some(Arc::new(SmapsCursor::default()));
    }
    Some(Arc::new(Snapshot::default()))
}

/// Copies what of `text` lies from byte `from` into `buf`: the bytes copied.
pub(super) fn copy_at(text: &[u8], from: u64, buf: &mut [u8]) -> usize {
    let from = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
    let n = buf.len().min(text.len() - from);
    buf[..n].copy_from_slice(&text[from..from + n]);
    n
}

fn proc_inode(file: &OpenFile) -> KResult<&ProcInode> {
    let inode = file.inode.as_ref().ok_or(Errno::EBADF)?;
    inode
        .as_any()
        .downcast_ref::<ProcInode>()
        .ok_or(Errno::EBADF)
}

/// An open /proc/PID/smaps: the window of entries the last read rendered (its offset in the
/// file, its text, the address after its last VMA). A read inside it is served from it; a
/// read at its end renders the next window from that address, as Linux's seq_file resumes
/// at the VMA after the last one shown, so a program reading the file in pieces renders
/// each entry once. stress-ng's madvise stressor reads it a page at a time after each
/// MADV_FREE from 8 threads: measuring every entry before the offset on each read made a
/// pass quadratic in the VMAs and the stressor overran its time limit (seed 430419's rerun).
/// Any other offset (and 0, a new pass) measures from the start.
#[derive(Default)]
pub(super) struct SmapsCursor {
    window: crate::spinlock::Mutex<Option<Window>>,
}

/// A rendered window of smaps: its offset in the file, its text, the address after its last
/// VMA.
type Window = (u64, Arc<Vec<u8>>, usize);

impl FileOps for SmapsCursor {
    fn pollable(&self) -> bool {
        false
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let proc = proc_inode(file)?;
        let kept = if off == 0 {
            None
        } else {
            self.window.lock().clone()
        };
        let o = usize::try_from(off).unwrap_or(usize::MAX);
        let (start, text) = match kept {
            Some((start, text, _)) if off >= start && off < start + text.len() as u64 => {
                (start, text)
            }
            // Made without the lock: making it walks the address space, which may sleep.
            kept => {
                let resume = kept
                    .filter(|(start, text, _)| off == start + text.len() as u64)
                    .map(|(_, _, next)| (o, next));
                let (start, text, next) = proc.smaps_window(o, buf.len(), resume)?;
                let text = Arc::new(text);
                *self.window.lock() = Some((start as u64, text.clone(), next));
                (start as u64, text)
            }
        };
        Ok(copy_at(&text, off - start, buf))
    }

    fn write(&self, file: &OpenFile, buf: &[u8], off: u64) -> KResult<usize> {
        InodeFile.write(file, buf, off)
    }

    fn seekable(&self) -> bool {
        true
    }
}

impl FileOps for Snapshot {
    fn pollable(&self) -> bool {
        false
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let proc = proc_inode(file)?;
        let kept = if off == 0 {
            None
        } else {
            self.text.lock().clone()
        };
        let text = match kept {
            Some(t) => t,
            None => {
                // Made without the lock: making it may sleep (the address space, ext4).
                let t = Arc::new(proc.content()?);
                *self.text.lock() = Some(t.clone());
                t
            }
        };
        Ok(copy_at(&text, off, buf))
    }

    /// Writes (sysctls, comm, oom_score_adj) go to the inode; the next read makes the text
    /// again.
    fn write(&self, file: &OpenFile, buf: &[u8], off: u64) -> KResult<usize> {
        *self.text.lock() = None;
        InodeFile.write(file, buf, off)
    }

    fn seekable(&self) -> bool {
        true
    }
}
