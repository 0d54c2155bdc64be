//! Extended attributes in Linux's on-disk format (fs/ext4/xattr.[ch], Documentation/
//! filesystems/ext4/attributes.rst): entries in the inode after `i_extra_isize` (behind the
//! 0xEA020000 magic) and in one attribute block (`i_file_acl`: a 32-byte header with the
//! magic, reference count, hash and checksum, entries sorted as Linux keeps them, values
//! packed from the end). A new or changed attribute goes into the inode when it fits, else
//! into the block, as ext4_xattr_set_handle places it. A block shared by several inodes
//! (e2fsprogs and Linux's mbcache share identical ones) is copied before it changes, its
//! reference count dropped. POSIX ACLs are stored in ext4's own ACL format (version 1,
//! short entries for the owner, group, mask and other) and converted to and from the xattr
//! format at this boundary. Damaged attribute data gives EUCLEAN (EFSCORRUPTED) or EBADMSG
//! (a bad checksum), as on Linux.

use crate::inode::IState;
use crate::util::*;
use crate::{Ext4, Ext4Inode};
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::fs::{
    XATTR_CREATE, XATTR_POSIX_ACL_ACCESS, XATTR_POSIX_ACL_DEFAULT, XATTR_REPLACE,
};
use lintel_abi::{Errno, KResult};
use lintel_vfs::acl::{Acl, AclEntry, ACL_GROUP, ACL_UNDEFINED_ID, ACL_USER};

const MAGIC: u32 = 0xEA02_0000;
/// The block header's size; entries follow it.
const BLOCK_HEADER: usize = 32;
const ENTRY_HEADER: usize = 16;
const EFSCORRUPTED: Errno = Errno::EUCLEAN;
const EXT4_ACL_VERSION: u32 = 1;

/// Name indexes (EXT4_XATTR_INDEX_*) and the prefixes they stand for.
const PREFIXES: &[(u8, &[u8])] = &[
    (1, b"user."),
    (2, XATTR_POSIX_ACL_ACCESS),
    (3, XATTR_POSIX_ACL_DEFAULT),
    (4, b"trusted."),
    (6, b"security."),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ent {
    pub index: u8,
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl Ent {
    fn entry_len(&self) -> usize {
        (self.name.len() + ENTRY_HEADER + 3) & !3
    }
    fn value_len(&self) -> usize {
        (self.value.len() + 3) & !3
    }
    fn key(&self) -> (u8, usize, &[u8]) {
        (self.index, self.name.len(), &self.name)
    }
}

/// A full name as (index, stored suffix); EOPNOTSUPP for a namespace ext4 does not keep.
fn split(full: &[u8]) -> KResult<(u8, &[u8])> {
    for &(i, p) in PREFIXES {
        if i == 2 || i == 3 {
            if full == p {
                return Ok((i, &[]));
            }
        } else if let Some(rest) = full.strip_prefix(p) {
            return Ok((i, rest));
        }
    }
    Err(Errno::EOPNOTSUPP)
}

fn full_name(e: &Ent) -> Option<Vec<u8>> {
    let p = PREFIXES.iter().find(|p| p.0 == e.index)?.1;
    let mut v = p.to_vec();
    v.extend_from_slice(&e.name);
    Some(v)
}

/// ext4_xattr_hash_entry (unsigned name bytes, as Linux writes it today).
fn entry_hash(name: &[u8], value: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 5) ^ (h >> 27) ^ c as u32;
    }
    for w in value.chunks(4) {
        let mut b = [0u8; 4];
        b[..w.len()].copy_from_slice(w);
        h = (h << 16) ^ (h >> 16) ^ u32::from_le_bytes(b);
    }
    h
}

/// Entries from `region`: the first at `first`, value offsets counted from `base`.
fn parse(region: &[u8], first: usize, base: usize) -> KResult<Vec<Ent>> {
    let mut out = Vec::new();
    let mut off = first;
    loop {
        let word = region.get(off..off + 4).ok_or(EFSCORRUPTED)?;
        if word == [0, 0, 0, 0] {
            return Ok(out);
        }
        let h = region.get(off..off + ENTRY_HEADER).ok_or(EFSCORRUPTED)?;
        let name_len = h[0] as usize;
        let index = h[1];
        let voff = le16(h, 2) as usize;
        let vinum = le32(h, 4);
        let vsize = le32(h, 8) as usize;
        if vinum != 0 {
            // Values in their own inodes (the ea_inode feature) are not supported.
            return Err(Errno::EOPNOTSUPP);
        }
        let name = region
            .get(off + ENTRY_HEADER..off + ENTRY_HEADER + name_len)
            .ok_or(EFSCORRUPTED)?;
        let value = if vsize == 0 {
            &[][..]
        } else {
            let start = base.checked_add(voff).ok_or(EFSCORRUPTED)?;
            let end = start.checked_add(vsize).ok_or(EFSCORRUPTED)?;
            region.get(start..end).ok_or(EFSCORRUPTED)?
        };
        out.push(Ent {
            index,
            name: name.to_vec(),
            value: value.to_vec(),
        });
        off += (name_len + ENTRY_HEADER + 3) & !3;
    }
}

/// Whether `ents` fit a region of `len` bytes whose entries start at `first`.
fn fits(ents: &[Ent], len: usize, first: usize) -> bool {
    let need: usize = first
        + 4
        + ents
            .iter()
            .map(|e| e.entry_len() + e.value_len())
            .sum::<usize>();
    need <= len
}

/// Lays `ents` out in `region` (zeroed first): entries from `first`, values from the end
/// down, offsets from `base`. Linux hashes the entries of a block only.
fn serialize(ents: &[Ent], region: &mut [u8], first: usize, base: usize, hashed: bool) {
    region[first..].fill(0);
    let mut off = first;
    let mut vend = region.len();
    for e in ents {
        let voff = if e.value.is_empty() {
            0
        } else {
            vend -= e.value_len();
            region[vend..vend + e.value.len()].copy_from_slice(&e.value);
            vend - base
        };
        let h = &mut region[off..off + ENTRY_HEADER];
        h[0] = e.name.len() as u8;
        h[1] = e.index;
        put16(h, 2, voff as u16);
        put32(h, 4, 0);
        put32(h, 8, e.value.len() as u32);
        put32(
            h,
            12,
            if hashed {
                entry_hash(&e.name, &e.value)
            } else {
                0
            },
        );
        region[off + ENTRY_HEADER..off + ENTRY_HEADER + e.name.len()].copy_from_slice(&e.name);
        off += e.entry_len();
    }
}

/// The in-inode attribute area: (start of the area in the record, its length), None when the
/// inode has no room for one.
fn ibody_area(raw: &[u8]) -> Option<(usize, usize)> {
    if raw.len() <= 128 {
        return None;
    }
    let start = 128 + le16(raw, 0x80) as usize;
    if start + 8 > raw.len() {
        return None;
    }
    Some((start, raw.len() - start))
}

fn ibody_entries(raw: &[u8]) -> KResult<Vec<Ent>> {
    let Some((start, _)) = ibody_area(raw) else {
        return Ok(Vec::new());
    };
    let area = &raw[start..];
    if le32(area, 0) != MAGIC {
        return Ok(Vec::new());
    }
    // Value offsets count from the first entry (IFIRST), right after the magic.
    parse(&area[4..], 0, 0)
}

fn block_of(raw: &[u8]) -> u64 {
    le32(raw, 0x68) as u64 | (le16(raw, 0x76) as u64) << 32
}

/// ext4_xattr_rehash: the block hash from the entry hashes (0 if any is 0).
fn block_hash(b: &[u8]) -> u32 {
    let mut h: u32 = 0;
    let mut off = BLOCK_HEADER;
    while off + ENTRY_HEADER <= b.len() && le32(b, off) != 0 {
        let eh = le32(b, off + 12);
        if eh == 0 {
            return 0;
        }
        h = (h << 16) ^ (h >> 16) ^ eh;
        off += (b[off] as usize + ENTRY_HEADER + 3) & !3;
    }
    h
}

impl Ext4 {
    fn xattr_block_csum(&self, blk: u64, b: &[u8]) -> u32 {
        let c = crc32c(self.csum_seed, &blk.to_le_bytes());
        let c = crc32c(c, &b[..0x10]);
        let c = crc32c(c, &[0; 4]);
        crc32c(c, &b[0x14..])
    }

    /// The attribute block's entries and reference count.
    pub(crate) fn read_xattr_block(&self, blk: u64) -> KResult<(Vec<Ent>, u32)> {
        self.check_block(blk).map_err(|_| EFSCORRUPTED)?;
        if self.in_sys(blk, 1) {
            return Err(EFSCORRUPTED);
        }
        let b = self.meta_read(blk, |b| b.to_vec())?;
        if le32(&b, 0) != MAGIC || le32(&b, 8) != 1 {
            return Err(EFSCORRUPTED);
        }
        if self.csum && le32(&b, 0x10) != self.xattr_block_csum(blk, &b) {
            return Err(Errno::EBADMSG);
        }
        Ok((parse(&b, BLOCK_HEADER, 0)?, le32(&b, 4)))
    }

    pub(crate) fn write_xattr_block(
        &self,
        blk: u64,
        ents: &[Ent],
        refs: u32,
        fresh: bool,
    ) -> KResult<()> {
        let bs = self.bs as usize;
        let mut b = vec![0u8; bs];
        put32(&mut b, 0, MAGIC);
        put32(&mut b, 4, refs);
        put32(&mut b, 8, 1);
        serialize(ents, &mut b, BLOCK_HEADER, 0, true);
        let h = block_hash(&b);
        put32(&mut b, 0xC, h);
        if self.csum {
            let c = self.xattr_block_csum(blk, &b);
            put32(&mut b, 0x10, c);
        }
        if fresh {
            self.meta_new(blk, |d| d.copy_from_slice(&b))
        } else {
            self.meta_write(blk, |d| d.copy_from_slice(&b))
        }
    }
}

/// ext4_acl_to_disk: version 1, 4-byte entries but for named users and groups.
fn acl_to_disk(v: &[u8]) -> KResult<Vec<u8>> {
    let Some(acl) = Acl::from_xattr(v)? else {
        return Err(Errno::EINVAL);
    };
    let mut out = EXT4_ACL_VERSION.to_le_bytes().to_vec();
    for e in &acl.0 {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.perm.to_le_bytes());
        if e.tag == ACL_USER || e.tag == ACL_GROUP {
            out.extend_from_slice(&e.id.to_le_bytes());
        }
    }
    Ok(out)
}

/// ext4_acl_from_disk, then the xattr format.
fn acl_from_disk(v: &[u8]) -> KResult<Vec<u8>> {
    if v.len() < 4 || le32(v, 0) != EXT4_ACL_VERSION {
        return Err(EFSCORRUPTED);
    }
    let mut entries = Vec::new();
    let mut off = 4;
    while off < v.len() {
        let h = v.get(off..off + 4).ok_or(EFSCORRUPTED)?;
        let tag = le16(h, 0);
        let perm = le16(h, 2);
        let id = if tag == ACL_USER || tag == ACL_GROUP {
            let id = v.get(off + 4..off + 8).ok_or(EFSCORRUPTED)?;
            off += 8;
            le32(id, 0)
        } else {
            off += 4;
            ACL_UNDEFINED_ID
        };
        entries.push(AclEntry { tag, perm, id });
    }
    let acl = Acl(entries);
    acl.valid().map_err(|_| EFSCORRUPTED)?;
    Ok(acl.to_xattr())
}

impl Ext4Inode {
    /// Every attribute: the inode's, then the block's (with the block and its count).
    fn load_xattrs(&self, st: &IState) -> KResult<(Vec<Ent>, Vec<Ent>, u64, u32)> {
        let ib = ibody_entries(&st.raw)?;
        let blk = block_of(&st.raw);
        if blk == 0 {
            return Ok((ib, Vec::new(), 0, 0));
        }
        let (b, refs) = self.fs.read_xattr_block(blk)?;
        Ok((ib, b, blk, refs))
    }

    pub(crate) fn xattr_get(&self, full: &[u8]) -> KResult<Vec<u8>> {
        let (index, name) = split(full)?;
        let st = self.st.lock();
        let (ib, b, _, _) = self.load_xattrs(&st)?;
        let e = ib
            .iter()
            .chain(b.iter())
            .find(|e| e.index == index && e.name == name)
            .ok_or(Errno::ENODATA)?;
        if index == 2 || index == 3 {
            return acl_from_disk(&e.value);
        }
        Ok(e.value.clone())
    }

    pub(crate) fn xattr_list(&self) -> KResult<Vec<Vec<u8>>> {
        let st = self.st.lock();
        let (ib, b, _, _) = self.load_xattrs(&st)?;
        Ok(ib.iter().chain(b.iter()).filter_map(full_name).collect())
    }

    /// Sets (`value` Some) or removes an attribute, under the journal.
    pub(crate) fn xattr_set(&self, full: &[u8], value: Option<&[u8]>, flags: u32) -> KResult<()> {
        let (index, name) = split(full)?;
        let value = match value {
            Some(v) if index == 2 || index == 3 => Some(acl_to_disk(v)?),
            Some(v) => Some(v.to_vec()),
            None => None,
        };
        self.fs.check_writable()?;
        let _op = self.fs.begin();
        let mut st = self.st.lock();
        if st.broken {
            return Err(Errno::EIO);
        }
        let (mut ib, mut b, blk, refs) = self.load_xattrs(&st)?;
        let old_b = b.clone();
        let in_ib = ib.iter().position(|e| e.index == index && e.name == name);
        let in_b = b.iter().position(|e| e.index == index && e.name == name);
        let exists = in_ib.is_some() || in_b.is_some();
        if exists && flags & XATTR_CREATE != 0 {
            return Err(Errno::EEXIST);
        }
        if !exists && (flags & XATTR_REPLACE != 0 || value.is_none()) {
            return Err(Errno::ENODATA);
        }
        let new = value.map(|value| Ent {
            index,
            name: name.to_vec(),
            value,
        });
        let area = ibody_area(&st.raw);
        match (new, in_ib, in_b) {
            (None, Some(i), _) => {
                ib.remove(i);
            }
            (None, None, Some(i)) => {
                b.remove(i);
            }
            (None, None, None) => return Err(Errno::ENODATA),
            (Some(e), i, j) => {
                // In the inode if it fits there (replacing in place), else in the block.
                let mut try_ib = ib.clone();
                match i {
                    Some(i) => try_ib[i] = e.clone(),
                    None => try_ib.push(e.clone()),
                }
                if area.is_some_and(|(_, len)| fits(&try_ib, len - 4, 0)) {
                    ib = try_ib;
                    if let Some(j) = j {
                        b.remove(j);
                    }
                } else {
                    if let Some(i) = i {
                        ib.remove(i);
                    }
                    match j {
                        Some(j) => b[j] = e,
                        None => {
                            let at = b.partition_point(|x| x.key() < e.key());
                            b.insert(at, e);
                        }
                    }
                    if !fits(&b, self.fs.bs as usize, BLOCK_HEADER) {
                        return Err(Errno::ENOSPC);
                    }
                }
            }
        }
        // What was read may be damaged so that it cannot be laid out again (values that
        // overlapped): refuse rather than write past the area.
        if area.is_some_and(|(_, len)| !fits(&ib, len - 4, 0))
            || !fits(&b, self.fs.bs as usize, BLOCK_HEADER)
        {
            return Err(EFSCORRUPTED);
        }
        // The inode's area.
        if let Some((start, _)) = area {
            let a = &mut st.raw[start..];
            if ib.is_empty() {
                a.fill(0);
            } else {
                put32(a, 0, MAGIC);
                serialize(&ib, &mut a[4..], 0, 0, false);
            }
        }
        // The block: kept, rewritten in place (ours alone), replaced by a copy, or dropped.
        if b != old_b {
            let per = (self.fs.bs / 512) as i64;
            if b.is_empty() {
                self.fs.release_xattr_block(&mut st.raw)?;
                self.fs.add_blocks(&mut st, -per);
            } else if blk != 0 && refs == 1 {
                self.fs.write_xattr_block(blk, &b, 1, false)?;
            } else {
                let goal = self.fs.group_start((self.ino - 1) / self.fs.ipg);
                let (nb, _) = self.fs.alloc_blocks(goal, 1)?;
                if let Err(e) = self.fs.write_xattr_block(nb, &b, 1, true) {
                    let _ = self.fs.free_blocks(nb, 1);
                    return Err(e);
                }
                if blk != 0 {
                    self.fs.release_xattr_block(&mut st.raw)?;
                } else {
                    self.fs.add_blocks(&mut st, per);
                }
                put32(&mut st.raw, 0x68, nb as u32);
                put16(&mut st.raw, 0x76, (nb >> 32) as u16);
            }
        }
        self.touch(&mut st, false);
        self.save(&st)
    }
}
