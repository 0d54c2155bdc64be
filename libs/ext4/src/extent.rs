//! The extent tree (and ext2/ext3 block maps, read-only): loading, rewriting, freeing.

use crate::inode::*;
use crate::util::*;
use crate::Ext4;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{type_of_mode, FileType};

impl Ext4 {
    fn ext_capacity(&self) -> usize {
        (self.bs as usize - 12) / 12
    }

    /// Loads the extent list (validating the whole tree).
    pub(crate) fn load_extents(&self, ino: u32, st: &mut IState) -> KResult<()> {
        if st.ext.is_some() {
            return Ok(());
        }
        if st.broken {
            return Err(Errno::EIO);
        }
        let mut out = Vec::new();
        let mut tree = Vec::new();
        if r_flags(&st.raw) & EXTENTS_FL != 0 {
            let root = st.raw[0x28..0x64].to_vec();
            let seed = self.inode_seed(ino, &st.raw);
            self.parse_node(&root, None, seed, &mut out, &mut tree)?;
        } else {
            let k = type_of_mode(r_mode(&st.raw) as u32);
            let fast_link = k == Some(FileType::Symlink) && r_size(&st.raw) < 60;
            let special = !matches!(
                k,
                Some(FileType::Regular) | Some(FileType::Directory) | Some(FileType::Symlink)
            );
            if !fast_link && !special {
                self.load_indirect(&st.raw, &mut out, &mut tree)?;
            }
        }
        st.ext = Some(out);
        st.tree = tree;
        Ok(())
    }

    /// Reads an ext2/ext3-style block map as extents (its indirect blocks count as the tree).
    fn load_indirect(&self, raw: &[u8], out: &mut Vec<Ext>, tree: &mut Vec<u64>) -> KResult<()> {
        let per = self.bs / 4;
        for i in 0..12u64 {
            let p = le32(raw, 0x28 + 4 * i as usize) as u64;
            if p != 0 {
                self.map_push(out, i, p)?;
            }
        }
        let mut base = 12u64;
        let mut span = per;
        for level in 1..=3u32 {
            let p = le32(raw, 0x28 + 4 * (11 + level as usize)) as u64;
            self.walk_indirect(level, p, base, out, tree)?;
            base += span;
            span = span.saturating_mul(per);
        }
        Ok(())
    }

    fn walk_indirect(
        &self,
        level: u32,
        blk: u64,
        base: u64,
        out: &mut Vec<Ext>,
        tree: &mut Vec<u64>,
    ) -> KResult<()> {
        if blk == 0 {
            return Ok(());
        }
        self.check_block(blk)?;
        if self.in_sys(blk, 1) || tree.len() > 1 << 22 {
            return Err(Errno::EIO);
        }
        try_push(tree, blk)?;
        let b = self.meta_read(blk, |b| b.to_vec())?;
        let per = self.bs / 4;
        let span = per.pow(level - 1);
        for k in 0..per {
            let p = le32(&b, 4 * k as usize) as u64;
            if p == 0 {
                continue;
            }
            let l = base + k * span;
            if level == 1 {
                self.map_push(out, l, p)?;
            } else {
                self.walk_indirect(level - 1, p, l, out, tree)?;
            }
        }
        Ok(())
    }

    fn map_push(&self, out: &mut Vec<Ext>, l: u64, p: u64) -> KResult<()> {
        if l >= u32::MAX as u64
            || p <= self.first_data_block
            || p >= self.blocks_count
            || self.in_sys(p, 1)
        {
            return Err(Errno::EIO);
        }
        if let Some(last) = out.last_mut() {
            if last.end() == l && last.pblk + last.len as u64 == p && last.len < EXT_INIT_MAX {
                last.len += 1;
                return Ok(());
            }
        }
        try_push(
            out,
            Ext {
                lblk: l as u32,
                len: 1,
                pblk: p,
                uninit: false,
            },
        )
    }

    fn parse_node(
        &self,
        node: &[u8],
        want_depth: Option<u16>,
        seed: u32,
        out: &mut Vec<Ext>,
        tree: &mut Vec<u64>,
    ) -> KResult<()> {
        let bad = Err(Errno::EIO);
        if le16(node, 0) != EXT_MAGIC {
            return bad;
        }
        let entries = le16(node, 2) as usize;
        let max = le16(node, 4) as usize;
        let depth = le16(node, 6);
        if max > (node.len() - 12) / 12 || entries > max || depth > 5 {
            return bad;
        }
        if want_depth.is_some_and(|d| d != depth) {
            return bad;
        }
        for k in 0..entries {
            let e = 12 + k * 12;
            let lblk = le32(node, e);
            if depth == 0 {
                let raw_len = le16(node, e + 4) as u32;
                let pblk = (le16(node, e + 6) as u64) << 32 | le32(node, e + 8) as u64;
                let (uninit, len) = if raw_len > EXT_INIT_MAX {
                    (true, raw_len - EXT_INIT_MAX)
                } else {
                    (false, raw_len)
                };
                if len == 0
                    || pblk <= self.first_data_block
                    || pblk.saturating_add(len as u64) > self.blocks_count
                    || self.in_sys(pblk, len as u64)
                    || lblk as u64 + len as u64 > 1 << 32
                {
                    return bad;
                }
                if out.last().is_some_and(|l| l.end() > lblk as u64) {
                    return bad;
                }
                try_push(
                    out,
                    Ext {
                        lblk,
                        len,
                        pblk,
                        uninit,
                    },
                )?;
            } else {
                let child = (le16(node, e + 8) as u64) << 32 | le32(node, e + 4) as u64;
                self.check_block(child)?;
                if self.in_sys(child, 1) {
                    return bad;
                }
                if tree.contains(&child) || tree.len() > 1 << 20 {
                    return bad;
                }
                try_push(tree, child)?;
                let b = self.meta_read(child, |b| b.to_vec())?;
                if self.csum {
                    let cmax = le16(&b, 4) as usize;
                    let t = 12 + cmax * 12;
                    if t + 4 > b.len() || crc32c(seed, &b[..t]) != le32(&b, t) {
                        return bad;
                    }
                }
                self.parse_node(&b, Some(depth - 1), seed, out, tree)?;
            }
        }
        Ok(())
    }

    /// Rewrites the extent tree from `st.ext`, reusing its blocks; on error nothing changed.
    pub(crate) fn write_tree(&self, ino: u32, st: &mut IState) -> KResult<()> {
        self.dsync_mark(ino);
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let per = self.ext_capacity();
        let mut levels: Vec<usize> = Vec::new();
        let mut n = exts.len();
        while n > 4 {
            let nodes = n.div_ceil(per);
            levels.push(nodes);
            n = nodes;
        }
        let need: usize = levels.iter().sum();
        // Everything this needs from the heap, taken before any block is: a fragmented file
        // has a long list, and want of memory must be ENOMEM with nothing changed, not an
        // abort of the kernel. Entries of the level being written (first logical block,
        // 12-byte entry) in `cur`; `next` takes the level above, at most `levels[0]` long.
        let enomem = |_| Errno::ENOMEM;
        let mut blocks: Vec<u64> = Vec::new();
        blocks
            .try_reserve_exact(need.max(st.tree.len()))
            .map_err(enomem)?;
        blocks.extend_from_slice(&st.tree);
        let mut fresh: Vec<(u64, u64)> = Vec::new();
        fresh.try_reserve_exact(need).map_err(enomem)?;
        let mut cur: Vec<(u32, [u8; 12])> = Vec::new();
        cur.try_reserve_exact(exts.len()).map_err(enomem)?;
        let mut next: Vec<(u32, [u8; 12])> = Vec::new();
        next.try_reserve_exact(levels.first().copied().unwrap_or(0))
            .map_err(enomem)?;
        while blocks.len() < need {
            let goal = exts.first().map(|e| e.pblk.saturating_sub(1)).unwrap_or(0);
            match self.alloc_blocks(goal, (need - blocks.len()) as u64) {
                Ok((b, c)) => {
                    fresh.push((b, c));
                    for x in b..b + c {
                        blocks.push(x);
                    }
                }
                Err(e) => {
                    for (b, c) in fresh {
                        let _ = self.free_blocks(b, c);
                    }
                    return Err(e);
                }
            }
        }
        let surplus = blocks.split_off(need);
        let seed = self.inode_seed(ino, &st.raw);
        cur.extend(exts.iter().map(|e| {
            let mut x = [0u8; 12];
            put32(&mut x, 0, e.lblk);
            put16(
                &mut x,
                4,
                (e.len + if e.uninit { EXT_INIT_MAX } else { 0 }) as u16,
            );
            put16(&mut x, 6, (e.pblk >> 32) as u16);
            put32(&mut x, 8, e.pblk as u32);
            (e.lblk, x)
        }));
        let mut bi = 0usize;
        for (depth, _) in levels.iter().enumerate() {
            next.clear();
            for chunk in cur.chunks(per) {
                let blk = blocks[bi];
                bi += 1;
                self.meta_new(blk, |b| {
                    put16(b, 0, EXT_MAGIC);
                    put16(b, 2, chunk.len() as u16);
                    put16(b, 4, per as u16);
                    put16(b, 6, depth as u16);
                    for (k, (_, e)) in chunk.iter().enumerate() {
                        b[12 + k * 12..24 + k * 12].copy_from_slice(e);
                    }
                    if self.csum {
                        let t = 12 + per * 12;
                        let c = crc32c(seed, &b[..t]);
                        put32(b, t, c);
                    }
                })?;
                let mut x = [0u8; 12];
                put32(&mut x, 0, chunk[0].0);
                put32(&mut x, 4, blk as u32);
                put16(&mut x, 8, (blk >> 32) as u16);
                // Within the capacity reserved above (each level is smaller than the first).
                next.push((chunk[0].0, x));
            }
            core::mem::swap(&mut cur, &mut next);
        }
        let r = &mut st.raw;
        // (A block-mapped file becomes an extent-mapped one.)
        let f = r_flags(r) | EXTENTS_FL;
        r_set_flags(r, f);
        r[0x28..0x64].fill(0);
        put16(r, 0x28, EXT_MAGIC);
        put16(r, 0x2A, cur.len() as u16);
        put16(r, 0x2C, 4);
        put16(r, 0x2E, levels.len() as u16);
        for (k, (_, e)) in cur.iter().enumerate() {
            r[0x34 + k * 12..0x40 + k * 12].copy_from_slice(e);
        }
        let old = st.tree.len() as i64;
        st.tree = blocks;
        self.add_blocks(st, (need as i64 - old) * (self.bs / 512) as i64);
        for b in surplus {
            let _ = self.free_blocks(b, 1);
        }
        Ok(())
    }

    pub(crate) fn blocks512(&self, r: &[u8]) -> u64 {
        let mut v = le32(r, 0x1C) as u64;
        if self.huge_file {
            v |= (le16(r, 0x74) as u64) << 32;
            if r_flags(r) & HUGE_FILE_FL != 0 {
                v = v.saturating_mul(self.bs / 512);
            }
        }
        v
    }

    pub(crate) fn add_blocks(&self, st: &mut IState, delta512: i64) {
        let r = &mut st.raw;
        let v = (self.blocks512(r) as i64 + delta512).max(0) as u64;
        let mut f = r_flags(r);
        f &= !HUGE_FILE_FL;
        r_set_flags(r, f);
        put32(r, 0x1C, v as u32);
        if self.huge_file {
            put16(r, 0x74, (v >> 32) as u16);
        }
    }

    /// Frees every block at logical index >= `keep` (and the tree blocks no longer needed).
    pub(crate) fn release_blocks(&self, ino: u32, st: &mut IState, keep: u32) -> KResult<()> {
        self.release_range(ino, st, keep as u64, u64::MAX)
    }

    /// Frees the blocks at logical indices in `[first, end)`, splitting the extents around
    /// them (truncate, FALLOC_FL_PUNCH_HOLE), and the tree blocks no longer needed.
    pub(crate) fn release_range(
        &self,
        ino: u32,
        st: &mut IState,
        first: u64,
        end: u64,
    ) -> KResult<()> {
        self.load_extents(ino, st)?;
        let backup = backup_exts(&mut st.ext)?;
        let whole_tree = first == 0 && end == u64::MAX && !st.tree.is_empty();
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let (kept, frees) = cut(exts, first, end);
        if frees.is_empty() && !whole_tree {
            return Ok(());
        }
        self.replace_extents(ino, st, kept, backup, frees)
    }

    /// Makes `exts` the file's extent list (back to `backup` if the tree cannot be written),
    /// then frees the runs no longer mapped.
    pub(crate) fn replace_extents(
        &self,
        ino: u32,
        st: &mut IState,
        exts: Vec<Ext>,
        backup: Option<Vec<Ext>>,
        frees: Vec<(u64, u64)>,
    ) -> KResult<()> {
        st.ext = Some(exts);
        if let Err(e) = self.write_tree(ino, st) {
            st.ext = backup;
            return Err(e);
        }
        let mut total = 0u64;
        for (b, c) in frees {
            self.free_blocks(b, c)?;
            total += c;
        }
        self.add_blocks(st, -((total * (self.bs / 512)) as i64));
        Ok(())
    }
}

/// The extents with logical blocks `[first, end)` taken out (those across the edges split),
/// and the physical runs that held them.
pub(crate) fn cut(exts: &[Ext], first: u64, end: u64) -> (Vec<Ext>, Vec<(u64, u64)>) {
    let mut frees: Vec<(u64, u64)> = Vec::new();
    let mut kept = Vec::new();
    for e in exts.iter() {
        let (s, t) = (e.lblk as u64, e.end());
        let (hs, he) = (s.max(first), t.min(end));
        if hs >= he {
            kept.push(*e);
            continue;
        }
        if hs > s {
            kept.push(Ext {
                len: (hs - s) as u32,
                ..*e
            });
        }
        frees.push((e.pblk + (hs - s), he - hs));
        if he < t {
            kept.push(Ext {
                lblk: he as u32,
                len: (t - he) as u32,
                pblk: e.pblk + (he - s),
                uninit: e.uninit,
            });
        }
    }
    (kept, frees)
}

/// A copy of a file's extent list to restore if a change fails, made fallibly (the list of a
/// fragmented file is long, and a write must not abort the kernel for want of one large heap
/// block: ENOMEM instead). Also gives the live list room for a few more extents, so that the
/// change's insertions do not reallocate it.
pub(crate) fn backup_exts(exts: &mut Option<Vec<Ext>>) -> KResult<Option<Vec<Ext>>> {
    let Some(v) = exts else {
        return Ok(None);
    };
    v.try_reserve(8).map_err(|_| Errno::ENOMEM)?;
    let mut copy = Vec::new();
    copy.try_reserve_exact(v.len()).map_err(|_| Errno::ENOMEM)?;
    copy.extend_from_slice(v);
    Ok(Some(copy))
}

/// Room for one more extent in `exts`, or ENOMEM: a fragmented file's list is long, and
/// growing it must not abort the kernel for want of one large heap block.
fn room_for_one(exts: &mut Vec<Ext>) -> KResult<()> {
    exts.try_reserve(1).map_err(|_| Errno::ENOMEM)
}

/// Splits the extent across logical block `l` (if any) so that one starts at `l`. ENOMEM
/// leaves the list as it was.
pub(crate) fn split_at(exts: &mut Vec<Ext>, l: u32) -> KResult<()> {
    if let Ok(e) = find_ext(exts, l) {
        if e.lblk < l {
            room_for_one(exts)?;
            let i = exts.partition_point(|x| x.lblk < e.lblk);
            let head = l - e.lblk;
            exts[i].len = head;
            exts.insert(
                i + 1,
                Ext {
                    lblk: l,
                    len: e.len - head,
                    pblk: e.pblk + head as u64,
                    uninit: e.uninit,
                },
            );
        }
    }
    Ok(())
}

/// Marks logical blocks `[first, end)` unwritten (they read as zeros), splitting extents at
/// the edges; unwritten extents hold at most EXT_INIT_MAX - 1 blocks. ENOMEM leaves the
/// list mapping what it mapped (perhaps split at the edges).
pub(crate) fn set_unwritten(exts: &mut Vec<Ext>, first: u32, end: u64) -> KResult<()> {
    split_at(exts, first)?;
    if end < 1 << 32 {
        split_at(exts, end as u32)?;
    }
    let mut out: Vec<Ext> = Vec::new();
    out.try_reserve(exts.len() + 2).map_err(|_| Errno::ENOMEM)?;
    for e in exts.iter() {
        if e.lblk < first || e.lblk as u64 >= end {
            room_for_one(&mut out)?;
            out.push(*e);
            continue;
        }
        let mut at = 0u32;
        while at < e.len {
            let n = (e.len - at).min(EXT_INIT_MAX - 1);
            let piece = Ext {
                lblk: e.lblk + at,
                len: n,
                pblk: e.pblk + at as u64,
                uninit: true,
            };
            match out.last_mut() {
                Some(p)
                    if p.uninit
                        && p.end() == piece.lblk as u64
                        && p.pblk + p.len as u64 == piece.pblk
                        && p.len + n < EXT_INIT_MAX =>
                {
                    p.len += n
                }
                _ => {
                    room_for_one(&mut out)?;
                    out.push(piece)
                }
            }
            at += n;
        }
    }
    *exts = out;
    Ok(())
}

/// The extent containing `l`, or the start of the next one.
pub(crate) fn find_ext(exts: &[Ext], l: u32) -> Result<Ext, Option<u32>> {
    let i = exts.partition_point(|e| e.end() <= l as u64);
    match exts.get(i) {
        Some(e) if e.lblk <= l => Ok(*e),
        Some(e) => Err(Some(e.lblk)),
        None => Err(None),
    }
}

/// Inserts a mapping for a hole, merging with its neighbours. ENOMEM leaves the list as it
/// was.
pub(crate) fn insert_ext(exts: &mut Vec<Ext>, mut new: Ext) -> KResult<()> {
    let i = exts.partition_point(|e| e.lblk < new.lblk);
    if i > 0 {
        let p = &mut exts[i - 1];
        if !p.uninit
            && p.end() == new.lblk as u64
            && p.pblk + p.len as u64 == new.pblk
            && p.len + new.len <= EXT_INIT_MAX
        {
            p.len += new.len;
            new = *p;
            // Maybe also merge with the next.
            if let Some(n) = exts.get(i).copied() {
                if !n.uninit
                    && new.end() == n.lblk as u64
                    && new.pblk + new.len as u64 == n.pblk
                    && new.len + n.len <= EXT_INIT_MAX
                {
                    exts[i - 1].len += n.len;
                    exts.remove(i);
                }
            }
            return Ok(());
        }
    }
    if let Some(n) = exts.get_mut(i) {
        if !n.uninit
            && new.end() == n.lblk as u64
            && new.pblk + new.len as u64 == n.pblk
            && new.len + n.len <= EXT_INIT_MAX
        {
            n.lblk = new.lblk;
            n.pblk = new.pblk;
            n.len += new.len;
            return Ok(());
        }
    }
    room_for_one(exts)?;
    exts.insert(i, new);
    Ok(())
}
