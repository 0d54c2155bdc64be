//! Message queues (Linux's ipc/msg.c): the id table, msgsnd waiting for room, msgrcv choosing
//! by type (`lintel_sysvipc::msg::Search`) and waiting for a message, and the msgctl
//! commands. Senders and receivers sleep on one wait queue and look again after each change.

use super::{existing, limits, now, owned, stat_target, update_perm, Caller};
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::ipc::*;
use lintel_abi::{Errno, KResult};
use lintel_sysvipc::ids::IpcObject;
use lintel_sysvipc::msg::{fits, Search};
use lintel_sysvipc::{Ids, ACCESS_READ, ACCESS_WRITE};

struct Msg {
    mtype: i64,
    text: Vec<u8>,
}

pub struct Queue {
    perm: IpcPerm,
    msgs: VecDeque<Msg>,
    cbytes: u64,
    qbytes: u64,
    stime: i64,
    rtime: i64,
    ctime: i64,
    lspid: i32,
    lrpid: i32,
    /// Tells a queue from a later one with the same id, for waiters.
    serial: u64,
}

impl IpcObject for Queue {
    fn perm(&self) -> &IpcPerm {
        &self.perm
    }
}

impl Queue {
    fn ds(&self) -> MsqidDs {
        MsqidDs {
            perm: self.perm,
            stime: self.stime,
            rtime: self.rtime,
            ctime: self.ctime,
            cbytes: self.cbytes,
            qnum: self.msgs.len() as u64,
            qbytes: self.qbytes,
            lspid: self.lspid,
            lrpid: self.lrpid,
        }
    }
}

static MSG: Mutex<Ids<Queue>> = Mutex::new(Ids::new());
static WAIT: WaitQueue = WaitQueue::new();
static SERIAL: AtomicU64 = AtomicU64::new(1);

/// msgget.
pub fn get(c: &Caller, key: i32, flags: u32) -> KResult<i32> {
    let mut ids = MSG.lock();
    if let Some(id) = existing(&ids, c, key, flags, |_| true)? {
        return Ok(id);
    }
    let (id, seq) = ids.next_id(limits::msgmni()).ok_or(Errno::ENOSPC)?;
    ids.insert(
        id,
        Queue {
            perm: c.new_perm(key, flags, seq),
            msgs: VecDeque::new(),
            cbytes: 0,
            qbytes: limits::msgmnb() as u64,
            stime: 0,
            rtime: 0,
            ctime: now(),
            lspid: 0,
            lrpid: 0,
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        },
    );
    Ok(id)
}

/// Waits on the queue `id` until `step` returns a result: `step` sees the queue (EIDRM once
/// it is gone) and returns None to wait; IPC_NOWAIT (`nowait`) turns that into `empty`. A
/// signal ends the wait with ERESTARTNOHAND, as Linux's msgsnd and msgrcv.
fn wait_on<T>(
    id: i32,
    nowait: bool,
    empty: Errno,
    mut step: impl FnMut(&mut Queue) -> Option<KResult<T>>,
) -> KResult<T> {
    let serial = {
        let mut ids = MSG.lock();
        let q = ids.get_mut(id).ok_or(Errno::EINVAL)?;
        if let Some(r) = step(q) {
            return r;
        }
        if nowait {
            return Err(empty);
        }
        q.serial
    };
    WAIT.wait_interruptible(None, false, || {
        let mut ids = MSG.lock();
        match ids.get_mut(id).filter(|q| q.serial == serial) {
            None => Some(Err(Errno::EIDRM)),
            Some(q) => step(q),
        }
    })
    .map_err(|e| {
        if e == Errno::ERESTARTSYS {
            Errno::ERESTARTNOHAND
        } else {
            e
        }
    })
}

/// msgsnd after the checks on the arguments: waits while the queue has no room for it.
pub fn send(c: &Caller, id: i32, mtype: i64, text: Vec<u8>, flags: u32) -> KResult<()> {
    let mut text = Some(text);
    wait_on(id, flags & IPC_NOWAIT != 0, Errno::EAGAIN, |q| {
        if !c.who().may(&q.perm, ACCESS_WRITE) {
            return Some(Err(Errno::EACCES));
        }
        let size = text.as_ref().map_or(0, |t| t.len()) as u64;
        if !fits(q.cbytes, q.msgs.len() as u64, q.qbytes, size) {
            return None;
        }
        let text = text.take()?;
        q.msgs.push_back(Msg { mtype, text });
        q.cbytes += size;
        q.lspid = c.pid;
        q.stime = now();
        WAIT.wake_all();
        Some(Ok(()))
    })
}

/// msgrcv: the chosen message's type and text (at most `bufsz` bytes with MSG_NOERROR, else
/// E2BIG when it is longer), removed from the queue unless MSG_COPY.
pub fn receive(
    c: &Caller,
    id: i32,
    bufsz: usize,
    msgtyp: i64,
    flags: u32,
) -> KResult<(i64, Vec<u8>)> {
    let search = Search::new(msgtyp, flags);
    wait_on(id, flags & IPC_NOWAIT != 0, Errno::ENOMSG, |q| {
        if !c.who().may(&q.perm, ACCESS_READ) {
            return Some(Err(Errno::EACCES));
        }
        let i = search.find(q.msgs.iter().map(|m| m.mtype))?;
        let m = q.msgs.get(i)?;
        let size = m.text.len();
        if bufsz < size && flags & MSG_NOERROR == 0 {
            return Some(Err(Errno::E2BIG));
        }
        let n = bufsz.min(size);
        if flags & MSG_COPY != 0 {
            // The copy's buffer is min(bufsz, msgmax) long and must hold it all.
            if size > bufsz.min(limits::msgmax() as usize) {
                return Some(Err(Errno::EINVAL));
            }
            let mut t = Vec::new();
            if let Err(e) = crate::mm::kheap::reserve_in(&mut t, n) {
                return Some(Err(e));
            }
            t.extend_from_slice(&m.text[..n]);
            return Some(Ok((m.mtype, t)));
        }
        let mut m = q.msgs.remove(i)?;
        q.cbytes -= size as u64;
        q.rtime = now();
        q.lrpid = c.pid;
        WAIT.wake_all();
        m.text.truncate(n);
        Some(Ok((m.mtype, m.text)))
    })
}

/// IPC_STAT (by id), MSG_STAT and MSG_STAT_ANY (by index).
pub fn stat(c: &Caller, id: i32, cmd: i32) -> KResult<(i32, MsqidDs)> {
    let ids = MSG.lock();
    let (ret, q) = stat_target(&ids, c, id, cmd != IPC_STAT, cmd == MSG_STAT_ANY)?;
    Ok((ret, q.ds()))
}

/// IPC_SET (with msg_qbytes: above msgmnb needs privilege) and IPC_RMID (waiters get
/// EIDRM). Waiters look again either way.
pub fn set_or_remove(c: &Caller, id: i32, set: Option<IpcSet>) -> KResult<()> {
    let mut ids = MSG.lock();
    let q = owned(&mut ids, c, id)?;
    match set {
        Some(v) => {
            if v.qbytes > limits::msgmnb() as u64 && !c.resource() {
                return Err(Errno::EPERM);
            }
            update_perm(&mut q.perm, &v);
            q.qbytes = v.qbytes;
            q.ctime = now();
        }
        None => {
            ids.remove(id);
        }
    }
    WAIT.wake_all();
    Ok(())
}

/// IPC_INFO and MSG_INFO: `struct msginfo` and the highest index in use.
pub fn info(cmd: i32) -> ([u8; 32], i32) {
    let ids = MSG.lock();
    let (pool, map, tql) = if cmd == MSG_INFO {
        let qnum: usize = ids.iter().map(|(_, q)| q.msgs.len()).sum();
        let bytes: u64 = ids.iter().map(|(_, q)| q.cbytes).sum();
        (ids.in_use() as i32, qnum as i32, bytes as i32)
    } else {
        (MSGPOOL as i32, MSGMAP as i32, MSGTQL as i32)
    };
    let b = msginfo_bytes(
        [
            pool,
            map,
            limits::msgmax() as i32,
            limits::msgmnb() as i32,
            limits::MSGMNI.load(Ordering::Relaxed) as i32,
            MSGSSZ as i32,
            tql,
        ],
        MSGSEG as u16,
    );
    (b, ids.max_idx().unwrap_or(0) as i32)
}

/// /proc/sysvipc/msg.
pub fn proc_text(out: &mut crate::fs::seq::SeqText) {
    out.str("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n");
    for (id, q) in MSG.lock().iter() {
        let p = &q.perm;
        let _ = core::fmt::Write::write_fmt(
            out,
            format_args!(
                "{:10} {:10}  {:4o}  {:10} {:10} {:5} {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10}\n",
                p.key,
                id,
                p.mode,
                q.cbytes,
                q.msgs.len(),
                q.lspid,
                q.lrpid,
                p.uid,
                p.gid,
                p.cuid,
                p.cgid,
                q.stime,
                q.rtime,
                q.ctime
            ),
        );
    }
}
