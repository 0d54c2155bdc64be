//! Committing the running transaction (Linux's fs/jbd2/commit.c, ordered mode): the dirty
//! file data is written to its place on the device first (`wb.rs`); the dirty metadata
//! blocks are logged after the previous transaction, a flush, the commit block with the
//! journal superblock now pointing at this transaction, a flush (jbd2's pre-flush and FUA
//! commit block: two flushes a commit); then every block is written in place (the
//! checkpoint), not waited for.
//!
//! The log is emptied lazily (`Journal::retire`): the previous transaction's checkpoint is
//! made durable by this commit's first flush, before the journal superblock moves past it,
//! so the superblock on the device points at the last or the last but one committed
//! transaction, whose log blocks are never overwritten while it may (the next transaction
//! is written after them; one that does not fit before the log's end first empties the
//! log). Replaying them again after a crash rewrites what their checkpoints wrote, except
//! over a block freed since and reused for file data (written in place, not logged): a
//! freed block is not handed out before the transaction freeing it commits
//! (`Alloc::pending`), when the superblock moves to it, and that transaction does not log it
//! (the cache forgets a block as it is freed); should a transaction ever log a block it also
//! frees, it empties the log before its commit returns (Linux writes revoke records
//! instead). A sync (`clean`) empties it too, so a synced image has an empty log.
//!
//! The superblock's RECOVER flag is set in place (in the old, committed superblock) before
//! the first commit block can exist, and cleared by a sync once the log is empty, so an image
//! that crashed with a committed transaction in the log always asks for recovery, and one
//! that was synced is clean for e2fsck.

use super::format::*;
use super::Journal;
use crate::cache::write_runs;
use crate::util::*;
use crate::Ext4;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::KResult;

const INCOMPAT_RECOVER: u32 = 0x4;

impl Ext4 {
    /// Commits the running transaction; `clean` also marks the file system as needing no
    /// recovery. The caller holds `txn` exclusively (no operation in flight). With nothing
    /// to log the device is still flushed (the data written back made durable, an fsync of a
    /// regular file with nothing to commit) unless `flush_empty` is false.
    pub(crate) fn commit_locked(&self, clean: bool) -> KResult<()> {
        self.commit_locked_as(clean, true)
    }

    /// `commit_locked`, flushing the device after an empty commit only with `flush_empty`.
    pub(crate) fn commit_locked_as(&self, clean: bool, flush_empty: bool) -> KResult<()> {
        // Ordered mode: the data reaches its blocks before the metadata that makes them
        // reachable commits. A failure is recorded for the next fsync (`take_data_error`)
        // and the commit goes on, as jbd2's does.
        let _ = self.writeback_data();
        let mut jg = self.journal.lock();
        let Some(j) = jg.as_mut() else {
            return Ok(());
        };
        self.prepare_sb()?;
        let bs = self.bs as usize;
        let dev = self.dev();
        let (sb_blk, sb_off) = self.sb_loc();
        let sb_end = sb_off + 1024;
        // The superblock as it would be written, first with the old write time and flags, to
        // see whether anything changed at all.
        let mut sbb = j.sb_block.clone();
        sbb[sb_off..sb_end].copy_from_slice(&self.sb.lock());
        let old_recover = le32(&j.sb_block[sb_off..sb_end], 0x60) & INCOMPAT_RECOVER;
        {
            let s = &mut sbb[sb_off..sb_end];
            put32(s, 0x30, le32(&j.sb_block[sb_off..sb_end], 0x30));
            put32(s, 0x60, (le32(s, 0x60) & !INCOMPAT_RECOVER) | old_recover);
            self.seal_sb(s);
        }
        let now = self.now();
        self.last_commit.store(now.sec, Ordering::Relaxed);
        // Whether this commit's flushes made everything written so far durable.
        let mut flushed = false;
        let changed = self.cache.lock().ndirty() > 0 || sbb != j.sb_block;
        if changed {
            {
                let s = &mut sbb[sb_off..sb_end];
                put32(s, 0x30, now.sec as u32);
                put32(s, 0x60, le32(s, 0x60) | INCOMPAT_RECOVER);
                self.seal_sb(s);
            }
            // The transaction is the superblock's block and the cache's dirty blocks, written
            // from where they lie under the cache's lock (taken after `sb`, which
            // `set_recover_in_place` takes): no operation changes them meanwhile (`txn` is
            // held exclusively), and readers wait for the commit. The superblock's block comes
            // first: every cached block lies past the first data block, which holds it.
            // A block logged here and freed here could be reused for file data as soon as
            // this returns: the log must not replay it over that data. (The cache forgets a
            // block as it is freed, so this is a guard, not a path taken today.) `alloc`
            // before `cache`, as everywhere.
            let freed_logged;
            let mut cache;
            {
                let a = self.alloc.lock();
                cache = self.cache.lock();
                freed_logged = cache
                    .dirty()
                    .any(|(b, _)| crate::alloc_::is_pending(&a.pending, b));
            }
            let n = cache.dirty().count() + 1;
            let fits = log_blocks(j, bs, n) <= j.capacity();
            drop(cache);
            if fits {
                self.set_recover_in_place(j, true)?;
                let start = j.place(dev, n)?;
                cache = self.cache.lock();
                let blocks = || core::iter::once((sb_blk, &sbb[..])).chain(cache.dirty());
                let tid = j.jsb.sequence;
                let logged = j.log(self, blocks(), start, now);
                let end = match logged {
                    Ok(end) => end,
                    Err(e) => {
                        // The log may hold this id's commit block now: the retry takes the
                        // next id, so that block can never end a different transaction, and
                        // empties the log first (what the superblock points at is unknown).
                        j.jsb.sequence = tid.wrapping_add(1);
                        j.must_retire = true;
                        return Err(e);
                    }
                };
                j.jsb.sequence = tid.wrapping_add(1);
                j.head = end;
                // The checkpoint, made durable by the next flush. Should it fail, the blocks
                // stay dirty and the next transaction, logged after this one, holds them
                // again.
                write_runs(dev, bs, blocks())?;
                if freed_logged {
                    j.retire(dev)?;
                }
                flushed = true;
            } else {
                // Larger than the whole log (one operation cannot do that with a journal of
                // Linux's minimum size, but a damaged bound could): written in place, not
                // atomically, as without a journal, once the log can replay nothing over it.
                j.retire(dev)?;
                cache = self.cache.lock();
                write_runs(
                    dev,
                    bs,
                    core::iter::once((sb_blk, &sbb[..])).chain(cache.dirty()),
                )?;
            }
            cache.clean_all();
            drop(cache);
            j.sb_block = sbb;
            self.dsync.lock().clear();
            let mut a = self.alloc.lock();
            a.pending.clear();
            a.pending_n = 0;
        }
        if clean {
            // The checkpoints durable, the log empty, then RECOVER cleared.
            j.retire(dev)?;
            self.set_recover_in_place(j, false)?;
            return dev.flush();
        }
        if flushed || (!changed && !flush_empty) {
            return Ok(());
        }
        // Nothing logged (or written in place): the data written back is made durable
        // (fsync).
        dev.flush()
    }

    /// Sets or clears RECOVER in the superblock on the device (as last written otherwise).
    fn set_recover_in_place(&self, j: &mut Journal, on: bool) -> KResult<()> {
        let (sb_blk, sb_off) = self.sb_loc();
        let s = &mut j.sb_block[sb_off..sb_off + 1024];
        let f = le32(s, 0x60);
        if (f & INCOMPAT_RECOVER != 0) == on {
            return Ok(());
        }
        put32(
            s,
            0x60,
            if on {
                f | INCOMPAT_RECOVER
            } else {
                f & !INCOMPAT_RECOVER
            },
        );
        self.seal_sb(s);
        self.sb.lock()[0x60..0x64].copy_from_slice(&s[0x60..0x64]);
        self.dev().write(sb_blk * self.bs, &j.sb_block)
    }
}

/// Tags one descriptor block holds: the first carries the journal's UUID after it.
fn tags_per_desc(j: &Journal, bs: usize) -> usize {
    let tb = j.jsb.tag_bytes();
    1 + (j.jsb.usable(bs) - HEADER - tb - 16) / tb
}

/// Log blocks a transaction of `n` blocks takes: descriptors, copies and the commit block.
fn log_blocks(j: &Journal, bs: usize, n: usize) -> u64 {
    (n.div_ceil(tags_per_desc(j, bs)) + n + 1) as u64
}

impl Journal {
    /// Writes one transaction into the log from log block `start` (`place`): descriptors
    /// with the copies (escaped), all submitted together (one request where the log is
    /// contiguous), a flush, the commit block and the journal superblock pointing at
    /// `start`, a flush. The descriptors are built first; the blocks are written from where
    /// they lie: only an escaped block is copied. Returns the log block after the commit
    /// block.
    fn log<'a>(
        &mut self,
        fs: &Ext4,
        blocks: impl Iterator<Item = (u64, &'a [u8])> + Clone,
        start: u32,
        now: lintel_abi::stat::Timespec,
    ) -> KResult<u32> {
        let dev = fs.dev();
        let bs = self.bs;
        let tid = self.jsb.sequence;
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&self.jsb.raw[0x30..0x40]);
        let tb = self.jsb.tag_bytes();
        let per = tags_per_desc(self, bs);
        // The descriptors (each with the number of blocks it tags) and the escaped copies.
        let mut descs: Vec<(Vec<u8>, usize)> = Vec::new();
        let mut escaped: Vec<Vec<u8>> = Vec::new();
        let mut rest = blocks.clone();
        loop {
            let count = rest.clone().take(per).count();
            if count == 0 {
                break;
            }
            let mut d = vec![0u8; bs];
            header(&mut d, DESCRIPTOR, tid);
            let mut off = HEADER;
            for (i, (blk, data)) in rest.by_ref().take(count).enumerate() {
                let mut flags = 0;
                let csum = if be32(data, 0) == MAGIC {
                    flags |= FLAG_ESCAPE;
                    let mut e = data.to_vec();
                    put_be32(&mut e, 0, 0);
                    let c = self.jsb.block_csum(tid, &e);
                    escaped.push(e);
                    c
                } else {
                    self.jsb.block_csum(tid, data)
                };
                if i > 0 {
                    flags |= FLAG_SAME_UUID;
                }
                if i + 1 == count {
                    flags |= FLAG_LAST_TAG;
                }
                let tag = Tag {
                    blocknr: blk,
                    flags,
                    csum,
                };
                put_tag(&self.jsb, &mut d, off, &tag);
                off += tb;
                if i == 0 {
                    d[off..off + 16].copy_from_slice(&uuid);
                    off += 16;
                }
            }
            if self.jsb.csum() {
                let c = self.jsb.tail_csum(&d);
                put_be32(&mut d, bs - TAIL, c);
            }
            descs.push((d, count));
        }
        // The log in order: from `start` on each descriptor and its copies. Version 1
        // checksum: every descriptor and logged block, as written.
        let v1 = self.jsb.csum1();
        let mut crc = !0u32;
        let mut segs: Vec<(u64, &[u8])> = Vec::new();
        let n = descs.iter().map(|d| d.1 + 1).sum::<usize>();
        segs.try_reserve_exact(n)
            .map_err(|_| lintel_abi::Errno::ENOMEM)?;
        let mut pos = start;
        let mut rest = blocks;
        let mut esc = escaped.iter();
        for (d, count) in &descs {
            segs.push((self.pblk(pos)? * bs as u64, &d[..]));
            if v1 {
                crc = crc32_be(crc, d);
            }
            pos = self.next(pos);
            for (_, data) in rest.by_ref().take(*count) {
                let written = match esc.as_slice().first() {
                    Some(e) if be32(data, 0) == MAGIC => {
                        esc.next();
                        &e[..]
                    }
                    _ => data,
                };
                segs.push((self.pblk(pos)? * bs as u64, written));
                if v1 {
                    crc = crc32_be(crc, written);
                }
                pos = self.next(pos);
            }
        }
        // Sorted for a device that writes them one run after another.
        segs.sort_unstable_by_key(|s| s.0);
        dev.write_segments(&segs)?;
        drop(segs);
        dev.flush()?;
        let mut c = vec![0u8; bs];
        header(&mut c, COMMIT, tid);
        c[0x30..0x38].copy_from_slice(&(now.sec as u64).to_be_bytes());
        c[0x38..0x3C].copy_from_slice(&(now.nsec as u32).to_be_bytes());
        if self.jsb.csum() {
            let s = self.jsb.commit_csum(&c);
            put_be32(&mut c, 0x10, s);
        } else if v1 {
            Jsb::put_commit_csum1(&mut c, crc);
        }
        // The superblock now points at this transaction: the previous one's checkpoint is
        // durable (the flush above), and a crash before the next flush replays it or both.
        self.jsb.start = start;
        let raw = self.jsb.encode();
        self.jsb_block[..raw.len()].copy_from_slice(&raw);
        let mut two = [
            (self.pblk(0)? * bs as u64, &self.jsb_block[..]),
            (self.pblk(pos)? * bs as u64, &c[..]),
        ];
        two.sort_unstable_by_key(|s| s.0);
        dev.write_segments(&two)?;
        dev.flush()?;
        Ok(self.next(pos))
    }

    /// Where the next transaction of `n` blocks (`log_blocks` of them in the log) starts:
    /// after the last one (the superblock on the device may still point at it: its blocks
    /// stay), or, when it would not fit before the log's end, at the first block once the
    /// log is emptied (`retire`).
    fn place(&mut self, dev: &dyn crate::BlockDevice, n: usize) -> KResult<u32> {
        let len = log_blocks(self, self.bs, n);
        if self.must_retire
            || (self.head != 0 && u64::from(self.head) + len > u64::from(self.jsb.maxlen))
        {
            self.retire(dev)?;
        }
        Ok(if self.head == 0 {
            self.jsb.first
        } else {
            self.head
        })
    }

    /// Empties the log for good: a flush (the checkpoints written are durable), the journal
    /// superblock saying the log is empty, a flush (nothing in the log can be replayed after
    /// this returns). Only the flush when the log is empty already.
    pub(crate) fn retire(&mut self, dev: &dyn crate::BlockDevice) -> KResult<()> {
        dev.flush()?;
        if self.head == 0 && !self.must_retire {
            return Ok(());
        }
        self.jsb.start = 0;
        self.write_sb(dev)?;
        dev.flush()?;
        self.head = 0;
        self.must_retire = false;
        Ok(())
    }
}
