//! The ext4 journal (jbd2, internal journal inode): loading it, recovery at mount
//! (`recover.rs`) and committing transactions (`commit.rs`), in Linux's format
//! (`format.rs`) so that Linux and e2fsck replay what this crate writes and vice versa.
//!
//! The design keeps at most two transactions in the log: a commit writes the journal copies
//! after the last transaction's, the commit block, then checkpoints every block in place;
//! the next commit's first flush makes that durable and its commit block moves the log's
//! start past it. No older transaction is replayed over a block that was freed and reused
//! since (commit.rs says why), and revoke records are never needed when writing (recovery
//! still honours them).

mod commit;
pub(crate) mod format;
mod recover;

use crate::extent::find_ext;
use crate::inode::Ext;
use crate::{BlockDevice, Ext4};
use alloc::vec;
use alloc::vec::Vec;
use format::Jsb;
use lintel_abi::{Errno, KResult};

/// A loaded journal: where its blocks are and its superblock as last written.
pub(crate) struct Journal {
    map: Vec<Ext>,
    bs: usize,
    pub jsb: Jsb,
    /// The journal superblock's whole block as read (Linux keeps what follows the 1024 bytes).
    jsb_block: Vec<u8>,
    /// The file-system block holding the ext4 superblock, as last written in place.
    pub sb_block: Vec<u8>,
    /// The log block after the last committed transaction, where the next one goes; 0: the
    /// log is empty on the device (the next one goes at the first block). See commit.rs.
    head: u32,
    /// A commit failed part way: the log is emptied before the next one is written.
    must_retire: bool,
}

impl Journal {
    /// Reads the journal inode's block map and superblock.
    pub fn load(fs: &Ext4, ino: u32) -> KResult<Journal> {
        let node = fs.iget(ino)?;
        let map = {
            let mut st = node.st.lock();
            fs.load_extents(ino, &mut st)?;
            st.ext.clone().ok_or(Errno::EIO)?
        };
        drop(node);
        // The journal lies inside the file system, clear of its fixed metadata.
        for e in &map {
            let end = e.pblk.checked_add(e.len as u64).ok_or(Errno::EINVAL)?;
            if e.pblk <= fs.first_data_block
                || end > fs.blocks_count
                || fs.in_sys(e.pblk, e.len as u64)
            {
                return Err(Errno::EINVAL);
            }
        }
        let bs = fs.bs as usize;
        let mapped: u64 = map.iter().filter(|e| !e.uninit).map(|e| e.len as u64).sum();
        let first = find_ext(&map, 0).map_err(|_| Errno::EINVAL)?;
        let mut b = vec![0u8; bs];
        fs.dev().read(first.pblk * bs as u64, &mut b)?;
        let jsb = Jsb::parse(&b, bs as u64, mapped)?;
        let mut j = Journal {
            map,
            bs,
            jsb,
            jsb_block: b,
            sb_block: Vec::new(),
            head: 0,
            must_retire: false,
        };
        // Every block of the log must be mapped.
        for n in [j.jsb.first, j.jsb.maxlen - 1] {
            j.pblk(n)?;
        }
        j.sb_block = fs.read_sb_block()?;
        Ok(j)
    }

    /// The device block of journal block `n`.
    fn pblk(&self, n: u32) -> KResult<u64> {
        match find_ext(&self.map, n) {
            Ok(e) if !e.uninit => Ok(e.pblk + (n - e.lblk) as u64),
            _ => Err(Errno::EIO),
        }
    }

    fn read(&self, dev: &dyn BlockDevice, n: u32, buf: &mut [u8]) -> KResult<()> {
        dev.read(self.pblk(n)? * self.bs as u64, buf)
    }

    fn write(&self, dev: &dyn BlockDevice, n: u32, buf: &[u8]) -> KResult<()> {
        dev.write(self.pblk(n)? * self.bs as u64, buf)
    }

    /// The log block after `n`, wrapping past the end to the first one.
    fn next(&self, n: u32) -> u32 {
        if n + 1 >= self.jsb.maxlen {
            self.jsb.first
        } else {
            n + 1
        }
    }

    /// Rewrites the journal superblock (its block is written whole: the rest is zeros).
    fn write_sb(&mut self, dev: &dyn BlockDevice) -> KResult<()> {
        let raw = self.jsb.encode();
        self.jsb_block[..raw.len()].copy_from_slice(&raw);
        self.write(dev, 0, &self.jsb_block)
    }

    /// Makes the journal use the features this crate writes, rewriting its superblock if
    /// they change.
    pub fn set_features(
        &mut self,
        dev: &dyn BlockDevice,
        is64: bool,
        csum: bool,
        v1: bool,
    ) -> KResult<()> {
        let before = self.jsb.raw.clone();
        self.jsb.set_features(is64, csum, v1);
        let after = self.jsb.encode();
        if after != before {
            self.write_sb(dev)?;
            dev.flush()?;
        }
        Ok(())
    }

    /// Blocks the log can hold.
    pub fn capacity(&self) -> u64 {
        (self.jsb.maxlen - self.jsb.first) as u64
    }
}
