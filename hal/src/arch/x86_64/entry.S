# Every way into and out of the kernel: user entry/exit (`lintel_enter_user`), the `syscall`
# entry, the 256 interrupt stubs and the kernel context switch (the user-memory routines are in
# usercopy.rs).
#
# Per-CPU block (reached through GS while in the kernel):
#   gs:0  self pointer          gs:8  kernel rsp saved by lintel_enter_user
#   gs:16 current UserContext   gs:24 user rsp scratch
#
# UserContext offsets: rax 0, rbx 8, rcx 16, rdx 24, rsi 32, rdi 40, rbp 48, rsp 56, r8 64 ..
# r15 120, rip 128, rflags 136, fs_base 144, gs_base 152, vector 160, error 168, cr2 176,
# sysret 184.


# The fifteen general registers, saved on the stack by a trap or NMI from kernel mode in the
# order KernelTrapFrame and NmiFrame expect (r15 at the lowest address).
.macro push_gprs
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
.endm

.macro pop_gprs
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
.endm

.text

# u64 lintel_enter_user(UserContext *ctx): runs user code until the next syscall (returns 0) or
# interrupt/exception (returns 1). The context is saved back into *ctx.
.global lintel_enter_user
lintel_enter_user:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov gs:[8], rsp
    mov gs:[16], rdi
    cmp qword ptr [rdi + 184], 0
    jne 2f
    # Full restore through iretq.
    push 0x1b
    push qword ptr [rdi + 56]
    push qword ptr [rdi + 136]
    push 0x23
    push qword ptr [rdi + 128]
    mov rax, [rdi + 0]
    mov rbx, [rdi + 8]
    mov rcx, [rdi + 16]
    mov rdx, [rdi + 24]
    mov rsi, [rdi + 32]
    mov rbp, [rdi + 48]
    mov r8, [rdi + 64]
    mov r9, [rdi + 72]
    mov r10, [rdi + 80]
    mov r11, [rdi + 88]
    mov r12, [rdi + 96]
    mov r13, [rdi + 104]
    mov r14, [rdi + 112]
    mov r15, [rdi + 120]
    mov rdi, [rdi + 40]
    swapgs
    iretq
2:  # Fast return after a syscall: rcx and r11 are clobbered, as Linux does.
    mov rcx, [rdi + 128]
    mov r11, [rdi + 136]
    mov rax, [rdi + 0]
    mov rbx, [rdi + 8]
    mov rdx, [rdi + 24]
    mov rsi, [rdi + 32]
    mov rbp, [rdi + 48]
    mov r8, [rdi + 64]
    mov r9, [rdi + 72]
    mov r10, [rdi + 80]
    mov r12, [rdi + 96]
    mov r13, [rdi + 104]
    mov r14, [rdi + 112]
    mov r15, [rdi + 120]
    mov rsp, [rdi + 56]
    mov rdi, [rdi + 40]
    swapgs
    sysretq

# The `syscall` instruction lands here with interrupts off (FMASK clears IF), rcx = user rip,
# r11 = user rflags. rsp is briefly the UserContext pointer: no exception can occur while the
# registers are stored because the context lives in mapped kernel memory.
.global lintel_syscall_entry
lintel_syscall_entry:
    swapgs
    mov gs:[24], rsp
    mov rsp, gs:[16]
    mov [rsp + 0], rax
    mov [rsp + 8], rbx
    mov [rsp + 16], rcx
    mov [rsp + 24], rdx
    mov [rsp + 32], rsi
    mov [rsp + 40], rdi
    mov [rsp + 48], rbp
    mov [rsp + 64], r8
    mov [rsp + 72], r9
    mov [rsp + 80], r10
    mov [rsp + 88], r11
    mov [rsp + 96], r12
    mov [rsp + 104], r13
    mov [rsp + 112], r14
    mov [rsp + 120], r15
    mov [rsp + 128], rcx
    mov [rsp + 136], r11
    mov rax, gs:[24]
    mov [rsp + 56], rax
    mov qword ptr [rsp + 184], 1
    mov rsp, gs:[8]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    xor eax, eax
    ret

# Common interrupt path. Stack: vector, error, rip, cs, rflags, rsp, ss.
lintel_trap_common:
    test qword ptr [rsp + 24], 3
    jz 3f
    # From user mode: save into the UserContext and return from lintel_enter_user.
    # A trap or interrupt keeps the user's direction flag (only `syscall` clears it, through
    # FMASK): the kernel's string copies would run backwards over its stack (stress-ng's
    # opcode stressor ran `std` before a faulting opcode; memcpy overwrote its own return
    # address). Linux's entry code clears it too.
    swapgs
    cld
    push rax
    mov rax, gs:[16]
    mov [rax + 8], rbx
    mov [rax + 16], rcx
    mov [rax + 24], rdx
    mov [rax + 32], rsi
    mov [rax + 40], rdi
    mov [rax + 48], rbp
    mov [rax + 64], r8
    mov [rax + 72], r9
    mov [rax + 80], r10
    mov [rax + 88], r11
    mov [rax + 96], r12
    mov [rax + 104], r13
    mov [rax + 112], r14
    mov [rax + 120], r15
    pop rbx
    mov [rax + 0], rbx
    mov rbx, [rsp + 0]
    mov [rax + 160], rbx
    mov rbx, [rsp + 8]
    mov [rax + 168], rbx
    mov rbx, [rsp + 16]
    mov [rax + 128], rbx
    mov rbx, [rsp + 32]
    mov [rax + 136], rbx
    mov rbx, [rsp + 40]
    mov [rax + 56], rbx
    mov rbx, cr2
    mov [rax + 176], rbx
    mov qword ptr [rax + 184], 0
    mov rsp, gs:[8]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    mov eax, 1
    ret
3:  # From kernel mode: save on this stack and call the Rust handler.
    push_gprs
    mov rdi, rsp
    cld
    call lintel_kernel_trap
    pop_gprs
    add rsp, 16
    iretq

# NMI (vector 2, on its own IST stack): it may arrive anywhere, even in the `syscall` entry
# before the stack switch or between `swapgs` and the return to user mode, so it touches
# neither GS nor the UserContext; it saves every register, calls the watchdog's check and
# returns to whatever it interrupted.
.global lintel_nmi_entry
lintel_nmi_entry:
    push_gprs
    mov rdi, rsp
    cld
    call lintel_nmi
    pop_gprs
    iretq

# 256 stubs, 16 bytes apart, so the IDT can be filled from the first one's address.
.balign 16
.global lintel_trap_stubs
lintel_trap_stubs:
.set i, 0
.rept 32
.balign 16
.if (i - 8) * (i - 10) * (i - 11) * (i - 12) * (i - 13) * (i - 14) * (i - 17) * (i - 21) * (i - 29) * (i - 30)
    push 0
.endif
    push i
    jmp lintel_trap_common
.set i, i + 1
.endr
.rept 224
.balign 16
    push 0
    push i
    jmp lintel_trap_common
.set i, i + 1
.endr

# void lintel_switch(usize *save_rsp, usize new_rsp)
.global lintel_switch
lintel_switch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

# First code a new kernel task runs (its stack was laid out by Task::new).
.global lintel_task_trampoline
lintel_task_trampoline:
    call lintel_task_start
    ud2
