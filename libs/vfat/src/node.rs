//! What an inode in use keeps of its short entry, and the changes that stay inside one
//! file: writes, size changes (clusters taken from and given back to the FAT), mode and
//! times, each written back to the entry at once.

use crate::dirwrite::set_start;
use crate::vfs::{At, Node};
use crate::{DirEntry, DirLoc, ATTR_ARCHIVE, ATTR_READ_ONLY};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// The largest FAT file (its size field is 32 bits: Linux's s_maxbytes).
const MAX_SIZE: u64 = 0xffff_ffff;

/// A short entry's fields an inode changes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub attr: u8,
    pub cluster: u32,
    pub size: u32,
    pub date: u16,
    pub time: u16,
    pub adate: u16,
}

impl Fields {
    pub fn of(e: &DirEntry) -> Fields {
        Fields {
            attr: e.attr,
            cluster: e.first_cluster,
            size: if e.is_dir() { 0 } else { e.size },
            date: e.mtime.0,
            time: e.mtime.1,
            adate: e.adate,
        }
    }

    pub fn root(cluster: u32) -> Fields {
        Fields {
            attr: crate::ATTR_DIRECTORY,
            cluster,
            size: 0,
            date: 0,
            time: 0,
            adate: 0,
        }
    }

    /// Writes these fields into the 32 bytes of a short entry.
    pub fn store(&self, e: &mut [u8; 32]) {
        e[11] = self.attr;
        e[18..20].copy_from_slice(&self.adate.to_le_bytes());
        e[22..24].copy_from_slice(&self.time.to_le_bytes());
        e[24..26].copy_from_slice(&self.date.to_le_bytes());
        set_start(e, self.cluster);
        e[28..32].copy_from_slice(&self.size.to_le_bytes());
    }
}

pub(crate) struct State {
    /// Where the entry lies (None: the root, which has none).
    pub at: Option<At>,
    pub f: Fields,
    /// The file's clusters, read once.
    pub chain: Option<Vec<u32>>,
    /// Removed from its directory while in use: its clusters go when the inode does.
    pub unlinked: bool,
}

impl State {
    pub fn new(at: Option<At>, f: Fields) -> State {
        State {
            at,
            f,
            chain: None,
            unlinked: false,
        }
    }
}

impl<D: crate::Device + Send + Sync + 'static> Node<D> {
    /// The directory this inode is.
    pub(crate) fn loc(&self) -> DirLoc {
        let c = self.st.lock().f.cluster;
        if self.st.lock().at.is_none() || c == 0 {
            self.fs.vol.root()
        } else {
            DirLoc::Chain(c)
        }
    }

    /// The cluster a child directory's ".." names (0 for the root, as Linux writes it).
    pub(crate) fn dotdot_cluster(&self) -> u32 {
        let st = self.st.lock();
        if st.at.is_none() {
            0
        } else {
            st.f.cluster
        }
    }

    /// The directory's entries without "." and "..".
    pub(crate) fn entries(&self) -> KResult<Vec<DirEntry>> {
        Ok(self
            .fs
            .vol
            .read_dir(self.loc())?
            .into_iter()
            .filter(|e| !e.is_dot())
            .collect())
    }

    /// The entry `name` names in this directory.
    pub(crate) fn find(&self, name: &[u8]) -> KResult<(DirLoc, DirEntry)> {
        let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        if self.st.lock().unlinked {
            return Err(Errno::ENOENT);
        }
        let loc = self.loc();
        let e = self
            .entries()?
            .into_iter()
            .find(|e| e.matches(name))
            .ok_or(Errno::ENOENT)?;
        Ok((loc, e))
    }

    pub(crate) fn chain_of<'a>(&self, st: &'a mut State) -> KResult<&'a mut Vec<u32>> {
        if st.chain.is_none() {
            st.chain = Some(self.fs.vol.chain(st.f.cluster)?);
        }
        st.chain.as_mut().ok_or(Errno::EIO)
    }

    /// Writes the fields back to the short entry (nothing for the root or a removed file).
    pub(crate) fn write_entry(&self, st: &State) -> KResult<()> {
        let Some(at) = st.at.filter(|_| !st.unlinked) else {
            return Ok(());
        };
        let mut e = self.fs.vol.read_slot(at.dir, at.slot)?;
        st.f.store(&mut e);
        self.fs.vol.write_slots(at.dir, at.slot, &[e])
    }

    /// The directory's entries changed: its modification time moves (vfat_add_entry,
    /// vfat_remove_entries).
    pub(crate) fn touch(&self) -> KResult<()> {
        let (d, t, _) = self.fs.now();
        let mut st = self.st.lock();
        st.f.date = d;
        st.f.time = t;
        self.write_entry(&st)
    }

    /// Takes clusters until the chain has `need`; on failure the chain keeps what it got.
    fn grow(&self, st: &mut State, need: usize) -> KResult<()> {
        let vol = &self.fs.vol;
        self.chain_of(st)?;
        loop {
            let chain = st.chain.as_mut().ok_or(Errno::EIO)?;
            if chain.len() >= need {
                return Ok(());
            }
            let c = vol.alloc_cluster(chain.last().copied())?;
            if chain.is_empty() {
                st.f.cluster = c;
            }
            chain.push(c);
        }
    }

    /// Gives back the clusters past the size (fsck wants a chain exactly as long as it).
    fn trim(&self, st: &mut State) -> KResult<()> {
        let cs = self.fs.vol.geometry().cluster_size();
        let keep = (st.f.size as u64).div_ceil(cs) as usize;
        let chain = self.chain_of(st)?;
        if chain.len() <= keep {
            return Ok(());
        }
        let gone: Vec<u32> = chain.split_off(keep);
        match chain.last() {
            Some(&last) => self
                .fs
                .vol
                .set_fat(last, self.fs.vol.geometry().fat_type.eoc())?,
            None => st.f.cluster = 0,
        }
        self.fs.vol.free_clusters_of(&gone)
    }

    /// A read moves the access date as Linux's default `relatime` does: when it is not
    /// after the modification time, or a day old. Nothing on a read-only mount.
    pub(crate) fn accessed(&self, st: &mut State) -> KResult<()> {
        if self.fs.read_only() || st.at.is_none() || st.unlinked {
            return Ok(());
        }
        let now = (self.fs.clock)();
        let atime = crate::dos_time(st.f.adate, 0);
        if atime <= crate::dos_time(st.f.date, st.f.time) || now.sec - atime >= 86400 {
            let d = crate::to_dos(now.sec, now.nsec).0;
            if d != st.f.adate {
                st.f.adate = d;
                self.write_entry(st)?;
            }
        }
        Ok(())
    }

    fn modified(&self, st: &mut State) {
        let (d, t, _) = self.fs.now();
        st.f.date = d;
        st.f.time = t;
        st.f.attr |= ATTR_ARCHIVE;
    }

    /// write(2): clusters taken as the file grows, a gap before `offset` zeroed. A full
    /// volume gives a short write, or ENOSPC when nothing fits.
    pub(crate) fn write(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        let end = offset + (buf.len() as u64).min(MAX_SIZE - offset);
        let cs = self.fs.vol.geometry().cluster_size();
        let mut st = self.st.lock();
        let grown = self.grow(&mut st, end.div_ceil(cs) as usize);
        let have = self.chain_of(&mut st)?.len() as u64 * cs;
        let size = st.f.size as u64;
        if have <= offset {
            self.trim(&mut st)?;
            return Err(grown.err().unwrap_or(Errno::ENOSPC));
        }
        let wend = end.min(have);
        let chain = st.chain.as_ref().ok_or(Errno::EIO)?;
        if offset > size {
            self.fs.vol.zero_chain(chain, size, offset)?;
        }
        let n = (wend - offset) as usize;
        self.fs.vol.write_chain(chain, offset, &buf[..n])?;
        st.f.size = size.max(wend) as u32;
        self.modified(&mut st);
        self.write_entry(&st)?;
        Ok(n)
    }

    /// truncate(2) and ftruncate(2): clusters given back, or taken and zeroed.
    pub(crate) fn resize(&self, new: u64) -> KResult<()> {
        if new > MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        let cs = self.fs.vol.geometry().cluster_size();
        let mut st = self.st.lock();
        let size = st.f.size as u64;
        if new < size {
            st.f.size = new as u32;
            self.trim(&mut st)?;
        } else if new > size {
            if let Err(e) = self.grow(&mut st, new.div_ceil(cs) as usize) {
                self.trim(&mut st)?;
                self.write_entry(&st)?;
                return Err(e);
            }
            let chain = st.chain.as_ref().ok_or(Errno::EIO)?;
            self.fs.vol.zero_chain(chain, size, new)?;
            st.f.size = new as u32;
        }
        self.modified(&mut st);
        self.write_entry(&st)
    }

    /// chmod as Linux's fat_setattr takes it: set-id and sticky bits are EPERM (unless
    /// `quiet`); of the rest only a file's write bits can change, all of them (subject to
    /// fmask) or none, which is the read-only attribute. Anything else is ignored, with
    /// success (fat_sanitize_mode_change).
    pub(crate) fn chmod(&self, mode: u32) -> KResult<()> {
        let o = self.fs.opts;
        if mode & !0o777 != 0 {
            return if o.quiet { Ok(()) } else { Err(Errno::EPERM) };
        }
        let mask = if self.dir { o.dmask } else { o.fmask };
        let perm = mode & 0o777 & !mask;
        let mut st = self.st.lock();
        let mut cur = 0o777 & !mask;
        if !self.dir && st.f.attr & ATTR_READ_ONLY != 0 {
            cur &= !0o222;
        }
        if perm & 0o555 != cur & 0o555 || self.dir {
            return Ok(());
        }
        let w = perm & 0o222;
        if w != 0 && w != 0o222 & !mask {
            return Ok(());
        }
        if w == 0 {
            st.f.attr |= ATTR_READ_ONLY;
        } else {
            st.f.attr &= !ATTR_READ_ONLY;
        }
        self.write_entry(&st)
    }
}
