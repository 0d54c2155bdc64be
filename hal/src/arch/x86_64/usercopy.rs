//! x86_64's user-memory primitives: bulk copy and clear with the string instruction the CPU
//! does best, fixed-size loads and stores of one instruction each, and the atomic user
//! cmpxchg. Every instruction that touches user memory has an exception-table entry, so a
//! fault the kernel cannot resolve lands on a fixup instead of a kernel panic.
//!
//! Which string instruction: with FSRM (fast short `rep movsb`) one `rep movsb` does any
//! length. Without it, `rep movsq` moves the 8-byte words and `rep movsb` the tail (Linux's
//! `copy_user_generic_string`). ERMS alone does not make byte moves the better choice for
//! short copies, and under QEMU's TCG, which emulates `rep movsb` one byte per iteration and
//! reports ERMS without FSRM with `-cpu max`, the word loop is eight times faster.
//!
//! Below 64 bytes, whatever the CPU offers, plain `mov` loops (8 bytes, then the tail byte by
//! byte) as Linux's short copies and clears: a `rep` instruction's start-up costs more than
//! such a copy on hardware without FSRM, and under TCG each `rep` instruction is a loop of
//! its own, entered even for a count of zero (a 1-byte clear ran `rep stosq` with rcx = 0 and
//! `rep stosb`).

use core::sync::atomic::{AtomicBool, Ordering};

core::arch::global_asm!(
    r#"
# The body of copy and clear: `rep \op` over rcx = rdx bytes, by words unless FSRM; returns in
# rax the bytes not done. A fault in the word loop goes on byte by byte from the word it
# stopped at (rcx words and the tail), so the count stops at the faulting byte itself, as
# Linux's copy_user_generic does: a read into a buffer that runs into an unmapped page fills
# it up to the page's end.
.macro user_string op
    mov rcx, rdx
    cmp byte ptr [rip + {fsrm}], 0
    jne 2f
    shr rcx, 3
5:  rep \op\()q
    mov ecx, edx
    and ecx, 7
2:  rep \op\()b
3:  mov rax, rcx
    ret
4:  lea rcx, [rcx * 8]
    and edx, 7
    add rcx, rdx
    jmp 2b
.pushsection .ex_table, "a"
.balign 8
    .quad 5b, 4b
    .quad 2b, 3b
.popsection
.endm

# Below 64 bytes (rdx, with rcx free): a loop of 8-byte moves, then one of byte moves, through
# rax (Linux's copy_user_short_string and clear_user_original); `\load` is empty for a clear
# (rax holds 0). Returns in rax the bytes not done; a fault in the 8-byte loop goes on with
# the byte loop from there, as `user_string`. At 64 bytes and more, `user_string`.
.macro user_short load, step_src
    cmp rdx, 64
    jae 10f
    mov ecx, edx
    shr ecx, 3
    jz 12f
    short_loop \load, \step_src, qword, rax, 8, ecx, 17f
12: and edx, 7
    jz 15f
16: short_loop \load, \step_src, byte, al, 1, edx, 18f
15: xor eax, eax
    ret
17: and edx, 7
    lea edx, [rdx + rcx * 8]
    jmp 16b
18: mov eax, edx
    ret
10:
.endm

# One loop of `user_short`: `count` moves of `size` bytes through `reg`, a fault in either
# move going to `fix`.
.macro short_loop load, step_src, width, reg, size, count, fix
1:  \load \reg, \width ptr [rsi]
2:  mov \width ptr [rdi], \reg
    \step_src rsi, \size
    add rdi, \size
    dec \count
    jnz 1b
.pushsection .ex_table, "a"
.balign 8
    .quad 1b, \fix
    .quad 2b, \fix
.popsection
.endm

# For a clear: no load, no source to step.
.macro nothing args:vararg
.endm

.text
# usize lintel_copy_user(void *dst, const void *src, usize len): returns the bytes NOT copied.
.global lintel_copy_user
lintel_copy_user:
    user_short mov, add
    user_string movs

# usize lintel_clear_user(void *dst, usize len): zeroes user memory; returns the bytes NOT
# cleared.
.global lintel_clear_user
lintel_clear_user:
    mov rdx, rsi
    xor eax, eax
    user_short nothing, nothing
    user_string stos

# u64 lintel_cmpxchg_user32(u32 *uaddr, u32 old, u32 new, u32 *prev): an atomic
# compare-and-exchange on a user word (futexes: other CPUs' user code changes it meanwhile).
# Stores the value found in *prev; returns 0, or 1 when the word could not be reached.
.global lintel_cmpxchg_user32
lintel_cmpxchg_user32:
    mov eax, esi
    mov r8d, 1
5:  lock cmpxchg dword ptr [rdi], edx
    mov [rcx], eax
    xor r8d, r8d
2:  mov rax, r8
    ret
.pushsection .ex_table, "a"
.balign 8
    .quad 5b, 2b
.popsection
"#,
    fsrm = sym FSRM,
);

extern "C" {
    fn lintel_copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize;
    fn lintel_clear_user(dst: *mut u8, len: usize) -> usize;
    fn lintel_cmpxchg_user32(uaddr: *mut u32, old: u32, new: u32, prev: *mut u32) -> u64;
}

/// Set at boot when the CPU has FSRM: every copy is one `rep movsb`.
static FSRM: AtomicBool = AtomicBool::new(false);

/// Chooses the copy instruction (boot CPU; every CPU of the machine has the same features).
pub(crate) fn init() {
    let (_, _, _, edx) = super::cpu::cpuid(7, 0);
    FSRM.store(edx & (1 << 4) != 0, Ordering::Relaxed);
}

/// Copies `len` bytes between user and kernel memory; returns the bytes not copied because of
/// a fault the kernel's user-fault handler could not resolve.
///
/// # Safety
/// The user side must lie below `USER_END` and the kernel side must be valid for `len` bytes.
pub(crate) unsafe fn copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize {
    // SAFETY: delegated to the caller; faults in the copy go through the exception table.
    unsafe { lintel_copy_user(dst, src, len) }
}

/// Zeroes `len` bytes of user memory; returns the bytes not cleared.
///
/// # Safety
/// The range must lie below `USER_END`.
pub(crate) unsafe fn clear_user(dst: *mut u8, len: usize) -> usize {
    // SAFETY: delegated to the caller; faults go through the exception table.
    unsafe { lintel_clear_user(dst, len) }
}

/// Atomically replaces the user word at `uaddr` with `new` if it holds `old`; the value found,
/// or None when the word could not be reached.
///
/// # Safety
/// `uaddr` must be 4-aligned and below `USER_END`.
pub(crate) unsafe fn cmpxchg_user32(uaddr: usize, old: u32, new: u32) -> Option<u32> {
    let mut prev = 0u32;
    // SAFETY: delegated to the caller; a fault is resolved or fixed up through the exception
    // table, and `prev` is a kernel local.
    let failed = unsafe { lintel_cmpxchg_user32(uaddr as *mut u32, old, new, &mut prev) };
    (failed == 0).then_some(prev)
}

/// One `mov` from user memory with an exception-table entry: the loaded value, or None.
macro_rules! load_user {
    ($name:ident, $t:ty, $reg:literal) => {
        /// # Safety
        /// `addr..addr + size_of::<T>()` must lie below `USER_END`.
        #[inline(always)]
        pub(crate) unsafe fn $name(addr: usize) -> Option<$t> {
            let val: u64;
            let failed: u32;
            // SAFETY: the address is a user address (caller); a fault the kernel cannot
            // resolve jumps to label 3 through the exception table, which reports failure.
            unsafe {
                core::arch::asm!(
                    "xor {f:e}, {f:e}",
                    concat!("2: mov ", $reg, ", [{a}]"),
                    "jmp 4f",
                    "3: mov {f:e}, 1",
                    "4:",
                    ".pushsection .ex_table, \"a\"",
                    ".balign 8",
                    ".quad 2b, 3b",
                    ".popsection",
                    a = in(reg) addr,
                    v = out(reg) val,
                    f = out(reg) failed,
                    options(nostack, readonly),
                );
            }
            (failed == 0).then_some(val as $t)
        }
    };
}

/// One `mov` to user memory with an exception-table entry: false when it could not be done.
macro_rules! store_user {
    ($name:ident, $t:ty, $reg:literal) => {
        /// # Safety
        /// `addr..addr + size_of::<T>()` must lie below `USER_END`.
        #[inline(always)]
        pub(crate) unsafe fn $name(addr: usize, val: $t) -> bool {
            let failed: u32;
            // SAFETY: as for the loads; the store goes to user memory only.
            unsafe {
                core::arch::asm!(
                    "xor {f:e}, {f:e}",
                    concat!("2: mov [{a}], ", $reg),
                    "jmp 4f",
                    "3: mov {f:e}, 1",
                    "4:",
                    ".pushsection .ex_table, \"a\"",
                    ".balign 8",
                    ".quad 2b, 3b",
                    ".popsection",
                    a = in(reg) addr,
                    v = in(reg) val as u64,
                    f = out(reg) failed,
                    options(nostack),
                );
            }
            failed == 0
        }
    };
}

load_user!(load_user_u64, u64, "{v}");
load_user!(load_user_u32, u32, "{v:e}");
store_user!(store_user_u64, u64, "{v}");
store_user!(store_user_u32, u32, "{v:e}");
