//! Path resolution as path_resolution(7) describes it, and permission checks.

use crate::{Dentry, FileType, MountTable};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};

/// Linux's limit on symlinks followed in one lookup (MAXSYMLINKS).
const MAX_SYMLINKS: u32 = 40;
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4096;

/// The filesystem identity a lookup runs as.
#[derive(Clone, Debug, Default)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

pub struct WalkCtx<'a> {
    pub root: &'a Arc<Dentry>,
    /// Where relative paths start: the cwd or a dirfd's directory.
    pub start: &'a Arc<Dentry>,
    pub mounts: &'a MountTable,
    pub cred: &'a Cred,
}

/// Checks `mask` (4 read, 2 write, 1 execute/search) against the owner/group/other bits.
pub fn permission(stat: &Stat, cred: &Cred, mask: u32) -> KResult<()> {
    let mask = mask & 7;
    if cred.uid == 0 {
        let is_dir = stat.mode & lintel_abi::stat::S_IFMT == lintel_abi::stat::S_IFDIR;
        if mask & 1 != 0 && !is_dir && stat.mode & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        return Ok(());
    }
    let bits = if stat.uid == cred.uid {
        (stat.mode >> 6) & 7
    } else if stat.gid == cred.gid || cred.groups.contains(&stat.gid) {
        (stat.mode >> 3) & 7
    } else {
        stat.mode & 7
    };
    if mask & !bits != 0 {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// Whether `cred` may remove or rename away `victim` from directory `dir` as far as the
/// sticky bit goes (Linux's check_sticky): in a sticky directory only the owner of the entry,
/// the owner of the directory or root may; EPERM otherwise.
pub fn sticky_allows(dir: &Stat, victim: &Stat, cred: &Cred) -> KResult<()> {
    if dir.mode & lintel_abi::stat::S_ISVTX == 0
        || cred.uid == 0
        || victim.uid == cred.uid
        || dir.uid == cred.uid
    {
        return Ok(());
    }
    Err(Errno::EPERM)
}

fn same(a: &Arc<Dentry>, b: &Arc<Dentry>) -> bool {
    Arc::ptr_eq(a, b) || crate::identity(&a.inode) == crate::identity(&b.inode)
}

fn dotdot(ctx: &WalkCtx, cur: &Arc<Dentry>) -> Arc<Dentry> {
    if same(cur, ctx.root) {
        return cur.clone();
    }
    match &cur.parent {
        Some(p) => p.clone(),
        None => cur.clone(),
    }
}

fn components(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&c| c == b'/')
        .filter(|c| !c.is_empty())
        .collect()
}

fn search_ok(ctx: &WalkCtx, d: &Arc<Dentry>) -> KResult<()> {
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    permission(&d.inode.stat(), ctx.cred, 1)
}

/// Looks up one component in `dir`, crossing into whatever is mounted there.
fn step(ctx: &WalkCtx, dir: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let inode = dir.inode.lookup(name)?;
    let inode = ctx.mounts.covering(&inode).unwrap_or(inode);
    Ok(Dentry::child(dir, name, inode))
}

fn walk(
    ctx: &WalkCtx,
    start: &Arc<Dentry>,
    path: &[u8],
    follow_last: bool,
    budget: &mut u32,
) -> KResult<Arc<Dentry>> {
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut cur = if path[0] == b'/' {
        ctx.root.clone()
    } else {
        start.clone()
    };
    let trailing = path.len() > 1 && path.last() == Some(&b'/');
    let comps = components(path);
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        search_ok(ctx, &cur)?;
        if *comp == b"." {
            continue;
        }
        if *comp == b".." {
            cur = dotdot(ctx, &cur);
            continue;
        }
        let child = step(ctx, &cur, comp)?;
        if child.inode.file_type() == FileType::Symlink && (!last || follow_last || trailing) {
            if *budget == 0 {
                return Err(Errno::ELOOP);
            }
            *budget -= 1;
            if let Some(d) = child.inode.magic_link() {
                cur = d?;
            } else {
                let target = child.inode.readlink()?;
                cur = walk(ctx, &cur, &target, true, budget)?;
            }
        } else {
            cur = child;
        }
    }
    if trailing && cur.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// Resolves `path`; the final component is followed if it is a symlink and `follow_last`.
pub fn resolve(ctx: &WalkCtx, path: &[u8], follow_last: bool) -> KResult<Arc<Dentry>> {
    let mut budget = MAX_SYMLINKS;
    walk(ctx, ctx.start, path, follow_last, &mut budget)
}

/// Resolves everything but the last component, for calls that create or remove a name.
/// Returns the parent directory, the last component (possibly "." or "..", or empty for "/"),
/// and whether the path had a trailing slash. The parent is searchable (EACCES otherwise).
pub fn resolve_parent(ctx: &WalkCtx, path: &[u8]) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    let mut budget = MAX_SYMLINKS;
    parent_walk(ctx, ctx.start, path, &mut budget)
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
    let mut budget = MAX_SYMLINKS;
    let (mut parent, mut name, mut trailing) = parent_walk(ctx, ctx.start, path, &mut budget)?;
    while follow && !trailing && !name.is_empty() && name != b"." && name != b".." {
        let Ok(child) = step(ctx, &parent, &name) else {
            break;
        };
        if child.inode.file_type() != FileType::Symlink || child.inode.magic_link().is_some() {
            break;
        }
        if budget == 0 {
            return Err(Errno::ELOOP);
        }
        budget -= 1;
        let target = child.inode.readlink()?;
        (parent, name, trailing) = parent_walk(ctx, &parent, &target, &mut budget)?;
    }
    Ok((parent, name, trailing))
}

/// `resolve_parent` from `start`, sharing the caller's symlink budget.
fn parent_walk(
    ctx: &WalkCtx,
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
    let parent = walk(ctx, start, dir, true, budget)?;
    search_ok(ctx, &parent)?;
    Ok((parent, name.to_vec(), trailing))
}

/// The absolute path of `d` as seen from `root` (what getcwd reports).
pub fn path_of(d: &Arc<Dentry>, root: &Arc<Dentry>) -> Vec<u8> {
    let mut names: Vec<&[u8]> = Vec::new();
    let mut cur = d;
    while !same(cur, root) {
        match &cur.parent {
            Some(p) => {
                names.push(&cur.name);
                cur = p;
            }
            None => break,
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
