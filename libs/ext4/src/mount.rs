//! Mounting: reading and checking the superblock and the group descriptors, choosing
//! read-only or read-write, and recovering orphans.

use crate::journal::Journal;
use crate::*;

// Feature bits.
const COMPAT_HAS_JOURNAL: u32 = 0x4;
const COMPAT_SPARSE_SUPER2: u32 = 0x200;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const INCOMPAT_LARGEDIR: u32 = 0x4000;
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_FLEX_BG
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR;
const RO_SPARSE_SUPER: u32 = 0x1;
pub(crate) const RO_LARGE_FILE: u32 = 0x2;
const RO_HUGE_FILE: u32 = 0x8;
const RO_GDT_CSUM: u32 = 0x10;
const RO_DIR_NLINK: u32 = 0x20;
const RO_EXTRA_ISIZE: u32 = 0x40;
const RO_METADATA_CSUM: u32 = 0x400;
const RO_SUPPORTED: u32 = RO_SPARSE_SUPER
    | 0x2
    | 0x4
    | RO_HUGE_FILE
    | RO_GDT_CSUM
    | RO_DIR_NLINK
    | RO_EXTRA_ISIZE
    | RO_METADATA_CSUM;

/// Blocks of metadata kept in the cache before eviction.
const CACHE_BLOCKS: usize = 4096;

impl Ext4 {
    /// Mounts; EINVAL for a non-ext4 or unsupported (unknown INCOMPAT feature) image; a read-only
    /// mount when `read_only` or when the image has unknown RO_COMPAT features (writes then EROFS).
    /// A journal needing recovery is replayed first, even for a read-only mount, as Linux does
    /// unless the device itself is read-only (then EROFS).
    pub fn mount(
        dev: Arc<dyn BlockDevice>,
        fs_id: u64,
        clock: Clock,
        read_only: bool,
    ) -> KResult<Arc<Ext4>> {
        let mut sb = vec![0u8; 1024];
        if dev.size() < 2048 {
            return bad();
        }
        dev.read(1024, &mut sb)?;
        if le16(&sb, 0x38) != 0xEF53 {
            return bad();
        }
        let incompat = le32(&sb, 0x60);
        let ro_compat = le32(&sb, 0x64);
        let compat = le32(&sb, 0x5C);
        if incompat & !INCOMPAT_SUPPORTED != 0 {
            return bad();
        }
        let csum = ro_compat & RO_METADATA_CSUM != 0;
        if csum {
            if sb[0x175] != 1 {
                return bad();
            }
            if crc32c(!0, &sb[..0x3FC]) != le32(&sb, 0x3FC) {
                return Err(Errno::EUCLEAN);
            }
        }
        let j_ino = if compat & COMPAT_HAS_JOURNAL != 0 {
            le32(&sb, 0xE0)
        } else {
            0
        };
        // A journal on another device is not supported: never write under it.
        let external = compat & COMPAT_HAS_JOURNAL != 0 && j_ino == 0;
        // What the image itself forbids writing (a read-write remount cannot lift it).
        let forced_ro = ro_compat & !RO_SUPPORTED != 0
            || (incompat & INCOMPAT_RECOVER != 0 && j_ino == 0)
            || external
            || compat & COMPAT_SPARSE_SUPER2 != 0
            || incompat & INCOMPAT_EXTENTS == 0;
        let ro = read_only || forced_ro;
        // Recovery first looks at the image through a read-only instance, then mounts again.
        let replay = incompat & INCOMPAT_RECOVER != 0 && j_ino != 0;
        if replay && dev.read_only() {
            return Err(Errno::EROFS);
        }
        let log_bs = le32(&sb, 0x18);
        if log_bs > 6 || le32(&sb, 0x1C) != log_bs {
            return bad();
        }
        let bs = 1024u64 << log_bs;
        let is64 = incompat & INCOMPAT_64BIT != 0;
        let mut blocks_count = le32(&sb, 0x4) as u64;
        let mut r_blocks = le32(&sb, 0x8) as u64;
        if is64 {
            blocks_count |= (le32(&sb, 0x150) as u64) << 32;
            r_blocks |= (le32(&sb, 0x154) as u64) << 32;
        }
        let first_data_block = le32(&sb, 0x14) as u64;
        let bpg = le32(&sb, 0x20);
        let ipg = le32(&sb, 0x28);
        let inodes_count = le32(&sb, 0x0);
        let rev = le32(&sb, 0x4C);
        let (isz, first_ino) = if rev == 0 {
            (128usize, 11u32)
        } else {
            (le16(&sb, 0x58) as usize, le32(&sb, 0x54))
        };
        let desc_size = if is64 { le16(&sb, 0xFE) as usize } else { 32 };
        if first_data_block != (bs == 1024) as u64
            || bpg == 0
            || bpg as u64 > bs * 8
            || !bpg.is_multiple_of(8)
            || le32(&sb, 0x24) != bpg
            || ipg == 0
            || ipg as u64 > bs * 8
            || !ipg.is_multiple_of(8)
            || !(128..=bs as usize).contains(&isz)
            || !isz.is_power_of_two()
            || !(32..=1024).contains(&desc_size)
            || !desc_size.is_power_of_two()
            || blocks_count <= first_data_block
            || blocks_count.checked_mul(bs).is_none_or(|s| s > dev.size())
            || first_ino < 11
            || first_ino > inodes_count
        {
            return bad();
        }
        let groups64 = (blocks_count - first_data_block).div_ceil(bpg as u64);
        if groups64 * ipg as u64 != inodes_count as u64 {
            return bad();
        }
        let groups = groups64 as u32;
        let itable_blocks = (ipg as u64 * isz as u64).div_ceil(bs);
        let gdt_blocks = (groups64 * desc_size as u64).div_ceil(bs);
        let reserved_gdt = le16(&sb, 0xCE) as u64;
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&sb[0x68..0x78]);
        let csum_seed = if incompat & INCOMPAT_CSUM_SEED != 0 {
            le32(&sb, 0x270)
        } else {
            crc32c(!0, &uuid)
        };
        let gdt_csum = !csum && ro_compat & RO_GDT_CSUM != 0;
        let mut extra_isize = le16(&sb, 0x15E).max(le16(&sb, 0x15C));
        if isz <= 128 {
            extra_isize = 0;
        } else if extra_isize == 0
            || extra_isize as usize > isz - 128
            || !extra_isize.is_multiple_of(4)
        {
            extra_isize = (32).min(isz as u16 - 128);
        }

        // Group descriptors follow the superblock's block.
        let gdt_start = first_data_block + 1;
        let mut gdt = vec![0u8; (gdt_blocks * bs) as usize];
        dev.read(gdt_start * bs, &mut gdt)?;
        let mut gs = Vec::with_capacity(groups as usize);
        let mut free_blocks = 0u64;
        let mut free_inodes = 0u64;
        for g in 0..groups {
            let raw = gdt[g as usize * desc_size..(g as usize + 1) * desc_size].to_vec();
            let hi = |off: usize, bytes: usize| -> u64 {
                if desc_size >= 64 {
                    if bytes == 4 {
                        le32(&raw, off) as u64
                    } else {
                        le16(&raw, off) as u64
                    }
                } else {
                    0
                }
            };
            let grp = Group {
                block_bitmap: le32(&raw, 0) as u64 | hi(0x20, 4) << 32,
                inode_bitmap: le32(&raw, 4) as u64 | hi(0x24, 4) << 32,
                inode_table: le32(&raw, 8) as u64 | hi(0x28, 4) << 32,
                free_blocks: (le16(&raw, 0xC) as u64 | hi(0x2C, 2) << 16) as u32,
                free_inodes: (le16(&raw, 0xE) as u64 | hi(0x2E, 2) << 16) as u32,
                used_dirs: (le16(&raw, 0x10) as u64 | hi(0x30, 2) << 16) as u32,
                flags: le16(&raw, 0x12),
                itable_unused: (le16(&raw, 0x1C) as u64 | hi(0x32, 2) << 16) as u32,
                raw,
            };
            let in_fs =
                |b: u64, n: u64| b > first_data_block && b.saturating_add(n) <= blocks_count;
            if !in_fs(grp.block_bitmap, 1)
                || !in_fs(grp.inode_bitmap, 1)
                || !in_fs(grp.inode_table, itable_blocks)
                || grp.free_inodes > ipg
                || grp.free_blocks > bpg
                || grp.itable_unused > ipg
            {
                return Err(Errno::EUCLEAN);
            }
            free_blocks += grp.free_blocks as u64;
            free_inodes += grp.free_inodes as u64;
            gs.push(grp);
        }

        let overhead = {
            let mut o = first_data_block;
            for g in 0..groups {
                if has_super(ro_compat & RO_SPARSE_SUPER != 0, g) {
                    o += 1 + gdt_blocks + reserved_gdt;
                }
                o += 2 + itable_blocks;
            }
            o.min(blocks_count)
        };
        let sys = {
            let mut r: Vec<(u64, u64)> = Vec::new();
            r.push((0, first_data_block + 1 + gdt_blocks + reserved_gdt));
            for (g, grp) in gs.iter().enumerate() {
                let start = first_data_block + g as u64 * bpg as u64;
                if g > 0 && has_super(ro_compat & RO_SPARSE_SUPER != 0, g as u32) {
                    r.push((start, start + 1 + gdt_blocks + reserved_gdt));
                }
                r.push((grp.block_bitmap, grp.block_bitmap + 1));
                r.push((grp.inode_bitmap, grp.inode_bitmap + 1));
                r.push((grp.inode_table, grp.inode_table + itable_blocks));
            }
            r.sort_unstable();
            let mut m: Vec<(u64, u64)> = Vec::new();
            for (a, b) in r {
                match m.last_mut() {
                    Some(l) if a <= l.1 => l.1 = l.1.max(b),
                    _ => m.push((a, b)),
                }
            }
            m
        };
        let needs_orphans = le32(&sb, 0xE8) != 0;
        let fs = Arc::new_cyclic(|me| Ext4 {
            dev: dev.clone(),
            fs_id,
            clock: clock.clone(),
            ro: AtomicBool::new(ro || replay),
            forced_ro,
            j_ino,
            is64,
            bs,
            blocks_count,
            first_data_block,
            bpg,
            ipg,
            isz,
            groups,
            desc_size,
            inodes_count,
            first_ino,
            csum,
            gdt_csum,
            csum_seed,
            uuid,
            r_blocks,
            gdt_blocks,
            reserved_gdt,
            sparse_super: ro_compat & RO_SPARSE_SUPER != 0,
            huge_file: ro_compat & RO_HUGE_FILE != 0,
            filetype: incompat & INCOMPAT_FILETYPE != 0,
            extra_isize,
            itable_blocks,
            overhead: core::sync::atomic::AtomicU64::new(overhead),
            sys,
            sb: Mutex::new(sb),
            alloc: Mutex::new(Alloc {
                groups: gs,
                free_blocks,
                free_inodes,
                dirty_groups: BTreeSet::new(),
                orphans: Vec::new(),
                next_gen: 0,
                pending: BTreeMap::new(),
                pending_n: 0,
            }),
            cache: Mutex::new(cache::Cache::new(CACHE_BLOCKS)),
            icache: Mutex::new(BTreeMap::new()),
            recent: Mutex::new(Default::default()),
            holds_recent: Default::default(),
            ns: Mutex::new(()),
            txn: lintel_sync::RwLock::new(()),
            journal: Mutex::new(None),
            dsync: Mutex::new(BTreeSet::new()),
            journaling: AtomicBool::new(false),
            journal_checksum: AtomicBool::new(false),
            dirty_limit: AtomicUsize::new(CACHE_BLOCKS / 2),
            last_commit: AtomicI64::new(0),
            data: Mutex::new(BTreeMap::new()),
            data_error: AtomicBool::new(false),
            me: me.clone(),
        });
        // Verify the descriptors' checksums.
        {
            let a = fs.alloc.lock();
            for (g, grp) in a.groups.iter().enumerate() {
                if (fs.csum || fs.gdt_csum)
                    && fs.group_csum(g as u32, &grp.raw) != le16(&grp.raw, 0x1E)
                {
                    return Err(Errno::EUCLEAN);
                }
            }
        }
        if !fs.csum && !fs.gdt_csum {
            // Without descriptor checksums the uninit flags mean nothing.
            for g in fs.alloc.lock().groups.iter_mut() {
                g.flags &= !(BG_BLOCK_UNINIT | BG_INODE_UNINIT);
            }
        }
        {
            let seed = fs.now().sec as u32 ^ fs.csum_seed;
            fs.alloc.lock().next_gen = seed;
        }
        if replay {
            let mut j = Journal::load(&fs, j_ino)?;
            let scan = j.scan(&*dev)?;
            j.replay(&*dev, &scan, blocks_count)?;
            j.reset(&*dev, scan.end)?;
            drop(j);
            drop(fs);
            clear_recover(&*dev)?;
            return Ext4::mount(dev, fs_id, clock, read_only);
        }
        if !fs.is_read_only() {
            fs.start_writing()?;
        }
        if !fs.is_read_only() && needs_orphans {
            fs.process_orphans()?;
        }
        // The root must be a directory.
        let root = fs.iget(2)?;
        if root.file_type() != lintel_vfs::FileType::Directory {
            return Err(Errno::EUCLEAN);
        }
        drop(root);
        // Like Linux, statfs leaves out the journal (or what mke2fs recorded as overhead).
        let (recorded, journal) = {
            let sb = fs.sb.lock();
            let j = if compat & 0x4 != 0 {
                le32(&sb, 0xE0)
            } else {
                0
            };
            (le32(&sb, 0x248) as u64, j)
        };
        let extra = if recorded != 0 {
            Some(recorded)
        } else if journal != 0 {
            fs.iget(journal).ok().map(|j| {
                fs.blocks512(&j.st.lock().raw) / (bs / 512)
                    + fs.overhead.load(core::sync::atomic::Ordering::Relaxed)
            })
        } else {
            None
        };
        if let Some(o) = extra {
            fs.overhead
                .store(o.min(blocks_count), core::sync::atomic::Ordering::Relaxed);
        }
        Ok(fs)
    }
}

impl Ext4 {
    /// Starts the journal for a writable instance (at mount, or at a read-write remount
    /// while still read-only): stale log contents are wiped, the features set, and metadata
    /// changes from now on go through it.
    fn start_writing(&self) -> KResult<()> {
        if self.j_ino == 0 {
            return Ok(());
        }
        let dev = self.dev.clone();
        let mut j = Journal::load(self, self.j_ino)?;
        if j.jsb.start != 0 {
            // Log contents without RECOVER are stale: Linux's jbd2_journal_wipe skips them.
            let scan = j.scan(&*dev)?;
            j.reset(&*dev, scan.end)?;
        }
        let v1 = self.journal_checksum.load(Ordering::Relaxed);
        j.set_features(&*dev, self.is64, self.csum, v1)?;
        *self.journal.lock() = Some(j);
        self.cache.lock().journaled = true;
        self.journaling.store(true, Ordering::Relaxed);
        self.last_commit.store(self.now().sec, Ordering::Relaxed);
        self.set_dirty_limit(CACHE_BLOCKS);
        Ok(())
    }

    /// A read-write remount of an instance mounted read-only (Linux's ext4_reconfigure
    /// without SB_RDONLY): EROFS when the image forbids writing (unknown read-only-compatible
    /// features, an external journal...), EACCES on a read-only device; otherwise the
    /// journal starts, writes are allowed and orphans left by a crash are cleaned up.
    pub fn remount_rw(&self) -> KResult<()> {
        if !self.is_read_only() {
            return Ok(());
        }
        if self.forced_ro {
            return Err(Errno::EROFS);
        }
        if self.dev.read_only() {
            return Err(Errno::EACCES);
        }
        self.start_writing()?;
        self.ro.store(false, Ordering::Relaxed);
        let orphans = le32(&self.sb.lock(), 0xE8) != 0;
        if orphans {
            self.process_orphans()?;
        }
        Ok(())
    }
}

/// Clears RECOVER in the superblock on the device (after replay, which may have rewritten it).
fn clear_recover(dev: &dyn BlockDevice) -> KResult<()> {
    let mut sb = vec![0u8; 1024];
    dev.read(1024, &mut sb)?;
    let f = le32(&sb, 0x60);
    put32(&mut sb, 0x60, f & !INCOMPAT_RECOVER);
    if le32(&sb, 0x64) & RO_METADATA_CSUM != 0 {
        let c = crc32c(!0, &sb[..0x3FC]);
        put32(&mut sb, 0x3FC, c);
    }
    dev.write(1024, &sb)?;
    dev.flush()
}
