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

/// Copies host files into the ext4 image at `path` with `debugfs -w`, replacing files of the
/// same name and making missing folders; each keeps its mode and is owned by root.
pub fn put_files(path: &Path, files: &[(&Path, &str)]) -> Result<(), String> {
    let mut script = String::new();
    let mut made: Vec<String> = Vec::new();
    for (host, guest) in files {
        // debugfs splits its commands at white space.
        if !guest.starts_with('/')
            || guest.contains(char::is_whitespace)
            || host.to_string_lossy().contains(char::is_whitespace)
        {
            return Err(format!(
                "{} as {guest}: paths must have no spaces, the guest's be absolute",
                host.display()
            ));
        }
        let mut dir = String::new();
        let (parent, _) = guest.rsplit_once('/').unwrap_or_default();
        for part in parent.split('/').filter(|p| !p.is_empty()) {
            dir.push('/');
            dir.push_str(part);
            // debugfs's mkdir of a folder that exists leaks the inode and block it took.
            if !made.contains(&dir) && !exists(path, &dir)? {
                script.push_str(&format!("mkdir {dir}\n"));
            }
            made.push(dir.clone());
        }
        script.push_str(&format!("rm {guest}\nwrite {} {guest}\n", host.display()));
        script.push_str(&format!("set_inode_field {guest} uid 0\n"));
        script.push_str(&format!("set_inode_field {guest} gid 0\n"));
    }
    let cmds = path.with_extension("debugfs");
    std::fs::write(&cmds, script).map_err(|e| format!("{}: {e}", cmds.display()))?;
    let out = Command::new("debugfs")
        .arg("-w")
        .arg("-f")
        .arg(&cmds)
        .arg(path)
        .output();
    let _ = std::fs::remove_file(&cmds);
    let out = out.map_err(|e| format!("debugfs: {e}"))?;
    // debugfs exits 0 even when a command fails, reporting it on stderr (after its banner).
    // A file not there to remove is expected.
    let err = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("debugfs ") && !l.contains("File not found by ext2_lookup"))
        .collect();
    if !out.status.success() || !failed.is_empty() {
        return Err(format!("debugfs: {}", failed.join(" | ")));
    }
    Ok(())
}

/// Whether `guest` names something in the ext4 image at `path`.
fn exists(path: &Path, guest: &str) -> Result<bool, String> {
    let out = Command::new("debugfs")
        .args(["-R", &format!("stat {guest}")])
        .arg(path)
        .output()
        .map_err(|e| format!("debugfs: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).contains("Inode:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(img: &Path, path: &str) -> String {
        let out = Command::new("debugfs")
            .args(["-R", &format!("cat {path}")])
            .arg(img)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        out.unwrap_or_default()
    }

    #[test]
    fn put_files_makes_folders_and_replaces_files() {
        let dir = std::env::temp_dir().join(format!("lintel-put-files-{}", std::process::id()));
        let tree = dir.join("tree");
        std::fs::create_dir_all(tree.join("root")).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, "first\n").unwrap();
        std::fs::write(&b, "second\n").unwrap();
        let img = dir.join("disk.img");
        mke2fs(&tree, &img, 16).unwrap();
        put_files(&img, &[(&a, "/root/x/y/f"), (&a, "/root/x/g")]).unwrap();
        put_files(&img, &[(&b, "/root/x/y/f")]).unwrap();
        assert_eq!(cat(&img, "/root/x/y/f"), "second\n");
        assert_eq!(cat(&img, "/root/x/g"), "first\n");
        assert!(put_files(&img, &[(&a, "relative")]).is_err());
        assert!(put_files(&img, &[(&dir.join("missing"), "/m")]).is_err());
        assert_eq!(fsck(&img), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
