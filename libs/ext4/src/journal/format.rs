//! The jbd2 on-disk format (Linux's include/linux/jbd2.h, Documentation/filesystems/ext4/
//! journal.rst): big-endian block headers, the journal superblock, descriptor tags, revoke
//! records, commit blocks and their CRC32C checksums.

use crate::util::crc32c;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub(crate) const MAGIC: u32 = 0xC03B_3998;
pub(crate) const DESCRIPTOR: u32 = 1;
pub(crate) const COMMIT: u32 = 2;
const SB_V1: u32 = 3;
const SB_V2: u32 = 4;
pub(crate) const REVOKE: u32 = 5;

const COMPAT_CHECKSUM: u32 = 1;
pub(crate) const INCOMPAT_REVOKE: u32 = 1;
pub(crate) const INCOMPAT_64BIT: u32 = 2;
const INCOMPAT_ASYNC_COMMIT: u32 = 4;
pub(crate) const INCOMPAT_CSUM_V2: u32 = 8;
pub(crate) const INCOMPAT_CSUM_V3: u32 = 0x10;
/// What this crate understands; fast commits (0x20) are not among them.
const INCOMPAT_KNOWN: u32 =
    INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3;
const CRC32C_CHKSUM: u8 = 4;
/// A version 1 commit block's checksum type (JBD2_CRC32_CHKSUM).
const CRC32_CHKSUM: u8 = 1;

pub(crate) const FLAG_ESCAPE: u32 = 1;
pub(crate) const FLAG_SAME_UUID: u32 = 2;
pub(crate) const FLAG_LAST_TAG: u32 = 8;

/// Bytes of the checksum tail ending descriptor and revoke blocks (csum v2/v3).
pub(crate) const TAIL: usize = 4;
/// Bytes of the block header (magic, type, sequence).
pub(crate) const HEADER: usize = 12;
/// Linux refuses journals shorter than this (JBD2_MIN_JOURNAL_BLOCKS).
const MIN_BLOCKS: u32 = 1024;

pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub(crate) fn put_be32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes a block header.
pub(crate) fn header(b: &mut [u8], kind: u32, seq: u32) {
    put_be32(b, 0, MAGIC);
    put_be32(b, 4, kind);
    put_be32(b, 8, seq);
}

/// Transaction ids wrap: `a` is after `b` when the difference, as a signed number, is positive.
pub(crate) fn tid_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The journal superblock, decoded; `raw` keeps the 1024 bytes for rewriting.
#[derive(Clone)]
pub(crate) struct Jsb {
    pub raw: Vec<u8>,
    pub maxlen: u32,
    pub first: u32,
    pub sequence: u32,
    pub start: u32,
    pub incompat: u32,
    pub seed: u32,
}

impl Jsb {
    /// Decodes and checks a journal superblock (Linux's journal_get_superblock and
    /// load_superblock): EINVAL for a malformed or unsupported one, EUCLEAN for a bad checksum.
    pub fn parse(b: &[u8], fs_bs: u64, blocks: u64) -> KResult<Jsb> {
        let raw = b.get(..1024).ok_or(Errno::EINVAL)?.to_vec();
        let kind = be32(&raw, 4);
        if be32(&raw, 0) != MAGIC || (kind != SB_V1 && kind != SB_V2) {
            return Err(Errno::EINVAL);
        }
        if be32(&raw, 0xC) as u64 != fs_bs {
            return Err(Errno::EINVAL);
        }
        let maxlen = be32(&raw, 0x10);
        let first = be32(&raw, 0x14);
        let start = be32(&raw, 0x1C);
        if (maxlen as u64) > blocks || maxlen < MIN_BLOCKS || first == 0 || first >= maxlen {
            return Err(Errno::EINVAL);
        }
        if start != 0 && (start < first || start >= maxlen) {
            return Err(Errno::EINVAL);
        }
        let (compat, incompat) = if kind == SB_V2 {
            (be32(&raw, 0x24), be32(&raw, 0x28))
        } else {
            (0, 0)
        };
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(Errno::EINVAL);
        }
        let csum = incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3) != 0;
        if csum {
            if compat & COMPAT_CHECKSUM != 0 || raw[0x50] != CRC32C_CHKSUM {
                return Err(Errno::EINVAL);
            }
            if sb_csum(&raw) != be32(&raw, 0xFC) {
                return Err(Errno::EUCLEAN);
            }
        }
        let seed = crc32c(!0, &raw[0x30..0x40]);
        Ok(Jsb {
            maxlen,
            first,
            sequence: be32(&raw, 0x18),
            start,
            incompat,
            seed,
            raw,
        })
    }

    pub fn csum(&self) -> bool {
        self.incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3) != 0
    }

    /// Version 1 checksums (COMPAT_CHECKSUM): one `crc32_be` over a transaction's
    /// descriptor and logged blocks, in its commit block.
    pub fn csum1(&self) -> bool {
        be32(&self.raw, 0x24) & COMPAT_CHECKSUM != 0 && !self.csum()
    }

    pub fn csum3(&self) -> bool {
        self.incompat & INCOMPAT_CSUM_V3 != 0
    }

    pub fn is64(&self) -> bool {
        self.incompat & INCOMPAT_64BIT != 0
    }

    /// Bytes of one block tag, without the UUID that follows a tag lacking SAME_UUID.
    pub fn tag_bytes(&self) -> usize {
        if self.csum3() {
            return 16;
        }
        let mut sz = 12;
        if self.incompat & INCOMPAT_CSUM_V2 != 0 {
            sz += 2;
        }
        if self.is64() {
            sz
        } else {
            sz - 4
        }
    }

    /// Bytes usable for tags or revoke records in a descriptor or revoke block.
    pub fn usable(&self, bs: usize) -> usize {
        if self.csum() {
            bs - TAIL
        } else {
            bs
        }
    }

    /// Switches to the features this crate writes (as ext4's set_journal_csum_feature_set):
    /// 64-bit block numbers when the file system has them; checksums v3 when it has metadata
    /// checksums, else version 1 checksums when `v1` (the `journal_checksum` mount option),
    /// else none.
    pub fn set_features(&mut self, is64: bool, csum: bool, v1: bool) {
        if be32(&self.raw, 4) != SB_V2 {
            put_be32(&mut self.raw, 4, SB_V2);
        }
        let mut inc = self.incompat & !(INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3);
        if is64 {
            inc |= INCOMPAT_64BIT;
        }
        let mut compat = be32(&self.raw, 0x24) & !COMPAT_CHECKSUM;
        if csum {
            inc |= INCOMPAT_CSUM_V3;
            self.raw[0x50] = CRC32C_CHKSUM;
        } else if v1 {
            compat |= COMPAT_CHECKSUM;
        }
        put_be32(&mut self.raw, 0x24, compat);
        self.incompat = inc;
    }

    /// The 1024 bytes to write, with the current start, sequence and features.
    pub fn encode(&mut self) -> Vec<u8> {
        put_be32(&mut self.raw, 0x18, self.sequence);
        put_be32(&mut self.raw, 0x1C, self.start);
        put_be32(&mut self.raw, 0x28, self.incompat);
        if self.csum() {
            let c = sb_csum(&self.raw);
            put_be32(&mut self.raw, 0xFC, c);
        }
        self.raw.clone()
    }

    /// Checksum of a descriptor or revoke block with its tail zeroed.
    pub fn tail_csum(&self, b: &[u8]) -> u32 {
        let n = b.len() - TAIL;
        let c = crc32c(self.seed, &b[..n]);
        crc32c(c, &[0; TAIL])
    }

    pub fn tail_ok(&self, b: &[u8]) -> bool {
        !self.csum() || self.tail_csum(b) == be32(b, b.len() - TAIL)
    }

    /// Marks a commit block with a transaction's version 1 checksum (JBD2_CRC32_CHKSUM, 4
    /// bytes).
    pub fn put_commit_csum1(b: &mut [u8], crc: u32) {
        b[0x0C] = CRC32_CHKSUM;
        b[0x0D] = 4;
        put_be32(b, 0x10, crc);
    }

    /// A commit block's version 1 checksum as recovery reads it: Some(true) when it matches
    /// `crc`, Some(false) when it differs, None when the block carries none (type, size and
    /// value all 0: a commit written without checksums).
    pub fn commit_csum1_ok(b: &[u8], crc: u32) -> Option<bool> {
        let (kind, size, found) = (b[0x0C], b[0x0D], be32(b, 0x10));
        if kind == 0 && size == 0 && found == 0 {
            return None;
        }
        Some(kind == CRC32_CHKSUM && size == 4 && found == crc)
    }

    /// Checksum of a commit block with its first checksum word zeroed.
    pub fn commit_csum(&self, b: &[u8]) -> u32 {
        let c = crc32c(self.seed, &b[..0x10]);
        let c = crc32c(c, &[0; 4]);
        crc32c(c, &b[0x14..])
    }

    /// Checksum of a logged block as stored in the journal, for its tag.
    pub fn block_csum(&self, seq: u32, data: &[u8]) -> u32 {
        let c = crc32c(self.seed, &seq.to_be_bytes());
        crc32c(c, data)
    }
}

fn sb_csum(raw: &[u8]) -> u32 {
    let c = crc32c(!0, &raw[..0xFC]);
    let c = crc32c(c, &[0; 4]);
    crc32c(c, &raw[0x100..1024])
}

/// One block tag of a descriptor block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tag {
    pub blocknr: u64,
    pub flags: u32,
    pub csum: u32,
}

/// Decodes the tags of a descriptor block; None when they run past its end.
pub(crate) fn read_tags(j: &Jsb, b: &[u8]) -> Option<Vec<Tag>> {
    let tb = j.tag_bytes();
    let end = j.usable(b.len());
    let mut off = HEADER;
    let mut out = Vec::new();
    loop {
        if off + tb > end {
            // A block full of tags without LAST_TAG: Linux stops at the end too.
            return if out.is_empty() { None } else { Some(out) };
        }
        let t = &b[off..off + tb];
        let (lo, flags, hi, csum) = if j.csum3() {
            (be32(t, 0), be32(t, 4), be32(t, 8), be32(t, 12))
        } else {
            let hi = if j.is64() { be32(t, 8) } else { 0 };
            let flags = u16::from_be_bytes([t[6], t[7]]) as u32;
            let csum = u16::from_be_bytes([t[4], t[5]]) as u32;
            (be32(t, 0), flags, hi, csum)
        };
        let hi = if j.is64() { hi } else { 0 };
        out.push(Tag {
            blocknr: lo as u64 | (hi as u64) << 32,
            flags,
            csum,
        });
        off += tb;
        if flags & FLAG_SAME_UUID == 0 {
            off += 16;
        }
        if flags & FLAG_LAST_TAG != 0 {
            return Some(out);
        }
    }
}

/// Whether a logged block matches its tag's checksum (always, without checksums).
pub(crate) fn tag_ok(j: &Jsb, t: &Tag, seq: u32, data: &[u8]) -> bool {
    if !j.csum() {
        return true;
    }
    let c = j.block_csum(seq, data);
    if j.csum3() {
        c == t.csum
    } else {
        c & 0xFFFF == t.csum
    }
}

/// Encodes one tag at `off` (CSUM_V3 or plain layout, as the journal's features say).
pub(crate) fn put_tag(j: &Jsb, b: &mut [u8], off: usize, t: &Tag) {
    let lo = t.blocknr as u32;
    let hi = (t.blocknr >> 32) as u32;
    if j.csum3() {
        put_be32(b, off, lo);
        put_be32(b, off + 4, t.flags);
        put_be32(b, off + 8, hi);
        put_be32(b, off + 12, t.csum);
    } else {
        put_be32(b, off, lo);
        b[off + 4..off + 6].copy_from_slice(&(t.csum as u16).to_be_bytes());
        b[off + 6..off + 8].copy_from_slice(&(t.flags as u16).to_be_bytes());
        if j.is64() {
            put_be32(b, off + 8, hi);
        }
    }
}

/// The block numbers of a revoke block; None when its count is malformed.
pub(crate) fn read_revokes(j: &Jsb, b: &[u8]) -> Option<Vec<u64>> {
    let count = be32(b, HEADER) as usize;
    if count > j.usable(b.len()) || count < HEADER + 4 {
        return None;
    }
    let rl = if j.is64() { 8 } else { 4 };
    let mut off = HEADER + 4;
    let mut out = Vec::new();
    while off + rl <= count {
        let v = if rl == 8 {
            (be32(b, off) as u64) << 32 | be32(b, off + 4) as u64
        } else {
            be32(b, off) as u64
        };
        out.push(v);
        off += rl;
    }
    Some(out)
}
