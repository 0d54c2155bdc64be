use super::*;
extern crate std;
use std::vec;

fn ehdr(kind: u16, machine: u16, phnum: u16) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&kind.to_le_bytes());
    b[18..20].copy_from_slice(&machine.to_le_bytes());
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
    b[32..40].copy_from_slice(&64u64.to_le_bytes());
    b[52..54].copy_from_slice(&64u16.to_le_bytes());
    b[54..56].copy_from_slice(&56u16.to_le_bytes());
    b[56..58].copy_from_slice(&phnum.to_le_bytes());
    b
}

fn phdr(ptype: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64) -> Vec<u8> {
    let mut p = vec![0u8; 56];
    p[0..4].copy_from_slice(&ptype.to_le_bytes());
    p[4..8].copy_from_slice(&flags.to_le_bytes());
    p[8..16].copy_from_slice(&off.to_le_bytes());
    p[16..24].copy_from_slice(&vaddr.to_le_bytes());
    p[24..32].copy_from_slice(&vaddr.to_le_bytes());
    p[32..40].copy_from_slice(&filesz.to_le_bytes());
    p[40..48].copy_from_slice(&memsz.to_le_bytes());
    p[48..56].copy_from_slice(&4096u64.to_le_bytes());
    p
}

fn parse_all(file: &[u8]) -> KResult<ElfInfo> {
    let h = ElfHeader::parse(file, EM_X86_64)?;
    let start = h.phoff as usize;
    let end = start + h.phnum as usize * 56;
    let ph = file.get(start..end).ok_or(Errno::ENOEXEC)?;
    ElfInfo::parse(h, ph, file.len() as u64)
}

fn simple() -> Vec<u8> {
    let mut f = ehdr(2, EM_X86_64, 2);
    f.extend(phdr(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x2000, 0x2000));
    f.extend(phdr(PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x100, 0x3000));
    f.resize(0x2100, 0);
    f
}

#[test]
fn parses_valid() {
    let i = parse_all(&simple()).unwrap();
    assert_eq!(i.segments.len(), 2);
    assert!(i.segments[0].executable && !i.segments[0].writable);
    assert_eq!(i.min_vaddr, 0x400000);
    assert_eq!(i.max_vaddr, 0x405000);
    assert_eq!(i.phdr_vaddr, Some(0x400040));
    assert!(!i.is_pie());
    assert_eq!(i.max_align, 4096);
}

#[test]
fn max_align_as_linux() {
    // The largest power-of-two p_align wins, an empty segment's too; others are skipped,
    // and a small one still aligns to a page.
    let mut f = simple();
    let aligns: [u64; 2] = [0x10000, 0x3000];
    for (i, a) in aligns.iter().enumerate() {
        let o = 64 + i * 56 + 48;
        f[o..o + 8].copy_from_slice(&a.to_le_bytes());
    }
    assert_eq!(parse_all(&f).unwrap().max_align, 0x10000);
    f[64 + 48..64 + 56].copy_from_slice(&16u64.to_le_bytes());
    assert_eq!(parse_all(&f).unwrap().max_align, 4096);
    f[64 + 48..64 + 56].copy_from_slice(&0u64.to_le_bytes());
    f[64 + 56 + 48..64 + 112].copy_from_slice(&0u64.to_le_bytes());
    assert_eq!(parse_all(&f).unwrap().max_align, 0);
}

#[test]
fn header_errors() {
    let good = simple();
    let mut b = good.clone();
    b[0] = 0;
    assert_eq!(parse_all(&b), Err(Errno::ENOEXEC));
    let mut b = good.clone();
    b[4] = 1;
    assert_eq!(parse_all(&b), Err(Errno::ENOEXEC));
    let mut b = good.clone();
    b[5] = 2;
    assert_eq!(parse_all(&b), Err(Errno::ENOEXEC));
    assert_eq!(ElfHeader::parse(&good, EM_AARCH64), Err(Errno::ENOEXEC));
    let mut b = good.clone();
    b[16] = 4; // ET_CORE
    assert_eq!(parse_all(&b), Err(Errno::ENOEXEC));
    let mut b = good.clone();
    b[54] = 32;
    assert_eq!(parse_all(&b), Err(Errno::ENOEXEC));
    assert_eq!(
        ElfHeader::parse(&good[..63], EM_X86_64),
        Err(Errno::ENOEXEC)
    );
}

#[test]
fn phdrs_beyond_file() {
    let f = simple();
    let h = ElfHeader::parse(&f, EM_X86_64).unwrap();
    assert_eq!(ElfInfo::parse(h, &f[64..176], 100), Err(Errno::ENOEXEC));
}

#[test]
fn segment_errors() {
    let mk = |p: Vec<u8>| {
        let mut f = ehdr(2, EM_X86_64, 1);
        f.extend(p);
        f.resize(0x3000, 0);
        parse_all(&f)
    };
    assert_eq!(
        mk(phdr(PT_LOAD, PF_R, 0, 0x400000, 0x2000, 0x1000)),
        Err(Errno::EINVAL)
    );
    // File data past the end of the file loads (its pages raise SIGBUS when touched).
    assert!(mk(phdr(PT_LOAD, PF_R, 0, 0x400000, 0x5000, 0x5000)).is_ok());
    assert_eq!(
        mk(phdr(PT_LOAD, PF_R, 0x10, 0x400000, 0x10, 0x10)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mk(phdr(PT_LOAD, PF_R, 0, u64::MAX - 5, 0, 0x10)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mk(phdr(PT_LOAD, PF_R, 0, 0x7fff_ffff_f000, 0, 0x2000)),
        Err(Errno::EINVAL)
    );
    // No load segment: loads nothing; the unmapped entry point faults.
    assert!(mk(phdr(PT_NOTE_TEST, PF_R, 0, 0x400000, 0, 0x10)).is_ok_and(|i| i.segments.is_empty()));
    assert_eq!(
        mk(phdr(PT_INTERP, PF_R, 0x100, 0, 1, 1)),
        Err(Errno::ENOEXEC)
    );
}

const PT_NOTE_TEST: u32 = 4;

#[test]
fn interp_and_pie() {
    let mut f = ehdr(3, EM_X86_64, 3);
    f.extend(phdr(PT_PHDR, PF_R, 64, 64, 168, 168));
    f.extend(phdr(PT_INTERP, PF_R, 0x300, 0x300, 28, 28));
    f.extend(phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x1000));
    f.resize(0x1000, 0);
    let i = parse_all(&f).unwrap();
    assert!(i.is_pie());
    assert_eq!(i.interp, Some((0x300, 28)));
    assert_eq!(i.phdr_vaddr, Some(64));
}

#[test]
fn interp_checks() {
    let mut ph = phdr(PT_INTERP, PF_R, 0x100, 0, 1, 1);
    assert_eq!(find_interp(&ph, 1), Err(Errno::ENOEXEC));
    ph = phdr(PT_INTERP, PF_R, 0x100, 0, 4097, 4097);
    assert_eq!(find_interp(&ph, 1), Err(Errno::ENOEXEC));
    // Only the first PT_INTERP counts.
    ph = phdr(PT_INTERP, PF_R, 0x100, 0, 10, 10);
    ph.extend(phdr(PT_INTERP, PF_R, 0x200, 0, 1, 1));
    assert_eq!(find_interp(&ph, 2), Ok(Some((0x100, 10))));
    assert_eq!(find_interp(&ph, 0), Ok(None));
    let good = simple();
    assert_eq!(interp_header(&good, EM_X86_64), Ok((64, 112)));
    assert_eq!(interp_header(&good, EM_AARCH64), Err(Errno::ELIBBAD));
    assert_eq!(interp_header(&good[..63], EM_X86_64), Err(Errno::ELIBBAD));
    let mut b = good.clone();
    b[54] = 32;
    assert_eq!(interp_header(&b, EM_X86_64), Err(Errno::ELIBBAD));
}

#[test]
fn mutations_never_panic() {
    let good = simple();
    for i in 0..176 {
        for v in [0u8, 1, 0x7f, 0xff] {
            let mut b = good.clone();
            b[i] = v;
            let _ = parse_all(&b);
        }
    }
    for n in 0..good.len().min(400) {
        let _ = parse_all(&good[..n]);
    }
}

#[test]
fn host_binaries() {
    for path in ["/bin/busybox", "/bin/ls"] {
        let Ok(f) = std::fs::read(path) else { continue };
        let i = parse_all(&f).unwrap();
        assert!(!i.segments.is_empty());
    }
}

fn rd(img: &StackImage, top: u64, addr: u64) -> u64 {
    let base = top - img.bytes.len() as u64;
    let o = (addr - base) as usize;
    u64::from_le_bytes(img.bytes[o..o + 8].try_into().unwrap())
}

fn rd_str(img: &StackImage, top: u64, addr: u64) -> Vec<u8> {
    let base = top - img.bytes.len() as u64;
    let o = (addr - base) as usize;
    let end = img.bytes[o..].iter().position(|&c| c == 0).unwrap();
    img.bytes[o..o + end].to_vec()
}

#[test]
fn stack_layout() {
    let top = 0x7fff_ffff_f000u64;
    let aux = AuxInfo {
        phdr: 0x400040,
        phent: 56,
        phnum: 2,
        entry: 0x401000,
        clktck: 100,
        ..Default::default()
    };
    let argv: [&[u8]; 3] = [b"/bin/prog", b"a", b"bc"];
    let envp: [&[u8]; 2] = [b"HOME=/", b"X=1"];
    let img = build_initial_stack(
        top,
        &argv,
        &envp,
        b"/bin/prog",
        b"plat64",
        [7; 16],
        &aux,
        1 << 20,
    )
    .unwrap();
    assert_eq!(img.sp % 16, 0);
    assert_eq!(img.sp, top - img.bytes.len() as u64);
    assert_eq!(rd(&img, top, img.sp), 3);
    for (i, a) in argv.iter().enumerate() {
        let p = rd(&img, top, img.sp + 8 + 8 * i as u64);
        assert_eq!(&rd_str(&img, top, p), a);
    }
    assert_eq!(rd(&img, top, img.sp + 32), 0);
    // The strings as /proc/PID/cmdline and environ would read them from memory.
    assert_eq!(rd(&img, top, img.sp + 8), img.arg_start);
    assert_eq!(
        img.arg_end - img.arg_start,
        b"/bin/prog\0a\0bc\0".len() as u64
    );
    assert_eq!(rd(&img, top, img.sp + 40), img.arg_end);
    assert_eq!(img.env_end - img.arg_end, b"HOME=/\0X=1\0".len() as u64);
    assert_eq!(img.envp_ptr, img.sp + 40);
    for (i, e) in envp.iter().enumerate() {
        let p = rd(&img, top, img.envp_ptr + 8 * i as u64);
        assert_eq!(&rd_str(&img, top, p), e);
    }
    let mut a = img.envp_ptr + 8 * 3;
    let mut seen = std::collections::BTreeMap::new();
    let mut order = Vec::new();
    loop {
        let k = rd(&img, top, a);
        let v = rd(&img, top, a + 8);
        a += 16;
        order.push(k);
        if k == AT_NULL {
            break;
        }
        seen.insert(k, v);
    }
    assert_eq!(seen[&AT_PAGESZ], 4096);
    assert_eq!(seen[&AT_PHDR], 0x400040);
    assert_eq!(seen[&AT_ENTRY], 0x401000);
    assert_eq!(rd_str(&img, top, seen[&AT_EXECFN]), b"/bin/prog");
    assert_eq!(rd_str(&img, top, seen[&AT_PLATFORM]), b"plat64");
    let r = seen[&AT_RANDOM];
    let base = top - img.bytes.len() as u64;
    assert_eq!(
        &img.bytes[(r - base) as usize..(r - base) as usize + 16],
        &[7u8; 16]
    );
    assert_eq!(order[0], AT_MINSIGSTKSZ);
    assert_eq!(*order.last().unwrap(), AT_NULL);
    // The top 8 bytes are the end marker.
    assert_eq!(&img.bytes[img.bytes.len() - 8..], &[0u8; 8]);
}

#[test]
fn stack_e2big() {
    let aux = AuxInfo::default();
    let big = vec![b'x'; 40 * 4096];
    let argv: [&[u8]; 1] = [&big];
    assert_eq!(
        build_initial_stack(
            0x7fff_0000_0000,
            &argv,
            &[],
            b"p",
            b"plat64",
            [0; 16],
            &aux,
            1 << 20
        )
        .err(),
        Some(Errno::E2BIG)
    );
    let s = vec![b'y'; 4000];
    let many: Vec<&[u8]> = (0..100).map(|_| s.as_slice()).collect();
    assert_eq!(
        build_initial_stack(
            0x7fff_0000_0000,
            &many,
            &[],
            b"p",
            b"plat64",
            [0; 16],
            &aux,
            64 * 1024
        )
        .err(),
        Some(Errno::E2BIG)
    );
}
