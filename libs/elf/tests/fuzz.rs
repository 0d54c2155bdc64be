//! Fuzzing the ELF checks with mutated real executables: every mutant gets an answer (an
//! error or a description the kernel can map), never a panic or a hang.

#[path = "../../fuzz_harness.rs"]
mod harness;

use harness::{mutate, Field, Rng};
use lintel_abi::Errno;
use lintel_elf::{build_initial_stack, AuxInfo, ElfHeader, ElfInfo, EM_X86_64};
use std::sync::OnceLock;

/// The kernel reads the 64-byte header, the program headers and (for PT_INTERP) the
/// interpreter path; nothing else of the file is looked at before mapping. Seeds keep their
/// first bytes and their real size.
const PREFIX: usize = 64 << 10;

struct Seed {
    bytes: Vec<u8>,
    size: u64,
}

/// A small static executable built by hand: one PT_LOAD, a PT_INTERP and a PT_GNU_STACK, so the
/// test never runs without a seed.
fn tiny_elf() -> Vec<u8> {
    let mut f = vec![0u8; 0x1000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    let w16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let w32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let w64 = |f: &mut Vec<u8>, o: usize, v: u64| f[o..o + 8].copy_from_slice(&v.to_le_bytes());
    w16(&mut f, 16, 3);
    w16(&mut f, 18, EM_X86_64);
    w32(&mut f, 20, 1);
    w64(&mut f, 24, 0x200);
    w64(&mut f, 32, 64);
    w16(&mut f, 52, 64);
    w16(&mut f, 54, 56);
    w16(&mut f, 56, 3);
    let phdrs: [(u32, u32, u64, u64, u64); 3] = [
        (1, 5, 0, 0, 0x1000),
        (3, 4, 0x300, 0x300, 12),
        (0x6474_e551, 6, 0, 0, 0),
    ];
    for (i, (ptype, flags, off, filesz, align)) in phdrs.into_iter().enumerate() {
        let p = 64 + 56 * i;
        w32(&mut f, p, ptype);
        w32(&mut f, p + 4, flags);
        w64(&mut f, p + 8, off);
        w64(&mut f, p + 16, off);
        w64(&mut f, p + 24, off);
        w64(&mut f, p + 32, if ptype == 1 { 0x1000 } else { filesz });
        w64(&mut f, p + 40, if ptype == 1 { 0x1000 } else { filesz });
        w64(&mut f, p + 48, align);
    }
    f[0x300..0x30c].copy_from_slice(b"/lib/ld.so\0\0");
    f
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let tiny = tiny_elf();
        let mut out = vec![Seed {
            size: tiny.len() as u64,
            bytes: tiny,
        }];
        let mut paths: Vec<String> = vec!["/bin/busybox".into(), "/bin/true".into()];
        // The dynamic linker, whatever its name on this host.
        if let Ok(dir) = std::fs::read_dir("/lib64") {
            for e in dir.flatten() {
                if e.file_name().to_string_lossy().starts_with("ld-linux") {
                    paths.push(e.path().to_string_lossy().into_owned());
                }
            }
        }
        for p in paths {
            if let Ok(mut bytes) = std::fs::read(&p) {
                let size = bytes.len() as u64;
                bytes.truncate(PREFIX);
                out.push(Seed { bytes, size });
            }
        }
        out
    })
}

/// The header and program-header fields of `b` (as far as they are readable), for aiming.
fn fields(b: &[u8]) -> Vec<Field> {
    let f = |at, width| Field { at, width };
    let mut out = vec![f(16, 2), f(18, 2), f(24, 8), f(32, 8), f(54, 2), f(56, 2)];
    if b.len() >= 64 {
        let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
        let phnum = u16::from_le_bytes([b[56], b[57]]) as usize;
        for i in 0..phnum.min(32) {
            let p = phoff.saturating_add(56 * i);
            if p.saturating_add(56) > b.len() {
                break;
            }
            for (o, w) in [(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (48, 8)] {
                out.push(f(p + o, w));
            }
        }
    }
    out
}

/// `len` bytes at `off` of a file whose first bytes are `b` and whose size is `size` (zeros
/// past the prefix), or None past the end, as the kernel's short read gives.
fn read_at(b: &[u8], size: u64, off: u64, len: usize) -> Option<Vec<u8>> {
    let end = off.checked_add(len as u64)?;
    if end > size {
        return None;
    }
    let mut out = vec![0u8; len];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = b.get(off as usize + i).copied().unwrap_or(0);
    }
    Some(out)
}

/// What the kernel's execve does with an ELF file, up to the stack image.
fn exercise(b: &[u8], size: u64, rng: &mut Rng) {
    let head = &b[..b.len().min(64)];
    let Ok(h) = ElfHeader::parse(head, EM_X86_64) else {
        return;
    };
    let phsize = h.phentsize as usize * h.phnum as usize;
    let Some(ph) = read_at(b, size, h.phoff, phsize) else {
        return;
    };
    let info = match ElfInfo::parse(h, &ph, size) {
        Ok(i) => i,
        Err(e) => {
            assert!(matches!(e, Errno::ENOEXEC | Errno::EINVAL | Errno::EIO));
            return;
        }
    };
    // What the loader relies on (file data past the end of the file is allowed: those pages
    // fault when touched, as on Linux).
    assert!(info.min_vaddr <= info.max_vaddr);
    for s in &info.segments {
        assert!(s.filesz <= s.memsz);
        assert!(s.offset.checked_add(s.filesz).is_some());
        assert!(s.vaddr.checked_add(s.memsz).is_some());
        assert!(s.offset >= s.vaddr % 4096);
    }
    if let Some((_, len)) = info.interp {
        assert!((2..=4096).contains(&len));
    }
    let argv = rng.strings(4, 40);
    let envp = rng.strings(4, 40);
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envp: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
    let aux = AuxInfo {
        phdr: info.phdr_vaddr.unwrap_or(0),
        phent: 56,
        phnum: info.header.phnum as u64,
        entry: info.header.entry,
        ..AuxInfo::default()
    };
    let max = *rng.pick(&[0, 64, 512, 4096, 1 << 20]);
    let top = 0x7fff_ffff_f000 - 4096 * rng.below(16) as u64;
    if let Ok(img) = build_initial_stack(top, &argv, &envp, b"/x", b"p", [7; 16], &aux, max) {
        assert_eq!(img.sp + img.bytes.len() as u64, top);
        assert_eq!(img.sp % 16, 0);
        assert!(img.bytes.len() <= max);
    }
}

fn case(rng: &mut Rng, round: usize) {
    let seeds = seeds();
    let seed = &seeds[round % seeds.len()];
    let mut b = seed.bytes.clone();
    let mut size = seed.size;
    let fields = fields(&b);
    mutate(rng, &mut b, &fields);
    if b.len() < seed.bytes.len() {
        // Truncated: the file ends where the bytes do.
        size = b.len() as u64;
    }
    exercise(&b, size, rng);
}

#[test]
fn fuzz_elf() {
    harness::run("fuzz_elf", 4000, case);
}
