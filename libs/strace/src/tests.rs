use super::*;
use alloc::format;
use alloc::string::String;
use alloc::vec;

fn quoted(s: &[u8]) -> String {
    let mut o = String::new();
    quote(&mut o, s, STRING_LIMIT, false).unwrap();
    o
}

#[test]
fn quote_escapes_like_strace() {
    assert_eq!(quoted(b"/etc/passwd"), "\"/etc/passwd\"");
    assert_eq!(quoted(b"a\"b\\c\n\t"), "\"a\\\"b\\\\c\\n\\t\"");
    assert_eq!(quoted(b"\x7fELF\x02\x01"), "\"\\177ELF\\2\\1\"");
    // An octal digit after the escape forces three digits.
    assert_eq!(quoted(b"\x001"), "\"\\0001\"");
    assert_eq!(quoted(b"\x00a"), "\"\\0a\"");
}

#[test]
fn quote_cuts_at_32_bytes() {
    let s = [b'x'; 40];
    let o = quoted(&s);
    assert_eq!(o, format!("\"{}\"...", "x".repeat(32)));
    let mut o = String::new();
    quote(&mut o, b"ab", STRING_LIMIT, true).unwrap();
    assert_eq!(o, "\"ab\"...");
}

#[test]
fn flag_names() {
    let mut o = String::new();
    open_flags(&mut o, (O_RDONLY | O_CLOEXEC) as u64).unwrap();
    assert_eq!(o, "O_RDONLY|O_CLOEXEC");
    o.clear();
    open_flags(&mut o, (O_WRONLY | O_CREAT | O_TRUNC) as u64).unwrap();
    assert_eq!(o, "O_WRONLY|O_CREAT|O_TRUNC");
    o.clear();
    open_flags(&mut o, (O_RDWR | O_SYNC) as u64 | 0x4000_0000).unwrap();
    assert_eq!(o, "O_RDWR|O_SYNC|0x40000000");
    o.clear();
    prot(&mut o, 0).unwrap();
    assert_eq!(o, "PROT_NONE");
    o.clear();
    prot(&mut o, (PROT_READ | PROT_WRITE) as u64).unwrap();
    assert_eq!(o, "PROT_READ|PROT_WRITE");
    o.clear();
    map_flags(&mut o, (MAP_PRIVATE | MAP_ANONYMOUS) as u64).unwrap();
    assert_eq!(o, "MAP_PRIVATE|MAP_ANONYMOUS");
}

fn memory(addr: usize, len: usize) -> Option<Vec<u8>> {
    let mem: &[(usize, &[u8])] = &[(0x1000, b"/etc/passwd\0"), (0x2000, b"hello\n\0")];
    mem.iter().find_map(|&(base, data)| {
        let off = addr.checked_sub(base)?;
        (off < data.len()).then(|| data[off..data.len().min(off + len)].to_vec())
    })
}

fn call(name: &str, a: [usize; 6], r: Result<usize, Errno>) -> String {
    let mut o = String::new();
    let from = entry(&mut o, name, &a, &mut memory).unwrap();
    exit(&mut o, name, &a, from, r, &mut memory).unwrap();
    o
}

#[test]
fn whole_lines() {
    let at = AT_FDCWD as isize as usize;
    let flags = (O_RDONLY | O_CLOEXEC) as usize;
    assert_eq!(
        call("openat", [at, 0x1000, flags, 0, 0, 0], Ok(3)),
        "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3"
    );
    let flags = (O_WRONLY | O_CREAT) as usize;
    assert_eq!(
        call("openat", [at, 0x1000, flags, 0o644, 0, 0], Ok(4)),
        "openat(AT_FDCWD, \"/etc/passwd\", O_WRONLY|O_CREAT, 0644) = 4"
    );
    assert_eq!(
        call("openat", [at, 0x1000, 0, 0, 0, 0], Err(Errno::ENOENT)),
        "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = -1 ENOENT (No such file or directory)"
    );
    assert_eq!(
        call("write", [1, 0x2000, 6, 0, 0, 0], Ok(6)),
        "write(1, \"hello\\n\", 6) = 6"
    );
    assert_eq!(
        call("read", [3, 0x2000, 100, 0, 0, 0], Ok(3)),
        "read(3, \"hel\", 100) = 3"
    );
    assert_eq!(
        call("read", [3, 0x2000, 100, 0, 0, 0], Err(Errno::EAGAIN)),
        "read(3, 0x2000, 100) = -1 EAGAIN (Resource temporarily unavailable)"
    );
    let prot = PROT_READ | PROT_WRITE;
    let map = MAP_PRIVATE | MAP_ANONYMOUS;
    assert_eq!(
        call(
            "mmap",
            [0, 8192, prot, map, usize::MAX, 0],
            Ok(0x7f00_0000_0000)
        ),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000"
    );
    assert_eq!(call("close", [3, 0, 0, 0, 0, 0], Ok(0)), "close(3) = 0");
    assert_eq!(
        call("open", [0x9000, 0, 0, 0, 0, 0], Err(Errno::EFAULT)),
        "open(0x9000, O_RDONLY) = -1 EFAULT (Bad address)"
    );
}

#[test]
fn argv_arrays() {
    let mut mem = |addr: usize, len: usize| -> Option<Vec<u8>> {
        let mut words = vec![];
        for w in [0x1000u64, 0x2000, 0] {
            words.extend_from_slice(&w.to_ne_bytes());
        }
        if addr >= 0x3000 && addr < 0x3000 + words.len() {
            let off = addr - 0x3000;
            return Some(words[off..words.len().min(off + len)].to_vec());
        }
        memory(addr, len)
    };
    let mut o = String::new();
    arg(
        &mut o,
        Arg::StrArray,
        &[0x3000, 0, 0, 0, 0, 0],
        0,
        None,
        &mut mem,
    )
    .unwrap();
    assert_eq!(o, "[\"/etc/passwd\", \"hello\\n\"]");
}

#[test]
fn every_errno_has_a_description() {
    for n in (1..=133).filter(|&n| Errno(n).name() != "E?") {
        assert_ne!(Errno(n).description(), "Unknown error", "{n}");
    }
}
