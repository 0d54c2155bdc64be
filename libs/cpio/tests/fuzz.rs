//! Fuzzing the newc reader with mutated archives: one built by the crate's writer and, when the
//! host has `cpio`, one written by GNU cpio. Every mutant gives members and then an error or
//! the end, never a panic or an endless walk.

#[path = "../../fuzz_harness.rs"]
mod harness;

use harness::{mutate, Field, Rng, INTERESTING};
use lintel_cpio::{entries, write_entry, write_trailer};
use std::sync::OnceLock;

const HEADER: usize = 110;

fn own_archive() -> Vec<u8> {
    let mut v = Vec::new();
    write_entry(&mut v, b".", 0o40755, 1, 3, 0, (0, 0), &[]);
    write_entry(&mut v, b"bin", 0o40755, 2, 2, 5, (0, 0), &[]);
    write_entry(&mut v, b"bin/sh", 0o100755, 3, 1, 7, (0, 0), &[0x7f; 77]);
    write_entry(&mut v, b"bin/ls", 0o120777, 4, 1, 7, (0, 0), b"sh");
    write_entry(&mut v, b"dev/null", 0o20666, 5, 1, 0, (1, 3), &[]);
    write_entry(
        &mut v,
        b"./etc/passwd",
        0o100644,
        6,
        1,
        9,
        (0, 0),
        b"root:x:0:0\n",
    );
    write_trailer(&mut v);
    v
}

/// A newc archive of a small tree, written by the host's `cpio -o -H newc`.
fn host_archive() -> Option<Vec<u8>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("lintel-cpio-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).ok()?;
    std::fs::write(dir.join("sub/file"), b"some bytes of a file\n").ok()?;
    std::fs::write(dir.join("empty"), b"").ok()?;
    let _ = std::os::unix::fs::symlink("sub/file", dir.join("link"));
    let mut child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(b".\nsub\nsub/file\nempty\nlink\n")
        .ok()?;
    let out = child.wait_with_output().ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    out.status.success().then_some(out.stdout)
}

fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut s = vec![own_archive()];
        s.extend(host_archive());
        s
    })
}

/// Where the headers are, found by walking the unmutated archive.
fn header_offsets(a: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + HEADER <= a.len() && a[pos..].starts_with(b"07070") {
        out.push(pos);
        let field = |i: usize| {
            let s = std::str::from_utf8(&a[pos + 6 + 8 * i..pos + 14 + 8 * i]).unwrap();
            usize::from_str_radix(s, 16).unwrap()
        };
        let name_end = (pos + HEADER + field(11) + 3) & !3;
        pos = (name_end + field(6) + 3) & !3;
    }
    out
}

fn case(rng: &mut Rng, round: usize) {
    let seeds = seeds();
    let seed = &seeds[round % seeds.len()];
    let headers = header_offsets(seed);
    let mut a = seed.clone();
    if rng.one_in(2) {
        // One of the 13 hex fields of a header: an interesting value, or not hex at all.
        let at = rng.pick(&headers) + 6 + 8 * rng.below(13);
        let text = if rng.one_in(4) {
            rng.bytes(8)
        } else {
            format!("{:08x}", *rng.pick(INTERESTING) as u32).into_bytes()
        };
        a[at..at + 8].copy_from_slice(&text);
    } else {
        let fields: Vec<Field> = headers
            .iter()
            .flat_map(|&h| {
                (0..14).map(move |i| Field {
                    at: h + 6 * i,
                    width: 1,
                })
            })
            .collect();
        mutate(rng, &mut a, &fields);
    }
    let base = a.as_ptr() as usize;
    let mut n = 0;
    for e in entries(&a) {
        n += 1;
        assert!(n <= a.len() / HEADER + 1, "more members than headers fit");
        let Ok(e) = e else {
            continue;
        };
        assert!(!e.name.is_empty());
        // Name and data lie inside the archive (but for the root's ".", made up for a name
        // that is all slashes).
        let name = if e.name == b"." { &[][..] } else { e.name };
        for s in [name, e.data] {
            let start = s.as_ptr() as usize;
            assert!(s.is_empty() || (start >= base && start + s.len() <= base + a.len()));
        }
    }
}

#[test]
fn fuzz_cpio() {
    harness::run("fuzz_cpio", 4000, case);
}
