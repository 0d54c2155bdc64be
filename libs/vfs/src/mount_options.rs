//! The option strings mount(2) hands to proc, sysfs and ext4, checked as Linux's fs_context
//! code reads them (generic_parse_monolithic, vfs_parse_fs_param, fs_parse): the generic
//! superblock flags first (`ro`, `rw`, `sync`...), then the file system's own parameters by
//! name and value type, and anything else is EINVAL, on a new mount and on MS_REMOUNT alike.
//! Lintel does not act on these options (beyond `ro`/`rw`); what matters to programs is that
//! a misspelt or unsupported option fails as on Linux instead of being taken silently.

use lintel_abi::{Errno, KResult};

/// Keys vfs_parse_sb_flag takes for every file system (any value is ignored).
const SB_FLAGS: &[&str] = &[
    "dirsync",
    "lazytime",
    "mand",
    "ro",
    "sync",
    "async",
    "nolazytime",
    "nomand",
    "rw",
];

/// Whether `key` is a generic superblock word (taken before any file system's options).
pub(crate) fn is_sb_flag(key: &[u8]) -> bool {
    SB_FLAGS.iter().any(|f| f.as_bytes() == key)
}

/// What a parameter's value must be (Linux's fs_param_is_*).
#[derive(Clone, Copy)]
enum Kind {
    /// No value.
    Flag,
    /// kstrtouint, base 0.
    U32,
    /// kstrtoint, base 0.
    S32,
    /// One of the names.
    Enum(&'static [&'static str]),
    /// A non-empty string.
    Str,
    /// A string that may be empty.
    StrEmpty,
}

use Kind::*;

/// ext4_param_specs (Linux 6.x), a name may appear twice (a flag and a valued form).
const EXT4: &[(&str, Kind)] = &[
    ("bsddf", Flag),
    ("minixdf", Flag),
    ("grpid", Flag),
    ("bsdgroups", Flag),
    ("nogrpid", Flag),
    ("sysvgroups", Flag),
    ("resgid", U32),
    ("resuid", U32),
    ("sb", U32),
    ("errors", Enum(&["continue", "panic", "remount-ro"])),
    ("nouid32", Flag),
    ("debug", Flag),
    ("oldalloc", Flag),
    ("orlov", Flag),
    ("user_xattr", Flag),
    ("acl", Flag),
    ("norecovery", Flag),
    ("noload", Flag),
    ("bh", Flag),
    ("nobh", Flag),
    ("commit", U32),
    ("min_batch_time", U32),
    ("max_batch_time", U32),
    ("journal_dev", U32),
    ("journal_path", Str),
    ("journal_checksum", Flag),
    ("nojournal_checksum", Flag),
    ("journal_async_commit", Flag),
    ("abort", Flag),
    ("data", Enum(&["journal", "ordered", "writeback"])),
    ("data_err", Enum(&["abort", "ignore"])),
    ("usrjquota", StrEmpty),
    ("grpjquota", StrEmpty),
    ("jqfmt", Enum(&["vfsold", "vfsv0", "vfsv1"])),
    ("grpquota", Flag),
    ("quota", Flag),
    ("noquota", Flag),
    ("usrquota", Flag),
    ("prjquota", Flag),
    ("barrier", Flag),
    ("barrier", U32),
    ("nobarrier", Flag),
    ("i_version", Flag),
    ("dax", Flag),
    ("dax", Enum(&["always", "inode", "never"])),
    ("stripe", U32),
    ("delalloc", Flag),
    ("nodelalloc", Flag),
    ("warn_on_error", Flag),
    ("nowarn_on_error", Flag),
    ("debug_want_extra_isize", U32),
    ("mblk_io_submit", Flag),
    ("nomblk_io_submit", Flag),
    ("block_validity", Flag),
    ("noblock_validity", Flag),
    ("inode_readahead_blks", U32),
    ("journal_ioprio", U32),
    ("auto_da_alloc", U32),
    ("auto_da_alloc", Flag),
    ("noauto_da_alloc", Flag),
    ("dioread_nolock", Flag),
    ("nodioread_nolock", Flag),
    ("dioread_lock", Flag),
    ("discard", Flag),
    ("nodiscard", Flag),
    ("init_itable", U32),
    ("init_itable", Flag),
    ("noinit_itable", Flag),
    ("max_dir_size_kb", U32),
    ("test_dummy_encryption", Flag),
    ("test_dummy_encryption", Str),
    ("inlinecrypt", Flag),
    ("nombcache", Flag),
    ("no_mbcache", Flag),
    ("prefetch_block_bitmaps", Flag),
    ("no_prefetch_block_bitmaps", Flag),
    ("mb_optimize_scan", S32),
    ("check", Str),
    ("nocheck", Flag),
    ("reservation", Flag),
    ("noreservation", Flag),
    ("journal", U32),
];

/// proc_fs_parameters.
const PROC: &[(&str, Kind)] = &[
    ("gid", U32),
    ("hidepid", Str),
    ("subset", Str),
    ("pidns", Str),
];

/// What a mount's option string asks of the generic flags: the last `ro` or `rw` in it
/// (Linux applies it to the superblock: `ro` makes the file system read-only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generic {
    pub read_only: Option<bool>,
}

/// The `key[=value]` items of a monolithic option string, as vfs_parse_monolithic_sep
/// splits it (empty items and items starting with '=' skipped).
fn items(data: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    data.split(|&c| c == b',')
        .filter(|o| !o.is_empty() && o[0] != b'=')
        .map(|o| match o.iter().position(|&c| c == b'=') {
            Some(i) => (&o[..i], Some(&o[i + 1..])),
            None => (o, None),
        })
}

/// The `ro`/`rw` wish of any option string (tmpfs and vfat parse the rest themselves).
pub fn generic_options(data: &[u8]) -> Generic {
    let mut g = Generic::default();
    for (key, _) in items(data) {
        match key {
            b"ro" => g.read_only = Some(true),
            b"rw" => g.read_only = Some(false),
            _ => {}
        }
    }
    g
}

/// ext4's journal checksum wish: the last of `journal_checksum` or `journal_async_commit`
/// (which implies it; Lintel's commits stay synchronous) for Some(true), `nojournal_checksum`
/// for Some(false); None when the options name none of them.
pub fn ext4_journal_checksum(data: &[u8]) -> Option<bool> {
    let mut on = None;
    for (key, _) in items(data) {
        match key {
            b"journal_checksum" | b"journal_async_commit" => on = Some(true),
            b"nojournal_checksum" => on = Some(false),
            _ => {}
        }
    }
    on
}

/// Checks `data` for a mount (or, with `remount`, a remount) of `fstype` ("ext4", "proc",
/// "sysfs"; other types are not checked here). EINVAL for what Linux refuses.
pub fn check_options(fstype: &str, data: &[u8], remount: bool) -> KResult<Generic> {
    let specs: &[(&str, Kind)] = match fstype {
        "ext4" | "ext3" | "ext2" => EXT4,
        "proc" => PROC,
        "sysfs" | "mqueue" => &[],
        _ => return Ok(generic_options(data)),
    };
    let mut source = false;
    for (key, value) in items(data) {
        let key = core::str::from_utf8(key).map_err(|_| Errno::EINVAL)?;
        if SB_FLAGS.contains(&key) {
            continue;
        }
        if let Some(spec) = lookup(specs, key, value.is_none()) {
            check_value(spec, value)?;
            match (fstype, key) {
                ("proc", "hidepid") => hidepid(value.unwrap_or_default())?,
                ("proc", "subset") if value != Some(b"pid") => return Err(Errno::EINVAL),
                // ext4_parse_param: no journal on remount, and the data mode stays
                // (ext4_check_opt_consistency); Lintel's ext4 always writes ordered.
                (_, "journal_dev" | "journal_path") if remount => return Err(Errno::EINVAL),
                (_, "data") if remount && value != Some(b"ordered") => return Err(Errno::EINVAL),
                _ => {}
            }
            continue;
        }
        // vfs_parse_fs_param_source: one "source" (a remount has none yet; a new mount
        // already got the source argument).
        if key == "source" && remount && !source && value.is_some() {
            source = true;
            continue;
        }
        return Err(Errno::EINVAL);
    }
    Ok(generic_options(data))
}

/// fs_lookup_key: the entry named `key` whose flag-ness matches, else any entry so named.
fn lookup(specs: &[(&str, Kind)], key: &str, flag: bool) -> Option<Kind> {
    let mut other = None;
    for &(_, kind) in specs.iter().filter(|(n, _)| *n == key) {
        if matches!(kind, Flag) == flag {
            return Some(kind);
        }
        other = Some(kind);
    }
    other
}

/// The value checks of fs_parse and the fs_param_is_* helpers.
fn check_value(kind: Kind, value: Option<&[u8]>) -> KResult<()> {
    let ok = match (kind, value) {
        (Flag, None) => true,
        (Flag, Some(_)) | (_, None) => false,
        (U32, Some(v)) => kstrto(v, false).is_some_and(|n| n <= u32::MAX as i128),
        (S32, Some(v)) => kstrto(v, true).is_some_and(|n| i32::try_from(n).is_ok()),
        (Enum(names), Some(v)) => names.iter().any(|n| n.as_bytes() == v),
        (Str, Some(v)) => !v.is_empty(),
        (StrEmpty, Some(_)) => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// proc_parse_hidepid_param: 0, 1, 2 or 4, or off/noaccess/invisible/ptraceable.
fn hidepid(v: &[u8]) -> KResult<()> {
    if let Some(n) = kstrto(v, false) {
        return if matches!(n, 0 | 1 | 2 | 4) {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        };
    }
    match v {
        b"off" | b"noaccess" | b"invisible" | b"ptraceable" => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// kstrtouint/kstrtoint with base 0: an optional sign ('-' only when `signed`), `0x`
/// hexadecimal, a leading `0` octal, else decimal; the whole string (one trailing newline
/// allowed). None when it is no such number or does not fit 64 bits.
fn kstrto(s: &[u8], signed: bool) -> Option<i128> {
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    let (neg, s) = match s {
        [b'-', rest @ ..] if signed => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let (radix, digits) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', _, ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix)?;
        n = n.checked_mul(radix as u64)?.checked_add(d as u64)?;
    }
    Some(if neg { -(n as i128) } else { n as i128 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_options() {
        assert!(check_options("proc", b"", true).is_ok());
        assert!(check_options("proc", b"hidepid=2,gid=5", true).is_ok());
        assert!(check_options("proc", b"hidepid=invisible", true).is_ok());
        assert!(check_options("proc", b"subset=pid", true).is_ok());
        assert_eq!(check_options("proc", b"bogus", true), Err(Errno::EINVAL));
        assert_eq!(check_options("proc", b"rw,bogus", true), Err(Errno::EINVAL));
        assert_eq!(check_options("proc", b"nosuid", true), Err(Errno::EINVAL));
        assert_eq!(check_options("proc", b"defaults", true), Err(Errno::EINVAL));
        assert_eq!(
            check_options("proc", b"hidepid=3", true),
            Err(Errno::EINVAL)
        );
        assert_eq!(check_options("proc", b"gid", true), Err(Errno::EINVAL));
        assert_eq!(
            check_options("proc", b"subset=x", false),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn sysfs_and_generic() {
        assert!(check_options("sysfs", b"ro", true).is_ok());
        assert!(check_options("sysfs", b"rw,sync", true).is_ok());
        assert_eq!(check_options("sysfs", b"bogus", false), Err(Errno::EINVAL));
        assert_eq!(
            check_options("sysfs", b"ro,x,rw", true).err(),
            Some(Errno::EINVAL)
        );
        assert_eq!(generic_options(b"ro,size=1m,rw").read_only, Some(false));
        assert_eq!(generic_options(b"rw,ro").read_only, Some(true));
        assert_eq!(generic_options(b",,=x").read_only, None);
        // Types checked elsewhere (tmpfs, vfat) pass through.
        assert!(check_options("tmpfs", b"bogus", true).is_ok());
    }

    #[test]
    fn ext4_options() {
        for ok in [
            &b"errors=remount-ro"[..],
            b"data=ordered",
            b"barrier",
            b"barrier=0",
            b"commit=0x10",
            b"commit=+5",
            b"mb_optimize_scan=-1",
            b"usrjquota=",
            b"acl,user_xattr,ro",
        ] {
            assert!(check_options("ext4", ok, true).is_ok(), "{ok:?}");
        }
        assert_eq!(
            check_options("ext4", b"acl,rw,ro", true).map(|g| g.read_only),
            Ok(Some(true))
        );
        for bad in [
            &b"bogus"[..],
            b"errors=bogus",
            b"acl=1",
            b"commit",
            b"commit=",
            b"commit=x",
            b"commit=4294967296",
            b"uid=3",
            b"noacl",
            b"nouser_xattr",
            b"noatime",
            b"data=journal",
            b"journal_dev=3",
        ] {
            assert_eq!(
                check_options("ext4", bad, true),
                Err(Errno::EINVAL),
                "{bad:?}"
            );
        }
        // A new mount may choose its data mode and journal.
        assert!(check_options("ext4", b"data=journal,journal_dev=3", false).is_ok());
        assert_eq!(
            check_options("ext4", b"source=/dev/x", false),
            Err(Errno::EINVAL)
        );
        assert!(check_options("ext4", b"source=/dev/x", true).is_ok());
    }
}
