//! The out-of-memory killer. When a fault in user mode finds no free frame (after the page
//! cache has dropped what it could), the process with the largest resident set is killed with
//! SIGKILL and logged, as Linux's OOM killer does (its score is mostly the resident set; init
//! is never chosen), and the fault is tried again once the victim has released its memory.

use super::{signal, Process, Thread, PROCS};
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

/// Processes killed for memory that have not released it yet (they are not zombies yet).
static DYING: Mutex<Vec<Weak<Process>>> = Mutex::new(Vec::new());

/// How many times a faulting thread lets killed processes run before it gives up itself.
const MAX_WAITS: u32 = 16;

enum Choice {
    /// An earlier victim still holds its memory: let it run.
    Wait,
    Kill(Arc<Process>),
}

fn choose(me: &Arc<Process>) -> Choice {
    {
        let mut d = DYING.lock();
        d.retain(|w| w.upgrade().is_some_and(|p| p.exit_status.lock().is_none()));
        if !d.is_empty() {
            return Choice::Wait;
        }
    }
    let procs: Vec<Arc<Process>> = PROCS.lock().values().cloned().collect();
    let mut best = (me.clone(), me.mm().rss().total());
    for p in procs {
        if p.pid == 1 || Arc::ptr_eq(&p, me) || p.is_exiting() || p.exit_status.lock().is_some() {
            continue;
        }
        let rss = p.mm().rss().total();
        if rss > best.1 {
            best = (p, rss);
        }
    }
    Choice::Kill(best.0)
}

/// A fault of `thread` in user mode found no frame. Returns when the fault is worth trying
/// again, or with the thread's own process killed when it is the biggest (or memory does not
/// come back).
pub fn on_user_fault(thread: &Arc<Thread>) {
    let me = thread.process();
    for _ in 0..MAX_WAITS {
        match choose(&me) {
            Choice::Wait => crate::sched::yield_now(),
            Choice::Kill(p) if Arc::ptr_eq(&p, &me) => break,
            Choice::Kill(p) => {
                kill(&p);
                crate::sched::yield_now();
                return;
            }
        }
        if me.is_exiting() {
            return;
        }
    }
    kill(&me);
}

/// Kills `p` for memory (SIGKILL), with Linux's log line, unless it is already exiting.
pub fn kill(p: &Arc<Process>) {
    if p.is_exiting() {
        return;
    }
    let (vm, rss) = {
        let mm = p.mm();
        let rss = mm.rss().total() * 4;
        // Without the lock: the victim may hold it (a fault asleep).
        let vm = mm.vm_sizes().total * 4;
        (vm, rss)
    };
    let comm = p
        .live_threads()
        .first()
        .map(|t| t.comm_bytes())
        .unwrap_or_default();
    crate::warn!(
        "Out of memory: Killed process {} ({}) total-vm:{}kB, rss:{}kB",
        p.pid,
        core::str::from_utf8(&comm).unwrap_or("?"),
        vm,
        rss
    );
    DYING.lock().push(Arc::downgrade(p));
    p.kill_all_threads(signal::killed_status(signal::SIGKILL));
}
