use super::*;
use alloc::vec;
use lintel_abi::Errno;

fn root() -> Caller {
    Caller {
        sys_admin: true,
        ..Caller::default()
    }
}

fn user(uid: u32) -> Caller {
    Caller {
        uid,
        gid: uid,
        ..Caller::default()
    }
}

fn describe(k: &Keys, c: &mut Caller, id: i32) -> alloc::string::String {
    let d = k.describe(c, id).unwrap();
    alloc::string::String::from_utf8(d[..d.len() - 1].to_vec()).unwrap()
}

#[test]
fn special_keyrings() {
    let k = Keys::new();
    let mut c = root();
    assert_eq!(k.get_id(&mut c, SPEC_THREAD, false), Err(Errno::ENOKEY));
    assert_eq!(k.get_id(&mut c, SPEC_PROCESS, false), Err(Errno::ENOKEY));
    let t = k.get_id(&mut c, SPEC_THREAD, true).unwrap();
    assert_eq!(k.get_id(&mut c, SPEC_THREAD, false), Ok(t));
    // Without a session keyring, the user-session keyring stands in.
    let us = k.get_id(&mut c, SPEC_USER_SESSION, false).unwrap();
    assert_eq!(k.get_id(&mut c, SPEC_SESSION, false), Ok(us));
    let s = k.get_id(&mut c, SPEC_SESSION, true).unwrap();
    assert_ne!(s, us);
    assert_eq!(describe(&k, &mut c, s), "keyring;0;0;3f030000;_ses");
    let u = k.get_id(&mut c, SPEC_USER, false).unwrap();
    assert_eq!(describe(&k, &mut c, u), "keyring;0;65534;1f3f0000;_uid.0");
    assert_eq!(describe(&k, &mut c, t), "keyring;0;0;3f010000;_tid");
    assert_eq!(k.get_id(&mut c, SPEC_GROUP, false), Err(Errno::EINVAL));
    assert_eq!(k.get_id(&mut c, 0, false), Err(Errno::EINVAL));
    assert_eq!(k.get_id(&mut c, 12345, false), Err(Errno::ENOKEY));
}

#[test]
fn add_update_read() {
    let k = Keys::new();
    let mut c = user(1000);
    let id = k
        .add(&mut c, KeyType::User, Some(b"k1"), b"secret", SPEC_SESSION)
        .unwrap();
    assert_eq!(k.read(&mut c, id).unwrap(), b"secret");
    assert_eq!(describe(&k, &mut c, id), "user;1000;1000;3f010000;k1");
    // The same description updates the key in place.
    let again = k
        .add(&mut c, KeyType::User, Some(b"k1"), b"other", SPEC_SESSION)
        .unwrap();
    assert_eq!(again, id);
    assert_eq!(k.read(&mut c, id).unwrap(), b"other");
    k.update(&mut c, id, b"third").unwrap();
    assert_eq!(k.read(&mut c, id).unwrap(), b"third");
    assert_eq!(k.update(&mut c, id, b""), Err(Errno::EINVAL));
    let s = k.get_id(&mut c, SPEC_SESSION, false).unwrap();
    assert_eq!(k.update(&mut c, s, b"x"), Err(Errno::EOPNOTSUPP));
    assert_eq!(k.read(&mut c, s).unwrap(), id.to_le_bytes());
    assert_eq!(
        k.add(&mut c, KeyType::User, None, b"x", SPEC_SESSION),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        k.add(&mut c, KeyType::Keyring, Some(b"r"), b"x", SPEC_SESSION),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        k.add(&mut c, KeyType::Keyring, Some(b".r"), b"", SPEC_SESSION),
        Err(Errno::EPERM)
    );
    assert_eq!(
        k.add(&mut c, KeyType::User, Some(b"k2"), b"x", id),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(KeyType::parse(b".x", Errno::ENODEV), Err(Errno::EPERM));
    assert_eq!(
        KeyType::parse(b"big_key", Errno::ENODEV),
        Err(Errno::ENODEV)
    );
}

#[test]
fn permissions_and_possession() {
    let k = Keys::new();
    let mut a = user(1000);
    let id = k
        .add(&mut a, KeyType::User, Some(b"k"), b"v", SPEC_PROCESS)
        .unwrap();
    // Another user neither possesses nor may view it.
    let mut b = user(2000);
    assert_eq!(k.describe(&mut b, id), Err(Errno::EACCES));
    assert_eq!(k.read(&mut b, id), Err(Errno::EACCES));
    // The owner without possession (no process keyring): VIEW only.
    let mut a2 = user(1000);
    assert!(k.describe(&mut a2, id).is_ok());
    assert_eq!(k.read(&mut a2, id), Err(Errno::EACCES));
    assert_eq!(k.update(&mut a2, id, b"w"), Err(Errno::EACCES));
    // Root gets no override either.
    assert_eq!(k.read(&mut root(), id), Err(Errno::EACCES));
    // SETPERM opens it to others.
    k.setperm(&mut a, id, 0x3f03_0003).unwrap();
    assert_eq!(k.read(&mut b, id).unwrap(), b"v");
    assert_eq!(k.setperm(&mut b, id, 0), Err(Errno::EACCES));
    assert_eq!(k.setperm(&mut a, id, 0x4000_0000), Err(Errno::EINVAL));
    // A possessed key without READ is still readable by its possessor.
    k.setperm(&mut a, id, 0x0800_0000).unwrap();
    assert_eq!(k.read(&mut a, id).unwrap(), b"v");
}

#[test]
fn links_search_cycles() {
    let k = Keys::new();
    let mut c = root();
    let s = k.join(&mut c, None).unwrap();
    let r1 = k
        .add(&mut c, KeyType::Keyring, Some(b"r1"), b"", SPEC_SESSION)
        .unwrap();
    let r2 = k
        .add(&mut c, KeyType::Keyring, Some(b"r2"), b"", r1)
        .unwrap();
    let key = k
        .add(&mut c, KeyType::User, Some(b"deep"), b"d", r2)
        .unwrap();
    assert_eq!(k.search(&mut c, s, KeyType::User, b"deep", 0), Ok(key));
    assert_eq!(k.search(&mut c, r2, KeyType::User, b"deep", 0), Ok(key));
    assert_eq!(
        k.search(&mut c, s, KeyType::User, b"none", 0),
        Err(Errno::ENOKEY)
    );
    assert_eq!(k.search(&mut c, s, KeyType::Keyring, b"r2", 0), Ok(r2));
    assert_eq!(k.request(&mut c, KeyType::User, b"deep", false, 0), Ok(key));
    assert_eq!(
        k.request(&mut c, KeyType::User, b"no", true, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        k.request(&mut c, KeyType::User, b"no", true, 0),
        Err(Errno::ENOKEY)
    );
    assert_eq!(
        k.request(&mut c, KeyType::User, b"no", false, 0),
        Err(Errno::ENOKEY)
    );
    let neg = k.read(&mut c, s).unwrap();
    let neg = i32::from_le_bytes([neg[4], neg[5], neg[6], neg[7]]);
    assert_eq!(k.read(&mut c, neg), Err(Errno::ENOKEY));
    assert!(describe(&k, &mut c, neg).ends_with(";no"));
    k.unlink(&mut c, neg, s).unwrap();
    assert_eq!(
        k.request(&mut c, KeyType::Keyring, b"no", true, 0),
        Err(Errno::EPERM)
    );
    // Search links the result into a destination.
    let t = k.get_id(&mut c, SPEC_THREAD, true).unwrap();
    assert_eq!(k.search(&mut c, s, KeyType::User, b"deep", t), Ok(key));
    assert_eq!(k.read(&mut c, t).unwrap(), key.to_le_bytes());
    assert_eq!(k.link(&mut c, r1, r2), Err(Errno::EDEADLK));
    assert_eq!(k.link(&mut c, r1, r1), Err(Errno::EDEADLK));
    assert_eq!(k.link(&mut c, r1, key), Err(Errno::ENOTDIR));
    k.link(&mut c, key, r1).unwrap();
    k.unlink(&mut c, key, r1).unwrap();
    assert_eq!(k.unlink(&mut c, key, r1), Err(Errno::ENOENT));
    // Revoked: EKEYREVOKED for lookups and for a search finding only it.
    k.revoke(&mut c, key).unwrap();
    assert_eq!(k.read(&mut c, key), Err(Errno::EKEYREVOKED));
    assert_eq!(k.revoke(&mut c, key), Err(Errno::EKEYREVOKED));
    assert_eq!(
        k.search(&mut c, s, KeyType::User, b"deep", 0),
        Err(Errno::EKEYREVOKED)
    );
    k.unlink(&mut c, key, r2).unwrap();
    // Invalidated: gone from every keyring.
    let x = k.add(&mut c, KeyType::User, Some(b"x"), b"x", r1).unwrap();
    k.link(&mut c, x, r2).unwrap();
    k.invalidate(&mut c, x).unwrap();
    assert_eq!(k.read(&mut c, x), Err(Errno::ENOKEY));
    assert_eq!(k.read(&mut c, r2).unwrap(), vec![]);
    k.clear(&mut c, r1).unwrap();
    assert_eq!(k.read(&mut c, r1).unwrap(), vec![]);
    assert_eq!(k.clear(&mut c, t), Ok(()));
}

#[test]
fn quotas_and_chown() {
    let k = Keys::new();
    let mut c = user(1000);
    k.join(&mut c, None).unwrap();
    let big = vec![7u8; 15000];
    let a = k
        .add(&mut c, KeyType::User, Some(b"a"), &big, SPEC_SESSION)
        .unwrap();
    assert_eq!(
        k.add(&mut c, KeyType::User, Some(b"b"), &big, SPEC_SESSION),
        Err(Errno::EDQUOT)
    );
    // Updating to a larger payload is charged too.
    assert_eq!(k.update(&mut c, a, &vec![1u8; 25000]), Err(Errno::EDQUOT));
    k.unlink(&mut c, a, SPEC_SESSION).unwrap();
    assert!(k
        .add(&mut c, KeyType::User, Some(b"b"), &big, SPEC_SESSION)
        .is_ok());
    k.quotas
        .limits
        .maxkeys
        .store(3, core::sync::atomic::Ordering::Relaxed);
    let mut n = 0;
    let err = loop {
        match k.add(
            &mut c,
            KeyType::User,
            Some(alloc::format!("n{n}").as_bytes()),
            b"v",
            SPEC_SESSION,
        ) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::EDQUOT);
    // CHOWN: giving away needs CAP_SYS_ADMIN; a group of one's own is fine.
    let mut c2 = Caller {
        groups: vec![50],
        ..user(1000)
    };
    c2.session = c.session.clone();
    let id = k
        .search(&mut c2, SPEC_SESSION, KeyType::User, b"b", 0)
        .unwrap();
    assert_eq!(k.chown(&mut c2, id, Some(0), None), Err(Errno::EACCES));
    assert_eq!(k.chown(&mut c2, id, None, Some(51)), Err(Errno::EACCES));
    k.chown(&mut c2, id, None, Some(50)).unwrap();
    assert!(describe(&k, &mut c2, id).starts_with("user;1000;50;"));
    let mut r = root();
    r.session = c.session.clone();
    k.chown(&mut r, id, Some(7), None).unwrap();
    assert!(describe(&k, &mut r, id).starts_with("user;7;50;"));
    assert_eq!(k.quotas.used(7).0, 1);
    assert_eq!(k.chown(&mut c2, 999_999, None, None), Ok(()));
}

#[test]
fn named_sessions() {
    let k = Keys::new();
    let mut c = root();
    let a = k.join(&mut c, Some(b"shared")).unwrap();
    let mut other = root();
    // Its owner bits lack SEARCH, so another process gets a new keyring of that name.
    let b = k.join(&mut other, Some(b"shared")).unwrap();
    assert_ne!(a, b);
    k.setperm(&mut c, a, 0x3f3f_0000).unwrap();
    let mut third = root();
    assert_eq!(k.join(&mut third, Some(b"shared")), Ok(a));
    assert_eq!(k.join(&mut third, Some(b"shared")), Ok(0));
}

#[test]
fn timeouts() {
    let k = Keys::new();
    let mut c = root();
    c.now = 1000;
    let s = k.join(&mut c, None).unwrap();
    let id = k
        .add(&mut c, KeyType::User, Some(b"t"), b"v", SPEC_SESSION)
        .unwrap();
    k.set_timeout(&mut c, id, 5).unwrap();
    c.now = 1004;
    assert_eq!(k.read(&mut c, id).unwrap(), b"v");
    c.now = 1005;
    assert_eq!(k.read(&mut c, id), Err(Errno::EKEYEXPIRED));
    assert_eq!(k.describe(&mut c, id), Err(Errno::EKEYEXPIRED));
    assert_eq!(
        k.search(&mut c, s, KeyType::User, b"t", 0),
        Err(Errno::EKEYEXPIRED)
    );
    // A fresh key of the same description replaces it; a timeout of 0 clears one.
    let id2 = k
        .add(&mut c, KeyType::User, Some(b"t"), b"w", SPEC_SESSION)
        .unwrap();
    assert_ne!(id, id2);
    k.set_timeout(&mut c, id2, 1).unwrap();
    k.set_timeout(&mut c, id2, 0).unwrap();
    c.now = 5000;
    assert_eq!(k.search(&mut c, s, KeyType::User, b"t", 0), Ok(id2));
}

#[test]
fn persistent() {
    let k = Keys::new();
    let mut c = user(1000);
    c.now = 10;
    let s = k.join(&mut c, None).unwrap();
    let p = k.get_persistent(&mut c, 1000, SPEC_SESSION).unwrap();
    assert_eq!(
        describe(&k, &mut c, p),
        "keyring;1000;65534;1f030000;_persistent.1000"
    );
    assert_eq!(k.get_persistent(&mut c, 1000, s), Ok(p));
    assert_eq!(k.read(&mut c, s).unwrap(), p.to_le_bytes());
    assert_eq!(k.get_persistent(&mut c, 1000, 0), Err(Errno::EINVAL));
    let key = k.add(&mut c, KeyType::User, Some(b"u"), b"v", s).unwrap();
    assert_eq!(k.get_persistent(&mut c, 1000, key), Err(Errno::ENOTDIR));
    // Three days without a request: a new one.
    c.now = 10 + 3 * 24 * 3600;
    let p2 = k.get_persistent(&mut c, 1000, s).unwrap();
    assert_ne!(p, p2);
}

#[test]
fn reqkey_destination() {
    let k = Keys::new();
    let mut c = root();
    let s = k.join(&mut c, None).unwrap();
    assert_eq!(k.set_reqkey(&mut c, REQKEY_NO_CHANGE), Ok(REQKEY_DEFAULT));
    assert_eq!(k.set_reqkey(&mut c, REQKEY_GROUP), Err(Errno::EINVAL));
    assert_eq!(k.set_reqkey(&mut c, 8), Err(Errno::EINVAL));
    assert_eq!(k.set_reqkey(&mut c, REQKEY_PROCESS), Ok(REQKEY_DEFAULT));
    let p = k.get_id(&mut c, SPEC_PROCESS, false).unwrap();
    assert_eq!(k.set_reqkey(&mut c, REQKEY_SESSION), Ok(REQKEY_PROCESS));
    // A failed upcall leaves its negative key in the session keyring, not the process one.
    assert_eq!(
        k.request(&mut c, KeyType::User, b"n", true, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(k.read(&mut c, s).unwrap().len(), 4);
    assert_eq!(k.read(&mut c, p).unwrap().len(), 0);
    assert_eq!(k.set_reqkey(&mut c, REQKEY_USER), Ok(REQKEY_SESSION));
    assert_eq!(
        k.request(&mut c, KeyType::User, b"m", true, 0),
        Err(Errno::ENOENT)
    );
    let u = k.get_id(&mut c, SPEC_USER, false).unwrap();
    assert_eq!(k.read(&mut c, u).unwrap().len(), 4);
}
