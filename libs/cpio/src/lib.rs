//! The "newc" cpio format (magic 070701/070702) that Linux initramfs images use: a parser that
//! never panics on malformed input, and a writer for building images.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

/// One archive member. `name` has any leading "./" or "/" removed ("." for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a [u8],
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpioError {
    BadMagic,
    Truncated,
    BadHex,
    BadName,
}

const HEADER: usize = 110;

/// Iterator over the members of an archive, ending at "TRAILER!!!" or the first error.
pub struct Entries<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        data: archive,
        pos: 0,
        done: false,
    }
}

fn hex(field: &[u8]) -> Result<u32, CpioError> {
    let mut v: u32 = 0;
    for &c in field {
        let d = (c as char).to_digit(16).ok_or(CpioError::BadHex)?;
        v = (v << 4) | d;
    }
    Ok(v)
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

impl<'a> Entries<'a> {
    fn parse(&mut self) -> Result<Option<Entry<'a>>, CpioError> {
        let d = self.data;
        let h = d
            .get(self.pos..self.pos.checked_add(HEADER).ok_or(CpioError::Truncated)?)
            .ok_or(CpioError::Truncated)?;
        if &h[..6] != b"070701" && &h[..6] != b"070702" {
            return Err(CpioError::BadMagic);
        }
        let f = |i: usize| hex(&h[6 + i * 8..14 + i * 8]);
        let (ino, mode, uid, gid, nlink, mtime, filesize) =
            (f(0)?, f(1)?, f(2)?, f(3)?, f(4)?, f(5)?, f(6)?);
        let (dev_major, dev_minor, rdev_major, rdev_minor, namesize) =
            (f(7)?, f(8)?, f(9)?, f(10)?, f(11)?);
        let name_start = self.pos + HEADER;
        let name_end = name_start
            .checked_add(namesize as usize)
            .ok_or(CpioError::Truncated)?;
        let raw = d.get(name_start..name_end).ok_or(CpioError::Truncated)?;
        if namesize == 0 || raw[raw.len() - 1] != 0 {
            return Err(CpioError::BadName);
        }
        let mut name = &raw[..raw.len() - 1];
        let data_start = align4(name_end).ok_or(CpioError::Truncated)?;
        let data_end = data_start
            .checked_add(filesize as usize)
            .ok_or(CpioError::Truncated)?;
        let data = d.get(data_start..data_end).ok_or(CpioError::Truncated)?;
        self.pos = align4(data_end).ok_or(CpioError::Truncated)?;
        if name == b"TRAILER!!!" {
            return Ok(None);
        }
        while let Some(rest) = name.strip_prefix(b"./").or_else(|| name.strip_prefix(b"/")) {
            name = rest;
        }
        if name.is_empty() {
            name = b".";
        }
        Ok(Some(Entry {
            name,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            data,
        }))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Appends one member. `out` must start 4-byte aligned (as every previous call leaves it).
#[allow(clippy::too_many_arguments)]
pub fn write_entry(
    out: &mut Vec<u8>,
    name: &[u8],
    mode: u32,
    ino: u32,
    nlink: u32,
    mtime: u32,
    rdev: (u32, u32),
    data: &[u8],
) {
    let fields = [
        ino,
        mode,
        0,
        0,
        nlink,
        mtime,
        data.len() as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        let s = alloc::format!("{:08x}", f);
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(name);
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// Appends the end-of-archive marker.
pub fn write_trailer(out: &mut Vec<u8>) {
    write_entry(out, b"TRAILER!!!", 0, 0, 1, 0, (0, 0), &[]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut v = Vec::new();
        write_entry(&mut v, b".", 0o40755, 1, 2, 0, (0, 0), &[]);
        write_entry(&mut v, b"./bin", 0o40755, 2, 2, 5, (0, 0), &[]);
        write_entry(
            &mut v,
            b"bin/hello",
            0o100755,
            3,
            1,
            7,
            (0, 0),
            b"hello world",
        );
        write_entry(&mut v, b"dev/null", 0o20666, 4, 1, 0, (1, 3), &[]);
        write_trailer(&mut v);
        v
    }

    #[test]
    fn round_trip() {
        let v = sample();
        let e: Vec<_> = entries(&v).collect::<Result<_, _>>().unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].name, b".");
        assert_eq!(e[1].name, b"bin");
        assert_eq!(e[2].name, b"bin/hello");
        assert_eq!(e[2].data, b"hello world");
        assert_eq!(e[2].mode, 0o100755);
        assert_eq!(e[2].mtime, 7);
        assert_eq!((e[3].rdev_major, e[3].rdev_minor), (1, 3));
    }

    #[test]
    fn truncation_never_panics() {
        let v = sample();
        for n in 0..v.len() {
            let r: Vec<_> = entries(&v[..n]).collect();
            assert!(r.len() <= 5);
        }
    }

    #[test]
    fn corruption_never_panics() {
        let v = sample();
        for i in 0..v.len() {
            for b in [0u8, b'f', b'z', 0xff] {
                let mut w = v.clone();
                w[i] = b;
                let _: Vec<_> = entries(&w).collect();
            }
        }
    }

    #[test]
    fn bad_magic() {
        let mut v = sample();
        v[0] = b'1';
        assert_eq!(entries(&v).next(), Some(Err(CpioError::BadMagic)));
    }

    #[test]
    fn host_cpio_archive() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        extern crate std;
        let dir = std::env::temp_dir().join(alloc::format!("lintel-cpio-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("sub"));
        std::fs::write(dir.join("sub/file"), b"content").unwrap();
        let child = Command::new("cpio")
            .args(["-o", "-H", "newc"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { return };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"sub\nsub/file\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let e: Vec<_> = entries(&out.stdout).collect::<Result<_, _>>().unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].name, b"sub/file");
        assert_eq!(e[1].data, b"content");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
