//! `mmap` flags whose values differ between architectures (x86_64 uses asm-generic's, plus
//! MAP_32BIT from asm/mman.h).

pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
/// Map in the low 2 GiB (an architecture without it defines 0, as Linux's linux/mman.h does).
pub const MAP_32BIT: usize = 0x40;
pub const MAP_GROWSDOWN: usize = 0x100;
pub const MAP_DENYWRITE: usize = 0x800;
pub const MAP_EXECUTABLE: usize = 0x1000;
pub const MAP_LOCKED: usize = 0x2000;
pub const MAP_NORESERVE: usize = 0x4000;
pub const MAP_POPULATE: usize = 0x8000;
pub const MAP_NONBLOCK: usize = 0x10000;
pub const MAP_STACK: usize = 0x20000;
pub const MAP_HUGETLB: usize = 0x40000;
pub const MAP_SYNC: usize = 0x80000;
pub const MAP_FIXED_NOREPLACE: usize = 0x100000;
pub const MAP_UNINITIALIZED: usize = 0x400_0000;
