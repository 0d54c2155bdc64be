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

/// The file operations of a /proc node: a snapshot for the generated regular files; None
/// (plain inode reads) for the rest, for /proc/PID/mem, which is the process's memory, and
/// for /proc/PID/smaps, which the inode renders a window of entries per read (its whole text
/// for a process of many VMAs is megabytes of kernel heap: the fuzzer's seed 430419 died
/// on a 1.5 MB allocation there).
pub(super) fn ops_for(inode: &ProcInode) -> Option<Arc<dyn FileOps>> {
    if inode.kind() != FileType::Regular
        || matches!(
            inode.node,
            Node::PidFile(_, PidFile::Mem | PidFile::Smaps, _)
        )
    {
        return None;
    }
    Some(Arc::new(Snapshot::default()))
}

impl FileOps for Snapshot {
    fn pollable(&self) -> bool {
        false
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let inode = file.inode.as_ref().ok_or(Errno::EBADF)?;
        let proc = inode
            .as_any()
            .downcast_ref::<ProcInode>()
            .ok_or(Errno::EBADF)?;
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
        let from = usize::try_from(off).unwrap_or(usize::MAX).min(text.len());
        let n = buf.len().min(text.len() - from);
        buf[..n].copy_from_slice(&text[from..from + n]);
        Ok(n)
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
