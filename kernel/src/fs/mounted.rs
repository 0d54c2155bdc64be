//! The mounted instances of one disk file system type, with the device number of their
//! device: what a second mount of the same device (EBUSY), unmount and sync(2) need.

use crate::spinlock::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub struct Mounted<T>(Mutex<Vec<(u64, Arc<T>)>>);

impl<T> Mounted<T> {
    /// One lock class per file system type (the caller's place) for the lock-order checker.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub const fn new() -> Mounted<T> {
        Mounted(Mutex::new(Vec::new()))
    }

    /// EBUSY when the device `rdev` holds a mounted instance already.
    pub fn check_free(&self, rdev: u64) -> KResult<()> {
        if self.0.lock().iter().any(|(r, _)| *r == rdev) {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    pub fn add(&self, rdev: u64, fs: Arc<T>) {
        self.0.lock().push((rdev, fs));
    }

    /// `fs` (None: not one of these) is being unmounted: pages stored through shared
    /// mappings and then its own state reach the disk before it leaves the list.
    pub fn unmounted(&self, fs: Option<Arc<T>>, sync: impl Fn(&T) -> KResult<()>) -> KResult<()> {
        let Some(fs) = fs else {
            return Ok(());
        };
        crate::mm::pagecache::writeback_all();
        sync(&fs)?;
        self.0.lock().retain(|(_, f)| !Arc::ptr_eq(f, &fs));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Every instance, the latest mount first (one on a loop device writes into a file of
    /// an earlier one, which must sync after it).
    pub fn latest_first(&self) -> Vec<Arc<T>> {
        self.0.lock().iter().rev().map(|(_, f)| f.clone()).collect()
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
