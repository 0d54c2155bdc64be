//! The host and domain names uname reports, per UTS namespace: set by sethostname and
//! setdomainname, copied into a new namespace by unshare(CLONE_NEWUTS), joined by setns.
//! Lintel keeps the namespace per process (Linux's is per thread, through its nsproxy).

use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// Linux's __NEW_UTS_LEN: the longest name, without its NUL.
pub const UTS_LEN: usize = 64;

/// One UTS namespace: its names and the inode number /proc/PID/ns/uts shows.
pub struct UtsNs {
    pub inum: u64,
    names: Mutex<(Vec<u8>, Vec<u8>)>,
}

/// PROC_UTS_INIT_INO, the initial namespace's number on Linux.
const INIT_INUM: u64 = 0xEFFF_FFFE;
/// Where Linux's proc_alloc_inum numbers new namespaces from (PROC_DYNAMIC_FIRST).
static NEXT_INUM: AtomicU64 = AtomicU64::new(0xF000_0000);

static INIT: spin::Once<Arc<UtsNs>> = spin::Once::new();
/// Processes outside the initial namespace.
static BY_PID: Mutex<BTreeMap<i32, Arc<UtsNs>>> = Mutex::new(BTreeMap::new());

fn init() -> Arc<UtsNs> {
    INIT.call_once(|| {
        Arc::new(UtsNs {
            inum: INIT_INUM,
            names: Mutex::new((b"lintel".to_vec(), b"(none)".to_vec())),
        })
    })
    .clone()
}

/// The namespace process `pid` is in.
pub fn ns_of(pid: i32) -> Arc<UtsNs> {
    BY_PID.lock().get(&pid).cloned().unwrap_or_else(init)
}

pub fn hostname(pid: i32) -> Vec<u8> {
    ns_of(pid).names.lock().0.clone()
}

pub fn domainname(pid: i32) -> Vec<u8> {
    ns_of(pid).names.lock().1.clone()
}

/// Sets the host name (`host`) or the domain name of `pid`'s namespace, cut at UTS_LEN.
pub fn set(pid: i32, host: bool, name: &[u8]) {
    let mut v = name.to_vec();
    v.truncate(UTS_LEN);
    let ns = ns_of(pid);
    let mut names = ns.names.lock();
    *if host { &mut names.0 } else { &mut names.1 } = v;
}

/// unshare(CLONE_NEWUTS): a new namespace holding a copy of the current names.
pub fn unshare(pid: i32) {
    let names = ns_of(pid).names.lock().clone();
    let ns = Arc::new(UtsNs {
        inum: NEXT_INUM.fetch_add(1, Ordering::Relaxed),
        names: Mutex::new(names),
    });
    enter(pid, ns);
}

/// setns: `pid` joins `ns`.
pub fn enter(pid: i32, ns: Arc<UtsNs>) {
    let old = if Arc::ptr_eq(&ns, &init()) {
        BY_PID.lock().remove(&pid)
    } else {
        BY_PID.lock().insert(pid, ns)
    };
    drop(old);
}

/// A new process starts in its parent's namespace.
pub fn forked(parent: i32, child: i32) {
    let ns = ns_of(parent);
    enter(child, ns);
}

pub fn exited(pid: i32) {
    let old = BY_PID.lock().remove(&pid);
    drop(old);
}
