//! The key registry and the operations of add_key, request_key and keyctl, each with the
//! lookups, validity and permission checks Linux makes, in Linux's order.

use crate::key::State;
use crate::*;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use spin::Mutex;

/// Who is asking: the file-system identity keys are checked against, CAP_SYS_ADMIN, and the
/// keyrings the calling thread holds. Calls that install keyrings change them here; the
/// kernel stores them back.
#[derive(Clone, Default)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub sys_admin: bool,
    pub thread: Option<Arc<Key>>,
    pub process: Option<Arc<Key>>,
    pub session: Option<Arc<Key>>,
    /// The wall clock in seconds, for expiry.
    pub now: u64,
    /// Where request_key puts the keys it makes (KEYCTL_SET_REQKEY_KEYRING, REQKEY_*).
    pub reqkey: i32,
}

struct Reg {
    by_serial: BTreeMap<i32, Weak<Key>>,
    seed: u32,
    /// Each user's keyring and user-session keyring ("_uid.N", "_uid_ses.N").
    user_rings: BTreeMap<u32, (Arc<Key>, Arc<Key>)>,
    /// Each user's persistent keyring ("_persistent.N"), Linux's persistent register.
    persistent: BTreeMap<u32, Arc<Key>>,
}

pub struct Keys {
    pub quotas: Arc<Quotas>,
    reg: Mutex<Reg>,
}

/// Possessor permissions for the keyrings a process creates for itself.
const POS_ALL: u32 = KEY_ALL << 24;
const USR: u32 = 16;
/// Bytes a keyring link costs its owner (KEYQUOTA_LINK_BYTES).
const LINK_BYTES: u32 = 4;

fn bump(seed: u32) -> u32 {
    seed.wrapping_mul(1_103_515_245).wrapping_add(12_345)
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}

impl Keys {
    pub fn new() -> Keys {
        Keys {
            quotas: Arc::new(Quotas::default()),
            reg: Mutex::new(Reg {
                by_serial: BTreeMap::new(),
                seed: 0x1bad_5eed,
                user_rings: BTreeMap::new(),
                persistent: BTreeMap::new(),
            }),
        }
    }

    /// key_alloc and instantiation: a new key owned by `uid`/`gid`, charged to `uid` unless
    /// `overrun` lets it pass the limits (the keyrings a process gets implicitly).
    #[allow(clippy::too_many_arguments)]
    fn alloc(
        &self,
        kind: KeyType,
        desc: &[u8],
        uid: u32,
        gid: u32,
        perm: u32,
        payload: Vec<u8>,
        overrun: bool,
    ) -> KResult<Arc<Key>> {
        let bytes = desc.len() as u32 + payload.len() as u32;
        self.quotas.charge(uid, 1, i64::from(bytes), overrun)?;
        let mut reg = self.reg.lock();
        if reg.by_serial.len() > 4096 {
            reg.by_serial.retain(|_, w| w.strong_count() > 0);
        }
        let serial = loop {
            reg.seed = bump(reg.seed);
            let s = (reg.seed >> 1) as i32;
            if s >= 3 && reg.by_serial.get(&s).is_none_or(|w| w.strong_count() == 0) {
                break s;
            }
        };
        let key = Arc::new(Key {
            serial,
            kind,
            desc: desc.to_vec(),
            st: Mutex::new(State {
                uid,
                gid,
                perm,
                payload,
                links: Vec::new(),
                revoked: false,
                invalid: false,
                negative: false,
                expiry: 0,
                charged: bytes,
            }),
            quotas: self.quotas.clone(),
        });
        reg.by_serial.insert(serial, Arc::downgrade(&key));
        Ok(key)
    }

    fn new_ring(&self, c: &Caller, desc: &[u8], perm: u32, overrun: bool) -> KResult<Arc<Key>> {
        self.alloc(
            KeyType::Keyring,
            desc,
            c.uid,
            c.gid,
            perm,
            Vec::new(),
            overrun,
        )
    }

    /// The user's keyring and user-session keyring, made on first use.
    fn user_rings(&self, uid: u32) -> KResult<(Arc<Key>, Arc<Key>)> {
        if let Some(r) = self.reg.lock().user_rings.get(&uid) {
            return Ok(r.clone());
        }
        let perm = ((KEY_ALL & !KEY_SETATTR) << 24) | (KEY_ALL << USR);
        let ring = |name: alloc::string::String| {
            let v = Vec::new();
            self.alloc(
                KeyType::Keyring,
                name.as_bytes(),
                uid,
                u32::MAX,
                perm,
                v,
                true,
            )
        };
        let user = ring(format!("_uid.{uid}"))?;
        let ses = ring(format!("_uid_ses.{uid}"))?;
        {
            let mut st = ses.st.lock();
            st.links.push(user.clone());
            st.charged += LINK_BYTES;
        }
        let mut reg = self.reg.lock();
        let r = reg.user_rings.entry(uid).or_insert((user, ses));
        Ok(r.clone())
    }

    /// The keyrings a caller possesses to begin with (search_cred_keyrings_rcu): its thread,
    /// process and session keyrings, or the user-session keyring without a session.
    fn roots(&self, c: &Caller) -> KResult<Vec<Arc<Key>>> {
        let mut v: Vec<Arc<Key>> = c.thread.iter().chain(c.process.iter()).cloned().collect();
        match &c.session {
            Some(s) => v.push(s.clone()),
            None => v.push(self.user_rings(c.uid)?.1),
        }
        Ok(v)
    }

    /// Whether `key`, reached through possessed keyrings, is possessed by `c`.
    fn possessed(&self, c: &Caller, key: &Arc<Key>) -> KResult<bool> {
        let mut found = false;
        self.walk(c, self.roots(c)?, true, &mut |k| {
            if Arc::ptr_eq(k, key) {
                found = true;
            }
            found
        });
        Ok(found)
    }

    /// Visits keys reachable from `start` breadth first to MAX_DEPTH, each one searchable by
    /// `c` (possessed or not, as the start was), descending into searchable, valid keyrings.
    /// The starting keyrings are visited themselves. Stops when `f` returns true.
    fn walk(
        &self,
        c: &Caller,
        start: Vec<Arc<Key>>,
        possessed: bool,
        f: &mut dyn FnMut(&Arc<Key>) -> bool,
    ) {
        let mut level = start;
        for k in &level {
            if f(k) {
                return;
            }
        }
        let mut seen: Vec<i32> = level.iter().map(|k| k.serial).collect();
        for _ in 0..MAX_DEPTH {
            let mut next = Vec::new();
            for ring in &level {
                if ring.kind != KeyType::Keyring
                    || ring.validate(c.now).is_err()
                    || !permitted(c, ring, possessed, KEY_SEARCH)
                {
                    continue;
                }
                for k in ring.links() {
                    if seen.contains(&k.serial) || k.st.lock().invalid {
                        continue;
                    }
                    seen.push(k.serial);
                    if !permitted(c, &k, possessed, KEY_SEARCH) {
                        continue;
                    }
                    if f(&k) {
                        return;
                    }
                    next.push(k);
                }
            }
            if next.is_empty() {
                return;
            }
            level = next;
        }
    }

    /// lookup_user_key: a special id (made when `create`) or a serial, checked for validity
    /// unless `for_unlink`, then for the permission `need` (0: none). Returns the key and
    /// whether the caller possesses it.
    pub fn lookup(
        &self,
        c: &mut Caller,
        id: i32,
        create: bool,
        need: u32,
    ) -> KResult<(Arc<Key>, bool)> {
        self.lookup_inner(c, id, create, need, Mode::Full)
    }

    fn lookup_inner(
        &self,
        c: &mut Caller,
        id: i32,
        create: bool,
        need: u32,
        mode: Mode,
    ) -> KResult<(Arc<Key>, bool)> {
        let (key, possessed) = match id {
            SPEC_THREAD => {
                if c.thread.is_none() && create {
                    c.thread =
                        Some(self.new_ring(c, b"_tid", POS_ALL | (KEY_VIEW << USR), true)?);
                }
                (c.thread.clone().ok_or(Errno::ENOKEY)?, true)
            }
            SPEC_PROCESS => {
                if c.process.is_none() && create {
                    c.process =
                        Some(self.new_ring(c, b"_pid", POS_ALL | (KEY_VIEW << USR), true)?);
                }
                (c.process.clone().ok_or(Errno::ENOKEY)?, true)
            }
            SPEC_SESSION => {
                if c.session.is_none() && create {
                    self.join(c, None)?;
                }
                match &c.session {
                    Some(s) => (s.clone(), true),
                    None => (self.user_rings(c.uid)?.1, true),
                }
            }
            SPEC_USER => (self.user_rings(c.uid)?.0, true),
            SPEC_USER_SESSION => (self.user_rings(c.uid)?.1, true),
            SPEC_REQKEY_AUTH | SPEC_REQUESTOR => return Err(Errno::ENOKEY),
            id if id < 1 => return Err(Errno::EINVAL),
            id => {
                let key = self
                    .reg
                    .lock()
                    .by_serial
                    .get(&id)
                    .and_then(Weak::upgrade)
                    .ok_or(Errno::ENOKEY)?;
                if key.st.lock().invalid {
                    return Err(Errno::ENOKEY);
                }
                let p = self.possessed(c, &key)?;
                (key, p)
            }
        };
        if mode != Mode::Unlink {
            key.validate(c.now)?;
        }
        if mode == Mode::Full && key.st.lock().negative {
            return Err(Errno::ENOKEY);
        }
        if need != 0 && !permitted(c, &key, possessed, need) {
            return Err(Errno::EACCES);
        }
        Ok((key, possessed))
    }

    /// KEYCTL_GET_KEYRING_ID.
    pub fn get_id(&self, c: &mut Caller, id: i32, create: bool) -> KResult<i32> {
        Ok(self.lookup(c, id, create, KEY_SEARCH)?.0.serial)
    }

    /// KEYCTL_JOIN_SESSION_KEYRING: a new anonymous session keyring, or the named one (an
    /// existing searchable keyring of that name, else a new one). Returns its serial, or 0
    /// when the named keyring already is the session keyring.
    pub fn join(&self, c: &mut Caller, name: Option<&[u8]>) -> KResult<i32> {
        let Some(name) = name else {
            let overrun = c.session.is_none();
            let ring = self.new_ring(
                c,
                b"_ses",
                POS_ALL | ((KEY_VIEW | KEY_READ) << USR),
                overrun,
            )?;
            let serial = ring.serial;
            c.session = Some(ring);
            return Ok(serial);
        };
        let existing = self.find_ring_by_name(c, name);
        let ring = match existing {
            Some(r) => {
                if c.session.as_ref().is_some_and(|s| Arc::ptr_eq(s, &r)) {
                    return Ok(0);
                }
                r
            }
            None => self.new_ring(
                c,
                name,
                POS_ALL | ((KEY_VIEW | KEY_READ | KEY_LINK) << USR),
                false,
            )?,
        };
        let serial = ring.serial;
        c.session = Some(ring);
        Ok(serial)
    }

    /// Every keyring that still exists.
    fn live_keyrings(&self) -> Vec<Arc<Key>> {
        let reg = self.reg.lock();
        let all = reg.by_serial.values().filter_map(Weak::upgrade);
        all.filter(|k| k.kind == KeyType::Keyring).collect()
    }

    /// find_keyring_by_name: a live keyring named `name` the caller may search without
    /// possessing it.
    fn find_ring_by_name(&self, c: &Caller, name: &[u8]) -> Option<Arc<Key>> {
        self.live_keyrings().into_iter().find(|k| {
            k.kind == KeyType::Keyring
                && k.desc == name
                && !k.desc.starts_with(b"_uid")
                && k.validate(c.now).is_ok()
                && permitted(c, k, false, KEY_SEARCH)
        })
    }

    /// add_key: updates the key of that type and description linked in `ring` when the type
    /// can be updated, else makes a new key and links it (replacing such a link).
    pub fn add(
        &self,
        c: &mut Caller,
        kind: KeyType,
        desc: Option<&[u8]>,
        payload: &[u8],
        ring: i32,
    ) -> KResult<i32> {
        if kind == KeyType::Keyring && desc.is_some_and(|d| d.first() == Some(&b'.')) {
            return Err(Errno::EPERM);
        }
        let (ring, _) = self.lookup(c, ring, true, KEY_WRITE)?;
        if ring.kind != KeyType::Keyring {
            return Err(Errno::ENOTDIR);
        }
        check_payload(kind, payload)?;
        let desc = desc.ok_or(Errno::EINVAL)?;
        if kind == KeyType::User {
            let old = ring
                .links()
                .into_iter()
                .find(|k| k.kind == kind && k.desc == desc && k.validate(c.now).is_ok());
            if let Some(old) = old {
                let possessed = self.possessed(c, &old)?;
                if !permitted(c, &old, possessed, KEY_WRITE) {
                    return Err(Errno::EACCES);
                }
                set_payload(&old, payload)?;
                return Ok(old.serial);
            }
        }
        // key_create_or_update's default: everything for the possessor, VIEW for the owner.
        let perm = POS_ALL | (KEY_VIEW << USR);
        let key = self.alloc(kind, desc, c.uid, c.gid, perm, payload.to_vec(), false)?;
        link_into(&ring, &key)?;
        Ok(key.serial)
    }

    /// KEYCTL_UPDATE.
    pub fn update(&self, c: &mut Caller, id: i32, payload: &[u8]) -> KResult<()> {
        let (key, _) = self.lookup(c, id, false, KEY_WRITE)?;
        if key.kind != KeyType::User {
            return Err(Errno::EOPNOTSUPP);
        }
        check_payload(key.kind, payload)?;
        set_payload(&key, payload)
    }

    /// KEYCTL_REVOKE: needs WRITE, or failing that SETATTR.
    pub fn revoke(&self, c: &mut Caller, id: i32) -> KResult<()> {
        let key = match self.lookup(c, id, false, KEY_WRITE) {
            Ok((k, _)) => k,
            Err(Errno::EACCES) => self.lookup(c, id, false, KEY_SETATTR)?.0,
            Err(e) => return Err(e),
        };
        let mut st = key.st.lock();
        st.revoked = true;
        st.payload = Vec::new();
        let links = core::mem::take(&mut st.links);
        let desc = key.desc.len() as u32;
        key.reserve(&mut st, desc)?;
        drop(st);
        drop(links);
        Ok(())
    }

    /// KEYCTL_CHOWN: only CAP_SYS_ADMIN gives a key away; the group may be one of the
    /// caller's. The key's quota moves to the new owner.
    pub fn chown(
        &self,
        c: &mut Caller,
        id: i32,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> KResult<()> {
        if uid.is_none() && gid.is_none() {
            return Ok(());
        }
        let (key, _) = self.lookup_inner(c, id, true, KEY_SETATTR, Mode::Partial)?;
        let mut st = key.st.lock();
        if let Some(u) = uid.filter(|&u| u != st.uid) {
            if !c.sys_admin {
                return Err(Errno::EACCES);
            }
            self.quotas.charge(u, 1, i64::from(st.charged), false)?;
            self.quotas
                .charge(st.uid, -1, -i64::from(st.charged), true)?;
            st.uid = u;
        }
        if let Some(g) = gid.filter(|&g| g != st.gid) {
            if !c.sys_admin && g != c.gid && !c.groups.contains(&g) {
                return Err(Errno::EACCES);
            }
            st.gid = g;
        }
        Ok(())
    }

    /// KEYCTL_SET_TIMEOUT: the key expires `secs` seconds from now (0: never).
    pub fn set_timeout(&self, c: &mut Caller, id: i32, secs: u32) -> KResult<()> {
        let (key, _) = self.lookup_inner(c, id, true, KEY_SETATTR, Mode::Partial)?;
        key.st.lock().expiry = if secs == 0 {
            0
        } else {
            c.now + u64::from(secs)
        };
        Ok(())
    }

    /// KEYCTL_GET_PERSISTENT for `uid` (the caller checked it may ask): the user's persistent
    /// keyring, made when missing or expired, good for another persistent_keyring_expiry
    /// seconds, linked into `dest`.
    pub fn get_persistent(&self, c: &mut Caller, uid: u32, dest: i32) -> KResult<i32> {
        let (dest, _) = self.lookup(c, dest, true, KEY_WRITE)?;
        if dest.kind != KeyType::Keyring {
            return Err(Errno::ENOTDIR);
        }
        let live = self
            .reg
            .lock()
            .persistent
            .get(&uid)
            .filter(|k| k.validate(c.now).is_ok())
            .cloned();
        let ring = match live {
            Some(k) => k,
            None => {
                let perm = ((KEY_ALL & !KEY_SETATTR) << 24) | ((KEY_VIEW | KEY_READ) << USR);
                let name = format!("_persistent.{uid}");
                let k = self.alloc(
                    KeyType::Keyring,
                    name.as_bytes(),
                    uid,
                    u32::MAX,
                    perm,
                    Vec::new(),
                    true,
                )?;
                let old = self.reg.lock().persistent.insert(uid, k.clone());
                drop(old);
                k
            }
        };
        let secs = self
            .quotas
            .limits
            .persistent_expiry
            .load(core::sync::atomic::Ordering::Relaxed);
        ring.st.lock().expiry = c.now + u64::from(secs);
        link_into(&dest, &ring)?;
        Ok(ring.serial)
    }

    /// KEYCTL_SETPERM: the owner or CAP_SYS_ADMIN.
    pub fn setperm(&self, c: &mut Caller, id: i32, perm: u32) -> KResult<()> {
        if perm & !KEY_PERM_MASK != 0 {
            return Err(Errno::EINVAL);
        }
        let (key, _) = self.lookup_inner(c, id, true, KEY_SETATTR, Mode::Partial)?;
        let mut st = key.st.lock();
        if !c.sys_admin && st.uid != c.uid {
            return Err(Errno::EACCES);
        }
        st.perm = perm;
        Ok(())
    }

    /// KEYCTL_DESCRIBE: "type;uid;gid;perm;description" and a NUL.
    pub fn describe(&self, c: &mut Caller, id: i32) -> KResult<Vec<u8>> {
        let (key, _) = self.lookup_inner(c, id, true, KEY_VIEW, Mode::Partial)?;
        let st = key.st.lock();
        let gid = if st.gid == u32::MAX { 65534 } else { st.gid };
        let mut out =
            format!("{};{};{};{:08x};", key.kind.name(), st.uid, gid, st.perm).into_bytes();
        out.extend_from_slice(&key.desc);
        out.push(0);
        Ok(out)
    }

    /// KEYCTL_CLEAR.
    pub fn clear(&self, c: &mut Caller, id: i32) -> KResult<()> {
        let (ring, _) = self.lookup(c, id, true, KEY_WRITE)?;
        if ring.kind != KeyType::Keyring {
            return Err(Errno::ENOTDIR);
        }
        let mut st = ring.st.lock();
        let links = core::mem::take(&mut st.links);
        let desc = ring.desc.len() as u32;
        ring.reserve(&mut st, desc)?;
        drop(st);
        drop(links);
        Ok(())
    }

    /// KEYCTL_LINK: `ring` needs WRITE, the key LINK; EDEADLK for a cycle.
    pub fn link(&self, c: &mut Caller, id: i32, ring: i32) -> KResult<()> {
        let (ring, _) = self.lookup(c, ring, true, KEY_WRITE)?;
        let (key, _) = self.lookup(c, id, true, KEY_LINK)?;
        if ring.kind != KeyType::Keyring {
            return Err(Errno::ENOTDIR);
        }
        link_into(&ring, &key)
    }

    /// KEYCTL_UNLINK: ENOENT when the key is not linked there.
    pub fn unlink(&self, c: &mut Caller, id: i32, ring: i32) -> KResult<()> {
        let (ring, _) = self.lookup(c, ring, false, KEY_WRITE)?;
        let (key, _) = self.lookup_inner(c, id, false, 0, Mode::Unlink)?;
        if ring.kind != KeyType::Keyring {
            return Err(Errno::ENOTDIR);
        }
        let mut st = ring.st.lock();
        let i = st
            .links
            .iter()
            .position(|k| Arc::ptr_eq(k, &key))
            .ok_or(Errno::ENOENT)?;
        let gone = st.links.remove(i);
        let bytes = st.charged.saturating_sub(LINK_BYTES);
        ring.reserve(&mut st, bytes)?;
        drop(st);
        drop(gone);
        Ok(())
    }

    /// KEYCTL_SEARCH: a key of `kind` and `desc` below `ring` (recursively, searchable keys
    /// only; a revoked match alone is EKEYREVOKED), linked into `dest` when nonzero.
    pub fn search(
        &self,
        c: &mut Caller,
        ring: i32,
        kind: KeyType,
        desc: &[u8],
        dest: i32,
    ) -> KResult<i32> {
        let (ring, possessed) = self.lookup(c, ring, false, KEY_SEARCH)?;
        let dest = if dest != 0 {
            Some(self.lookup(c, dest, true, KEY_WRITE)?.0)
        } else {
            None
        };
        let key = self.find(c, alloc::vec![ring], possessed, kind, desc)?;
        if let Some(dest) = dest {
            if !permitted(c, &key, possessed, KEY_LINK) {
                return Err(Errno::EACCES);
            }
            link_into(&dest, &key)?;
        }
        Ok(key.serial)
    }

    fn find(
        &self,
        c: &Caller,
        start: Vec<Arc<Key>>,
        possessed: bool,
        kind: KeyType,
        desc: &[u8],
    ) -> KResult<Arc<Key>> {
        let mut found = None;
        let mut revoked = false;
        let mut expired = false;
        let mut negative = false;
        self.walk(c, start, possessed, &mut |k| {
            if k.kind == kind && k.desc == desc {
                if k.st.lock().negative {
                    negative = true;
                    return true;
                }
                match k.validate(c.now) {
                    Err(Errno::EKEYREVOKED) => revoked = true,
                    Err(Errno::EKEYEXPIRED) => expired = true,
                    Err(_) => {}
                    Ok(()) if permitted(c, k, possessed, KEY_SEARCH) => {
                        found = Some(k.clone());
                        return true;
                    }
                    Ok(()) => {}
                }
            }
            false
        });
        match found {
            Some(k) => Ok(k),
            None if negative => Err(Errno::ENOKEY),
            None if revoked => Err(Errno::EKEYREVOKED),
            None if expired => Err(Errno::EKEYEXPIRED),
            None => Err(Errno::ENOKEY),
        }
    }

    /// request_key without an upcall program: a search of the caller's keyrings, the result
    /// linked into `dest` when nonzero. Nothing found is ENOKEY without callout information;
    /// with it, a negative key is left where Linux leaves it and the answer is ENOENT, what
    /// Linux gives when /sbin/request-key is missing; a keyring cannot be constructed (EPERM).
    pub fn request(
        &self,
        c: &mut Caller,
        kind: KeyType,
        desc: &[u8],
        callout: bool,
        dest: i32,
    ) -> KResult<i32> {
        let dest = if dest != 0 {
            Some(self.lookup(c, dest, true, KEY_WRITE)?.0)
        } else {
            None
        };
        let roots = self.roots(c)?;
        let found = self.find(c, roots.clone(), true, kind, desc);
        let negative_found = found.is_err() && self.has_negative(c, roots, kind, desc);
        match found {
            Ok(key) => {
                if let Some(dest) = dest {
                    link_into(&dest, &key)?;
                }
                Ok(key.serial)
            }
            Err(Errno::ENOKEY) if callout && !negative_found => {
                if kind == KeyType::Keyring {
                    return Err(Errno::EPERM);
                }
                // construct_key: the key is made and linked, the upcall fails (there is no
                // /sbin/request-key) and the key is left negative, so later searches find it
                // and give ENOKEY; this call gets the upcall's ENOENT.
                let dest = match dest {
                    Some(d) => d,
                    None => self.default_dest(c)?,
                };
                let perm = POS_ALL | (KEY_VIEW << USR);
                let key = self.alloc(kind, desc, c.uid, c.gid, perm, Vec::new(), false)?;
                key.st.lock().negative = true;
                link_into(&dest, &key)?;
                Err(Errno::ENOENT)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether a negative key of `kind` and `desc` is reachable from `roots`.
    fn has_negative(&self, c: &Caller, roots: Vec<Arc<Key>>, kind: KeyType, desc: &[u8]) -> bool {
        let mut hit = false;
        self.walk(c, roots, true, &mut |k| {
            hit = k.kind == kind && k.desc == desc && k.st.lock().negative;
            hit
        });
        hit
    }

    /// construct_get_dest_keyring: where request_key puts a key it makes, by the caller's
    /// KEYCTL_SET_REQKEY_KEYRING setting: the thread keyring, else the process keyring, else
    /// the session keyring, else the user-session keyring (from wherever the setting
    /// starts), or the user keyring. The caller must be able to write to it.
    fn default_dest(&self, c: &Caller) -> KResult<Arc<Key>> {
        let chain = [c.thread.clone(), c.process.clone(), c.session.clone()];
        let from = match c.reqkey {
            REQKEY_USER => return self.checked_dest(c, self.user_rings(c.uid)?.0),
            REQKEY_USER_SESSION => 3,
            REQKEY_SESSION => 2,
            REQKEY_PROCESS => 1,
            _ => 0,
        };
        let ring = match chain.into_iter().skip(from).flatten().next() {
            Some(k) => k,
            None => self.user_rings(c.uid)?.1,
        };
        self.checked_dest(c, ring)
    }

    fn checked_dest(&self, c: &Caller, ring: Arc<Key>) -> KResult<Arc<Key>> {
        if permitted(c, &ring, true, KEY_WRITE) {
            Ok(ring)
        } else {
            Err(Errno::EACCES)
        }
    }

    /// KEYCTL_SET_REQKEY_KEYRING: sets where request_key puts new keys (making the thread or
    /// process keyring when named) and returns the previous setting; -1 only reads it.
    pub fn set_reqkey(&self, c: &mut Caller, to: i32) -> KResult<i32> {
        let old = c.reqkey;
        match to {
            REQKEY_NO_CHANGE => return Ok(old),
            REQKEY_THREAD => {
                self.lookup(c, SPEC_THREAD, true, 0)?;
            }
            REQKEY_PROCESS => {
                self.lookup(c, SPEC_PROCESS, true, 0)?;
            }
            REQKEY_DEFAULT | REQKEY_SESSION | REQKEY_USER | REQKEY_USER_SESSION
            | REQKEY_REQUESTOR => {}
            _ => return Err(Errno::EINVAL),
        }
        c.reqkey = to;
        Ok(old)
    }

    /// KEYCTL_READ: the payload (a keyring's linked serials), allowed with READ or when the
    /// caller possesses the key.
    pub fn read(&self, c: &mut Caller, id: i32) -> KResult<Vec<u8>> {
        let (key, possessed) = self.lookup(c, id, false, 0)?;
        if !permitted(c, &key, possessed, KEY_READ) && !possessed {
            return Err(Errno::EACCES);
        }
        let st = key.st.lock();
        Ok(match key.kind {
            KeyType::User => st.payload.clone(),
            KeyType::Keyring => st
                .links
                .iter()
                .filter(|k| !k.st.lock().invalid)
                .flat_map(|k| k.serial.to_le_bytes())
                .collect(),
        })
    }

    /// KEYCTL_INVALIDATE: the key goes from every keyring and later lookups give ENOKEY.
    pub fn invalidate(&self, c: &mut Caller, id: i32) -> KResult<()> {
        let (key, _) = self.lookup(c, id, false, KEY_SEARCH)?;
        key.st.lock().invalid = true;
        for ring in self.live_keyrings() {
            let mut st = ring.st.lock();
            let before = st.links.len();
            st.links.retain(|k| !Arc::ptr_eq(k, &key));
            let removed = (before - st.links.len()) as u32;
            if removed > 0 {
                let bytes = st.charged.saturating_sub(removed * LINK_BYTES);
                let _ = ring.reserve(&mut st, bytes);
            }
        }
        Ok(())
    }
}

/// How much of a key a lookup needs: a usable one, one being described or changed (a
/// negative key will do: KEY_LOOKUP_PARTIAL), or one being unlinked (even a revoked one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Full,
    Partial,
    Unlink,
}

/// key_task_permission: the owner's, group's or others' bits, plus the possessor's when the
/// key is possessed. CAP_SYS_ADMIN does not override (as on Linux).
fn permitted(c: &Caller, key: &Key, possessed: bool, need: u32) -> bool {
    let st = key.st.lock();
    let mut have = if st.uid == c.uid {
        st.perm >> 16
    } else if st.gid != u32::MAX && (st.gid == c.gid || c.groups.contains(&st.gid)) {
        st.perm >> 8
    } else {
        st.perm
    };
    if possessed {
        have |= st.perm >> 24;
    }
    have & need & KEY_ALL == need
}

/// The payload a type accepts: 1..=32767 bytes for "user", none for a keyring.
fn check_payload(kind: KeyType, payload: &[u8]) -> KResult<()> {
    let ok = match kind {
        KeyType::User => !payload.is_empty() && payload.len() <= USER_MAX_PAYLOAD,
        KeyType::Keyring => payload.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

fn set_payload(key: &Key, payload: &[u8]) -> KResult<()> {
    let mut st = key.st.lock();
    let bytes = (key.desc.len() + payload.len()) as u32;
    key.reserve(&mut st, bytes)?;
    st.payload = payload.to_vec();
    Ok(())
}

/// Whether `ring` can be reached from `from` through keyring links (a cycle to be).
fn reaches(from: &Arc<Key>, ring: &Arc<Key>, depth: usize) -> bool {
    if Arc::ptr_eq(from, ring) {
        return true;
    }
    if depth == 0 || from.kind != KeyType::Keyring {
        return depth == 0;
    }
    from.links().iter().any(|k| reaches(k, ring, depth - 1))
}

/// __key_link: links `key` into `ring`, replacing a key of the same type and description;
/// a keyring that would close a cycle (or nest too deep) is EDEADLK.
fn link_into(ring: &Arc<Key>, key: &Arc<Key>) -> KResult<()> {
    if key.kind == KeyType::Keyring && reaches(key, ring, MAX_DEPTH) {
        return Err(Errno::EDEADLK);
    }
    let mut st = ring.st.lock();
    if st.links.iter().any(|k| Arc::ptr_eq(k, key)) {
        return Ok(());
    }
    let old = st
        .links
        .iter()
        .position(|k| k.kind == key.kind && k.desc == key.desc);
    let replaced = match old {
        Some(i) => Some(core::mem::replace(&mut st.links[i], key.clone())),
        None => {
            let bytes = st.charged + LINK_BYTES;
            ring.reserve(&mut st, bytes)?;
            st.links.push(key.clone());
            None
        }
    };
    drop(st);
    drop(replaced);
    Ok(())
}
