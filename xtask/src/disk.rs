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
    debugfs_script(path, &script)
}

/// Runs the debugfs commands `script` on the image at `path` for writing.
fn debugfs_script(path: &Path, script: &str) -> Result<(), String> {
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

/// Copies the trees `files` and `libs` into the ext4 image at `path` with `debugfs -w`:
/// files and symlinks of `files` replace what has their name, those of `libs` (the
/// interpreters and libraries added programs need) go only where nothing is yet, so a
/// Debian root keeps its own. Missing folders are made with their modes; everything is
/// owned by root, files keep their modes and symlinks their targets.
pub fn put_image(path: &Path, files: &Image, libs: &Image) -> Result<(), String> {
    use crate::build::Entry;
    let staging = path.with_extension("add-tree");
    let _ = std::fs::remove_dir_all(&staging);
    files.write_tree(&staging.join("f"))?;
    libs.write_tree(&staging.join("l"))?;
    // debugfs follows no symlinks in the folders of a path: resolve them (a merged-/usr
    // root's /lib -> usr/lib) against the disk first.
    let mut all: Vec<String> = Vec::new();
    for img in [files, libs] {
        all.extend(img.entries().map(|(p, _)| format!("/{p}")));
    }
    let real = resolve_folders(path, &all)?;
    let names: Vec<&str> = real.values().map(String::as_str).collect();
    let present = existing(path, &names)?;
    let mut script = String::new();
    let mut made = std::collections::BTreeSet::new();
    for (img, sub, replace) in [(files, "f", true), (libs, "l", false)] {
        for (p, e) in img.entries() {
            let guest = real.get(&format!("/{p}")).cloned().unwrap_or_default();
            if guest.is_empty()
                || guest.contains(char::is_whitespace)
                || staging.to_string_lossy().contains(' ')
            {
                return Err(format!("{guest}: debugfs takes no spaces in paths"));
            }
            let there = present.contains(&guest) || made.contains(&guest);
            match e {
                Entry::Dir(mode) => {
                    if !there {
                        script.push_str(&format!(
                            "mkdir {guest}\nsif {guest} mode 0{:o}\n",
                            0o40000 | mode
                        ));
                    }
                }
                _ if there && !replace => continue,
                Entry::File(mode) => {
                    script.push_str(&format!(
                        "rm {guest}\nwrite {} {guest}\nsif {guest} mode 0{:o}\n",
                        staging.join(sub).join(p).display(),
                        0o100000 | mode
                    ));
                }
                Entry::Symlink(target) => {
                    script.push_str(&format!("rm {guest}\nsymlink {guest} {target}\n"));
                }
            }
            script.push_str(&format!("sif {guest} uid 0\nsif {guest} gid 0\n"));
            made.insert(guest);
        }
    }
    let ran = debugfs_script(path, &script);
    let _ = std::fs::remove_dir_all(&staging);
    ran
}

/// Each of `guests` with the symlinks among its folders on the disk at `path` followed (in
/// rounds of one debugfs run each, as a target may hold symlinks too).
fn resolve_folders(
    path: &Path,
    guests: &[String],
) -> Result<std::collections::BTreeMap<String, String>, String> {
    use std::collections::BTreeMap;
    let mut links: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut out: BTreeMap<String, String> = guests.iter().map(|g| (g.clone(), g.clone())).collect();
    for _ in 0..8 {
        let mut ask: Vec<String> = Vec::new();
        for g in out.values() {
            let mut prefix = String::new();
            let parts: Vec<&str> = g.split('/').filter(|c| !c.is_empty()).collect();
            for c in parts.iter().take(parts.len().saturating_sub(1)) {
                prefix = format!("{prefix}/{c}");
                if !links.contains_key(&prefix) && !ask.contains(&prefix) {
                    ask.push(prefix.clone());
                }
            }
        }
        if ask.is_empty() {
            break;
        }
        let refs: Vec<&str> = ask.iter().map(String::as_str).collect();
        let targets = symlink_targets(path, &refs)?;
        for a in ask {
            let t = targets.get(&a).cloned();
            links.insert(a, t);
        }
        for g in out.values_mut() {
            let mut prefix = String::new();
            let parts: Vec<String> = g
                .split('/')
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect();
            for (i, c) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
                let parent = prefix.clone();
                prefix = format!("{prefix}/{c}");
                if let Some(Some(t)) = links.get(&prefix) {
                    let base = if t.starts_with('/') {
                        String::new()
                    } else {
                        parent
                    };
                    let rest = parts[i + 1..].join("/");
                    *g = normalize(&format!("{base}/{t}/{rest}"));
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// `..` and `.` taken out of an absolute path.
fn normalize(p: &str) -> String {
    let mut v: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                v.pop();
            }
            c => v.push(c),
        }
    }
    format!("/{}", v.join("/"))
}

/// The targets of those of `guests` that are symlinks in the ext4 image at `path`.
fn symlink_targets(
    path: &Path,
    guests: &[&str],
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut found = std::collections::BTreeMap::new();
    for (g, text) in stat_all(path, guests)? {
        if text.contains("Type: symlink") {
            if let Some(t) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Fast link dest: "))
            {
                found.insert(g, t.trim_matches('"').to_string());
            }
        }
    }
    Ok(found)
}

/// `stat` of each of `guests` in one debugfs run: the output per path that exists.
fn stat_all(path: &Path, guests: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    if guests.is_empty() {
        return Ok(found);
    }
    let cmds = path.with_extension("debugfs-stat");
    let script: String = guests.iter().map(|g| format!("stat {g}\n")).collect();
    std::fs::write(&cmds, script).map_err(|e| format!("{}: {e}", cmds.display()))?;
    let out = Command::new("debugfs")
        .arg("-f")
        .arg(&cmds)
        .arg(path)
        .env("DEBUGFS_PAGER", "__none__")
        .output();
    let _ = std::fs::remove_file(&cmds);
    let out = out.map_err(|e| format!("debugfs: {e}"))?;
    // debugfs echoes each command ("debugfs: stat PATH") before its output.
    let mut current: Option<(String, String)> = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(p) = line.strip_prefix("debugfs: stat ") {
            found.extend(current.take());
            current = Some((p.trim().to_string(), String::new()));
        } else if let Some((_, text)) = &mut current {
            text.push_str(line);
            text.push('\n');
        }
    }
    found.extend(current);
    found.retain(|(_, t)| t.contains("Inode:"));
    Ok(found)
}

/// Which of `guests` name something in the ext4 image at `path` (one debugfs run).
fn existing(path: &Path, guests: &[&str]) -> Result<std::collections::BTreeSet<String>, String> {
    Ok(stat_all(path, guests)?
        .into_iter()
        .map(|(g, _)| g)
        .collect())
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

    #[test]
    fn put_image_follows_folder_symlinks_and_keeps_existing_libraries() {
        let dir = std::env::temp_dir().join(format!("lintel-put-image-{}", std::process::id()));
        let tree = dir.join("tree");
        std::fs::create_dir_all(tree.join("usr/lib")).unwrap();
        std::os::unix::fs::symlink("usr/lib", tree.join("lib")).unwrap();
        std::fs::write(tree.join("usr/lib/libc.so"), "disk's\n").unwrap();
        let img = dir.join("disk.img");
        mke2fs(&tree, &img, 16).unwrap();
        let mut files = Image::new();
        files.dir("/opt/d", 0o710);
        files.file("/opt/d/f", 0o640, b"added\n".to_vec());
        files.symlink("/opt/d/l", "f");
        let mut libs = Image::new();
        libs.file("/lib/libc.so", 0o644, b"host's\n".to_vec());
        libs.file("/lib/m/ld.so", 0o755, b"ld\n".to_vec());
        put_image(&img, &files, &libs).unwrap();
        assert_eq!(cat(&img, "/opt/d/f"), "added\n");
        assert_eq!(cat(&img, "/usr/lib/libc.so"), "disk's\n");
        assert_eq!(cat(&img, "/usr/lib/m/ld.so"), "ld\n");
        let st = |p: &str| stat_all(&img, &[p]).unwrap().pop().unwrap_or_default().1;
        assert!(st("/opt/d").contains("Mode:  0710"), "{}", st("/opt/d"));
        assert!(st("/opt/d/f").contains("Mode:  0640"));
        assert!(st("/opt/d/l").contains("Fast link dest: \"f\""));
        assert_eq!(fsck(&img), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
