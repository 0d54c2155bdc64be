//! ext4 disk images: built from a root tree with `mke2fs -d` (no root privileges, no loop
//! mounts) and checked with `e2fsck -fn`.

use crate::build::Image;
use std::path::Path;
use std::process::Command;

/// Makes `path` an ext4 image of `size_mib` MiB holding `tree`, with Debian's default features.
pub fn make_ext4(tree: &Image, path: &Path, size_mib: u64) -> Result<(), String> {
    let staging = path.with_extension("tree");
    let _ = std::fs::remove_dir_all(&staging);
    tree.write_tree(&staging)?;
    let made = mke2fs(&staging, path, size_mib);
    let _ = std::fs::remove_dir_all(&staging);
    made
}

/// `mke2fs -t ext4 -d DIR`: a fresh image at `path` holding the host folder `dir`.
pub fn mke2fs(dir: &Path, path: &Path, size_mib: u64) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let out = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-E", "root_owner=0:0", "-d"])
        .arg(dir)
        .arg(path)
        .arg(format!("{size_mib}M"))
        .output()
        .map_err(|e| format!("mke2fs: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mke2fs failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// `e2fsck -fn`: Ok when the file system is clean, else its report.
pub fn fsck(path: &Path) -> Result<(), String> {
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(path)
        .output()
        .map_err(|e| format!("e2fsck: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "e2fsck -fn {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
