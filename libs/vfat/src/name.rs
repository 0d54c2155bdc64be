//! Names for new entries, as Linux's vfat (fs/fat/namei_vfat.c) makes them with its default
//! `shortname=mixed`: the checks on a long name, the 8.3 alias (`~1` tails when the name
//! does not fit or is not all upper case), and the long-name run of 13 UTF-16 units a
//! slot, each slot carrying the alias's checksum.

use crate::dir::{lfn_checksum, ATTR_LFN};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// A name's UTF-16 units after vfat's checks: trailing dots dropped (an all-dot name is
/// ENOENT, as vfat_add_entry says), then vfat_valid_longname's (a trailing space is EINVAL,
/// 256 bytes or more ENAMETOOLONG), at most 255 units (ENAMETOOLONG), none of the characters
/// FAT forbids (EINVAL).
pub(crate) fn long_name(name: &[u8]) -> KResult<Vec<u16>> {
    let s = core::str::from_utf8(name).map_err(|_| Errno::EINVAL)?;
    let s = crate::dir::strip_tail(s);
    if s.is_empty() {
        return Err(Errno::ENOENT);
    }
    if s.ends_with(' ') {
        return Err(Errno::EINVAL);
    }
    if s.len() >= 256 {
        return Err(Errno::ENAMETOOLONG);
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    if units.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if s.chars()
        .any(|c| (c as u32) < 0x20 || "*?<>|\":/\\".contains(c))
    {
        return Err(Errno::EINVAL);
    }
    Ok(units)
}

/// What to_shortname_char learns about a part of the name: whether it converted without
/// loss, and whether its letters were all upper or all lower case.
struct Info {
    valid: bool,
    upper: bool,
    lower: bool,
}

impl Info {
    fn new() -> Info {
        Info {
            valid: true,
            upper: true,
            lower: true,
        }
    }
}

/// One character of an alias (None: skipped). Characters outside ASCII become '_' (Linux
/// maps them through code page 437 where it can; the alias is all that differs).
fn short_char(u: u16, info: &mut Info) -> Option<u8> {
    if u == u16::from(b'.') || u == u16::from(b' ') {
        info.valid = false;
        return None;
    }
    if u >= 0x7f || b"+,;=[]".contains(&(u as u8)) {
        info.valid = false;
        if u >= 0x7f {
            info.upper = false;
            info.lower = false;
        }
        return Some(b'_');
    }
    let c = u as u8;
    let up = c.to_ascii_uppercase();
    if up.is_ascii_alphabetic() {
        if up == c {
            info.lower = false;
        } else {
            info.upper = false;
        }
    }
    Some(up)
}

/// The 8.3 alias of a new entry: its 11 bytes and whether a long-name run must go with it
/// (vfat_create_shortname with VFAT_SFN_CREATE_WIN95). `exists` says whether an alias is
/// taken in the directory.
pub(crate) fn alias(
    units: &[u16],
    exists: &dyn Fn(&[u8; 11]) -> bool,
) -> KResult<([u8; 11], bool)> {
    let dot = u16::from(b'.');
    // The extension starts after the last dot, unless the name is only dots and spaces up
    // to it (".profile" has no extension) or it ends the name.
    let ext_at = units.iter().rposition(|&u| u == dot).and_then(|i| {
        let only_skips = units[..i].iter().all(|&u| u == dot || u == u16::from(b' '));
        (i + 1 < units.len() && !only_skips).then_some(i)
    });
    let base_src = &units[..ext_at.unwrap_or(units.len())];
    let ext_src: &[u16] = match ext_at {
        Some(i) => &units[i + 1..],
        None => &[],
    };
    let mut is_short = true;
    let mut base_info = Info::new();
    let mut ext_info = Info::new();
    let mut base = Vec::new();
    for (i, &u) in base_src.iter().enumerate() {
        if let Some(c) = short_char(u, &mut base_info) {
            base.push(c);
            if base.len() >= 8 {
                if i + 1 < base_src.len() {
                    is_short = false;
                }
                break;
            }
        }
    }
    if base.is_empty() {
        return Err(Errno::EINVAL);
    }
    let mut ext = Vec::new();
    for (i, &u) in ext_src.iter().enumerate() {
        if let Some(c) = short_char(u, &mut ext_info) {
            ext.push(c);
            if ext.len() >= 3 {
                if i + 1 < ext_src.len() {
                    is_short = false;
                }
                break;
            }
        }
    }
    if base[0] == crate::dir::DELETED {
        base[0] = 0x05;
    }
    let mut name = [b' '; 11];
    name[..base.len()].copy_from_slice(&base);
    name[8..8 + ext.len()].copy_from_slice(&ext);
    if is_short && base_info.valid && ext_info.valid {
        if exists(&name) {
            return Err(Errno::EEXIST);
        }
        // shortname=mixed creates as Windows 95 does: an all-upper-case name is stored as
        // its alias alone; any other keeps its long name, with this alias and no tail.
        return Ok((name, !(base_info.upper && ext_info.upper)));
    }
    let mut baselen = base.len();
    if baselen > 6 {
        baselen = 6;
        name[7] = b' ';
    }
    name[baselen] = b'~';
    for i in 1..10u8 {
        name[baselen + 1] = b'0' + i;
        if !exists(&name) {
            return Ok((name, true));
        }
    }
    // Then Linux tries hex tails on a base cut to two characters ("AB1F2C~1"), from a
    // start it takes from the clock; here from the name's checksum, so runs repeat.
    let baselen = baselen.min(2);
    for b in &mut name[baselen..8] {
        *b = b' ';
    }
    let mut seed = u32::from(lfn_checksum(&name)) << 8 | units.len() as u32;
    for _ in 0..0x10000 {
        let hex = |n: u32| b"0123456789ABCDEF"[(n & 0xf) as usize];
        for k in 0..4 {
            name[baselen + k] = hex(seed >> (12 - 4 * k));
        }
        name[baselen + 4] = b'~';
        name[baselen + 5] = b'1';
        if !exists(&name) {
            return Ok((name, true));
        }
        seed = seed.wrapping_sub(11) & 0xffff;
    }
    Err(Errno::EEXIST)
}

/// The long-name entries for `units` with the alias `short`, in the order they lie on disk
/// (the last part first, flagged 0x40).
pub(crate) fn lfn_slots(units: &[u16], short: &[u8; 11]) -> Vec<[u8; 32]> {
    let sum = lfn_checksum(short);
    let mut padded: Vec<u16> = units.to_vec();
    if !padded.len().is_multiple_of(13) {
        padded.push(0);
        while !padded.len().is_multiple_of(13) {
            padded.push(0xffff);
        }
    }
    let n = padded.len() / 13;
    let offs = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    (1..=n)
        .rev()
        .map(|i| {
            let mut e = [0u8; 32];
            e[0] = i as u8 | if i == n { 0x40 } else { 0 };
            e[11] = ATTR_LFN;
            e[13] = sum;
            for (k, o) in offs.iter().enumerate() {
                let u = padded[(i - 1) * 13 + k];
                e[*o..*o + 2].copy_from_slice(&u.to_le_bytes());
            }
            e
        })
        .collect()
}
