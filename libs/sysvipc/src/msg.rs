//! Which message msgrcv takes (Linux's convert_mode and find_msg) and when msgsnd must wait.

use lintel_abi::ipc::{MSG_COPY, MSG_EXCEPT};

/// How msgrcv's `msgtyp` chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// The first message.
    Any,
    /// The first of this type.
    Equal(i64),
    /// The first not of this type (MSG_EXCEPT).
    NotEqual(i64),
    /// The first of the lowest type at most this.
    LessEqual(i64),
    /// The message at this position (MSG_COPY; a negative one matches none).
    Number(i64),
}

impl Search {
    pub fn new(msgtyp: i64, flags: u32) -> Search {
        if flags & MSG_COPY != 0 {
            return Search::Number(msgtyp);
        }
        if msgtyp == 0 {
            Search::Any
        } else if msgtyp < 0 {
            Search::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX))
        } else if flags & MSG_EXCEPT != 0 {
            Search::NotEqual(msgtyp)
        } else {
            Search::Equal(msgtyp)
        }
    }

    /// The position of the chosen message among `types` (the queue's, oldest first).
    pub fn find(self, types: impl Iterator<Item = i64>) -> Option<usize> {
        let mut best: Option<(usize, i64)> = None;
        for (i, t) in types.enumerate() {
            match self {
                Search::Any => return Some(i),
                Search::Equal(x) if t == x => return Some(i),
                Search::NotEqual(x) if t != x => return Some(i),
                Search::Number(n) if i as i64 == n => return Some(i),
                Search::LessEqual(x) if t <= x && best.is_none_or(|(_, b)| t < b) => {
                    best = Some((i, t))
                }
                _ => {}
            }
        }
        best.map(|(i, _)| i)
    }
}

/// Whether a message of `size` bytes fits a queue holding `bytes` in `count` messages with
/// room for `qbytes` (the count is bounded by qbytes too, as Linux's msg_fits_inqueue).
pub fn fits(bytes: u64, count: u64, qbytes: u64, size: u64) -> bool {
    bytes.saturating_add(size) <= qbytes && count < qbytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        let q = [5i64, 3, 7, 3, 1];
        let f = |s: Search| s.find(q.iter().copied());
        assert_eq!(f(Search::new(0, 0)), Some(0));
        assert_eq!(f(Search::new(3, 0)), Some(1));
        assert_eq!(f(Search::new(4, 0)), None);
        assert_eq!(f(Search::new(5, MSG_EXCEPT)), Some(1));
        assert_eq!(f(Search::new(-4, 0)), Some(4));
        assert_eq!(f(Search::new(-3, 0)), Some(4));
        assert_eq!(
            Search::new(-3, 0).find([5i64, 3, 2, 2].into_iter()),
            Some(2)
        );
        assert_eq!(f(Search::new(i64::MIN, 0)), Some(4));
        assert_eq!(f(Search::new(3, MSG_COPY)), Some(3));
        assert_eq!(f(Search::new(9, MSG_COPY)), None);
        assert_eq!(f(Search::new(-1, MSG_COPY)), None);
        assert!(fits(0, 0, 16, 16));
        assert!(!fits(1, 0, 16, 16));
        assert!(!fits(0, 16, 16, 0));
    }
}
