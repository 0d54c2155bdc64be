# PVH entry: QEMU `-kernel` jumps here in 32-bit protected mode, paging off, with %ebx holding the
# physical address of the hvm_start_info structure. We build nothing at run time: the early page
# tables are static data (identity map and direct map of the first 4 GiB with 2 MiB pages, and
# the kernel image at -2 GiB), so this code only loads them and enters long mode.

.set KERNEL_OFFSET, 0xffffffff80000000

# From 32-bit protected mode to long mode (compatibility mode until the far jump that
# follows) on the root table at physical address \root, read from memory when \from_memory.
# The boot CPU and the secondary CPUs' trampoline (ap_boot.S) both use it.
.macro enter_long_mode root, from_memory
    # CR4: PAE | PGE | OSFXSR | OSXMMEXCPT
    mov %cr4, %eax
    or $0x6a0, %eax
    mov %eax, %cr4
.if \from_memory
    mov (\root), %eax
.else
    mov $(\root), %eax
.endif
    mov %eax, %cr3
    # EFER: LME | NXE | SCE
    mov $0xc0000080, %ecx
    rdmsr
    or $0x901, %eax
    wrmsr
    # CR0: PG | WP | NE | MP, clear EM and TS
    mov %cr0, %eax
    and $0xfffffff3, %eax
    or $0x80010022, %eax
    mov %eax, %cr0
.endm

.section .note.Xen, "a", @note
    .balign 4
    .long 4                      # namesz
    .long 4                      # descsz
    .long 18                     # XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start32 - KERNEL_OFFSET

.section .text.boot, "ax"
.code32
.global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %edi
    mov $(boot_stack_top - KERNEL_OFFSET), %esp
    lgdt (boot_gdt_desc32 - KERNEL_OFFSET)
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    enter_long_mode boot_pml4 - KERNEL_OFFSET, 0
    ljmp $0x08, $(long_mode_low - KERNEL_OFFSET)

.code64
long_mode_low:
    movabs $long_mode_high, %rax
    jmp *%rax
long_mode_high:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lgdt boot_gdt_desc64(%rip)
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    # %edi still holds the start_info physical address (zero-extended by the 32-bit move).
    mov %edi, %edi
    call {boot_main}
1:  hlt
    jmp 1b

.section .rodata.boot, "a"
.balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff     # 0x08: 64-bit code
    .quad 0x00cf92000000ffff     # 0x10: data
boot_gdt_end:
boot_gdt_desc32:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt - KERNEL_OFFSET
boot_gdt_desc64:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

.section .data.boot, "aw"
.balign 4096
.global boot_pml4
boot_pml4:
    .quad boot_pdpt_low - KERNEL_OFFSET + 3
    .fill 255, 8, 0
    .quad boot_pdpt_low - KERNEL_OFFSET + 3       # 0xffff800000000000: direct map
    .fill 254, 8, 0
    .quad boot_pdpt_high - KERNEL_OFFSET + 3      # 0xffffff8000000000: kernel image
boot_pdpt_low:
    .quad boot_pd - KERNEL_OFFSET + 3
    .quad boot_pd - KERNEL_OFFSET + 0x1000 + 3
    .quad boot_pd - KERNEL_OFFSET + 0x2000 + 3
    .quad boot_pd - KERNEL_OFFSET + 0x3000 + 3
    .fill 508, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd - KERNEL_OFFSET + 3
    .quad boot_pd - KERNEL_OFFSET + 0x1000 + 3
boot_pd:
    .set i, 0
    .rept 2048
    .quad (i << 21) | 0x183      # present, writable, 2 MiB, global
    .set i, i + 1
    .endr

.section .bss.boot, "aw", @nobits
.balign 4096
boot_stack:
    .skip 65536
.global boot_stack_top
boot_stack_top:
