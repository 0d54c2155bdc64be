//! The syscall table: every family's declarations, indexed by this architecture's numbers.

use super::{Call, SysResult};
use lintel_abi::syscall_nr as nr;

/// A handler: decodes its arguments from the call and runs it.
pub type Handler = fn(&mut Call) -> SysResult;

/// How completely Lintel implements a syscall (the status column of docs/syscalls.md).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// Linux semantics, tested or testable.
    Implemented,
    /// Something is missing; the note says what.
    Partial,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Implemented => "implemented",
            Status::Partial => "partial",
        }
    }
}

/// One syscall as a family declares it, next to its handler.
pub struct Syscall {
    /// Linux's name (the `__NR_` suffix); the number comes from the architecture's table.
    pub name: &'static str,
    pub handler: Handler,
    pub status: Status,
    /// What is missing or worth knowing; empty when nothing is.
    pub note: &'static str,
}

impl Syscall {
    pub const fn implemented(name: &'static str, handler: Handler, note: &'static str) -> Self {
        Syscall {
            name,
            handler,
            status: Status::Implemented,
            note,
        }
    }

    pub const fn partial(name: &'static str, handler: Handler, note: &'static str) -> Self {
        Syscall {
            name,
            handler,
            status: Status::Partial,
            note,
        }
    }
}

/// Every family's declarations.
const FAMILIES: &[&[&[Syscall]]] = &[
    super::fs::SYSCALLS,
    super::mm::SYSCALLS,
    super::process::SYSCALLS,
    super::signal::SYSCALLS,
    super::sched::SYSCALLS,
    super::time::SYSCALLS,
    super::event::SYSCALLS,
    super::futex::SYSCALLS,
    super::ipc::SYSCALLS,
    super::cred::SYSCALLS,
    super::net::SYSCALLS,
    super::system::SYSCALLS,
    super::arch::SYSCALLS,
];

/// Syscall numbers below this index the table (Linux's are below 512 on every architecture).
pub const TABLE_LEN: usize = 512;

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// This architecture's number for `name`.
const fn number_of(name: &str) -> Option<usize> {
    let mut i = 0;
    while i < nr::NAMES.len() {
        if str_eq(nr::NAMES[i].1, name) {
            return Some(nr::NAMES[i].0);
        }
        i += 1;
    }
    None
}

/// Builds the dispatch table at compile time. A declared syscall this architecture does not
/// have (no number in its table) is left out; one declared twice stops the build.
const fn build() -> [Option<&'static Syscall>; TABLE_LEN] {
    let mut t: [Option<&'static Syscall>; TABLE_LEN] = [None; TABLE_LEN];
    let mut f = 0;
    while f < FAMILIES.len() {
        let mut g = 0;
        while g < FAMILIES[f].len() {
            let mut k = 0;
            while k < FAMILIES[f][g].len() {
                let s = &FAMILIES[f][g][k];
                if let Some(n) = number_of(s.name) {
                    assert!(n < TABLE_LEN, "syscall number out of the table");
                    assert!(t[n].is_none(), "syscall declared twice");
                    t[n] = Some(s);
                }
                k += 1;
            }
            g += 1;
        }
        f += 1;
    }
    t
}

static TABLE: [Option<&'static Syscall>; TABLE_LEN] = build();

/// The handler for syscall number `n`, if this architecture has it and Lintel implements it.
pub fn lookup(n: usize) -> Option<&'static Syscall> {
    TABLE.get(n).copied().flatten()
}

/// Every implemented syscall with its number, in number order.
pub fn all() -> impl Iterator<Item = (usize, &'static Syscall)> {
    TABLE
        .iter()
        .enumerate()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
}

/// First and last line of the table `print` writes; `cargo xtask docs` reads between them.
pub const BEGIN_MARK: &str = "lintel-syscalls-begin";
pub const END_MARK: &str = "lintel-syscalls-end";

/// Writes the table on the console, one syscall a line: number, name, status and note,
/// separated by tabs (the source of docs/syscalls.md; see `cargo xtask docs`).
pub fn print() {
    lintel_hal::println!("{}", BEGIN_MARK);
    for (n, s) in all() {
        lintel_hal::println!("{}\t{}\t{}\t{}", n, s.name, s.status.name(), s.note);
    }
    lintel_hal::println!("{}", END_MARK);
}
