//! Huge pages (hugetlbfs): Lintel has none, so it answers as Linux with an empty pool
//! (vm.nr_hugepages 0): a reserving request is ENOMEM, a size Linux has no pool for EINVAL.

/// `MAP_HUGE_SHIFT`/`SHM_HUGE_SHIFT`: log2 of the wanted page size sits in these bits.
const SIZE_SHIFT: usize = 26;
/// `MAP_HUGE_MASK`/`SHM_HUGE_MASK`.
const SIZE_MASK: usize = 0x3f;

/// The huge page size (log2) a MAP_HUGETLB or SHM_HUGETLB request names in its size bits, if
/// Linux has a pool of that size on this architecture (0 names the default, 2 MiB); `None`
/// is Linux's EINVAL (hstate_sizelog finds no hstate).
pub fn size_log2(flags: usize) -> Option<u32> {
    let log2 = (flags >> SIZE_SHIFT) & SIZE_MASK;
    let ok = match log2 {
        0 => return Some(21),
        21 | 30 => true,
        // arm64's contiguous-bit sizes with 4 KiB pages: 64 KiB and 32 MiB.
        16 | 25 => cfg!(target_arch = "aarch64"),
        _ => false,
    };
    ok.then_some(log2 as u32)
}

/// statfs's f_type of a hugetlbfs file.
pub const HUGETLBFS_MAGIC: u64 = 0x9584_58f6;

/// The st_dev of the hidden hugetlbfs mount of pages of 1 << `shift` bytes, where
/// memfd_create(MFD_HUGETLB), MAP_ANONYMOUS | MAP_HUGETLB and SHM_HUGETLB make their files:
/// Linux mounts one per huge page size (hugetlbfs_vfsmount), each an anonymous device of
/// its own. Numbers no other Lintel file system takes.
pub fn dev(shift: u8) -> u64 {
    match shift {
        30 => 14,
        16 => 13,
        25 => 11,
        _ => 15,
    }
}

/// Whether `dev` is one of the hidden hugetlbfs mounts' devices.
pub fn is_dev(d: u64) -> bool {
    [21, 30, 16, 25].iter().any(|&s| dev(s) == d)
}
