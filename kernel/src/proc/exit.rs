//! The end of threads and processes: robust futexes and clear_child_tid, releasing a process's
//! resources when its last thread leaves, telling the parent, and reaping the zombie (wait4).

use super::{deliver, find_process, notify_parent, signal, Process, Thread, NPROCS, THREADS};
use crate::mm::Mm;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

/// Releases a vfork parent (the child called execve or exited).
pub fn release_vfork(p: &Process) {
    let mut r = p.vfork_released.lock();
    if !*r {
        *r = true;
        drop(r);
        p.vfork_done.wake_all();
    }
}

/// What the end of a session leader does to its controlling terminal (hang-up of the
/// foreground group), set at boot by the terminal layer.
static SESSION_END_HOOK: spin::Once<fn(&Process)> = spin::Once::new();

pub fn set_session_end_hook(hook: fn(&Process)) {
    SESSION_END_HOOK.call_once(|| hook);
}

/// Called by each thread as it leaves; the last one turns the process into a zombie.
pub fn thread_exit(t: &Arc<Thread>) {
    let p = t.process();
    // Process signals this thread could have taken go to the others (Linux's exit_signals):
    // a sender may have woken only this one for them.
    super::retarget_shared(t, !t.sigmask.peek());
    let (robust, _) = core::mem::take(&mut *t.robust_list.lock());
    if robust != 0 {
        crate::futex::exit_robust_list(&p.mm(), t.tid() as u32, robust);
    }
    // The semaphore undo list (Linux's exit_sem): applied if no other task shares it.
    crate::ipc::sem::leave(&t.sysvsem, p.pid);
    // Registered io_uring rings are let go, as Linux's io_uring_unreg_ringfd at exit.
    let rings = t.io_uring_rings.lock().take();
    drop(rings);
    // The thread lets go of its fd table and fs context (Linux's exit_files and exit_fs): a
    // table shared with other threads or processes keeps its files open for them; the last
    // to let go closes them, and its POSIX locks go (`FdTable`'s drop). What they held goes
    // here, not wherever the last reference to the thread happens to drop: the thread is
    // left an empty table, and its root as its cwd too.
    let files = t.files.replace(Default::default());
    if Arc::strong_count(&files) == 1 {
        // The table's last user closes its files as Linux's close_files does (filp_close on
        // each): each file hears of it (`FileOps::flush`), so this process's mq_notify
        // registrations end now, before its parent can reap it, not when the last reference
        // to the process drops (which may come after a reaping parent registers: EBUSY).
        let table = core::mem::take(&mut *files.lock());
        for (_, e) in table.fds() {
            e.file.ops.flush(&e.file);
        }
        drop(table);
    }
    drop(files);
    let (root, umask) = t.fs.with(|f| (f.root.clone(), f.umask));
    let fs = t.fs.replace(super::FsContext {
        root: root.clone(),
        cwd: root,
        umask,
    });
    drop(fs);
    // CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (pthread_join).
    let ctid = core::mem::take(&mut *t.clear_child_tid.lock());
    if ctid != 0 && crate::uaccess::write_u32(ctid, 0).is_ok() {
        for private in [true, false] {
            if let Ok(k) = crate::futex::key_of(&p.mm(), ctid, private) {
                let _ = crate::futex::wake(k, 1, crate::futex::FUTEX_BITSET_MATCH_ANY);
            }
        }
    }
    THREADS.lock().remove(&t.tid());
    // A deadline thread's bandwidth is free for others.
    crate::sched::deadline::exited(&(t.clone() as crate::sched::ThreadRef));
    // The thread no longer uses its seccomp filters: a listener whose filter lost its last
    // user reports POLLHUP.
    if t.seccomp.lock().take().is_some() {
        crate::fs::file::poll_notify();
    }
    // Now gone for good: waiters on PI futexes it held take them over.
    crate::futex::pi::owner_exited(t.tid() as u32);
    {
        let ct = *t.cpu.lock();
        let (u, s) = ct.user_sys(t.user_ns(), crate::time::uptime_ns());
        let mut d = p.dead.lock();
        d.user_ns += u;
        d.sys_ns += s;
        d.events += ct.events;
    }
    let last = {
        let mut th = p.threads.lock();
        th.retain(|w| w.upgrade().is_some_and(|x| !Arc::ptr_eq(&x, t)));
        th.is_empty()
    };
    p.thread_gone.wake_all();
    crate::keys::thread_exited(t.tid());
    let own = *t.exit_code.lock();
    let status = p.exiting.lock().or(own).unwrap_or(0);
    super::ptrace::tracee_exited(t, status, last);
    if !last {
        let heir = p.live_threads().first().map(|h| h.tid());
        creator_left(&p, t.tid(), heir);
        NPROCS.fetch_sub(1, Ordering::Relaxed);
        // Its cwd may have been a lazily unmounted mount's last use.
        crate::fs::detached::thread_gone();
        return;
    }
    super::ptrace::tracer_exited(&p);
    release_vfork(&p);
    // Release resources now; the zombie keeps only its status. (Each thread let go of its
    // fd table and fs context above.) Its handlers stay shared until it is reaped, as
    // Linux's sighand is.
    lintel_hal::mm::activate_kernel();
    if let Ok(empty) = Mm::zombie() {
        crate::ipc::shm::release_mm(p.set_mm(empty), p.pid);
    }
    // The executable goes with the address space (Linux's mm->exe_file): a program file
    // unlinked while it ran is freed now, not when the zombie is reaped (or never, for init,
    // whose exit powers off). Its path stays as the zombie's name.
    p.release_exe();
    // Its cwd, files or mappings may have been a lazily unmounted mount's last use: the mount
    // goes before the parent hears of the exit (as Linux's exit_task_work runs the last
    // mntput before exit_notify), on the next return to user mode of any thread.
    crate::fs::detached::thread_gone();
    crate::keys::exited(p.pid);
    crate::uts::exited(p.pid);
    if p.sid.load(Ordering::Relaxed) == p.pid {
        if let Some(hook) = SESSION_END_HOOK.get() {
            hook(&p);
        }
    }
    if p.pid == 1 {
        let code = if status & 0x7f != 0 {
            128 + (status & 0x7f)
        } else {
            (status >> 8) & 0xff
        };
        crate::info!("init exited with status {:#x}", status);
        crate::power_off(&alloc::format!("exit {}", code));
    }
    // Handing the orphans on and publishing this process's own exit run under EXIT_LOCK as
    // one step (Linux's tasklist_lock in exit_notify): otherwise a child exiting at the same
    // moment could decide to be reaped at exit by this (autoreaping) parent while being
    // handed to a new parent that waits, or be handed to a subreaper that has already handed
    // on its own children.
    let exit_lock = EXIT_LOCK.lock();
    // Orphans go to the nearest living ancestor marked as child subreaper, else to init.
    let orphans = core::mem::take(&mut *p.children.lock());
    if !orphans.is_empty() {
        let mut reaper = p.parent.lock().upgrade();
        while let Some(r) = reaper.clone() {
            if r.child_subreaper.load(Ordering::Relaxed) && r.exit_status.lock().is_none() {
                break;
            }
            reaper = r.parent.lock().upgrade();
        }
        if let Some(r) = reaper.or_else(|| find_process(1)) {
            for c in &orphans {
                c.ppid.store(r.pid, Ordering::Relaxed);
                *c.parent.lock() = Arc::downgrade(&r);
                // Linux's reparent_leader: a child made with another exit signal (clone's
                // CSIGNAL) reports to its new parent with SIGCHLD, so that a plain wait
                // (without __WCLONE) there finds it.
                c.exit_signal.store(signal::SIGCHLD, Ordering::Relaxed);
            }
            // Zombies among them: the new parent hears of each (SIGCHLD), or, when it
            // discards its children's statuses (SIGCHLD ignored, SA_NOCLDWAIT), they are
            // reaped now; before, such a zombie stayed for ever. Which of the two is decided
            // (`autoreaped`, which a wait skips) before they join the new parent's list: a
            // wait of the new parent's on another CPU (which does not take EXIT_LOCK) found
            // a zombie to be reaped here in its list in between and reported it
            // (`proc_reparent_zombie`: waitpid with SIGCHLD ignored returned its pid instead
            // of ECHILD, without the big kernel lock). What the old parent decided no longer
            // holds.
            for c in &orphans {
                if c.exit_status.lock().is_some() {
                    c.autoreaped
                        .store(deliver::parent_autoreaps(c), Ordering::SeqCst);
                }
            }
            r.children.lock().extend(orphans.iter().cloned());
            for c in &orphans {
                let Some(st) = *c.exit_status.lock() else {
                    continue;
                };
                if c.autoreaped.load(Ordering::SeqCst) {
                    if claim(c) {
                        reap(&r, c);
                    }
                } else {
                    let (code, val) = signal::child_exit_code(st);
                    notify_parent(c, code, val);
                }
            }
            r.child_event.wake_all();
        }
    }
    // Decided and acted on with the parent of this moment: reparenting (above, in the
    // parent's own exit) cannot come in between.
    let autoreap = deliver::parent_autoreaps(&p);
    p.autoreaped.store(autoreap, Ordering::SeqCst);
    *p.exit_status.lock() = Some(status);
    NPROCS.fetch_sub(1, Ordering::Relaxed);
    let (code, st) = signal::child_exit_code(status);
    notify_parent(&p, code, st);
    if autoreap {
        if let Some(parent) = p.parent.lock().upgrade() {
            if claim(&p) {
                reap(&parent, &p);
            }
            // A wait that skipped it looks again (and may find no child left).
            parent.child_event.wake_all();
        }
    }
    drop(exit_lock);
    for c in &orphans {
        send_pdeath_signal(&p, c);
    }
    // Its pidfds poll readable from now on.
    crate::fs::file::poll_notify();
}

/// CLONE_PARENT: `child`, just made by `me`, becomes a child of `me`'s parent. Under
/// EXIT_LOCK: that parent may be exiting on another CPU, and a child added to its list after
/// it handed its children on would never be reaped; `me`'s parent read under the lock is
/// one whose exit has not handed them on yet (else `me` was handed on too, to a new parent).
pub fn adopt_by_grandparent(me: &Arc<Process>, child: &Arc<Process>) {
    let _exit_lock = EXIT_LOCK.lock();
    let Some(gp) = me.parent.lock().upgrade() else {
        return;
    };
    me.children.lock().retain(|x| !Arc::ptr_eq(x, child));
    child.ppid.store(gp.pid, Ordering::Relaxed);
    *child.parent.lock() = Arc::downgrade(&gp);
    child
        .creator_tid
        .store(me.creator_tid.load(Ordering::Relaxed), Ordering::Relaxed);
    gp.children.lock().push(child.clone());
}

/// Serializes the ends of processes where they touch parents and children: handing a dying
/// process's children to a new parent, and a child's choice between becoming a zombie for its
/// parent to wait for and being reaped at once (Linux's tasklist_lock, in exit_notify).
static EXIT_LOCK: crate::spinlock::Mutex<()> = crate::spinlock::Mutex::new(());

/// Takes zombie `child` for reaping: true for exactly one caller (a wait of its parent's, or
/// the exit path when nobody waits for it); the others leave it alone.
pub fn claim(child: &Process) -> bool {
    child
        .reap_claimed
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

/// Linux's forget_original_parent for a thread that leaves while its process lives on: the
/// children it created pass to another thread (`heir`) and get their parent-death signal.
fn creator_left(p: &Arc<Process>, tid: i32, heir: Option<i32>) {
    let created: alloc::vec::Vec<Arc<Process>> = p
        .children
        .lock()
        .iter()
        .filter(|c| c.creator_tid.load(Ordering::Relaxed) == tid)
        .cloned()
        .collect();
    for c in &created {
        c.creator_tid.store(heir.unwrap_or(0), Ordering::Relaxed);
        send_pdeath_signal(p, c);
    }
}

/// PR_SET_PDEATHSIG: the signal `child` asked for when its parent thread ends, sent as
/// Linux's SEND_SIG_NOINFO from the ending process.
fn send_pdeath_signal(parent: &Process, child: &Arc<Process>) {
    let sig = child.pdeath_signal.load(Ordering::Relaxed);
    if sig != 0 {
        deliver::send_simple(child, None, sig, signal::SI_USER, Some(parent));
    }
}

/// Reaps a zombie child: removes it from the tables.
pub fn reap(parent: &Process, child: &Arc<Process>) {
    let u = child.usage_with_reaped();
    *parent.reaped.lock() += u;
    parent.children.lock().retain(|c| !Arc::ptr_eq(c, child));
    super::pids::leave(child);
    // Another thread's wait that passed over it (taken) looks again, and may find no child
    // left.
    parent.child_event.wake_all();
}
