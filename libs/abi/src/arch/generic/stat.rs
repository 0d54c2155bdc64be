//! The asm-generic `struct stat` (asm-generic/stat.h, riscv64 and aarch64): 128 bytes, `st_mode` before a 32-bit
//! `st_nlink`, a 32-bit `st_blksize`.

use crate::stat::Stat;

/// Size of `struct stat`.
pub const STAT_SIZE: usize = 128;

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

/// The `struct stat` bytes of `s`.
pub fn encode(s: &Stat) -> [u8; STAT_SIZE] {
    let mut b = [0u8; STAT_SIZE];
    put(&mut b, 0, &s.dev.to_le_bytes());
    put(&mut b, 8, &s.ino.to_le_bytes());
    put(&mut b, 16, &s.mode.to_le_bytes());
    put(&mut b, 20, &(s.nlink as u32).to_le_bytes());
    put(&mut b, 24, &s.uid.to_le_bytes());
    put(&mut b, 28, &s.gid.to_le_bytes());
    put(&mut b, 32, &s.rdev.to_le_bytes());
    put(&mut b, 48, &s.size.to_le_bytes());
    put(&mut b, 56, &(s.blksize as i32).to_le_bytes());
    put(&mut b, 64, &s.blocks.to_le_bytes());
    put(&mut b, 72, &s.atime.sec.to_le_bytes());
    put(&mut b, 80, &s.atime.nsec.to_le_bytes());
    put(&mut b, 88, &s.mtime.sec.to_le_bytes());
    put(&mut b, 96, &s.mtime.nsec.to_le_bytes());
    put(&mut b, 104, &s.ctime.sec.to_le_bytes());
    put(&mut b, 112, &s.ctime.nsec.to_le_bytes());
    b
}
