//! pkey_alloc, pkey_free, pkey_mprotect: memory protection keys, answered as Linux answers
//! on a CPU whose protection keys are off (no OSPKE). hal does turn PKU on where the CPU has
//! it (CR4.PKE, PKRU in each thread's XSAVE image, at Linux's initial rights), but no page
//! gets a key other than 0 yet (the page-table key bits and the per-process allocation map
//! are the missing part), so there is one key, 0, which can never be handed out: the first pkey_alloc takes it and fails to set its access rights (EINVAL)
//! without giving it back; later ones find no key (ENOSPC). pkey_free finds nothing
//! allocated (EINVAL), and pkey_mprotect is mprotect for key -1 and EINVAL for any other.

use crate::syscall::mm::mprotect::do_mprotect;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "pkey_alloc",
        pkey_alloc,
        "no PKU: EINVAL once, then ENOSPC, as Linux without OSPKE",
    ),
    Syscall::partial(
        "pkey_free",
        pkey_free,
        "no PKU: no key is ever allocated (EINVAL)",
    ),
    Syscall::partial(
        "pkey_mprotect",
        pkey_mprotect,
        "no PKU: mprotect for key -1, EINVAL for others",
    ),
];

/// PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE.
const PKEY_ACCESS_MASK: usize = 0x3;

/// pkey_alloc(flags, init_val).
pub fn pkey_alloc(c: &mut Call) -> SysResult {
    let [flags, init, ..] = c.a;
    if flags != 0 || init & !PKEY_ACCESS_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    // arch_max_pkey() is 1 without OSPKE: key 0 is the only one.
    if mm.pkeys.fetch_or(1, Ordering::Relaxed) & 1 != 0 {
        return Err(Errno::ENOSPC);
    }
    // arch_set_user_pkey_access fails; mm_pkey_free then takes key 0 for the execute-only
    // key and leaves it allocated.
    Err(Errno::EINVAL)
}

/// pkey_free(pkey).
pub fn pkey_free(_c: &mut Call) -> SysResult {
    Err(Errno::EINVAL)
}

/// pkey_mprotect(addr, len, prot, pkey).
pub fn pkey_mprotect(c: &mut Call) -> SysResult {
    let [addr, len, prot, pkey, ..] = c.a;
    do_mprotect(c, addr, len, prot, pkey as i32)
}
