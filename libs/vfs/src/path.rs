//! Path resolution as path_resolution(7) describes it, and permission checks.

use crate::perm::Cred;
use crate::{Dentry, FileType, Inode, MountTable};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Linux's limit on symlinks followed in one lookup (MAXSYMLINKS).
const MAX_SYMLINKS: u32 = 40;
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4096;

pub struct WalkCtx<'a> {
    pub root: &'a Arc<Dentry>,
    /// Where relative paths start: the cwd or a dirfd's directory.
    pub start: &'a Arc<Dentry>,
    pub mounts: &'a MountTable,
    pub cred: &'a Cred,
}

/// openat2's RESOLVE_* restrictions on a walk. For the scoped ones (`beneath`, `in_root`) the
/// caller makes the walk's root the starting directory, as Linux's path_init does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resolve {
    /// No mount crossing, in either direction, nor by a symlink (EXDEV).
    pub no_xdev: bool,
    /// No /proc-style magic links (ELOOP).
    pub no_magiclinks: bool,
    /// No symlinks at all (ELOOP).
    pub no_symlinks: bool,
    /// Nothing outside the root: absolute paths, absolute symlinks and `..` above it (EXDEV).
    pub beneath: bool,
    /// The root is a chroot: absolute paths and `..` are clamped to it.
    pub in_root: bool,
}

impl Resolve {
    fn scoped(&self) -> bool {
        self.beneath || self.in_root
    }
}

/// Whether a jump to the root (an absolute symlink) is allowed from `cur` (nd_jump_root).
fn jump_root_ok(ctx: &WalkCtx, how: &Resolve, cur: &Arc<Dentry>) -> KResult<()> {
    if how.beneath {
        return Err(Errno::EXDEV);
    }
    if how.no_xdev && cur.inode.fs_id() != ctx.root.inode.fs_id() {
        return Err(Errno::EXDEV);
    }
    Ok(())
}

/// The checks before following the symlink `link` found in `cur` (pick_link, nd_jump_link).
fn follow_ok(how: &Resolve, cur: &Arc<Dentry>, link: &Arc<dyn Inode>) -> KResult<()> {
    if how.no_symlinks {
        return Err(Errno::ELOOP);
    }
    if let Some(target) = link.magic_link() {
        if how.no_magiclinks {
            return Err(Errno::ELOOP);
        }
        if how.no_xdev {
            let t = target?;
            if t.inode.fs_id() != cur.inode.fs_id() {
                return Err(Errno::EXDEV);
            }
        }
        if how.scoped() {
            return Err(Errno::EXDEV);
        }
    }
    Ok(())
}

/// One place: the same file reached through the same mount (Linux's path_equal), so a bind
/// mount of the root elsewhere is not taken for the root.
fn same(a: &Arc<Dentry>, b: &Arc<Dentry>) -> bool {
    Arc::ptr_eq(a, b)
        || (crate::identity(&a.inode) == crate::identity(&b.inode) && a.mnt() == b.mnt())
}

fn dotdot(ctx: &WalkCtx, how: &Resolve, cur: &Arc<Dentry>) -> KResult<Arc<Dentry>> {
    if same(cur, ctx.root) {
        if how.beneath {
            return Err(Errno::EXDEV);
        }
        return Ok(cur.clone());
    }
    match cur.parent() {
        // The root of a detached mount has nothing above it (Linux's follow_dotdot at a
        // mount with no parent).
        Some(p) if detached_root(cur, &p) => Ok(cur.clone()),
        Some(p) => {
            if how.no_xdev && p.inode.fs_id() != cur.inode.fs_id() {
                return Err(Errno::EXDEV);
            }
            Ok(p)
        }
        None => Ok(cur.clone()),
    }
}

/// Whether `d` (whose parent is `p`) is the root of a mount that left the tree: the top of
/// every path from inside it.
fn detached_root(d: &Dentry, p: &Dentry) -> bool {
    p.mnt() != d.mnt() && d.vfsmount().is_detached()
}

/// The names of `path`, without the empty ones of repeated or trailing slashes (no list is
/// built: a walk takes them one by one).
fn components(path: &[u8]) -> Components<'_> {
    Components { rest: path }
}

struct Components<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Components<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&c| c != b'/')?;
        let rest = &self.rest[start..];
        let end = find_slash(rest).unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

/// The index of the first `/` in `s`, eight bytes at a time (as Linux's hash_name): a byte
/// equal to `/` is a zero byte of the word xor-ed with `/` in every byte, and the lowest
/// flagged byte of the zero-byte test is the first zero byte.
fn find_slash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b) ^ (ONES * b'/' as u64);
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'/')
        .map(|p| at + p)
}

fn search_ok(ctx: &WalkCtx, d: &Arc<Dentry>) -> KResult<()> {
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    crate::inode_permission(&*d.inode, ctx.cred, 1)
}

/// Looks up one component in `dir`, crossing into whatever is mounted there.
fn step(ctx: &WalkCtx, how: &Resolve, dir: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let inode = dir.inode.lookup(name)?;
    Ok(match ctx.mounts.covering(dir.mnt(), &inode) {
        Some(_) if how.no_xdev => return Err(Errno::EXDEV),
        Some((mnt, top)) => Dentry::child_in(dir, name, top, &mnt),
        None => Dentry::child(dir, name, inode),
    })
}

/// The inode `name` in `dir` names, crossing into whatever is mounted there: [`step`] without
/// a dentry, for the last name of a walk whose caller wants only the file.
fn step_inode(
    ctx: &WalkCtx,
    how: &Resolve,
    dir: &Arc<Dentry>,
    name: &[u8],
) -> KResult<Arc<dyn Inode>> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let inode = dir.inode.lookup(name)?;
    Ok(match ctx.mounts.covering(dir.mnt(), &inode) {
        Some(_) if how.no_xdev => return Err(Errno::EXDEV),
        Some((_, top)) => top,
        None => inode,
    })
}

/// What a walk ends on: a dentry, or, for a walk that asked for the file only, the inode of a
/// last name (which then needs no dentry made and cached: stat of a file nothing holds).
enum Found {
    Dentry(Arc<Dentry>),
    Inode(Arc<dyn Inode>),
}

fn walk(
    ctx: &WalkCtx,
    how: &Resolve,
    start: &Arc<Dentry>,
    path: &[u8],
    follow_last: bool,
    budget: &mut u32,
) -> KResult<Arc<Dentry>> {
    match walk_to(ctx, how, start, path, follow_last, budget, false)? {
        Found::Dentry(d) => Ok(d),
        // A walk that did not ask for an inode ends on a dentry.
        Found::Inode(_) => Err(Errno::EIO),
    }
}

/// The walk of `path` from `start`; with `inode_only`, a last name that is not `.`, `..` nor
/// followed by a slash is looked up without a dentry (the result is the same file).
fn walk_to(
    ctx: &WalkCtx,
    how: &Resolve,
    start: &Arc<Dentry>,
    path: &[u8],
    follow_last: bool,
    budget: &mut u32,
    inode_only: bool,
) -> KResult<Found> {
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut cur = if path[0] == b'/' {
        if how.beneath {
            return Err(Errno::EXDEV);
        }
        ctx.root.clone()
    } else {
        start.clone()
    };
    let trailing = path.len() > 1 && path.last() == Some(&b'/');
    let mut comps = components(path).peekable();
    while let Some(comp) = comps.next() {
        let last = comps.peek().is_none();
        search_ok(ctx, &cur)?;
        if comp == b"." {
            continue;
        }
        if comp == b".." {
            cur = dotdot(ctx, how, &cur)?;
            continue;
        }
        if last && inode_only && !trailing {
            let inode = step_inode(ctx, how, &cur, comp)?;
            if inode.file_type() != FileType::Symlink || !follow_last {
                return Ok(Found::Inode(inode));
            }
            if *budget == 0 {
                return Err(Errno::ELOOP);
            }
            *budget -= 1;
            follow_ok(how, &cur, &inode)?;
            if let Some(d) = inode.magic_link() {
                return Ok(Found::Dentry(d?));
            }
            let target = inode.readlink()?;
            if target.first() == Some(&b'/') {
                jump_root_ok(ctx, how, &cur)?;
            }
            return walk_to(ctx, how, &cur, &target, true, budget, true);
        }
        let child = step(ctx, how, &cur, comp)?;
        if child.inode.file_type() == FileType::Symlink && (!last || follow_last || trailing) {
            if *budget == 0 {
                return Err(Errno::ELOOP);
            }
            *budget -= 1;
            follow_ok(how, &cur, &child.inode)?;
            if let Some(d) = child.inode.magic_link() {
                cur = d?;
            } else {
                let target = child.inode.readlink()?;
                if target.first() == Some(&b'/') {
                    jump_root_ok(ctx, how, &cur)?;
                }
                cur = walk(ctx, how, &cur, &target, true, budget)?;
            }
        } else {
            cur = child;
        }
    }
    if trailing && cur.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(Found::Dentry(cur))
}

/// Resolves `path`; the final component is followed if it is a symlink and `follow_last`.
pub fn resolve(ctx: &WalkCtx, path: &[u8], follow_last: bool) -> KResult<Arc<Dentry>> {
    resolve_how(ctx, path, follow_last, &Resolve::default())
}

/// The file `path` names, as [`resolve`] finds it, without making a dentry for its last name
/// (stat, which needs the inode only: a file no one holds is not cached for it).
pub fn resolve_inode(ctx: &WalkCtx, path: &[u8], follow_last: bool) -> KResult<Arc<dyn Inode>> {
    let mut budget = MAX_SYMLINKS;
    let how = Resolve::default();
    Ok(
        match walk_to(ctx, &how, ctx.start, path, follow_last, &mut budget, true)? {
            Found::Dentry(d) => d.inode.clone(),
            Found::Inode(i) => i,
        },
    )
}

/// [`resolve`] under openat2's restrictions.
pub fn resolve_how(
    ctx: &WalkCtx,
    path: &[u8],
    follow_last: bool,
    how: &Resolve,
) -> KResult<Arc<Dentry>> {
    let mut budget = MAX_SYMLINKS;
    walk(ctx, how, ctx.start, path, follow_last, &mut budget)
}

/// Resolves everything but the last component, for calls that create or remove a name.
/// Returns the parent directory, the last component (possibly "." or "..", or empty for "/"),
/// and whether the path had a trailing slash. The parent is searchable (EACCES otherwise).
pub fn resolve_parent(ctx: &WalkCtx, path: &[u8]) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    let mut budget = MAX_SYMLINKS;
    parent_walk(ctx, &Resolve::default(), ctx.start, path, &mut budget)
}

/// Where `open(O_CREAT)` creates: like [`resolve_parent`], but when `follow` (neither O_EXCL
/// nor O_NOFOLLOW) and the last component is a symlink, its target is resolved the same way,
/// relative to the link's directory, so that a dangling link creates its target as Linux does
/// (ENOENT when the target's directory is missing, ELOOP after MAXSYMLINKS links). The caller
/// looks the returned name up in the returned parent and creates it when missing. Magic links
/// (/proc/self/fd/N) name existing files and are left to the caller's lookup.
pub fn resolve_create(
    ctx: &WalkCtx,
    path: &[u8],
    follow: bool,
) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    resolve_create_how(ctx, path, follow, &Resolve::default())
}

/// [`resolve_create`] under openat2's restrictions.
pub fn resolve_create_how(
    ctx: &WalkCtx,
    path: &[u8],
    follow: bool,
    how: &Resolve,
) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    let mut budget = MAX_SYMLINKS;
    let (mut parent, mut name, mut trailing) = parent_walk(ctx, how, ctx.start, path, &mut budget)?;
    while follow && !trailing && !name.is_empty() && name != b"." && name != b".." {
        let Ok(child) = step(ctx, how, &parent, &name) else {
            break;
        };
        if child.inode.file_type() != FileType::Symlink {
            break;
        }
        if child.inode.magic_link().is_some() {
            follow_ok(how, &parent, &child.inode)?;
            break;
        }
        if budget == 0 {
            return Err(Errno::ELOOP);
        }
        budget -= 1;
        follow_ok(how, &parent, &child.inode)?;
        let target = child.inode.readlink()?;
        if target.first() == Some(&b'/') {
            jump_root_ok(ctx, how, &parent)?;
        }
        (parent, name, trailing) = parent_walk(ctx, how, &parent, &target, &mut budget)?;
    }
    Ok((parent, name, trailing))
}

/// `resolve_parent` from `start`, sharing the caller's symlink budget.
fn parent_walk(
    ctx: &WalkCtx,
    how: &Resolve,
    start: &Arc<Dentry>,
    path: &[u8],
    budget: &mut u32,
) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let trailing = path.len() > 1 && path.last() == Some(&b'/');
    let trimmed = {
        let mut p = path;
        while p.len() > 1 && p.last() == Some(&b'/') {
            p = &p[..p.len() - 1];
        }
        p
    };
    let (dir, name): (&[u8], &[u8]) = match trimmed.iter().rposition(|&c| c == b'/') {
        Some(0) => (b"/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (b".", trimmed),
    };
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let parent = walk(ctx, how, start, dir, true, budget)?;
    search_ok(ctx, &parent)?;
    Ok((parent, name.to_vec(), trailing))
}

/// The absolute path of `d` as seen from `root` (what getcwd reports), with the names the
/// dentries have now; inside a detached mount, from that mount's root (as Linux's d_path).
pub fn path_of(d: &Arc<Dentry>, root: &Arc<Dentry>) -> Vec<u8> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut cur = d.clone();
    while !same(&cur, root) {
        match cur.name_parent() {
            (name, Some(p)) if !detached_root(&cur, &p) => {
                names.push(name);
                cur = p;
            }
            _ => break,
        }
    }
    if names.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::new();
    for n in names.iter().rev() {
        out.push(b'/');
        out.extend_from_slice(n);
    }
    out
}

/// What readlink of /proc/PID/fd/N or /proc/PID/cwd shows (Linux's d_path): the path, with
/// " (deleted)" once the name is gone. A file with no links left counts as gone too (memfd,
/// O_TMPFILE files, whose dentries were never in a directory).
pub fn d_path(d: &Arc<Dentry>, root: &Arc<Dentry>) -> Vec<u8> {
    let mut path = path_of(d, root);
    let gone =
        d.is_deleted() || (d.inode.file_type() != FileType::Directory && d.inode.stat().nlink == 0);
    if gone {
        path.extend_from_slice(b" (deleted)");
    }
    path
}

#[cfg(test)]
pub(crate) fn components_for_test(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    components(path)
}

#[cfg(test)]
pub(crate) fn find_slash_for_test(s: &[u8]) -> Option<usize> {
    find_slash(s)
}
