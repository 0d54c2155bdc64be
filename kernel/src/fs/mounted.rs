//! The mounted instances of one disk file system type, with the device number of their
//! device: what a second mount of the same device (EBUSY), unmount and sync(2) need.

use crate::spinlock::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub struct Mounted<T>(Mutex<List<T>>);

struct List<T> {
    mounted: Vec<(u64, Arc<T>)>,
    /// Devices a mount is reading now (`mount`): a second mount of one of them is EBUSY
    /// too. Without it two mounts of one device on two CPUs could both find it free while
    /// each reads the disk, and two instances would then write one disk.
    opening: Vec<u64>,
}

impl<T> Mounted<T> {
    /// One lock class per file system type (the caller's place) for the lock-order checker.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub const fn new() -> Mounted<T> {
        Mounted(Mutex::new(List {
            mounted: Vec::new(),
            opening: Vec::new(),
        }))
    }

    /// Mounts device `rdev` with `open` (run without the lock: it reads the disk) and adds
    /// the instance; EBUSY when the device holds a mounted instance already or another
    /// mount of it is under way (Linux decides under sb_lock).
    pub fn mount(&self, rdev: u64, open: impl FnOnce() -> KResult<Arc<T>>) -> KResult<Arc<T>> {
        {
            let mut l = self.0.lock();
            if l.opening.contains(&rdev) || l.mounted.iter().any(|(r, _)| *r == rdev) {
                return Err(Errno::EBUSY);
            }
            l.opening.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            l.mounted.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            l.opening.push(rdev);
        }
        let r = open();
        let mut l = self.0.lock();
        l.opening.retain(|&d| d != rdev);
        if let Ok(fs) = &r {
            l.mounted.push((rdev, fs.clone()));
        }
        r
    }

    /// `fs` (None: not one of these) is being unmounted: pages stored through shared
    /// mappings and then its own state reach the disk before it leaves the list.
    pub fn unmounted(&self, fs: Option<Arc<T>>, sync: impl Fn(&T) -> KResult<()>) -> KResult<()> {
        let Some(fs) = fs else {
            return Ok(());
        };
        crate::mm::pagecache::writeback_all();
        sync(&fs)?;
        self.0.lock().mounted.retain(|(_, f)| !Arc::ptr_eq(f, &fs));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().mounted.is_empty()
    }

    /// Every instance, the latest mount first (one on a loop device writes into a file of
    /// an earlier one, which must sync after it).
    pub fn latest_first(&self) -> Vec<Arc<T>> {
        self.0
            .lock()
            .mounted
            .iter()
            .rev()
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Runs `f` on every instance, latest first, under the list's lock, unless it is busy
    /// (false): for the shrinkers, which never wait. The instances outlive the call (the
    /// list holds them), so nothing `f` lets go of drops one.
    pub fn try_each(&self, mut f: impl FnMut(&T)) -> bool {
        let Some(l) = self.0.try_lock() else {
            return false;
        };
        for (_, fs) in l.mounted.iter().rev() {
            f(fs);
        }
        true
    }

    /// Runs `sync` on every instance, latest first; a failure is logged, as `kind`'s.
    pub fn sync_all(&self, kind: &str, sync: impl Fn(&T) -> KResult<()>) {
        for fs in self.latest_first() {
            if let Err(e) = sync(&fs) {
                crate::warn!("{kind}: sync failed: {}", e.name());
            }
        }
    }
}
