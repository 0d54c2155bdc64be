//! seccomp filters: Linux's classic-BPF checks (`bpf_check_classic` and seccomp's own opcode
//! list) and interpreter over `struct seccomp_data`, and how a stack of filters decides one
//! system call. Kept apart from the kernel so that every rule is tested on the host.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

/// The errno a bad filter gets (EINVAL), kept as a plain error so the crate needs no ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterError {
    /// The program breaks a rule: EINVAL.
    Invalid,
    /// The filters of one thread would exceed MAX_INSNS_PER_PATH: ENOMEM.
    TooLong,
}

pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// Longest program (BPF_MAXINSNS), and the most instructions one thread's filters may add up
/// to, counting 4 extra per filter as Linux does.
pub const BPF_MAXINSNS: usize = 4096;
pub const MAX_INSNS_PER_PATH: usize = 1 << 15;

/// `sizeof(struct seccomp_data)`: nr, arch, instruction_pointer, args[6].
pub const SECCOMP_DATA_SIZE: u32 = 64;

/// One `struct sock_filter` (8 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl Insn {
    pub fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// What a filter sees of a system call.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 32-bit word at byte offset `k` (checked to be aligned and inside).
    fn word(&self, k: u32) -> u32 {
        match k {
            0 => self.nr as u32,
            4 => self.arch,
            8 => self.instruction_pointer as u32,
            12 => (self.instruction_pointer >> 32) as u32,
            _ => {
                let i = ((k - 16) / 8) as usize;
                let a = self.args.get(i).copied().unwrap_or(0);
                if (k - 16).is_multiple_of(8) {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
        }
    }
}

// Classic BPF encoding.
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const IMM: u16 = 0x00;
const ABS: u16 = 0x20;
const MEM: u16 = 0x60;
const LEN: u16 = 0x80;
const K: u16 = 0x00;
const X: u16 = 0x08;
const A: u16 = 0x10;
const ADD: u16 = 0x00;
const SUB: u16 = 0x10;
const MUL: u16 = 0x20;
const DIV: u16 = 0x30;
const OR: u16 = 0x40;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const RSH: u16 = 0x70;
const NEG: u16 = 0x80;
const XOR: u16 = 0xa0;
const JA: u16 = 0x00;
const JEQ: u16 = 0x10;
const JGT: u16 = 0x20;
const JGE: u16 = 0x30;
const JSET: u16 = 0x40;
const TAX: u16 = 0x00;
const TXA: u16 = 0x80;
/// BPF_MEMWORDS: the scratch memory slots.
const MEMWORDS: u32 = 16;

/// One checked filter program.
#[derive(Debug)]
pub struct Program {
    insns: Vec<Insn>,
}

/// Whether seccomp accepts this opcode (seccomp_check_filter's list, after
/// bpf_check_classic's table).
fn allowed(code: u16) -> bool {
    let alu = |op| [ALU | op | K, ALU | op | X];
    let jmp = |op| [JMP | op | K, JMP | op | X];
    let ok: &[u16] = &[
        LD | W | ABS,
        LD | W | LEN,
        LDX | W | LEN,
        RET | K,
        RET | A,
        ALU | NEG,
        LD | IMM,
        LDX | IMM,
        MISC | TAX,
        MISC | TXA,
        LD | MEM,
        LDX | MEM,
        ST,
        STX,
        JMP | JA,
    ];
    ok.contains(&code)
        || [ADD, SUB, MUL, DIV, AND, OR, XOR, LSH, RSH]
            .iter()
            .any(|&op| alu(op).contains(&code))
        || [JEQ, JGE, JGT, JSET]
            .iter()
            .any(|&op| jmp(op).contains(&code))
}

impl Program {
    /// Checks a program as Linux does before installing it: EINVAL for anything it refuses.
    pub fn new(insns: Vec<Insn>) -> Result<Program, FilterError> {
        let len = insns.len();
        if len == 0 || len > BPF_MAXINSNS {
            return Err(FilterError::Invalid);
        }
        for (pc, i) in insns.iter().enumerate() {
            if !allowed(i.code) {
                return Err(FilterError::Invalid);
            }
            let class = i.code & 0x07;
            match class {
                ALU if i.code & X == 0 => {
                    let op = i.code & 0xf0;
                    if op == DIV && i.k == 0 || (op == LSH || op == RSH) && i.k >= 32 {
                        return Err(FilterError::Invalid);
                    }
                }
                LD | LDX if i.code & 0xe0 == MEM && i.k >= MEMWORDS => {
                    return Err(FilterError::Invalid);
                }
                LD if i.code & 0xe0 == ABS && (i.k >= SECCOMP_DATA_SIZE || i.k & 3 != 0) => {
                    return Err(FilterError::Invalid);
                }
                ST | STX if i.k >= MEMWORDS => return Err(FilterError::Invalid),
                JMP => {
                    let rest = len - pc - 1;
                    if i.code & 0xf0 == JA {
                        if i.k as usize >= rest {
                            return Err(FilterError::Invalid);
                        }
                    } else if i.jt as usize >= rest || i.jf as usize >= rest {
                        return Err(FilterError::Invalid);
                    }
                }
                _ => {}
            }
        }
        if insns[len - 1].code & 0x07 != RET {
            return Err(FilterError::Invalid);
        }
        check_memory(&insns)?;
        Ok(Program { insns })
    }

    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Runs the program: its return value (an action and its data).
    pub fn run(&self, d: &SeccompData) -> u32 {
        let (mut a, mut x) = (0u32, 0u32);
        let mut m = [0u32; MEMWORDS as usize];
        let mut pc = 0;
        while let Some(i) = self.insns.get(pc) {
            pc += 1;
            let src = if i.code & X != 0 { x } else { i.k };
            match i.code & 0x07 {
                LD => {
                    a = match i.code & 0xe0 {
                        ABS => d.word(i.k),
                        LEN => SECCOMP_DATA_SIZE,
                        MEM => m[i.k as usize % m.len()],
                        _ => i.k,
                    }
                }
                LDX => {
                    x = match i.code & 0xe0 {
                        LEN => SECCOMP_DATA_SIZE,
                        MEM => m[i.k as usize % m.len()],
                        _ => i.k,
                    }
                }
                ST => m[i.k as usize % m.len()] = a,
                STX => m[i.k as usize % m.len()] = x,
                ALU => {
                    a = match i.code & 0xf0 {
                        ADD => a.wrapping_add(src),
                        SUB => a.wrapping_sub(src),
                        MUL => a.wrapping_mul(src),
                        // A division by a zero X ends the program with 0, as Linux's.
                        DIV => match a.checked_div(src) {
                            Some(v) => v,
                            None => return 0,
                        },
                        OR => a | src,
                        AND => a & src,
                        LSH => a.checked_shl(src).unwrap_or(0),
                        RSH => a.checked_shr(src).unwrap_or(0),
                        NEG => a.wrapping_neg(),
                        _ => a ^ src,
                    }
                }
                JMP => {
                    let op = i.code & 0xf0;
                    if op == JA {
                        pc += i.k as usize;
                        continue;
                    }
                    let taken = match op {
                        JEQ => a == src,
                        JGT => a > src,
                        JGE => a >= src,
                        _ => a & src != 0,
                    };
                    pc += if taken { i.jt } else { i.jf } as usize;
                }
                RET => return if i.code & 0x18 == A { a } else { i.k },
                _ => {
                    if i.code & 0xf8 == TXA {
                        a = x;
                    } else {
                        x = a;
                    }
                }
            }
        }
        // Unreachable for a checked program (it ends in RET and jumps only forward).
        SECCOMP_RET_KILL_PROCESS
    }
}

/// Linux's check_load_and_stores: a scratch slot may only be read where every path to the
/// read has written it.
fn check_memory(insns: &[Insn]) -> Result<(), FilterError> {
    let mut valid = alloc::vec![u16::MAX; insns.len()];
    valid[0] = 0;
    for (pc, i) in insns.iter().enumerate() {
        let mut memvalid = valid[pc];
        match i.code & 0x07 {
            ST | STX => memvalid |= 1 << i.k,
            LD | LDX if i.code & 0xe0 == MEM && memvalid & (1 << i.k) == 0 => {
                return Err(FilterError::Invalid)
            }
            _ => {}
        }
        if i.code & 0x07 == JMP {
            let mut to = |t: usize| {
                if let Some(v) = valid.get_mut(t) {
                    *v &= memvalid;
                }
            };
            if i.code & 0xf0 == JA {
                to(pc + 1 + i.k as usize);
            } else {
                to(pc + 1 + i.jt as usize);
                to(pc + 1 + i.jf as usize);
            }
        } else if let Some(v) = valid.get_mut(pc + 1) {
            *v &= memvalid;
        }
    }
    Ok(())
}

/// What a filter installed with SECCOMP_FILTER_FLAG_NEW_LISTENER carries for its listener
/// (the kernel's notification queue, opaque here).
pub type Listener = Arc<dyn Any + Send + Sync>;

/// A thread's filters: the newest first, each pointing at the ones installed before it
/// (shared with the threads and children that inherited them).
pub struct Filter {
    pub prog: Program,
    /// SECCOMP_FILTER_FLAG_LOG: actions other than ALLOW are logged.
    pub log: bool,
    pub prev: Option<Arc<Filter>>,
    /// SECCOMP_RET_USER_NOTIF from this filter goes to this listener.
    pub listener: Option<Listener>,
}

impl core::fmt::Debug for Filter {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.debug_struct("Filter")
            .field("prog", &self.prog)
            .field("log", &self.log)
            .field("prev", &self.prev)
            .field("listener", &self.listener.is_some())
            .finish()
    }
}

impl Filter {
    /// Stacks `prog` on `prev`: ENOMEM (TooLong) past MAX_INSNS_PER_PATH in all.
    pub fn push(
        prev: Option<Arc<Filter>>,
        prog: Program,
        log: bool,
    ) -> Result<Arc<Filter>, FilterError> {
        Self::push_with(prev, prog, log, None)
    }

    /// `push` for a filter with a user-notification listener.
    pub fn push_with(
        prev: Option<Arc<Filter>>,
        prog: Program,
        log: bool,
        listener: Option<Listener>,
    ) -> Result<Arc<Filter>, FilterError> {
        let mut total = prog.len() + 4;
        let mut f = prev.as_deref();
        while let Some(x) = f {
            total += x.prog.len() + 4;
            f = x.prev.as_deref();
        }
        if total > MAX_INSNS_PER_PATH {
            return Err(FilterError::TooLong);
        }
        Ok(Arc::new(Filter {
            prog,
            log,
            prev,
            listener,
        }))
    }

    /// Runs every filter; the most restrictive answer wins (lowest action as a signed
    /// number, the first such among equals): (the answer, whether its filter asked to log).
    pub fn decide(self: &Arc<Self>, d: &SeccompData) -> (u32, bool) {
        let (r, m) = self.decide_match(d);
        (r, m.is_some_and(|f| f.log))
    }

    /// `decide`, with the filter whose answer won (None when every filter allowed the call):
    /// USER_NOTIF goes to that filter's listener.
    pub fn decide_match(self: &Arc<Self>, d: &SeccompData) -> (u32, Option<&Arc<Filter>>) {
        let mut best = (SECCOMP_RET_ALLOW, None);
        let mut f = Some(self);
        while let Some(x) = f {
            let r = x.prog.run(d);
            if ((r & SECCOMP_RET_ACTION_FULL) as i32) < ((best.0 & SECCOMP_RET_ACTION_FULL) as i32)
            {
                best = (r, Some(x));
            }
            f = x.prev.as_ref();
        }
        best
    }

    /// This filter and the ones installed before it, newest first.
    pub fn chain(self: &Arc<Self>) -> impl Iterator<Item = &Arc<Filter>> {
        core::iter::successors(Some(self), |f| f.prev.as_ref())
    }

    /// Whether `other` is this filter or one installed before it (TSYNC may only move a
    /// thread to filters that extend its own).
    pub fn extends(self: &Arc<Self>, other: &Arc<Filter>) -> bool {
        let mut f = Some(self);
        while let Some(x) = f {
            if Arc::ptr_eq(x, other) {
                return true;
            }
            f = x.prev.as_ref();
        }
        false
    }

    pub fn depth(&self) -> usize {
        1 + self.prev.as_ref().map_or(0, |p| p.depth())
    }
}

/// Whether this kernel knows an action (SECCOMP_GET_ACTION_AVAIL).
pub fn action_available(action: u32) -> bool {
    matches!(
        action,
        SECCOMP_RET_KILL_PROCESS
            | SECCOMP_RET_KILL_THREAD
            | SECCOMP_RET_TRAP
            | SECCOMP_RET_ERRNO
            | SECCOMP_RET_USER_NOTIF
            | SECCOMP_RET_TRACE
            | SECCOMP_RET_LOG
            | SECCOMP_RET_ALLOW
    )
}

pub mod logged;

#[cfg(test)]
mod tests;
