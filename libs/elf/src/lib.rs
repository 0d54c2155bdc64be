//! ELF64 executables: header and program-header validation (every field checked, errors as
//! Linux's execve reports them), and the initial user stack exactly as Linux lays it out.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use lintel_abi::auxv::*;
use lintel_abi::{Errno, KResult};

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const EM_RISCV: u16 = 243;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
/// Linux limits program headers to 64 KiB (ELF_MIN_ALIGN-independent check in load_elf_phdrs).
const MAX_PHDRS_SIZE: usize = 65536;
const USER_LIMIT: u64 = 0x0000_8000_0000_0000;
const PAGE: u64 = 4096;
/// PATH_MAX, the longest interpreter path Linux accepts.
const PATH_MAX: u64 = 4096;
/// MAX_ARG_STRLEN: one argument or environment string at most 32 pages.
const MAX_ARG_STRLEN: usize = 32 * 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfKind {
    Exec,
    Dyn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfHeader {
    pub kind: ElfKind,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    pub phnum: u16,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

impl ElfHeader {
    /// Validates the 64-byte ELF header at the start of `bytes`.
    pub fn parse(bytes: &[u8], machine: u16) -> KResult<ElfHeader> {
        if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
            return Err(Errno::ENOEXEC);
        }
        // EI_CLASS 64-bit, EI_DATA little-endian, EI_VERSION current.
        if bytes[4] != 2 || bytes[5] != 1 || bytes[6] != 1 {
            return Err(Errno::ENOEXEC);
        }
        let kind = match u16_at(bytes, 16) {
            2 => ElfKind::Exec,
            3 => ElfKind::Dyn,
            _ => return Err(Errno::ENOEXEC),
        };
        if u16_at(bytes, 18) != machine || u32_at(bytes, 20) != 1 {
            return Err(Errno::ENOEXEC);
        }
        let phentsize = u16_at(bytes, 54);
        let phnum = u16_at(bytes, 56);
        if phentsize != 56 || phnum == 0 || phnum as usize * 56 > MAX_PHDRS_SIZE {
            return Err(Errno::ENOEXEC);
        }
        Ok(ElfHeader {
            kind,
            entry: u64_at(bytes, 24),
            phoff: u64_at(bytes, 32),
            phentsize,
            phnum,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    pub header: ElfHeader,
    pub segments: Vec<LoadSegment>,
    /// File offset and size (including the NUL) of the interpreter path.
    pub interp: Option<(u64, u64)>,
    /// Where the program headers are in memory (before any load bias).
    pub phdr_vaddr: Option<u64>,
    pub exec_stack: bool,
    pub min_vaddr: u64,
    pub max_vaddr: u64,
    /// The largest power-of-two p_align of the load segments, rounded up to a page (0 when
    /// none has one): Linux 6.1's maximum_alignment(), to which a PIE's base is aligned
    /// (arm64 toolchains link with 64 KiB).
    pub max_align: u64,
}

/// The first PT_INTERP entry of `phdrs` (`phnum` entries): the file offset and size of the
/// interpreter path. Linux reads it before the point of no return, so a size outside
/// 2..=PATH_MAX fails the exec with ENOEXEC; later PT_INTERP entries are ignored.
pub fn find_interp(phdrs: &[u8], phnum: u16) -> KResult<Option<(u64, u64)>> {
    for p in phdrs.chunks_exact(56).take(phnum as usize) {
        if u32_at(p, 0) != PT_INTERP {
            continue;
        }
        let filesz = u64_at(p, 32);
        if !(2..=PATH_MAX).contains(&filesz) {
            return Err(Errno::ENOEXEC);
        }
        return Ok(Some((u64_at(p, 8), filesz)));
    }
    Ok(None)
}

/// What Linux's execve checks of an interpreter's ELF header before the point of no return:
/// the magic, the machine and the size of the program header table (ELIBBAD otherwise).
/// Returns e_phoff and the table's size in bytes.
pub fn interp_header(bytes: &[u8], machine: u16) -> KResult<(u64, usize)> {
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || u16_at(bytes, 18) != machine {
        return Err(Errno::ELIBBAD);
    }
    let size = u16_at(bytes, 54) as usize * u16_at(bytes, 56) as usize;
    if u16_at(bytes, 54) != 56 || size == 0 || size > MAX_PHDRS_SIZE {
        return Err(Errno::ELIBBAD);
    }
    Ok((u64_at(bytes, 32), size))
}

impl ElfInfo {
    /// Validates the program headers (`phdrs` = the phnum*56 bytes at phoff). Linux checks
    /// the load segments only after the point of no return, so the caller turns an error
    /// here into the death of the process. A segment whose file data lies past the end of
    /// the file is not an error: its pages fault (SIGBUS) when touched, as on Linux.
    pub fn parse(header: ElfHeader, phdrs: &[u8], file_size: u64) -> KResult<ElfInfo> {
        let size = header.phnum as usize * 56;
        if phdrs.len() < size
            || header
                .phoff
                .checked_add(size as u64)
                .is_none_or(|e| e > file_size)
        {
            return Err(Errno::ENOEXEC);
        }
        let interp = find_interp(phdrs, header.phnum)?;
        let mut segments = Vec::new();
        let mut phdr_vaddr = None;
        let mut exec_stack = false;
        let mut max_align = 0;
        for i in 0..header.phnum as usize {
            let p = &phdrs[i * 56..i * 56 + 56];
            let ptype = u32_at(p, 0);
            let flags = u32_at(p, 4);
            let offset = u64_at(p, 8);
            let vaddr = u64_at(p, 16);
            let filesz = u64_at(p, 32);
            let memsz = u64_at(p, 40);
            match ptype {
                PT_LOAD => {
                    // Linux counts every PT_LOAD here, empty ones too, and skips alignments
                    // that are not powers of two as invalid.
                    let align = u64_at(p, 48);
                    if align.is_power_of_two() {
                        max_align = max_align.max(align.div_ceil(PAGE) * PAGE);
                    }
                    if memsz == 0 {
                        continue;
                    }
                    if filesz > memsz {
                        return Err(Errno::EINVAL);
                    }
                    offset.checked_add(filesz).ok_or(Errno::EINVAL)?;
                    let vend = vaddr.checked_add(memsz).ok_or(Errno::EINVAL)?;
                    if vend > USER_LIMIT {
                        return Err(Errno::EINVAL);
                    }
                    if vaddr % PAGE != offset % PAGE {
                        return Err(Errno::EINVAL);
                    }
                    segments.push(LoadSegment {
                        vaddr,
                        memsz,
                        offset,
                        filesz,
                        readable: flags & PF_R != 0,
                        writable: flags & PF_W != 0,
                        executable: flags & PF_X != 0,
                    });
                }
                PT_PHDR => phdr_vaddr = Some(vaddr),
                PT_GNU_STACK => exec_stack = flags & PF_X != 0,
                _ => {}
            }
        }
        // No load segment at all is not an error either: the entry point is then unmapped.
        let min_vaddr = segments.first().map_or(0, |s| s.vaddr & !(PAGE - 1));
        let max_vaddr = segments
            .iter()
            .map(|s| (s.vaddr + s.memsz).div_ceil(PAGE) * PAGE)
            .max()
            .unwrap_or(0);
        if phdr_vaddr.is_none() {
            // The headers are in memory if a load segment covers their file range.
            phdr_vaddr = segments
                .iter()
                .find(|s| {
                    header.phoff >= s.offset && header.phoff + size as u64 <= s.offset + s.filesz
                })
                .map(|s| s.vaddr + (header.phoff - s.offset));
        }
        Ok(ElfInfo {
            header,
            segments,
            interp,
            phdr_vaddr,
            exec_stack,
            min_vaddr,
            max_vaddr,
            max_align,
        })
    }

    pub fn is_pie(&self) -> bool {
        self.header.kind == ElfKind::Dyn
    }
}

/// Values for the auxiliary vector that do not point into the stack image.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxInfo {
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    pub base: u64,
    pub entry: u64,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
    pub secure: bool,
    pub hwcap: u64,
    pub hwcap2: u64,
    pub clktck: u64,
    pub sysinfo_ehdr: Option<u64>,
    pub minsigstksz: u64,
    pub flags: u64,
}

/// The bytes of a new process's stack, ending at `stack_top`.
#[derive(Clone, Debug)]
pub struct StackImage {
    pub bytes: Vec<u8>,
    /// User stack pointer at entry (points at argc, 16-byte aligned).
    pub sp: u64,
    pub argv_ptr: u64,
    pub envp_ptr: u64,
    /// The argument strings are [arg_start, arg_end), the environment's [arg_end, env_end)
    /// (Linux's mm arg_start, arg_end = env_start, env_end).
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_end: u64,
    /// The auxiliary vector as (key, value) words up to and including AT_NULL
    /// (/proc/PID/auxv).
    pub auxv: Vec<u8>,
}

/// Builds the initial stack as Linux's `copy_strings` and `create_elf_tables` do.
#[allow(clippy::too_many_arguments)]
pub fn build_initial_stack(
    stack_top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    platform: &[u8],
    random: [u8; 16],
    aux: &AuxInfo,
    max_size: usize,
) -> KResult<StackImage> {
    // Strings, from low to high address: argv strings (argv[0] lowest), env strings, execfn,
    // then the 8-byte end marker at the very top.
    let mut strings: Vec<u8> = Vec::new();
    let add = |s: &[u8], strings: &mut Vec<u8>| -> KResult<usize> {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        let pos = strings.len();
        strings.extend_from_slice(s);
        strings.push(0);
        Ok(pos)
    };
    let mut arg_pos = Vec::with_capacity(argv.len());
    for a in argv {
        arg_pos.push(add(a, &mut strings)?);
        if strings.len() > max_size {
            return Err(Errno::E2BIG);
        }
    }
    let arg_end_pos = strings.len();
    let mut env_pos = Vec::with_capacity(envp.len());
    for e in envp {
        env_pos.push(add(e, &mut strings)?);
        if strings.len() > max_size {
            return Err(Errno::E2BIG);
        }
    }
    let env_end_pos = strings.len();
    let execfn_pos = add(execfn, &mut strings)?;
    strings.extend_from_slice(&[0u8; 8]);
    let strings_start = stack_top - strings.len() as u64;
    let addr_of = |pos: usize| strings_start + pos as u64;

    let mut sp = stack_top - strings.len() as u64;
    let platform_addr = if platform.is_empty() {
        0
    } else {
        sp -= platform.len() as u64 + 1;
        sp
    };
    sp &= !15;
    sp -= 16;
    let random_addr = sp;

    let mut auxv: Vec<(u64, u64)> = Vec::new();
    if let Some(v) = aux.sysinfo_ehdr {
        auxv.push((AT_SYSINFO_EHDR, v));
    }
    auxv.push((AT_MINSIGSTKSZ, aux.minsigstksz));
    auxv.push((AT_HWCAP, aux.hwcap));
    auxv.push((AT_PAGESZ, PAGE));
    auxv.push((AT_CLKTCK, aux.clktck));
    auxv.push((AT_PHDR, aux.phdr));
    auxv.push((AT_PHENT, aux.phent));
    auxv.push((AT_PHNUM, aux.phnum));
    auxv.push((AT_BASE, aux.base));
    auxv.push((AT_FLAGS, aux.flags));
    auxv.push((AT_ENTRY, aux.entry));
    auxv.push((AT_UID, aux.uid as u64));
    auxv.push((AT_EUID, aux.euid as u64));
    auxv.push((AT_GID, aux.gid as u64));
    auxv.push((AT_EGID, aux.egid as u64));
    auxv.push((AT_SECURE, aux.secure as u64));
    auxv.push((AT_RANDOM, random_addr));
    auxv.push((AT_HWCAP2, aux.hwcap2));
    auxv.push((AT_EXECFN, addr_of(execfn_pos)));
    if platform_addr != 0 {
        auxv.push((AT_PLATFORM, platform_addr));
    }
    auxv.push((AT_NULL, 0));

    let words = 1 + argv.len() + 1 + envp.len() + 1 + auxv.len() * 2;
    let table_bytes = words as u64 * 8;
    sp = (sp - table_bytes) & !15;
    let total = (stack_top - sp) as usize;
    if total > max_size {
        return Err(Errno::E2BIG);
    }

    let mut bytes = alloc::vec![0u8; total];
    let base = sp;
    let mut put = |addr: u64, data: &[u8]| {
        let o = (addr - base) as usize;
        bytes[o..o + data.len()].copy_from_slice(data);
    };
    put(strings_start, &strings);
    if platform_addr != 0 {
        put(platform_addr, platform);
    }
    put(random_addr, &random);
    let auxv_bytes: Vec<u8> = auxv
        .iter()
        .flat_map(|&(k, v)| k.to_le_bytes().into_iter().chain(v.to_le_bytes()))
        .collect();
    let mut table: Vec<u64> = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(arg_pos.iter().map(|&p| addr_of(p)));
    table.push(0);
    table.extend(env_pos.iter().map(|&p| addr_of(p)));
    table.push(0);
    for (k, v) in auxv {
        table.push(k);
        table.push(v);
    }
    for (i, w) in table.iter().enumerate() {
        put(sp + 8 * i as u64, &w.to_le_bytes());
    }
    let argv_ptr = sp + 8;
    let envp_ptr = sp + 8 * (2 + argv.len() as u64);
    Ok(StackImage {
        bytes,
        sp,
        argv_ptr,
        envp_ptr,
        arg_start: strings_start,
        arg_end: addr_of(arg_end_pos),
        env_end: addr_of(env_end_pos),
        auxv: auxv_bytes,
    })
}

pub mod coredump;

#[cfg(test)]
mod tests;
