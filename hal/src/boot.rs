//! Boot information and the arch-neutral part of bring-up. A port's entry code (on x86_64 the
//! PVH entry, `arch/x86_64/boot.rs`) reads what the firmware or loader says (command line,
//! initrd, usable RAM) into a [`Firmware`] and calls [`start`], which sets up the heap, the
//! frame allocator, the CPU, paging and the timer, then calls the kernel's main function.

use crate::{arch, mm, task};

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

/// What a port's entry code found: the command line, the initrd's physical range and the
/// usable RAM (already without the kernel image, the initrd and the loader's own data).
pub(crate) struct Firmware {
    pub cmdline: &'static str,
    pub initrd: Option<(usize, usize)>,
    pub regions: Regions,
}

/// Brings the machine up from what the entry code found and enters the kernel.
pub(crate) fn start(fw: Firmware) -> ! {
    let mut regions = fw.regions;
    regions.align();
    let memory = regions.total();
    // Heap: a quarter of RAM (at least 16 MiB), taken from the largest region.
    let heap_size = (memory / 4).max(16 << 20) & !0xfff;
    let Some(heap_pa) = regions.take(heap_size) else {
        crate::console::write_str("lintel: not enough memory for the kernel heap\n");
        arch::cpu::halt_forever();
    };
    mm::init_heap(mm::phys_to_virt(heap_pa), heap_size);
    mm::init_frames(regions.as_slice());

    arch::init_cpu();
    mm::paging_init();
    arch::init_timer();
    task::init_boot_task();
    crate::smp::start();

    let initrd = fw.initrd.map(|(a, n)| {
        // SAFETY: the initrd range is reserved (never handed to the allocator) and inside the
        // direct map; nothing writes to it.
        unsafe { core::slice::from_raw_parts(mm::phys_to_virt(a) as *const u8, n) }
    });
    let info = BootInfo {
        cmdline: fw.cmdline,
        initrd,
        memory,
    };
    // SAFETY: the kernel crate defines __lintel_main through `entry_point!`.
    unsafe { __lintel_main(info) }
}

/// Fixed-size list of physical ranges used before the heap exists.
pub(crate) use regions::Regions;
mod regions {
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
