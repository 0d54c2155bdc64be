//! Core dumps (Linux's fs/coredump.c and binfmt_elf's elf_core_dump): a process killed by a
//! signal whose default action dumps core leaves its memory and every thread's registers in
//! an ELF core file named by /proc/sys/kernel/core_pattern, as gdb reads it. The file layout
//! is lintel-elf's; this gathers what goes in and writes it.

use crate::fs;
use crate::fs::file::OpenFile;
use crate::mm::{Backing, Vma};
use crate::proc::{self, core_pattern, signal::SigInfo, Process, Thread};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;
use lintel_abi::fcntl::{AT_FDCWD, O_WRONLY};
use lintel_abi::{Errno, KResult};
use lintel_elf::coredump::{
    self as elfcore, FileMapping, Note, ProcessInfo, Segment, ThreadStatus, NT_AUXV, NT_FILE,
    NT_PRFPREG, NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO,
};
use lintel_hal::context::UserContext;
use lintel_hal::task::FpuState;
use lintel_vfs::FileType;

const PAGE: usize = 4096;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Dumps the current thread's process for the fatal signal `info`; true when a whole core file
/// was written (the wait status then has its core bit).
pub fn dump(t: &Arc<Thread>, ctx: &UserContext, info: &SigInfo) -> bool {
    let p = t.process();
    if p.dumpable.load(Relaxed) == 0 {
        return false;
    }
    // Linux's min_coredump: a file pattern needs room for at least one page.
    let limit = p.rlimit(lintel_abi::resource::RLIMIT_CORE).cur;
    if limit < PAGE as u64 {
        return false;
    }
    let pattern = core_pattern::pattern();
    if pattern.first() == Some(&b'|') {
        crate::warn!("core dump: a pipe in core_pattern is not supported; no core written");
        return false;
    }
    let others = stop_others(&p, t, info.signo());
    let name = core_name(&pattern, &p, t, info.signo(), limit);
    if name.is_empty() {
        return false;
    }
    write_core(t, ctx, info, &p, &others, &name, limit)
}

/// Linux's coredump_wait: every other thread leaves (leaving its registers behind) before the
/// memory is read.
fn stop_others(p: &Arc<Process>, me: &Arc<Thread>, sig: u32) -> Vec<Arc<Thread>> {
    let others: Vec<Arc<Thread>> = p
        .live_threads()
        .into_iter()
        .filter(|x| !Arc::ptr_eq(x, me))
        .collect();
    if others.is_empty() {
        return others;
    }
    p.core_dumping.store(true, Relaxed);
    p.kill_all_threads(proc::signal::killed_status(sig));
    p.thread_gone.wait_until(|| {
        let left = p.live_threads().iter().any(|x| !Arc::ptr_eq(x, me));
        (!left).then_some(())
    });
    others
}

/// The pattern with its %-specifiers filled in (format_corename); '/' in names becomes '!'.
fn core_name(pat: &[u8], p: &Process, t: &Thread, sig: u32, limit: u64) -> Vec<u8> {
    use alloc::format;
    let mut out = Vec::new();
    let mut has_pid = false;
    let escaped = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'/' { b'!' } else { c }));
    };
    let mut i = 0;
    while i < pat.len() {
        if pat[i] != b'%' {
            out.push(pat[i]);
            i += 1;
            continue;
        }
        let Some(&k) = pat.get(i + 1) else { break };
        i += 2;
        let cred = p.cred.lock().clone();
        match k {
            b'%' => out.push(b'%'),
            b'p' | b'P' => {
                has_pid = true;
                out.extend_from_slice(format!("{}", p.pid).as_bytes());
            }
            b'i' | b'I' => out.extend_from_slice(format!("{}", t.tid()).as_bytes()),
            b'u' => out.extend_from_slice(format!("{}", cred.uid).as_bytes()),
            b'g' => out.extend_from_slice(format!("{}", cred.gid).as_bytes()),
            b'd' => out.extend_from_slice(format!("{}", p.dumpable.load(Relaxed)).as_bytes()),
            b's' => out.extend_from_slice(format!("{}", sig).as_bytes()),
            b't' => {
                let secs = crate::time::realtime_ns().max(0) / 1_000_000_000;
                out.extend_from_slice(format!("{}", secs).as_bytes());
            }
            b'h' => escaped(&mut out, &crate::uts::hostname(p.pid)),
            b'e' => escaped(&mut out, &t.comm_bytes()),
            b'E' => escaped(&mut out, &p.exe_path()),
            b'c' => out.extend_from_slice(format!("{}", limit).as_bytes()),
            _ => {}
        }
    }
    if core_pattern::uses_pid() && !has_pid {
        out.extend_from_slice(format!(".{}", p.pid).as_bytes());
    }
    out
}

/// Creates the core file as Linux's do_coredump does: an old file of that name is removed
/// first, the new one is made with O_EXCL, mode 0600 less the umask, owned by the dumper.
fn create(t: &Thread, name: &[u8]) -> KResult<Arc<OpenFile>> {
    let p = t.proc_ref();
    let cred = p.cred.lock().vfs();
    let umask = t.fs.get().lock().umask;
    let (parent, leaf, trailing) = fs::with_walk(t, AT_FDCWD, name, |ctx| {
        lintel_vfs::resolve_create(ctx, name, false)
    })?;
    if trailing || leaf.is_empty() || leaf == b"." || leaf == b".." {
        return Err(Errno::EISDIR);
    }
    let ds = parent.inode.stat();
    lintel_vfs::permission(&ds, &cred, 3)?;
    if let Ok(old) = parent.inode.lookup(&leaf) {
        if old.file_type() == FileType::Directory || !lintel_vfs::sticky_ok(&ds, &old.stat(), &cred)
        {
            return Err(Errno::EEXIST);
        }
        let _ns = crate::fs::NAMESPACE.lock();
        parent.inode.unlink(&leaf)?;
        lintel_vfs::d_delete(&parent, &leaf);
    }
    let mode = 0o600 & !umask;
    if mode != 0o600 {
        // Linux refuses a core file the umask left without owner read and write.
        return Err(Errno::EPERM);
    }
    let inode = parent
        .inode
        .create(&leaf, FileType::Regular, mode, cred.uid, cred.gid, 0)?;
    fs::notify::created(&parent, &leaf, false);
    let d = lintel_vfs::Dentry::child(&parent, &leaf, inode);
    fs::open_dentry(d, O_WRONLY)
}

/// How many bytes of `v` the core holds (Linux's vma_dump_size with the default
/// coredump_filter 0x33): shared anonymous memory, private memory with pages of its own
/// (`touched`), the vDSO, and the first page of a mapped ELF file; not shared file mappings
/// or device pages.
fn dump_len(v: &Vma, touched: bool, elf_head: bool) -> u64 {
    let whole = (v.end - v.start) as u64;
    match &v.backing {
        Backing::Anon if v.shared => whole,
        Backing::Anon => {
            if touched {
                whole
            } else {
                0
            }
        }
        Backing::Shm(_) => whole,
        Backing::Special(name) if *name == "[vdso]" => whole,
        Backing::Special(_) | Backing::Kernel(_) => 0,
        Backing::File { .. } if v.shared => 0,
        Backing::File { .. } if touched => whole,
        Backing::File { .. } if elf_head => PAGE as u64,
        Backing::File { .. } => 0,
    }
}

/// One page of the address space: its bytes, or None for a page never touched (a hole in
/// the file). File pages not yet read are read in as a debugger's access would.
fn page_bytes(mm: &crate::mm::Mm, v: &Vma, addr: usize) -> Option<Vec<u8>> {
    let mut inner = mm.inner.lock();
    let mut buf = alloc::vec![0u8; PAGE];
    if let Some((frame, _)) = inner.aspace.lookup(addr) {
        frame.read(0, &mut buf);
        return Some(buf);
    }
    if matches!(v.backing, Backing::File { .. }) && v.prot.read {
        return inner.read_bytes(addr, &mut buf).ok().map(|_| buf);
    }
    None
}

/// Whether a private mapping has pages of its own (Linux's anon_vma): for anonymous memory
/// any page at all, for a file mapping a page that is not the file's cached page (a copy
/// made by a write, such as relocations in a segment made read-only afterwards).
fn has_own_pages(mm: &crate::mm::Mm, v: &Vma) -> bool {
    let file = match &v.backing {
        Backing::File { inode, offset, .. } => Some((crate::mm::pagecache::find(inode), *offset)),
        _ => None,
    };
    let inner = mm.inner.lock();
    (v.start..v.end).step_by(PAGE).any(|a| {
        let Some((frame, _)) = inner.aspace.lookup(a) else {
            return false;
        };
        match &file {
            None => true,
            Some((None, _)) => true,
            Some((Some(cache), offset)) => {
                let idx = (offset + (a - v.start) as u64) / PAGE as u64;
                cache.cached(idx).is_none_or(|c| c.phys() != frame.phys())
            }
        }
    })
}

fn is_elf_head(mm: &crate::mm::Mm, v: &Vma) -> bool {
    let Backing::File { offset: 0, .. } = &v.backing else {
        return false;
    };
    if !v.prot.read {
        return false;
    }
    let mut magic = [0u8; 4];
    mm.inner.lock().read_bytes(v.start, &mut magic).is_ok() && magic == *b"\x7fELF"
}

/// One thread's notes after the first: NT_PRSTATUS, then its FP registers (NT_PRFPREG) and
/// the architecture's whole extended register image (under "LINUX").
fn thread_notes(st: &ThreadStatus, ctx: &UserContext, fpu: &FpuState) -> (Note, Vec<Note>) {
    let regs = ctx.user_regs(u64::MAX);
    let status = Note {
        name: b"CORE",
        kind: NT_PRSTATUS,
        desc: elfcore::prstatus(st, &regs, true),
    };
    let mut fp = alloc::vec![Note {
        name: b"CORE",
        kind: NT_PRFPREG,
        desc: fpu.fpregs(),
    }];
    // An architecture without an extended-state regset gives NT_XSTATE a value no note
    // type has (above u32): then there is no such note.
    if let Ok(kind) = u32::try_from(lintel_abi::ptrace::NT_XSTATE) {
        fp.push(Note {
            name: b"LINUX",
            kind,
            desc: fpu.xsave_image(),
        });
    }
    (status, fp)
}

fn thread_status(p: &Process, t: &Thread, sig: u32, leader: bool) -> ThreadStatus {
    let now = crate::time::uptime_ns();
    let (u, s) = if leader {
        p.cpu_times()
    } else {
        t.user_sys(now)
    };
    let (cu, cs) = {
        let r = *p.reaped.lock();
        (r.user_ns, r.sys_ns)
    };
    ThreadStatus {
        signo: sig as i32,
        cursig: sig as u16,
        sigpend: t.pending.lock().set.0,
        sighold: t.sigmask.lock().0,
        pid: t.tid(),
        ppid: p.ppid.load(Relaxed),
        pgrp: p.pgid.load(Relaxed),
        sid: p.sid.load(Relaxed),
        times_us: [u / 1000, s / 1000, cu / 1000, cs / 1000],
        ..Default::default()
    }
}

fn write_core(
    t: &Arc<Thread>,
    ctx: &UserContext,
    info: &SigInfo,
    p: &Arc<Process>,
    others: &[Arc<Thread>],
    name: &[u8],
    limit: u64,
) -> bool {
    let sig = info.signo();
    let mm = p.mm();
    let vmas: Vec<Vma> = mm.inner.lock().vmas.values().cloned().collect();
    let mut segs = Vec::with_capacity(vmas.len());
    let mut files = Vec::new();
    for v in &vmas {
        let touched = !v.shared
            && matches!(v.backing, Backing::Anon | Backing::File { .. })
            && has_own_pages(&mm, v);
        let head = is_elf_head(&mm, v);
        let flags = (v.prot.read as u32 * PF_R)
            | (v.prot.write as u32 * PF_W)
            | (v.prot.exec as u32 * PF_X);
        segs.push(Segment {
            start: v.start as u64,
            end: v.end as u64,
            flags,
            dump_len: dump_len(v, touched, head),
        });
        if let Backing::File { offset, path, .. } = &v.backing {
            files.push((v.start as u64, v.end as u64, *offset, path.bytes()));
        }
    }
    let maps: Vec<FileMapping> = files
        .iter()
        .map(|(s, e, o, path)| FileMapping {
            start: *s,
            end: *e,
            offset: *o,
            path,
        })
        .collect();
    let cred = p.cred.lock().clone();
    let ps = ProcessInfo {
        state: 0,
        sname: b'R',
        nice: t.sched.lock().nice as i8,
        uid: cred.uid,
        gid: cred.gid,
        pid: p.pid,
        ppid: p.ppid.load(Relaxed),
        pgrp: p.pgid.load(Relaxed),
        sid: p.sid.load(Relaxed),
        fname: t.comm_bytes(),
        args: p.cmdline.lock().clone(),
        ..Default::default()
    };
    // The dumping thread first, with the process notes after its status (Linux's order).
    let leader = t.tid() == p.pid;
    let (status, fp) = thread_notes(
        &thread_status(p, t, sig, leader),
        ctx,
        &FpuState::save_current(),
    );
    let mut notes = alloc::vec![
        status,
        Note {
            name: b"CORE",
            kind: NT_PRPSINFO,
            desc: elfcore::prpsinfo(&ps),
        },
        Note {
            name: b"CORE",
            kind: NT_SIGINFO,
            desc: info.0.to_vec(),
        },
        Note {
            name: b"CORE",
            kind: NT_AUXV,
            desc: p.auxv.lock().clone(),
        },
        Note {
            name: b"CORE",
            kind: NT_FILE,
            desc: elfcore::file_note(&maps, PAGE as u64),
        },
    ];
    notes.extend(fp);
    for o in others {
        let Some((octx, ofpu)) = o.core_state.lock().take() else {
            continue;
        };
        let (status, fp) = thread_notes(&thread_status(p, o, sig, false), &octx, &ofpu);
        notes.push(status);
        notes.extend(fp);
    }
    let (head, offsets) = elfcore::header(lintel_hal::cpu::ELF_MACHINE, &notes, &segs, PAGE as u64);
    drop(notes);
    let Ok(file) = create(t, name) else {
        return false;
    };
    // From here on the dump counts as made, as Linux's has_dumped, even when RLIMIT_CORE or
    // the disk cuts it short.
    let _ = write_contents(&file, &mm, &vmas, &segs, &offsets, &head, limit);
    true
}

/// The header and the memory, whole writes only and none past `limit` (Linux's dump_emit).
fn write_contents(
    file: &Arc<OpenFile>,
    mm: &crate::mm::Mm,
    vmas: &[Vma],
    segs: &[Segment],
    offsets: &[u64],
    head: &[u8],
    limit: u64,
) -> KResult<()> {
    let write_at = |data: &[u8], off: u64| -> KResult<()> {
        if off + data.len() as u64 > limit {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        while done < data.len() {
            let n = file.pwrite(&data[done..], off + done as u64)?;
            if n == 0 {
                return Err(Errno::ENOSPC);
            }
            done += n;
        }
        Ok(())
    };
    write_at(head, 0)?;
    let mut end = head.len() as u64;
    for ((v, s), off) in vmas.iter().zip(segs).zip(offsets) {
        for i in 0..(s.dump_len as usize / PAGE) {
            let at = off + (i * PAGE) as u64;
            if let Some(bytes) = page_bytes(mm, v, v.start + i * PAGE) {
                write_at(&bytes, at)?;
            }
        }
        end = end.max(off + s.dump_len);
    }
    // Untouched pages at the end are a hole that still counts in the size.
    if end > limit {
        return Err(Errno::EFBIG);
    }
    if let Some(inode) = &file.inode {
        if inode.stat().size < end {
            crate::mm::pagecache::truncate(inode, end)?;
        }
    }
    Ok(())
}
