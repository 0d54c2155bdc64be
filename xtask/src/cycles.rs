//! The import-cycle check over the kernel crate: arrows between source files must point one
//! way (down the layers), so a file never reaches itself through what it imports.
//!
//! An arrow A -> B means a path in A (in a `use` item or inline, `crate::...`, `super::...`,
//! `self::...`, a child module's name, or a name a `use` item bound) names something defined
//! in file B. Declaring a child module (`mod x;`) is not an arrow: it only says where the
//! child's file lives; nor is a file naming a module that encloses it (its scope). Comments
//! and string literals are skipped. Files are modules: `a/b.rs` or `a/b/mod.rs` is
//! `crate::a::b`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (e.g. ["fs", "file"]) -> file, for every `.rs` file under `src`.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap_or(&p);
            let mut parts: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            let last = parts.last().cloned().unwrap_or_default();
            if last == "mod" || (parts.len() == 1 && (last == "main" || last == "lib")) {
                parts.pop();
            }
            out.insert(parts, p);
        }
    }
    out
}

/// The text with comments, string and char literals blanked out (lengths kept).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(if b[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
            }
        } else if b[i] == b'"' || (b[i] == b'r' && b.get(i + 1) == Some(&b'"')) {
            // A (raw) string literal: skip to its end.
            let raw = b[i] == b'r';
            out.push(b' ');
            i += if raw { 2 } else { 1 };
            if raw {
                out.push(b' ');
            }
            while i < b.len() && b[i] != b'"' {
                if !raw && b[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(if b[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && (b.get(i + 2) == Some(&b'\'') || (b.get(i + 1) == Some(&b'\\')))
        {
            // A char literal ('a', '\n', '\''); lifetimes ('a) have no closing quote here.
            out.push(b' ');
            i += 1;
            if b.get(i) == Some(&b'\\') {
                out.push(b' ');
                i += 1;
            }
            while i < b.len() && b[i] != b'\'' {
                out.push(b' ');
                i += 1;
            }
            out.push(b' ');
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path the text names that starts at `crate`, `super` or `self`, as segments, with
/// `use` trees (`a::{b, c::d}`) expanded. A path that starts at a name in `roots` (a child
/// module, or a name a `use` item bound) is rewritten to start at what that name stands for.
fn paths(text: &str, roots: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let mut prefix = if word == "crate" || word == "super" || word == "self" {
            vec![word]
        } else if let Some(p) = roots.get(&word) {
            // Only as the head of a path (`name::...`).
            let mut k = i;
            skip_ws(&chars, &mut k);
            if !(chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&':')) {
                continue;
            }
            p.clone()
        } else {
            continue;
        };
        let mut j = i;
        parse_tree(&chars, &mut j, &mut prefix, &mut out);
        i = j.max(i);
    }
    out
}

/// The names `use` items of the text bind, each to the path it stands for (`use crate::fs;`
/// binds `fs`; `use super::x as y;` binds `y`), for paths that start at those names.
fn use_bindings(text: &str) -> BTreeMap<String, Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i + 4 < chars.len() {
        let at_word = i == 0 || !is_ident(chars[i - 1]);
        if !(at_word && chars[i..].starts_with(&['u', 's', 'e']) && chars[i + 3].is_whitespace()) {
            i += 1;
            continue;
        }
        let mut j = i + 3;
        skip_ws(&chars, &mut j);
        let s = j;
        while j < chars.len() && is_ident(chars[j]) {
            j += 1;
        }
        let head: String = chars[s..j].iter().collect();
        let mut prefix = vec![head];
        let mut leaves = Vec::new();
        parse_tree(&chars, &mut j, &mut prefix, &mut leaves);
        // `as alias` right after a single path.
        let mut k = j;
        skip_ws(&chars, &mut k);
        let alias = if chars[k..].starts_with(&['a', 's'])
            && chars.get(k + 2).is_some_and(|c| c.is_whitespace())
        {
            let mut a = k + 2;
            skip_ws(&chars, &mut a);
            let s = a;
            while a < chars.len() && is_ident(chars[a]) {
                a += 1;
            }
            Some(chars[s..a].iter().collect::<String>())
        } else {
            None
        };
        for leaf in leaves {
            if let Some(last) = alias.clone().or_else(|| leaf.last().cloned()) {
                if last != "self" && last != "super" && last != "crate" {
                    out.insert(last, leaf);
                }
            }
        }
        i = j.max(i + 1);
    }
    out
}

fn skip_ws(c: &[char], j: &mut usize) {
    while *j < c.len() && c[*j].is_whitespace() {
        *j += 1;
    }
}

/// Continues a path at `::`: more segments, or a `{...}` group of subtrees.
fn parse_tree(c: &[char], j: &mut usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        skip_ws(c, j);
        if !(c.get(*j) == Some(&':') && c.get(*j + 1) == Some(&':')) {
            out.push(prefix.clone());
            return;
        }
        *j += 2;
        skip_ws(c, j);
        if c.get(*j) == Some(&'{') {
            *j += 1;
            loop {
                skip_ws(c, j);
                match c.get(*j) {
                    None => return,
                    Some('}') => {
                        *j += 1;
                        return;
                    }
                    Some(',') => *j += 1,
                    Some(ch) if is_ident(*ch) => {
                        let s = *j;
                        while *j < c.len() && is_ident(c[*j]) {
                            *j += 1;
                        }
                        let w: String = c[s..*j].iter().collect();
                        let mut sub = prefix.clone();
                        if w != "self" {
                            sub.push(w);
                        }
                        parse_tree(c, j, &mut sub, out);
                        // `as alias`
                        skip_ws(c, j);
                        if c[*j..].starts_with(&['a', 's'])
                            && c.get(*j + 2).is_some_and(|x| x.is_whitespace())
                        {
                            *j += 2;
                            skip_ws(c, j);
                            while *j < c.len() && is_ident(c[*j]) {
                                *j += 1;
                            }
                        }
                    }
                    Some('*') => {
                        *j += 1;
                        out.push(prefix.clone());
                    }
                    Some(_) => *j += 1,
                }
            }
        }
        if c.get(*j) == Some(&'*') {
            *j += 1;
            out.push(prefix.clone());
            return;
        }
        let s = *j;
        while *j < c.len() && is_ident(c[*j]) {
            *j += 1;
        }
        if s == *j {
            out.push(prefix.clone());
            return;
        }
        prefix.push(c[s..*j].iter().collect());
    }
}

/// Resolves a path written in module `here` to the file of the deepest module it names.
fn resolve(
    here: &[String],
    path: &[String],
    mods: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut abs: Vec<String> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            abs = here.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            abs = here.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                abs.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    abs.extend(rest.iter().cloned());
    (0..=abs.len())
        .rev()
        .map(|n| abs[..n].to_vec())
        .find(|m| mods.contains_key(m))
}

/// File -> the files it imports, for the crate rooted at `src`.
pub fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mods = modules(src);
    let mut g = BTreeMap::new();
    for (m, file) in &mods {
        let text = strip(&std::fs::read_to_string(file).unwrap_or_default());
        // Names a path may start at besides crate/super/self: the module's children and what
        // its `use` items bind (resolved from this module, as Rust 2018 paths are).
        let mut roots: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (other, _) in mods.iter() {
            if other.len() == m.len() + 1 && other.starts_with(m) {
                roots.insert(
                    other[m.len()].clone(),
                    vec!["self".into(), other[m.len()].clone()],
                );
            }
        }
        for (name, mut path) in use_bindings(&text) {
            if path.first().is_some_and(|h| roots.contains_key(h)) {
                path.insert(0, "self".into());
            }
            roots.insert(name, path);
        }
        let mut deps = BTreeSet::new();
        for p in paths(&text, &roots) {
            let p = match p.first().map(String::as_str) {
                Some("crate") | Some("super") | Some("self") => p,
                _ => continue,
            };
            if let Some(target) = resolve(m, &p, &mods) {
                // A file naming itself, the crate root or a module that encloses it (its
                // parent's items are its scope, as in Linux a .c file includes its own
                // directory's header) is no arrow; a parent naming its children is one.
                if !m.starts_with(&target) {
                    deps.insert(mods[&target].clone());
                }
            }
        }
        g.insert(file.clone(), deps);
    }
    g
}

/// Strongly connected components with more than one file (Tarjan).
pub fn cycles(g: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct St<'a> {
        g: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        on: BTreeSet<&'a PathBuf>,
        stack: Vec<&'a PathBuf>,
        next: usize,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a PathBuf) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            if !s.g.contains_key(w) {
                continue;
            }
            let w = s.g.get_key_value(w).map(|(k, _)| k).unwrap_or(w);
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = St {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// Ok when the crate under `src` has no import cycle; else each cycle with its arrows.
pub fn check(src: &Path) -> Result<(), String> {
    let g = graph(src);
    let found = cycles(&g);
    if found.is_empty() {
        return Ok(());
    }
    let rel = |p: &Path| p.strip_prefix(src).unwrap_or(p).display().to_string();
    let mut msg = String::new();
    for c in &found {
        let set: BTreeSet<&PathBuf> = c.iter().collect();
        msg.push_str(&format!("cycle of {} files:", c.len()));
        for a in c {
            for b in &g[a] {
                if set.contains(b) {
                    msg.push_str(&format!(" {} -> {};", rel(a), rel(b)));
                }
            }
        }
        msg.push('\n');
    }
    Err(msg)
}

/// Files (under kernel/src) allowed inside an import cycle: none. The list existed while the
/// 18-file cycle of December 2026 was taken apart; a file that joins a cycle fails the check.
pub const KNOWN: &[&str] = &[];

/// The test-suite check: no file outside `known` is in a cycle. Returns how many files are
/// still in cycles.
pub fn ratchet(src: &Path, known: &[&str]) -> Result<usize, String> {
    let found = cycles(&graph(src));
    let mut new = Vec::new();
    let mut n = 0;
    for c in &found {
        for f in c {
            n += 1;
            let rel = f.strip_prefix(src).unwrap_or(f).display().to_string();
            if !known.contains(&rel.as_str()) {
                new.push(rel);
            }
        }
    }
    if new.is_empty() {
        Ok(n)
    } else {
        Err(format!(
            "new files in an import cycle: {} (cargo xtask cycles shows the arrows)",
            new.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn use_trees_expand() {
        let p = paths(
            "use crate::fs::{file::OpenFile, pipe, self};\nlet x = super::a::b(1);",
            &BTreeMap::new(),
        );
        assert!(p.contains(&seg(&["crate", "fs", "file", "OpenFile"])));
        assert!(p.contains(&seg(&["crate", "fs", "pipe"])));
        assert!(p.contains(&seg(&["crate", "fs"])));
        assert!(p.contains(&seg(&["super", "a", "b"])));
    }

    #[test]
    fn comments_and_strings_are_not_paths() {
        let t =
            strip("// crate::a\nlet s = \"crate::b\"; /* crate::c */ let c = '\"'; crate::d::e");
        let p = paths(&t, &BTreeMap::new());
        assert_eq!(p, vec![seg(&["crate", "d", "e"])]);
    }

    #[test]
    fn finds_a_cycle_and_none_in_a_tree() {
        let dir = std::env::temp_dir().join(format!("lintel-cycles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("fs")).unwrap();
        std::fs::write(dir.join("main.rs"), "mod fs; mod sched;").unwrap();
        std::fs::write(dir.join("fs/mod.rs"), "pub mod file;").unwrap();
        std::fs::write(dir.join("fs/file.rs"), "use crate::sched::WaitQueue;").unwrap();
        std::fs::write(dir.join("sched.rs"), "pub struct WaitQueue;").unwrap();
        assert!(check(&dir).is_ok());
        std::fs::write(dir.join("sched.rs"), "use super::fs::file::X;").unwrap();
        let e = check(&dir).unwrap_err();
        assert!(e.contains("fs/file.rs -> sched.rs"), "{e}");
        // Through a child module named relatively, and through a `use` binding.
        std::fs::write(dir.join("sched.rs"), "pub struct WaitQueue;").unwrap();
        std::fs::write(dir.join("fs/mod.rs"), "pub mod file;\npub use file::X;").unwrap();
        std::fs::write(
            dir.join("fs/file.rs"),
            "use crate::sched;\nfn f() { sched::g(); }",
        )
        .unwrap();
        std::fs::write(dir.join("sched.rs"), "use crate::fs;\nfn g() { fs::h(); }").unwrap();
        let e = check(&dir).unwrap_err();
        assert!(
            e.contains("fs/file.rs -> sched.rs") && e.contains("sched.rs -> fs/mod.rs"),
            "{e}"
        );
        assert!(e.contains("fs/mod.rs -> fs/file.rs"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
