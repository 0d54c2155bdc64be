//! POSIX message queues without the kernel around them: names, the attribute rules of
//! mq_open, the memory a queue is charged against RLIMIT_MSGQUEUE, and the queue itself
//! (highest priority first, first in first out within a priority).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use lintel_abi::Errno;

/// MQ_PRIO_MAX: priorities are 0..32768.
pub const MQ_PRIO_MAX: u32 = 32768;
/// Limits a privileged (CAP_SYS_RESOURCE) creator may go up to.
pub const HARD_MSGMAX: i64 = 65536;
pub const HARD_MSGSIZEMAX: i64 = 16 * 1024 * 1024;
/// `sizeof(struct msg_msg)` and `sizeof(struct posix_msg_tree_node)`: what Linux charges per
/// message slot and per priority on top of the message bytes.
const MSG_OVERHEAD: u64 = 48;
const PRIO_NODE: u64 = 48;

/// /proc/sys/fs/mqueue values.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub msg_max: i64,
    pub msgsize_max: i64,
    pub msg_default: i64,
    pub msgsize_default: i64,
}

/// A queue name as mq_open/mq_unlink get it (the C library has removed the leading '/'):
/// one path component (EACCES for '/', '.', '..' or nothing; ENAMETOOLONG past NAME_MAX).
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// The (maxmsg, msgsize) of a new queue: `attr` as given (checked against the limits, or the
/// hard limits for a privileged creator), or the defaults.
pub fn new_attr(
    attr: Option<(i64, i64)>,
    privileged: bool,
    l: &Limits,
) -> Result<(i64, i64), Errno> {
    let Some((maxmsg, msgsize)) = attr else {
        return Ok((
            l.msg_default.min(l.msg_max),
            l.msgsize_default.min(l.msgsize_max),
        ));
    };
    if maxmsg <= 0 || msgsize <= 0 {
        return Err(Errno::EINVAL);
    }
    let (mm, ms) = if privileged {
        (HARD_MSGMAX, HARD_MSGSIZEMAX)
    } else {
        (l.msg_max, l.msgsize_max)
    };
    if maxmsg > mm || msgsize > ms {
        return Err(Errno::EINVAL);
    }
    Ok((maxmsg, msgsize))
}

/// What a queue costs its creator's RLIMIT_MSGQUEUE.
pub fn charge(maxmsg: i64, msgsize: i64) -> u64 {
    let (n, s) = (maxmsg as u64, msgsize as u64);
    n * s + n * MSG_OVERHEAD + n.min(MQ_PRIO_MAX as u64) * PRIO_NODE
}

/// The messages of one queue.
#[derive(Debug, Default)]
pub struct Messages {
    by_prio: BTreeMap<u32, VecDeque<Vec<u8>>>,
    count: usize,
    bytes: usize,
}

impl Messages {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes of all queued messages (QSIZE in the queue's status line).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn push(&mut self, prio: u32, msg: Vec<u8>) {
        self.bytes += msg.len();
        self.count += 1;
        self.by_prio.entry(prio).or_default().push_back(msg);
    }

    /// The oldest message of the highest priority, with its priority.
    pub fn pop(&mut self) -> Option<(u32, Vec<u8>)> {
        let mut e = self.by_prio.last_entry()?;
        let prio = *e.key();
        let msg = e.get_mut().pop_front()?;
        if e.get().is_empty() {
            e.remove();
        }
        self.count -= 1;
        self.bytes -= msg.len();
        Some((prio, msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const L: Limits = Limits {
        msg_max: 10,
        msgsize_max: 8192,
        msg_default: 10,
        msgsize_default: 8192,
    };

    #[test]
    fn names() {
        assert_eq!(check_name(b"q"), Ok(()));
        for bad in [&b""[..], b".", b"..", b"a/b"] {
            assert_eq!(check_name(bad), Err(Errno::EACCES));
        }
        assert_eq!(check_name(&[b'x'; 256]), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn attributes() {
        assert_eq!(new_attr(None, false, &L), Ok((10, 8192)));
        assert_eq!(new_attr(Some((5, 100)), false, &L), Ok((5, 100)));
        assert_eq!(new_attr(Some((0, 100)), true, &L), Err(Errno::EINVAL));
        assert_eq!(new_attr(Some((5, -1)), true, &L), Err(Errno::EINVAL));
        assert_eq!(new_attr(Some((11, 100)), false, &L), Err(Errno::EINVAL));
        assert_eq!(new_attr(Some((11, 100)), true, &L), Ok((11, 100)));
        assert_eq!(
            new_attr(Some((HARD_MSGMAX + 1, 1)), true, &L),
            Err(Errno::EINVAL)
        );
        // Ten default queues exceed the default RLIMIT_MSGQUEUE (819200 bytes); nine do not.
        assert!(9 * charge(10, 8192) <= 819_200 && 10 * charge(10, 8192) > 819_200);
    }

    #[test]
    fn priority_then_arrival() {
        let mut m = Messages::default();
        m.push(1, vec![1]);
        m.push(5, vec![5, 5]);
        m.push(1, vec![2]);
        m.push(5, vec![6]);
        assert_eq!((m.len(), m.bytes()), (4, 5));
        let order: Vec<(u32, Vec<u8>)> = core::iter::from_fn(|| m.pop()).collect();
        assert_eq!(
            order,
            vec![(5, vec![5, 5]), (5, vec![6]), (1, vec![1]), (1, vec![2])]
        );
        assert!(m.is_empty() && m.bytes() == 0);
    }
}
