//! What a dynamically linked ELF program needs at run time (its interpreter and shared
//! libraries), found by reading the ELF files themselves the way the interpreter will
//! search, so glibc and musl programs alike work without asking the host's `ldd` (which is
//! glibc's and cannot list a musl program). A program of another architecture (an aarch64 or
//! riscv64 one for those ports) gets the libraries of its Debian cross sysroot
//! (/usr/TRIPLET/lib, from libc6-arm64-cross and the like) at the guest paths its
//! interpreter searches (/lib/TRIPLET), unless the host has them multiarch at those paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// The dynamic-linking facts of one ELF file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    /// e_machine: which architecture the file is for.
    pub machine: u16,
    pub interp: Option<String>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
}

fn rd<const N: usize>(d: &[u8], o: usize) -> Option<[u8; N]> {
    d.get(o..o.checked_add(N)?)?.try_into().ok()
}
fn u16_at(d: &[u8], o: usize) -> Option<usize> {
    rd::<2>(d, o).map(|b| u16::from_le_bytes(b) as usize)
}
fn u32_at(d: &[u8], o: usize) -> Option<u32> {
    rd::<4>(d, o).map(u32::from_le_bytes)
}
fn u64_at(d: &[u8], o: usize) -> Option<u64> {
    rd::<8>(d, o).map(u64::from_le_bytes)
}
fn cstr(d: &[u8], o: usize) -> Option<String> {
    let s = d.get(o..)?;
    let end = s.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&s[..end]).into_owned())
}

/// Parses a 64-bit little-endian ELF file; None when `d` is not one (or is truncated). A
/// static or static-pie program has no interpreter and needs nothing.
pub fn parse(d: &[u8]) -> Option<Dynamic> {
    if d.len() < 64 || &d[..4] != b"\x7fELF" || d[4] != 2 || d[5] != 1 {
        return None;
    }
    let phoff = u64_at(d, 32)? as usize;
    let (phentsize, phnum) = (u16_at(d, 54)?, u16_at(d, 56)?);
    let mut out = Dynamic {
        machine: u16_at(d, 18)? as u16,
        ..Dynamic::default()
    };
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum {
        let o = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let (ty, off, vaddr, filesz) = (
            u32_at(d, o)?,
            u64_at(d, o + 8)?,
            u64_at(d, o + 16)?,
            u64_at(d, o + 32)?,
        );
        match ty {
            PT_INTERP => out.interp = cstr(d, off as usize),
            PT_LOAD => loads.push((vaddr, off, filesz)),
            PT_DYNAMIC => dynamic = Some((off as usize, filesz as usize)),
            _ => {}
        }
    }
    let Some((doff, dsize)) = dynamic else {
        return Some(out);
    };
    let mut entries = Vec::new();
    let mut strtab = None;
    for i in 0..dsize / 16 {
        let tag = u64_at(d, doff + i * 16)?;
        let val = u64_at(d, doff + i * 16 + 8)?;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(val),
            _ => entries.push((tag, val)),
        }
    }
    // DT_STRTAB is an address: the PT_LOAD segment holding it gives its file offset.
    let Some(strtab) = strtab.and_then(|a| {
        loads
            .iter()
            .find(|(v, _, sz)| a >= *v && a < v + sz)
            .map(|(v, off, _)| (a - v + off) as usize)
    }) else {
        return Some(out);
    };
    let list = |v: u64| -> Vec<String> {
        cstr(d, strtab + v as usize)
            .unwrap_or_default()
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (tag, val) in entries {
        match tag {
            DT_NEEDED => out.needed.extend(cstr(d, strtab + val as usize)),
            DT_RPATH => out.rpath = list(val),
            DT_RUNPATH => out.runpath = list(val),
            _ => {}
        }
    }
    Some(out)
}

/// Reads and parses the ELF file at `p`; None for anything else.
pub fn read(p: &Path) -> Option<Dynamic> {
    parse(&std::fs::read(p).ok()?)
}

fn is_musl(interp: &str) -> bool {
    interp.contains("ld-musl")
}

/// Debian's multiarch name for the architecture of ELF machine `machine`.
fn triplet(machine: u16) -> &'static str {
    match machine {
        183 => "aarch64-linux-gnu",
        243 => "riscv64-linux-gnu",
        _ => "x86_64-linux-gnu",
    }
}

/// Whether `p` is an ELF file for `machine` (the interpreter skips libraries of another
/// architecture in its search, as /usr/lib's x86_64 ones for an aarch64 program).
fn is_for(p: &Path, machine: u16) -> bool {
    p.is_file() && read(p).is_some_and(|d| d.machine == machine)
}

/// The folders the interpreter searches after a library's own paths: musl reads
/// /etc/ld-musl-ARCH.path (folders separated by colons or new lines) or falls back on its
/// built-in list; glibc (without its ld.so.cache, which the guest has not) searches its
/// trusted folders, Debian's multiarch ones first.
fn default_dirs(interp: &str, machine: u16) -> Vec<String> {
    if is_musl(interp) {
        let name = Path::new(interp)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let arch = name
            .strip_prefix("ld-musl-")
            .and_then(|s| s.strip_suffix(".so.1"))
            .unwrap_or("x86_64");
        if let Ok(text) = std::fs::read_to_string(format!("/etc/ld-musl-{arch}.path")) {
            return text
                .split([':', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        return ["/lib", "/usr/local/lib", "/usr/lib"]
            .map(String::from)
            .to_vec();
    }
    let t = triplet(machine);
    [
        &format!("/lib/{t}"),
        &format!("/usr/lib/{t}"),
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ]
    .map(String::from)
    .to_vec()
}

/// Search folders as (host, guest): each folder itself, and after a multiarch one the cross
/// sysroot's library folder that stands in for it on a host without that architecture.
fn host_dirs(guest_dirs: Vec<String>, machine: u16) -> Vec<(String, String)> {
    let t = triplet(machine);
    let mut out = Vec::new();
    for d in guest_dirs {
        out.push((d.clone(), d.clone()));
        if d.ends_with(t) {
            out.push((format!("/usr/{t}/lib"), d));
        }
    }
    out
}

/// Where the host has interpreter `interp` for `machine`: its own path, or the cross
/// sysroot's file of that name.
fn host_interp(interp: &str, machine: u16) -> Option<PathBuf> {
    let name = Path::new(interp).file_name()?;
    [
        PathBuf::from(interp),
        Path::new("/usr")
            .join(triplet(machine))
            .join("lib")
            .join(name),
    ]
    .into_iter()
    .find(|p| is_for(p, machine))
}

/// `$ORIGIN` (or `${ORIGIN}`) in a search path is the folder of the object naming it.
fn expand_origin(dir: &str, object: &Path) -> String {
    let origin = object
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    dir.replace("${ORIGIN}", &origin)
        .replace("$ORIGIN", &origin)
}

/// `..` and `.` taken out of a path without looking at any file system.
pub fn lexical(p: &str) -> String {
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

/// The interpreter and every shared library `program` needs, transitively: each host path
/// (the way the interpreter finds it, symlinks not resolved) with the guest path it must
/// have. That is the host path, except for a library found through `$ORIGIN`, which must sit
/// beside the program's guest path `guest`. Empty for a static or static-pie program or a
/// file that is not ELF; an error names a library not found.
pub fn needs(program: &Path, guest: &str) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut found = BTreeMap::new();
    let Some(top) = read(program) else {
        return Ok(found);
    };
    let Some(interp) = top.interp.clone() else {
        return Ok(found);
    };
    let machine = top.machine;
    let Some(host_interp) = host_interp(&interp, machine) else {
        return Err(format!(
            "{}: its interpreter {interp} is not on this host",
            program.display()
        ));
    };
    found.insert(host_interp, interp.clone());
    let musl = is_musl(&interp);
    let defaults = host_dirs(default_dirs(&interp, machine), machine);
    // A search folder as (host, guest): they differ only through $ORIGIN.
    let both = |d: &str, obj: &Path, gobj: &str| {
        (
            expand_origin(d, obj),
            lexical(&expand_origin(d, Path::new(gobj))),
        )
    };
    // (object, its guest path, its facts, the RPATHs of the objects that loaded it: glibc
    // searches them too when the object has no RUNPATH).
    let mut queue = vec![(program.to_path_buf(), lexical(guest), top, Vec::new())];
    while let Some((obj, gobj, dynamic, inherited)) = queue.pop() {
        let mut rpaths: Vec<(String, String)> = Vec::new();
        if !musl && dynamic.runpath.is_empty() {
            rpaths.extend(dynamic.rpath.iter().map(|d| both(d, &obj, &gobj)));
            rpaths.extend(inherited.iter().cloned());
        }
        let mut dirs = rpaths.clone();
        if musl {
            // musl searches RPATH and RUNPATH alike, $ORIGIN expanded.
            dirs.extend(dynamic.rpath.iter().map(|d| both(d, &obj, &gobj)));
        }
        dirs.extend(dynamic.runpath.iter().map(|d| both(d, &obj, &gobj)));
        dirs.extend(defaults.iter().cloned());
        for name in &dynamic.needed {
            // musl's interpreter is its libc: "libc.so" (what musl-gcc links) is itself.
            if musl && name.starts_with("libc.so") {
                continue;
            }
            let hit = if name.contains('/') {
                Some(both(name, &obj, &gobj))
            } else {
                dirs.iter()
                    .map(|(h, g)| (format!("{h}/{name}"), format!("{g}/{name}")))
                    .find(|(h, _)| is_for(Path::new(h), machine))
            };
            let Some((host, gpath)) = hit.filter(|(h, _)| is_for(Path::new(h), machine)) else {
                let searched: Vec<&str> = dirs.iter().map(|(h, _)| h.as_str()).collect();
                return Err(format!(
                    "{}: needs the shared library {name}, not found on this host (searched {})",
                    obj.display(),
                    searched.join(":")
                ));
            };
            let host = PathBuf::from(host);
            if found.contains_key(&host) {
                continue;
            }
            found.insert(host.clone(), gpath.clone());
            if let Some(d) = read(&host) {
                queue.push((host, gpath, d, rpaths.clone()));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_programs_and_garbage() {
        assert_eq!(parse(b"not an elf"), None);
        assert_eq!(parse(&[0x7f, b'E', b'L', b'F', 2, 1]), None);
        // Every host has a dynamic glibc /bin/sh (dash or bash) on Debian.
        let sh = needs(Path::new("/bin/sh"), "/bin/sh").unwrap();
        assert!(sh.keys().any(|p| p.to_string_lossy().contains("ld-linux")));
        assert!(sh.keys().any(|p| p.to_string_lossy().contains("libc.so.6")));
        assert!(sh.iter().all(|(h, g)| h.to_string_lossy() == g.as_str()));
    }

    #[test]
    fn cross_sysroot() {
        // Only where libc6-arm64-cross (or libc6:arm64) is installed.
        let Some(ld) = host_interp("/lib/ld-linux-aarch64.so.1", 183) else {
            return;
        };
        assert!(is_for(&ld, 183));
        assert!(host_interp("/lib/ld-linux-aarch64.so.1", 62).is_none());
        let dirs = host_dirs(default_dirs("/lib/ld-linux-aarch64.so.1", 183), 183);
        assert_eq!(
            dirs[0],
            (
                "/lib/aarch64-linux-gnu".into(),
                "/lib/aarch64-linux-gnu".into()
            )
        );
        assert_eq!(
            dirs[1],
            (
                "/usr/aarch64-linux-gnu/lib".into(),
                "/lib/aarch64-linux-gnu".into()
            )
        );
        // No x86_64 library of /lib or /usr/lib ever stands in for an aarch64 one.
        assert!(!is_for(Path::new("/lib/x86_64-linux-gnu/libc.so.6"), 183));
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(lexical("/opt/x/bin/../lib/./l.so"), "/opt/x/lib/l.so");
        assert_eq!(lexical("/../a"), "/a");
    }

    #[test]
    fn origin_expands() {
        assert_eq!(
            expand_origin("$ORIGIN/../lib:${ORIGIN}", Path::new("/opt/x/bin/p")),
            "/opt/x/bin/../lib:/opt/x/bin"
        );
    }
}
