//! execve: load an ELF program (static, static-pie, or dynamic with its interpreter) or a `#!`
//! script into a fresh address space. Everything that can fail happens before the point of no
//! return, so a failed exec leaves the caller untouched.

use crate::fs;
use crate::mm::{self, page_down, page_up, Backing, Mm, ProgramLayout, Vma};
use crate::proc::{signal, Thread};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_elf::{AuxInfo, ElfHeader, ElfInfo, ElfKind};
use lintel_hal::mm::Prot;
use lintel_hal::UserContext;
use lintel_vfs::{Dentry, FileType, Inode};

/// Linux's limit on nested interpreters (`#!` scripts and binfmt handlers): exec_binprm
/// fails with ELOOP past depth 5.
const MAX_NESTING: usize = 5;
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

/// Parsed headers of recently executed files that load cleanly, most recent first (shells
/// exec the same few programs over and over).
static ELF_CACHE: crate::spinlock::Mutex<Vec<(ElfKey, ElfInfo)>> =
    crate::spinlock::Mutex::new(Vec::new());
const ELF_CACHE_SIZE: usize = 16;

/// An ELF file as far as execve gets before the point of no return.
struct Elf {
    /// PT_INTERP's file offset and size.
    interp: Option<(u64, u64)>,
    /// The load segments, or why they cannot be loaded: Linux finds that out only after the
    /// point of no return, where it kills the process.
    info: KResult<ElfInfo>,
}

fn elf_key(inode: &Arc<dyn Inode>) -> ElfKey {
    let st = inode.stat();
    (
        inode.fs_id(),
        st.ino,
        st.size,
        st.mtime.sec,
        st.mtime.nsec,
        st.ctime.sec,
        st.ctime.nsec,
    )
}

fn cached(key: &ElfKey) -> Option<ElfInfo> {
    let mut cache = ELF_CACHE.lock();
    let i = cache.iter().position(|(k, _)| k == key)?;
    let hit = cache.remove(i);
    let info = hit.1.clone();
    cache.insert(0, hit);
    Some(info)
}

fn remember(key: ElfKey, info: &ElfInfo) {
    let mut cache = ELF_CACHE.lock();
    cache.insert(0, (key, info.clone()));
    cache.truncate(ELF_CACHE_SIZE);
}

/// The program itself: a bad ELF header or program header table is ENOEXEC (Linux's
/// load_elf_binary and load_elf_phdrs), before anything is committed.
fn parse_elf(inode: &Arc<dyn Inode>) -> KResult<Elf> {
    let key = elf_key(inode);
    if let Some(info) = cached(&key) {
        return Ok(Elf {
            interp: info.interp,
            info: Ok(info),
        });
    }
    let mut head = [0u8; 64];
    let n = read_exact_at(inode, 0, &mut head)?;
    let header = ElfHeader::parse(&head[..n], lintel_hal::cpu::ELF_MACHINE)?;
    let ph = read_phdrs(inode, header.phoff, header.phnum as usize * 56)?;
    let interp = lintel_elf::find_interp(&ph, header.phnum)?;
    let info = ElfInfo::parse(header, &ph, inode.stat().size);
    if let Ok(i) = &info {
        remember(key, i);
    }
    Ok(Elf { interp, info })
}

/// Reads a program header table: a short read is ENOEXEC.
fn read_phdrs(inode: &Arc<dyn Inode>, off: u64, size: usize) -> KResult<Vec<u8>> {
    let mut ph = Vec::new();
    crate::mm::kheap::reserve_in(&mut ph, size)?;
    ph.resize(size, 0);
    if read_exact_at(inode, off, &mut ph)? != size {
        return Err(Errno::ENOEXEC);
    }
    Ok(ph)
}

/// The interpreter: Linux reads its ELF header (EIO when the file is shorter) and checks the
/// magic, the machine and its program header table (ELIBBAD) before the point of no return;
/// everything else about it fails after (the inner error).
fn parse_interp(inode: &Arc<dyn Inode>) -> KResult<KResult<ElfInfo>> {
    let key = elf_key(inode);
    if let Some(info) = cached(&key) {
        return Ok(Ok(info));
    }
    let mut head = [0u8; 64];
    if read_exact_at(inode, 0, &mut head)? != head.len() {
        return Err(Errno::EIO);
    }
    let (phoff, size) = lintel_elf::interp_header(&head, lintel_hal::cpu::ELF_MACHINE)?;
    let ph = read_phdrs(inode, phoff, size).map_err(|_| Errno::ELIBBAD)?;
    let info = ElfHeader::parse(&head, lintel_hal::cpu::ELF_MACHINE)
        .and_then(|h| ElfInfo::parse(h, &ph, inode.stat().size));
    if let Ok(i) = &info {
        remember(key, i);
    }
    Ok(info)
}

/// Maps the load segments. Every error here comes after Linux's point of no return.
fn map_elf(
    mm: &mut mm::MmInner,
    inode: &Arc<dyn Inode>,
    info: &ElfInfo,
    bias: usize,
    path: &crate::mm::MapName,
) -> KResult<usize> {
    let mut end = 0;
    let file_size = inode.stat().size;
    // The segments share the read-ahead state of the file exec opened (Linux's f_ra of the
    // bprm file, which every segment's vm_file is): its faults' misses count together.
    let ra = Some(Arc::new(crate::mm::pagecache::ReadAhead::default()));
    for s in &info.segments {
        // The bias wraps, as Linux's load_bias does: a PIE whose lowest address lies above
        // the base moves down to it. Where the segment lands must be user space.
        let vaddr = (s.vaddr as usize).wrapping_add(bias);
        let seg_end = vaddr.checked_add(s.memsz as usize).ok_or(Errno::ENOMEM)?;
        let start = page_down(vaddr);
        let stop = page_up(seg_end).ok_or(Errno::ENOMEM)?;
        if stop > mm::user_end() || start < mm::MMAP_MIN {
            return Err(Errno::ENOMEM);
        }
        let lead = (vaddr - start) as u64;
        let file_bytes = s.filesz + lead;
        // Linux zeroes the rest of the page where a writable segment's file data ends
        // (padzero); when that page lies wholly past the end of the file the store faults
        // and the exec fails.
        let data_end = s.offset + s.filesz;
        if s.writable
            && s.filesz > 0
            && s.memsz > s.filesz
            && !data_end.is_multiple_of(mm::PAGE as u64)
            && page_down(data_end as usize) as u64 >= file_size.div_ceil(4096) * 4096
        {
            return Err(Errno::EFAULT);
        }
        // The zero-filled part past the file's pages is anonymous memory (Linux's vm_brk),
        // committed like any other.
        let file_end = page_up(start + file_bytes as usize).ok_or(Errno::ENOMEM)?;
        if stop > file_end && s.writable {
            mm::commit::enough(mm, (stop - file_end) / mm::PAGE, false)?;
        }
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
                file_bytes,
                path: path.clone(),
                may_write: false,
                ra: ra.clone(),
            },
            noreserve: false,
            uffd: None,
            on_fork: Default::default(),
            mlock: Default::default(),
            flags: Default::default(),
        });
        end = end.max(stop);
    }
    Ok(end)
}

/// Where the program's addresses are shifted to, as Linux 6.1's load_elf_binary places an
/// ET_DYN file: a PIE (one with an interpreter) at ELF_ET_DYN_BASE (randomized), aligned
/// down to its largest segment alignment (maximum_alignment); a loader (no interpreter: a
/// static-pie, or ld.so run directly) where mmap would put it, in the mmap area, so that
/// the program such a loader maps cannot collide with it. An ET_EXEC stays where it is.
fn load_bias(
    m: &mm::MmInner,
    info: &ElfInfo,
    has_interp: bool,
    layout: &mm::Layout,
) -> KResult<usize> {
    if info.header.kind != ElfKind::Dyn {
        return Ok(0);
    }
    let base = if has_interp {
        let align = info.max_align.max(1) as usize;
        layout.pie_base & !(align - 1)
    } else {
        let span = info.max_vaddr.saturating_sub(info.min_vaddr) as usize;
        m.find_free(span, m.mmap_top).ok_or(Errno::ENOMEM)?
    };
    Ok(base.wrapping_sub(info.min_vaddr as usize))
}

/// ASLR: on unless the kernel command line says `norandmaps` or the process's personality
/// has ADDR_NO_RANDOMIZE (`setarch -R`).
pub(crate) fn randomize_va(thread: &Thread) -> bool {
    use lintel_abi::prctl::ADDR_NO_RANDOMIZE;
    crate::aslr_enabled()
        && thread
            .proc_ref()
            .personality
            .load(core::sync::atomic::Ordering::Relaxed)
            & ADDR_NO_RANDOMIZE
            == 0
}

/// The dentry of the file to run (kept for /proc/PID/exe and the names in /proc/PID/maps).
fn resolve_exec(thread: &Thread, dirfd: i32, path: &[u8], follow: bool) -> KResult<Arc<Dentry>> {
    // An empty path (execveat with AT_EMPTY_PATH, checked by the caller) runs the fd itself.
    use lintel_abi::fcntl::{AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW};
    let flags = AT_EMPTY_PATH | if follow { 0 } else { AT_SYMLINK_NOFOLLOW };
    let d = fs::lookup_at_flags(thread, dirfd, path, flags)?;
    let inode = d.inode.clone();
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let cred = thread.proc_ref().cred.lock().vfs();
    lintel_vfs::inode_permission(&*inode, &cred, 1)?;
    if fs::noexec(&d) {
        return Err(Errno::EACCES);
    }
    Ok(d)
}

/// How many bytes of a file execve looks at to choose its format (BINPRM_BUF_SIZE).
const BINPRM_BUF_SIZE: usize = 256;

/// Parses a `#!` line as Linux's load_script does, from the first 256 bytes of the file
/// (zero-padded): the interpreter and an optional single argument. A line longer than the
/// buffer is fine as long as the interpreter's name ends inside it (the argument is then
/// cut); otherwise ENOEXEC, as for a line without a name.
fn parse_shebang(buf: &[u8; BINPRM_BUF_SIZE]) -> KResult<(Vec<u8>, Option<Vec<u8>>)> {
    let spacetab = |c: u8| c == b' ' || c == b'\t';
    let last = BINPRM_BUF_SIZE - 1;
    let next_non_spacetab = |from: usize, to: usize| (from..=to).find(|&i| !spacetab(buf[i]));
    let next_terminator =
        |from: usize, to: usize| (from..=to).find(|&i| spacetab(buf[i]) || buf[i] == 0);
    let mut i_end = match buf.iter().position(|&c| c == b'\n') {
        Some(p) => p,
        None => {
            let first = next_non_spacetab(2, last).ok_or(Errno::ENOEXEC)?;
            next_terminator(first, last).ok_or(Errno::ENOEXEC)?;
            last
        }
    };
    while i_end > 2 && spacetab(buf[i_end - 1]) {
        i_end -= 1;
    }
    let i_name = next_non_spacetab(2, i_end)
        .filter(|&i| i != i_end)
        .ok_or(Errno::ENOEXEC)?;
    let i_sep = next_terminator(i_name, i_end);
    let i_arg = i_sep
        .filter(|&s| buf[s] != 0)
        .and_then(|s| next_non_spacetab(s, i_end));
    // Each string ends at the line's end or at a NUL inside it.
    let c_str = |from: usize, to: usize| {
        let s = buf.get(from..to.max(from)).unwrap_or(&[]);
        let n = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        s[..n].to_vec()
    };
    let name = c_str(i_name, i_sep.unwrap_or(i_end).min(i_end));
    let arg = i_arg.map(|a| c_str(a, i_end));
    Ok((name, arg))
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
    let mut dentry = resolve_exec(thread, dirfd, &path, follow)?;
    let mut inode = dentry.inode.clone();
    let mut depth = 0;
    let elf = loop {
        // Linux's exec_binprm: at most 5 rewrites by `#!` (depth 0 to 5 run a handler).
        if depth > MAX_NESTING {
            return Err(Errno::ELOOP);
        }
        let mut head = [0u8; BINPRM_BUF_SIZE];
        let n = read_exact_at(&inode, 0, &mut head)?;
        if n >= 2 && head[0] == b'#' && head[1] == b'!' {
            depth += 1;
            let (interp, arg) = parse_shebang(&head)?;
            let mut new_argv = alloc::vec![interp.clone()];
            new_argv.extend(arg);
            new_argv.push(path.clone());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            dentry = resolve_exec(thread, libc_at_fdcwd(), &interp, true)?;
            inode = dentry.inode.clone();
            path = interp;
            continue;
        }
        break parse_elf(&inode)?;
    };

    // The interpreter is opened and its headers checked before the point of no return.
    let interp = match elf.interp {
        None => None,
        Some((off, len)) => {
            let mut name = Vec::new();
            crate::mm::kheap::reserve_in(&mut name, len as usize)?;
            name.resize(len as usize, 0);
            if read_exact_at(&inode, off, &mut name)? != name.len() {
                return Err(Errno::EIO);
            }
            if name.last() != Some(&0) {
                return Err(Errno::ENOEXEC);
            }
            let n = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            name.truncate(n);
            let idn = resolve_exec(thread, libc_at_fdcwd(), &name, true)?;
            let info = parse_interp(&idn.inode)?;
            Some((idn, info))
        }
    };

    // The credentials the program runs with: set-id bits, file capabilities, root's
    // capabilities, ambient ones (Linux computes them before the point of no return, so bad
    // or unsatisfiable file capabilities fail execve).
    let outcome = {
        let st = inode.stat();
        let nosuid = fs::nosuid(&dentry);
        let caps = if nosuid {
            None
        } else {
            match inode.get_xattr(b"security.capability") {
                Ok(v) => lintel_cred::FileCaps::from_xattr(&v)?,
                Err(Errno::ENODATA | Errno::EOPNOTSUPP) => None,
                Err(e) => return Err(e),
            }
        };
        let file = lintel_cred::ExecFile {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            nosuid,
            caps,
        };
        let p = thread.proc_ref();
        let nnp = p.no_new_privs.load(core::sync::atomic::Ordering::Relaxed) != 0;
        let old = p.cred.lock().clone();
        old.exec(&file, nnp)
    };
    if outcome.missing_caps {
        return Err(Errno::EPERM);
    }

    // Past this point Linux has given up the old program: whatever fails kills the process.
    let stack_rlimit = thread.proc_ref().rlimit(crate::proc::RLIMIT_STACK).cur;
    let layout = mm::layout(randomize_va(thread), stack_rlimit);
    // The names /proc/PID/exe and /proc/PID/maps show follow the files' dentries (renames,
    // " (deleted)"), seen from the root the program was run under.
    let root = thread.fs.get().lock().root.clone();
    let exe_name = crate::mm::MapName::Path {
        dentry: dentry.clone(),
        root: root.clone(),
    };
    let built = (|| -> KResult<_> {
        let info = elf.info.clone()?;
        let new_mm = Mm::new()?;
        let mut m = new_mm.inner.lock();
        m.mmap_top = layout.mmap_top;
        m.stack_top = layout.stack_top;
        let bias = load_bias(&m, &info, interp.is_some(), &layout)?;
        let end = map_elf(&mut m, &inode, &info, bias, &exe_name)?;
        // The program's text, as Linux's start_code and end_code: from the lowest start to
        // the highest file end of its executable segments (statm's text, VmExe).
        let code = info.segments.iter().filter(|s| s.executable).fold(
            (usize::MAX, 0usize),
            |(lo, hi), s| {
                let at = (s.vaddr as usize).wrapping_add(bias);
                (lo.min(at), hi.max(at.saturating_add(s.filesz as usize)))
            },
        );
        if code.0 < code.1 {
            m.set_code(code.0, code.1);
        }
        // And its data as Linux's start_data and end_data: the highest segment start and the
        // highest file end of all segments.
        let data = info.segments.iter().fold((0usize, 0usize), |(lo, hi), s| {
            let at = (s.vaddr as usize).wrapping_add(bias);
            (lo.max(at), hi.max(at.saturating_add(s.filesz as usize)))
        });
        let mut entry = (info.header.entry as usize).wrapping_add(bias);
        let mut interp_base = 0;
        if let Some((idn, ii)) = &interp {
            let ii = ii.clone()?;
            let span = ii.max_vaddr.saturating_sub(ii.min_vaddr) as usize;
            let base = m.find_free(span, m.mmap_top).ok_or(Errno::ENOMEM)?;
            let ibias = base.wrapping_sub(ii.min_vaddr as usize);
            let iname = crate::mm::MapName::Path {
                dentry: idn.clone(),
                root: root.clone(),
            };
            map_elf(&mut m, &idn.inode, &ii, ibias, &iname)?;
            entry = (ii.header.entry as usize).wrapping_add(ibias);
            interp_base = base;
        }
        let phdr = info
            .phdr_vaddr
            .map(|p| (p as usize).wrapping_add(bias))
            .unwrap_or(0);
        let vdso = crate::vdso::map(&mut m)?;
        drop(m);
        // A loader run directly (ET_DYN without an interpreter) sits in the mmap area, where
        // a brk growing up would soon meet other mappings: with randomization Linux starts
        // it at ELF_ET_DYN_BASE instead (load_elf_binary), randomized as any brk.
        let end = match layout.loader_brk {
            Some(b) if info.header.kind == ElfKind::Dyn && interp.is_none() => b,
            _ => end + layout.brk_shift,
        };
        let parts = ProgramLayout {
            start_code: if code.0 < code.1 { code.0 } else { 0 },
            end_code: code.1,
            start_data: data.0,
            end_data: data.1,
            ..Default::default()
        };
        Ok((
            new_mm,
            info,
            bias,
            entry,
            phdr,
            interp_base,
            end,
            vdso,
            parts,
        ))
    })();
    let (new_mm, info, bias, entry, phdr, interp_base, brk, vdso, parts) = match built {
        Ok(b) => b,
        Err(e) => {
            crate::debug!(
                "execve: loading failed after the point of no return: {}",
                e.name()
            );
            crate::proc::force_fatal(thread, signal::SIGSEGV);
            return Err(e);
        }
    };
    let main_entry = (info.header.entry as usize).wrapping_add(bias);

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
        minsigstksz: lintel_hal::signal::min_stack_size(),
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
            noreserve: false,
            uffd: None,
            on_fork: Default::default(),
            mlock: Default::default(),
            // The main stack grows down as Linux's (VM_GROWSDOWN), within RLIMIT_STACK.
            flags: mm::VmaFlags {
                growsdown: true,
                ..Default::default()
            },
        });
        let base = layout.stack_top - image.bytes.len();
        m.write_bytes(base, &image.bytes)?;
        m.brk_start = brk;
        m.brk = brk;
    }
    new_mm.set_program_layout(ProgramLayout {
        start_brk: brk,
        start_stack: image.sp as usize,
        arg_start: image.arg_start as usize,
        arg_end: image.arg_end as usize,
        env_start: image.arg_end as usize,
        env_end: image.env_end as usize,
        ..parts
    });

    // A table shared with other threads or processes (CLONE_FILES) is left to them:
    // close-on-exec closes only the caller's copy (Linux's unshare_files). The other threads
    // of the process, about to be killed, drop theirs as they exit.
    let left = thread.files.unshare(|t| t.try_clone())?;
    drop(left);

    // Point of no return.
    let p = thread.process();
    commit_exec_creds(&p, outcome);
    kill_other_threads(thread);
    crate::keys::exec(p.pid, thread.tid());
    lintel_hal::mm::activate_kernel();
    let old = p.set_mm(new_mm);
    p.activate_mm();
    crate::ipc::shm::release_mm(old, p.pid);
    // The old address space is gone: its file mappings may have been a lazily unmounted
    // mount's last use, which goes on the way back to user mode, before the new program
    // runs (Linux's mmput at exec_mmap, its fputs run as task work), as munmap's does.
    crate::fs::detached::thread_gone();
    let (owner, closed) = thread.files.with(|t| (t.id(), t.close_on_exec()));
    for e in closed {
        crate::fs::fdtable::filp_close(owner, e);
    }
    p.timers.lock().clear();
    p.did_exec
        .store(true, core::sync::atomic::Ordering::Relaxed);
    // Handlers shared with another process (CLONE_SIGHAND) stay its own; the reset applies
    // to a private copy (Linux's unshare_sighand in de_thread).
    if let Ok(left) = p.sigactions.unshare(|a| Ok(*a)) {
        drop(left);
    }
    // Caught signals go back to SIG_DFL; every action, ignored ones too, loses its flags and
    // mask (Linux's flush_signal_handlers).
    signal::flush_handlers(&mut p.sigactions.get().lock()[..]);
    // For a script, /proc/PID/exe is its interpreter (the file actually run), as on Linux.
    let old_exe = core::mem::replace(&mut *p.exe.lock(), exe_name);
    drop(old_exe);
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
    *p.auxv.lock() = image.auxv;
    *thread.robust_list.lock() = (0, 0);
    // The io_uring context goes, registered rings and all (Linux's io_uring_task_cancel).
    let rings = thread.io_uring_rings.lock().take();
    drop(rings);
    *thread.altstack.lock() = (0, 0, 0);
    *thread.saved_sigmask.lock() = None;
    let base = execfn.rsplit(|&b| b == b'/').next().unwrap_or(&execfn);
    thread.set_comm(base);
    *thread.clear_child_tid.lock() = 0;
    thread.trace.clear_debug();
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
    // Marked under the process's `threads` lock, where clone_thread checks its caller and
    // adds the new thread (`fork::new_thread`): a thread cloned meanwhile is either refused
    // or in this list. Marked only, then woken with the lock let go.
    let others: Vec<Arc<Thread>> = {
        let threads = p.threads.lock();
        let others: Vec<Arc<Thread>> = threads
            .iter()
            .filter_map(|w| w.upgrade())
            .filter(|t| !Arc::ptr_eq(t, me))
            .collect();
        for t in &others {
            t.mark_exit(0);
        }
        others
    };
    for t in &others {
        t.wake();
    }
    drop(others);
    p.thread_gone.wait_until(|| {
        let others = p.live_threads().iter().any(|t| !Arc::ptr_eq(t, me));
        (!others).then_some(())
    });
    let old_tid = me.tid();
    me.become_leader();
    // Children this thread created stay its own under its new id.
    for c in p.children.lock().iter() {
        let _ = c.creator_tid.compare_exchange(
            old_tid,
            me.tid(),
            core::sync::atomic::Ordering::Relaxed,
            core::sync::atomic::Ordering::Relaxed,
        );
    }
}

fn libc_at_fdcwd() -> i32 {
    lintel_abi::fcntl::AT_FDCWD
}
