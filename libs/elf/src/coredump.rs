//! ELF core files as Linux's binfmt_elf writes them (fs/binfmt_elf.c, elf_core_dump): an
//! ET_CORE header, one PT_NOTE with the process and thread notes, then one PT_LOAD per
//! mapping whose dumped bytes start on a page boundary after the notes. gdb, readelf and
//! eu-stack read these. Only the layout is here; the kernel gathers the contents.

use alloc::vec::Vec;

const ET_CORE: u16 = 4;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

pub const NT_PRSTATUS: u32 = 1;
pub const NT_PRFPREG: u32 = 2;
pub const NT_PRPSINFO: u32 = 3;
pub const NT_AUXV: u32 = 6;
pub const NT_SIGINFO: u32 = 0x5349_4749;
pub const NT_FILE: u32 = 0x4649_4c45;

/// One note: the owner name ("CORE" for the classic notes, "LINUX" for register sets Linux
/// added) and its contents.
pub struct Note {
    pub name: &'static [u8],
    pub kind: u32,
    pub desc: Vec<u8>,
}

/// One mapping: its address range, PF_* flags and how many of its bytes the file holds
/// (0 for mappings Linux leaves out, such as shared file mappings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub flags: u32,
    pub dump_len: u64,
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn pad4(b: &mut Vec<u8>) {
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
}

/// A note's bytes: namesz, descsz, type, the name with its NUL, the contents, each padded
/// to 4 bytes.
fn note_bytes(n: &Note, out: &mut Vec<u8>) {
    put32(out, n.name.len() as u32 + 1);
    put32(out, n.desc.len() as u32);
    put32(out, n.kind);
    out.extend_from_slice(n.name);
    out.push(0);
    pad4(out);
    out.extend_from_slice(&n.desc);
    pad4(out);
}

/// Everything before the memory: ELF header, program headers (PT_NOTE first) and the notes,
/// padded to `page`. Segment `i`'s bytes follow at the returned offsets, in order.
pub fn header(machine: u16, notes: &[Note], segs: &[Segment], page: u64) -> (Vec<u8>, Vec<u64>) {
    let mut note_area = Vec::new();
    for n in notes {
        note_bytes(n, &mut note_area);
    }
    let phnum = segs.len() + 1;
    let notes_off = (EHDR_SIZE + PHDR_SIZE * phnum) as u64;
    let data_start = (notes_off + note_area.len() as u64).div_ceil(page) * page;
    let mut offsets = Vec::with_capacity(segs.len());
    let mut off = data_start;
    for s in segs {
        offsets.push(off);
        off += s.dump_len;
    }
    let mut b = Vec::with_capacity(data_start as usize);
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    b.extend_from_slice(&[0; 8]);
    put16(&mut b, ET_CORE);
    put16(&mut b, machine);
    put32(&mut b, 1);
    put64(&mut b, 0); // e_entry
    put64(&mut b, EHDR_SIZE as u64); // e_phoff
    put64(&mut b, 0); // e_shoff
    put32(&mut b, 0); // e_flags
    put16(&mut b, EHDR_SIZE as u16);
    put16(&mut b, PHDR_SIZE as u16);
    // More than 65534 mappings would need PN_XNUM and a section header; Linux's
    // vm.max_map_count keeps processes below that, and so does Lintel's.
    put16(&mut b, phnum.min(0xffff) as u16);
    put16(&mut b, 0); // e_shentsize
    put16(&mut b, 0); // e_shnum
    put16(&mut b, 0); // e_shstrndx
                      // PT_NOTE
    put32(&mut b, PT_NOTE);
    put32(&mut b, 0);
    put64(&mut b, notes_off);
    put64(&mut b, 0);
    put64(&mut b, 0);
    put64(&mut b, note_area.len() as u64);
    put64(&mut b, 0);
    put64(&mut b, 0);
    for (s, o) in segs.iter().zip(&offsets) {
        put32(&mut b, PT_LOAD);
        put32(&mut b, s.flags);
        put64(&mut b, *o);
        put64(&mut b, s.start);
        put64(&mut b, 0);
        put64(&mut b, s.dump_len);
        put64(&mut b, s.end - s.start);
        put64(&mut b, page);
    }
    b.extend_from_slice(&note_area);
    b.resize(data_start as usize, 0);
    (b, offsets)
}

/// What NT_PRSTATUS says of one thread besides its registers.
#[derive(Default, Clone, Copy)]
pub struct ThreadStatus {
    pub signo: i32,
    pub code: i32,
    pub errno: i32,
    pub cursig: u16,
    pub sigpend: u64,
    pub sighold: u64,
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub sid: i32,
    /// user, system, children's user, children's system time, in microseconds.
    pub times_us: [u64; 4],
}

/// `struct elf_prstatus` (64-bit): the status, then the registers (`elf_gregset_t`), then
/// pr_fpvalid, padded to 8 bytes.
pub fn prstatus(st: &ThreadStatus, regs: &[u64], fpvalid: bool) -> Vec<u8> {
    let mut b = Vec::with_capacity(112 + regs.len() * 8 + 8);
    put32(&mut b, st.signo as u32);
    put32(&mut b, st.code as u32);
    put32(&mut b, st.errno as u32);
    put16(&mut b, st.cursig);
    put16(&mut b, 0);
    put64(&mut b, st.sigpend);
    put64(&mut b, st.sighold);
    for v in [st.pid, st.ppid, st.pgrp, st.sid] {
        put32(&mut b, v as u32);
    }
    for us in st.times_us {
        put64(&mut b, us / 1_000_000);
        put64(&mut b, us % 1_000_000);
    }
    for r in regs {
        put64(&mut b, *r);
    }
    put32(&mut b, fpvalid as u32);
    while !b.len().is_multiple_of(8) {
        b.push(0);
    }
    b
}

/// What NT_PRPSINFO says of the process.
#[derive(Default, Clone)]
pub struct ProcessInfo {
    /// The state letter's index in "RSDTZW" (Linux's pr_state) and the letter.
    pub state: u8,
    pub sname: u8,
    pub zombie: bool,
    pub nice: i8,
    pub flags: u64,
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub sid: i32,
    /// The command name (at most 15 bytes kept) and the start of the command line (at most
    /// 79 bytes, NULs between arguments shown as spaces).
    pub fname: Vec<u8>,
    pub args: Vec<u8>,
}

/// `struct elf_prpsinfo` (64-bit, 136 bytes).
pub fn prpsinfo(p: &ProcessInfo) -> Vec<u8> {
    let mut b = Vec::with_capacity(136);
    b.push(p.state);
    b.push(p.sname);
    b.push(p.zombie as u8);
    b.push(p.nice as u8);
    put32(&mut b, 0);
    put64(&mut b, p.flags);
    put32(&mut b, p.uid);
    put32(&mut b, p.gid);
    for v in [p.pid, p.ppid, p.pgrp, p.sid] {
        put32(&mut b, v as u32);
    }
    let mut fname = [0u8; 16];
    let n = p.fname.len().min(15);
    fname[..n].copy_from_slice(&p.fname[..n]);
    b.extend_from_slice(&fname);
    let mut args = [0u8; 80];
    let n = p.args.len().min(79);
    for (d, s) in args.iter_mut().zip(&p.args[..n]) {
        *d = if *s == 0 { b' ' } else { *s };
    }
    // A trailing separator is not shown.
    if let Some(last) = args[..n].iter().rposition(|c| *c != b' ') {
        args[last + 1..].fill(0);
    } else {
        args.fill(0);
    }
    b.extend_from_slice(&args);
    b
}

/// One file mapping for NT_FILE: range, offset in the file (bytes) and path.
pub struct FileMapping<'a> {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub path: &'a [u8],
}

/// NT_FILE: count, page size, (start, end, offset in pages) for each, then the NUL-ended
/// paths in the same order.
pub fn file_note(maps: &[FileMapping], page: u64) -> Vec<u8> {
    let mut b = Vec::new();
    put64(&mut b, maps.len() as u64);
    put64(&mut b, page);
    for m in maps {
        put64(&mut b, m.start);
        put64(&mut b, m.end);
        put64(&mut b, m.offset / page);
    }
    for m in maps {
        b.extend_from_slice(m.path);
        b.push(0);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::process::Command;
    use std::vec;

    /// A two-mapping core with every note kind, as readelf (binutils, Linux's reader) sees it.
    #[test]
    fn readelf_reads_it() {
        let st = ThreadStatus {
            signo: 11,
            cursig: 11,
            pid: 42,
            ppid: 1,
            ..Default::default()
        };
        let regs = [7u64; 27];
        let pr = prstatus(&st, &regs, true);
        assert_eq!(pr.len(), 336, "struct elf_prstatus with 27 registers");
        let info = ProcessInfo {
            sname: b'R',
            pid: 42,
            fname: b"crasher".to_vec(),
            args: b"crasher\0-x\0".to_vec(),
            ..Default::default()
        };
        let ps = prpsinfo(&info);
        assert_eq!(ps.len(), 136);
        assert_eq!(&ps[56..66], b"crasher -x");
        assert_eq!(ps[66], 0);
        let files = file_note(
            &[FileMapping {
                start: 0x400000,
                end: 0x401000,
                offset: 0,
                path: b"/bin/crasher",
            }],
            4096,
        );
        let notes = [
            Note {
                name: b"CORE",
                kind: NT_PRSTATUS,
                desc: pr,
            },
            Note {
                name: b"CORE",
                kind: NT_PRPSINFO,
                desc: ps,
            },
            Note {
                name: b"CORE",
                kind: NT_SIGINFO,
                desc: vec![0; 128],
            },
            Note {
                name: b"CORE",
                kind: NT_AUXV,
                desc: vec![0; 16],
            },
            Note {
                name: b"CORE",
                kind: NT_FILE,
                desc: files,
            },
            Note {
                name: b"CORE",
                kind: NT_PRFPREG,
                desc: vec![0; 512],
            },
        ];
        let segs = [
            Segment {
                start: 0x400000,
                end: 0x401000,
                flags: 5,
                dump_len: 0,
            },
            Segment {
                start: 0x7ff000,
                end: 0x801000,
                flags: 6,
                dump_len: 0x2000,
            },
        ];
        let (head, offs) = header(crate::EM_X86_64, &notes, &segs, 4096);
        assert_eq!(head.len() % 4096, 0);
        assert_eq!(offs, vec![head.len() as u64, head.len() as u64]);
        let mut file = head;
        file.extend(std::iter::repeat_n(0xabu8, 0x2000));
        let path = std::env::temp_dir().join(std::format!("lintel-core-{}", std::process::id()));
        std::fs::write(&path, &file).unwrap();
        let out = Command::new("readelf").arg("-hln").arg(&path).output();
        let _ = std::fs::remove_file(&path);
        let Ok(out) = out else { return }; // no binutils: the byte checks above stand
        let text = std::string::String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("CORE (Core file)"), "{text}");
        for want in [
            "NT_PRSTATUS",
            "NT_PRPSINFO",
            "NT_SIGINFO",
            "NT_AUXV",
            "NT_FILE",
            "NT_FPREGSET",
        ] {
            assert!(text.contains(want), "{want} missing: {text}");
        }
        assert!(text.contains("0x00000000007ff000"), "{text}");
    }
}
