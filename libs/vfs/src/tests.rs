use super::*;
extern crate std;
use alloc::vec;
use lintel_abi::stat::Timespec;

pub(crate) fn fs() -> (Arc<Dentry>, MountTable) {
    let clock: Clock = Arc::new(|| Timespec {
        sec: 1_700_000_000,
        nsec: 0,
    });
    (
        Dentry::new_root(new_tmpfs::<HeapPage>(clock, 1)),
        MountTable::new(),
    )
}

pub(crate) fn root_cred() -> Cred {
    Cred {
        uid: 0,
        gid: 0,
        groups: vec![],
        caps: lintel_abi::capability::CAP_FULL_SET,
    }
}

fn res(root: &Arc<Dentry>, m: &MountTable, p: &[u8], follow: bool) -> KResult<Arc<Dentry>> {
    let c = root_cred();
    resolve(
        &WalkCtx {
            root,
            start: root,
            mounts: m,
            cred: &c,
        },
        p,
        follow,
    )
}

#[test]
fn create_and_resolve() {
    let (r, m) = fs();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    a.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    assert!(res(&r, &m, b"/a/f", true).is_ok());
    assert!(res(&r, &m, b"a//f", true).is_ok());
    assert_eq!(res(&r, &m, b"/a/g", true).err(), Some(Errno::ENOENT));
    assert_eq!(res(&r, &m, b"/a/f/x", true).err(), Some(Errno::ENOTDIR));
    assert_eq!(res(&r, &m, b"/a/f/", true).err(), Some(Errno::ENOTDIR));
    assert!(res(&r, &m, b"/a/", true).is_ok());
    assert_eq!(
        path_of(&res(&r, &m, b"/a/../a/./f", true).unwrap(), &r),
        b"/a/f"
    );
    assert_eq!(path_of(&res(&r, &m, b"/../..", true).unwrap(), &r), b"/");
    assert_eq!(r.inode.stat().nlink, 3);
}

#[test]
fn symlinks() {
    let (r, m) = fs();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    a.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    r.inode.symlink(b"l", b"a/f", 0, 0).unwrap();
    r.inode.symlink(b"d", b"/a", 0, 0).unwrap();
    r.inode.symlink(b"loop", b"loop", 0, 0).unwrap();
    assert_eq!(
        res(&r, &m, b"/l", true).unwrap().inode.file_type(),
        FileType::Regular
    );
    assert_eq!(
        res(&r, &m, b"/l", false).unwrap().inode.file_type(),
        FileType::Symlink
    );
    assert_eq!(
        res(&r, &m, b"/d/f", false).unwrap().inode.file_type(),
        FileType::Regular
    );
    assert_eq!(
        res(&r, &m, b"/d/", false).unwrap().inode.file_type(),
        FileType::Directory
    );
    assert_eq!(res(&r, &m, b"/loop", true).err(), Some(Errno::ELOOP));
    assert!(res(&r, &m, b"/loop", false).is_ok());
    assert_eq!(path_of(&res(&r, &m, b"/d/..", true).unwrap(), &r), b"/");
}

#[test]
fn names_too_long() {
    let (r, m) = fs();
    let long = vec![b'x'; 256];
    assert_eq!(res(&r, &m, &long, true).err(), Some(Errno::ENAMETOOLONG));
    let path = vec![b'a'; 5000];
    assert_eq!(res(&r, &m, &path, true).err(), Some(Errno::ENAMETOOLONG));
}

#[test]
fn permissions() {
    let (r, m) = fs();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o700, 0, 0, 0)
        .unwrap();
    a.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    let user = Cred {
        uid: 1000,
        gid: 1000,
        groups: vec![],
        caps: 0,
    };
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &user,
    };
    assert_eq!(resolve(&ctx, b"/a/f", true).err(), Some(Errno::EACCES));
    let st = a.lookup(b"f").unwrap().stat();
    assert!(permission(&st, &user, 4).is_ok());
    assert_eq!(permission(&st, &user, 2).err(), Some(Errno::EACCES));
    assert_eq!(permission(&st, &root_cred(), 1).err(), Some(Errno::EACCES));
    assert!(permission(&st, &root_cred(), 6).is_ok());
}

/// A second tmpfs (id 2) holding `name` of `kind`, mounted on a new folder /mnt.
fn mount_other(r: &Arc<Dentry>, m: &MountTable, name: &[u8], kind: FileType) -> Arc<VfsMount> {
    r.inode
        .create(b"mnt", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    let clock: Clock = Arc::new(Timespec::default);
    let other = new_tmpfs::<HeapPage>(clock, 2);
    other.create(name, kind, 0o755, 0, 0, 0).unwrap();
    m.mount(&res(r, m, b"/mnt", true).unwrap(), other).unwrap()
}

#[test]
fn mounts_and_dotdot() {
    let (r, m) = fs();
    mount_other(&r, &m, b"inner", FileType::Regular);
    let d = res(&r, &m, b"/mnt/inner", true).unwrap();
    assert_eq!(d.inode.fs_id(), 2);
    assert_eq!(res(&r, &m, b"/mnt/..", true).unwrap().inode.fs_id(), 1);
    assert_eq!(path_of(&d, &r), b"/mnt/inner");
}

/// A lazily unmounted mount: gone from the walk, while what was reached through it names
/// itself from the detached root and `..` stops there.
#[test]
fn detached_mount() {
    let (r, m) = fs();
    let vfs = mount_other(&r, &m, b"dir", FileType::Directory);
    let top = res(&r, &m, b"/mnt", true).unwrap();
    let d = res(&r, &m, b"/mnt/dir", true).unwrap();
    assert!(!vfs.is_detached());
    assert_eq!(m.umount_tree(vfs.id()), vec![vfs.id()]);
    assert!(vfs.is_detached() && d.vfsmount().is_detached());
    assert_eq!(res(&r, &m, b"/mnt", true).unwrap().inode.fs_id(), 1);
    assert_eq!(path_of(&d, &r), b"/dir");
    assert_eq!(path_of(&top, &r), b"/");
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &d,
        mounts: &m,
        cred: &c,
    };
    let up = resolve(&ctx, b"../..", true).unwrap();
    assert_eq!(up.inode.fs_id(), 2);
    assert_eq!(path_of(&up, &r), b"/");
}

#[test]
fn rename_rules() {
    let (r, _m) = fs();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    let b = a.create(b"b", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    r.inode
        .create(b"f", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    assert_eq!(r.inode.rename(b"a", &b, b"x", 0).err(), Some(Errno::EINVAL));
    assert_eq!(
        r.inode.rename(b"f", &r.inode, b"a", 0).err(),
        Some(Errno::EISDIR)
    );
    assert_eq!(
        r.inode.rename(b"a", &r.inode, b"f", 0).err(),
        Some(Errno::ENOTDIR)
    );
    r.inode
        .create(b"g", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    assert_eq!(
        r.inode.rename(b"f", &r.inode, b"g", RENAME_NOREPLACE).err(),
        Some(Errno::EEXIST)
    );
    r.inode
        .rename(b"f", &r.inode, b"g", RENAME_EXCHANGE)
        .unwrap();
    r.inode.rename(b"f", &b, b"moved", 0).unwrap();
    assert!(b.lookup(b"moved").is_ok());
    assert_eq!(r.inode.lookup(b"f").err(), Some(Errno::ENOENT));
    // Moving a directory updates link counts.
    r.inode.rename(b"a", &r.inode, b"a2", 0).unwrap();
    let a2 = r.inode.lookup(b"a2").unwrap();
    a2.rename(b"b", &r.inode, b"b2", 0).unwrap();
    assert_eq!(a2.stat().nlink, 2);
    assert_eq!(r.inode.stat().nlink, 4);
    assert_eq!(r.inode.rmdir(b"a2"), Ok(()));
}

#[test]
fn readdir_stable_while_deleting() {
    let (r, _m) = fs();
    for i in 0..20u8 {
        r.inode
            .create(&[b'a' + i], FileType::Regular, 0o644, 0, 0, 0)
            .unwrap();
    }
    let mut cookie = 0;
    let mut seen = vec![];
    while let Some((e, next)) = r.inode.readdir(cookie).unwrap() {
        if e.name.len() == 1 && e.name[0] != b'.' {
            let _ = r.inode.unlink(&e.name);
        }
        seen.push(e.name);
        cookie = next;
    }
    assert_eq!(seen.len(), 22);
    assert_eq!(r.inode.readdir(2).unwrap(), None);
}

#[test]
fn links_and_truncate() {
    let (r, _m) = fs();
    let f = r
        .inode
        .create(b"f", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    r.inode.link(b"g", &f).unwrap();
    assert_eq!(f.stat().nlink, 2);
    r.inode.unlink(b"f").unwrap();
    assert_eq!(f.stat().nlink, 1);
    f.write_at(0, b"hello world").unwrap();
    f.truncate(5).unwrap();
    f.truncate(8).unwrap();
    let mut b = [1u8; 16];
    assert_eq!(f.read_at(0, &mut b).unwrap(), 8);
    assert_eq!(&b[..8], b"hello\0\0\0");
    assert_eq!(f.write_at(20, b"x").unwrap(), 1);
    assert_eq!(f.stat().size, 21);
    let d = r
        .inode
        .create(b"d", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    d.create(b"x", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    assert_eq!(r.inode.rmdir(b"d").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(r.inode.unlink(b"d").err(), Some(Errno::EISDIR));
    assert_eq!(r.inode.rmdir(b"g").err(), Some(Errno::ENOTDIR));
    assert_eq!(r.inode.link(b"dd", &d).err(), Some(Errno::EPERM));
}

#[test]
fn parent_resolution() {
    let (r, m) = fs();
    r.inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    let (p, n, t) = resolve_parent(&ctx, b"/a/new/").unwrap();
    assert_eq!(
        (path_of(&p, &r), n, t),
        (b"/a".to_vec(), b"new".to_vec(), true)
    );
    let (p, n, _) = resolve_parent(&ctx, b"x").unwrap();
    assert_eq!((path_of(&p, &r), n), (b"/".to_vec(), b"x".to_vec()));
    let (_, n, _) = resolve_parent(&ctx, b"/").unwrap();
    assert!(n.is_empty());
    assert_eq!(resolve_parent(&ctx, b"/nope/x").err(), Some(Errno::ENOENT));
}

#[test]
fn create_through_symlinks() {
    let (r, m) = fs();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    a.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    a.symlink(b"dangling", b"t", 0, 0).unwrap();
    r.inode.symlink(b"chain", b"a/dangling", 0, 0).unwrap();
    r.inode.symlink(b"abs", b"/a/u", 0, 0).unwrap();
    r.inode.symlink(b"nodir", b"missing/t", 0, 0).unwrap();
    r.inode.symlink(b"slash", b"newdir/", 0, 0).unwrap();
    r.inode.symlink(b"existing", b"a/f", 0, 0).unwrap();
    r.inode.symlink(b"loop", b"loop", 0, 0).unwrap();
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    let at = |p: &[u8], follow: bool| {
        resolve_create(&ctx, p, follow).map(|(d, n, t)| (path_of(&d, &r), n, t))
    };
    // A dangling link's target, relative to the link's directory, through a chain of links.
    let want = (b"/a".to_vec(), b"t".to_vec(), false);
    assert_eq!(at(b"/a/dangling", true), Ok(want.clone()));
    assert_eq!(at(b"chain", true), Ok(want));
    assert_eq!(at(b"abs", true), Ok((b"/a".to_vec(), b"u".to_vec(), false)));
    // An existing target is returned as itself; the caller opens it.
    assert_eq!(
        at(b"existing", true),
        Ok((b"/a".to_vec(), b"f".to_vec(), false))
    );
    // Not following (O_EXCL, O_NOFOLLOW): the link itself.
    assert_eq!(
        at(b"chain", false),
        Ok((b"/".to_vec(), b"chain".to_vec(), false))
    );
    assert_eq!(at(b"nodir", true).err(), Some(Errno::ENOENT));
    assert_eq!(
        at(b"slash", true),
        Ok((b"/".to_vec(), b"newdir".to_vec(), true))
    );
    assert_eq!(at(b"loop", true).err(), Some(Errno::ELOOP));
    // A plain missing name is unchanged.
    assert_eq!(
        at(b"/a/new", true),
        Ok((b"/a".to_vec(), b"new".to_vec(), false))
    );
}

fn stat_of(mode: u32, uid: u32, gid: u32) -> lintel_abi::stat::Stat {
    lintel_abi::stat::Stat {
        mode,
        uid,
        gid,
        ..Default::default()
    }
}

fn user_with(caps: u64) -> Cred {
    Cred {
        uid: 1000,
        gid: 1000,
        groups: vec![50],
        caps,
    }
}

#[test]
fn capabilities_override_dac() {
    use lintel_abi::capability::*;
    let secret = stat_of(S_IFREG | 0o600, 0, 0);
    let dir = stat_of(S_IFDIR | 0o700, 0, 0);
    let bit = |c: u32| 1u64 << c;
    assert_eq!(permission(&secret, &user_with(0), 4), Err(Errno::EACCES));
    // CAP_DAC_READ_SEARCH reads files and searches or lists directories, never writes.
    let rs = user_with(bit(CAP_DAC_READ_SEARCH));
    assert!(permission(&secret, &rs, 4).is_ok());
    assert_eq!(permission(&secret, &rs, 2), Err(Errno::EACCES));
    assert!(permission(&dir, &rs, 5).is_ok());
    assert_eq!(permission(&dir, &rs, 3), Err(Errno::EACCES));
    // CAP_DAC_OVERRIDE does everything but executing a file with no execute bit.
    let ov = user_with(bit(CAP_DAC_OVERRIDE));
    assert!(permission(&secret, &ov, 6).is_ok());
    assert!(permission(&dir, &ov, 7).is_ok());
    assert_eq!(permission(&secret, &ov, 1), Err(Errno::EACCES));
    assert!(permission(&stat_of(S_IFREG | 0o010, 0, 0), &ov, 1).is_ok());
    // uid 0 without capabilities is an ordinary owner.
    let bare_root = Cred::default();
    assert_eq!(
        permission(&stat_of(S_IFREG | 0o077, 0, 0), &bare_root, 4),
        Err(Errno::EACCES)
    );
    // The owner class decides even when the group class would allow more.
    let u = user_with(0);
    assert_eq!(
        permission(&stat_of(S_IFREG | 0o070, 1000, 50), &u, 4),
        Err(Errno::EACCES)
    );
    assert!(permission(&stat_of(S_IFREG | 0o040, 1, 50), &u, 4).is_ok());
}

#[test]
fn owner_rules() {
    use crate::{chmod_mode, chown_kill_bits, chown_ok, kill_suid_bits, sticky_ok};
    use lintel_abi::capability::*;
    let u = user_with(0);
    let tmp = stat_of(S_IFDIR | 0o1777, 0, 0);
    assert!(!sticky_ok(&tmp, &stat_of(S_IFREG | 0o666, 2000, 2000), &u));
    assert!(sticky_ok(&tmp, &stat_of(S_IFREG | 0o666, 1000, 2000), &u));
    assert!(sticky_ok(
        &tmp,
        &stat_of(S_IFREG, 2000, 0),
        &user_with(1 << CAP_FOWNER)
    ));
    let mine = stat_of(S_IFREG | 0o6755, 1000, 1000);
    assert!(chown_ok(&mine, &u, None, Some(50)));
    assert!(!chown_ok(&mine, &u, None, Some(60)));
    assert!(!chown_ok(&mine, &u, Some(0), None));
    assert!(chown_ok(&mine, &u, Some(1000), None));
    assert!(chown_ok(
        &mine,
        &user_with(1 << CAP_CHOWN),
        Some(0),
        Some(60)
    ));
    assert_eq!(chmod_mode(&stat_of(S_IFREG, 1000, 60), &u, 0o2755), 0o755);
    assert_eq!(chmod_mode(&stat_of(S_IFREG, 1000, 50), &u, 0o2755), 0o2755);
    assert_eq!(kill_suid_bits(&mine, &u), S_ISUID | S_ISGID);
    assert_eq!(kill_suid_bits(&mine, &user_with(1 << CAP_FSETID)), 0);
    // setgid without group execute (mandatory-locking mark) stays for a member of the group.
    assert_eq!(kill_suid_bits(&stat_of(S_IFREG | 0o2644, 1000, 50), &u), 0);
    assert_eq!(
        kill_suid_bits(&stat_of(S_IFREG | 0o2644, 1000, 60), &u),
        S_ISGID
    );
    assert_eq!(chown_kill_bits(&mine, &Cred::default()), S_ISUID | S_ISGID);
    assert_eq!(chown_kill_bits(&stat_of(S_IFDIR | 0o2755, 0, 0), &u), 0);
}

#[test]
fn tmpfs_options() {
    let p = |s: &[u8]| parse_tmpfs_options(s, 1000);
    assert_eq!(p(b"size=100k").unwrap().blocks, Some(25));
    assert_eq!(p(b"size=1G").unwrap().blocks, Some(262144));
    assert_eq!(p(b"size=0x2000").unwrap().blocks, Some(2));
    assert_eq!(p(b"size=10%").unwrap().blocks, Some(100));
    assert_eq!(
        p(b"nr_inodes=2k,mode=0700,uid=5,gid=6,,rw,huge=never").unwrap(),
        TmpfsOptions {
            blocks: None,
            inodes: Some(2048),
            mode: Some(0o700),
            uid: Some(5),
            gid: Some(6),
        }
    );
    for bad in [
        &b"size="[..],
        b"size=1x",
        b"size=-1",
        b"mode=9",
        b"nr_inodes=1%",
        b"x=1",
        b"uid=a",
        b"size",
    ] {
        assert_eq!(
            p(bad),
            Err(Errno::EINVAL),
            "{}",
            core::str::from_utf8(bad).unwrap()
        );
    }
}

#[test]
fn tmpfs_limits() {
    let clock: Clock = Arc::new(|| Timespec { sec: 0, nsec: 0 });
    let o = TmpfsOptions {
        blocks: Some(4),
        inodes: Some(3),
        ..TmpfsOptions::default()
    };
    let root = new_tmpfs_with::<HeapPage>(clock, 9, &o);
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((4, 4, 3, 2)));
    assert_eq!(
        tmpfs_mount_options::<HeapPage>(&root, 4, 100).as_deref(),
        Some(",nr_inodes=3")
    );
    let f = root
        .create(b"f", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    // A write past the limit stops at the last page that fits, then ENOSPC.
    assert_eq!(f.write_at(0, &[1u8; 5 * 4096]), Ok(4 * 4096));
    assert_eq!(f.write_at(4 * 4096, b"x"), Err(Errno::ENOSPC));
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((4, 0, 3, 1)));
    root.link(b"g", &f).unwrap();
    assert_eq!(
        root.create(b"h", FileType::Regular, 0o644, 0, 0, 0).err(),
        Some(Errno::ENOSPC)
    );
    assert_eq!(
        tmpfs_reconfigure::<HeapPage>(
            &root,
            &TmpfsOptions {
                blocks: Some(3),
                ..o
            }
        ),
        Err(Errno::EINVAL)
    );
    root.unlink(b"g").unwrap();
    root.unlink(b"f").unwrap();
    // Still open: the pages come back when the last reference goes.
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((4, 0, 3, 1)));
    drop(f);
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((4, 4, 3, 2)));
    tmpfs_reconfigure::<HeapPage>(
        &root,
        &TmpfsOptions {
            blocks: Some(8),
            ..TmpfsOptions::default()
        },
    )
    .unwrap();
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((8, 8, 3, 2)));
    // No limit: nothing to report, and none can be added later.
    let free = new_tmpfs::<HeapPage>(Arc::new(|| Timespec { sec: 0, nsec: 0 }), 10);
    assert_eq!(tmpfs_statfs::<HeapPage>(&free), Some((0, 0, 0, 0)));
    assert_eq!(tmpfs_reconfigure::<HeapPage>(&free, &o), Err(Errno::EINVAL));
}

/// A tmpfs of `blocks` pages and a file "f" in it.
fn tmpfs_with_file(id: u64, blocks: u64) -> (Arc<dyn Inode>, Arc<dyn Inode>) {
    let clock: Clock = Arc::new(|| Timespec { sec: 0, nsec: 0 });
    let o = TmpfsOptions {
        blocks: Some(blocks),
        ..TmpfsOptions::default()
    };
    let root = new_tmpfs_with::<HeapPage>(clock, id, &o);
    let f = root
        .create(b"f", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    (root, f)
}

#[test]
fn tmpfs_mapped_pages_are_the_file_and_count() {
    let (root, f) = tmpfs_with_file(11, 2);
    // A large hole costs nothing; a fault in it takes a page from the limit.
    f.truncate(1 << 30).unwrap();
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((2, 2, 0, 0)));
    let p = tmpfs_page::<HeapPage>(&f, 100).unwrap().unwrap();
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((2, 1, 0, 0)));
    assert_eq!(f.stat().blocks, 8);
    // The same page again: no new page counted.
    let again = tmpfs_page::<HeapPage>(&f, 100).unwrap().unwrap();
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((2, 1, 0, 0)));
    again.write(0, b"shared");
    let mut b = [0u8; 6];
    f.read_at(100 * 4096, &mut b).unwrap();
    assert_eq!(&b, b"shared");
    let _ = tmpfs_page::<HeapPage>(&f, 5).unwrap().unwrap();
    assert_eq!(
        tmpfs_page::<HeapPage>(&f, 6).unwrap().err(),
        Some(Errno::ENOSPC)
    );
    // Truncation returns the pages to the limit, even while a mapping still holds one.
    f.truncate(0).unwrap();
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((2, 2, 0, 0)));
    p.read(0, &mut b);
    assert_eq!(&b, b"shared");
    // Not a tmpfs regular file.
    assert_eq!(
        tmpfs_page::<HeapPage>(&root, 0).unwrap().err(),
        Some(Errno::EINVAL)
    );
}

/// What the kernel's user copies do, over a slice: moves up to `fault_at` bytes of the
/// caller's buffer, then stops as a fault would.
fn write_faulting(f: &Arc<dyn Inode>, off: u64, data: &[u8], fault_at: usize) -> KResult<usize> {
    tmpfs_copy::<HeapPage>(f, true, off, data.len(), &mut |p, at, done, n| {
        let n = n.min(fault_at.saturating_sub(done));
        p.unwrap().write(at, &data[done..done + n]);
        n
    })
    .unwrap()
}

#[test]
fn tmpfs_reads_and_writes_go_straight_to_pages() {
    let (root, f) = tmpfs_with_file(12, 3);
    let src: Vec<u8> = (0..10000u32).map(|i| (i % 253) as u8).collect();
    let write = |off: u64, data: &[u8], fault_at: usize| write_faulting(&f, off, data, fault_at);
    // Across page boundaries, from an unaligned offset.
    assert_eq!(write(100, &src[..5000], usize::MAX), Ok(5000));
    assert_eq!(f.stat().size, 5100);
    let mut back = vec![0u8; 5100];
    assert_eq!(f.read_at(0, &mut back), Ok(5100));
    assert_eq!(&back[..100], &[0; 100]);
    assert_eq!(&back[100..], &src[..5000]);
    // A fault part way: the size covers what was copied; nothing copied is EFAULT.
    assert_eq!(write(5100, &src[..3000], 1000), Ok(1000));
    assert_eq!(f.stat().size, 6100);
    assert_eq!(write(6100, &src[..10], 0), Err(Errno::EFAULT));
    // A fault before the first byte of a new page leaves no page behind.
    assert_eq!(write(9000, &src[..10], 0), Err(Errno::EFAULT));
    assert_eq!(f.stat().blocks, 2 * 8);
    // Full: the write stops at the last page that fits, then ENOSPC.
    assert_eq!(write(6100, &src, usize::MAX), Ok(3 * 4096 - 6100));
    assert_eq!(write(3 * 4096, b"x", usize::MAX), Err(Errno::ENOSPC));
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((3, 0, 0, 0)));
    // Reads: holes as None, the end of the file stops them, faults cut them short.
    f.truncate(20000).unwrap();
    let mut got = vec![7u8; 30000];
    let mut holes = 0;
    let r = tmpfs_copy::<HeapPage>(&f, false, 0, got.len(), &mut |p, at, done, n| {
        match p {
            Some(p) => p.read(at, &mut got[done..done + n]),
            None => {
                holes += 1;
                got[done..done + n].fill(0);
            }
        }
        n
    });
    assert_eq!(r, Some(Ok(20000)));
    assert_eq!(holes, 2);
    assert_eq!(&got[100..5100], &src[..5000]);
    assert!(got[3 * 4096..20000].iter().all(|&b| b == 0));
    let r = tmpfs_copy::<HeapPage>(&f, false, 20000, 10, &mut |_, _, _, n| n);
    assert_eq!(r, Some(Ok(0)));
    let r = tmpfs_copy::<HeapPage>(&f, false, 0, 10, &mut |_, _, _, _| 0);
    assert_eq!(r, Some(Err(Errno::EFAULT)));
    let r = tmpfs_copy::<HeapPage>(&root, false, 0, 10, &mut |_, _, _, n| n);
    assert_eq!(r, Some(Err(Errno::EISDIR)));
}

/// A write covering whole pages of a hole fills new pages off the file (HeapPage hands them
/// out full of 0xa5): what a fault left unwritten reads as zeros, and a page that exists is
/// written in place, so a mapping of it sees the bytes.
#[test]
fn tmpfs_whole_page_writes_fill_new_pages() {
    let (root, f) = tmpfs_with_file(12, 4);
    let src: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 251) as u8 + 1).collect();
    let write = |off: u64, data: &[u8], fault_at: usize| write_faulting(&f, off, data, fault_at);
    assert_eq!(write(0, &src[..8192], usize::MAX), Ok(8192));
    let mut back = vec![0u8; 8192];
    assert_eq!(f.read_at(0, &mut back), Ok(8192));
    assert_eq!(back, &src[..8192]);
    // A fault in the middle of a whole page: its copied part stays, the rest reads as zeros
    // once the file grows over it.
    assert_eq!(write(8192, &src[..4096], 100), Ok(100));
    assert_eq!(f.stat().size, 8292);
    f.truncate(12288).unwrap();
    let mut page = vec![1u8; 4096];
    assert_eq!(f.read_at(8192, &mut page), Ok(4096));
    assert_eq!(&page[..100], &src[..100]);
    assert!(page[100..].iter().all(|&b| b == 0));
    // Nothing copied: no page is left behind and its block is returned.
    assert_eq!(write(12288, &src[..4096], 0), Err(Errno::EFAULT));
    assert_eq!(f.stat().blocks, 3 * 8);
    // A page a mapping holds is written in place.
    let mapped = tmpfs_page::<HeapPage>(&f, 0).unwrap().unwrap();
    assert_eq!(write(0, &src[4096..8192], usize::MAX), Ok(4096));
    let mut b = [0u8; 16];
    mapped.read(0, &mut b);
    assert_eq!(&b, &src[4096..4096 + 16]);
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((4, 1, 0, 0)));
}

/// A page made while a whole-page write filled its own (a fault of a mapping, with no lock
/// held during the copy): the write goes into that page, and only one block stays counted.
#[test]
fn tmpfs_whole_page_write_meets_a_page_made_meanwhile() {
    let (root, f) = tmpfs_with_file(12, 8);
    let data = vec![9u8; 4096];
    let mut raced = None;
    let r = tmpfs_copy::<HeapPage>(&f, true, 0, 4096, &mut |p, at, done, n| {
        raced = Some(tmpfs_page::<HeapPage>(&f, 0).unwrap().unwrap());
        p.unwrap().write(at, &data[done..done + n]);
        n
    });
    assert_eq!(r, Some(Ok(4096)));
    let mut b = [0u8; 8];
    raced.unwrap().read(4088, &mut b);
    assert_eq!(b, [9; 8]);
    assert_eq!(tmpfs_statfs::<HeapPage>(&root), Some((8, 7, 0, 0)));
}

/// Threads creating, renaming (without replacing) and unlinking a few shared names at once:
/// no rename loses its file (each name change is atomic under the file system's namespace
/// lock), so what is left is what was created and not unlinked.
#[test]
fn tmpfs_names_change_atomically_across_threads() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let root = new_tmpfs::<HeapPage>(Arc::new(|| Timespec { sec: 0, nsec: 0 }), 13);
    let created = Arc::new(AtomicU64::new(0));
    let unlinked = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let (root, created, unlinked) = (root.clone(), created.clone(), unlinked.clone());
            std::thread::spawn(move || {
                let mut x = t * 7919 + 1;
                for _ in 0..10000 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let a = [b'a' + (x >> 33) as u8 % 4];
                    let b = [b'a' + (x >> 40) as u8 % 4];
                    match (x >> 50) % 3 {
                        0 => {
                            if root.create(&a, FileType::Regular, 0o644, 0, 0, 0).is_ok() {
                                created.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        1 => {
                            let _ = root.rename(&a, &root, &b, RENAME_NOREPLACE);
                        }
                        _ => {
                            if root.unlink(&a).is_ok() {
                                unlinked.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // Meanwhile a name being replaced by rename never goes missing.
    root.create(b"keep", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    let flipper = {
        let root = root.clone();
        std::thread::spawn(move || {
            for _ in 0..10000 {
                root.create(b"next", FileType::Regular, 0o644, 0, 0, 0)
                    .unwrap();
                root.rename(b"next", &root, b"keep", 0).unwrap();
            }
        })
    };
    while !flipper.is_finished() {
        assert!(root.lookup(b"keep").is_ok());
    }
    flipper.join().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let mut left = 0;
    let mut cookie = 2;
    while let Some((e, next)) = root.readdir(cookie).unwrap() {
        if e.name != b"keep" {
            left += 1;
        }
        cookie = next;
    }
    let expect = created.load(Ordering::Relaxed) - unlinked.load(Ordering::Relaxed);
    assert_eq!(left, expect);
}

#[test]
fn sysctl_permission_ignores_capabilities() {
    let cred = |uid: u32, groups: Vec<u32>, caps: u64| Cred {
        uid,
        gid: uid,
        groups,
        caps,
    };
    let (root, user, wheel) = (
        cred(0, vec![], u64::MAX),
        cred(1000, vec![], 0),
        cred(1000, vec![0], 0),
    );
    assert_eq!(sysctl_permission(0o444, &root, 4), Ok(()));
    assert_eq!(sysctl_permission(0o444, &root, 2), Err(Errno::EACCES));
    assert_eq!(sysctl_permission(0o200, &root, 4), Err(Errno::EACCES));
    assert_eq!(sysctl_permission(0o200, &root, 2), Ok(()));
    assert_eq!(sysctl_permission(0o644, &root, 6), Ok(()));
    assert_eq!(sysctl_permission(0o644, &user, 2), Err(Errno::EACCES));
    assert_eq!(sysctl_permission(0o644, &user, 4), Ok(()));
    assert_eq!(sysctl_permission(0o640, &wheel, 4), Ok(()));
    assert_eq!(sysctl_permission(0o600, &wheel, 4), Err(Errno::EACCES));
}

#[test]
fn ext4_journal_checksum_option() {
    assert_eq!(ext4_journal_checksum(b""), None);
    assert_eq!(ext4_journal_checksum(b"rw,journal_checksum"), Some(true));
    assert_eq!(ext4_journal_checksum(b"journal_async_commit"), Some(true));
    assert_eq!(
        ext4_journal_checksum(b"journal_checksum,nojournal_checksum"),
        Some(false)
    );
    assert_eq!(
        ext4_journal_checksum(b"journal_checksumx,data=ordered"),
        None
    );
}
