//! add_key, request_key, keyctl: the key retention service (`lintel_keys`, `crate::keys`).

use crate::keys;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::capability::{CAP_SETUID, CAP_SYS_ADMIN};
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_keys::{Caller, KeyType, Keys};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("add_key", add_key, "\"user\" and \"keyring\" keys"),
    Syscall::partial(
        "request_key",
        request_key,
        "searches the caller's keyrings; no upcall program, as Linux without \
         /sbin/request-key (ENOENT, a negative key left behind); negative keys never expire",
    ),
    Syscall::partial(
        "keyctl",
        keyctl,
        "GET_KEYRING_ID, JOIN_SESSION_KEYRING, UPDATE, REVOKE, CHOWN, SETPERM, DESCRIBE, \
         CLEAR, LINK, UNLINK, SEARCH, READ, SET_REQKEY_KEYRING, SET_TIMEOUT, SESSION_TO_PARENT, INVALIDATE, GET_SECURITY, \
         CAPABILITIES (expired keys are not collected from keyrings); \
         GET_PERSISTENT; INSTANTIATE/NEGATE/REJECT give EPERM (no authorisation keys exist); \
         RESTRICT_KEYRING, MOVE, DH_*, \
         PKEY_*, WATCH_KEY give EOPNOTSUPP",
    ),
];

const KEYCTL_GET_KEYRING_ID: usize = 0;
const KEYCTL_JOIN_SESSION_KEYRING: usize = 1;
const KEYCTL_UPDATE: usize = 2;
const KEYCTL_REVOKE: usize = 3;
const KEYCTL_CHOWN: usize = 4;
const KEYCTL_SETPERM: usize = 5;
const KEYCTL_DESCRIBE: usize = 6;
const KEYCTL_CLEAR: usize = 7;
const KEYCTL_LINK: usize = 8;
const KEYCTL_UNLINK: usize = 9;
const KEYCTL_SEARCH: usize = 10;
const KEYCTL_READ: usize = 11;
const KEYCTL_INSTANTIATE: usize = 12;
const KEYCTL_NEGATE: usize = 13;
const KEYCTL_SET_REQKEY_KEYRING: usize = 14;
const KEYCTL_SET_TIMEOUT: usize = 15;
const KEYCTL_GET_SECURITY: usize = 17;
const KEYCTL_SESSION_TO_PARENT: usize = 18;
const KEYCTL_REJECT: usize = 19;
const KEYCTL_INSTANTIATE_IOV: usize = 20;
const KEYCTL_INVALIDATE: usize = 21;
const KEYCTL_GET_PERSISTENT: usize = 22;
const KEYCTL_CAPABILITIES: usize = 31;
/// KEYCTL_CAPS0_CAPABILITIES | KEYCTL_CAPS0_PERSISTENT_KEYRINGS | KEYCTL_CAPS0_INVALIDATE:
/// what this kernel offers.
const CAPS: [u8; 2] = [0x01 | 0x02 | 0x20, 0];
/// The largest add_key payload, and KEYCTL_UPDATE's (PAGE_SIZE).
const MAX_PAYLOAD: usize = 1024 * 1024 - 1;
const MAX_UPDATE: usize = 4096;

/// Runs `f` with the calling thread's identity and keyrings, storing back what it changed.
fn with_caller<T>(c: &Call, f: impl FnOnce(&Keys, &mut Caller) -> KResult<T>) -> KResult<T> {
    let p = c.thread.proc_ref();
    let (uid, gid, groups, admin) = {
        let cr = p.cred.lock();
        (
            cr.fsuid,
            cr.fsgid,
            cr.groups.clone(),
            cr.capable(CAP_SYS_ADMIN),
        )
    };
    let who = Caller {
        uid,
        gid,
        groups,
        sys_admin: admin,
        now: (crate::time::realtime_ns().max(0) / 1_000_000_000) as u64,
        ..Caller::default()
    };
    let tid = c.thread.tid();
    let mut who = keys::caller(p.pid, tid, who);
    let r = f(keys::keys(), &mut who);
    keys::store(p.pid, tid, &who);
    r
}

/// key_get_type_from_user: 1..31 bytes, EPERM for the kernel's "." types.
fn read_type(addr: usize) -> KResult<Vec<u8>> {
    let t = uaccess::read_cstr(addr, 31, Errno::EINVAL)?;
    match t.first() {
        None => Err(Errno::EINVAL),
        Some(b'.') => Err(Errno::EPERM),
        Some(_) => Ok(t),
    }
}

/// strndup_user(s, KEY_MAX_DESC_SIZE).
fn read_desc(addr: usize) -> KResult<Vec<u8>> {
    uaccess::read_cstr(addr, lintel_keys::MAX_DESC - 1, Errno::EINVAL)
}

fn read_payload(addr: usize, len: usize) -> KResult<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    uaccess::read_vec(addr, len)
}

fn serial(v: KResult<i32>) -> SysResult {
    ok(v? as usize)
}

/// add_key(type, description, payload, plen, keyring).
pub fn add_key(c: &mut Call) -> SysResult {
    let (plen, ring) = (c.a[3], c.a[4] as i32);
    if plen > MAX_PAYLOAD {
        return Err(Errno::EINVAL);
    }
    let name = read_type(c.a[0])?;
    let desc = if c.a[1] != 0 {
        Some(read_desc(c.a[1])?).filter(|d| !d.is_empty())
    } else {
        None
    };
    if name == b"keyring" && desc.as_ref().is_some_and(|d| d.first() == Some(&b'.')) {
        return Err(Errno::EPERM);
    }
    let payload = read_payload(c.a[2], plen)?;
    serial(with_caller(c, |k, who| {
        match KeyType::parse(&name, Errno::ENODEV) {
            Ok(kind) => k.add(who, kind, desc.as_deref(), &payload, ring),
            Err(e) => {
                k.lookup(who, ring, true, lintel_keys::KEY_WRITE)?;
                Err(e)
            }
        }
    }))
}

/// request_key(type, description, callout_info, dest_keyring).
pub fn request_key(c: &mut Call) -> SysResult {
    let name = read_type(c.a[0])?;
    let desc = read_desc(c.a[1])?;
    let callout = if c.a[2] != 0 {
        uaccess::read_cstr(c.a[2], 4095, Errno::EINVAL)?;
        true
    } else {
        false
    };
    let dest = c.a[3] as i32;
    serial(with_caller(c, |k, who| {
        match KeyType::parse(&name, Errno::ENOKEY) {
            Ok(kind) => k.request(who, kind, &desc, callout, dest),
            Err(e) => {
                if dest != 0 {
                    k.lookup(who, dest, true, lintel_keys::KEY_WRITE)?;
                }
                Err(e)
            }
        }
    }))
}

/// Copies a result whole when the buffer holds it (DESCRIBE, READ, GET_SECURITY) and returns
/// its length either way.
fn give(buf: usize, len: usize, data: &[u8]) -> SysResult {
    if buf != 0 && len >= data.len() {
        uaccess::write_bytes(buf, data)?;
    }
    ok(data.len())
}

/// An id argument: keyctl's are `key_serial_t` (int).
fn id(v: usize) -> i32 {
    v as i32
}

/// An optional uid/gid: -1 leaves it.
fn owner(v: usize) -> Option<u32> {
    Some(v as u32).filter(|&x| x != u32::MAX)
}

/// KEYCTL_SESSION_TO_PARENT: the parent takes the caller's session keyring, if it is a
/// single-threaded process other than init with the caller's effective ids throughout (no
/// set-id), and both session keyrings belong to that uid.
fn session_to_parent(c: &mut Call) -> SysResult {
    let (ring, _) = with_caller(c, |k, w| {
        k.lookup(w, lintel_keys::SPEC_SESSION, false, lintel_keys::KEY_LINK)
    })?;
    let p = c.thread.process();
    let parent = p.parent.lock().upgrade().ok_or(Errno::EPERM)?;
    if parent.pid <= 1 || parent.live_threads().len() != 1 {
        return Err(Errno::EPERM);
    }
    let (euid, egid) = {
        let cr = p.cred.lock();
        (cr.euid, cr.egid)
    };
    let mine = keys::caller(p.pid, c.thread.tid(), Caller::default()).session;
    let theirs = keys::caller(parent.pid, 0, Caller::default()).session;
    let same = match (&mine, &theirs) {
        (Some(a), Some(b)) => alloc::sync::Arc::ptr_eq(a, b),
        _ => false,
    };
    if same {
        return ok(0);
    }
    let ids_match = {
        let pc = parent.cred.lock();
        [pc.uid, pc.euid, pc.suid] == [euid; 3] && [pc.gid, pc.egid, pc.sgid] == [egid; 3]
    };
    let rings_match =
        theirs.as_ref().is_none_or(|t| t.uid() == euid) && mine.is_some() && ring.uid() == euid;
    if !ids_match || !rings_match {
        return Err(Errno::EPERM);
    }
    keys::give_session(p.pid, parent.pid);
    ok(0)
}

/// keyctl(cmd, ...).
pub fn keyctl(c: &mut Call) -> SysResult {
    let a = c.a;
    match a[0] {
        KEYCTL_GET_KEYRING_ID => serial(with_caller(c, |k, w| k.get_id(w, id(a[1]), a[2] != 0))),
        KEYCTL_JOIN_SESSION_KEYRING => {
            let name = if a[1] != 0 {
                Some(read_desc(a[1])?)
            } else {
                None
            };
            serial(with_caller(c, |k, w| k.join(w, name.as_deref())))
        }
        KEYCTL_UPDATE => {
            if a[3] > MAX_UPDATE {
                return Err(Errno::EINVAL);
            }
            let payload = read_payload(a[2], a[3])?;
            with_caller(c, |k, w| k.update(w, id(a[1]), &payload))?;
            ok(0)
        }
        KEYCTL_REVOKE => {
            with_caller(c, |k, w| k.revoke(w, id(a[1])))?;
            ok(0)
        }
        KEYCTL_CHOWN => {
            with_caller(c, |k, w| k.chown(w, id(a[1]), owner(a[2]), owner(a[3])))?;
            ok(0)
        }
        KEYCTL_SETPERM => {
            with_caller(c, |k, w| k.setperm(w, id(a[1]), a[2] as u32))?;
            ok(0)
        }
        KEYCTL_DESCRIBE => {
            let d = with_caller(c, |k, w| k.describe(w, id(a[1])))?;
            give(a[2], a[3], &d)
        }
        KEYCTL_CLEAR => {
            with_caller(c, |k, w| k.clear(w, id(a[1])))?;
            ok(0)
        }
        KEYCTL_LINK => {
            with_caller(c, |k, w| k.link(w, id(a[1]), id(a[2])))?;
            ok(0)
        }
        KEYCTL_UNLINK => {
            with_caller(c, |k, w| k.unlink(w, id(a[1]), id(a[2])))?;
            ok(0)
        }
        KEYCTL_SEARCH => {
            let name = read_type(a[2])?;
            let desc = read_desc(a[3])?;
            serial(with_caller(c, |k, w| {
                let (ring, dest) = (id(a[1]), id(a[4]));
                match KeyType::parse(&name, Errno::ENOKEY) {
                    Ok(kind) => k.search(w, ring, kind, &desc, dest),
                    Err(e) => {
                        k.lookup(w, ring, false, lintel_keys::KEY_SEARCH)?;
                        Err(e)
                    }
                }
            }))
        }
        KEYCTL_READ => {
            let d = with_caller(c, |k, w| k.read(w, id(a[1])))?;
            give(a[2], a[3], &d)
        }
        KEYCTL_SET_REQKEY_KEYRING => serial(with_caller(c, |k, w| k.set_reqkey(w, id(a[1])))),
        KEYCTL_SET_TIMEOUT => {
            with_caller(c, |k, w| k.set_timeout(w, id(a[1]), a[2] as u32))?;
            ok(0)
        }
        KEYCTL_GET_PERSISTENT => {
            // Another user's persistent keyring needs CAP_SETUID.
            let (uid, euid, setuid) = {
                let cr = c.thread.proc_ref().cred.lock();
                (cr.uid, cr.euid, cr.capable(CAP_SETUID))
            };
            let want = match a[1] as u32 {
                u32::MAX => uid,
                u if u == uid || u == euid || setuid => u,
                _ => return Err(Errno::EPERM),
            };
            serial(with_caller(c, |k, w| k.get_persistent(w, want, id(a[2]))))
        }
        KEYCTL_SESSION_TO_PARENT => session_to_parent(c),
        KEYCTL_INVALIDATE => {
            with_caller(c, |k, w| k.invalidate(w, id(a[1])))?;
            ok(0)
        }
        KEYCTL_GET_SECURITY => {
            // No security module: an empty label.
            with_caller(c, |k, w| {
                k.lookup(w, id(a[1]), false, lintel_keys::KEY_VIEW)
            })?;
            if a[2] != 0 && a[3] > 0 {
                uaccess::write_bytes(a[2], &[0])?;
            }
            ok(1)
        }
        KEYCTL_CAPABILITIES => {
            if a[1] != 0 {
                let n = a[2].min(CAPS.len());
                uaccess::write_bytes(a[1], &CAPS[..n])?;
            }
            ok(CAPS.len())
        }
        // Only the process request_key started may instantiate the key it waits for, and
        // this kernel starts none: no caller holds an authorisation key.
        KEYCTL_INSTANTIATE | KEYCTL_NEGATE | KEYCTL_REJECT | KEYCTL_INSTANTIATE_IOV => {
            Err(Errno::EPERM)
        }
        _ => Err(Errno::EOPNOTSUPP),
    }
}
