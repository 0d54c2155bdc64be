//! tmpfs mount options as Linux's shmem_parse_one reads them: `size=` (bytes with a k/m/g/t/p/e
//! suffix, or a percentage of RAM), `nr_blocks=`, `nr_inodes=` (with the same suffixes),
//! `mode=` (octal), `uid=`, `gid=`; the generic flags and the tmpfs options Lintel does not act
//! on are accepted; anything else is EINVAL.

use lintel_abi::{Errno, KResult};

const PAGE: u64 = 4096;
/// Linux's BOGO_INODE_SIZE: nr_inodes may not exceed ULONG_MAX / 1024.
const BOGO_INODE_SIZE: u64 = 1024;

/// What a mount or remount asked for; `None` where the option was not given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// Size limit in pages (0: none).
    pub blocks: Option<u64>,
    /// Inode limit (0: none).
    pub inodes: Option<u64>,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Options that are accepted and have no effect here: the flags the VFS itself parses
/// (vfs_parse_sb_flag) and tmpfs options about huge pages, NUMA, swap, inode numbers, quotas.
const IGNORED: &[&[u8]] = &[
    b"ro",
    b"rw",
    b"sync",
    b"async",
    b"dirsync",
    b"lazytime",
    b"nolazytime",
    b"mand",
    b"nomand",
    b"silent",
    b"loud",
    b"source",
    b"huge",
    b"mpol",
    b"inode32",
    b"inode64",
    b"noswap",
    b"quota",
    b"usrquota",
    b"grpquota",
    b"noquota",
    b"casefold",
];

/// simple_strtoull with base 0: `0x` hexadecimal, a leading `0` octal, else decimal. Returns
/// the value and the unparsed rest.
fn strtoull(s: &[u8]) -> (u64, &[u8]) {
    let (base, mut s) = match s {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, rest)
        }
        [b'0', ..] => (8, s),
        _ => (10, s),
    };
    let mut v: u64 = 0;
    while let Some((&c, rest)) = s.split_first() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        } as u64;
        if d >= base {
            break;
        }
        v = v.wrapping_mul(base).wrapping_add(d);
        s = rest;
    }
    (v, s)
}

/// Linux's memparse: a number with an optional binary suffix.
fn memparse(s: &[u8]) -> (u64, &[u8]) {
    let (v, rest) = strtoull(s);
    let shift = match rest.first().map(u8::to_ascii_lowercase) {
        Some(b'k') => 10,
        Some(b'm') => 20,
        Some(b'g') => 30,
        Some(b't') => 40,
        Some(b'p') => 50,
        Some(b'e') => 60,
        _ => return (v, rest),
    };
    (v.wrapping_shl(shift), &rest[1..])
}

/// A whole-string unsigned number in `radix` (kstrtouint: one trailing newline allowed).
fn strict_u32(s: &[u8], radix: u32) -> KResult<u32> {
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    let t = core::str::from_utf8(s).map_err(|_| Errno::EINVAL)?;
    if t.is_empty() || t.starts_with('+') || t.starts_with('-') {
        return Err(Errno::EINVAL);
    }
    u32::from_str_radix(t, radix).map_err(|_| Errno::EINVAL)
}

/// Parses the comma-separated option string of mount(2) for tmpfs. `ram_pages` sizes `%`.
pub fn parse_tmpfs_options(data: &[u8], ram_pages: u64) -> KResult<TmpfsOptions> {
    let mut o = TmpfsOptions::default();
    for opt in data.split(|&c| c == b',').filter(|o| !o.is_empty()) {
        let (key, value) = match opt.iter().position(|&c| c == b'=') {
            Some(i) => (&opt[..i], Some(&opt[i + 1..])),
            None => (opt, None),
        };
        if IGNORED.contains(&key) {
            continue;
        }
        // Every tmpfs option with a value needs a non-empty one.
        let v = value.filter(|v| !v.is_empty()).ok_or(Errno::EINVAL)?;
        match key {
            b"size" => {
                let (size, rest) = memparse(v);
                let (bytes, rest) = match rest {
                    [b'%', rest @ ..] => (
                        (size.wrapping_shl(12) as u128 * ram_pages as u128 / 100) as u64,
                        rest,
                    ),
                    _ => (size, rest),
                };
                if !rest.is_empty() {
                    return Err(Errno::EINVAL);
                }
                o.blocks = Some(bytes.div_ceil(PAGE));
            }
            b"nr_blocks" => {
                let (n, rest) = memparse(v);
                if !rest.is_empty() || n > i64::MAX as u64 {
                    return Err(Errno::EINVAL);
                }
                o.blocks = Some(n);
            }
            b"nr_inodes" => {
                let (n, rest) = memparse(v);
                if !rest.is_empty() || n > u64::MAX / BOGO_INODE_SIZE {
                    return Err(Errno::EINVAL);
                }
                o.inodes = Some(n);
            }
            b"mode" => o.mode = Some(strict_u32(v, 8)? & 0o7777),
            b"uid" | b"gid" => {
                let id = strict_u32(v, 10)?;
                if id == u32::MAX {
                    return Err(Errno::EINVAL);
                }
                if key == b"uid" {
                    o.uid = Some(id);
                } else {
                    o.gid = Some(id);
                }
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(o)
}
