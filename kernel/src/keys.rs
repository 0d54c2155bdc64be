//! The key retention service's kernel side: the one `lintel_keys::Keys` registry, and which
//! keyrings each thread (thread keyring) and process (process and session keyrings) holds,
//! which Linux keeps in struct cred. The process layer calls in at fork (the session keyring
//! is shared, the process keyring is not), exec (thread and process keyrings are dropped)
//! and exit.

use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::AtomicU32;
use lintel_keys::{Caller, Key, Keys};

static KEYS: spin::Once<Keys> = spin::Once::new();

/// A process's (process keyring, session keyring).
type ProcRings = (Option<Arc<Key>>, Option<Arc<Key>>);

static PROCS: Mutex<BTreeMap<i32, ProcRings>> = Mutex::new(BTreeMap::new());
/// What Linux's per-thread cred holds: the thread keyring and the request_key destination
/// setting (KEYCTL_SET_REQKEY_KEYRING), which new threads and processes inherit.
#[derive(Clone, Default)]
struct ThreadKeys {
    ring: Option<Arc<Key>>,
    reqkey: i32,
}

static THREADS: Mutex<BTreeMap<i32, ThreadKeys>> = Mutex::new(BTreeMap::new());

pub fn keys() -> &'static Keys {
    KEYS.call_once(Keys::new)
}

/// The /proc/sys/kernel/keys settings, by file name.
pub fn limit(name: &str) -> Option<&'static AtomicU32> {
    let l = &keys().quotas.limits;
    Some(match name {
        "maxkeys" => &l.maxkeys,
        "maxbytes" => &l.maxbytes,
        "root_maxkeys" => &l.root_maxkeys,
        "root_maxbytes" => &l.root_maxbytes,
        "persistent_keyring_expiry" => &l.persistent_expiry,
        _ => return None,
    })
}

/// The keyrings `pid`/`tid` holds, with the identity given.
pub fn caller(pid: i32, tid: i32, mut who: Caller) -> Caller {
    let (process, session) = PROCS.lock().get(&pid).cloned().unwrap_or((None, None));
    who.process = process;
    who.session = session;
    let t = THREADS.lock().get(&tid).cloned().unwrap_or_default();
    who.thread = t.ring;
    who.reqkey = t.reqkey;
    who
}

/// Stores back the keyrings a call installed.
pub fn store(pid: i32, tid: i32, c: &Caller) {
    PROCS
        .lock()
        .insert(pid, (c.process.clone(), c.session.clone()));
    let t = ThreadKeys {
        ring: c.thread.clone(),
        reqkey: c.reqkey,
    };
    let old = if t.ring.is_none() && t.reqkey == 0 {
        THREADS.lock().remove(&tid)
    } else {
        THREADS.lock().insert(tid, t)
    };
    drop(old);
}

/// A new process shares its parent's session keyring and has no process keyring.
pub fn forked(parent: i32, child: i32) {
    let mut procs = PROCS.lock();
    let session = procs.get(&parent).and_then(|p| p.1.clone());
    let old = if session.is_some() {
        procs.insert(child, (None, session))
    } else {
        procs.remove(&child)
    };
    drop(procs);
    drop(old);
}

/// A new thread or process starts without a thread keyring and with its creator's
/// request_key setting.
pub fn thread_cloned(from: i32, to: i32) {
    let reqkey = THREADS.lock().get(&from).map_or(0, |t| t.reqkey);
    let old = if reqkey != 0 {
        THREADS.lock().insert(to, ThreadKeys { ring: None, reqkey })
    } else {
        THREADS.lock().remove(&to)
    };
    drop(old);
}

/// execve drops the thread and process keyrings and keeps the session keyring and the
/// request_key setting.
pub fn exec(pid: i32, tid: i32) {
    let old = PROCS.lock().get_mut(&pid).and_then(|p| p.0.take());
    drop(old);
    let ring = THREADS.lock().get_mut(&tid).and_then(|t| t.ring.take());
    drop(ring);
}

pub fn thread_exited(tid: i32) {
    let old = THREADS.lock().remove(&tid);
    drop(old);
}

pub fn exited(pid: i32) {
    let old = PROCS.lock().remove(&pid);
    drop(old);
}

/// KEYCTL_SESSION_TO_PARENT's last step: `parent` gets `pid`'s session keyring.
pub fn give_session(pid: i32, parent: i32) {
    let mut procs = PROCS.lock();
    let session = procs.get(&pid).and_then(|p| p.1.clone());
    let old = match procs.get_mut(&parent) {
        Some(p) => core::mem::replace(&mut p.1, session),
        None => {
            procs.insert(parent, (None, session));
            None
        }
    };
    drop(procs);
    drop(old);
}
