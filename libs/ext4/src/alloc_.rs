//! Block and inode allocation: bitmaps (through the cache), group counters, uninit groups.

use crate::{has_super, Alloc, Ext4, BG_BLOCK_UNINIT, BG_INODE_UNINIT};
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

fn bit(b: &[u8], i: usize) -> bool {
    b[i / 8] & (1 << (i % 8)) != 0
}

fn set_bit(b: &mut [u8], i: usize, v: bool) {
    if v {
        b[i / 8] |= 1 << (i % 8);
    } else {
        b[i / 8] &= !(1 << (i % 8));
    }
}

/// Whether block `x` is among the (disjoint) ranges freed by the running transaction.
pub(crate) fn is_pending(p: &alloc::collections::BTreeMap<u64, u64>, x: u64) -> bool {
    p.range(..=x).next_back().is_some_and(|(_, &end)| x < end)
}

/// First clear bit in [from, to).
fn find_zero(b: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i < to {
        if i.is_multiple_of(8) && b[i / 8] == 0xFF {
            i += 8;
            continue;
        }
        if !bit(b, i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl Ext4 {
    pub(crate) fn group_start(&self, g: u32) -> u64 {
        self.first_data_block + g as u64 * self.bpg as u64
    }

    /// Number of blocks in group `g` (the last one may be short).
    pub(crate) fn group_len(&self, g: u32) -> u32 {
        let s = self.group_start(g);
        (self.blocks_count - s).min(self.bpg as u64) as u32
    }

    /// Builds the block bitmap of a BLOCK_UNINIT group: the metadata inside it is in use.
    fn init_block_bitmap(&self, a: &Alloc, g: u32) -> Vec<u8> {
        let bs = self.bs as usize;
        let mut bm = vec![0u8; bs];
        let start = self.group_start(g);
        let len = self.group_len(g) as u64;
        let mut mark = |b: u64, n: u64| {
            for x in b..b.saturating_add(n) {
                if x >= start && x < start + len {
                    set_bit(&mut bm, (x - start) as usize, true);
                }
            }
        };
        if has_super(self.sparse_super, g) {
            mark(start, 1 + self.gdt_blocks + self.reserved_gdt);
        }
        for grp in &a.groups {
            mark(grp.block_bitmap, 1);
            mark(grp.inode_bitmap, 1);
            mark(grp.inode_table, self.itable_blocks);
        }
        for i in len as usize..bs * 8 {
            set_bit(&mut bm, i, true);
        }
        bm
    }

    /// Makes group `g`'s block bitmap real on disk (clearing BLOCK_UNINIT).
    fn ensure_block_bitmap(&self, a: &mut Alloc, g: u32) -> KResult<()> {
        if a.groups[g as usize].flags & BG_BLOCK_UNINIT != 0 {
            let bm = self.init_block_bitmap(a, g);
            let used = (0..self.group_len(g) as usize)
                .filter(|&i| bit(&bm, i))
                .count() as u32;
            self.meta_new(a.groups[g as usize].block_bitmap, |b| {
                b.copy_from_slice(&bm)
            })?;
            let grp = &mut a.groups[g as usize];
            grp.flags &= !BG_BLOCK_UNINIT;
            let free = self.group_len(g) - used;
            if free != grp.free_blocks {
                a.free_blocks = a.free_blocks - grp.free_blocks as u64 + free as u64;
                grp.free_blocks = free;
            }
            a.dirty_groups.insert(g);
        }
        Ok(())
    }

    fn ensure_inode_bitmap(&self, a: &mut Alloc, g: u32) -> KResult<()> {
        if a.groups[g as usize].flags & BG_INODE_UNINIT != 0 {
            let ipg = self.ipg as usize;
            self.meta_new(a.groups[g as usize].inode_bitmap, |b| {
                for i in ipg..b.len() * 8 {
                    set_bit(b, i, true);
                }
            })?;
            a.groups[g as usize].flags &= !BG_INODE_UNINIT;
            a.dirty_groups.insert(g);
        }
        Ok(())
    }

    /// Allocates a run of 1..=`want` contiguous blocks, as close after `goal` as possible.
    pub(crate) fn alloc_blocks(&self, goal: u64, want: u64) -> KResult<(u64, u64)> {
        self.check_writable()?;
        let want = want.max(1);
        let mut guard = self.alloc.lock();
        let a = &mut *guard;
        if a.free_blocks == 0 {
            return Err(Errno::ENOSPC);
        }
        let goal = if goal > self.first_data_block && goal < self.blocks_count {
            goal
        } else {
            self.first_data_block
        };
        let gg = ((goal - self.first_data_block) / self.bpg as u64) as u32;
        for i in 0..=self.groups {
            let g = (gg + i) % self.groups;
            if a.groups[g as usize].free_blocks == 0 {
                continue;
            }
            self.ensure_block_bitmap(a, g)?;
            let len = self.group_len(g) as usize;
            let from = if i == 0 {
                (goal - self.group_start(g)) as usize
            } else {
                0
            };
            let bb = a.groups[g as usize].block_bitmap;
            let gs = self.group_start(g);
            // Bits found clear over fixed metadata (a damaged bitmap) are set, not handed out;
            // blocks freed by the running transaction are passed over.
            let mut fixed = 0u32;
            let mut waiting = false;
            let pending = &a.pending;
            let found = self.meta_write(bb, |b| {
                let mut pick = None;
                for (lo, hi) in [(from, len), (0, from.min(len))] {
                    let mut i = lo;
                    while let Some(s) = find_zero(b, i, hi) {
                        if self.in_sys(gs + s as u64, 1) {
                            set_bit(b, s, true);
                            fixed += 1;
                            i = s + 1;
                            continue;
                        }
                        if is_pending(pending, gs + s as u64) {
                            waiting = true;
                            i = s + 1;
                            continue;
                        }
                        pick = Some(s);
                        break;
                    }
                    if pick.is_some() {
                        break;
                    }
                }
                let s = pick?;
                let mut n = 0usize;
                while s + n < len
                    && (n as u64) < want
                    && !bit(b, s + n)
                    && !self.in_sys(gs + (s + n) as u64, 1)
                    && !is_pending(pending, gs + (s + n) as u64)
                {
                    set_bit(b, s + n, true);
                    n += 1;
                }
                Some((s, n))
            })?;
            if fixed > 0 {
                let grp = &mut a.groups[g as usize];
                grp.free_blocks = grp.free_blocks.saturating_sub(fixed);
                a.free_blocks = a.free_blocks.saturating_sub(fixed as u64);
                a.dirty_groups.insert(g);
            }
            if let Some((s, n)) = found {
                let grp = &mut a.groups[g as usize];
                grp.free_blocks = grp.free_blocks.saturating_sub(n as u32);
                a.free_blocks = a.free_blocks.saturating_sub(n as u64);
                a.dirty_groups.insert(g);
                return Ok((gs + s as u64, n as u64));
            }
            if waiting {
                continue;
            }
            // The counter lied; trust the bitmap.
            let grp = &mut a.groups[g as usize];
            a.free_blocks = a.free_blocks.saturating_sub(grp.free_blocks as u64);
            grp.free_blocks = 0;
            a.dirty_groups.insert(g);
        }
        Err(Errno::ENOSPC)
    }

    /// Returns blocks [start, start+count) to the free pool.
    pub(crate) fn free_blocks(&self, start: u64, count: u64) -> KResult<()> {
        if count == 0 {
            return Ok(());
        }
        if start <= self.first_data_block
            || start.saturating_add(count) > self.blocks_count
            || self.in_sys(start, count)
        {
            return Err(Errno::EIO);
        }
        // The blocks' dirty data, if any, is never written: the blocks are free.
        self.drop_data(start, count);
        let mut a = self.alloc.lock();
        let mut b = start;
        let end = start + count;
        while b < end {
            let g = ((b - self.first_data_block) / self.bpg as u64) as u32;
            let gs = self.group_start(g);
            let gend = (gs + self.group_len(g) as u64).min(end);
            self.ensure_block_bitmap(&mut a, g)?;
            let bb = a.groups[g as usize].block_bitmap;
            let freed = self.meta_write(bb, |bm| {
                let mut n = 0u32;
                for x in b..gend {
                    let i = (x - gs) as usize;
                    if bit(bm, i) {
                        set_bit(bm, i, false);
                        n += 1;
                    }
                }
                n
            })?;
            let grp = &mut a.groups[g as usize];
            grp.free_blocks = (grp.free_blocks + freed).min(self.group_len(g));
            a.free_blocks += freed as u64;
            a.dirty_groups.insert(g);
            b = gend;
        }
        if self.journaling() {
            a.pending.insert(start, end);
            a.pending_n += count;
        }
        drop(a);
        self.discard(start, count);
        Ok(())
    }

    /// Allocates an inode number: directories spread over groups, other files near `near`.
    pub(crate) fn alloc_inode(&self, near: u32, dir: bool) -> KResult<u32> {
        self.check_writable()?;
        let mut guard = self.alloc.lock();
        let a = &mut *guard;
        if a.free_inodes == 0 {
            return Err(Errno::ENOSPC);
        }
        let ng = self.groups;
        let near_g = (near.saturating_sub(1) / self.ipg).min(ng - 1);
        // A directory starts in the best group; then every group from the parent's on (an
        // iterator, not a list: a disk's groups can be many).
        let mut best = None;
        if dir {
            let avg = a.free_inodes / ng as u64;
            best = (0..ng)
                .filter(|&g| {
                    let x = &a.groups[g as usize];
                    x.free_inodes as u64 >= avg.max(1) && x.free_blocks > 0
                })
                .max_by_key(|&g| (a.groups[g as usize].free_blocks, core::cmp::Reverse(g)));
        }
        let order = best.into_iter().chain(
            (0..ng)
                .map(|i| (near_g + i) % ng)
                .filter(move |&g| Some(g) != best),
        );
        for g in order {
            if a.groups[g as usize].free_inodes == 0 {
                continue;
            }
            self.ensure_inode_bitmap(a, g)?;
            // Like Linux: a group whose inodes are in use has a real block bitmap.
            self.ensure_block_bitmap(a, g)?;
            let ib = a.groups[g as usize].inode_bitmap;
            let base = g * self.ipg;
            let first_ino = self.first_ino;
            let ipg = self.ipg as usize;
            let found = self.meta_write(ib, |b| {
                let mut from = 0;
                while let Some(i) = find_zero(b, from, ipg) {
                    set_bit(b, i, true);
                    if base + i as u32 + 1 >= first_ino {
                        return Some(i);
                    }
                    from = i + 1;
                }
                None
            })?;
            let grp = &mut a.groups[g as usize];
            if let Some(i) = found {
                grp.free_inodes = grp.free_inodes.saturating_sub(1);
                if dir {
                    grp.used_dirs += 1;
                }
                let unused_from = self.ipg - grp.itable_unused;
                if i as u32 >= unused_from {
                    grp.itable_unused = self.ipg - i as u32 - 1;
                }
                a.free_inodes = a.free_inodes.saturating_sub(1);
                a.dirty_groups.insert(g);
                return Ok(base + i as u32 + 1);
            }
            a.free_inodes = a.free_inodes.saturating_sub(grp.free_inodes as u64);
            grp.free_inodes = 0;
            a.dirty_groups.insert(g);
        }
        Err(Errno::ENOSPC)
    }

    pub(crate) fn free_inode(&self, ino: u32, dir: bool) -> KResult<()> {
        if ino < self.first_ino || ino > self.inodes_count {
            return Err(Errno::EIO);
        }
        let mut a = self.alloc.lock();
        let g = (ino - 1) / self.ipg;
        let i = ((ino - 1) % self.ipg) as usize;
        self.ensure_inode_bitmap(&mut a, g)?;
        let ib = a.groups[g as usize].inode_bitmap;
        let was = self.meta_write(ib, |b| {
            let was = bit(b, i);
            set_bit(b, i, false);
            was
        })?;
        if was {
            let ipg = self.ipg;
            let grp = &mut a.groups[g as usize];
            grp.free_inodes = (grp.free_inodes + 1).min(ipg);
            if dir {
                grp.used_dirs = grp.used_dirs.saturating_sub(1);
            }
            a.free_inodes += 1;
            a.dirty_groups.insert(g);
        }
        Ok(())
    }

    /// Where inode `ino` lives: (block, byte offset in it).
    pub(crate) fn inode_loc(&self, ino: u32) -> KResult<(u64, usize)> {
        self.inode_loc_in(&self.alloc.lock().groups, ino)
    }

    /// Where inode `ino` lives (block, byte offset in it), for callers that already hold the
    /// allocation lock and pass its group table.
    pub(crate) fn inode_loc_in(&self, groups: &[crate::Group], ino: u32) -> KResult<(u64, usize)> {
        if ino == 0 || ino > self.inodes_count {
            return Err(Errno::EIO);
        }
        let g = (ino - 1) / self.ipg;
        let i = ((ino - 1) % self.ipg) as u64;
        let it = groups.get(g as usize).ok_or(Errno::EIO)?.inode_table;
        let off = i * self.isz as u64;
        Ok((it + off / self.bs, (off % self.bs) as usize))
    }

    pub(crate) fn next_generation(&self) -> u32 {
        let mut a = self.alloc.lock();
        a.next_gen = a.next_gen.wrapping_mul(1_103_515_245).wrapping_add(12345);
        a.next_gen
    }
}
