//! devpts's mount options, read as Linux's parse_mount_options (fs/devpts/inode.c) reads
//! them with match_token: `uid=%u`, `gid=%u`, `mode=%o`, `ptmxmode=%o`, `newinstance`,
//! `max=%d`; the generic superblock words (`ro`, `rw`, `sync`...) are taken before; anything
//! else is EINVAL. Every mount and remount starts from the defaults (mode 600, ptmxmode 000,
//! no uid/gid, no limit), as Linux's does.

use alloc::string::String;
use core::fmt::Write;
use lintel_abi::{Errno, KResult};

/// Linux's NR_UNIX98_PTY_MAX: `max=` may not exceed it, and it is the default.
pub const NR_UNIX98_PTY_MAX: u32 = 1 << 20;

/// What a devpts mount asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevptsOptions {
    /// Owner of new slave nodes (else the opener's fsuid).
    pub uid: Option<u32>,
    /// Group of new slave nodes (else the opener's fsgid).
    pub gid: Option<u32>,
    /// Permission bits of new slave nodes.
    pub mode: u32,
    /// Permission bits of the instance's `ptmx` node.
    pub ptmxmode: u32,
    /// The most ptys the instance holds.
    pub max: u32,
}

impl Default for DevptsOptions {
    fn default() -> Self {
        DevptsOptions {
            uid: None,
            gid: None,
            mode: 0o600,
            ptmxmode: 0,
            max: NR_UNIX98_PTY_MAX,
        }
    }
}

impl DevptsOptions {
    /// The options as /proc/mounts shows them after the per-mount ones (devpts_show_options).
    pub fn show(&self) -> String {
        let mut s = String::new();
        if let Some(u) = self.uid {
            let _ = write!(s, ",uid={u}");
        }
        if let Some(g) = self.gid {
            let _ = write!(s, ",gid={g}");
        }
        let _ = write!(s, ",mode={:03o},ptmxmode={:03o}", self.mode, self.ptmxmode);
        if self.max < NR_UNIX98_PTY_MAX {
            let _ = write!(s, ",max={}", self.max);
        }
        s
    }
}

/// The options of a devpts mount or remount (EINVAL for what Linux refuses).
pub fn parse_devpts_options(data: &[u8]) -> KResult<DevptsOptions> {
    let mut o = DevptsOptions::default();
    for item in data.split(|&c| c == b',').filter(|i| !i.is_empty()) {
        if crate::mount_options::is_sb_flag(item) || item == b"newinstance" {
            continue;
        }
        let (key, value) = match item.iter().position(|&c| c == b'=') {
            Some(i) => (&item[..i], &item[i + 1..]),
            None => return Err(Errno::EINVAL),
        };
        match key {
            b"uid" => o.uid = Some(unsigned(value, 0)?),
            b"gid" => o.gid = Some(unsigned(value, 0)?),
            b"mode" => o.mode = unsigned(value, 8)? & 0o7777,
            b"ptmxmode" => o.ptmxmode = unsigned(value, 8)? & 0o7777,
            b"max" => {
                // %d takes a sign; a negative count is refused after.
                let v = match value.strip_prefix(b"-") {
                    Some(rest) if unsigned(rest, 0)? > 0 => return Err(Errno::EINVAL),
                    Some(_) => 0,
                    None => unsigned(value, 0)?,
                };
                if v > NR_UNIX98_PTY_MAX {
                    return Err(Errno::EINVAL);
                }
                o.max = v;
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(o)
}

/// A number as match_token's `%u` (radix 0: `0x` hexadecimal, a leading `0` octal, else
/// decimal) or `%o` (radix 8) matches it — the whole value, no sign — that then fits an
/// int as match_int/match_octal require.
fn unsigned(v: &[u8], radix: u32) -> KResult<u32> {
    let (radix, digits) = match (radix, v) {
        (0, [b'0', b'x' | b'X', d, ..]) if d.is_ascii_hexdigit() => (16, &v[2..]),
        (0, [b'0', ..]) => (8, v),
        (0, _) => (10, v),
        (r, _) => (r, v),
    };
    if digits.is_empty() {
        return Err(Errno::EINVAL);
    }
    let mut n: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix).ok_or(Errno::EINVAL)?;
        n = n * radix as u64 + d as u64;
        if n > i32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
    }
    Ok(n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_linux_reads_them() {
        let d = DevptsOptions::default();
        assert_eq!(parse_devpts_options(b""), Ok(d));
        assert_eq!(d.show(), ",mode=600,ptmxmode=000");
        let o = parse_devpts_options(b"uid=1000,gid=1000,mode=0600,ptmxmode=0666,max=2").unwrap();
        assert_eq!(o.show(), ",uid=1000,gid=1000,mode=600,ptmxmode=666,max=2");
        let o = parse_devpts_options(b"mode=620,gid=5,newinstance,ro,,rw").unwrap();
        assert_eq!(o.show(), ",gid=5,mode=620,ptmxmode=000");
        assert_eq!(parse_devpts_options(b"mode=0777777").unwrap().mode, 0o7777);
        assert_eq!(parse_devpts_options(b"uid=0x10").unwrap().uid, Some(16));
        assert_eq!(parse_devpts_options(b"gid=010").unwrap().gid, Some(8));
        assert_eq!(parse_devpts_options(b"max=0").unwrap().max, 0);
        assert_eq!(parse_devpts_options(b"max=-0").unwrap().max, 0);
        assert_eq!(
            parse_devpts_options(b"max=4096").unwrap().show(),
            ",mode=600,ptmxmode=000,max=4096"
        );
        for bad in [
            &b"bogus"[..],
            b"mode=",
            b"mode=x",
            b"mode=8",
            b"gid=-1",
            b"uid=abc",
            b"uid=12abc",
            b"uid=+1",
            b"uid=2147483648",
            b"max=-1",
            b"max=1048577",
            b"newinstance=1",
            b"nosuid",
            b"defaults",
            b"size=1m",
            b"uid",
        ] {
            assert_eq!(parse_devpts_options(bad), Err(Errno::EINVAL), "{bad:?}");
        }
    }
}
