//! `lintel.strace` on the kernel command line (`cargo xtask run --strace`): every system call
//! of every process, or only those `lintel.strace=open,read` names, printed on the console as
//! strace prints them, `[pid N] name(args) = result`. The rendering is `lintel_strace`'s; this
//! file reads the caller's memory for it and decides when to print.
//!
//! One line per call, written once the call returns (a blocking call shows up when it ends),
//! from arguments rendered on entry: execve's path is gone from the new image by then. Calls
//! that never return (exit, exit_group) print on entry with `= ?`.

use super::{Call, Ret, SysResult};
use crate::uaccess;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_abi::syscall_nr as nr;
use lintel_abi::Errno;

static ON: AtomicBool = AtomicBool::new(false);

/// The traced syscall numbers, one bit each.
static SELECTED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Reads `lintel.strace` or `lintel.strace=NAME,NAME...` from the command line.
pub fn init(cmdline: &str) {
    for word in cmdline.split(' ') {
        let value = match word.strip_prefix("lintel.strace") {
            Some("") => "",
            Some(v) => match v.strip_prefix('=') {
                Some(v) => v,
                None => continue,
            },
            None => continue,
        };
        let names: Vec<&str> = lintel_strace::filter_names(value).collect();
        for n in 0..SELECTED.len() * 64 {
            let wanted = names.is_empty() || nr::name(n).is_some_and(|name| names.contains(&name));
            if wanted {
                SELECTED[n / 64].fetch_or(1 << (n % 64), Ordering::Relaxed);
            }
        }
        let known = |name: &str| (0..SELECTED.len() * 64).any(|n| nr::name(n) == Some(name));
        for name in names.iter().filter(|&&name| !known(name)) {
            crate::warn!("lintel.strace: no syscall named {}", name);
        }
        ON.store(true, Ordering::Relaxed);
    }
}

/// Whether tracing is on: the dispatcher's only cost when it is off.
#[inline(always)]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

fn selected(n: usize) -> bool {
    SELECTED
        .get(n / 64)
        .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (n % 64)) != 0)
}

fn read_user(addr: usize, len: usize) -> Option<Vec<u8>> {
    uaccess::read_vec_partial(addr, len).ok()
}

/// Runs syscall `n` through `run`, printing it when it is traced.
pub fn call(n: usize, c: &mut Call, run: fn(usize, &mut Call) -> SysResult) -> SysResult {
    if !selected(n) {
        return run(n, c);
    }
    let a = c.a;
    let unnamed;
    let name = match nr::name(n) {
        Some(name) => name,
        None => {
            unnamed = alloc::format!("syscall_{}", n);
            unnamed.as_str()
        }
    };
    let mut line = String::new();
    let _ = write!(line, "[pid {}] ", c.thread.tid());
    let from = lintel_strace::entry(&mut line, name, &a, &mut read_user).unwrap_or(0);
    if name == "exit" || name == "exit_group" {
        line.push_str(") = ?\n");
        lintel_hal::console::write_str(&line);
        return run(n, c);
    }
    let r = run(n, c);
    let shown: Result<usize, Errno> = match &r {
        Ok(Ret::Value(v)) => Ok(*v),
        // A new image (execve) starts from 0; a restored context (rt_sigreturn) from its own
        // return register.
        Ok(Ret::NoReturn) if name.starts_with("execve") => Ok(0),
        Ok(Ret::NoReturn) => Ok(c.ctx.syscall_return()),
        Err(e) => Err(*e),
    };
    let _ = lintel_strace::exit(&mut line, name, &a, from, shown, &mut read_user);
    line.push('\n');
    lintel_hal::console::write_str(&line);
    r
}
