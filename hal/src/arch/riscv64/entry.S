# Every way into and out of the kernel on riscv64: user entry/exit (`lintel_enter_user`), the
# trap vector (user traps save into the UserContext; kernel traps save on the kernel stack),
# the kernel context switch and the user-memory routines with their exception-table entries.
#
# sscratch holds this CPU's per-CPU block while user code runs and 0 while the kernel runs;
# tp holds the per-CPU block in the kernel. Per-CPU block: 0 kernel sp saved by
# lintel_enter_user, 8 current UserContext, 16 scratch, 24 cpu index, 32 top of the CPU's
# emergency stack, 40 second scratch.
#
# UserContext: x1..x31 at 8*n, sepc 256, sstatus 264, scause 272, stval 280.

.text
# Global asm does not inherit the target's extensions: name the ones used here (atomics).
.option arch, +a

.macro save_callee
    addi sp, sp, -112
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
.endm

.macro restore_callee
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 112
.endm

# x7..x31 at 8*n from sp (a KernelTrapFrame).
.macro save_x7_x31
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
.endm

# void lintel_enter_user(UserContext *ctx): runs user code until the next trap; the user
# registers are saved back into *ctx (scause says why).
.global lintel_enter_user
lintel_enter_user:
    save_callee
    sd sp, 0(tp)
    sd a0, 8(tp)
    ld t0, 256(a0)
    csrw sepc, t0
    ld t0, 264(a0)
    csrw sstatus, t0
    csrw sscratch, tp
    ld x1, 8(a0)
    ld x2, 16(a0)
    ld x3, 24(a0)
    ld x4, 32(a0)
    ld x5, 40(a0)
    ld x6, 48(a0)
    ld x7, 56(a0)
    ld x8, 64(a0)
    ld x9, 72(a0)
    ld x11, 88(a0)
    ld x12, 96(a0)
    ld x13, 104(a0)
    ld x14, 112(a0)
    ld x15, 120(a0)
    ld x16, 128(a0)
    ld x17, 136(a0)
    ld x18, 144(a0)
    ld x19, 152(a0)
    ld x20, 160(a0)
    ld x21, 168(a0)
    ld x22, 176(a0)
    ld x23, 184(a0)
    ld x24, 192(a0)
    ld x25, 200(a0)
    ld x26, 208(a0)
    ld x27, 216(a0)
    ld x28, 224(a0)
    ld x29, 232(a0)
    ld x30, 240(a0)
    ld x31, 248(a0)
    ld x10, 80(a0)
    sret

# The trap vector (stvec, direct mode). From user mode sscratch holds the per-CPU block;
# from kernel mode it holds 0.
.balign 4
.global lintel_trap_entry
lintel_trap_entry:
    csrrw tp, sscratch, tp
    bnez tp, 1f
    # From the kernel: take tp back (sscratch is 0 again) and save on this stack.
    csrrw tp, sscratch, tp
    j lintel_kernel_trap_entry
1:  sd t0, 16(tp)
    ld t0, 8(tp)
    sd x1, 8(t0)
    sd x2, 16(t0)
    sd x3, 24(t0)
    sd x6, 48(t0)
    sd x7, 56(t0)
    sd x8, 64(t0)
    sd x9, 72(t0)
    sd x10, 80(t0)
    sd x11, 88(t0)
    sd x12, 96(t0)
    sd x13, 104(t0)
    sd x14, 112(t0)
    sd x15, 120(t0)
    sd x16, 128(t0)
    sd x17, 136(t0)
    sd x18, 144(t0)
    sd x19, 152(t0)
    sd x20, 160(t0)
    sd x21, 168(t0)
    sd x22, 176(t0)
    sd x23, 184(t0)
    sd x24, 192(t0)
    sd x25, 200(t0)
    sd x26, 208(t0)
    sd x27, 216(t0)
    sd x28, 224(t0)
    sd x29, 232(t0)
    sd x30, 240(t0)
    sd x31, 248(t0)
    ld t1, 16(tp)
    sd t1, 40(t0)
    csrrw t1, sscratch, zero
    sd t1, 32(t0)
    csrr t1, sepc
    sd t1, 256(t0)
    csrr t1, sstatus
    sd t1, 264(t0)
    csrr t1, scause
    sd t1, 272(t0)
    csrr t1, stval
    sd t1, 280(t0)
    ld sp, 0(tp)
    restore_callee
    ret

# A trap taken in kernel mode: every register on the current stack (KernelTrapFrame: x1..x31
# at 8*n, sepc 256, sstatus 264), the Rust handler, and back.
#
# Unless the frame would touch a guard page of the kernel stack area (mm/kstack.rs): then the
# stack overflowed, and saving on it would fault again, forever. The check needs two
# registers, kept in the per-CPU block's scratch words meanwhile (nothing here can trap:
# interrupts are off and these instructions do not fault). With o = sp - 1 - KSTACK_AREA:
# inside the area when o < AREA_SIZE, and then the frame [sp - 272, sp) reaches the guard
# below the stack when o modulo the slot size is below STACK_SIZE + 272.
lintel_kernel_trap_entry:
    sd t0, 16(tp)
    sd t1, 40(tp)
    addi t0, sp, -1
    li t1, {kstack_area_neg}
    add t0, t0, t1
    li t1, {kstack_area_size}
    bgeu t0, t1, 1f
    li t1, {kstack_slot_mask}
    and t0, t0, t1
    li t1, {kstack_guard_reach}
    bltu t0, t1, lintel_kstack_overflow_entry
1:  ld t0, 16(tp)
    ld t1, 40(tp)
    addi sp, sp, -272
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    save_x7_x31
    addi t0, sp, 272
    sd t0, 16(sp)
    csrr t0, sepc
    sd t0, 256(sp)
    csrr t0, sstatus
    sd t0, 264(sp)
    mv a0, sp
    call lintel_kernel_trap
    ld t0, 256(sp)
    csrw sepc, t0
    ld t0, 264(sp)
    csrw sstatus, t0
    ld x1, 8(sp)
    ld x3, 24(sp)
    ld x4, 32(sp)
    ld x5, 40(sp)
    ld x6, 48(sp)
    ld x7, 56(sp)
    ld x8, 64(sp)
    ld x9, 72(sp)
    ld x10, 80(sp)
    ld x11, 88(sp)
    ld x12, 96(sp)
    ld x13, 104(sp)
    ld x14, 112(sp)
    ld x15, 120(sp)
    ld x16, 128(sp)
    ld x17, 136(sp)
    ld x18, 144(sp)
    ld x19, 152(sp)
    ld x20, 160(sp)
    ld x21, 168(sp)
    ld x22, 176(sp)
    ld x23, 184(sp)
    ld x24, 192(sp)
    ld x25, 200(sp)
    ld x26, 208(sp)
    ld x27, 216(sp)
    ld x28, 224(sp)
    ld x29, 232(sp)
    ld x30, 240(sp)
    ld x31, 248(sp)
    addi sp, sp, 272
    sret

# The kernel stack overflowed (t0 and t1 are in the per-CPU block): save every register on
# this CPU's emergency stack (x2 the stack pointer of the overflow) and report; no way back.
lintel_kstack_overflow_entry:
    mv t0, sp
    ld sp, 32(tp)
    addi sp, sp, -272
    sd t0, 16(sp)
    ld t0, 16(tp)
    sd t0, 40(sp)
    ld t1, 40(tp)
    sd t1, 48(sp)
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    save_x7_x31
    csrr t0, sepc
    sd t0, 256(sp)
    csrr t0, sstatus
    sd t0, 264(sp)
    mv a0, sp
    call lintel_kstack_overflow
    unimp

# void lintel_switch(usize *save_sp, usize new_sp)
.global lintel_switch
lintel_switch:
    save_callee
    sd sp, 0(a0)
    mv sp, a1
    restore_callee
    ret

# First code a new kernel task runs (its stack was laid out by prepare_stack).
.global lintel_task_trampoline
lintel_task_trampoline:
    call lintel_task_start
    unimp

# usize lintel_copy_user(void *dst, const void *src, usize len): returns the bytes NOT copied.
# When both sides are equally aligned (mod 8): bytes up to an 8-aligned address, then
# 64-byte blocks and words, then the tail in bytes; otherwise bytes (S-mode has no cheap
# misaligned access). A fault in a block or a word resumes at the byte loop from the start of
# that block or word (no register moved yet; copying a byte again is harmless), so the count
# returned is exact: the byte loop's own fault ends the copy with a2 the bytes left.
.global lintel_copy_user
lintel_copy_user:
    li t2, 16
    bltu a2, t2, lintel_copy_user_bytes
    xor t1, a0, a1
    andi t1, t1, 7
    bnez t1, lintel_copy_user_bytes
    # t3 = the bytes up to an 8-aligned address, taken out of a2 first: a fault here leaves
    # a2 + t3 (the failing byte included).
    neg t3, a0
    andi t3, t3, 7
    beqz t3, 2f
    sub a2, a2, t3
1:
lintel_copy_user_hlb:
    lb t0, 0(a1)
lintel_copy_user_hsb:
    sb t0, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi t3, t3, -1
    bnez t3, 1b
2:  li t2, 64
    bltu a2, t2, 3f
    # Uncompressed: the exception table lists each access at 4-byte steps.
    .option push
    .option norvc
lintel_copy_user_block:
    ld t0, 0(a1)
    ld t1, 8(a1)
    ld t3, 16(a1)
    ld t4, 24(a1)
    ld t5, 32(a1)
    ld t6, 40(a1)
    ld a3, 48(a1)
    ld a4, 56(a1)
    sd t0, 0(a0)
    sd t1, 8(a0)
    sd t3, 16(a0)
    sd t4, 24(a0)
    sd t5, 32(a0)
    sd t6, 40(a0)
    sd a3, 48(a0)
    sd a4, 56(a0)
    .option pop
    addi a0, a0, 64
    addi a1, a1, 64
    addi a2, a2, -64
    j 2b
3:  li t2, 8
    bltu a2, t2, lintel_copy_user_bytes
lintel_copy_user_ld:
    ld t0, 0(a1)
lintel_copy_user_sd:
    sd t0, 0(a0)
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    j 3b
lintel_copy_user_bytes:
    beqz a2, lintel_copy_user_done
lintel_copy_user_lb:
    lb t0, 0(a1)
lintel_copy_user_sb:
    sb t0, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    j lintel_copy_user_bytes
lintel_copy_user_done:
    mv a0, a2
    ret
lintel_copy_user_head_fault:
    add a0, a2, t3
    ret

# u64 lintel_cmpxchg_user32(u32 *uaddr, u32 old, u32 new, u32 *prev): an atomic
# compare-and-exchange on a user word. Stores the value found in *prev; returns 0, or 1 when
# the word could not be reached.
.global lintel_cmpxchg_user32
lintel_cmpxchg_user32:
    li a4, 1
    sext.w a1, a1
1:
lintel_cmpxchg_user32_lr:
    lr.w.aqrl t0, (a0)
    bne t0, a1, 2f
lintel_cmpxchg_user32_sc:
    sc.w.aqrl t1, a2, (a0)
    bnez t1, 1b
2:  sw t0, 0(a3)
    li a4, 0
lintel_cmpxchg_user32_done:
    mv a0, a4
    ret

.section .ex_table, "a"
.balign 8
    .dword lintel_copy_user_hlb
    .dword lintel_copy_user_head_fault
    .dword lintel_copy_user_hsb
    .dword lintel_copy_user_head_fault
    # The block's sixteen loads and stores, 4 bytes each.
    .dword lintel_copy_user_block + 0
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 4
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 8
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 12
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 16
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 20
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 24
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 28
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 32
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 36
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 40
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 44
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 48
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 52
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 56
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_block + 60
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_ld
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_sd
    .dword lintel_copy_user_bytes
    .dword lintel_copy_user_lb
    .dword lintel_copy_user_done
    .dword lintel_copy_user_sb
    .dword lintel_copy_user_done
    .dword lintel_cmpxchg_user32_lr
    .dword lintel_cmpxchg_user32_done
    .dword lintel_cmpxchg_user32_sc
    .dword lintel_cmpxchg_user32_done
.text
