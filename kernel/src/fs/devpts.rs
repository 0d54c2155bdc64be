//! devpts instances as Linux keeps them (fs/devpts/inode.c, Linux 4.7 on): every
//! `mount -t devpts` is a new instance with its own pty numbering, its own options (uid=,
//! gid=, mode= for the slave nodes it makes, ptmxmode= for its `ptmx` node, max= for the
//! most ptys it holds) and a `ptmx` node that opens ptys in it. /dev/ptmx opens a pty in the
//! instance mounted at /dev/pts, or, when none is, in the boot instance: the /dev/pts folder
//! of the /dev tmpfs (mode 620, group tty, as systemd mounts it).
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
    /// Its folder's file system id (the boot instance's is the /dev tmpfs's, not its own).
    fs_id: u64,
    root: Arc<dyn Inode>,
    opts: Mutex<DevptsOptions>,
    /// The instance's pty numbers in use (a master holds its number until it closes).
    used: Mutex<BTreeMap<u32, ()>>,
}

/// The mounted instances by file system id.
static INSTANCES: Mutex<BTreeMap<u64, Weak<Instance>>> = Mutex::new(BTreeMap::new());
/// The /dev/pts folder the kernel makes at boot.
static BOOT: spin::Once<Arc<Instance>> = spin::Once::new();

/// Sets up the boot instance in `folder` (/dev/pts of the /dev tmpfs).
pub fn init_boot(folder: Arc<dyn Inode>) {
    let opts = DevptsOptions {
        gid: Some(5),
        mode: 0o620,
        ptmxmode: 0o666,
        ..Default::default()
    };
    BOOT.call_once(|| {
        Arc::new(Instance {
            fs_id: 0,
            root: folder,
            opts: Mutex::new(opts),
            used: Mutex::new(BTreeMap::new()),
        })
    });
}

/// A new instance for `mount -t devpts` with `data` as options (EINVAL for bad ones), its
/// folder `root` (a new tmpfs, whose id becomes the instance's) given its `ptmx` node.
pub fn new_instance(data: &[u8], root: Arc<dyn Inode>) -> KResult<Arc<Instance>> {
    let opts = lintel_vfs::parse_devpts_options(data)?;
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
        root,
        opts: Mutex::new(opts),
        used: Mutex::new(BTreeMap::new()),
    });
    let mut all = INSTANCES.lock();
    all.retain(|_, w| w.strong_count() > 0);
    all.insert(inst.fs_id, Arc::downgrade(&inst));
    Ok(inst)
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
/// finds it; else the boot instance.
pub fn ptmx_instance(d: &Arc<Dentry>) -> KResult<Arc<Instance>> {
    let own = INSTANCES
        .lock()
        .get(&d.inode.fs_id())
        .and_then(Weak::upgrade);
    if let Some(i) = own {
        return Ok(i);
    }
    let beside = d.parent().and_then(|dir| {
        let cred = crate::proc::Cred::default().vfs();
        let root = super::root();
        let ctx = WalkCtx {
            root: &root,
            start: &dir,
            mounts: super::mounts(),
            cred: &cred,
        };
        lintel_vfs::resolve(&ctx, b"pts", true).ok()
    });
    instance_of(beside.map_or(0, |p| p.inode.fs_id()))
}

impl Instance {
    /// What tells the instance's ptys apart from another's (its file system id; 0 for the
    /// boot instance, which no tmpfs has).
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
