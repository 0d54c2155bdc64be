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

/// The calls a port declares in its own file, kernel/src/syscall/arch/ARCH.rs (which the
/// x86_64 kernel's table cannot show): (name, status, note) from each
/// `Syscall::implemented("name", handler, "note")` or `Syscall::partial(...)` there.
fn port_only_calls(arch: &str) -> Result<Vec<(String, String, String)>, String> {
    let path = root().join(format!("kernel/src/syscall/arch/{arch}.rs"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for status in ["implemented", "partial"] {
        for (i, _) in text.match_indices(&format!("Syscall::{status}(")) {
            let strings = string_literals(&text[i..], 2);
            match &strings[..] {
                [name, note] => out.push((name.clone(), status.to_string(), note.clone())),
                _ => {
                    return Err(format!(
                        "{}: a declaration xtask cannot read",
                        path.display()
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// The first `n` Rust string literals of `text`, with `\` line continuations and the simple
/// escapes undone.
fn string_literals(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while out.len() < n {
        // The opening quote.
        if !chars.by_ref().any(|c| c == '"') {
            break;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\n') => {
                        while chars.peek().is_some_and(|c| c.is_whitespace()) {
                            chars.next();
                        }
                    }
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(e) => s.push(e),
                    None => {}
                },
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
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
         (`tests/conformance/riscv64.txt`, `aarch64.txt`) leaves out: the others run on it too. The \
         rows at the end, with no x86_64 number, are the calls only a port has (declared in \
         `kernel/src/syscall/arch/ARCH.rs`).\n\n\
         | nr | syscall | status | note | tests | riscv64 | aarch64 |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut ports = Vec::new();
    for arch in PORTS {
        ports.push((port_numbers(arch)?, crate::test::port_tests(arch)?));
    }
    // The ports' own calls, after x86_64's rows (no x86_64 number), in the first port's
    // number order.
    let mut only: Vec<(u32, Row)> = Vec::new();
    for arch in PORTS {
        let numbers = port_numbers(arch)?;
        for (name, status, note) in port_only_calls(arch)? {
            let Some(&n) = numbers.get(&name) else {
                continue;
            };
            if rows.iter().any(|r| r.name == name) || only.iter().any(|(_, r)| r.name == name) {
                continue;
            }
            only.push((
                n,
                Row {
                    nr: 0,
                    name,
                    status,
                    note,
                },
            ));
        }
    }
    only.sort_by_key(|(n, _)| *n);
    let x86_rows = rows.len();
    let rows: Vec<Row> = rows
        .into_iter()
        .chain(only.into_iter().map(|(_, r)| r))
        .collect();
    let (mut full, mut partial) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        let Row {
            nr,
            name,
            status,
            note,
        } = row;
        let nr = if i < x86_rows {
            nr.to_string()
        } else {
            "\u{2013}".to_string()
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_undo_continuations() {
        let src = "Syscall::partial(\n    \"a_call\",\n    handler,\n    \"one \\\n     two \\\"q\\\"\",\n)";
        assert_eq!(string_literals(src, 2), ["a_call", "one two \"q\""]);
        assert_eq!(string_literals("none", 2), Vec::<String>::new());
    }

    #[test]
    fn riscv64_has_its_own_calls() {
        let calls = port_only_calls("riscv64").unwrap();
        let names: Vec<&str> = calls.iter().map(|(n, _, _)| n.as_str()).collect();
        assert!(names.contains(&"riscv_hwprobe") && names.contains(&"riscv_flush_icache"));
        assert!(calls.iter().all(|(_, _, note)| !note.contains('\n')));
        let numbers = port_numbers("riscv64").unwrap();
        assert_eq!(numbers.get("riscv_hwprobe"), Some(&258));
        assert!(port_only_calls("aarch64").unwrap().is_empty());
    }
}
