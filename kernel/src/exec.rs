//! execve: load an ELF program (static, static-pie, or dynamic with its interpreter) or a `#!`
//! script into a fresh address space. Everything that can fail happens before the point of no
//! return, so a failed exec leaves the caller untouched.

use crate::fs;
use crate::mm::{self, page_down, page_up, Backing, Mm, Vma};
use crate::proc::{signal, Thread};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_elf::{AuxInfo, ElfHeader, ElfInfo, ElfKind};
use lintel_hal::mm::Prot;
use lintel_hal::UserContext;
use lintel_vfs::{FileType, Inode};

/// Linux's limit on nested interpreters (`#!` scripts and binfmt handlers).
const MAX_NESTING: usize = 4;
/// ARG_MAX: the room for argument strings every stack limit allows (32 pages).
const ARG_MAX: usize = 32 * 4096;
/// _STK_LIM: three quarters of it bound the argument room however large RLIMIT_STACK is.
const STK_LIM: usize = 8 << 20;

/// How many bytes of argument and environment strings, and their pointers, an exec may pass:
/// like Linux's bprm_stack_limits, a quarter of RLIMIT_STACK, at most 3/4 of _STK_LIM and at
/// least ARG_MAX.
pub fn arg_limit(thread: &Thread) -> usize {
    let stack = thread.proc_ref().rlimit(crate::proc::RLIMIT_STACK).cur;
    let quarter = usize::try_from(stack / 4).unwrap_or(usize::MAX);
    quarter.clamp(ARG_MAX, STK_LIM / 4 * 3)
}

fn read_exact_at(inode: &Arc<dyn Inode>, off: u64, buf: &mut [u8]) -> KResult<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = inode.read_at(off + done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Identity of an executable's contents: file system, inode, size and change times. Any write
/// changes mtime/ctime, so a stale entry is never used.
type ElfKey = (u64, u64, u64, i64, i64, i64, i64);

/// Parsed headers of recently executed files, most recent first (shells exec the same few
/// programs over and over).
static ELF_CACHE: spin::Mutex<Vec<(ElfKey, ElfInfo)>> = spin::Mutex::new(Vec::new());
const ELF_CACHE_SIZE: usize = 16;

fn parse_elf(inode: &Arc<dyn Inode>) -> KResult<ElfInfo> {
    let st = inode.stat();
    let key: ElfKey = (
        inode.fs_id(),
        st.ino,
        st.size,
        st.mtime.sec,
        st.mtime.nsec,
        st.ctime.sec,
        st.ctime.nsec,
    );
    {
        let mut cache = ELF_CACHE.lock();
        if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
            let hit = cache.remove(i);
            let info = hit.1.clone();
            cache.insert(0, hit);
            return Ok(info);
        }
    }
    let info = parse_elf_uncached(inode)?;
    let mut cache = ELF_CACHE.lock();
    cache.insert(0, (key, info.clone()));
    cache.truncate(ELF_CACHE_SIZE);
    Ok(info)
}

fn parse_elf_uncached(inode: &Arc<dyn Inode>) -> KResult<ElfInfo> {
    let mut head = [0u8; 64];
    let n = read_exact_at(inode, 0, &mut head)?;
    let hdr = ElfHeader::parse(&head[..n], lintel_hal::cpu::ELF_MACHINE)?;
    let size = hdr.phentsize as usize * hdr.phnum as usize;
    let mut ph = alloc::vec![0u8; size];
    if read_exact_at(inode, hdr.phoff, &mut ph)? != size {
        return Err(Errno::ENOEXEC);
    }
    ElfInfo::parse(hdr, &ph, inode.stat().size)
}

fn map_elf(
    mm: &mut mm::MmInner,
    inode: &Arc<dyn Inode>,
    info: &ElfInfo,
    bias: usize,
    path: &Arc<Vec<u8>>,
) -> KResult<usize> {
    let mut end = 0;
    for s in &info.segments {
        // The bias wraps, as Linux's load_bias does: a PIE whose lowest address lies above
        // the base moves down to it. Where the segment lands must be user space.
        let vaddr = (s.vaddr as usize).wrapping_add(bias);
        let seg_end = vaddr.checked_add(s.memsz as usize).ok_or(Errno::ENOMEM)?;
        let start = page_down(vaddr);
        let stop = page_up(seg_end).ok_or(Errno::ENOMEM)?;
        if stop > mm::USER_END || start < mm::MMAP_MIN {
            return Err(Errno::ENOMEM);
        }
        let lead = (vaddr - start) as u64;
        mm.map(Vma {
            start,
            end: stop,
            prot: Prot {
                read: s.readable,
                write: s.writable,
                exec: s.executable,
            },
            shared: false,
            backing: Backing::File {
                inode: inode.clone(),
                // A file offset below the segment's page offset cannot be mapped (Linux's
                // mmap of it fails the same way).
                offset: s.offset.checked_sub(lead).ok_or(Errno::EINVAL)?,
                file_bytes: s.filesz + lead,
                path: path.clone(),
                may_write: false,
            },
        });
        end = end.max(stop);
    }
    Ok(end)
}

/// ASLR: on unless the kernel command line says `norandmaps` or the process's personality
/// has ADDR_NO_RANDOMIZE (`setarch -R`).
fn randomize_va(thread: &Thread) -> bool {
    use lintel_abi::prctl::ADDR_NO_RANDOMIZE;
    crate::aslr_enabled()
        && thread
            .proc_ref()
            .personality
            .load(core::sync::atomic::Ordering::Relaxed)
            & ADDR_NO_RANDOMIZE
            == 0
}

fn resolve_exec(thread: &Thread, dirfd: i32, path: &[u8], follow: bool) -> KResult<Arc<dyn Inode>> {
    // An empty path (execveat with AT_EMPTY_PATH, checked by the caller) runs the fd itself.
    use lintel_abi::fcntl::{AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW};
    let flags = AT_EMPTY_PATH | if follow { 0 } else { AT_SYMLINK_NOFOLLOW };
    let d = fs::lookup_at_flags(thread, dirfd, path, flags)?;
    let inode = d.inode.clone();
    let st = inode.stat();
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let cred = thread.proc_ref().cred.lock().vfs();
    lintel_vfs::permission(&st, &cred, 1)?;
    Ok(inode)
}

/// Parses a `#!` line: interpreter and optional single argument.
fn parse_shebang(head: &[u8]) -> KResult<(Vec<u8>, Option<Vec<u8>>)> {
    let line_end = head.iter().position(|&c| c == b'\n').unwrap_or(head.len());
    let line = &head[2..line_end];
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = line.iter().position(|c| !is_ws(c)).ok_or(Errno::ENOEXEC)?;
    let line = &line[start..];
    let line = &line[..line.len()
        - line
            .iter()
            .rev()
            .take_while(|c| is_ws(c) || **c == 0)
            .count()];
    let iend = line.iter().position(is_ws).unwrap_or(line.len());
    let interp = line[..iend].to_vec();
    let rest = &line[iend..];
    let arg = rest
        .iter()
        .position(|c| !is_ws(c))
        .map(|p| rest[p..].to_vec());
    if interp.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    Ok((interp, arg))
}

/// Executes `path` in the calling process. On success the context is the new program's.
pub fn execve(
    thread: &Arc<Thread>,
    ctx: &mut UserContext,
    dirfd: i32,
    path: Vec<u8>,
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    follow: bool,
) -> KResult<()> {
    // The pointers (room for one argument even when argv is empty), then the file name and
    // the strings must fit in the limit.
    let limit = arg_limit(thread);
    let pointers = (argv.len().max(1) + envp.len()).saturating_mul(8);
    let strings: usize = argv
        .iter()
        .chain(envp.iter())
        .chain(core::iter::once(&path))
        .map(|s| s.len() + 1)
        .sum();
    if pointers >= limit || strings > limit - pointers {
        return Err(Errno::E2BIG);
    }
    let mut path = path;
    let execfn = path.clone();
    let mut inode = resolve_exec(thread, dirfd, &path, follow)?;
    let mut depth = 0;
    let info = loop {
        let mut head = [0u8; 256];
        let n = read_exact_at(&inode, 0, &mut head)?;
        if n >= 2 && head[0] == b'#' && head[1] == b'!' {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(Errno::ELOOP);
            }
            let (interp, arg) = parse_shebang(&head[..n])?;
            let mut new_argv = alloc::vec![interp.clone()];
            new_argv.extend(arg);
            new_argv.push(path.clone());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            inode = resolve_exec(thread, libc_at_fdcwd(), &interp, true)?;
            path = interp;
            continue;
        }
        break parse_elf(&inode)?;
    };

    // Build the new address space.
    let new_mm = Mm::new()?;
    let layout = mm::layout(randomize_va(thread));
    let bias = if info.header.kind == ElfKind::Dyn {
        layout.pie_base.wrapping_sub(info.min_vaddr as usize)
    } else {
        0
    };
    let (entry, phdr, interp_base, brk, vdso) = {
        let mut m = new_mm.inner.lock();
        m.mmap_top = layout.mmap_top;
        m.stack_top = layout.stack_top;
        let main_path = Arc::new(fs::absolute_path(thread, &path));
        let end = map_elf(&mut m, &inode, &info, bias, &main_path)?;
        let mut entry = (info.header.entry as usize).wrapping_add(bias);
        let mut interp_base = 0;
        if let Some((off, len)) = info.interp {
            let mut name = alloc::vec![0u8; len as usize];
            if read_exact_at(&inode, off, &mut name)? != name.len() {
                return Err(Errno::ENOEXEC);
            }
            while name.last() == Some(&0) {
                name.pop();
            }
            let interp =
                resolve_exec(thread, libc_at_fdcwd(), &name, true).map_err(|e| match e {
                    Errno::EACCES => Errno::EACCES,
                    e => e,
                })?;
            let ii = parse_elf(&interp)?;
            let span = ii.max_vaddr.saturating_sub(ii.min_vaddr) as usize;
            let base = m.find_free(span, m.mmap_top).ok_or(Errno::ENOMEM)?;
            let ibias = base.wrapping_sub(ii.min_vaddr as usize);
            let ipath = Arc::new(fs::absolute_path(thread, &name));
            map_elf(&mut m, &interp, &ii, ibias, &ipath)?;
            entry = (ii.header.entry as usize).wrapping_add(ibias);
            interp_base = base;
        }
        let phdr = info
            .phdr_vaddr
            .map(|p| (p as usize).wrapping_add(bias))
            .unwrap_or(0);
        let vdso = crate::vdso::map(&mut m)?;
        (entry, phdr, interp_base, end, vdso)
    };
    let main_entry = (info.header.entry as usize).wrapping_add(bias);

    // The credentials the program runs with: set-id bits, root's capabilities, ambient ones.
    let outcome = {
        let st = inode.stat();
        let file = lintel_cred::ExecFile {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            nosuid: fs::nosuid(&inode),
        };
        let p = thread.proc_ref();
        let nnp = p.no_new_privs.load(core::sync::atomic::Ordering::Relaxed) != 0;
        let old = p.cred.lock().clone();
        old.exec(&file, nnp)
    };
    let cred = &outcome.cred;
    let aux = AuxInfo {
        phdr: phdr as u64,
        phent: 56,
        phnum: info.header.phnum as u64,
        base: interp_base as u64,
        entry: main_entry as u64,
        uid: cred.uid,
        euid: cred.euid,
        gid: cred.gid,
        egid: cred.egid,
        secure: outcome.secure,
        hwcap: lintel_hal::cpu::hwcap(),
        hwcap2: lintel_hal::cpu::hwcap2(),
        clktck: 100,
        sysinfo_ehdr: Some(vdso as u64),
        minsigstksz: 2048,
        flags: 0,
    };
    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    let argv_refs: Vec<&[u8]> = argv.iter().map(|s| s.as_slice()).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(|s| s.as_slice()).collect();
    let image = lintel_elf::build_initial_stack(
        layout.stack_top as u64,
        &argv_refs,
        &envp_refs,
        &execfn,
        lintel_hal::cpu::PLATFORM.as_bytes(),
        random,
        &aux,
        // The strings and pointers checked above, the auxiliary vector and what a script's
        // interpreter adds.
        limit + (12 << 10),
    )?;
    {
        let mut m = new_mm.inner.lock();
        m.map(Vma {
            start: layout.stack_top - mm::STACK_SIZE,
            end: layout.stack_top,
            prot: Prot {
                read: true,
                write: true,
                exec: info.exec_stack,
            },
            shared: false,
            backing: Backing::Anon,
        });
        let base = layout.stack_top - image.bytes.len();
        m.write_bytes(base, &image.bytes)?;
        m.brk_start = brk + layout.brk_shift;
        m.brk = brk + layout.brk_shift;
    }

    // Point of no return.
    let p = thread.process();
    commit_exec_creds(&p, outcome);
    kill_other_threads(thread);
    lintel_hal::mm::activate_kernel();
    let old = p.set_mm(new_mm);
    p.activate_mm();
    crate::ipc::shm::release_mm(old, p.pid);
    let closed = p.files.lock().close_on_exec();
    for e in &closed {
        crate::fs::locks::on_close(p.pid, &e.file);
    }
    drop(closed);
    p.timers.lock().clear();
    p.did_exec
        .store(true, core::sync::atomic::Ordering::Relaxed);
    for a in p.sigactions.lock().iter_mut() {
        if a.handler != signal::SIG_IGN {
            *a = signal::SigAction::default();
        }
    }
    // For a script, /proc/PID/exe is its interpreter (the file actually run), as on Linux.
    *p.exe.lock() = fs::absolute_path(thread, &path);
    let mut cmdline = Vec::new();
    for a in &argv {
        cmdline.extend_from_slice(a);
        cmdline.push(0);
    }
    *p.cmdline.lock() = cmdline;
    let mut environ = Vec::new();
    for e in &envp {
        environ.extend_from_slice(e);
        environ.push(0);
    }
    *p.environ.lock() = environ;
    *thread.robust_list.lock() = (0, 0);
    *thread.altstack.lock() = (0, 0, 0);
    *thread.saved_sigmask.lock() = None;
    let base = execfn.rsplit(|&b| b == b'/').next().unwrap_or(&execfn);
    thread.set_comm(base);
    *thread.clear_child_tid.lock() = 0;
    *ctx = UserContext::new_user(entry as u64, image.sp);
    lintel_hal::task::reset_fpu();
    crate::proc::release_vfork(&p);
    Ok(())
}

/// Installs the credentials execve computed, with what follows from them in begin_new_exec:
/// a program running with ids other than its real ones is not dumpable, a privileged one
/// loses the parent-death signal, and set-id bits clear the personality's unsafe flags.
fn commit_exec_creds(p: &crate::proc::Process, outcome: lintel_cred::ExecOutcome) {
    use core::sync::atomic::Ordering::Relaxed;
    let c = &outcome.cred;
    let dumpable = c.euid == c.uid && c.egid == c.gid;
    p.dumpable.store(dumpable as u32, Relaxed);
    if outcome.secure {
        p.pdeath_signal.store(0, Relaxed);
    }
    if outcome.setid_bits {
        p.personality
            .fetch_and(!lintel_abi::prctl::PER_CLEAR_ON_SETID, Relaxed);
    }
    *p.cred.lock() = outcome.cred;
}

/// execve in a multi-threaded process: every other thread exits first (Linux's de_thread).
/// A non-leader caller then takes the leader's id, as on Linux.
fn kill_other_threads(me: &Arc<Thread>) {
    let p = me.process();
    for t in p.live_threads() {
        if !Arc::ptr_eq(&t, me) {
            t.request_exit(0);
        }
    }
    p.thread_gone.wait_until(|| {
        let others = p.live_threads().iter().any(|t| !Arc::ptr_eq(t, me));
        (!others).then_some(())
    });
    me.become_leader();
}

fn libc_at_fdcwd() -> i32 {
    lintel_abi::fcntl::AT_FDCWD
}
