//! Lintel's hardware layer: the only crate with `unsafe` code. It boots the machine (PVH entry,
//! memory map, frame allocator, heap, GDT/IDT, timer), owns page tables, the user/kernel
//! boundary (user contexts, syscall entry, traps, user-memory copies) and kernel task switching,
//! and exposes all of it through safe APIs to the kernel crate above.
#![no_std]

extern crate alloc;

pub mod arch;
pub mod console;
pub mod mm;
pub mod pci;
pub mod task;
pub mod usercopy;
pub mod virtio_blk;

pub use arch::x86_64 as x86;
pub use arch::x86_64::trap::{set_user_fault_handler, ReturnReason, UserContext};

use core::sync::atomic::{AtomicBool, Ordering};

/// What the boot environment tells the kernel.
pub struct BootInfo {
    pub cmdline: &'static str,
    pub initrd: Option<&'static [u8]>,
    /// Usable RAM in bytes.
    pub memory: usize,
}

extern "Rust" {
    fn __lintel_main(info: BootInfo) -> !;
}

/// Declares the kernel's main function, called once the machine is set up.
#[macro_export]
macro_rules! entry_point {
    ($f:path) => {
        #[allow(unsafe_code)]
        #[no_mangle]
        fn __lintel_main(info: $crate::BootInfo) -> ! {
            let f: fn($crate::BootInfo) -> ! = $f;
            f(info)
        }
    };
}

#[repr(C)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
struct ModEntry {
    paddr: u64,
    size: u64,
    cmdline: u64,
    reserved: u64,
}

#[repr(C)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

static mut CPU0_TABLES: arch::x86_64::gdt::CpuTables = arch::x86_64::gdt::CpuTables::new();
static mut CPU0: arch::x86_64::trap::PerCpu = arch::x86_64::trap::PerCpu::new(0);
#[repr(C, align(16))]
struct Stack([u8; 16384]);
static mut TRAP_STACK: Stack = Stack([0; 16384]);
static mut DF_STACK: Stack = Stack([0; 16384]);

fn cstr_at(pa: u64) -> &'static str {
    if pa == 0 {
        return "";
    }
    let p = mm::phys_to_virt(pa as usize) as *const u8;
    let mut n = 0;
    // SAFETY: QEMU passes a NUL-terminated string in low RAM, inside the direct map; the scan is
    // bounded.
    unsafe {
        while n < 4096 && *p.add(n) != 0 {
            n += 1;
        }
        core::str::from_utf8(core::slice::from_raw_parts(p, n)).unwrap_or("")
    }
}

/// Rust entry from boot.S, on the boot stack, with the start-info physical address.
extern "C" fn boot_main(start_info_pa: u64) -> ! {
    arch::x86_64::serial::init();
    // SAFETY: QEMU's PVH loader put the start info in low RAM, inside the direct map, and the
    // structure is not modified afterwards.
    let si = unsafe { &*(mm::phys_to_virt(start_info_pa as usize) as *const StartInfo) };
    if si.magic != 0x336e_c578 {
        console::write_str("lintel: bad PVH start info magic\n");
        arch::x86_64::cpu::halt_forever();
    }
    let cmdline = cstr_at(si.cmdline_paddr);
    pci::set_rsdp(si.rsdp_paddr);
    let mut initrd = None;
    if si.nr_modules > 0 && si.modlist_paddr != 0 {
        // SAFETY: as for the start info.
        let m = unsafe { &*(mm::phys_to_virt(si.modlist_paddr as usize) as *const ModEntry) };
        if m.size > 0 && ((m.paddr + m.size) as usize) <= mm::DIRECT_MAP_LIMIT {
            initrd = Some((m.paddr as usize, m.size as usize));
        }
    }
    // SAFETY: linker symbols; only their addresses are used.
    let (kstart, kend) = unsafe {
        (
            mm::kernel_virt_to_phys(&__kernel_start as *const u8 as usize),
            mm::kernel_virt_to_phys(&__kernel_end as *const u8 as usize),
        )
    };
    // Usable RAM: memmap type 1 below the direct-map limit, minus low memory, the kernel, the
    // initrd and the start info page.
    let mut regions: alloc_free::Regions = alloc_free::Regions::new();
    let entries = if si.version >= 1 {
        si.memmap_entries as usize
    } else {
        0
    };
    for i in 0..entries.min(128) {
        // SAFETY: the memmap array has memmap_entries entries (bounded to 128) in low RAM.
        let e = unsafe {
            &*((mm::phys_to_virt(si.memmap_paddr as usize) as *const MemmapEntry).add(i))
        };
        if e.kind == 1 {
            let s = (e.addr as usize).max(0x10_0000);
            let end = ((e.addr + e.size) as usize).min(mm::DIRECT_MAP_LIMIT);
            regions.add(s, end);
        }
    }
    regions.remove(kstart, kend);
    if let Some((a, n)) = initrd {
        regions.remove(a, a + n);
    }
    regions.remove(
        start_info_pa as usize & !0xfff,
        (start_info_pa as usize & !0xfff) + 0x1000,
    );
    regions.align();
    let memory = regions.total();
    // Heap: a quarter of RAM (at least 16 MiB), taken from the largest region.
    let heap_size = (memory / 4).max(16 << 20) & !0xfff;
    let Some(heap_pa) = regions.take(heap_size) else {
        console::write_str("lintel: not enough memory for the kernel heap\n");
        arch::x86_64::cpu::halt_forever();
    };
    mm::init_heap(mm::phys_to_virt(heap_pa), heap_size);
    mm::init_frames(regions.as_slice());

    // SAFETY: boot CPU, single-threaded, interrupts off: these statics are touched only here.
    unsafe {
        let trap_top = core::ptr::addr_of!(TRAP_STACK) as u64 + 16384;
        let df_top = core::ptr::addr_of!(DF_STACK) as u64 + 16384;
        arch::x86_64::gdt::load(&mut *core::ptr::addr_of_mut!(CPU0_TABLES), trap_top, df_top);
        arch::x86_64::trap::init_idt();
        arch::x86_64::trap::init_cpu(&mut *core::ptr::addr_of_mut!(CPU0));
    }
    mm::paging_init();
    arch::x86_64::apic::init();
    task::init_boot_task();

    let initrd = initrd.map(|(a, n)| {
        // SAFETY: the initrd range is reserved (never handed to the allocator) and inside the
        // direct map; nothing writes to it.
        unsafe { core::slice::from_raw_parts(mm::phys_to_virt(a) as *const u8, n) }
    });
    let info = BootInfo {
        cmdline,
        initrd,
        memory,
    };
    // SAFETY: the kernel crate defines __lintel_main through `entry_point!`.
    unsafe { __lintel_main(info) }
}

/// Fixed-size list of physical ranges used before the heap exists.
mod alloc_free {
    pub struct Regions {
        r: [(usize, usize); 64],
        n: usize,
    }
    impl Regions {
        pub fn new() -> Self {
            Regions {
                r: [(0, 0); 64],
                n: 0,
            }
        }
        pub fn add(&mut self, s: usize, e: usize) {
            if s < e && self.n < 64 {
                self.r[self.n] = (s, e);
                self.n += 1;
            }
        }
        pub fn remove(&mut self, s: usize, e: usize) {
            let old = *self;
            self.n = 0;
            for &(a, b) in &old.r[..old.n] {
                if e <= a || s >= b {
                    self.add(a, b);
                } else {
                    self.add(a, s.max(a).min(b));
                    self.add(e.min(b).max(a), b);
                }
            }
        }
        pub fn align(&mut self) {
            for r in &mut self.r[..self.n] {
                r.0 = (r.0 + 0xfff) & !0xfff;
                r.1 &= !0xfff;
                if r.1 < r.0 {
                    r.1 = r.0;
                }
            }
        }
        pub fn total(&self) -> usize {
            self.r[..self.n].iter().map(|&(a, b)| b - a).sum()
        }
        pub fn take(&mut self, size: usize) -> Option<usize> {
            let i = (0..self.n).max_by_key(|&i| self.r[i].1 - self.r[i].0)?;
            let (a, b) = self.r[i];
            if b - a < size {
                return None;
            }
            self.r[i].0 = a + size;
            Some(a)
        }
        pub fn as_slice(&self) -> &[(usize, usize)] {
            &self.r[..self.n]
        }
    }
    impl Clone for Regions {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl Copy for Regions {}
}

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Powers the machine off, reporting `line` (e.g. `exit 0`) to the host tool on the control
/// channel first.
pub fn power_off(line: &str) -> ! {
    arch::x86_64::serial::debugcon_write(line.as_bytes());
    arch::x86_64::serial::debugcon_write(b"\n");
    arch::x86_64::serial::qemu_exit(0x10);
    arch::x86_64::cpu::halt_forever()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::x86_64::cpu::disable_interrupts();
    if !PANICKING.swap(true, Ordering::SeqCst) {
        console::force_unlock();
        println!("\nlintel: kernel panic: {}", info);
    }
    power_off("panic")
}

/// Waits for an interrupt (idle).
pub fn idle_wait() {
    arch::x86_64::cpu::idle_wait()
}

/// A hardware random 64-bit value when the CPU has one, else a TSC-derived value.
pub fn hw_random() -> u64 {
    arch::x86_64::cpu::rdrand().unwrap_or_else(|| {
        let t = arch::x86_64::cpu::rdtsc();
        t.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (t >> 17)
    })
}
