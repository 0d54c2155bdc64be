//! The user's extended register state (x87, SSE, AVX, AVX-512, MPX): what the kernel enables in
//! XCR0 at boot and the per-thread save area.
//!
//! XCR0 gets what Linux enables on the same CPU: every component of
//! `XFEATURE_MASK_USER_SUPPORTED` that CPUID leaf 0xD reports, except AMX tiles (they need
//! `ARCH_REQ_XCOMP_PERM`, which we refuse as Linux does on a CPU without dynamic features).
//! PKRU comes with CR4.PKE and Linux's initial rights (only key 0 open); every page has key 0
//! (no pkey_mprotect yet), and a fault the rights cause is SIGSEGV/SEGV_PKUERR in user mode and
//! EFAULT in a user copy.
//!
//! Save areas use the standard (non-compacted) format, sized by CPUID.(0xD,0).EBX for our
//! XCR0: it is the format of signal frames, ptrace's NT_X86_XSTATE and core dumps, so one image
//! serves all of them without conversion. XSAVEC/XSAVES would save memory with AVX-512 but every
//! user-visible copy would then need converting. A context switch uses XSAVEOPT (the CPU skips
//! components that are unchanged since their XRSTOR from the same area, or in their initial
//! state); every other save uses XSAVE, which writes the whole image. Without XSAVE the CPU's
//! FXSAVE image is used, with a zeroed XSAVE header after it.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use super::cpu::cpuid;

/// FP and SSE: the legacy FXSAVE part, always present.
pub(crate) const XFEATURE_MASK_FPSSE: u64 = 0x3;
/// Linux's XFEATURE_MASK_USER_SUPPORTED without XTILE (18): x87, SSE, AVX, MPX bounds and
/// configuration, AVX-512 opmask, ZMM_Hi256 and Hi16_ZMM, and PKRU (when CR4.PKE is on).
const USER_SUPPORTED: u64 = 0xff | XFEATURE_MASK_PKRU;
const XFEATURE_PKRU: u32 = 9;
const XFEATURE_MASK_PKRU: u64 = 1 << XFEATURE_PKRU;
/// Linux's init_pkru_value: every key but 0 denies access, so memory given a key by
/// pkey_mprotect is closed until the thread opens it.
const INIT_PKRU: u32 = 0x5555_5554;
/// Bytes of the legacy region and of the XSAVE header after it.
pub(crate) const LEGACY_SIZE: usize = 512;
/// Bytes of the FP register image ptrace exchanges (NT_PRFPREG): the FXSAVE region.
pub const FPREGS_SIZE: usize = LEGACY_SIZE;
const HEADER_SIZE: usize = 64;
/// Offset of MXCSR and MXCSR_MASK in the legacy region.
const MXCSR_OFF: usize = 24;
const MXCSR_MASK_OFF: usize = 28;

const MODE_FXSR: u8 = 0;
const MODE_XSAVE: u8 = 1;
const MODE_XSAVEOPT: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(MODE_FXSR);
static XCR0: AtomicU64 = AtomicU64::new(XFEATURE_MASK_FPSSE);
static SIZE: AtomicUsize = AtomicUsize::new(LEGACY_SIZE + HEADER_SIZE);
static MXCSR_MASK: AtomicU32 = AtomicU32::new(0xffbf);
/// Where each enabled component beyond x87 and SSE sits in the standard image: (bit, offset,
/// size) from CPUID.(0xD,i), in offset order. The bytes between them belong to components the
/// CPU lacks or we do not enable, and no instruction touches them.
static COMPONENTS: spin::Once<Vec<Component>> = spin::Once::new();

/// One state component's place in the standard-format image.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Component {
    pub(crate) bit: u32,
    pub(crate) offset: usize,
    pub(crate) size: usize,
}

/// The initial image, built once: execve and every handler start from it.
static INITIAL: spin::Once<FpuState> = spin::Once::new();

const CR4_OSXSAVE: u64 = 1 << 18;
const CR4_PKE: u64 = 1 << 22;

/// Turns on, on a secondary CPU, the same XSAVE components the boot CPU chose in [`init`]
/// (every CPU of the machine has the same CPUID, so the image layout is shared).
pub(crate) fn init_secondary() {
    if MODE.load(Ordering::Relaxed) == MODE_FXSR {
        return;
    }
    let xcr0 = XCR0.load(Ordering::Relaxed);
    let pke = if xcr0 & XFEATURE_MASK_PKRU != 0 {
        CR4_PKE
    } else {
        0
    };
    // SAFETY: the boot CPU checked that the CPU has XSAVE (and PKU when PKRU is in XCR0) and
    // chose an XCR0 that XSETBV accepts; this CPU is identical and runs no user code yet.
    unsafe {
        let cr4: u64;
        core::arch::asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
        core::arch::asm!("mov cr4, {}", in(reg) cr4 | CR4_OSXSAVE | pke, options(nostack, preserves_flags));
        core::arch::asm!("xsetbv", in("ecx") 0u32, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nomem, nostack, preserves_flags));
    }
}

/// Enables XSAVE and every user state component we support (boot CPU, before any task exists).
pub(crate) fn init() {
    let (_, _, ecx1, _) = cpuid(1, 0);
    if ecx1 & (1 << 26) != 0 {
        let (eax, _, _, edx) = cpuid(0xd, 0);
        let offered = ((edx as u64) << 32) | eax as u64;
        let mut xcr0 = offered & USER_SUPPORTED | XFEATURE_MASK_FPSSE;
        // XSETBV takes the MPX pair and the three AVX-512 components only together (and
        // AVX-512 only with AVX); a CPU offering part of a group gets none of it.
        if xcr0 & 0x18 != 0x18 {
            xcr0 &= !0x18;
        }
        if xcr0 & 0xe0 != 0xe0 || xcr0 & 0x4 == 0 {
            xcr0 &= !0xe0;
        }
        // Protection keys, as Linux turns them on: CR4.PKE (CPUID then shows OSPKE) and PKRU
        // in XCR0, both or neither.
        let pku = cpuid(7, 0).2 & (1 << 3) != 0;
        if pku && xcr0 & XFEATURE_MASK_PKRU != 0 {
            // SAFETY: the CPU has protection keys (CPUID.7:ECX.PKU). With every page on key 0
            // and key 0 open in the initial PKRU, nothing the kernel or a program does changes.
            unsafe {
                let cr4: u64;
                core::arch::asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
                core::arch::asm!("mov cr4, {}", in(reg) cr4 | CR4_PKE, options(nostack, preserves_flags));
            }
        } else {
            xcr0 &= !XFEATURE_MASK_PKRU;
        }
        // SAFETY: the CPU has XSAVE (CPUID.1:ECX.XSAVE), so CR4.OSXSAVE exists; XCR0 holds
        // only components CPUID.(0xD,0) reports, with x87 and SSE, and AVX only with SSE:
        // what XSETBV accepts. The kernel itself never uses these registers.
        unsafe {
            let cr4: u64;
            core::arch::asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
            core::arch::asm!("mov cr4, {}", in(reg) cr4 | CR4_OSXSAVE, options(nostack, preserves_flags));
            core::arch::asm!("xsetbv", in("ecx") 0u32, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nomem, nostack, preserves_flags));
        }
        // EBX now gives the standard-format size for the enabled components.
        let (_, ebx, _, _) = cpuid(0xd, 0);
        let size = (ebx as usize).max(LEGACY_SIZE + HEADER_SIZE);
        let (eax1, _, _, _) = cpuid(0xd, 1);
        XCR0.store(xcr0, Ordering::Relaxed);
        SIZE.store(size, Ordering::Relaxed);
        let mode = if eax1 & 1 != 0 {
            MODE_XSAVEOPT
        } else {
            MODE_XSAVE
        };
        MODE.store(mode, Ordering::Relaxed);
        COMPONENTS.call_once(|| {
            let mut v: Vec<Component> = (2..64u32)
                .filter(|&i| xcr0 & (1 << i) != 0)
                .map(|i| {
                    let (len, off, _, _) = cpuid(0xd, i);
                    Component {
                        bit: i,
                        offset: off as usize,
                        size: len as usize,
                    }
                })
                .collect();
            v.sort_by_key(|c| c.offset);
            v
        });
    }
    let mut probe = FpuState::zeroed();
    // SAFETY: the buffer is at least 576 bytes and 64-aligned.
    unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) probe.as_mut_ptr(), options(nostack)) };
    let mask = probe.get_u32(MXCSR_MASK_OFF);
    if mask != 0 {
        MXCSR_MASK.store(mask, Ordering::Relaxed);
    }
}

/// The enabled components beyond x87 and SSE, in image order (none without XSAVE).
pub(crate) fn components() -> &'static [Component] {
    COMPONENTS.get().map_or(&[], |v| v.as_slice())
}

/// The user state components enabled in XCR0 (x87 and SSE alone without XSAVE).
pub(crate) fn xfeatures() -> u64 {
    XCR0.load(Ordering::Relaxed)
}

/// Bytes of the standard-format XSAVE image for [`xfeatures`] (512 without XSAVE).
pub(crate) fn image_size() -> usize {
    if uses_xsave() {
        SIZE.load(Ordering::Relaxed)
    } else {
        LEGACY_SIZE
    }
}

pub(crate) fn uses_xsave() -> bool {
    MODE.load(Ordering::Relaxed) != MODE_FXSR
}

/// `_fpx_sw_bytes` in the legacy region's software-reserved bytes, and the two magic numbers
/// of a user-visible XSAVE image.
pub(crate) const SW_RESERVED_OFF: usize = 464;
pub(crate) const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
pub(crate) const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;

/// Fills `sw_reserved` of a user-visible image of `img.len()` bytes (Linux's save_sw_bytes):
/// MAGIC1, the size with MAGIC2 after the image, the enabled components, the image size.
pub(crate) fn put_sw_bytes(img: &mut [u8]) {
    let size = img.len() as u32;
    let mut sw = [0u8; 48];
    sw[0..4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    sw[4..8].copy_from_slice(&(size + 4).to_le_bytes());
    sw[8..16].copy_from_slice(&xfeatures().to_le_bytes());
    sw[16..20].copy_from_slice(&size.to_le_bytes());
    if let Some(r) = img.get_mut(SW_RESERVED_OFF..SW_RESERVED_OFF + 48) {
        r.copy_from_slice(&sw);
    }
}

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Chunk([u8; 64]);

/// A user thread's extended register state: a 64-byte aligned, standard-format XSAVE image
/// (the FXSAVE image and a zero header without XSAVE).
#[derive(Clone)]
pub struct FpuState(Box<[Chunk]>);

/// An image the CPU refused to load (reserved bits in MXCSR or in the XSAVE header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadImage;

// Loads of images that may be malformed: a #GP on the load goes to the fixup through the
// exception table (as the user-copy routine's page faults do), which returns 1.
core::arch::global_asm!(
    ".text",
    ".global lintel_xrstor_checked",
    "lintel_xrstor_checked:",
    "    mov eax, esi",
    "lintel_xrstor_insn:",
    "    xrstor64 [rdi]",
    "    xor eax, eax",
    "    ret",
    "lintel_xrstor_fail:",
    "    mov eax, 1",
    "    ret",
    ".global lintel_fxrstor_checked",
    "lintel_fxrstor_checked:",
    "lintel_fxrstor_insn:",
    "    fxrstor64 [rdi]",
    "    xor eax, eax",
    "    ret",
    "lintel_fxrstor_fail:",
    "    mov eax, 1",
    "    ret",
    ".pushsection .ex_table, \"a\"",
    ".balign 8",
    "    .quad lintel_xrstor_insn",
    "    .quad lintel_xrstor_fail",
    "    .quad lintel_fxrstor_insn",
    "    .quad lintel_fxrstor_fail",
    ".popsection",
);

extern "C" {
    fn lintel_xrstor_checked(buf: *const u8, lo: u32, hi: u32) -> u64;
    fn lintel_fxrstor_checked(buf: *const u8) -> u64;
}

impl FpuState {
    fn zeroed() -> FpuState {
        let bytes = SIZE.load(Ordering::Relaxed).max(LEGACY_SIZE + HEADER_SIZE);
        FpuState(vec![Chunk([0; 64]); bytes.div_ceil(64)].into_boxed_slice())
    }

    fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr() as *const u8
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr() as *mut u8
    }

    fn all(&self) -> &[u8] {
        // SAFETY: the chunks are plain bytes laid out contiguously (repr(C), size 64).
        unsafe { core::slice::from_raw_parts(self.as_ptr(), self.0.len() * 64) }
    }

    fn all_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `all`, uniquely borrowed.
        unsafe { core::slice::from_raw_parts_mut(self.as_mut_ptr(), self.0.len() * 64) }
    }

    fn get_u32(&self, off: usize) -> u32 {
        let b = self.all();
        u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
    }

    fn set_u32(&mut self, off: usize, v: u32) {
        self.all_mut()[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn xstate_bv(&self) -> u64 {
        let b = self.all();
        u64::from_le_bytes(b[LEGACY_SIZE..LEGACY_SIZE + 8].try_into().unwrap_or([0; 8]))
    }

    fn set_xstate_bv(&mut self, v: u64) {
        self.all_mut()[LEGACY_SIZE..LEGACY_SIZE + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// The state a new program starts with (FCW 0x37f, MXCSR 0x1f80, PKRU with only key 0
    /// open as Linux sets it, every other component in its initial state), as after `execve`
    /// and at a handler's start.
    pub fn initial() -> FpuState {
        let mut s = FpuState::zeroed();
        s.all_mut()[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        s.set_u32(MXCSR_OFF, 0x1f80);
        s.set_u32(MXCSR_MASK_OFF, MXCSR_MASK.load(Ordering::Relaxed));
        if let Some(c) = components().iter().find(|c| c.bit == XFEATURE_PKRU) {
            if c.offset + 4 <= image_size() {
                s.set_u32(c.offset, INIT_PKRU);
                s.set_xstate_bv(XFEATURE_MASK_PKRU);
            }
        }
        s
    }

    /// Puts the CPU's registers in the initial state (execve, a handler's start).
    pub fn load_initial() {
        let init = INITIAL.call_once(FpuState::initial);
        // An image from `initial` always loads.
        let _ = init.try_restore(xfeatures());
    }

    /// The live state of the current CPU (the current user thread's: the kernel never uses the
    /// FPU), as a complete image.
    pub fn save_current() -> FpuState {
        let mut s = FpuState::zeroed();
        s.save(false);
        s
    }

    /// Stores the live state into `self` on a context switch: with XSAVEOPT, which may skip
    /// what has not changed since `self` was loaded.
    pub(crate) fn save_into(&mut self) {
        self.save(true);
    }

    fn save(&mut self, optimised: bool) {
        let mask = xfeatures();
        let p = self.as_mut_ptr();
        // SAFETY: the buffer is 64-aligned and at least the size CPUID gives for XCR0 (or 512
        // bytes for FXSAVE); the instruction matches the CPU's features (MODE).
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                MODE_XSAVEOPT if optimised => {
                    core::arch::asm!("xsaveopt64 [{}]", in(reg) p, in("eax") mask as u32, in("edx") (mask >> 32) as u32, options(nostack))
                }
                MODE_XSAVE | MODE_XSAVEOPT => {
                    core::arch::asm!("xsave64 [{}]", in(reg) p, in("eax") mask as u32, in("edx") (mask >> 32) as u32, options(nostack))
                }
                _ => core::arch::asm!("fxsave64 [{}]", in(reg) p, options(nostack)),
            }
        }
    }

    /// Loads this state into the CPU. Only for images the kernel made or checked (a thread's
    /// own saved state); user-supplied ones go through [`FpuState::try_restore`].
    pub fn restore_current(&self) {
        // Without `try_restore`'s MXCSR check: every image the kernel keeps went through it or
        // came from the CPU (`save`, `initial` and the setters, which check MXCSR as Linux
        // does). The CPU's own checks still go through the exception table. A thread switch
        // loads an image each time (issue 21: the check was 5 blocks of its ~16).
        if self.load(xfeatures()).is_err() {
            // Cannot happen for images from `save`/`initial`; fall back to the initial state
            // rather than run the thread on whatever the CPU holds.
            FpuState::load_initial();
        }
    }

    /// Loads the components in `mask` (with x87 and SSE, whatever the mask) from this image;
    /// components outside it are unchanged. Fails, leaving the registers undefined, when the
    /// CPU refuses the image (reserved MXCSR or header bits, components not in XCR0).
    pub fn try_restore(&self, mask: u64) -> Result<(), BadImage> {
        // Reserved MXCSR bits make real CPUs raise #GP; QEMU's TCG loads them silently, so the
        // check is ours, for the same answer everywhere.
        if self.get_u32(MXCSR_OFF) & !MXCSR_MASK.load(Ordering::Relaxed) != 0 {
            return Err(BadImage);
        }
        self.load(mask)
    }

    /// XRSTOR (or FXRSTOR) of the components in `mask` from this image, a fault caught.
    fn load(&self, mask: u64) -> Result<(), BadImage> {
        let p = self.as_ptr();
        // SAFETY: the buffer is 64-aligned and complete for XCR0; a #GP from a malformed image
        // is caught by the exception table entry of the instruction and reported as nonzero.
        let failed = unsafe {
            if uses_xsave() {
                lintel_xrstor_checked(p, mask as u32, (mask >> 32) as u32)
            } else {
                lintel_fxrstor_checked(p)
            }
        };
        if failed == 0 {
            Ok(())
        } else {
            Err(BadImage)
        }
    }

    /// The legacy FXSAVE region (x87, MXCSR, XMM registers) as user space sees it
    /// (PTRACE_GETFPREGS, NT_PRFPREG), with components in their initial state filled in.
    pub fn fxsave_image(&self) -> [u8; LEGACY_SIZE] {
        let mut out = [0u8; LEGACY_SIZE];
        out.copy_from_slice(&self.normalised()[..LEGACY_SIZE]);
        out
    }

    /// The whole standard-format XSAVE image (NT_X86_XSTATE, core dumps), with components in
    /// their initial state filled in and `sw_reserved` as Linux's copy_xstate_to_uabi_buf
    /// writes it: XCR0 in its first word (gdb reads it there), the rest zero. Not the signal
    /// frame's `_fpx_sw_bytes`. Its length is the image size for this CPU (512 without XSAVE,
    /// and then no `sw_reserved`).
    pub fn xsave_image(&self) -> Vec<u8> {
        let mut img = self.normalised();
        if uses_xsave() {
            if let Some(r) = img.get_mut(SW_RESERVED_OFF..SW_RESERVED_OFF + 48) {
                r.fill(0);
                r[..8].copy_from_slice(&xfeatures().to_le_bytes());
            }
        }
        img
    }

    /// NT_PRFPREG and PTRACE_GETFPREGS: the FXSAVE region.
    pub fn fpregs(&self) -> Vec<u8> {
        self.fxsave_image().to_vec()
    }

    /// Replaces the first `b.len()` bytes of the FXSAVE region (PTRACE_SETFPREGS, NT_PRFPREG);
    /// MXCSR's reserved bits must stay clear (the CPU would fault on them), as Linux checks.
    pub fn set_fpregs(&mut self, b: &[u8]) -> Result<(), BadImage> {
        let mut img = self.fxsave_image();
        let n = b.len().min(LEGACY_SIZE);
        img[..n].copy_from_slice(&b[..n]);
        let mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]);
        if mxcsr & !0xffff != 0 {
            return Err(BadImage);
        }
        self.set_fxsave_image(&img);
        Ok(())
    }

    /// Replaces the legacy region (PTRACE_SETFPREGS): MXCSR loses the bits the CPU does not
    /// have, and x87 and SSE count as in use, as in Linux's copy_from_buffer.
    pub fn set_fxsave_image(&mut self, img: &[u8; LEGACY_SIZE]) {
        self.all_mut()[..LEGACY_SIZE].copy_from_slice(img);
        let mxcsr = self.get_u32(MXCSR_OFF) & MXCSR_MASK.load(Ordering::Relaxed);
        self.set_u32(MXCSR_OFF, mxcsr);
        if uses_xsave() {
            let bv = self.xstate_bv() | XFEATURE_MASK_FPSSE;
            self.set_xstate_bv(bv);
        }
    }

    /// Replaces the whole image (PTRACE_SETREGSET NT_X86_XSTATE) after Linux's checks of
    /// copy_uabi_to_xstate: a header naming only enabled components, no compacted format, zero
    /// reserved bytes, a valid MXCSR. Shorter input leaves the rest unchanged.
    pub fn set_xsave_image(&mut self, img: &[u8]) -> Result<(), BadImage> {
        let size = image_size();
        if img.len() < LEGACY_SIZE {
            return Err(BadImage);
        }
        let mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]);
        if mxcsr & !MXCSR_MASK.load(Ordering::Relaxed) != 0 {
            return Err(BadImage);
        }
        if uses_xsave() {
            let Some(hdr) = img.get(LEGACY_SIZE..LEGACY_SIZE + HEADER_SIZE) else {
                return Err(BadImage);
            };
            let bv = u64::from_le_bytes(hdr[..8].try_into().unwrap_or([0xff; 8]));
            if bv & !xfeatures() != 0 || hdr[8..].iter().any(|&b| b != 0) {
                return Err(BadImage);
            }
        }
        let n = img.len().min(size);
        self.all_mut()[..n].copy_from_slice(&img[..n]);
        Ok(())
    }

    /// A zeroed image for the signal code to fill from a frame.
    pub(crate) fn blank() -> FpuState {
        FpuState::zeroed()
    }

    /// The first [`image_size`] bytes, as saved.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.all()[..image_size()]
    }

    pub(crate) fn raw_mut(&mut self) -> &mut [u8] {
        let n = image_size();
        &mut self.all_mut()[..n]
    }

    pub(crate) fn set_raw_xstate_bv(&mut self, v: u64) {
        self.set_xstate_bv(v)
    }

    pub(crate) fn raw_xstate_bv(&self) -> u64 {
        self.xstate_bv()
    }

    fn normalised(&self) -> Vec<u8> {
        let mut out = self.all()[..image_size()].to_vec();
        if !uses_xsave() {
            return out;
        }
        let bv = self.xstate_bv();
        if bv & 1 == 0 {
            // x87 initial state: FCW 0x37f, everything else zero; MXCSR stays.
            out[0..MXCSR_OFF].fill(0);
            out[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
            out[32..160].fill(0);
        }
        if bv & 2 == 0 {
            out[160..416].fill(0);
        }
        for c in components() {
            if bv & (1 << c.bit) == 0 {
                if let Some(r) = out.get_mut(c.offset..c.offset + c.size) {
                    r.fill(0);
                }
            }
        }
        out
    }
}
