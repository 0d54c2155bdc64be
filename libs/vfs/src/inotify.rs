//! An inotify instance's event queue: Linux's record layout, merging of a repeated event, the
//! overflow rule and how a read takes whole records. The kernel decides which events happen
//! (see its `fs::notify`); this decides what a reader of the instance sees.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
pub const IN_UNMOUNT: u32 = 0x2000;
pub const IN_Q_OVERFLOW: u32 = 0x4000;
pub const IN_IGNORED: u32 = 0x8000;
pub const IN_ALL_EVENTS: u32 = 0xfff;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
pub const IN_ONESHOT: u32 = 0x8000_0000;
/// What inotify_add_watch accepts in its mask.
pub const IN_VALID_MASK: u32 = IN_ALL_EVENTS
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_CREATE
    | IN_MASK_ADD
    | IN_ONESHOT;

/// The dnotify (fcntl F_NOTIFY) bits an inotify event on a watched directory stands for, as
/// Linux's dnotify converts them: an entry appearing (created or moved in) is DN_CREATE, one
/// leaving is DN_DELETE, and a move out is also DN_RENAME (Linux 5.17+ reports FS_RENAME to
/// the old directory). Events about the directory itself count only when it is the subject
/// (`on_child` false and IN_ISDIR set), as dnotify ignores events on non-directories.
pub fn dnotify_bits(mask: u32, on_child: bool) -> u32 {
    const DN_ACCESS: u32 = 0x1;
    const DN_MODIFY: u32 = 0x2;
    const DN_CREATE: u32 = 0x4;
    const DN_DELETE: u32 = 0x8;
    const DN_RENAME: u32 = 0x10;
    const DN_ATTRIB: u32 = 0x20;
    if !on_child && mask & IN_ISDIR == 0 {
        return 0;
    }
    let table = [
        (IN_ACCESS, DN_ACCESS),
        (IN_MODIFY, DN_MODIFY),
        (IN_CREATE | IN_MOVED_TO, DN_CREATE),
        (IN_DELETE, DN_DELETE),
        (IN_MOVED_FROM, DN_DELETE | DN_RENAME),
        (IN_ATTRIB, DN_ATTRIB),
    ];
    table
        .iter()
        .filter(|(i, _)| mask & i != 0)
        .fold(0, |acc, (_, d)| acc | d)
}

/// `sizeof(struct inotify_event)`: wd, mask, cookie, len; the name follows.
pub const EVENT_HEADER: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub wd: i32,
    pub mask: u32,
    pub cookie: u32,
    pub name: Vec<u8>,
}

impl Event {
    /// The name field's length: NUL-terminated and padded to a multiple of the header size,
    /// or 0 without a name.
    fn name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).next_multiple_of(EVENT_HEADER)
        }
    }

    pub fn size(&self) -> usize {
        EVENT_HEADER + self.name_len()
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        let len = self.name_len();
        out.extend_from_slice(&self.wd.to_le_bytes());
        out.extend_from_slice(&self.mask.to_le_bytes());
        out.extend_from_slice(&self.cookie.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&self.name);
        out.resize(out.len() + len - self.name.len(), 0);
    }
}

/// Events waiting to be read, at most `limit` (/proc/sys/fs/inotify/max_queued_events); past
/// that, one IN_Q_OVERFLOW event stands for everything lost until the queue drains.
pub struct Queue {
    events: VecDeque<Event>,
    bytes: usize,
    limit: usize,
}

impl Queue {
    pub fn new(limit: usize) -> Queue {
        Queue {
            events: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Queues `e` unless it repeats the last queued event exactly (Linux merges those), or the
    /// queue is full. Returns whether a reader has something new.
    pub fn push(&mut self, e: Event) -> bool {
        if self.events.back() == Some(&e) {
            return false;
        }
        let overflow = Event {
            wd: -1,
            mask: IN_Q_OVERFLOW,
            cookie: 0,
            name: Vec::new(),
        };
        let e = if self.events.len() >= self.limit {
            if self.events.back() == Some(&overflow) {
                return false;
            }
            overflow
        } else {
            e
        };
        if self.events.try_reserve(1).is_err() {
            return false;
        }
        self.bytes += e.size();
        self.events.push_back(e);
        true
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// FIONREAD: the bytes a read of everything would return.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes as many whole events as fit in `room` bytes. None when the queue is empty; EINVAL
    /// when the first event does not fit.
    pub fn read(&mut self, room: usize) -> Option<KResult<Vec<u8>>> {
        let first = self.events.front()?;
        if first.size() > room {
            return Some(Err(Errno::EINVAL));
        }
        let mut out = Vec::new();
        while let Some(e) = self.events.front() {
            if out.len() + e.size() > room {
                break;
            }
            if out.try_reserve(e.size()).is_err() {
                if out.is_empty() {
                    return Some(Err(Errno::ENOMEM));
                }
                break;
            }
            e.write_to(&mut out);
            self.bytes -= e.size();
            self.events.pop_front();
        }
        Some(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dnotify_conversion() {
        assert_eq!(dnotify_bits(IN_CREATE, true), 0x4);
        assert_eq!(dnotify_bits(IN_MOVED_TO | IN_ISDIR, true), 0x4);
        assert_eq!(dnotify_bits(IN_MOVED_FROM, true), 0x8 | 0x10);
        assert_eq!(dnotify_bits(IN_ATTRIB, true), 0x20);
        assert_eq!(dnotify_bits(IN_OPEN, true), 0);
        // The directory's own events: only with IN_ISDIR (it is the subject).
        assert_eq!(dnotify_bits(IN_ATTRIB, false), 0);
        assert_eq!(dnotify_bits(IN_ATTRIB | IN_ISDIR, false), 0x20);
    }

    use super::*;
    use alloc::vec;

    fn ev(wd: i32, mask: u32, name: &[u8]) -> Event {
        Event {
            wd,
            mask,
            cookie: 0,
            name: name.to_vec(),
        }
    }

    #[test]
    fn layout_and_padding() {
        let mut q = Queue::new(16);
        q.push(ev(1, IN_CREATE, b"a"));
        q.push(ev(2, IN_MODIFY, b""));
        q.push(ev(1, IN_DELETE, b"0123456789abcdef"));
        assert_eq!(q.bytes(), 32 + 16 + 48);
        let out = q.read(4096).unwrap().unwrap();
        assert_eq!(out.len(), 96);
        assert_eq!(&out[0..4], &1i32.to_le_bytes());
        assert_eq!(&out[4..8], &IN_CREATE.to_le_bytes());
        assert_eq!(&out[12..16], &16u32.to_le_bytes());
        assert_eq!(&out[16..18], b"a\0");
        assert_eq!(&out[44..48], &0u32.to_le_bytes());
        assert_eq!(&out[60..64], &32u32.to_le_bytes());
        assert!(q.is_empty() && q.bytes() == 0);
        assert!(q.read(4096).is_none());
    }

    #[test]
    fn repeated_event_merges() {
        let mut q = Queue::new(16);
        assert!(q.push(ev(1, IN_MODIFY, b"f")));
        assert!(!q.push(ev(1, IN_MODIFY, b"f")));
        assert!(q.push(ev(2, IN_MODIFY, b"")));
        assert!(q.push(ev(1, IN_MODIFY, b"f")));
        assert_eq!(q.bytes(), 32 + 16 + 32);
    }

    #[test]
    fn short_reads_take_whole_events() {
        let mut q = Queue::new(16);
        q.push(ev(1, IN_CREATE, b"a"));
        q.push(ev(1, IN_DELETE, b"a"));
        assert_eq!(q.read(31), Some(Err(Errno::EINVAL)));
        assert_eq!(q.read(40).unwrap().unwrap().len(), 32);
        assert_eq!(q.read(32).unwrap().unwrap().len(), 32);
    }

    #[test]
    fn overflow_is_one_event() {
        let mut q = Queue::new(4);
        for i in 0..10 {
            q.push(ev(i, IN_OPEN, b""));
        }
        let out = q.read(4096).unwrap().unwrap();
        let masks: Vec<u32> = out
            .chunks(16)
            .map(|c| u32::from_le_bytes([c[4], c[5], c[6], c[7]]))
            .collect();
        assert_eq!(
            masks,
            vec![IN_OPEN, IN_OPEN, IN_OPEN, IN_OPEN, IN_Q_OVERFLOW]
        );
        assert_eq!(&out[64..68], &(-1i32).to_le_bytes());
    }
}
