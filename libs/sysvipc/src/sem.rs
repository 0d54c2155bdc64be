//! One semaphore set: values, the pids of the last operations, the operations waiting to
//! complete, and the SEM_UNDO adjustments of each process (Linux's sem_array, sem_queue and
//! sem_undo).
//!
//! An operation list is all-or-nothing: its operations are tried in order on a copy of the
//! values (so later ones see earlier ones), and only when every one can proceed are the
//! values changed. One that cannot is queued; after every change the queue is retried in
//! Linux's order (waits for zero first, then altering operations in arrival order, starting
//! over after each one that changed a value) and the completed ones are reported.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use lintel_abi::ipc::{IPC_NOWAIT, SEMAEM, SEMVMX, SEM_UNDO};
use lintel_abi::{Errno, KResult};

/// `struct sembuf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sembuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

impl Sembuf {
    pub fn from_bytes(b: &[u8; 6]) -> Sembuf {
        Sembuf {
            num: u16::from_le_bytes([b[0], b[1]]),
            op: i16::from_le_bytes([b[2], b[3]]),
            flg: i16::from_le_bytes([b[4], b[5]]),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sem {
    pub val: i32,
    /// The process that last changed or completed an operation on it (GETPID).
    pub pid: i32,
}

/// Why an operation list did not complete now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// It must wait: for semaphore `num` to become zero (`zero`) or to grow.
    Block {
        num: u16,
        zero: bool,
    },
    Fail(Errno),
}

struct Pending {
    ticket: u64,
    pid: i32,
    /// The caller's undo list (see `try_ops`).
    undo: u64,
    sops: Vec<Sembuf>,
    alter: bool,
    /// The operation it waits on (GETNCNT and GETZCNT count these).
    num: u16,
    zero: bool,
}

pub struct SemArray {
    pub sems: Vec<Sem>,
    /// Adjustments to apply when an undo list goes (its last task exits or unshares it), by
    /// the list's identity (one per semaphore). Linux's sem_undo, per sem_undo_list: the
    /// tasks that cloned with CLONE_SYSVSEM (threads, as a rule) share one list.
    undo: BTreeMap<u64, Vec<i32>>,
    pending: Vec<Pending>,
    /// Tickets of queued operation lists that have completed since they were queued.
    done: BTreeSet<u64>,
    /// Tickets of queued lists that failed when retried (an undo adjustment out of range).
    failed: BTreeMap<u64, Errno>,
    next_ticket: u64,
}

impl SemArray {
    /// A set of `n` semaphores at zero, or ENOMEM.
    pub fn new(n: usize) -> KResult<SemArray> {
        let mut sems = Vec::new();
        sems.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        sems.resize(n, Sem::default());
        Ok(SemArray {
            sems,
            undo: BTreeMap::new(),
            pending: Vec::new(),
            done: BTreeSet::new(),
            failed: BTreeMap::new(),
            next_ticket: 1,
        })
    }

    /// Tries `sops` for process `pid`, whose SEM_UNDO adjustments go to undo list `undo`.
    /// Ok(true) when they completed and changed a value
    /// (others may now proceed: call `update`), Ok(false) when they completed without change.
    pub fn try_ops(&mut self, sops: &[Sembuf], pid: i32, undo: u64) -> Result<bool, Stop> {
        let mut vals: Vec<i32> = Vec::new();
        vals.try_reserve_exact(self.sems.len())
            .map_err(|_| Stop::Fail(Errno::ENOMEM))?;
        vals.extend(self.sems.iter().map(|s| s.val));
        let mut adj: Option<Vec<i32>> = None;
        for s in sops {
            let i = s.num as usize;
            let cur = *vals.get(i).ok_or(Stop::Fail(Errno::EFBIG))?;
            let op = s.op as i32;
            let result = cur + op;
            if (op == 0 && cur != 0) || result < 0 {
                if s.flg as u32 & IPC_NOWAIT != 0 {
                    return Err(Stop::Fail(Errno::EAGAIN));
                }
                return Err(Stop::Block {
                    num: s.num,
                    zero: op == 0,
                });
            }
            if result > SEMVMX {
                return Err(Stop::Fail(Errno::ERANGE));
            }
            if s.flg & SEM_UNDO != 0 && op != 0 {
                let a = match &mut adj {
                    Some(a) => a,
                    None => {
                        let mut a = Vec::new();
                        a.try_reserve_exact(self.sems.len())
                            .map_err(|_| Stop::Fail(Errno::ENOMEM))?;
                        match self.undo.get(&undo) {
                            Some(u) => a.extend_from_slice(u),
                            None => a.resize(self.sems.len(), 0),
                        }
                        adj.insert(a)
                    }
                };
                let u = a[i] - op;
                if !(-SEMAEM - 1..=SEMAEM).contains(&u) {
                    return Err(Stop::Fail(Errno::ERANGE));
                }
                a[i] = u;
            }
            vals[i] = result;
        }
        let mut changed = false;
        for (s, v) in self.sems.iter_mut().zip(vals) {
            changed |= s.val != v;
            s.val = v;
        }
        for s in sops {
            if let Some(sem) = self.sems.get_mut(s.num as usize) {
                sem.pid = pid;
            }
        }
        if let Some(a) = adj {
            self.undo.insert(undo, a);
        }
        Ok(changed)
    }

    /// Queues `sops`, which blocked as `stop` says; returns the ticket to wait on.
    pub fn enqueue(&mut self, sops: Vec<Sembuf>, pid: i32, undo: u64, num: u16, zero: bool) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let alter = sops.iter().any(|s| s.op != 0);
        self.pending.push(Pending {
            ticket,
            pid,
            undo,
            sops,
            alter,
            num,
            zero,
        });
        ticket
    }

    /// What became of a queued list: Some(Ok) completed, Some(Err) failed, None still waiting.
    /// An answer is given once.
    pub fn take_result(&mut self, ticket: u64) -> Option<KResult<()>> {
        if self.done.remove(&ticket) {
            return Some(Ok(()));
        }
        self.failed.remove(&ticket).map(Err)
    }

    /// Removes a queued list whose caller gave up (signal, timeout, exit).
    pub fn cancel(&mut self, ticket: u64) {
        self.pending.retain(|p| p.ticket != ticket);
        self.done.remove(&ticket);
        self.failed.remove(&ticket);
    }

    /// Retries the queue after a change; true when anything completed (wake the waiters).
    pub fn update(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut progressed = false;
            // Waits for zero first: they change nothing, so all that can complete do.
            let mut i = 0;
            while i < self.pending.len() {
                if !self.pending[i].alter && self.retry(i).is_some() {
                    any = true;
                    continue;
                }
                i += 1;
            }
            // Then altering lists in arrival order; after one changed a value, start over.
            let mut i = 0;
            while i < self.pending.len() {
                if self.pending[i].alter {
                    if let Some(changed) = self.retry(i) {
                        any = true;
                        if changed {
                            progressed = true;
                            break;
                        }
                        continue;
                    }
                }
                i += 1;
            }
            if !progressed {
                return any;
            }
        }
    }

    /// Tries queued list `i`: Some(changed) when it left the queue (completed or failed).
    fn retry(&mut self, i: usize) -> Option<bool> {
        let sops = core::mem::take(&mut self.pending[i].sops);
        let (pid, undo) = (self.pending[i].pid, self.pending[i].undo);
        let r = self.try_ops(&sops, pid, undo);
        match r {
            Ok(changed) => {
                let p = self.pending.remove(i);
                self.done.insert(p.ticket);
                Some(changed)
            }
            Err(Stop::Block { num, zero }) => {
                let p = &mut self.pending[i];
                p.sops = sops;
                p.num = num;
                p.zero = zero;
                None
            }
            Err(Stop::Fail(e)) => {
                let p = self.pending.remove(i);
                self.failed.insert(p.ticket, e);
                Some(false)
            }
        }
    }

    /// GETNCNT (`zero` false) or GETZCNT: queued lists waiting on semaphore `num`.
    pub fn waiting(&self, num: u16, zero: bool) -> usize {
        self.pending
            .iter()
            .filter(|p| p.num == num && p.zero == zero)
            .count()
    }

    /// SETVAL: sets one value and forgets every process's adjustment for it.
    pub fn set(&mut self, num: usize, val: i32, pid: i32) -> KResult<()> {
        if !(0..=SEMVMX).contains(&val) {
            return Err(Errno::ERANGE);
        }
        let s = self.sems.get_mut(num).ok_or(Errno::EINVAL)?;
        s.val = val;
        s.pid = pid;
        for a in self.undo.values_mut() {
            if let Some(x) = a.get_mut(num) {
                *x = 0;
            }
        }
        Ok(())
    }

    /// SETALL: every value (each checked first) and no adjustments left.
    pub fn set_all(&mut self, vals: &[u16], pid: i32) -> KResult<()> {
        if vals.len() != self.sems.len() {
            return Err(Errno::EINVAL);
        }
        if vals.iter().any(|&v| v as i32 > SEMVMX) {
            return Err(Errno::ERANGE);
        }
        for (s, &v) in self.sems.iter_mut().zip(vals) {
            s.val = v as i32;
            s.pid = pid;
        }
        for a in self.undo.values_mut() {
            a.iter_mut().for_each(|x| *x = 0);
        }
        Ok(())
    }

    /// Undo list `undo` goes, its last holder being process `pid`: its adjustments are added
    /// (each value kept within 0..=SEMVMX). True when a value changed.
    pub fn exit(&mut self, undo: u64, pid: i32) -> bool {
        let Some(adj) = self.undo.remove(&undo) else {
            return false;
        };
        let mut changed = false;
        for (s, a) in self.sems.iter_mut().zip(adj) {
            if a != 0 {
                let v = (s.val + a).clamp(0, SEMVMX);
                changed |= v != s.val;
                s.val = v;
                s.pid = pid;
            }
        }
        changed
    }

    /// Whether undo list `undo` has adjustments here.
    pub fn has_undo(&self, undo: u64) -> bool {
        self.undo.contains_key(&undo)
    }

    /// The adjustment undo list `undo` holds for semaphore `num` (for tests).
    pub fn adjustment(&self, undo: u64, num: usize) -> i32 {
        self.undo
            .get(&undo)
            .and_then(|a| a.get(num))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(num: u16, op: i16, flg: i16) -> Sembuf {
        Sembuf { num, op, flg }
    }

    fn vals(a: &SemArray) -> Vec<i32> {
        a.sems.iter().map(|s| s.val).collect()
    }

    #[test]
    fn all_or_nothing() {
        let mut a = SemArray::new(2).unwrap();
        assert_eq!(a.try_ops(&[op(0, 2, 0)], 1, 1), Ok(true));
        // The second operation blocks: the first is not applied.
        assert_eq!(
            a.try_ops(&[op(0, -1, 0), op(1, -1, 0)], 1, 1),
            Err(Stop::Block {
                num: 1,
                zero: false
            })
        );
        assert_eq!(vals(&a), [2, 0]);
        // Later operations see earlier ones.
        assert_eq!(a.try_ops(&[op(1, 1, 0), op(1, -1, 0)], 1, 1), Ok(false));
        assert_eq!(
            a.try_ops(&[op(0, -1, 0), op(1, 0, IPC_NOWAIT as i16)], 1, 1),
            Ok(true)
        );
        assert_eq!(
            a.try_ops(&[op(0, 0, IPC_NOWAIT as i16)], 1, 1),
            Err(Stop::Fail(Errno::EAGAIN))
        );
        assert_eq!(
            a.try_ops(&[op(0, 32767, 0)], 1, 1),
            Err(Stop::Fail(Errno::ERANGE))
        );
        assert_eq!(
            a.try_ops(&[op(2, 1, 0)], 1, 1),
            Err(Stop::Fail(Errno::EFBIG))
        );
        assert_eq!(a.sems[0].pid, 1);
    }

    #[test]
    fn queue_order_and_counts() {
        let mut a = SemArray::new(1).unwrap();
        let t1 = a.enqueue(alloc::vec![op(0, -2, 0)], 10, 10, 0, false);
        let t2 = a.enqueue(alloc::vec![op(0, -1, 0)], 11, 11, 0, false);
        let tz = a.enqueue(alloc::vec![op(0, 0, 0)], 12, 12, 0, true);
        assert_eq!(a.waiting(0, false), 2);
        assert_eq!(a.waiting(0, true), 1);
        a.try_ops(&[op(0, 1, 0)], 1, 1).unwrap();
        assert!(a.update());
        // The first waiter needs 2: the second takes the 1; then the value is zero again.
        assert_eq!(a.take_result(t2), Some(Ok(())));
        assert_eq!(a.take_result(t1), None);
        assert_eq!(a.take_result(tz), Some(Ok(())));
        a.try_ops(&[op(0, 2, 0)], 1, 1).unwrap();
        assert!(a.update());
        assert_eq!(a.take_result(t1), Some(Ok(())));
        assert_eq!(a.sems[0].pid, 10);
        assert_eq!(a.waiting(0, false), 0);
        let t3 = a.enqueue(alloc::vec![op(0, -1, 0)], 13, 13, 0, false);
        a.cancel(t3);
        assert_eq!(a.waiting(0, false), 0);
    }

    #[test]
    fn undo_at_exit() {
        let mut a = SemArray::new(2).unwrap();
        a.try_ops(&[op(0, 5, SEM_UNDO), op(1, 3, 0)], 7, 7).unwrap();
        a.try_ops(&[op(0, -2, SEM_UNDO)], 7, 7).unwrap();
        assert_eq!(a.adjustment(7, 0), -3);
        assert!(a.exit(7, 7));
        assert_eq!(vals(&a), [0, 3]);
        assert!(!a.has_undo(7));
        // Clamped at zero.
        a.try_ops(&[op(1, 1, SEM_UNDO)], 8, 8).unwrap();
        a.set(1, 0, 9).unwrap();
        assert!(!a.exit(8, 8));
        a.try_ops(&[op(1, 2, SEM_UNDO)], 8, 8).unwrap();
        a.try_ops(&[op(1, -2, 0)], 9, 9).unwrap();
        assert!(!a.exit(8, 8));
        assert_eq!(vals(&a), [0, 0]);
        assert_eq!(a.set(0, 32768, 1), Err(Errno::ERANGE));
        assert_eq!(a.set_all(&[1], 1), Err(Errno::EINVAL));
        a.set_all(&[4, 5], 1).unwrap();
        assert_eq!(vals(&a), [4, 5]);
    }

    #[test]
    fn undo_list_shared_by_two_processes() {
        // clone(CLONE_SYSVSEM) without CLONE_THREAD: two processes, one list; the list's
        // adjustments apply once, when its last holder lets go.
        let mut a = SemArray::new(1).unwrap();
        a.try_ops(&[op(0, 2, SEM_UNDO)], 20, 5).unwrap();
        a.try_ops(&[op(0, 3, SEM_UNDO)], 21, 5).unwrap();
        assert_eq!(a.adjustment(5, 0), -5);
        assert!(!a.has_undo(20) && !a.has_undo(21));
        assert!(a.exit(5, 21));
        assert_eq!(vals(&a), [0]);
        assert_eq!(a.sems[0].pid, 21);
        assert!(!a.exit(5, 20));
    }

    #[test]
    fn adjustment_range_and_failed_retry() {
        let mut a = SemArray::new(1).unwrap();
        // An adjustment past -SEMAEM-1 is ERANGE and nothing changes.
        a.try_ops(&[op(0, 32767, SEM_UNDO)], 1, 1).unwrap();
        a.try_ops(&[op(0, -32767, 0)], 1, 1).unwrap();
        a.try_ops(&[op(0, 1, SEM_UNDO)], 1, 1).unwrap();
        assert_eq!(a.adjustment(1, 0), -32768);
        a.try_ops(&[op(0, -1, 0)], 1, 1).unwrap();
        assert_eq!(
            a.try_ops(&[op(0, 1, SEM_UNDO)], 1, 1),
            Err(Stop::Fail(Errno::ERANGE))
        );
        assert_eq!((a.sems[0].val, a.adjustment(1, 0)), (0, -32768));
        // SETVAL forgets it.
        a.set(0, 0, 2).unwrap();
        assert_eq!(a.adjustment(1, 0), 0);
        // A queued list that can no longer succeed leaves the queue with its error.
        a.set(0, 32767, 1).unwrap();
        let t = a.enqueue(alloc::vec![op(0, 0, 0)], 3, 3, 0, true);
        let t2 = a.enqueue(alloc::vec![op(0, -1, 0), op(0, 2, 0)], 4, 4, 0, false);
        a.set(0, 0, 1).unwrap();
        a.update();
        assert_eq!(a.take_result(t), Some(Ok(())));
        assert_eq!(a.take_result(t2), None);
        a.set(0, 32767, 1).unwrap();
        a.update();
        assert_eq!(a.take_result(t2), Some(Err(Errno::ERANGE)));
        assert_eq!(a.waiting(0, false), 0);
    }
}
