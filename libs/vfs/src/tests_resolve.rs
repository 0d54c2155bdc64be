//! openat2's RESOLVE_* restrictions on the path walk.
use super::*;
extern crate std;
use alloc::vec;
use lintel_abi::stat::Timespec;

/// A procfs stand-in on its own file system: a directory holding one magic link, "fd",
/// which resolves to a dentry (like /proc/self/fd/N), not through its text.
struct Magic {
    dir: bool,
    target: Arc<Dentry>,
}

impl Inode for Magic {
    fn stat(&self) -> Stat {
        let (ino, kind) = if self.dir {
            (9998, S_IFDIR)
        } else {
            (9999, S_IFLNK)
        };
        Stat {
            ino,
            mode: kind | 0o755,
            ..Stat::default()
        }
    }
    fn file_type(&self) -> FileType {
        if self.dir {
            FileType::Directory
        } else {
            FileType::Symlink
        }
    }
    fn fs_id(&self) -> u64 {
        77
    }
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        match (self.dir, name) {
            (true, b"fd") => Ok(Arc::new(Magic {
                dir: false,
                target: self.target.clone(),
            })),
            (true, _) => Err(Errno::ENOENT),
            (false, _) => Err(Errno::ENOTDIR),
        }
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        Ok(b"/mnt/inner".to_vec())
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
    fn magic_link(&self) -> Option<KResult<Arc<Dentry>>> {
        (!self.dir).then(|| Ok(self.target.clone()))
    }
}

fn root_cred() -> Cred {
    Cred {
        uid: 0,
        gid: 0,
        groups: vec![],
        caps: lintel_abi::capability::CAP_FULL_SET,
    }
}

/// /a/f, /a/b/, /a/rel -> b, /a/up -> ../a/f, /a/abs -> /a/f, /a/out -> ../x, /x,
/// /mnt (another tmpfs holding `inner`), /a/tomnt -> ../mnt/inner, /proc (magic links).
fn tree() -> (Arc<Dentry>, MountTable) {
    let clock: Clock = Arc::new(Timespec::default);
    let r = Dentry::new_root(new_tmpfs::<HeapPage>(clock.clone(), 1));
    let m = MountTable::new();
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    a.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    a.create(b"b", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    a.symlink(b"rel", b"b", 0, 0).unwrap();
    a.symlink(b"up", b"../a/f", 0, 0).unwrap();
    a.symlink(b"abs", b"/a/f", 0, 0).unwrap();
    a.symlink(b"out", b"../x", 0, 0).unwrap();
    a.symlink(b"tomnt", b"../mnt/inner", 0, 0).unwrap();
    r.inode
        .create(b"x", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    r.inode
        .create(b"mnt", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    r.inode
        .create(b"proc", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    let other = new_tmpfs::<HeapPage>(clock, 2);
    other
        .create(b"inner", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    m.mount(&resolve(&ctx, b"/mnt", true).unwrap(), other)
        .unwrap();
    let x = resolve(&ctx, b"/x", true).unwrap();
    m.mount(
        &resolve(&ctx, b"/proc", true).unwrap(),
        Arc::new(Magic {
            dir: true,
            target: x,
        }),
    )
    .unwrap();
    (r, m)
}

fn how(f: impl FnOnce(&mut Resolve)) -> Resolve {
    let mut h = Resolve::default();
    f(&mut h);
    h
}

/// Resolves `path` from `start` (the root when scoped, as the kernel arranges).
fn go(r: &Arc<Dentry>, m: &MountTable, start: &[u8], path: &[u8], h: Resolve) -> KResult<Vec<u8>> {
    let c = root_cred();
    let base = WalkCtx {
        root: r,
        start: r,
        mounts: m,
        cred: &c,
    };
    let s = resolve(&base, start, true)?;
    let root = if h.beneath || h.in_root {
        s.clone()
    } else {
        r.clone()
    };
    let ctx = WalkCtx {
        root: &root,
        start: &s,
        mounts: m,
        cred: &c,
    };
    resolve_how(&ctx, path, true, &h).map(|d| path_of(&d, r))
}

#[test]
fn no_symlinks() {
    let (r, m) = tree();
    let h = how(|h| h.no_symlinks = true);
    assert_eq!(go(&r, &m, b"/", b"a/f", h), Ok(b"/a/f".to_vec()));
    assert_eq!(go(&r, &m, b"/", b"a/rel", h), Err(Errno::ELOOP));
    assert_eq!(go(&r, &m, b"/", b"a/rel/..", h), Err(Errno::ELOOP));
    assert_eq!(go(&r, &m, b"/", b"proc/fd", h), Err(Errno::ELOOP));
    // An unfollowed final link is fine.
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    assert!(resolve_how(&ctx, b"a/rel", false, &h).is_ok());
    assert_eq!(
        resolve_create_how(&ctx, b"a/rel", true, &h).err(),
        Some(Errno::ELOOP)
    );
}

#[test]
fn no_magiclinks() {
    let (r, m) = tree();
    let h = how(|h| h.no_magiclinks = true);
    assert_eq!(go(&r, &m, b"/", b"proc/fd", h), Err(Errno::ELOOP));
    assert_eq!(go(&r, &m, b"/", b"a/rel", h), Ok(b"/a/b".to_vec()));
    assert_eq!(
        go(&r, &m, b"/", b"proc/fd", Resolve::default()),
        Ok(b"/x".to_vec())
    );
}

#[test]
fn no_xdev() {
    let (r, m) = tree();
    let h = how(|h| h.no_xdev = true);
    assert_eq!(go(&r, &m, b"/", b"mnt/inner", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/", b"a/tomnt", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/mnt", b"inner", h), Ok(b"/mnt/inner".to_vec()));
    assert_eq!(go(&r, &m, b"/mnt", b"..", h), Err(Errno::EXDEV));
    // An absolute path to start with is allowed; an absolute symlink from another mount is not.
    assert_eq!(go(&r, &m, b"/mnt", b"/a/f", h), Ok(b"/a/f".to_vec()));
    assert_eq!(go(&r, &m, b"/", b"a/abs", h), Ok(b"/a/f".to_vec()));
    // The magic link leads from the proc mount to the root file system.
    assert_eq!(go(&r, &m, b"/proc", b"fd", h), Err(Errno::EXDEV));
    assert_eq!(
        go(&r, &m, b"/", b"mnt/inner", Resolve::default()),
        Ok(b"/mnt/inner".to_vec())
    );
}

#[test]
fn beneath() {
    let (r, m) = tree();
    let h = how(|h| h.beneath = true);
    assert_eq!(go(&r, &m, b"/a", b"f", h), Ok(b"/a/f".to_vec()));
    assert_eq!(go(&r, &m, b"/a", b"b/../f", h), Ok(b"/a/f".to_vec()));
    assert_eq!(go(&r, &m, b"/a", b"rel", h), Ok(b"/a/b".to_vec()));
    assert_eq!(go(&r, &m, b"/a", b"..", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/a", b"/a/f", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/a", b"abs", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/a", b"up", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/a", b"out", h), Err(Errno::EXDEV));
    assert_eq!(go(&r, &m, b"/", b"proc/fd", h), Err(Errno::EXDEV));
    let c = root_cred();
    let a = go(&r, &m, b"/", b"a", Resolve::default()).map(|_| ());
    assert!(a.is_ok());
    let base = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    let s = resolve(&base, b"/a", true).unwrap();
    let ctx = WalkCtx {
        root: &s,
        start: &s,
        mounts: &m,
        cred: &c,
    };
    assert_eq!(
        resolve_create_how(&ctx, b"/new", true, &h).err(),
        Some(Errno::EXDEV)
    );
    assert_eq!(
        resolve_create_how(&ctx, b"abs", true, &h).err(),
        Some(Errno::EXDEV)
    );
    let (p, n, _) = resolve_create_how(&ctx, b"b/new", true, &h).unwrap();
    assert_eq!((path_of(&p, &r), n), (b"/a/b".to_vec(), b"new".to_vec()));
}

#[test]
fn in_root() {
    let (r, m) = tree();
    let h = how(|h| h.in_root = true);
    assert_eq!(go(&r, &m, b"/a", b"/f", h), Ok(b"/a/f".to_vec()));
    assert_eq!(go(&r, &m, b"/a", b"../../f", h), Ok(b"/a/f".to_vec()));
    // /a/abs -> /a/f means /a/a/f inside the new root: missing.
    assert_eq!(go(&r, &m, b"/a", b"abs", h), Err(Errno::ENOENT));
    assert_eq!(go(&r, &m, b"/a", b"up", h), Err(Errno::ENOENT));
    assert_eq!(go(&r, &m, b"/", b"proc/fd", h), Err(Errno::EXDEV));
}

/// `resolve_inode` (stat's walk, no dentry for the last name) finds what `resolve` finds, or
/// fails as it does, for every kind of last name: files, directories, `.` and `..`, trailing
/// slashes, symlinks followed and not (relative, `..`, absolute, into a mount), mount points
/// and magic links.
#[test]
fn resolve_inode_matches_resolve() {
    let (r, m) = tree();
    let c = root_cred();
    let ctx = WalkCtx {
        root: &r,
        start: &r,
        mounts: &m,
        cred: &c,
    };
    let paths: &[&[u8]] = &[
        b"/a/f",
        b"/a/f/",
        b"/a/b",
        b"/a/b/",
        b"/a/.",
        b"/a/b/..",
        b"a/f",
        b"/a/rel",
        b"/a/rel/",
        b"/a/up",
        b"/a/abs",
        b"/a/out",
        b"/a/tomnt",
        b"/mnt",
        b"/mnt/inner",
        b"/proc/fd",
        b"/proc/fd/",
        b"/a/missing",
        b"/a/f/x",
        b"/",
        b"//a//f",
    ];
    for p in paths {
        for follow in [true, false] {
            let want = resolve(&ctx, p, follow).map(|d| identity(&d.inode));
            let got = resolve_inode(&ctx, p, follow).map(|i| identity(&i));
            assert_eq!(
                got,
                want,
                "{} follow {follow}",
                std::string::String::from_utf8_lossy(p)
            );
        }
    }
}

/// The word-at-a-time component split gives what splitting at every `/` and dropping the
/// empty names gives, wherever the slashes fall against the 8-byte words.
#[test]
fn components_match_split() {
    let names: &[&[u8]] = &[
        b"a",
        b"bb",
        b"seven77",
        b"eight888",
        b"nine99999",
        b"x.y-z_0123456789",
    ];
    for mask in 0u32..512 {
        let mut p = Vec::new();
        for (i, n) in names.iter().enumerate() {
            for k in 0..3 {
                if mask & (1 << ((i + k) % 9)) != 0 {
                    p.push(b'/');
                }
            }
            p.extend_from_slice(n);
            if mask & (1 << (i % 9)) != 0 {
                p.push(b'/');
            }
        }
        let want: Vec<&[u8]> = p.split(|&c| c == b'/').filter(|c| !c.is_empty()).collect();
        let got: Vec<&[u8]> = crate::path::components_for_test(&p).collect();
        assert_eq!(got, want);
        for cut in 0..p.len() {
            let want = p[cut..].iter().position(|&c| c == b'/');
            assert_eq!(crate::path::find_slash_for_test(&p[cut..]), want);
        }
    }
}
