//! GDT and TSS. One set per CPU: the TSS holds the stack the CPU switches to when an interrupt
//! or exception arrives from user mode, and the double-fault and NMI stacks.

use core::mem::size_of;

pub(crate) const KERNEL_CS: u16 = 0x08;
pub(crate) const KERNEL_DS: u16 = 0x10;
pub(crate) const USER_DS: u16 = 0x18 | 3;
pub(crate) const USER_CS: u16 = 0x20 | 3;
const TSS_SEL: u16 = 0x28;

#[repr(C, packed)]
pub struct Tss {
    _r0: u32,
    pub rsp0: u64,
    _rsp1: u64,
    _rsp2: u64,
    _r1: u64,
    pub ist: [u64; 7],
    _r2: u64,
    _r3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
pub struct CpuTables {
    gdt: [u64; 7],
    pub tss: Tss,
}

impl Default for CpuTables {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuTables {
    pub const fn new() -> Self {
        CpuTables {
            gdt: [0; 7],
            tss: Tss {
                _r0: 0,
                rsp0: 0,
                _rsp1: 0,
                _rsp2: 0,
                _r1: 0,
                ist: [0; 7],
                _r2: 0,
                _r3: 0,
                iomap_base: size_of::<Tss>() as u16,
            },
        }
    }
}

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Loads this CPU's GDT and TSS. `tables` must live forever (it is a static per-CPU slot).
pub(crate) fn load(
    tables: &'static mut CpuTables,
    trap_stack_top: u64,
    df_stack_top: u64,
    nmi_stack_top: u64,
) {
    tables.tss.rsp0 = trap_stack_top;
    tables.tss.ist[0] = df_stack_top;
    tables.tss.ist[1] = nmi_stack_top;
    let tss_addr = &tables.tss as *const Tss as u64;
    let limit = (size_of::<Tss>() - 1) as u64;
    tables.gdt = [
        0,
        0x00af_9a00_0000_ffff, // kernel code
        0x00cf_9200_0000_ffff, // kernel data
        0x00cf_f200_0000_ffff, // user data
        0x00af_fa00_0000_ffff, // user code (64-bit)
        (limit & 0xffff)
            | ((tss_addr & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (((tss_addr >> 24) & 0xff) << 56),
        tss_addr >> 32,
    ];
    let ptr = Pointer {
        limit: (size_of::<[u64; 7]>() - 1) as u16,
        base: tables.gdt.as_ptr() as u64,
    };
    // SAFETY: the GDT is static and its selectors match the ones used by every entry path; the
    // data segment registers are reloaded and CS is reloaded with a far return.
    unsafe {
        core::arch::asm!(
            "lgdt [{ptr}]",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            ds = in(reg) KERNEL_DS as u64,
            cs = in(reg) KERNEL_CS as u64,
            tss = in(reg) TSS_SEL as u64,
            tmp = out(reg) _,
        );
    }
}
