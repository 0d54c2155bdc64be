//! Changes to directories: new entries (a long-name run with its alias, or the alias
//! alone), removal (the run marked deleted, the clusters freed when nobody uses the file),
//! and rename, in the order and with the errnos of Linux's vfat (fs/fat/namei_vfat.c).

use crate::dirwrite::set_start;
use crate::name::{alias, lfn_slots, long_name};
use crate::node::Fields;
use crate::vfs::{at_of, At, Node};
use crate::{DirEntry, DirLoc, ATTR_ARCHIVE, ATTR_DIRECTORY};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{RENAME_EXCHANGE, RENAME_NOREPLACE};

/// How deep a folder may lie when rename looks for a loop (a damaged volume's ".." chain
/// must not spin forever).
const MAX_DEPTH: usize = 4096;

impl<D: crate::Device + Send + Sync + 'static> Node<D> {
    /// The entries a name needs: its long-name run when it has to keep its case or does not
    /// fit 8.3, then `short` with the alias filled in.
    fn slots_for(
        &self,
        units: &[u16],
        taken: &[DirEntry],
        mut short: [u8; 32],
    ) -> KResult<Vec<[u8; 32]>> {
        let (name, lfn) = alias(units, &|n| taken.iter().any(|e| &e.short == n))?;
        short[..11].copy_from_slice(&name);
        short[12] = 0;
        let mut slots = if lfn {
            lfn_slots(units, &name)
        } else {
            Vec::new()
        };
        slots.push(short);
        Ok(slots)
    }

    fn unused(&self) -> KResult<()> {
        if self.st.lock().unlinked {
            return Err(Errno::ENOENT);
        }
        Ok(())
    }

    /// creat, open(O_CREAT), mkdir: a new file or directory (a directory with its first
    /// cluster, "." and ".."). The mode is the mount's (vfat stores none).
    pub(crate) fn add(&self, name: &[u8], dir: bool) -> KResult<Arc<Node<D>>> {
        self.unused()?;
        let units = long_name(name)?;
        let text = core::str::from_utf8(name).map_err(|_| Errno::EINVAL)?;
        let loc = self.loc();
        let all = self.fs.vol.read_dir(loc)?;
        if all.iter().any(|e| !e.is_dot() && e.matches(text)) {
            return Err(Errno::EEXIST);
        }
        let (date, time, cs) = self.fs.now();
        let mut e = [0u8; 32];
        e[11] = if dir { ATTR_DIRECTORY } else { ATTR_ARCHIVE };
        e[13] = cs;
        e[14..16].copy_from_slice(&time.to_le_bytes());
        e[16..18].copy_from_slice(&date.to_le_bytes());
        e[18..20].copy_from_slice(&date.to_le_bytes());
        e[22..24].copy_from_slice(&time.to_le_bytes());
        e[24..26].copy_from_slice(&date.to_le_bytes());
        let mut slots = self.slots_for(&units, &all, e)?;
        let mut cluster = 0;
        if dir {
            let short = slots.last().copied().unwrap_or(e);
            cluster = self.fs.vol.new_dir_cluster(self.dotdot_cluster(), &short)?;
            if let Some(s) = slots.last_mut() {
                set_start(s, cluster);
            }
        }
        let start = match self.fs.vol.free_run(loc, slots.len()) {
            Ok(s) => s,
            Err(err) => {
                if cluster != 0 {
                    self.fs.vol.free_chain(cluster)?;
                }
                return Err(err);
            }
        };
        self.fs.vol.write_slots(loc, start, &slots)?;
        self.touch()?;
        let at = At {
            dir: loc,
            first: start,
            slot: start + slots.len() - 1,
        };
        let f = Fields {
            attr: e[11],
            cluster,
            size: 0,
            date,
            time,
            adate: date,
        };
        Ok(self.fs.node_at(at, f))
    }

    /// The file at (loc, e) leaves the tree: an inode in use keeps its clusters until it
    /// goes; otherwise they are freed now.
    fn detach(&self, loc: DirLoc, e: &DirEntry) -> KResult<()> {
        let live = self.fs.live(loc, e.slot);
        self.fs.nodes.lock().remove(&(loc, e.slot));
        match live {
            Some(n) => {
                n.st.lock().unlinked = true;
                drop(n);
                self.fs.reap()
            }
            None => self.fs.vol.free_chain(e.first_cluster),
        }
    }

    fn is_empty_dir(&self, e: &DirEntry) -> KResult<bool> {
        let sub = self.fs.vol.dir_of(e)?;
        Ok(self.fs.vol.read_dir(sub)?.iter().all(|x| x.is_dot()))
    }

    /// unlink (a directory is EISDIR) and rmdir (a file is ENOTDIR, a directory with
    /// entries ENOTEMPTY).
    pub(crate) fn remove(&self, name: &[u8], dir: bool) -> KResult<()> {
        let (loc, e) = self.find(name)?;
        match (dir, e.is_dir()) {
            (false, true) => return Err(Errno::EISDIR),
            (true, false) => return Err(Errno::ENOTDIR),
            (true, true) if !self.is_empty_dir(&e)? => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        self.fs.vol.delete_slots(loc, e.first_slot, e.slot)?;
        self.detach(loc, &e)?;
        self.touch()
    }

    /// Whether the directory `dir` lies inside (or is) the directory starting at `cluster`,
    /// following ".." up to the root.
    fn inside(&self, mut dir: DirLoc, cluster: u32) -> KResult<bool> {
        let root = self.fs.vol.root();
        for _ in 0..MAX_DEPTH {
            if dir == DirLoc::Chain(cluster) {
                return Ok(true);
            }
            if dir == root {
                return Ok(false);
            }
            let up = self.fs.vol.lookup(dir, "..")?;
            dir = self.fs.vol.dir_of(&up)?;
        }
        Err(Errno::EIO)
    }

    /// Rewrites the ".." entry of the directory starting at `cluster` to name `parent`.
    fn set_dotdot(&self, cluster: u32, parent: &Node<D>) -> KResult<()> {
        let sub = DirLoc::Chain(cluster);
        let mut dd = self.fs.vol.read_slot(sub, 1)?;
        if &dd[..2] == b".." {
            set_start(&mut dd, parent.dotdot_cluster());
            self.fs.vol.write_slots(sub, 1, &[dd])?;
        }
        Ok(())
    }

    /// The inodes in use at `a` and `b` trade places (their entries traded data).
    fn swap_live(&self, a: (DirLoc, &DirEntry), b: (DirLoc, &DirEntry)) {
        let (ka, kb) = ((a.0, a.1.slot), (b.0, b.1.slot));
        let (la, lb) = (self.fs.live(ka.0, ka.1), self.fs.live(kb.0, kb.1));
        {
            let mut nodes = self.fs.nodes.lock();
            let (ea, eb) = (nodes.remove(&ka), nodes.remove(&kb));
            if let Some(e) = ea {
                nodes.insert(kb, e);
            }
            if let Some(e) = eb {
                nodes.insert(ka, e);
            }
        }
        if let Some(n) = la {
            n.st.lock().at = Some(at_of(b.0, b.1));
        }
        if let Some(n) = lb {
            n.st.lock().at = Some(at_of(a.0, a.1));
        }
    }

    /// renameat2's RENAME_EXCHANGE, as vfat_rename_exchange (Linux 6.0) does it: both
    /// names must exist (ENOENT); each entry keeps its name and takes the other's data;
    /// directories changing parent get their ".." rewritten; neither may move into itself
    /// (EINVAL).
    fn exchange(&self, old: &[u8], nd: &Node<D>, new: &[u8]) -> KResult<()> {
        let (oloc, a) = self.find(old)?;
        let (nloc, b) = nd.find(new)?;
        if oloc == nloc && a.slot == b.slot {
            return Ok(());
        }
        if oloc != nloc
            && ((a.is_dir() && self.inside(nloc, a.first_cluster)?)
                || (b.is_dir() && self.inside(oloc, b.first_cluster)?))
        {
            return Err(Errno::EINVAL);
        }
        let vol = &self.fs.vol;
        let (ra, rb) = (vol.read_slot(oloc, a.slot)?, vol.read_slot(nloc, b.slot)?);
        let (mut na, mut nb) = (ra, rb);
        na[11] = rb[11];
        na[13..32].copy_from_slice(&rb[13..32]);
        nb[11] = ra[11];
        nb[13..32].copy_from_slice(&ra[13..32]);
        vol.write_slots(oloc, a.slot, &[na])?;
        vol.write_slots(nloc, b.slot, &[nb])?;
        if oloc != nloc {
            if a.is_dir() {
                self.set_dotdot(a.first_cluster, nd)?;
            }
            if b.is_dir() {
                self.set_dotdot(b.first_cluster, self)?;
            }
        }
        self.swap_live((oloc, &a), (nloc, &b));
        self.touch()?;
        if oloc != nloc {
            nd.touch()?;
        }
        Ok(())
    }

    /// rename(2) and renameat2 with RENAME_NOREPLACE or RENAME_EXCHANGE. An existing target
    /// keeps its entry (and so its name's case), which takes the source's data, as
    /// vfat_rename does; a moved directory's ".." follows it. The source's entry goes after
    /// the new one is written, so a new alias avoids the old one, as on Linux.
    pub(crate) fn move_entry(
        &self,
        old: &[u8],
        nd: &Node<D>,
        new: &[u8],
        flags: u32,
    ) -> KResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
            || flags == RENAME_NOREPLACE | RENAME_EXCHANGE
        {
            return Err(Errno::EINVAL);
        }
        self.unused()?;
        nd.unused()?;
        if flags & RENAME_EXCHANGE != 0 {
            return self.exchange(old, nd, new);
        }
        let (oloc, src) = self.find(old)?;
        let units = long_name(new)?;
        let text = core::str::from_utf8(new).map_err(|_| Errno::EINVAL)?;
        let nloc = nd.loc();
        let taken = self.fs.vol.read_dir(nloc)?;
        let dst = taken
            .iter()
            .find(|e| !e.is_dot() && e.matches(text))
            .cloned();
        // Names compare without case, so a new name differing only in case finds the same
        // file: Linux's vfs_rename returns 0 for source and target being one inode, and the
        // name keeps its case (FAT's well-known rename-through-a-temporary-name).
        if dst
            .as_ref()
            .is_some_and(|d| oloc == nloc && d.slot == src.slot)
        {
            return Ok(());
        }
        if let Some(d) = &dst {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            match (src.is_dir(), d.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !self.is_empty_dir(d)? => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        let moved_dir = src.is_dir() && oloc != nloc;
        if moved_dir && self.inside(nloc, src.first_cluster)? {
            return Err(Errno::EINVAL);
        }
        let raw = self.fs.vol.read_slot(oloc, src.slot)?;
        let live = self.fs.live(oloc, src.slot);
        let to = match dst {
            Some(d) => {
                self.detach(nloc, &d)?;
                let mut t = self.fs.vol.read_slot(nloc, d.slot)?;
                t[11] = raw[11];
                t[13..32].copy_from_slice(&raw[13..32]);
                self.fs.vol.write_slots(nloc, d.slot, &[t])?;
                self.fs.vol.delete_slots(oloc, src.first_slot, src.slot)?;
                at_of(nloc, &d)
            }
            None => {
                let slots = self.slots_for(&units, &taken, raw)?;
                let start = self.fs.vol.free_run(nloc, slots.len())?;
                self.fs.vol.write_slots(nloc, start, &slots)?;
                self.fs.vol.delete_slots(oloc, src.first_slot, src.slot)?;
                At {
                    dir: nloc,
                    first: start,
                    slot: start + slots.len() - 1,
                }
            }
        };
        if moved_dir {
            self.set_dotdot(src.first_cluster, nd)?;
        }
        {
            let mut nodes = self.fs.nodes.lock();
            if let Some((ino, w)) = nodes.remove(&(oloc, src.slot)) {
                nodes.insert((to.dir, to.slot), (ino, w));
            }
        }
        if let Some(n) = live {
            n.st.lock().at = Some(to);
        }
        self.touch()?;
        if oloc != nloc {
            nd.touch()?;
        }
        Ok(())
    }
}
