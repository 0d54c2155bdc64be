//! memfd_create

use crate::fs;
use crate::syscall::fs::install;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "memfd_create",
    memfd_create,
    "seals: SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE; MFD_HUGETLB as Linux with an empty huge page pool (no write, sizes of whole huge pages, MAP_NORESERVE mappings whose touch raises SIGBUS)",
)];

/// memfd_create's MFD_HUGETLB.
const MFD_HUGETLB: u32 = 4;

pub fn memfd_create(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{MFD_ALLOW_SEALING, MFD_CLOEXEC};
    let flags = c.a[1] as u32;
    // MFD_HUGETLB admits the huge page size bits (MFD_HUGE_SHIFT 26, as MAP_HUGE_SHIFT).
    let allowed = if flags & MFD_HUGETLB != 0 {
        MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | (0x3f << 26)
    } else {
        MFD_CLOEXEC | MFD_ALLOW_SEALING
    };
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let huge = if flags & MFD_HUGETLB != 0 {
        // No hugetlbfs mount of that size (hugetlb_file_setup).
        crate::mm::hugetlb::size_log2(flags as usize).ok_or(Errno::ENODEV)?
    } else {
        0
    };
    let name = uaccess::read_cstr(c.a[0], 250, Errno::EINVAL)?;
    let f = fs::memfd(&name, huge as u8)?;
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::make_sealable(inode, flags & MFD_ALLOW_SEALING != 0);
        if huge != 0 {
            crate::mm::pagecache::make_huge(inode, huge);
        }
    }
    let n = install(c, f, flags & MFD_CLOEXEC != 0)?;
    ok(n)
}
