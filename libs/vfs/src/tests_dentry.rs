//! The dentry cache: one dentry per name, moved in place by renames, marked by unlinks.
use super::*;
extern crate std;
use crate::tests::{fs, root_cred};

fn res(root: &Arc<Dentry>, m: &MountTable, p: &[u8]) -> Arc<Dentry> {
    let c = root_cred();
    let ctx = WalkCtx {
        root,
        start: root,
        mounts: m,
        cred: &c,
    };
    resolve(&ctx, p, true).unwrap()
}

fn mkdir(d: &Arc<Dentry>, name: &[u8]) -> Arc<dyn Inode> {
    d.inode
        .create(name, FileType::Directory, 0o755, 0, 0, 0)
        .unwrap()
}

#[test]
fn one_dentry_per_name() {
    let (r, m) = fs();
    mkdir(&r, b"a");
    let x = res(&r, &m, b"/a");
    let y = res(&r, &m, b"/a/../a/.");
    assert!(Arc::ptr_eq(&x, &y));
    drop((x, y));
    // Forgotten when the last holder lets go.
    assert!(r.children_len() == 0);
}

#[test]
fn rename_moves_holders() {
    let (r, m) = fs();
    let a = mkdir(&r, b"a");
    a.create(b"b", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    mkdir(&r, b"other");
    let b = res(&r, &m, b"/a/b");
    assert_eq!(path_of(&b, &r), b"/a/b");
    r.inode.rename(b"a", &r.inode, b"z", 0).unwrap();
    d_move(&r, b"a", &r, b"z", &a, false);
    assert_eq!(path_of(&b, &r), b"/z/b");
    // Into another directory: ".." follows.
    let z = res(&r, &m, b"/z");
    let other = res(&r, &m, b"/other");
    z.inode.rename(b"b", &other.inode, b"b2", 0).unwrap();
    d_move(&z, b"b", &other, b"b2", &b.inode, false);
    assert_eq!(path_of(&b, &r), b"/other/b2");
    assert!(Arc::ptr_eq(&b.parent().unwrap(), &other));
    assert!(Arc::ptr_eq(&res(&r, &m, b"/other/b2"), &b));
    // Unlinked: the dentry keeps its last place and says it is gone.
    other.inode.rmdir(b"b2").unwrap();
    d_delete(&other, b"b2");
    assert!(b.is_deleted());
    assert_eq!(d_path(&b, &r), b"/other/b2 (deleted)");
}

#[test]
fn exchange_and_replace() {
    let (r, m) = fs();
    mkdir(&r, b"x");
    mkdir(&r, b"y");
    let x = res(&r, &m, b"/x");
    let y = res(&r, &m, b"/y");
    d_move(&r, b"x", &r, b"y", &x.inode, true);
    assert_eq!(
        (path_of(&x, &r), path_of(&y, &r)),
        (b"/y".to_vec(), b"/x".to_vec())
    );
    // A rename onto a name deletes the dentry it replaced.
    d_move(&r, b"y", &r, b"x", &x.inode, false);
    assert_eq!(path_of(&x, &r), b"/x");
    assert!(y.is_deleted() && !x.is_deleted());
}

#[test]
fn stale_entry_replaced() {
    // A name that now names another file (changed behind the cache) gets a new dentry.
    let (r, m) = fs();
    mkdir(&r, b"a");
    let a = res(&r, &m, b"/a");
    r.inode.rmdir(b"a").unwrap();
    mkdir(&r, b"a");
    let b = res(&r, &m, b"/a");
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(path_of(&b, &r), b"/a");
}

#[test]
fn lookup_between_rename_and_d_move() {
    // Without the big kernel lock, a lookup of the new name may run after the file system's
    // rename and before d_move: its dentry names the moved file and must not be marked deleted.
    let (r, m) = fs();
    let a = mkdir(&r, b"a");
    mkdir(&r, b"b");
    let da = res(&r, &m, b"/a");
    let db = res(&r, &m, b"/b");
    r.inode.rename(b"a", &r.inode, b"b", 0).unwrap();
    let raced = res(&r, &m, b"/b");
    assert!(identity(&raced.inode) == identity(&a));
    d_move(&r, b"a", &r, b"b", &a, false);
    assert!(!raced.is_deleted() && !da.is_deleted());
    assert_eq!(path_of(&raced, &r), b"/b");
    assert_eq!(path_of(&da, &r), b"/b");
    // The moved dentry takes the name in the cache; the raced one stays valid beside it.
    assert!(Arc::ptr_eq(&res(&r, &m, b"/b"), &da));
    // The raced lookup dropped the replaced directory's dentry from the cache before d_move
    // could see it: it is not found any more, whatever it says of itself.
    assert!(!Arc::ptr_eq(&res(&r, &m, b"/b"), &db));
}

#[test]
fn raced_lookup_adopted_when_nobody_held_the_source() {
    let (r, m) = fs();
    let a = mkdir(&r, b"a");
    mkdir(&r, b"b");
    r.inode.rename(b"a", &r.inode, b"b", 0).unwrap();
    let raced = res(&r, &m, b"/b");
    d_move(&r, b"a", &r, b"b", &a, false);
    assert!(!raced.is_deleted());
    assert!(Arc::ptr_eq(&res(&r, &m, b"/b"), &raced));
    assert_eq!(d_path(&raced, &r), b"/b");
}

#[test]
fn raced_lookups_in_an_exchange() {
    // Both names looked up between the exchange and d_move: each raced dentry already names
    // its file where it is and stays there.
    let (r, m) = fs();
    let x = mkdir(&r, b"x");
    let y = mkdir(&r, b"y");
    let dx = res(&r, &m, b"/x");
    r.inode
        .rename(b"x", &r.inode, b"y", lintel_abi::fs::RENAME_EXCHANGE)
        .unwrap();
    let at_y = res(&r, &m, b"/y");
    let at_x = res(&r, &m, b"/x");
    assert!(identity(&at_y.inode) == identity(&x) && identity(&at_x.inode) == identity(&y));
    d_move(&r, b"x", &r, b"y", &x, true);
    for d in [&at_x, &at_y] {
        assert!(!d.is_deleted());
    }
    assert_eq!(
        (path_of(&at_x, &r), path_of(&at_y, &r)),
        (b"/x".to_vec(), b"/y".to_vec())
    );
    assert!(Arc::ptr_eq(&res(&r, &m, b"/x"), &at_x));
    assert!(Arc::ptr_eq(&res(&r, &m, b"/y"), &at_y));
    // The x dentry held from before was pushed out of the cache by the lookup of /x (it named
    // another file there): it keeps its old place, a limit of lookups racing an exchange.
    assert_eq!(path_of(&dx, &r), b"/x");
}
