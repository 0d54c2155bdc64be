use crate::*;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::capability::*;

fn user(uid: u32) -> Cred {
    let mut c = Cred::default();
    c.set_groups(vec![]).unwrap();
    c.set_res(Ids::Group, uid, uid, uid).unwrap();
    c.set_res(Ids::User, uid, uid, uid).unwrap();
    c
}

#[test]
fn root_drops_everything_when_leaving_uid_0() {
    let mut c = Cred::default();
    c.set_groups(vec![1000]).unwrap();
    c.set_res(Ids::Group, 1000, 1000, 1000).unwrap();
    c.set_res(Ids::User, 1000, 1000, 1000).unwrap();
    assert_eq!((c.cap_permitted, c.cap_effective), (0, 0));
    assert_eq!(c.cap_bset, CAP_FULL_SET);
    assert_eq!(c.set_id(Ids::User, 0), Err(Errno::EPERM));
    assert_eq!(c.set_groups(vec![]), Err(Errno::EPERM));
    assert_eq!(c.capset(0, bit(CAP_KILL), 0), Err(Errno::EPERM));
    assert!(!c.vfs().capable(CAP_DAC_OVERRIDE));
}

#[test]
fn saved_uid_0_keeps_permitted_and_can_come_back() {
    let mut c = Cred::default();
    c.set_res(Ids::User, 1000, 1000, KEEP).unwrap();
    assert_eq!(c.cap_permitted, CAP_FULL_SET);
    assert_eq!(c.cap_effective, 0);
    c.set_re(Ids::User, KEEP, 0).unwrap();
    assert_eq!(c.euid, 0);
    assert_eq!(c.cap_effective, CAP_FULL_SET);
}

#[test]
fn keepcaps_keeps_permitted_but_not_effective() {
    let mut c = Cred::default();
    c.set_keepcaps(1).unwrap();
    c.set_id(Ids::User, 1000).unwrap();
    assert_eq!(c.cap_permitted, CAP_FULL_SET);
    assert_eq!(c.cap_effective, 0);
    c.capset(bit(CAP_SETUID), CAP_FULL_SET, 0).unwrap();
    assert!(c.capable(CAP_SETUID));
    // execve clears KEEP_CAPS and, for a non-root program, the permitted set.
    let f = ExecFile {
        mode: 0o755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: None,
    };
    let out = c.exec(&f, false);
    assert_eq!(out.cred.securebits & SECBIT_KEEP_CAPS, 0);
    assert_eq!(out.cred.cap_permitted, 0);
    assert!(!out.secure);
}

#[test]
fn fsuid_moves_only_fs_capabilities() {
    let mut c = Cred::default();
    assert_eq!(c.set_fs(Ids::User, 1000), 0);
    assert_eq!(c.cap_effective, CAP_FULL_SET & !CAP_FS_SET);
    assert!(c.capable(CAP_KILL) && !c.capable(CAP_DAC_OVERRIDE));
    assert_eq!(c.set_fs(Ids::User, 0), 1000);
    assert_eq!(c.cap_effective, CAP_FULL_SET);
    let mut u = user(1000);
    assert_eq!(u.set_fs(Ids::User, 0), 1000);
    assert_eq!(u.fsuid, 1000);
}

#[test]
fn capset_rules() {
    let mut c = Cred::default();
    // Effective must stay within the new permitted set.
    assert_eq!(c.capset(bit(CAP_KILL), 0, 0), Err(Errno::EPERM));
    c.capset(
        bit(CAP_KILL),
        bit(CAP_KILL) | bit(CAP_CHOWN),
        bit(CAP_NET_RAW),
    )
    .unwrap();
    // Permitted cannot grow again.
    assert_eq!(c.capset(0, CAP_FULL_SET, 0), Err(Errno::EPERM));
    // Without CAP_SETPCAP the inheritable set stays within inheritable | permitted.
    assert_eq!(
        c.capset(0, bit(CAP_KILL), bit(CAP_SYS_ADMIN)),
        Err(Errno::EPERM)
    );
    c.capset(0, bit(CAP_KILL), bit(CAP_KILL) | bit(CAP_NET_RAW))
        .unwrap();
    // Bits past the last capability are ignored.
    c.capset(!0, bit(CAP_KILL), 0).unwrap_err();
    c.capset(bit(CAP_KILL) | (1 << 63), bit(CAP_KILL), 0)
        .unwrap();
    assert_eq!(c.cap_effective, bit(CAP_KILL));
}

#[test]
fn setpcap_bounds_inheritable_by_bset() {
    let mut c = Cred::default();
    c.bset_drop(CAP_SYS_ADMIN as usize).unwrap();
    assert_eq!(
        c.capset(CAP_FULL_SET, CAP_FULL_SET, bit(CAP_SYS_ADMIN)),
        Err(Errno::EPERM)
    );
    c.capset(CAP_FULL_SET, CAP_FULL_SET, bit(CAP_KILL)).unwrap();
    assert_eq!(c.bset_drop(99), Err(Errno::EINVAL));
    c.capset(0, CAP_FULL_SET, 0).unwrap();
    assert_eq!(c.bset_drop(CAP_KILL as usize), Err(Errno::EPERM));
}

#[test]
fn root_exec_takes_the_bounding_set() {
    let mut c = Cred::default();
    c.bset_drop(CAP_SYS_TIME as usize).unwrap();
    c.capset(0, 0, 0).unwrap();
    let f = ExecFile {
        mode: 0o755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: None,
    };
    let out = c.exec(&f, false);
    assert_eq!(out.cred.cap_permitted, CAP_FULL_SET & !bit(CAP_SYS_TIME));
    assert_eq!(out.cred.cap_effective, out.cred.cap_permitted);
    assert!(!out.secure);
}

#[test]
fn ambient_survives_exec_for_non_root() {
    let mut c = Cred::default();
    c.set_keepcaps(1).unwrap();
    c.set_res(Ids::User, 1000, 1000, 1000).unwrap();
    let n = bit(CAP_NET_BIND_SERVICE);
    c.capset(n, n, n).unwrap();
    assert_eq!(c.ambient_set(CAP_KILL as usize, true), Err(Errno::EPERM));
    c.ambient_set(CAP_NET_BIND_SERVICE as usize, true).unwrap();
    let f = ExecFile {
        mode: 0o755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: None,
    };
    let out = c.exec(&f, false);
    assert_eq!(out.cred.cap_ambient, n);
    assert_eq!(out.cred.cap_permitted, n);
    assert_eq!(out.cred.cap_effective, n);
    assert!(!out.secure);
    // Lowering the inheritable set drops it from ambient.
    c.capset(n, n, 0).unwrap();
    assert_eq!(c.cap_ambient, 0);
}

#[test]
fn setuid_root_binary() {
    let u = user(1000);
    let f = ExecFile {
        mode: 0o4755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: None,
    };
    let out = u.exec(&f, false);
    assert_eq!((out.cred.uid, out.cred.euid, out.cred.suid), (1000, 0, 0));
    assert_eq!(out.cred.cap_effective, CAP_FULL_SET);
    assert!(out.secure && out.setid_bits);
    // no_new_privs: the bits do nothing.
    let out = u.exec(&f, true);
    assert_eq!((out.cred.euid, out.cred.cap_permitted), (1000, 0));
    assert!(!out.secure);
    // Neither on a nosuid mount.
    let out = u.exec(&ExecFile { nosuid: true, ..f }, false);
    assert_eq!(out.cred.euid, 1000);
    // setgid needs group execute.
    let g = ExecFile {
        mode: 0o2745,
        uid: 5,
        gid: 50,
        nosuid: false,
        caps: None,
    };
    assert_eq!(u.exec(&g, false).cred.egid, 1000);
    let out = u.exec(&ExecFile { mode: 0o2755, ..g }, false);
    assert_eq!((out.cred.gid, out.cred.egid, out.cred.sgid), (1000, 50, 50));
    assert!(out.secure);
}

#[test]
fn securebits_rules() {
    let mut c = Cred::default();
    c.set_securebits((SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED) as usize)
        .unwrap();
    assert_eq!(c.set_keepcaps(0), Err(Errno::EPERM));
    assert_eq!(
        c.set_securebits(SECBIT_KEEP_CAPS_LOCKED as usize),
        Err(Errno::EPERM)
    );
    assert_eq!(c.set_securebits(1 << 20), Err(Errno::EPERM));
    let mut u = user(1000);
    assert_eq!(u.set_securebits(0), Err(Errno::EPERM));
    // NOROOT: a uid-0 exec gets nothing from the bounding set.
    let mut r = Cred::default();
    r.set_securebits(SECBIT_NOROOT as usize).unwrap();
    r.capset(0, 0, 0).unwrap();
    let f = ExecFile {
        mode: 0o755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: None,
    };
    assert_eq!(r.exec(&f, false).cred.cap_permitted, 0);
    u.set_keepcaps(1).unwrap();
}

#[test]
fn setreuid_moves_the_saved_id() {
    // Swapping real and effective ids (the classic temporary drop) keeps a way back.
    let mut c = Cred::default();
    c.set_res(Ids::User, 1000, 0, 0).unwrap();
    c.set_re(Ids::User, KEEP, 1000).unwrap();
    assert_eq!(c.ids(Ids::User), [1000, 1000, 0, 1000]);
    assert_eq!((c.cap_permitted, c.cap_effective), (CAP_FULL_SET, 0));
    c.set_re(Ids::User, KEEP, 0).unwrap();
    assert_eq!(c.cap_effective, CAP_FULL_SET);
    // Setting the real id moves the saved one too: now nothing is left of root.
    c.set_re(Ids::User, 1000, 1000).unwrap();
    assert_eq!(c.ids(Ids::User), [1000, 1000, 1000, 1000]);
    assert_eq!(c.cap_permitted, 0);
    let mut u = user(1000);
    assert_eq!(u.set_re(Ids::User, 0, KEEP), Err(Errno::EPERM));
    assert_eq!(u.set_re(Ids::User, KEEP, 2000), Err(Errno::EPERM));
    // Groups need CAP_SETGID, and never touch capabilities.
    let mut g = Cred::default();
    g.set_res(Ids::Group, 5, 5, 5).unwrap();
    assert_eq!(g.cap_effective, CAP_FULL_SET);
    assert_eq!(u.set_id(Ids::Group, 5), Err(Errno::EPERM));
    assert_eq!(u.set_fs(Ids::Group, 5), 1000);
}

/// A `security.capability` value of revision 2 (or 3 with `rootid`).
fn fcaps_xattr(permitted: u64, inheritable: u64, effective: bool, rootid: Option<u32>) -> Vec<u8> {
    let rev: u32 = if rootid.is_some() {
        0x0300_0000
    } else {
        0x0200_0000
    };
    let mut v = (rev | effective as u32).to_le_bytes().to_vec();
    for w in [
        permitted as u32,
        inheritable as u32,
        (permitted >> 32) as u32,
        (inheritable >> 32) as u32,
    ] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    if let Some(r) = rootid {
        v.extend_from_slice(&r.to_le_bytes());
    }
    v
}

#[test]
fn file_capabilities_parse() {
    let v = fcaps_xattr(bit(CAP_NET_RAW) | bit(40), bit(CAP_KILL), true, None);
    let c = FileCaps::from_xattr(&v).unwrap().unwrap();
    assert_eq!(c.permitted, bit(CAP_NET_RAW) | bit(40));
    assert_eq!(c.inheritable, bit(CAP_KILL));
    assert!(c.effective);
    // Revision 3 for root of the initial namespace counts; for another root uid it does not.
    let v3 = fcaps_xattr(bit(CAP_NET_RAW), 0, false, Some(0));
    assert_eq!(
        FileCaps::from_xattr(&v3).unwrap().unwrap().permitted,
        bit(CAP_NET_RAW)
    );
    let other = fcaps_xattr(bit(CAP_NET_RAW), 0, false, Some(100000));
    assert_eq!(FileCaps::from_xattr(&other).unwrap(), None);
    // Revision 1: 32 capabilities in 12 bytes.
    let mut v1 = 0x0100_0000u32.to_le_bytes().to_vec();
    v1.extend_from_slice(&(bit(CAP_CHOWN) as u32).to_le_bytes());
    v1.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        FileCaps::from_xattr(&v1).unwrap().unwrap().permitted,
        bit(CAP_CHOWN)
    );
    // Wrong sizes and revisions.
    assert_eq!(FileCaps::from_xattr(&v[..19]), Err(Errno::EINVAL));
    assert_eq!(FileCaps::from_xattr(&[]), Err(Errno::EINVAL));
    let mut bad = v.clone();
    bad[3] = 4;
    assert_eq!(FileCaps::from_xattr(&bad), Err(Errno::EINVAL));
}

#[test]
fn file_capabilities_at_exec() {
    let u = user(1000);
    let caps = FileCaps {
        permitted: bit(CAP_NET_RAW),
        inheritable: 0,
        effective: true,
    };
    let f = ExecFile {
        mode: 0o755,
        uid: 0,
        gid: 0,
        nosuid: false,
        caps: Some(caps),
    };
    // An ordinary user gets the file's permitted capabilities, effective, and AT_SECURE.
    let out = u.exec(&f, false);
    assert_eq!(out.cred.cap_permitted, bit(CAP_NET_RAW));
    assert_eq!(out.cred.cap_effective, bit(CAP_NET_RAW));
    assert!(out.secure && !out.missing_caps);
    assert_eq!(out.cred.euid, 1000);
    // Without the effective bit they are only permitted.
    let lazy = ExecFile {
        caps: Some(FileCaps {
            effective: false,
            ..caps
        }),
        ..f
    };
    let out = u.exec(&lazy, false);
    assert_eq!(
        (out.cred.cap_permitted, out.cred.cap_effective),
        (bit(CAP_NET_RAW), 0)
    );
    // Not on a nosuid mount, not under no_new_privs.
    assert_eq!(
        u.exec(&ExecFile { nosuid: true, ..f }, false)
            .cred
            .cap_permitted,
        0
    );
    assert_eq!(u.exec(&f, true).cred.cap_permitted, 0);
    // A capability the bounding set lacks: with the effective bit execve must fail.
    let mut dropped = user(1000);
    dropped.cap_bset &= !bit(CAP_NET_RAW);
    assert!(dropped.exec(&f, false).missing_caps);
    assert!(!dropped.exec(&lazy, false).missing_caps);
    // Inheritable capabilities pass through the file's inheritable set; ambient ones go.
    let mut inh = Cred::default();
    inh.capset(CAP_FULL_SET, CAP_FULL_SET, bit(CAP_KILL))
        .unwrap();
    inh.ambient_set(CAP_KILL as usize, true).unwrap();
    inh.set_keepcaps(1).unwrap();
    inh.set_res(Ids::User, 1000, 1000, 1000).unwrap();
    let fi = ExecFile {
        caps: Some(FileCaps {
            permitted: 0,
            inheritable: bit(CAP_KILL),
            effective: false,
        }),
        ..f
    };
    let out = inh.exec(&fi, false);
    assert_eq!(out.cred.cap_permitted, bit(CAP_KILL));
    assert_eq!(out.cred.cap_ambient, 0);
    // Root still gets everything.
    let out = Cred::default().exec(&f, false);
    assert_eq!(out.cred.cap_effective, CAP_FULL_SET);
}
