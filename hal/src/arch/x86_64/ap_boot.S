# Secondary CPU start (appended to boot.S, whose enter_long_mode macro it uses): smp.rs copies these bytes to the page at TRAMP (below 1 MiB) and sends
# the CPU a startup IPI naming that page, so it starts here in real mode with CS = TRAMP >> 4
# and IP = 0. The code is assembled for that address (every address below is computed from
# TRAMP) and never runs where it is linked. It goes through protected mode into long mode on
# the page tables in ap_slot_cr3 (the kernel half plus low memory mapped at its own address),
# then jumps to ap_slot_entry on the stack in ap_slot_stack with ap_slot_arg as argument.

.set TRAMP, 0x8000

.section .rodata.ap_trampoline, "a"
.balign 16
.global lintel_ap_trampoline_start
lintel_ap_trampoline_start:
.code16
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl (ap_gdt_desc - lintel_ap_trampoline_start + TRAMP)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(ap_pm32 - lintel_ap_trampoline_start + TRAMP)

.code32
ap_pm32:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    enter_long_mode ap_slot_cr3 - lintel_ap_trampoline_start + TRAMP, 1
    ljmp $0x18, $(ap_lm64 - lintel_ap_trampoline_start + TRAMP)

.code64
ap_lm64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov (ap_slot_stack - lintel_ap_trampoline_start + TRAMP), %rsp
    mov (ap_slot_arg - lintel_ap_trampoline_start + TRAMP), %rdi
    mov (ap_slot_entry - lintel_ap_trampoline_start + TRAMP), %rax
    xor %ebp, %ebp
    jmp *%rax

.balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff     # 0x08: 32-bit code
    .quad 0x00cf92000000ffff     # 0x10: data
    .quad 0x00af9a000000ffff     # 0x18: 64-bit code
ap_gdt_desc:
    .word ap_gdt_desc - ap_gdt - 1
    .long ap_gdt - lintel_ap_trampoline_start + TRAMP

# Filled in by smp.rs before each startup IPI (offsets 0, 8, 16, 24 from lintel_ap_slots).
.balign 8
.global lintel_ap_slots
lintel_ap_slots:
ap_slot_cr3:
    .quad 0
ap_slot_stack:
    .quad 0
ap_slot_entry:
    .quad 0
ap_slot_arg:
    .quad 0
.global lintel_ap_trampoline_end
lintel_ap_trampoline_end:
.code64
