use crate::*;
use alloc::vec;
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
