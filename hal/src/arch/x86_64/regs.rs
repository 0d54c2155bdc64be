//! The register views a debugger reads and writes through ptrace: `user_regs_struct`
//! (NT_PRSTATUS, GETREGS), word offsets into `struct user` (PEEKUSER/POKEUSER) and the trace
//! flag for single-stepping. Only layout lives here; the kernel decides when they apply.

use super::debugreg::DebugRegs;
use super::gdt;
use super::mmu::USER_TOP;
use super::trap::UserContext;

/// A register value the CPU would refuse, or an offset with no register (EIO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRegister;

/// Words in `user_regs_struct`.
pub const REGS_WORDS: usize = 27;
/// Index of `orig_rax` (the system call number at a syscall stop) in `user_regs_struct`.
pub const REGS_ORIG_NR: usize = 15;
/// `offsetof(struct user, u_debugreg)`: eight debug registers follow.
const DEBUGREG_OFFSET: usize = 848;
/// `sizeof(struct user)`.
pub const USER_AREA_SIZE: usize = 928;
/// The trap flag in RFLAGS.
const TF: u64 = 1 << 8;
/// The selectors Linux reports for a 64-bit process (its GDT's __USER_CS and __USER_DS):
/// debuggers tell a 64-bit tracee from a 32-bit one by them (gdb compares cs with 0x33), so
/// they are what the tracer sees whatever our own GDT uses, and writes may give either.
const LINUX_USER_CS: u64 = 0x33;
const LINUX_USER_DS: u64 = 0x2b;
const USER_CS: u64 = gdt::USER_CS as u64;
const USER_DS: u64 = gdt::USER_DS as u64;

impl UserContext {
    /// `user_regs_struct` with `orig` as `orig_rax`.
    pub fn user_regs(&self, orig: u64) -> [u64; REGS_WORDS] {
        [
            self.r15,
            self.r14,
            self.r13,
            self.r12,
            self.rbp,
            self.rbx,
            self.r11,
            self.r10,
            self.r9,
            self.r8,
            self.rax,
            self.rcx,
            self.rdx,
            self.rsi,
            self.rdi,
            orig,
            self.rip,
            LINUX_USER_CS,
            self.rflags,
            self.rsp,
            LINUX_USER_DS,
            self.fs_base,
            self.gs_base,
            0,
            0,
            0,
            0,
        ]
    }

    /// Writes one word of `user_regs_struct` (POKEUSER, SETREGS). Returns Err for values the
    /// CPU would refuse on the way back to user mode (EIO on Linux): a non-canonical base or
    /// a segment selector other than the user ones. `orig` receives `orig_rax`.
    pub fn set_user_reg(
        &mut self,
        index: usize,
        v: u64,
        orig: &mut u64,
    ) -> Result<(), BadRegister> {
        let canonical = (v as usize) < USER_TOP;
        match index {
            0 => self.r15 = v,
            1 => self.r14 = v,
            2 => self.r13 = v,
            3 => self.r12 = v,
            4 => self.rbp = v,
            5 => self.rbx = v,
            6 => self.r11 = v,
            7 => self.r10 = v,
            8 => self.r9 = v,
            9 => self.r8 = v,
            10 => self.rax = v,
            11 => self.rcx = v,
            12 => self.rdx = v,
            13 => self.rsi = v,
            14 => self.rdi = v,
            REGS_ORIG_NR => *orig = v,
            16 => self.rip = v,
            17 if v == LINUX_USER_CS || v == USER_CS => {}
            18 => self.rflags = (self.rflags & !USER_FLAGS) | (v & USER_FLAGS),
            19 => self.rsp = v,
            20 if v == LINUX_USER_DS || v == USER_DS || v == 0 => {}
            21 if canonical => self.fs_base = v,
            22 if canonical => self.gs_base = v,
            23..=26 if v == 0 || v == LINUX_USER_DS || v == USER_DS => {}
            _ => return Err(BadRegister),
        }
        self.force_full_restore();
        Ok(())
    }

    /// Replaces every register with `regs` (`orig` receives `orig_rax`); on an invalid
    /// value nothing changes.
    pub fn set_user_regs(
        &mut self,
        regs: &[u64; REGS_WORDS],
        orig: &mut u64,
    ) -> Result<(), BadRegister> {
        let mut copy = *self;
        let mut o = *orig;
        for (i, v) in regs.iter().enumerate() {
            copy.set_user_reg(i, *v, &mut o)?;
        }
        *self = copy;
        *orig = o;
        Ok(())
    }

    /// PEEKUSER: the word at byte `offset` of `struct user` (None: EIO). Only the registers
    /// and the debug registers have contents.
    pub fn peek_user(&self, offset: usize, orig: u64, dbg: &DebugRegs) -> Option<u64> {
        if !offset.is_multiple_of(8) || offset >= USER_AREA_SIZE {
            return None;
        }
        let i = offset / 8;
        if i < REGS_WORDS {
            return self.user_regs(orig).get(i).copied();
        }
        match offset.checked_sub(DEBUGREG_OFFSET).map(|o| o / 8) {
            Some(n @ 0..=3) => dbg.addr.get(n).copied(),
            Some(6) => Some(dbg.dr6),
            Some(7) => Some(dbg.dr7),
            _ => Some(0),
        }
    }

    /// POKEUSER: writes a register word or a debug register (DR4 and DR5 do not exist, DR7
    /// must be a valid control word); the rest of `struct user` refuses writes, as on Linux.
    pub fn poke_user(
        &mut self,
        offset: usize,
        v: u64,
        orig: &mut u64,
        dbg: &mut DebugRegs,
    ) -> Result<(), BadRegister> {
        if !offset.is_multiple_of(8) || offset >= USER_AREA_SIZE {
            return Err(BadRegister);
        }
        let i = offset / 8;
        if i < REGS_WORDS {
            return self.set_user_reg(i, v, orig);
        }
        match offset.checked_sub(DEBUGREG_OFFSET).map(|o| o / 8) {
            Some(n @ 0..=3) if (v as usize) < USER_TOP => {
                if let Some(a) = dbg.addr.get_mut(n) {
                    *a = v;
                }
                Ok(())
            }
            Some(6) => {
                dbg.dr6 = v;
                Ok(())
            }
            Some(7) if DebugRegs::valid_dr7(v) => {
                dbg.dr7 = v;
                Ok(())
            }
            _ => Err(BadRegister),
        }
    }

    /// Sets or clears the trace flag: with it, the CPU traps after one user instruction.
    pub fn set_single_step(&mut self, on: bool) {
        if on {
            self.rflags |= TF;
        } else {
            self.rflags &= !TF;
        }
        self.force_full_restore();
    }
}

/// The RFLAGS bits a tracer may change (CF PF AF ZF SF TF DF OF AC ID), as `run` keeps.
const USER_FLAGS: u64 = 0xcd5 | TF | (1 << 18) | (1 << 21);
