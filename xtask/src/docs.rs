//! Generates `docs/syscalls.md` from the kernel's own syscall table and the conformance tests.
//!
//! The table is the one the kernel dispatches with: booted with `lintel.syscalls` on its
//! command line, the kernel prints every syscall it implements (number, name, status, note,
//! from the `SYSCALLS` declarations in `kernel/src/syscall/`) between two marker lines and
//! powers off.

use crate::build::{self, Image};
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One syscall as the kernel reports it.
struct Row {
    nr: u32,
    name: String,
    status: String,
    note: String,
}

/// Boots the kernel with `lintel.syscalls` and reads its table from the console.
fn kernel_table() -> Result<Vec<Row>, String> {
    let kernel = build::kernel()?;
    let opts = RunOpts {
        append: Some("log=warn lintel.syscalls".into()),
        timeout: Some(120),
        ..RunOpts::default()
    };
    let (outcome, out) = qemu::boot(&opts, &kernel, &Image::new(), "syscalls", true)?;
    if outcome != Outcome::Exit(0) {
        return Err(format!(
            "printing the syscall table: {}",
            qemu::describe(&outcome)
        ));
    }
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    let begin = lines.iter().position(|l| *l == "lintel-syscalls-begin");
    let end = lines.iter().position(|l| *l == "lintel-syscalls-end");
    let (Some(begin), Some(end)) = (begin, end) else {
        return Err("the kernel printed no syscall table".into());
    };
    lines[begin + 1..end]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            match f[..] {
                [nr, name, status, note] => Ok(Row {
                    nr: nr.parse().map_err(|_| format!("bad table line {l:?}"))?,
                    name: name.into(),
                    status: status.into(),
                    note: note.into(),
                }),
                _ => Err(format!("bad table line {l:?}")),
            }
        })
        .collect()
}

/// The ports whose numbers and lists docs/syscalls.md shows beside x86_64's.
const PORTS: [&str; 2] = ["riscv64", "aarch64"];

/// Port `arch`'s syscall numbers by name, from its table in libs/abi (asm-generic's
/// `(nr, "name")` pairs and the port's own): the kernel dispatches a declared syscall on a
/// port exactly when its name has a number there (kernel/src/syscall/table.rs).
fn port_numbers(arch: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut out = BTreeMap::new();
    for dir in ["generic", arch] {
        let path = root().join(format!("libs/abi/src/arch/{dir}/syscall_nr.rs"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, _) in text.match_indices('(') {
            let rest = &text[i + 1..];
            let Some((nr, rest)) = rest.split_once(", \"") else {
                continue;
            };
            let Some((name, _)) = rest.split_once("\")") else {
                continue;
            };
            let name_ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if let (Ok(nr), true) = (nr.parse::<u32>(), name_ok) {
                out.insert(name.to_string(), nr);
            }
        }
    }
    Ok(out)
}

/// Test names whose source calls `name(` (or names it in a `// covers:` line).
fn tests_for(name: &str, tests: &[(String, String)]) -> Vec<String> {
    let call = format!("{name}(");
    let sys = format!("SYS_{name}");
    tests
        .iter()
        .filter(|(_, text)| {
            text.contains(&sys)
                || text.lines().any(|l| {
                    (l.trim_start().starts_with("// covers:")
                        && l.split_whitespace().any(|w| w.trim_matches(',') == name))
                        || l.match_indices(&call).any(|(i, _)| {
                            i == 0
                                || !l.as_bytes()[i - 1].is_ascii_alphanumeric()
                                    && l.as_bytes()[i - 1] != b'_'
                        })
                })
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// The text of docs/syscalls.md as the sources say it should be.
pub fn render() -> Result<String, String> {
    let rows = kernel_table()?;
    let dir = root().join("tests/conformance");
    let mut tests: Vec<(String, String)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            tests.push((name, std::fs::read_to_string(&p).unwrap_or_default()));
        }
    }
    let mut out = String::from(
        "# System call coverage\n\n\
         Generated by `cargo xtask docs` from the kernel's syscall table (the `SYSCALLS` list \
         beside each handler in `kernel/src/syscall/`, printed by the kernel booted with \
         `lintel.syscalls`) and the conformance tests in `tests/conformance`. Numbers are \
         x86_64's. Any system call not listed returns `ENOSYS` and is logged once by name.\n\n\
         Status: **implemented** (Linux semantics, tested or testable), **partial** (the note says \
         what is missing).\n\n\
         The riscv64 and aarch64 columns: the syscall's number there (the asm-generic table; \
         \u{2013} where the architecture has no such call, which Lintel then does not dispatch \
         there), and the tests of the row that the port's list \
         (`tests/conformance/riscv64.txt`, `aarch64.txt`) leaves out: the others run on it too. riscv64's own riscv_hwprobe (258) and \
         riscv_flush_icache (259), in kernel/src/syscall/arch/riscv64.rs, have no row.\n\n\
         | nr | syscall | status | note | tests | riscv64 | aarch64 |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut ports = Vec::new();
    for arch in PORTS {
        ports.push((port_numbers(arch)?, crate::test::port_tests(arch)?));
    }
    let (mut full, mut partial) = (0, 0);
    for Row {
        nr,
        name,
        status,
        note,
    } in &rows
    {
        if status == "implemented" {
            full += 1;
        } else {
            partial += 1;
        }
        let t = tests_for(name, &tests);
        let cols: Vec<String> = ports
            .iter()
            .map(|(numbers, listed)| match numbers.get(name) {
                None => "\u{2013}".to_string(),
                Some(n) => {
                    let left: Vec<&str> = t
                        .iter()
                        .filter(|t| !listed.contains(t))
                        .map(|t| t.as_str())
                        .collect();
                    if left.is_empty() {
                        n.to_string()
                    } else {
                        format!("{n}; not {}", left.join(", "))
                    }
                }
            })
            .collect();
        out.push_str(&format!(
            "| {nr} | `{name}` | {status} | {note} | {} | {} |\n",
            t.join(", "),
            cols.join(" | ")
        ));
    }
    out.push_str(&format!("\n{full} implemented, {partial} partial.\n"));
    Ok(out)
}

pub fn generate() -> Result<(), String> {
    let out = render()?;
    let path = root().join("docs/syscalls.md");
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
