//! Recovery at mount, as Linux's fs/jbd2/recovery.c: find the committed transactions from
//! the log's start, gather their revoke records, and write every logged block that no later
//! revoke covers into place. Unlike Linux, every checksum (descriptor, revoke, commit and
//! each logged block's) is checked while scanning, and the first transaction failing any of
//! them ends the log: nothing from it or after it is replayed.

use super::format::*;
use super::Journal;
use crate::util::crc32_be;
use crate::BlockDevice;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::KResult;

/// One logged block: its place in the file system, in the log, and whether it was escaped.
struct Logged {
    fs_block: u64,
    log_block: u32,
    escaped: bool,
}

struct Txn {
    seq: u32,
    blocks: Vec<Logged>,
}

/// What a scan of the log found.
pub(crate) struct Scan {
    txns: Vec<Txn>,
    /// Revoked block -> the latest transaction revoking it.
    revoked: BTreeMap<u64, u32>,
    /// The first transaction id not committed in the log.
    pub end: u32,
}

impl Journal {
    /// Walks the log from its start; stops at the first block that does not continue it.
    pub fn scan(&self, dev: &dyn BlockDevice) -> KResult<Scan> {
        let j = &self.jsb;
        let mut scan = Scan {
            txns: Vec::new(),
            revoked: BTreeMap::new(),
            end: j.sequence,
        };
        if j.start == 0 {
            return Ok(scan);
        }
        let bs = self.bs;
        let mut b = vec![0u8; bs];
        let mut data = vec![0u8; bs];
        let mut seq = j.sequence;
        let mut blk = j.start;
        let mut cur = Txn {
            seq,
            blocks: Vec::new(),
        };
        let mut revokes: Vec<u64> = Vec::new();
        // Version 1 checksums: the running crc32_be of the transaction's descriptor and
        // logged blocks, and whether a commit carrying one was seen (after which a commit
        // without one ends the log too, as in Linux's do_one_pass).
        let v1 = j.csum1();
        let (mut crc, mut crc_seen) = (!0u32, false);
        // Never walk more blocks than the log has (a log that loops on itself).
        let mut budget = j.maxlen as u64;
        'log: while budget > 0 {
            budget -= 1;
            self.read(dev, blk, &mut b)?;
            if be32(&b, 0) != MAGIC || be32(&b, 8) != seq {
                break;
            }
            blk = self.next(blk);
            match be32(&b, 4) {
                DESCRIPTOR => {
                    if !j.tail_ok(&b) {
                        break;
                    }
                    if v1 {
                        crc = crc32_be(crc, &b);
                    }
                    let Some(tags) = read_tags(j, &b) else {
                        break;
                    };
                    for t in tags {
                        if budget == 0 {
                            break 'log;
                        }
                        budget -= 1;
                        self.read(dev, blk, &mut data)?;
                        if !tag_ok(j, &t, seq, &data) {
                            break 'log;
                        }
                        if v1 {
                            crc = crc32_be(crc, &data);
                        }
                        cur.blocks.push(Logged {
                            fs_block: t.blocknr,
                            log_block: blk,
                            escaped: t.flags & FLAG_ESCAPE != 0,
                        });
                        blk = self.next(blk);
                    }
                }
                REVOKE => {
                    if !j.tail_ok(&b) {
                        break;
                    }
                    match read_revokes(j, &b) {
                        Some(r) => revokes.extend(r),
                        None => break,
                    }
                }
                COMMIT => {
                    if j.csum() && j.commit_csum(&b) != be32(&b, 0x10) {
                        break;
                    }
                    if v1 {
                        match Jsb::commit_csum1_ok(&b, crc) {
                            Some(true) => crc_seen = true,
                            None if !crc_seen => {}
                            _ => break,
                        }
                        crc = !0;
                    }
                    for r in revokes.drain(..) {
                        let e = scan.revoked.entry(r).or_insert(seq);
                        if tid_gt(seq, *e) {
                            *e = seq;
                        }
                    }
                    seq = seq.wrapping_add(1);
                    let done = core::mem::replace(
                        &mut cur,
                        Txn {
                            seq,
                            blocks: Vec::new(),
                        },
                    );
                    scan.txns.push(done);
                    scan.end = seq;
                }
                _ => break,
            }
        }
        Ok(scan)
    }

    /// Writes the committed transactions' blocks into place (those below `blocks`, the file
    /// system's size), skipping revoked ones, and flushes.
    pub fn replay(&self, dev: &dyn BlockDevice, scan: &Scan, blocks: u64) -> KResult<()> {
        let bs = self.bs;
        let mut b = vec![0u8; bs];
        for t in &scan.txns {
            for l in &t.blocks {
                if l.fs_block >= blocks {
                    continue;
                }
                if let Some(&r) = scan.revoked.get(&l.fs_block) {
                    if !tid_gt(t.seq, r) {
                        continue;
                    }
                }
                self.read(dev, l.log_block, &mut b)?;
                if l.escaped {
                    put_be32(&mut b, 0, MAGIC);
                }
                dev.write(l.fs_block * bs as u64, &b)?;
            }
        }
        dev.flush()
    }

    /// Empties the log after recovery (or instead of it): the next transaction is the one
    /// after the last committed, as Linux's jbd2_journal_recover leaves it.
    pub fn reset(&mut self, dev: &dyn BlockDevice, end: u32) -> KResult<()> {
        self.jsb.start = 0;
        self.jsb.sequence = end.wrapping_add(1);
        self.write_sb(dev)?;
        dev.flush()
    }
}
