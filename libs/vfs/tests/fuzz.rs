//! Fuzzing path resolution: random paths made of slashes, ".", "..", long names, random bytes
//! and the names of a tmpfs tree full of symlinks (loops, chains past MAXSYMLINKS, links to
//! "..", to "/", dangling, with trailing slashes, a long target) and a second tmpfs mounted
//! inside it. Every lookup ends, with a result inside the root or one of the errors Linux
//! gives, never a panic.

#[path = "../../fuzz_harness.rs"]
mod harness;

use harness::Rng;
use lintel_abi::stat::Timespec;
use lintel_abi::Errno;
use lintel_vfs::{
    identity, new_tmpfs, path_of, resolve, resolve_create, resolve_parent, Clock, Cred, Dentry,
    FileType, HeapPage, MountTable, WalkCtx,
};
use std::sync::Arc;

struct Tree {
    root: Arc<Dentry>,
    sub: Arc<Dentry>,
    mounts: MountTable,
}

fn tree() -> Tree {
    let clock: Clock = Arc::new(|| Timespec { sec: 1, nsec: 0 });
    let root = Dentry::new_root(new_tmpfs::<HeapPage>(clock.clone(), 1));
    let r = &root.inode;
    let a = r.create(b"a", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    let b = a.create(b"b", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    b.create(b"c", FileType::Directory, 0o700, 0, 0, 0).unwrap();
    b.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    r.create(b"closed", FileType::Directory, 0, 0, 0, 0)
        .unwrap();
    a.create(b"m", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    let links: &[(&[u8], &[u8])] = &[
        (b"l1", b"l2"),
        (b"l2", b"l1"),
        (b"self", b"self"),
        (b"up", b".."),
        (b"top", b"/"),
        (b"ab", b"/a/b"),
        (b"fslash", b"a/b/f/"),
        (b"dangling", b"/nowhere/x"),
        (b"empty", b""),
        (b"deep", b"ab/../ab/c/../../up/a/b"),
    ];
    for (name, target) in links {
        r.symlink(name, target, 0, 0).unwrap();
    }
    b.symlink(b"back", b"../../../../a", 0, 0).unwrap();
    // A chain longer than MAXSYMLINKS (40), and one just within it.
    for i in 0..45 {
        let target = if i == 44 {
            b"a".to_vec()
        } else {
            format!("c{}", i + 1).into_bytes()
        };
        r.symlink(format!("c{i}").as_bytes(), &target, 0, 0)
            .unwrap();
    }
    let long = "x/".repeat(2100);
    r.symlink(b"long", long.as_bytes(), 0, 0).unwrap();
    let mounts = MountTable::new();
    let sub = Dentry::child(&Dentry::child(&root, b"a", a.clone()), b"b", b.clone());
    let m = a.lookup(b"m").unwrap();
    let mroot = new_tmpfs::<HeapPage>(clock, 2);
    mroot
        .create(b"inner", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    mroot.symlink(b"out", b"../../..", 0, 0).unwrap();
    mroot.symlink(b"loop", b"/a/m/loop", 0, 0).unwrap();
    let at = Dentry::child(&Dentry::child(&root, b"a", a), b"m", m);
    mounts.mount(&at, mroot).unwrap();
    Tree { root, sub, mounts }
}

const TOKENS: &[&str] = &[
    "a", "b", "c", "f", "m", "inner", "out", "loop", "l1", "self", "up", "top", "ab", "fslash",
    "dangling", "empty", "deep", "back", "c0", "c5", "c20", "long", "closed", ".", "..", "...",
    "nope",
];

fn random_path(rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    if rng.one_in(2) {
        p.push(b'/');
    }
    for _ in 0..rng.below(12) {
        match rng.below(30) {
            0 => p.extend(std::iter::repeat_n(b'/', 1 + rng.below(4))),
            1 => p.extend(std::iter::repeat_n(b'n', 250 + rng.below(10))),
            2 => {
                let n = 1 + rng.below(8);
                p.extend(rng.bytes(n).into_iter().map(|c| c.max(1)));
            }
            3 if rng.one_in(20) => p.extend(std::iter::repeat_n(b'/', 4096)),
            _ => p.extend_from_slice(rng.pick(TOKENS).as_bytes()),
        }
        if rng.below(5) != 0 {
            p.push(b'/');
        }
    }
    p
}

fn allowed(e: Errno) -> bool {
    matches!(
        e,
        Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::ENAMETOOLONG | Errno::EACCES
    )
}

/// The dentry's parent chain reaches the walk's root: ".." and links never leave it.
fn inside(d: &Arc<Dentry>, root: &Arc<Dentry>) -> bool {
    let mut cur = Some(d.clone());
    while let Some(c) = cur {
        if identity(&c.inode) == identity(&root.inode) {
            return true;
        }
        cur = c.parent();
    }
    false
}

fn case(rng: &mut Rng, _round: usize) {
    thread_local! {
        static TREE: Tree = tree();
    }
    TREE.with(|t| {
        let cred = if rng.one_in(3) {
            Cred {
                uid: 1000,
                gid: 1000,
                groups: vec![],
                caps: 0,
            }
        } else {
            Cred {
                caps: lintel_abi::capability::CAP_FULL_SET,
                ..Cred::default()
            }
        };
        // Half the walks run chrooted into /a/b.
        let root = if rng.one_in(2) { &t.root } else { &t.sub };
        let ctx = WalkCtx {
            root,
            start: if rng.one_in(2) { root } else { &t.sub },
            mounts: &t.mounts,
            cred: &cred,
        };
        let path = random_path(rng);
        match rng.below(3) {
            0 => match resolve(&ctx, &path, rng.one_in(2)) {
                Ok(d) => {
                    if std::ptr::eq(root, &t.root) {
                        assert!(inside(&d, root));
                        let again = path_of(&d, root);
                        if cred.uid == 0 && again.len() < 4096 {
                            let d2 = resolve(&ctx, &again, false).unwrap();
                            assert_eq!(identity(&d2.inode), identity(&d.inode));
                        }
                    }
                }
                Err(e) => assert!(allowed(e), "{e:?}"),
            },
            1 => match resolve_parent(&ctx, &path) {
                Ok((d, name, _)) => {
                    assert!(name.len() <= 255 && !name.contains(&b'/'));
                    assert!(!std::ptr::eq(root, &t.root) || inside(&d, root));
                }
                Err(e) => assert!(allowed(e), "{e:?}"),
            },
            _ => match resolve_create(&ctx, &path, rng.one_in(2)) {
                Ok((_, name, _)) => assert!(name.len() <= 255),
                Err(e) => assert!(allowed(e), "{e:?}"),
            },
        }
    });
}

#[test]
fn fuzz_vfs_paths() {
    harness::run("fuzz_vfs_paths", 3000, case);
}
