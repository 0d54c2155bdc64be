//! Unpacks the initramfs (newc cpio) into the root tmpfs.

use alloc::sync::Arc;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType, Inode};

fn walk_create_dirs(root: &Arc<dyn Inode>, comps: &[&[u8]]) -> KResult<Arc<dyn Inode>> {
    let mut cur = root.clone();
    for c in comps {
        cur = match cur.lookup(c) {
            Ok(i) => i,
            Err(Errno::ENOENT) => cur.create(c, FileType::Directory, 0o755, 0, 0, 0)?,
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

pub fn unpack(root: &Arc<Dentry>, data: &[u8]) -> KResult<()> {
    let mut count = 0;
    for e in lintel_cpio::entries(data) {
        let Ok(e) = e else {
            crate::warn!("initramfs: malformed archive after {} entries", count);
            break;
        };
        count += 1;
        if e.name == b"." || e.name.is_empty() {
            continue;
        }
        let comps: alloc::vec::Vec<&[u8]> = e
            .name
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((last, dirs)) = comps.split_last() else {
            continue;
        };
        let parent = walk_create_dirs(&root.inode, dirs)?;
        let perm = e.mode & 0o7777;
        let made = match e.mode & S_IFMT {
            S_IFDIR => match parent.lookup(last) {
                Ok(i) => {
                    i.set_mode(perm)?;
                    Ok(i)
                }
                Err(_) => parent.create(last, FileType::Directory, perm, e.uid, e.gid, 0),
            },
            S_IFREG => {
                let _ = parent.unlink(last);
                let f = parent.create(last, FileType::Regular, perm, e.uid, e.gid, 0)?;
                f.write_at(0, e.data)?;
                Ok(f)
            }
            S_IFLNK => {
                let _ = parent.unlink(last);
                parent.symlink(last, e.data, e.uid, e.gid)
            }
            S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => {
                let kind = match e.mode & S_IFMT {
                    S_IFCHR => FileType::CharDevice,
                    S_IFBLK => FileType::BlockDevice,
                    S_IFIFO => FileType::Fifo,
                    _ => FileType::Socket,
                };
                let rdev = crate::fs::dev::makedev(e.rdev_major as u64, e.rdev_minor as u64);
                parent.create(last, kind, perm, e.uid, e.gid, rdev)
            }
            _ => continue,
        };
        if let Ok(i) = made {
            let t = Timespec {
                sec: e.mtime as i64,
                nsec: 0,
            };
            let _ = i.set_times(Some(t), Some(t));
        }
    }
    crate::info!("initramfs: {} entries", count);
    Ok(())
}
