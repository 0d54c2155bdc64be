//! strace-style rendering of one system call: which arguments a call takes and how each is
//! shown (strings quoted and escaped, flags by name, `AT_FDCWD`, `NULL`), and the result
//! (`-1 ENOENT (No such file or directory)`). Pure and hardware-free, so the kernel's
//! `lintel.strace` trace and `cargo test` share it; user memory comes in through a reader.
//!
//! The output follows strace's defaults, the format people already read: strings cut after 32
//! bytes with `...`, paths whole, octal escapes.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod signature;

use alloc::vec::Vec;
use core::fmt::{self, Write};
use lintel_abi::fcntl::*;
use lintel_abi::mman::*;
use lintel_abi::Errno;
pub use signature::{signature, Arg, RetKind, Signature};

/// strace's default `-s`: bytes of a string or buffer shown before `...`.
pub const STRING_LIMIT: usize = 32;

/// Bytes of a path shown (PATH_MAX less the NUL): strace shows paths whole.
pub const PATH_LIMIT: usize = 4095;

/// Elements of an argv array shown before `...`.
const ARRAY_LIMIT: usize = 32;

/// Reads up to `len` bytes of the traced process's memory at `addr`; fewer when the rest is
/// not mapped, None when nothing is.
pub type Reader<'a> = &'a mut dyn FnMut(usize, usize) -> Option<Vec<u8>>;

/// Writes `s` as a C string literal the way strace does: printable ASCII as is, the usual
/// backslash escapes, anything else in octal (three digits when an octal digit follows, so
/// the escape cannot swallow it). At most `limit` bytes; `...` after the closing quote when
/// `s` was longer or `more` says the string went on beyond it.
pub fn quote(out: &mut dyn Write, s: &[u8], limit: usize, more: bool) -> fmt::Result {
    let shown = &s[..s.len().min(limit)];
    out.write_char('"')?;
    for (i, &b) in shown.iter().enumerate() {
        match b {
            b'"' => out.write_str("\\\"")?,
            b'\\' => out.write_str("\\\\")?,
            b'\t' => out.write_str("\\t")?,
            b'\n' => out.write_str("\\n")?,
            0x0b => out.write_str("\\v")?,
            0x0c => out.write_str("\\f")?,
            b'\r' => out.write_str("\\r")?,
            0x20..=0x7e => out.write_char(b as char)?,
            _ => {
                let next_is_octal = shown.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_octal {
                    write!(out, "\\{:03o}", b)?
                } else {
                    write!(out, "\\{:o}", b)?
                }
            }
        }
    }
    out.write_char('"')?;
    if more || s.len() > limit {
        out.write_str("...")?;
    }
    Ok(())
}

/// Writes `v` as `A|B|0x40`: the named bits it holds (a name whose value has several bits
/// matches only when all are set, so list composites first), then whatever is left in hex.
/// `zero` is what an empty set prints as ("0", "PROT_NONE").
pub fn flags(out: &mut dyn Write, v: u64, names: &[(u64, &str)], zero: &str) -> fmt::Result {
    if v == 0 {
        return out.write_str(zero);
    }
    let mut rest = v;
    let mut first = true;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            if !first {
                out.write_char('|')?;
            }
            out.write_str(name)?;
            rest &= !bits;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            out.write_char('|')?;
        }
        write!(out, "{:#x}", rest)?;
    }
    Ok(())
}

/// A field with an enumerated part (`mask`, printed by `modes`) and flag bits: open's
/// access mode, mmap's mapping type.
fn mode_flags(
    out: &mut dyn Write,
    v: u64,
    mask: u64,
    modes: &[(u64, &str)],
    names: &[(u64, &str)],
) -> fmt::Result {
    match modes.iter().find(|m| m.0 == v & mask) {
        Some(m) => out.write_str(m.1)?,
        None => write!(out, "{:#x}", v & mask)?,
    }
    if v & !mask != 0 {
        out.write_char('|')?;
        flags(out, v & !mask, names, "0")?;
    }
    Ok(())
}

/// A table of `(value, "NAME")` pairs from the constants' own names.
macro_rules! names {
    ($($c:ident),* $(,)?) => {
        &[$(($c as u64, stringify!($c))),*]
    };
}

const OPEN_MODES: &[(u64, &str)] = names![O_RDONLY, O_WRONLY, O_RDWR];

const OPEN_FLAGS: &[(u64, &str)] = names![
    O_CREAT,
    O_EXCL,
    O_NOCTTY,
    O_TRUNC,
    O_APPEND,
    O_NONBLOCK,
    O_SYNC,
    O_DSYNC,
    O_ASYNC,
    O_DIRECT,
    O_LARGEFILE,
    O_TMPFILE,
    O_DIRECTORY,
    O_NOFOLLOW,
    O_NOATIME,
    O_CLOEXEC,
    O_PATH
];

const PROT: &[(u64, &str)] = names![
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_SEM,
    PROT_GROWSDOWN,
    PROT_GROWSUP
];

const MAP_TYPES: &[(u64, &str)] = names![MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE];

const MAP_FLAGS: &[(u64, &str)] = names![
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC,
    MAP_FIXED_NOREPLACE,
    MAP_UNINITIALIZED
];

const AT_FLAGS: &[(u64, &str)] = names![AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EMPTY_PATH];

pub fn open_flags(out: &mut dyn Write, v: u64) -> fmt::Result {
    mode_flags(out, v, O_ACCMODE as u64, OPEN_MODES, OPEN_FLAGS)
}

pub fn prot(out: &mut dyn Write, v: u64) -> fmt::Result {
    flags(out, v, PROT, "PROT_NONE")
}

pub fn map_flags(out: &mut dyn Write, v: u64) -> fmt::Result {
    mode_flags(out, v, MAP_TYPE as u64, MAP_TYPES, MAP_FLAGS)
}

fn pointer(out: &mut dyn Write, v: usize) -> fmt::Result {
    if v == 0 {
        out.write_str("NULL")
    } else {
        write!(out, "{:#x}", v)
    }
}

/// A NUL-terminated string at `addr`, shown up to `limit` bytes; the pointer when
/// unreadable.
fn c_string(out: &mut dyn Write, addr: usize, limit: usize, read: Reader) -> fmt::Result {
    if addr == 0 {
        return out.write_str("NULL");
    }
    match read(addr, limit + 1) {
        Some(b) => match b.iter().position(|&c| c == 0) {
            Some(n) => quote(out, &b[..n], limit, false),
            None => quote(out, &b, limit, true),
        },
        None => pointer(out, addr),
    }
}

/// `len` bytes of a buffer at `addr`, shown up to STRING_LIMIT.
fn buffer(out: &mut dyn Write, addr: usize, len: usize, read: Reader) -> fmt::Result {
    if len == 0 {
        return out.write_str("\"\"");
    }
    match read(addr, len.min(STRING_LIMIT)) {
        Some(b) => quote(out, &b, STRING_LIMIT, len > b.len()),
        None => pointer(out, addr),
    }
}

/// An argv-style array of string pointers ending in NULL.
fn string_array(out: &mut dyn Write, addr: usize, read: Reader) -> fmt::Result {
    if addr == 0 {
        return out.write_str("NULL");
    }
    out.write_char('[')?;
    for i in 0..=ARRAY_LIMIT {
        let Some(p) = read(addr + i * 8, 8).and_then(|b| b.try_into().ok().map(u64::from_ne_bytes))
        else {
            return out.write_str("...]");
        };
        if p == 0 {
            break;
        }
        if i > 0 {
            out.write_str(", ")?;
        }
        if i == ARRAY_LIMIT {
            out.write_str("...")?;
            break;
        }
        c_string(out, p as usize, STRING_LIMIT, read)?;
    }
    out.write_char(']')
}

/// Writes argument `i` of `a` as `kind` says. `result` is the call's return value once it has
/// one: a buffer the call filled (read's) is shown at exit, with the result as its length.
pub fn arg(
    out: &mut dyn Write,
    kind: Arg,
    a: &[usize; 6],
    i: usize,
    result: Option<isize>,
    read: Reader,
) -> fmt::Result {
    let v = a.get(i).copied().unwrap_or(0);
    match kind {
        Arg::Int => write!(out, "{}", v as i32),
        Arg::Long => write!(out, "{}", v as isize),
        Arg::ULong => write!(out, "{}", v),
        Arg::Hex if v == 0 => out.write_str("0"),
        Arg::Hex => write!(out, "{:#x}", v),
        Arg::Oct | Arg::CreateMode if v as u32 == 0 => out.write_str("0"),
        Arg::Oct | Arg::CreateMode => write!(out, "0{:o}", v as u32),
        Arg::Ptr => pointer(out, v),
        Arg::Fd => write!(out, "{}", v as i32),
        Arg::DirFd if v as i32 == AT_FDCWD => out.write_str("AT_FDCWD"),
        Arg::DirFd => write!(out, "{}", v as i32),
        Arg::Path => c_string(out, v, PATH_LIMIT, read),
        Arg::Str => c_string(out, v, STRING_LIMIT, read),
        Arg::StrArray => string_array(out, v, read),
        Arg::Buf(len) => buffer(out, v, a.get(len as usize).copied().unwrap_or(0), read),
        Arg::OutBuf => match result {
            Some(r) if r >= 0 => buffer(out, v, r as usize, read),
            _ => pointer(out, v),
        },
        Arg::OpenFlags => open_flags(out, v as u64),
        Arg::Prot => prot(out, v as u64),
        Arg::MapFlags => map_flags(out, v as u64),
        Arg::AtFlags => flags(out, v as u64, AT_FLAGS, "0"),
    }
}

/// Writes ` = result` for a call that returned `r` (a value or a negated errno).
pub fn result(out: &mut dyn Write, kind: RetKind, r: Result<usize, Errno>) -> fmt::Result {
    match r {
        Err(e) if e.is_restart() => write!(out, " = ? {} ({})", e.name(), e.description()),
        Err(e) => write!(out, " = -1 {} ({})", e.name(), e.description()),
        Ok(v) => match kind {
            RetKind::Int => write!(out, " = {}", v as isize),
            RetKind::Hex => write!(out, " = {:#x}", v),
        },
    }
}

/// Whether argument `i` is shown: open's mode only when the flags before it create a file,
/// as strace shows it.
fn shown(kind: Arg, a: &[usize; 6], i: usize) -> bool {
    let creates = (O_CREAT | O_TMPFILE) as usize;
    kind != Arg::CreateMode
        || i.checked_sub(1)
            .and_then(|p| a.get(p))
            .is_some_and(|f| f & creates != 0)
}

/// Writes `name(args` up to, not including, the first argument the call fills (read's
/// buffer), and returns how many arguments were written; `rest` writes the others at exit.
pub fn entry(
    out: &mut dyn Write,
    name: &str,
    a: &[usize; 6],
    read: Reader,
) -> Result<usize, fmt::Error> {
    let sig = signature(name);
    write!(out, "{}(", name)?;
    for (i, &k) in sig.args.iter().enumerate() {
        if k == Arg::OutBuf {
            return Ok(i);
        }
        if !shown(k, a, i) {
            continue;
        }
        if i > 0 {
            out.write_str(", ")?;
        }
        arg(out, k, a, i, None, read)?;
    }
    Ok(sig.args.len())
}

/// Writes the arguments from `from` on (those `entry` left), the closing parenthesis and
/// the result.
pub fn exit(
    out: &mut dyn Write,
    name: &str,
    a: &[usize; 6],
    from: usize,
    r: Result<usize, Errno>,
    read: Reader,
) -> fmt::Result {
    let sig = signature(name);
    let value = r.ok().map(|v| v as isize);
    for (i, &k) in sig.args.iter().enumerate().skip(from) {
        if !shown(k, a, i) {
            continue;
        }
        if i > 0 {
            out.write_str(", ")?;
        }
        arg(out, k, a, i, value, read)?;
    }
    out.write_char(')')?;
    result(out, sig.ret, r)
}

/// The syscall names a `lintel.strace=` value lists (comma separated; empty: all).
pub fn filter_names(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests;
