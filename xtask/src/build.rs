//! Building the kernel, initramfs images and C test programs.

use crate::{build_dir, root};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `kernel()` builds the kernel with the lock-order checker (`--lockdep`).
static LOCKDEP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--lockdep`: every kernel this command boots checks its lock order.
pub fn set_lockdep(on: bool) {
    LOCKDEP.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the kernels booted now check their lock order.
pub fn lockdep() -> bool {
    LOCKDEP.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether the kernels `cargo xtask test` and `bench` boot keep the big kernel lock
/// (`--bkl`, and the `@bkl` pass of the conformance tests).
static BKL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `cargo xtask test --bkl`, `bench --bkl`: every boot gets `lintel.bkl=on` (kernel code
/// on one CPU at a time, as before issue 14; without it kernel code runs on all CPUs).
pub fn set_bkl(on: bool) {
    BKL.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether boots keep the big kernel lock.
pub fn bkl() -> bool {
    BKL.load(std::sync::atomic::Ordering::Relaxed)
}

/// Builds the kernel for the current architecture and returns the path of its ELF image.
pub fn kernel() -> Result<PathBuf, String> {
    kernel_with(lockdep())
}

/// Builds the kernel, with the lock-order checker (the `lockdep` feature) or without; the
/// checked kernel is copied to `lintel-lockdep` beside the plain one, so that a path
/// returned earlier keeps naming the kernel it named.
pub fn kernel_with(lockdep: bool) -> Result<PathBuf, String> {
    let target = crate::arch::current().target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec![
        "build",
        "--quiet",
        "-p",
        "lintel-kernel",
        "--release",
        "--target",
        target,
    ];
    if lockdep {
        args.extend(["--features", "lockdep"]);
    }
    let ok = Command::new(cargo)
        .current_dir(root())
        .args(&args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?
        .success();
    if !ok {
        return Err("kernel build failed".into());
    }
    let built = root().join(format!("target/{target}/release/lintel"));
    let elf = if lockdep {
        let copy = built.with_file_name("lintel-lockdep");
        std::fs::copy(&built, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
        copy
    } else {
        built
    };
    if crate::arch::current() == crate::arch::Arch::Aarch64 {
        return arm64_image(&elf);
    }
    Ok(elf)
}

/// The aarch64 kernel as a Linux arm64 Image (QEMU loads an ELF as a bare-metal program,
/// without the initrd and with no device tree in x0): the ELF's loadable bytes from its
/// lowest physical address on, which start with the Image header (boot.S).
fn arm64_image(elf: &Path) -> Result<PathBuf, String> {
    let out = elf.with_file_name("Image");
    let ok = Command::new("aarch64-linux-gnu-objcopy")
        .args(["-O", "binary"])
        .arg(elf)
        .arg(&out)
        .status()
        .map_err(|e| format!("cannot run aarch64-linux-gnu-objcopy: {e}"))?
        .success();
    if !ok {
        return Err("objcopy of the aarch64 kernel failed".into());
    }
    Ok(out)
}

enum Node {
    Dir(u32),
    File {
        mode: u32,
        data: Vec<u8>,
        mtime: u32,
    },
    Symlink(String),
    CharDev(u32, u32),
}

/// What `Image::entries` shows of a node: a folder or file with its mode, or a symlink.
pub enum Entry<'a> {
    Dir(u32),
    File(u32),
    Symlink(&'a str),
}

/// An in-memory tree written out as a newc cpio archive.
pub struct Image {
    nodes: BTreeMap<String, Node>,
}

fn norm(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    parts.join("/")
}

impl Image {
    pub fn new() -> Image {
        Image {
            nodes: BTreeMap::new(),
        }
    }

    pub fn dir(&mut self, path: &str, mode: u32) {
        let p = norm(path);
        let mut acc = String::new();
        for c in p.split('/').filter(|c| !c.is_empty()) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(c);
            self.nodes.entry(acc.clone()).or_insert(Node::Dir(0o755));
        }
        if !p.is_empty() {
            self.nodes.insert(p, Node::Dir(mode));
        }
    }

    fn parent_dirs(&mut self, path: &str) {
        if let Some((parent, _)) = norm(path).rsplit_once('/') {
            if !matches!(self.nodes.get(parent), Some(Node::Dir(_))) {
                self.dir(parent, 0o755);
            }
        }
    }

    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        self.parent_dirs(path);
        self.nodes.insert(
            norm(path),
            Node::File {
                mode,
                data,
                mtime: 0,
            },
        );
    }

    /// A character device node (for an initramfs that another kernel boots).
    pub fn chardev(&mut self, path: &str, major: u32, minor: u32) {
        self.parent_dirs(path);
        self.nodes.insert(norm(path), Node::CharDev(major, minor));
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.parent_dirs(path);
        self.nodes
            .insert(norm(path), Node::Symlink(target.to_string()));
    }

    /// Copies a host file or folder (recursively, symlinks kept) to `guest`.
    pub fn add_host(&mut self, host: &Path, guest: &str) -> Result<(), String> {
        let md = std::fs::symlink_metadata(host).map_err(|e| format!("{}: {e}", host.display()))?;
        if md.file_type().is_symlink() {
            let t = std::fs::read_link(host).map_err(|e| e.to_string())?;
            self.symlink(guest, &t.to_string_lossy());
        } else if md.is_dir() {
            self.dir(guest, md.permissions().mode() & 0o7777);
            let mut entries: Vec<_> = std::fs::read_dir(host)
                .map_err(|e| e.to_string())?
                .flatten()
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                self.add_host(
                    &e.path(),
                    &format!("{}/{}", guest.trim_end_matches('/'), name),
                )?;
            }
        } else {
            let data = std::fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?;
            self.parent_dirs(guest);
            self.nodes.insert(
                norm(guest),
                Node::File {
                    mode: md.permissions().mode() & 0o7777,
                    data,
                    mtime: md.mtime().max(0) as u32,
                },
            );
        }
        Ok(())
    }

    /// `add_host`, plus, for a dynamically linked program (or a folder holding some), its
    /// interpreter and the shared libraries it needs, at their host paths, symlinks included.
    pub fn add_program(&mut self, host: &Path, guest: &str) -> Result<(), String> {
        self.add_host(host, guest)?;
        for (lib, at) in program_needs(host, guest)? {
            self.add_library(&lib, &at)?;
        }
        Ok(())
    }

    /// An image of only what `add_program` would add (for copying onto a disk).
    pub fn added(adds: &[(PathBuf, String)]) -> Result<(Image, Image), String> {
        let (mut files, mut libs) = (Image::new(), Image::new());
        for (host, guest) in adds {
            files.add_host(host, guest)?;
            for (lib, at) in program_needs(host, guest)? {
                libs.add_library(&lib, &at)?;
            }
        }
        Ok((files, libs))
    }

    /// A shared library at `guest` (its host path, or beside the program for `$ORIGIN`):
    /// symlinks in the path are recreated, the file itself is copied.
    fn add_library(&mut self, path: &Path, guest: &str) -> Result<(), String> {
        if self.nodes.contains_key(&norm(guest)) {
            return Ok(());
        }
        let md = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if md.file_type().is_symlink() {
            let target = std::fs::read_link(path).map_err(|e| e.to_string())?;
            let t = target.to_string_lossy();
            self.symlink(guest, &t);
            let real = path.parent().unwrap_or(Path::new("/")).join(&target);
            let real_guest = if t.starts_with('/') {
                t.into_owned()
            } else {
                let parent = guest.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                crate::elfdeps::lexical(&format!("{parent}/{t}"))
            };
            return self.add_library(&real, &real_guest);
        }
        // A folder on the way may be a symlink too (/lib -> usr/lib on merged-/usr systems).
        if let Some(parent) = path.parent() {
            if let Ok(real_parent) = std::fs::canonicalize(parent) {
                if real_parent != parent {
                    let name = path.file_name().unwrap_or_default();
                    return self.add_host(&real_parent.join(name), guest);
                }
            }
        }
        self.add_host(path, guest)
    }

    /// Every node, parents before children: its path (relative, no leading slash) and kind.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Entry<'_>)> {
        self.nodes.iter().filter_map(|(p, n)| {
            let e = match n {
                Node::Dir(m) => Entry::Dir(*m),
                Node::File { mode, .. } => Entry::File(*mode),
                Node::Symlink(t) => Entry::Symlink(t),
                Node::CharDev(..) => return None,
            };
            Some((p.as_str(), e))
        })
    }

    /// Writes the tree out as a host folder (for `mke2fs -d`). Device nodes are left out: the
    /// kernel's devfs provides them.
    pub fn write_tree(&self, dir: &Path) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        for (path, node) in &self.nodes {
            let host = dir.join(path);
            match node {
                Node::Dir(_) => std::fs::create_dir_all(&host).map_err(|e| err(&host, e))?,
                Node::File { data, .. } => {
                    if let Some(parent) = host.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
                    }
                    std::fs::write(&host, data).map_err(|e| err(&host, e))?
                }
                Node::Symlink(t) => {
                    std::os::unix::fs::symlink(t, &host).map_err(|e| err(&host, e))?
                }
                Node::CharDev(..) => {}
            }
        }
        // Modes last, so read-only folders do not stop their own filling.
        for (path, node) in self.nodes.iter().rev() {
            let mode = match node {
                Node::Dir(m) => *m,
                Node::File { mode, .. } => *mode,
                _ => continue,
            };
            let host = dir.join(path);
            std::fs::set_permissions(&host, std::fs::Permissions::from_mode(mode))
                .map_err(|e| err(&host, e))?;
        }
        Ok(())
    }

    pub fn write(&self, out: &Path) -> Result<(), String> {
        let mut v = Vec::new();
        lintel_cpio::write_entry(&mut v, b".", 0o40755, 1, 2, 0, (0, 0), &[]);
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let ino = ino as u32 + 2;
            match node {
                Node::Dir(m) => lintel_cpio::write_entry(
                    &mut v,
                    path.as_bytes(),
                    0o40000 | m,
                    ino,
                    2,
                    0,
                    (0, 0),
                    &[],
                ),
                Node::File { mode, data, mtime } => lintel_cpio::write_entry(
                    &mut v,
                    path.as_bytes(),
                    0o100000 | mode,
                    ino,
                    1,
                    *mtime,
                    (0, 0),
                    data,
                ),
                Node::Symlink(t) => lintel_cpio::write_entry(
                    &mut v,
                    path.as_bytes(),
                    0o120777,
                    ino,
                    1,
                    0,
                    (0, 0),
                    t.as_bytes(),
                ),
                Node::CharDev(ma, mi) => lintel_cpio::write_entry(
                    &mut v,
                    path.as_bytes(),
                    0o20600,
                    ino,
                    1,
                    0,
                    (*ma, *mi),
                    &[],
                ),
            }
        }
        lintel_cpio::write_trailer(&mut v);
        std::fs::write(out, v).map_err(|e| format!("{}: {e}", out.display()))
    }
}

/// Regular files under `p` (or `p` itself).
fn collect_files(p: &Path, out: &mut Vec<PathBuf>) {
    match std::fs::symlink_metadata(p) {
        Ok(md) if md.is_dir() => {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                collect_files(&e.path(), out);
            }
        }
        Ok(md) if md.is_file() => out.push(p.to_path_buf()),
        _ => {}
    }
}

/// The initramfs's users: Debian's base-passwd set (root's shell is busybox's sh; the others
/// cannot log in), so programs that look up daemon, bin, sys or nobody find them.
const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/bin/false
man:x:6:12:man:/var/cache/man:/bin/false
lp:x:7:7:lp:/var/spool/lpd:/bin/false
mail:x:8:8:mail:/var/mail:/bin/false
news:x:9:9:news:/var/spool/news:/bin/false
uucp:x:10:10:uucp:/var/spool/uucp:/bin/false
proxy:x:13:13:proxy:/bin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
backup:x:34:34:backup:/var/backups:/bin/false
list:x:38:38:Mailing List Manager:/var/list:/bin/false
irc:x:39:39:ircd:/run/ircd:/bin/false
_apt:x:42:65534::/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

/// Debian's base-passwd groups.
const GROUP: &[u8] = b"root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
fax:x:21:
voice:x:22:
cdrom:x:24:
floppy:x:25:
tape:x:26:
sudo:x:27:
audio:x:29:
dip:x:30:
www-data:x:33:
backup:x:34:
operator:x:37:
list:x:38:
irc:x:39:
src:x:40:
shadow:x:42:
utmp:x:43:
video:x:44:
sasl:x:45:
plugdev:x:46:
staff:x:50:
games:x:60:
users:x:100:
nogroup:x:65534:
";

/// The interpreter and libraries (host path, guest path) of every dynamically linked ELF
/// file at or under `host`, which is added at `guest`.
fn program_needs(host: &Path, guest: &str) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut files = Vec::new();
    collect_files(host, &mut files);
    let mut libs = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(host).unwrap_or(Path::new(""));
        let at = if rel.as_os_str().is_empty() {
            guest.to_string()
        } else {
            format!("{}/{}", guest.trim_end_matches('/'), rel.display())
        };
        libs.extend(crate::elfdeps::needs(&f, &at)?);
    }
    Ok(libs)
}

/// The base root file system: busybox with its applet links and a minimal /etc.
pub fn base_image() -> Result<Image, String> {
    let mut img = Image::new();
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "dev", "proc", "sys", "lintel",
        "tests",
    ] {
        img.dir(d, 0o755);
    }
    img.dir("tmp", 0o1777);
    add_busybox(&mut img)?;
    img.file("etc/passwd", 0o644, PASSWD.to_vec());
    img.file("etc/group", 0o644, GROUP.to_vec());
    img.file("etc/hostname", 0o644, b"lintel\n".to_vec());
    img.file(
        "etc/hosts",
        0o644,
        b"127.0.0.1\tlocalhost\n::1\tlocalhost\n".to_vec(),
    );
    // Names come from /etc/hosts first, as on Debian. There is no resolv.conf: no DNS server
    // is named, so nothing is ever resolved off this machine (glibc and musl then ask
    // 127.0.0.1, which answers nothing).
    img.file(
        "etc/nsswitch.conf",
        0o644,
        b"passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nservices: files\nprotocols: files\n".to_vec(),
    );
    // Service and protocol names (getaddrinfo("...", "http"), getprotobyname("tcp")), from
    // the host's netbase when it has it.
    for f in ["/etc/services", "/etc/protocols"] {
        if Path::new(f).is_file() {
            img.add_host(Path::new(f), f)?;
        }
    }
    Ok(img)
}

/// Adds the launch files the kernel reads: argv and envp, NUL-terminated strings.
/// Debian's static busybox with its applet links: the host's on x86_64, Debian's arm64 package on
/// aarch64, and on riscv64 Debian's
/// source built once and cached in build/riscv64/ (`busybox::ensure`).
fn add_busybox(img: &mut Image) -> Result<(), String> {
    let arch = crate::arch::current();
    let (bin, list) = if arch == crate::arch::Arch::X86_64 {
        let out = Command::new("/bin/busybox")
            .arg("--list-full")
            .output()
            .map_err(|e| format!("busybox: {e}"))?;
        (
            PathBuf::from("/bin/busybox"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    } else {
        match crate::busybox::ensure(arch)? {
            Some(found) => found,
            None => return Ok(()),
        }
    };
    img.add_host(&bin, "/bin/busybox")?;
    for line in list.lines() {
        let path = format!("/{}", line.trim());
        if path == "/bin/busybox" || line.trim().is_empty() {
            continue;
        }
        img.symlink(&path, "/bin/busybox");
    }
    Ok(())
}

pub fn set_launch(img: &mut Image, argv: &[String]) {
    let argv: Vec<String> = if argv.is_empty() {
        vec!["/bin/sh".into()]
    } else {
        argv.to_vec()
    };
    let mut a = Vec::new();
    for s in &argv {
        a.extend_from_slice(s.as_bytes());
        a.push(0);
    }
    img.file("lintel/argv", 0o644, a);
    let term = std::env::var("TERM").unwrap_or_else(|_| "linux".into());
    let mut e = Vec::new();
    for s in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        "HOME=/root".into(),
        format!("TERM={term}"),
    ] {
        e.extend_from_slice(s.as_bytes());
        e.push(0);
    }
    img.file("lintel/envp", 0o644, e);
}

/// How a C test program is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Musl,
    MuslPie,
    Glibc,
    GlibcDyn,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Musl,
        Variant::MuslPie,
        Variant::Glibc,
        Variant::GlibcDyn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Musl => "musl",
            Variant::MuslPie => "musl-pie",
            Variant::Glibc => "glibc",
            Variant::GlibcDyn => "glibc-dyn",
        }
    }

    /// The compiler and the arguments that go before and after the source file.
    fn command(self) -> (&'static str, Vec<String>, Vec<String>) {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match self {
            Variant::Musl => ("musl-gcc", v(&["-static", "-O2"]), vec![]),
            // Debian's musl-gcc specs link static-pie programs with Scrt1.o and an interpreter;
            // a real static-pie needs musl's self-relocating rcrt1.o, so link it by hand.
            Variant::MuslPie => {
                let m = "/usr/lib/x86_64-linux-musl";
                let gcc_file = |f: &str| {
                    Command::new("gcc")
                        .arg(format!("-print-file-name={f}"))
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                        .unwrap_or_else(|_| f.to_string())
                };
                let libgcc = Command::new("gcc")
                    .arg("-print-libgcc-file-name")
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                    .unwrap_or_else(|_| "-lgcc".into());
                let pre = vec![
                    "-static-pie".into(),
                    "-fPIE".into(),
                    "-O2".into(),
                    "-nostdinc".into(),
                    "-isystem".into(),
                    "/usr/include/x86_64-linux-musl".into(),
                    "-isystem".into(),
                    gcc_file("include"),
                    "-nostdlib".into(),
                    "-nostartfiles".into(),
                    format!("{m}/rcrt1.o"),
                    format!("{m}/crti.o"),
                    gcc_file("crtbeginS.o"),
                ];
                let post = vec![
                    format!("-L{m}"),
                    "-lc".into(),
                    libgcc,
                    gcc_file("crtendS.o"),
                    format!("{m}/crtn.o"),
                ];
                ("gcc", pre, post)
            }
            Variant::Glibc => ("gcc", v(&["-static", "-O2"]), vec![]),
            Variant::GlibcDyn => ("gcc", v(&["-O2"]), vec![]),
        }
    }
}

/// Compiles `src` into `out`; extra flags (libraries) come from a sibling `.flags` file.
pub fn compile_c(src: &Path, variant: Variant, out: &Path) -> Result<(), String> {
    let (cc, mut pre, post) = variant.command();
    if matches!(variant, Variant::Musl | Variant::MuslPie) {
        pre.push("-isystem".into());
        pre.push(kernel_headers()?.display().to_string());
    }
    let extra = std::fs::read_to_string(src.with_extension("flags")).unwrap_or_default();
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    let o = Command::new(cc)
        .args(&pre)
        .arg("-Wall")
        .arg("-I")
        .arg(src.parent().unwrap_or(Path::new(".")))
        .arg("-o")
        .arg(out)
        .arg(src)
        .args(extra.split_whitespace())
        .args(&post)
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    compiler_said(&o)
}

/// Ok when a compiler run succeeded, else the first lines of what it said.
fn compiler_said(o: &std::process::Output) -> Result<(), String> {
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr)
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join(" | "));
    }
    Ok(())
}

/// Both glibc builds of `src` (`Variant::Glibc` into `static_out`, `Variant::GlibcDyn` into
/// `dyn_out`) from one compilation: `-static` only changes the link, so gcc runs its compiler
/// proper (cc1, the same arguments for both) once (`-c`) and links the object twice. The
/// programs are byte for byte those of two `compile_c` calls (checked for every conformance
/// test on 2026-12-07: `cmp` of both ways' builds), at about two thirds of the time.
pub fn compile_glibc_pair(src: &Path, static_out: &Path, dyn_out: &Path) -> Result<(), String> {
    let extra = std::fs::read_to_string(src.with_extension("flags")).unwrap_or_default();
    let extra: Vec<&str> = extra.split_whitespace().collect();
    for out in [static_out, dyn_out] {
        if let Some(p) = out.parent() {
            std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
        }
    }
    let obj = PathBuf::from(format!("{}.o", dyn_out.display()));
    // The compile step takes the `.flags` options (`-pthread` defines _REENTRANT), not the
    // libraries, which are link inputs only.
    let options = extra
        .iter()
        .filter(|a| a.starts_with('-') && !a.starts_with("-l") && !a.starts_with("-L"));
    let o = Command::new("gcc")
        .args(["-O2", "-Wall", "-I"])
        .arg(src.parent().unwrap_or(Path::new(".")))
        .arg("-c")
        .arg("-o")
        .arg(&obj)
        .arg(src)
        .args(options)
        .output()
        .map_err(|e| format!("gcc: {e}"));
    let linked = o.and_then(|o| compiler_said(&o)).and_then(|()| {
        for (out, link) in [(static_out, &["-static", "-O2"][..]), (dyn_out, &["-O2"])] {
            let o = Command::new("gcc")
                .args(link)
                .arg("-Wall")
                .arg("-o")
                .arg(out)
                .arg(&obj)
                .args(&extra)
                .output()
                .map_err(|e| format!("gcc: {e}"))?;
            compiler_said(&o)?;
        }
        Ok(())
    });
    let _ = std::fs::remove_file(&obj);
    linked
}

/// `f` over `items` on every host core at once, the results in the order of `items`: the
/// conformance tests' compilers are independent processes, and compiling 180 tests for four
/// libcs one after the other kept one of the CI machine's two cores idle for minutes.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Linux's user-space headers (linux/, asm/, asm-generic/ from Debian's linux-libc-dev) and
/// liburing's (liburing-dev: its liburing.a needs only calloc and free from a libc) in a
/// folder of their own, so musl programs can include <linux/netlink.h> and <liburing.h>
/// without glibc's headers, as musl distributions ship them.
fn kernel_headers() -> Result<PathBuf, String> {
    let d = build_dir().join("kernel-headers");
    std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
    for (name, target) in [
        ("linux", "/usr/include/linux"),
        ("asm", "/usr/include/x86_64-linux-gnu/asm"),
        ("asm-generic", "/usr/include/asm-generic"),
        ("liburing", "/usr/include/liburing"),
        ("liburing.h", "/usr/include/liburing.h"),
    ] {
        let link = d.join(name);
        match std::os::unix::fs::symlink(target, &link) {
            // Tests compile in parallel: another one may have made it first.
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(format!("{}: {e}", link.display()));
            }
            _ => {}
        }
    }
    Ok(d)
}

pub fn ensure_build_dir() -> Result<PathBuf, String> {
    let d = build_dir();
    std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `compile_glibc_pair` makes, byte for byte, the programs two `compile_c` calls make,
    /// for every conformance test (a few minutes of compiling: `cargo test -p xtask --
    /// --ignored glibc_pair`).
    #[test]
    #[ignore]
    fn glibc_pair_is_two_compile_c() {
        let dir = root().join("tests/conformance");
        let out = std::env::temp_dir().join(format!("xtask-pair-{}", std::process::id()));
        let mut srcs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        srcs.sort();
        let differ: Vec<String> = in_parallel(&srcs, |src| {
            let name = src.file_stem().unwrap().to_string_lossy().into_owned();
            let p = |w: &str| out.join(w).join(&name);
            compile_c(src, Variant::Glibc, &p("s1")).unwrap();
            compile_c(src, Variant::GlibcDyn, &p("d1")).unwrap();
            compile_glibc_pair(src, &p("s2"), &p("d2")).unwrap();
            let same =
                |a: &str, b: &str| std::fs::read(p(a)).unwrap() == std::fs::read(p(b)).unwrap();
            (!(same("s1", "s2") && same("d1", "d2"))).then_some(name)
        })
        .into_iter()
        .flatten()
        .collect();
        let _ = std::fs::remove_dir_all(&out);
        assert!(differ.is_empty(), "{differ:?}");
        assert!(srcs.len() > 100);
    }
}
