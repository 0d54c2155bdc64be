# riscv64 entry from OpenSBI (fw_dynamic): S-mode, MMU off, a0 = hart id, a1 = physical
# address of the device tree. Builds the boot root table (Sv39 gigapages: the 1 GiB holding
# the kernel at its own address, a direct map of the first 64 GiB at PHYS_OFFSET, and the
# first 4 GiB again at KERNEL_OFFSET for the image), turns paging on, jumps to the linked
# (high) addresses, clears .bss and calls boot_main(hartid, dtb) on the boot stack with tp
# pointing at CPU 0's per-CPU block.

.section .text.boot, "ax"
.global _start
_start:
    csrw sie, zero
    csrw sscratch, zero
    mv s0, a0
    mv s1, a1
    lla t0, lintel_boot_root
    # The root table lies in .data: zero it (QEMU loads the file's zeros, but be sure).
    li t1, 0
    li t2, 512
1:  slli t3, t1, 3
    add t3, t3, t0
    sd zero, 0(t3)
    addi t1, t1, 1
    blt t1, t2, 1b
    # Identity gigapage of the 1 GiB the kernel runs in (dropped by boot_main).
    lla t1, _start
    srli t1, t1, 30
    slli t3, t1, 3
    add t3, t3, t0
    slli t4, t1, 28
    ori t4, t4, 0xcf            # V R W X A D
    sd t4, 0(t3)
    # Direct map: root[256 + i] = i GiB, for i < 64 (V R W A D G).
    li t1, 0
    li t2, 64
2:  slli t4, t1, 28
    ori t4, t4, 0xe7
    addi t3, t1, 256
    slli t3, t3, 3
    add t3, t3, t0
    sd t4, 0(t3)
    addi t1, t1, 1
    blt t1, t2, 2b
    # Kernel image: root[508 + i] = i GiB, for i < 4 (V R W X A D G).
    li t1, 0
    li t2, 4
3:  slli t4, t1, 28
    ori t4, t4, 0xef
    addi t3, t1, 508
    slli t3, t3, 3
    add t3, t3, t0
    sd t4, 0(t3)
    addi t1, t1, 1
    blt t1, t2, 3b
    # satp = Sv39 | root PPN.
    srli t1, t0, 12
    li t2, 8
    slli t2, t2, 60
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma
    ld t1, 9f
    jr t1
.balign 8
9:  .dword 4f
4:  # Now at the linked addresses.
    lla t0, __bss_start
    lla t1, __bss_end
5:  bgeu t0, t1, 6f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 5b
6:  lla sp, lintel_boot_stack_top
    lla tp, {cpu0}
    mv a0, s0
    mv a1, s1
    call {boot_main}
7:  wfi
    j 7b

# A secondary hart, started by SBI HSM hart_start at this physical address: S-mode, paging
# off, interrupts off, a0 = its hart id, a1 = the physical address of its start block
# (smp.rs `Start`): 0 satp (the kernel's root), 8 its stack top, 16 its per-CPU block, 24 its
# CPU index, 32 the Rust entry `ap_main(index)`. The block is read before paging comes on.
# The kernel's root does not map this code at its physical address, so stvec points at the
# linked address of the instruction after the satp write: that fetch faults and the trap
# lands there (Linux's relocate_enable_mmu does the same).
.balign 4
.global lintel_secondary_entry
lintel_secondary_entry:
    csrw sie, zero
    csrw sscratch, zero
    ld s1, 8(a1)
    ld s2, 16(a1)
    ld s3, 24(a1)
    ld s4, 32(a1)
    ld t0, 0(a1)
    ld t1, 19f
    csrw stvec, t1
    sfence.vma
    csrw satp, t0
    # The fetch from the physical address faults into stvec; should the old translation
    # still be used, this jump gets there too.
    jr t1
.balign 8
19: .dword 20f
.balign 4
20: # Now at the linked addresses.
    sfence.vma
    mv sp, s1
    mv tp, s2
    mv a0, s3
    jalr s4
21: wfi
    j 21b

.section .data.boot, "aw"
.balign 4096
.global lintel_boot_root
lintel_boot_root:
    .zero 4096

.section .bss.boot, "aw", @nobits
.balign 16
lintel_boot_stack:
    .zero 65536
lintel_boot_stack_top:
