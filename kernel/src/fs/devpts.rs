//! devpts instances as Linux keeps them (fs/devpts/inode.c, Linux 4.7 on): every
//! `mount -t devpts` is a new instance with its own pty numbering, its own options (uid=,
//! gid=, mode= for the slave nodes it makes, ptmxmode= for its `ptmx` node, max= for the
//! most ptys it holds) and a `ptmx` node that opens ptys in it. /dev/ptmx opens a pty in the
//! instance mounted at /dev/pts, or, when none is (it was unmounted), in the boot instance:
//! the one the kernel mounts at /dev/pts at boot with the options systemd and Debian's
//! initramfs give it (`gid=5,mode=620,ptmxmode=000`), so that statfs and /proc/mounts show a
//! devpts there as on Linux.
//!
//! An instance's folder is a small tmpfs of its own, so its nodes' file system id names the
//! instance when one of them is opened. The instance lives while a mount shows it or a pty
//! of it is open.

use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use lintel_abi::stat::makedev;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, DevptsOptions, FileType, Inode, WalkCtx};

/// DEVPTS_SUPER_MAGIC, statfs's f_type on a devpts mount.
pub const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;

/// One devpts instance.
pub struct Instance {
    /// Its folder's file system id.
    fs_id: u64,
    root: Arc<dyn Inode>,
    opts: Mutex<DevptsOptions>,
    /// The instance's pty numbers in use (a master holds its number until it closes).
    used: Mutex<BTreeMap<u32, ()>>,
}

/// The mounted instances by file system id.
static INSTANCES: Mutex<BTreeMap<u64, Weak<Instance>>> = Mutex::new(BTreeMap::new());
/// The instance the kernel mounts at /dev/pts at boot.
static BOOT: spin::Once<Arc<Instance>> = spin::Once::new();

/// The options of the boot instance, as systemd and Debian's initramfs mount /dev/pts.
pub const BOOT_OPTIONS: &[u8] = b"gid=5,mode=620,ptmxmode=000";

/// Makes `inst` the boot instance (mounted at /dev/pts).
pub fn set_boot(inst: Arc<Instance>) {
    BOOT.call_once(|| inst);
}

/// A new instance for `mount -t devpts` with `data` as options (EINVAL for bad ones), and its
/// folder: a small tmpfs of its own (so its id names the instance) given its `ptmx` node.
pub fn new_instance(data: &[u8]) -> KResult<(Arc<dyn Inode>, Arc<Instance>)> {
    let opts = lintel_vfs::parse_devpts_options(data)?;
    let o = lintel_vfs::TmpfsOptions {
        blocks: Some(0),
        ..Default::default()
    };
    let root = crate::mm::shmem::new_tmpfs(Arc::new(super::clock), super::next_fs_id(), &o);
    root.set_mode(0o755)?;
    root.create(
        b"ptmx",
        FileType::CharDevice,
        opts.ptmxmode,
        0,
        0,
        makedev(5, 2),
    )?;
    let inst = Arc::new(Instance {
        fs_id: root.fs_id(),
        root: root.clone(),
        opts: Mutex::new(opts),
        used: Mutex::new(BTreeMap::new()),
    });
    let mut all = INSTANCES.lock();
    all.retain(|_, w| w.strong_count() > 0);
    all.insert(inst.fs_id, Arc::downgrade(&inst));
    Ok((root, inst))
}

/// Whether `fs_id` is a devpts instance's (statfs gives DEVPTS_SUPER_MAGIC).
pub fn is_instance(fs_id: u64) -> bool {
    INSTANCES
        .lock()
        .get(&fs_id)
        .is_some_and(|w| w.strong_count() > 0)
}

/// The instance a pty slave node with file system id `fs_id` belongs to: its own, or, for
/// a node outside any instance, the boot one.
pub fn instance_of(fs_id: u64) -> KResult<Arc<Instance>> {
    let own = INSTANCES.lock().get(&fs_id).and_then(Weak::upgrade);
    own.or_else(|| BOOT.get().cloned()).ok_or(Errno::ENODEV)
}

/// The instance a ptmx node `d` opens a pty in: its own instance's, or, for a ptmx outside
/// any (/dev/ptmx), the one mounted on the `pts` beside it, as Linux's devpts_acquire
/// finds it (path_pts, symlinks not followed): ENOENT when there is no `pts` there, ENODEV
/// when what is there is not a devpts instance.
pub fn ptmx_instance(d: &Arc<Dentry>) -> KResult<Arc<Instance>> {
    let own = INSTANCES
        .lock()
        .get(&d.inode.fs_id())
        .and_then(Weak::upgrade);
    if let Some(i) = own {
        return Ok(i);
    }
    let dir = d.parent().ok_or(Errno::ENOENT)?;
    let cred = crate::proc::Cred::default().vfs();
    let root = super::root();
    let ctx = WalkCtx {
        root: &root,
        start: &dir,
        mounts: super::mounts(),
        cred: &cred,
    };
    let pts = lintel_vfs::resolve(&ctx, b"pts", false).map_err(|_| Errno::ENOENT)?;
    let inst = INSTANCES
        .lock()
        .get(&pts.inode.fs_id())
        .and_then(Weak::upgrade);
    inst.ok_or(Errno::ENODEV)
}

impl Instance {
    /// What tells the instance's ptys apart from another's (its file system id).
    pub fn key(&self) -> u64 {
        self.fs_id
    }

    /// A mount's or remount's options (each from the defaults, as Linux's); the `ptmx`
    /// node takes the new ptmxmode.
    pub fn configure(&self, data: &[u8]) -> KResult<()> {
        let o = lintel_vfs::parse_devpts_options(data)?;
        *self.opts.lock() = o;
        if let Ok(p) = self.root.lookup(b"ptmx") {
            let _ = p.set_mode(o.ptmxmode);
        }
        Ok(())
    }

    /// The options /proc/mounts shows.
    pub fn options_text(&self) -> String {
        self.opts.lock().show()
    }

    /// A free pty number below the instance's max (ENOSPC when none is), taken.
    pub fn take_index(&self) -> KResult<u32> {
        let max = self.opts.lock().max.min(4096);
        let mut used = self.used.lock();
        let n = (0..max)
            .find(|i| !used.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        used.insert(n, ());
        Ok(n)
    }

    /// The slave node N for a pty opened by a thread with `fsuid`/`fsgid`: owner and group
    /// from uid=/gid= or the opener, mode from mode= (devpts_pty_new).
    pub fn add_node(&self, n: u32, fsuid: u32, fsgid: u32) {
        let o = *self.opts.lock();
        let name = alloc::format!("{n}");
        let _ = self.root.unlink(name.as_bytes());
        let _ = self.root.create(
            name.as_bytes(),
            FileType::CharDevice,
            o.mode,
            o.uid.unwrap_or(fsuid),
            o.gid.unwrap_or(fsgid),
            makedev(136, n as u64),
        );
    }

    /// The pty N closed: its node goes and its number is free again.
    pub fn release(&self, n: u32) {
        let _ = self.root.unlink(alloc::format!("{n}").as_bytes());
        self.used.lock().remove(&n);
    }
}
