// aarch64 entry: a Linux arm64 Image (Documentation/arch/arm64/booting.rst) that QEMU's
// `-kernel` loads at RAM base + text_offset (0x40080000 on the virt board) and enters with the
// MMU off, x0 = physical address of the device tree, at EL2 or EL1. EL2 drops to EL1 first.
// Builds the boot tables (4 KiB granule, 48-bit VA, 1 GiB blocks): root[256] is the direct map
// of the first 512 GiB at PHYS_OFFSET (RAM normal, the rest device); root[511] maps the first
// 4 GiB again at KERNEL_OFFSET, executable, for the image; root[0] is that same table as an
// identity map while paging comes on (dropped by the kernel later). TTBR0 and TTBR1 both point
// at the root: user roots are installed in TTBR0 later, TTBR1 keeps the kernel's. Then jumps to
// the linked (high) addresses, clears .bss and calls boot_main(dtb) on the boot stack with
// TPIDR_EL1 pointing at CPU 0's per-CPU block.

.section .text.boot, "ax"
.global _start
_start:
    // The Image header (64 bytes): a branch over it, then load offset, size, flags, magic.
    b 1f
    .word 0
    .quad 0x80000                   // text_offset
    .quad __image_size              // image_size (with .bss)
    .quad 2                         // flags: little-endian, 4 KiB pages
    .quad 0
    .quad 0
    .quad 0
    .word 0x644d5241                // "ARM\x64"
    .word 0
1:
    msr daifset, #0xf
    mov x19, x0
    bl lintel_el2_to_el1
    bl lintel_el1_setup
    // Zero the three boot tables (in .data: the Image carries them).
    adrp x0, lintel_boot_root
    add x0, x0, :lo12:lintel_boot_root
    mov x1, x0
    add x2, x0, #(3 * 4096)
4:  stp xzr, xzr, [x1], #16
    cmp x1, x2
    b.lo 4b
    add x1, x0, #4096               // L1 of the direct map
    add x2, x0, #8192               // L1 of the image
    // root[0] = root[511] = image table; root[256] = direct-map table (table descriptors).
    orr x3, x2, #3
    str x3, [x0]
    str x3, [x0, #(511 * 8)]
    orr x3, x1, #3
    str x3, [x0, #(256 * 8)]
    // Direct map: 512 blocks of 1 GiB, never executable (PXN UXN), accessed. Below 1 GiB and
    // from 256 GiB on: device nGnRE (MAIR index 1); between: normal write-back, inner shareable.
    mov x4, #0
    ldr x5, =((3 << 53) | (1 << 10) | (1 << 2) | 1)
    ldr x6, =((3 << 53) | (1 << 10) | (3 << 8) | 1)
5:  lsl x7, x4, #30
    cmp x4, #1
    b.lo 6f
    cmp x4, #256
    b.hs 6f
    orr x7, x7, x6
    b 7f
6:  orr x7, x7, x5
7:  str x7, [x1, x4, lsl #3]
    add x4, x4, #1
    cmp x4, #512
    b.lo 5b
    // Image: 4 blocks of 1 GiB, normal, executable by EL1 only (UXN); the first is device
    // memory (the board's devices) and never executed.
    ldr x6, =((1 << 54) | (1 << 10) | (3 << 8) | 1)
    orr x7, x5, xzr
    str x7, [x2]
    mov x4, #1
8:  lsl x7, x4, #30
    orr x7, x7, x6
    str x7, [x2, x4, lsl #3]
    add x4, x4, #1
    cmp x4, #4
    b.lo 8b
    dsb sy
    msr ttbr0_el1, x0
    msr ttbr1_el1, x0
    bl lintel_mmu_on
    ldr x1, =9f
    br x1
9:  // Now at the linked addresses.
    adrp x0, __bss_start
    add x0, x0, :lo12:__bss_start
    adrp x1, __bss_end
    add x1, x1, :lo12:__bss_end
10: cmp x0, x1
    b.hs 11f
    str xzr, [x0], #8
    b 10b
11: adrp x0, lintel_boot_stack_top
    add x0, x0, :lo12:lintel_boot_stack_top
    mov sp, x0
    adrp x0, {cpu0}
    add x0, x0, :lo12:{cpu0}
    msr tpidr_el1, x0
    mov x0, x19
    bl {boot_main}
12: wfi
    b 12b

// At EL2: EL1 is AArch64, the counters and timers are EL1's, no virtual offset; the GIC's
// system registers are open to EL1 when the CPU has them; then eret to EL1h, masked, at the
// caller's return address. At EL1: returns. Clobbers x0.
lintel_el2_to_el1:
    mrs x0, CurrentEL
    lsr x0, x0, #2
    cmp x0, #2
    b.ne 2f
    mov x0, #(1 << 31)
    msr hcr_el2, x0
    mrs x0, cnthctl_el2
    orr x0, x0, #3
    msr cnthctl_el2, x0
    msr cntvoff_el2, xzr
    mrs x0, id_aa64pfr0_el1
    ubfx x0, x0, #24, #4
    cbz x0, 1f
    mrs x0, S3_4_C12_C9_5           // ICC_SRE_EL2
    orr x0, x0, #0xf                // SRE, DFB, DIB, Enable (EL1 may use SRE)
    msr S3_4_C12_C9_5, x0
    isb
1:  mov x0, #0x3c5                  // EL1h, D A I F masked
    msr spsr_el2, x0
    msr elr_el2, x30
    eret
2:  ret

// EL1 state every CPU sets the same way before paging: FP/SIMD on for EL0 and EL1
// (CPACR_EL1.FPEN = 0b11: the kernel saves user state with it); MAIR (index 0 normal
// write-back, index 1 device nGnRE); TCR (48-bit VA on both halves, 4 KiB granules,
// write-back walks, inner shareable, the physical address size the CPU has). Clobbers x1, x2.
lintel_el1_setup:
    mov x1, #(3 << 20)
    msr cpacr_el1, x1
    ldr x1, =0x04ff
    msr mair_el1, x1
    ldr x1, =((16 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (16 << 16) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30))
    mrs x2, id_aa64mmfr0_el1
    and x2, x2, #7
    orr x1, x1, x2, lsl #32
    msr tcr_el1, x1
    isb
    ret

// Paging on with the TTBRs already loaded (the caller's code must be identity-mapped):
// SCTLR_EL1 = MMU, caches, EL0 may use DC ZVA, CTR_EL0, WFI/WFE and cache maintenance; the
// RES1 bits of ARMv8.0. Clobbers x1.
lintel_mmu_on:
    isb
    tlbi vmalle1
    dsb nsh
    isb
    ldr x1, =((1 << 0) | (1 << 2) | (1 << 12) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18) | (1 << 26) | (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29))
    msr sctlr_el1, x1
    isb
    ret

// A secondary CPU, started by PSCI CPU_ON at this physical address with the MMU off and x0 =
// the physical address of its start block (smp.rs `Start`): 0 the identity root (the image's
// first 4 GiB at their physical addresses), 8 the kernel's root, 16 its stack top, 24 its
// per-CPU block, 32 its CPU index, 40 the Rust entry `ap_main(index)`. Same EL1 state as the
// boot CPU, TTBR1 = the kernel's root, then on at the linked addresses.
.global lintel_secondary_entry
lintel_secondary_entry:
    msr daifset, #0xf
    mov x19, x0
    bl lintel_el2_to_el1
    bl lintel_el1_setup
    ldr x0, [x19, #0]
    msr ttbr0_el1, x0
    ldr x0, [x19, #8]
    msr ttbr1_el1, x0
    bl lintel_mmu_on
    ldr x1, =13f
    br x1
13: ldr x1, =0xffff800000000000     // PHYS_OFFSET: the block through the direct map
    add x19, x19, x1
    ldr x0, [x19, #16]
    mov sp, x0
    ldr x0, [x19, #24]
    msr tpidr_el1, x0
    ldr x0, [x19, #32]
    ldr x1, [x19, #40]
    blr x1
14: wfi
    b 14b
.ltorg

.section .data.boot, "aw"
.balign 4096
.global lintel_boot_root
lintel_boot_root:
    .zero 3 * 4096

.section .bss.boot, "aw", @nobits
.balign 16
lintel_boot_stack:
    .zero 65536
lintel_boot_stack_top:
