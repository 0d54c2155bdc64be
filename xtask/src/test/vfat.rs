//! boot.vfat: a FAT32 image made here by mkfs.vfat and filled by mcopy (long names with
//! spaces and non-ASCII letters, a folder, a 300 KB file), attached with `--disk`, mounted
//! read-only with `mount -t vfat` (a write refused), remounted read-write (`mount -o
//! remount,rw`, as Linux's vfat allows) and changed by busybox (mkdir, cp, mv over a file, rm,
//! rm -r, rmdir, truncate both ways, a file of several MiB, mixed-case long names, chmod,
//! touch, refused links); tests/boot/vfat_calls.c checks what busybox cannot show (errnos
//! of O_TMPFILE, mknod, links and bad names, chmod and chown, times, RENAME_EXCHANGE,
//! statfs). After power-off `fsck.vfat -n` must find the image clean and mtools must read
//! back exactly the tree the script left, with the same contents.

use std::path::Path;
use std::process::{Command, Stdio};

pub(super) const VFAT_SCRIPT: &str = "mkdir -p /mnt
mount -t vfat -o ro,uid=1000,gid=100,fmask=0133,dmask=022 /dev/vda /mnt && echo mounted
touch /mnt/rofile 2>/dev/null || echo ro-refused
mount -o remount,rw /mnt
echo remounted=$(grep ' /mnt ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1)
echo long=$(cat '/mnt/a LONG file name with spaces.TXT')
echo nested=$(cat '/mnt/Sub Folder/Nested ümlaut.txt')
echo big=$(md5sum '/mnt/Sub Folder/big.bin' | cut -d' ' -f1)
echo modes=$(stat -c '%a %u %g' '/mnt/A long file name with spaces.txt' '/mnt/Sub Folder' | tr '\\n' ' ')
echo type=$(stat -f -c '%t %l' /mnt)
echo names=$(ls /mnt | tr '\\n' ,)
/vfat_calls /mnt
cd /mnt
mkdir 'New Folder' 'New Folder/Sub'
echo hello > 'New Folder/MixedCase Name.Txt'
seq 1 700000 > 'New Folder/Sub/seq.txt'
cp 'Sub Folder/big.bin' 'New Folder/copy.bin'
mv 'New Folder/copy.bin' 'moved copy.bin'
echo x > victim
echo replaced > repl
mv repl victim
echo doomed > doomed
rm doomed
mkdir emptydir
rmdir emptydir
mkdir -p 'Tree/x y'
for i in $(seq 1 60); do echo $i > \"Tree/x y/file number $i\"; done
rm -r Tree && echo removed tree
rmdir 'New Folder' 2>/dev/null || echo notempty
truncate -s 1000 'moved copy.bin'
printf abc > short
truncate -s 10 short
ln victim hard 2>/dev/null || echo link refused
ln -s victim soft 2>/dev/null || echo symlink refused
chmod 444 victim && echo victim=$(stat -c %a victim)
chmod 4755 short 2>/dev/null || echo chmod refused
touch -d '2024-01-02 03:04:05' short && echo mtime=$(stat -c %Y short)
echo seq=$(sha256sum 'new folder/sub/SEQ.TXT' | cut -c1-64)
echo sizes=$(stat -c %s 'moved copy.bin' short)
echo names=$(ls | tr '\\n' ,)
echo new=$(ls 'New Folder' | tr '\\n' ,)
grep -q ' /mnt vfat rw,' /proc/mounts && echo shown rw
sync
cd /
umount /mnt && echo vfat done";

/// The 300 KB file's bytes.
fn vfat_big() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 + i / 4096) as u8).collect()
}

/// What busybox `seq 1 700000` prints (4.8 MB).
fn seq_text() -> Vec<u8> {
    (1..=700_000u32)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect()
}

/// The hex digest `tool` (md5sum, sha256sum) prints for `data`.
fn digest(tool: &str, data: &[u8]) -> String {
    Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut i) = c.stdin.take() {
                i.write_all(data)?;
            }
            c.wait_with_output()
        })
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split(' ')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

pub(super) fn vfat_output() -> Vec<String> {
    [
        "mounted".to_string(),
        "ro-refused".into(),
        "remounted=rw".into(),
        "long=long".into(),
        "nested=nested".into(),
        format!("big={}", digest("md5sum", &vfat_big())),
        "modes=644 1000 100 755 1000 100".into(),
        "type=4d44 1530".into(),
        "names=A long file name with spaces.txt,Sub Folder,".into(),
        "tmpfile=EOPNOTSUPP".into(),
        "mknod=EPERM".into(),
        "link=EPERM".into(),
        "symlink=EPERM".into(),
        "badname=EINVAL".into(),
        "longname=ENAMETOOLONG".into(),
        "exists=EEXIST".into(),
        "gap=10001 0".into(),
        "ftruncate=ok".into(),
        "fsync=ok".into(),
        "size=3".into(),
        "times=999993600 1000000000".into(),
        "chmod444=ok".into(),
        "mode=444".into(),
        "chmod755=ok".into(),
        "mode=644".into(),
        "chmod-suid=EPERM".into(),
        "chown-same=ok".into(),
        "chown-other=EPERM".into(),
        "rename-case=ok".into(),
        "lookup-f=ok".into(),
        "exchange=ok".into(),
        "f-is-dir=1".into(),
        "rmdir-full=ENOTEMPTY".into(),
        "unlink-dir=EISDIR".into(),
        "rename-dir-over-file=ENOTDIR".into(),
        "statfs=4d44 1530".into(),
        "cleanup=ok".into(),
        "removed tree".into(),
        "notempty".into(),
        "link refused".into(),
        "symlink refused".into(),
        "victim=444".into(),
        "chmod refused".into(),
        // 03:04:05 in DOS's 2-second steps.
        "mtime=1704164644".into(),
        format!("seq={}", digest("sha256sum", &seq_text())),
        "sizes=1000 10".into(),
        "names=A long file name with spaces.txt,New Folder,Sub Folder,moved copy.bin,short,victim,"
            .into(),
        "new=MixedCase Name.Txt,Sub,".into(),
        "shown rw".into(),
        "vfat done".into(),
    ]
    .to_vec()
}

fn io(p: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", p.display())
}

fn ok(c: &mut Command) -> Result<String, String> {
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{c:?}: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub(super) fn vfat_setup(p: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(p);
    let src = p.with_extension("src");
    let _ = std::fs::remove_dir_all(&src);
    let sub = src.join("Sub Folder");
    std::fs::create_dir_all(&sub).map_err(|e| io(&sub, e))?;
    std::fs::write(src.join("A long file name with spaces.txt"), "long\n")
        .map_err(|e| io(&src, e))?;
    std::fs::write(sub.join("Nested ümlaut.txt"), "nested\n").map_err(|e| io(&sub, e))?;
    std::fs::write(sub.join("big.bin"), vfat_big()).map_err(|e| io(&sub, e))?;
    ok(Command::new("mkfs.vfat")
        .args(["-C", "-F", "32", "-n", "LINTEL"])
        .arg(p)
        .arg("65536"))?;
    for name in ["A long file name with spaces.txt", "Sub Folder"] {
        ok(Command::new("mcopy")
            .args(["-s", "-i"])
            .arg(p)
            .arg(src.join(name))
            .arg("::/"))?;
    }
    let _ = std::fs::remove_dir_all(&src);
    Ok(())
}

/// (path, contents; None for a folder), sorted by path.
type Tree = Vec<(String, Option<Vec<u8>>)>;

/// The tree the script leaves: (path, contents; None for a folder).
fn expected() -> Tree {
    let mut short = b"abc".to_vec();
    short.resize(10, 0);
    let mut v: Tree = vec![
        (
            "A long file name with spaces.txt".into(),
            Some(b"long\n".to_vec()),
        ),
        ("New Folder".into(), None),
        (
            "New Folder/MixedCase Name.Txt".into(),
            Some(b"hello\n".to_vec()),
        ),
        ("New Folder/Sub".into(), None),
        ("New Folder/Sub/seq.txt".into(), Some(seq_text())),
        ("Sub Folder".into(), None),
        (
            "Sub Folder/Nested ümlaut.txt".into(),
            Some(b"nested\n".to_vec()),
        ),
        ("Sub Folder/big.bin".into(), Some(vfat_big())),
        ("moved copy.bin".into(), Some(vfat_big()[..1000].to_vec())),
        ("short".into(), Some(short)),
        ("victim".into(), Some(b"replaced\n".to_vec())),
    ];
    v.sort();
    v
}

/// The tree under `root` on the host, sorted by path.
fn host_tree(root: &Path) -> Result<Tree, String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let p = e.map_err(|e| io(&d, e))?.path();
            let rel = p
                .strip_prefix(root)
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .into_owned();
            if p.is_dir() {
                out.push((rel, None));
                todo.push(p);
            } else {
                out.push((rel, Some(std::fs::read(&p).map_err(|e| io(&p, e))?)));
            }
        }
    }
    out.sort();
    Ok(out)
}

pub(super) fn vfat_verify(p: &Path) -> Result<(), String> {
    let out = Command::new("fsck.vfat")
        .arg("-n")
        .arg(p)
        .output()
        .map_err(|e| format!("fsck.vfat: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("wrong") {
        return Err(format!("fsck.vfat -n: {}", text.trim()));
    }
    let dest = p.with_extension("out");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).map_err(|e| io(&dest, e))?;
    let r = (|| {
        ok(Command::new("mcopy")
            .args(["-s", "-n", "-i"])
            .arg(p)
            .arg("::/*")
            .arg(&dest))?;
        let got = host_tree(&dest)?;
        let want = expected();
        if got != want {
            let names = |t: &[(String, Option<Vec<u8>>)]| {
                t.iter()
                    .map(|(n, c)| format!("{n}:{}", c.as_ref().map_or(0, |c| c.len())))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "mtools sees [{}], expected [{}]",
                names(&got),
                names(&want)
            ));
        }
        // chmod 444 set the read-only attribute.
        let attrs = ok(Command::new("mattrib").arg("-i").arg(p).arg("::/victim"))?;
        if !attrs.contains('R') {
            return Err(format!("victim's attributes: {attrs}"));
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dest);
    r
}
