//! `arch.no-x86-names`: kernel/ and libs/ name no architecture. Everything x86-specific lives in
//! hal/src/arch/x86_64/ behind hal's arch-neutral API; this check keeps it that way by looking
//! for x86 words in every source file of kernel/ and libs/ (code, comments and strings alike).
//!
//! A line is split into words at every character that is not a letter or digit (so `_` and
//! `::` split too: `tsc_boot` and `EM_X86_64` are caught) and at lower-to-upper case changes
//! (`TscHz`); a word matches when it equals a forbidden name, so "strip" or "description"
//! never match `rip`. `vector` followed by `:` or `=` and a number is an exception-vector
//! literal.

use std::path::{Path, PathBuf};

/// Words that only make sense on x86.
const FORBIDDEN: &[&str] = &[
    "x86", "amd64", "apic", "lapic", "rdtsc", "rdtscp", "cpuid", "rip", "rsp", "rflags", "eflags",
    "tsc", "rdmsr", "wrmsr", "msr",
];

/// Paths (prefixes, relative to the repository) the check skips: the per-architecture folders
/// the arch boundary keeps outside hal, each chosen by `cfg(target_arch)` in its parent
/// module: the ABI data that differs by architecture (syscall numbers, `struct stat`, some open
/// flags, clone's argument order) with its cross-check test, and the system calls only one
/// architecture has (`arch_prctl`). A port adds a sibling folder; no other file changes.
const SKIP: &[&str] = &[
    "libs/abi/src/arch/",
    "libs/abi/tests/syscall_nr_linux.rs",
    "kernel/src/syscall/arch/",
];

/// Identifiers that look like x86 names but are not x86 code.
///
/// `EM_X86_64`: the ELF specification's e_machine value, in libs/elf's table of machine
/// numbers next to EM_AARCH64 and EM_RISCV. The ELF loader does not choose it: the kernel
/// passes the machine it expects (`lintel_hal::cpu::ELF_MACHINE`) to `ElfHeader::parse`.
const ALLOWED_IDENTS: &[&str] = &["EM_X86_64"];

/// Source files the check reads.
const EXTENSIONS: &[&str] = &["rs", "c", "h", "S", "s", "ld", "lds", "toml", "md", "txt"];

/// Words of one line, lower-cased.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in line.chars() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = ch.is_ascii_lowercase();
            cur.push(ch.to_ascii_lowercase());
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `vector: 14`, `vector == 6`, `vector = 0x0e`: an exception vector number in the open.
fn vector_literal(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("vector") {
        let before = rest[..i].chars().last();
        let after = &rest[i + "vector".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let t = after.trim_start();
        let Some(t) = t.strip_prefix([':', '=']) else {
            continue;
        };
        let t = t.trim_start_matches(['=', ' ']);
        if t.starts_with(|c: char| c.is_ascii_digit()) {
            return true;
        }
    }
    false
}

/// The forbidden names on one line, if any.
pub fn offending(line: &str) -> Vec<String> {
    let mut line = line.to_string();
    for a in ALLOWED_IDENTS {
        line = line.replace(a, " ");
    }
    let mut hits: Vec<String> = words(&line)
        .into_iter()
        .filter(|w| FORBIDDEN.contains(&w.as_str()))
        .collect();
    if vector_literal(&line) {
        hits.push("vector literal".into());
    }
    hits.dedup();
    hits
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            out.push(p);
        }
    }
}

/// Every `path:line: words: text` in kernel/ and libs/ that names x86.
pub fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for top in ["kernel", "libs"] {
        collect(&root.join(top), &mut files);
    }
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        if SKIP.iter().any(|s| rel.starts_with(s)) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let hits = offending(line);
            if !hits.is_empty() {
                out.push(format!(
                    "{rel}:{}: {}: {}",
                    i + 1,
                    hits.join(", "),
                    line.trim()
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_x86_words() {
        assert_eq!(offending("use lintel_hal::x86::apic;"), ["x86", "apic"]);
        assert_eq!(offending("ctx.rip -= 2;"), ["rip"]);
        assert_eq!(offending("let t = read_tsc_boot();"), ["tsc"]);
        assert_eq!(offending("fn TscHz()"), ["tsc"]);
        assert_eq!(offending("b\"x86_64\""), ["x86"]);
        assert_eq!(offending("const EM_X86: u16 = 62;"), ["x86"]);
        assert_eq!(
            offending("ReturnReason::Exception { vector: 14, .. }"),
            ["vector literal"]
        );
        assert_eq!(offending("if vector == 6 {"), ["vector literal"]);
    }

    #[test]
    fn ignores_words_containing_them() {
        for ok in [
            "strip the description of the tscript",
            "let vector = Vec::new();",
            "interrupt_vector: 3",
            "ElfHeader::parse(file, EM_X86_64)",
            "ctx.set_ip(v)",
            "msrv",
        ] {
            assert!(offending(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn kernel_and_libs_are_clean() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let v = violations(&root);
        assert!(v.is_empty(), "x86 names outside hal:\n{}", v.join("\n"));
    }
}
