// Every way into and out of the kernel on aarch64: user entry/exit (`lintel_enter_user`), the
// exception vectors (traps from EL0 save into the UserContext; traps taken at EL1 save on the
// kernel stack), the kernel context switch and the user-memory routines with their
// exception-table entries.
//
// TPIDR_EL1 holds this CPU's per-CPU block: 0 kernel sp saved by lintel_enter_user, 8 current
// UserContext, 16 scratch, 24 cpu index, 32 top of the CPU's emergency stack. SP_EL1 is the kernel stack; eret to EL0 leaves it
// where lintel_enter_user stopped, so a trap from EL0 lands on that same stack.
//
// UserContext: x0..x30 at 8*n, sp 248, pc 256, pstate 264, tpidr_el0 272, esr 280, far 288,
// kind 296 (0 sync, 1 irq, 2 fiq, 3 serror).

.text

.macro save_callee
    stp x29, x30, [sp, #-96]!
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
.endm

.macro restore_callee
    ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp x29, x30, [sp], #96
.endm

// x2..x30 at 8*n from sp (a KernelTrapFrame).
.macro save_x2_x30
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    str x30, [sp, #240]
.endm

// void lintel_enter_user(UserContext *ctx): runs user code until the next exception or
// interrupt from EL0; the user registers are saved back into *ctx (kind and esr say why).
.global lintel_enter_user
lintel_enter_user:
    save_callee
    mrs x9, tpidr_el1
    mov x10, sp
    str x10, [x9, #0]
    str x0, [x9, #8]
    ldr x10, [x0, #248]
    msr sp_el0, x10
    ldr x10, [x0, #256]
    msr elr_el1, x10
    ldr x10, [x0, #264]
    msr spsr_el1, x10
    ldr x10, [x0, #272]
    msr tpidr_el0, x10
    ldp x2, x3, [x0, #16]
    ldp x4, x5, [x0, #32]
    ldp x6, x7, [x0, #48]
    ldp x8, x9, [x0, #64]
    ldp x10, x11, [x0, #80]
    ldp x12, x13, [x0, #96]
    ldp x14, x15, [x0, #112]
    ldp x16, x17, [x0, #128]
    ldp x18, x19, [x0, #144]
    ldp x20, x21, [x0, #160]
    ldp x22, x23, [x0, #176]
    ldp x24, x25, [x0, #192]
    ldp x26, x27, [x0, #208]
    ldp x28, x29, [x0, #224]
    ldr x30, [x0, #240]
    ldp x0, x1, [x0]
    eret

// A trap from EL0: x0 and x1 are on the kernel stack, x1 now holds the kind.
lintel_user_trap:
    mrs x0, tpidr_el1
    ldr x0, [x0, #8]
    str x1, [x0, #296]
    stp x2, x3, [x0, #16]
    stp x4, x5, [x0, #32]
    stp x6, x7, [x0, #48]
    stp x8, x9, [x0, #64]
    stp x10, x11, [x0, #80]
    stp x12, x13, [x0, #96]
    stp x14, x15, [x0, #112]
    stp x16, x17, [x0, #128]
    stp x18, x19, [x0, #144]
    stp x20, x21, [x0, #160]
    stp x22, x23, [x0, #176]
    stp x24, x25, [x0, #192]
    stp x26, x27, [x0, #208]
    stp x28, x29, [x0, #224]
    str x30, [x0, #240]
    ldp x2, x3, [sp], #16
    stp x2, x3, [x0]
    mrs x2, sp_el0
    str x2, [x0, #248]
    mrs x2, elr_el1
    str x2, [x0, #256]
    mrs x2, spsr_el1
    str x2, [x0, #264]
    mrs x2, tpidr_el0
    str x2, [x0, #272]
    mrs x2, esr_el1
    str x2, [x0, #280]
    mrs x2, far_el1
    str x2, [x0, #288]
    mrs x9, tpidr_el1
    ldr x10, [x9, #0]
    mov sp, x10
    restore_callee
    ret

// A trap taken at EL1: every register on the current stack (KernelTrapFrame: x0..x30 at 8*n,
// elr 248, spsr 256, kind 264), the Rust handler, and back.
lintel_kernel_trap_entry:
    str x1, [sp, #264]
    save_x2_x30
    mrs x2, elr_el1
    mrs x3, spsr_el1
    stp x2, x3, [sp, #248]
    mov x0, sp
    bl lintel_kernel_trap
    ldp x2, x3, [sp, #248]
    msr elr_el1, x2
    msr spsr_el1, x3
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    ldr x30, [sp, #240]
    ldp x0, x1, [sp]
    add sp, sp, #272
    eret

// A trap at EL1 saves on the current stack, unless its frame [F, F + 272), F = sp - 272,
// touches a guard page of the kernel stack area (mm/kstack.rs): the stack overflowed, and
// saving on it would fault again, forever. No register is free before the frame is saved,
// so (as Linux does) sp carries F + x0 while x0 holds F: in the area, bit 16 of an address
// is 0 in a guard and 1 in a stack. The frame's last byte F + 271 is checked first (a frame
// that jumped past a whole stack can end in the lowest 272 bytes of a guard while F lies in
// the stack below), then F; both bits set (or an address outside the area) take the usual
// way. Otherwise F waits in TPIDRRO_EL0 (which user code sees as 0: it is cleared again)
// while x0 checks the area, F >> 33 == KSTACK_AREA >> 33 (the area is 8 GiB, aligned).
.macro kernel_vector kind
    .balign 0x80
    sub sp, sp, #272
    add sp, sp, x0
    sub x0, sp, x0
    add x0, x0, #271
    tbz x0, #16, 2f
    sub x0, x0, #271
    tbz x0, #16, 1f
0:  sub x0, sp, x0
    sub sp, sp, x0
    stp x0, x1, [sp]
    mov x1, #\kind
    b lintel_kernel_trap_entry
2:  sub x0, x0, #271
1:  msr tpidrro_el0, x0
    lsr x0, x0, #33
    eor x0, x0, #{kstack_area_tag}
    cbz x0, lintel_kstack_overflow_entry
    mrs x0, tpidrro_el0
    msr tpidrro_el0, xzr
    b 0b
.endm

.macro user_vector kind
    .balign 0x80
    stp x0, x1, [sp, #-16]!
    mov x1, #\kind
    b lintel_user_trap
.endm

// VBAR_EL1: current EL with SP0 (never used: kinds 4..7), current EL with SPx, lower EL in
// AArch64, lower EL in AArch32 (never: no 32-bit EL0, kinds 8..11 as kernel traps).
.balign 2048
.global lintel_vectors
lintel_vectors:
    kernel_vector 4
    kernel_vector 5
    kernel_vector 6
    kernel_vector 7
    kernel_vector 0
    kernel_vector 1
    kernel_vector 2
    kernel_vector 3
    user_vector 0
    user_vector 1
    user_vector 2
    user_vector 3
    kernel_vector 8
    kernel_vector 9
    kernel_vector 10
    kernel_vector 11

// The kernel stack overflowed: sp holds F + x0 and TPIDRRO_EL0 holds F (the frame the trap
// would have saved). x0 waits in TPIDR_EL0 (the user TLS, already saved in the thread's
// UserContext) while sp moves to this CPU's emergency stack; every register is saved there
// and the Rust handler reports, with the stack pointer of the overflow (F + 272) as its
// second argument. No way back.
lintel_kstack_overflow_entry:
    mrs x0, tpidrro_el0
    sub x0, sp, x0
    msr tpidr_el0, x0
    mrs x0, tpidr_el1
    ldr x0, [x0, #32]
    mov sp, x0
    sub sp, sp, #272
    mrs x0, tpidr_el0
    stp x0, x1, [sp]
    save_x2_x30
    mrs x2, elr_el1
    mrs x3, spsr_el1
    stp x2, x3, [sp, #248]
    str xzr, [sp, #264]
    mov x0, sp
    mrs x1, tpidrro_el0
    add x1, x1, #272
    msr tpidrro_el0, xzr
    bl lintel_kstack_overflow
    brk #0

// void lintel_switch(usize *save_sp, usize new_sp)
.global lintel_switch
lintel_switch:
    save_callee
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    restore_callee
    ret

// First code a new kernel task runs (its stack was laid out by prepare_stack).
.global lintel_task_trampoline
lintel_task_trampoline:
    bl lintel_task_start
    brk #0

// Copies 64 bytes from [x1] to [dst] through x4-x11: eight instructions, 4 bytes each
// (lintel_copy_user's exception table lists each).
.macro copy64 dst
    ldp x4, x5, [x1]
    ldp x6, x7, [x1, #16]
    ldp x8, x9, [x1, #32]
    ldp x10, x11, [x1, #48]
    stp x4, x5, [\dst]
    stp x6, x7, [\dst, #16]
    stp x8, x9, [\dst, #32]
    stp x10, x11, [\dst, #48]
.endm

// usize lintel_copy_user(void *dst, const void *src, usize len): returns the bytes NOT copied.
// Bytes until the destination is 8-aligned, then 64-byte blocks and words whatever the
// source's alignment (SCTLR_EL1.A is clear: unaligned loads of Normal memory are fine), then
// the tail in bytes. A fault in a block or a word resumes at the byte loop from the start of
// that block or word (no register moved yet; copying a byte again is harmless), so the count
// returned is exact: the byte loop's own fault ends the copy with x2 the bytes left. A byte
// loop for the whole copy when the two sides were not equally aligned had made every copy of
// a socket's ring (any offset) byte by byte.
.global lintel_copy_user
lintel_copy_user:
    cmp x2, #16
    b.lo lintel_copy_user_bytes
    // x3 = the bytes up to an 8-aligned destination, taken out of x2 first: a fault here
    // leaves x2 + x3 (the failing byte included; a post-index write-back happens only when
    // the access does).
    neg x3, x0
    ands x3, x3, #7
    b.eq 2f
    sub x2, x2, x3
1:
lintel_copy_user_hlb:
    ldrb w4, [x1], #1
lintel_copy_user_hsb:
    strb w4, [x0], #1
    subs x3, x3, #1
    b.ne 1b
2:  cmp x2, #64
    b.lo 3f
lintel_copy_user_block:
    copy64 x0
    add x0, x0, #64
    add x1, x1, #64
    sub x2, x2, #64
    b 2b
3:  cmp x2, #8
    b.lo lintel_copy_user_bytes
lintel_copy_user_ld:
    ldr x4, [x1]
lintel_copy_user_sd:
    str x4, [x0]
    add x0, x0, #8
    add x1, x1, #8
    sub x2, x2, #8
    b 3b
lintel_copy_user_bytes:
    cbz x2, lintel_copy_user_done
lintel_copy_user_lb:
    ldrb w4, [x1]
lintel_copy_user_sb:
    strb w4, [x0]
    add x0, x0, #1
    add x1, x1, #1
    sub x2, x2, #1
    b lintel_copy_user_bytes
lintel_copy_user_done:
    mov x0, x2
    ret
lintel_copy_user_head_fault:
    add x0, x2, x3
    ret

// void *memcpy(void *dst, const void *src, usize n): the kernel's own, in place of
// compiler_builtins' weak generic one (a word an iteration, shifts for a misaligned source):
// 64-byte blocks as lintel_copy_user, the source loaded unaligned. Only for Normal memory
// (an unaligned access to Device memory faults): MMIO goes through volatile accesses.
.global memcpy
memcpy:
    mov x3, x0
    cmp x2, #64
    b.lo 3f
2:  copy64 x3
    add x1, x1, #64
    add x3, x3, #64
    sub x2, x2, #64
    cmp x2, #64
    b.hs 2b
3:  cmp x2, #8
    b.lo 5f
4:  ldr x4, [x1], #8
    str x4, [x3], #8
    sub x2, x2, #8
    cmp x2, #8
    b.hs 4b
5:  cbz x2, 9f
6:  ldrb w4, [x1], #1
    strb w4, [x3], #1
    subs x2, x2, #1
    b.ne 6b
9:  ret

// u64 lintel_cmpxchg_user32(u32 *uaddr, u32 old, u32 new, u32 *prev): an atomic
// compare-and-exchange on a user word. Stores the value found in *prev; returns 0, or 1 when
// the word could not be reached.
.global lintel_cmpxchg_user32
lintel_cmpxchg_user32:
    mov x4, #1
1:
lintel_cmpxchg_user32_ld:
    ldaxr w5, [x0]
    cmp w5, w1
    b.ne 2f
lintel_cmpxchg_user32_st:
    stlxr w6, w2, [x0]
    cbnz w6, 1b
    b 3f
2:  clrex
3:  str w5, [x3]
    mov x4, #0
lintel_cmpxchg_user32_done:
    mov x0, x4
    ret

.section .ex_table, "a"
.balign 8
    .quad lintel_copy_user_hlb
    .quad lintel_copy_user_head_fault
    .quad lintel_copy_user_hsb
    .quad lintel_copy_user_head_fault
    // The block's eight loads and stores, 4 bytes each.
    .quad lintel_copy_user_block + 0
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 4
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 8
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 12
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 16
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 20
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 24
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_block + 28
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_ld
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_sd
    .quad lintel_copy_user_bytes
    .quad lintel_copy_user_lb
    .quad lintel_copy_user_done
    .quad lintel_copy_user_sb
    .quad lintel_copy_user_done
    .quad lintel_cmpxchg_user32_ld
    .quad lintel_cmpxchg_user32_done
    .quad lintel_cmpxchg_user32_st
    .quad lintel_cmpxchg_user32_done
.text
