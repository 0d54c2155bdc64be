//! Resource usage as getrusage, times and wait4 report it, kept as one record so an exited
//! thread or a reaped child is folded in with one lock.

use crate::sched::Events;

/// CPU time, context switches and faults, and peak resident pages (ru_maxrss) of a set of
/// threads or processes: a process's exited threads, or its reaped children with theirs.
#[derive(Clone, Copy, Default, Debug)]
pub struct Usage {
    pub user_ns: u64,
    pub sys_ns: u64,
    pub events: Events,
    /// The largest peak of any one address space in the set, in pages (Linux's maxrss is a
    /// maximum, not a sum).
    pub maxrss: usize,
}

impl core::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.user_ns += o.user_ns;
        self.sys_ns += o.sys_ns;
        self.events += o.events;
        self.maxrss = self.maxrss.max(o.maxrss);
    }
}
