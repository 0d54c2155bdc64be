//! The checker's state: the class table, the "held while taken" graph and the stacks of held
//! locks, all in fixed-size tables (about 240 KiB), so that it never allocates.

use crate::class::{Acquire, ClassKey, Kind};
use core::fmt;

/// Classes the graph can tell apart (each a row and a column of the edge matrix).
pub const MAX_CLASSES: usize = 1024;
/// Locks one thread may hold at once.
pub const MAX_HELD: usize = 32;
/// Threads (or CPUs without one) holding locks at the same time.
pub const MAX_CONTEXTS: usize = 128;
/// Classes a report shows of a cycle's path.
pub const MAX_PATH: usize = 16;
/// Subclasses each device nesting level moves a lock by ([`Graph::nest`]): more than any
/// fixed nesting of one class uses (epoll's depth is at most 5).
pub const NEST_SUBCLASSES: u8 = 16;

const WORDS: usize = MAX_CLASSES / 64;
const INDEX_SLOTS: usize = 2 * MAX_CLASSES;

#[derive(Clone, Copy)]
struct Held {
    class: u16,
    instance: usize,
    kind: Kind,
    read: bool,
}

const NO_HELD: Held = Held {
    class: 0,
    instance: 0,
    kind: Kind::Spin,
    read: false,
};

#[derive(Clone, Copy)]
struct Context {
    id: usize,
    n: usize,
    held: [Held; MAX_HELD],
}

const NO_CONTEXT: Context = Context {
    id: 0,
    n: 0,
    held: [NO_HELD; MAX_HELD],
};

/// Which table filled up (the checker then stops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    Classes,
    Contexts,
    Held,
}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Full::Classes => write!(f, "more than {MAX_CLASSES} lock classes"),
            Full::Contexts => write!(f, "more than {MAX_CONTEXTS} threads holding locks"),
            Full::Held => write!(f, "a thread holding more than {MAX_HELD} locks"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Taking `new` while holding `held`, though `new` →…→ `held` is known (`path`).
    Cycle,
    /// A sleeping lock (`new`) taken, to wait, while a spin lock (`held`) is held.
    SleepUnderSpin,
    /// `new` is the very lock `held`, taken again: it waits for itself.
    SelfDeadlock,
    /// Two locks of one class nested with no subclass to order them.
    SameClass,
}

/// What the checker found, with the classes to name (copied out: it is printed after the
/// checker's lock is let go).
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub problem: Problem,
    pub new: ClassKey,
    pub held: ClassKey,
    /// For a cycle: `new`, …, `held`, the order already known.
    path: [Option<ClassKey>; MAX_PATH],
    path_len: usize,
}

impl Report {
    pub fn path(&self) -> impl Iterator<Item = &ClassKey> {
        self.path[..self.path_len.min(MAX_PATH)]
            .iter()
            .filter_map(|c| c.as_ref())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problem {
            Problem::Cycle => {
                write!(
                    f,
                    "lock order cycle: taking {} while holding {}, but {} is taken while {} is held:",
                    self.new, self.held, self.held, self.new
                )?;
                for (i, c) in self.path().enumerate() {
                    if i == MAX_PATH - 1 && self.path_len > MAX_PATH {
                        write!(f, " -> ...")?;
                    }
                    write!(f, "{}{}", if i == 0 { " " } else { " -> " }, c)?;
                }
                write!(f, " -> {}", self.new)
            }
            Problem::SleepUnderSpin => write!(
                f,
                "sleeping lock {} taken while holding spin lock {}",
                self.new, self.held
            ),
            Problem::SelfDeadlock => {
                write!(f, "lock {} taken again by the thread holding it", self.new)
            }
            Problem::SameClass => write!(
                f,
                "two locks of class {} nested: take the inner one with lock_nested(subclass)",
                self.new
            ),
        }
    }
}

/// Large for a `Result`, but nothing here may allocate (see `Graph::acquire`).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Error {
    Problem(Report),
    /// A table filled up; the checker has stopped.
    Full(Full),
}

/// The classes, the edges between them and each context's held locks.
pub struct Graph {
    classes: [Option<ClassKey>; MAX_CLASSES],
    nclasses: usize,
    /// Open addressing from a class's hash to its number + 1 (0: empty slot).
    index: [u16; INDEX_SLOTS],
    /// `edges[a]` bit `b`: `b` was taken while `a` was held.
    edges: [[u64; WORDS]; MAX_CLASSES],
    contexts: [Context; MAX_CONTEXTS],
    ncontexts: usize,
    /// Contexts inside a nested device's I/O and how deep (see [`Graph::nest`]).
    nests: [(usize, u8); MAX_CONTEXTS],
    nnests: usize,
    full: Option<Full>,
    // Scratch of the path search.
    seen: [u64; WORDS],
    parent: [u16; MAX_CLASSES],
    queue: [u16; MAX_CLASSES],
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Graph {
    pub const fn new() -> Graph {
        Graph {
            classes: [None; MAX_CLASSES],
            nclasses: 0,
            index: [0; INDEX_SLOTS],
            edges: [[0; WORDS]; MAX_CLASSES],
            contexts: [NO_CONTEXT; MAX_CONTEXTS],
            ncontexts: 0,
            nests: [(0, 0); MAX_CONTEXTS],
            nnests: 0,
            full: None,
            seen: [0; WORDS],
            parent: [0; MAX_CLASSES],
            queue: [0; MAX_CLASSES],
        }
    }

    /// Classes seen so far.
    pub fn classes(&self) -> usize {
        self.nclasses
    }

    /// Locks `context` holds now.
    pub fn held(&self, context: usize) -> usize {
        self.find_context(context).map_or(0, |c| self.contexts[c].n)
    }

    /// Every "`a` held while `b` was taken" edge recorded.
    pub fn edges(&self) -> impl Iterator<Item = (ClassKey, ClassKey)> + '_ {
        (0..self.nclasses).flat_map(move |a| {
            (0..self.nclasses)
                .filter(move |&b| self.edge(a as u16, b as u16))
                .map(move |b| (self.key(a as u16), self.key(b as u16)))
        })
    }

    pub fn has_edge(&self, from: &ClassKey, to: &ClassKey) -> bool {
        match (self.lookup(from), self.lookup(to)) {
            (Some(a), Some(b)) => self.edge(a, b),
            _ => false,
        }
    }

    /// Records that `context` (a thread) takes `a`, after checking that it may. `Err` the
    /// first time a table is full; after that everything is let through unchecked.
    // A report is large, but the checker must not allocate (it runs under every lock) and
    // makes one at most, just before a panic.
    #[allow(clippy::result_large_err)]
    pub fn acquire(&mut self, context: usize, a: &Acquire) -> Result<(), Error> {
        if self.full.is_some() {
            return Ok(());
        }
        let key = match self.nest_level(context) {
            0 => a.class,
            n => a.class.nested(
                a.class
                    .subclass
                    .saturating_add(n.saturating_mul(NEST_SUBCLASSES)),
            ),
        };
        let class = self.class(&key).map_err(|f| self.stop(f))?;
        let ci = self.context(context).map_err(|f| self.stop(f))?;
        if !a.try_lock {
            self.check(ci, class, a).map_err(Error::Problem)?;
        }
        let ctx = &mut self.contexts[ci];
        if ctx.n == MAX_HELD {
            return Err(self.stop(Full::Held));
        }
        ctx.held[ctx.n] = Held {
            class,
            instance: a.instance,
            kind: a.kind,
            read: a.read,
        };
        ctx.n += 1;
        Ok(())
    }

    /// `context` let go of the lock at `instance` (in any order). A lock it was not seen
    /// taking (taken before the checker started, or while a table was full) is ignored.
    pub fn release(&mut self, context: usize, instance: usize) {
        if self.full.is_some() {
            return;
        }
        let Some(ci) = self.find_context(context) else {
            return;
        };
        let ctx = &mut self.contexts[ci];
        let Some(i) = ctx.held[..ctx.n]
            .iter()
            .rposition(|h| h.instance == instance)
        else {
            return;
        };
        ctx.held.copy_within(i + 1..ctx.n, i);
        ctx.n -= 1;
        if ctx.n == 0 {
            self.ncontexts -= 1;
            self.contexts[ci] = self.contexts[self.ncontexts];
        }
    }

    /// `context` enters (`enter`) or leaves the I/O of a device stacked on a file system
    /// (a loop device's read or write of its backing file), which runs in the caller's
    /// context under the locks of the file system on the device. Inside, every lock counts
    /// as a class of its own, its subclass moved by [`NEST_SUBCLASSES`] per level: the same
    /// code's locks of the file system below (another instance of one file system) are then
    /// ordered after those of the one above, as Linux's lockdep orders the instances of a
    /// stack by subclass, rather than seen as one class taken in both orders. Levels nest.
    pub fn nest(&mut self, context: usize, enter: bool) -> Result<(), Full> {
        if self.full.is_some() {
            return Ok(());
        }
        let found = self.nests[..self.nnests]
            .iter()
            .position(|&(id, _)| id == context);
        match (found, enter) {
            (Some(i), true) => self.nests[i].1 = self.nests[i].1.saturating_add(1),
            (Some(i), false) => {
                self.nests[i].1 -= 1;
                if self.nests[i].1 == 0 {
                    self.nnests -= 1;
                    self.nests[i] = self.nests[self.nnests];
                }
            }
            (None, true) => {
                if self.nnests == MAX_CONTEXTS {
                    self.full = Some(Full::Contexts);
                    return Err(Full::Contexts);
                }
                self.nests[self.nnests] = (context, 1);
                self.nnests += 1;
            }
            (None, false) => {}
        }
        Ok(())
    }

    /// How many nested devices' I/O `context` is inside (0 almost always: no search then).
    fn nest_level(&self, context: usize) -> u8 {
        if self.nnests == 0 {
            return 0;
        }
        self.nests[..self.nnests]
            .iter()
            .find(|&&(id, _)| id == context)
            .map_or(0, |&(_, n)| n)
    }

    fn stop(&mut self, why: Full) -> Error {
        self.full = Some(why);
        Error::Full(why)
    }

    #[allow(clippy::result_large_err)]
    fn check(&mut self, ci: usize, class: u16, a: &Acquire) -> Result<(), Report> {
        let ctx = self.contexts[ci];
        let held = &ctx.held[..ctx.n];
        for h in held {
            if h.class != class || (h.read && a.read) {
                continue;
            }
            let problem = if h.instance == a.instance {
                Problem::SelfDeadlock
            } else {
                Problem::SameClass
            };
            return Err(self.report(problem, class, class));
        }
        if a.kind == Kind::Sleep {
            if let Some(h) = held.iter().rev().find(|h| h.kind == Kind::Spin) {
                return Err(self.report(Problem::SleepUnderSpin, class, h.class));
            }
        }
        for h in held {
            if self.edge(h.class, class) {
                continue;
            }
            if self.search(class, h.class) {
                let mut r = self.report(Problem::Cycle, class, h.class);
                self.fill_path(&mut r, class, h.class);
                return Err(r);
            }
            self.edges[h.class as usize][class as usize / 64] |= 1 << (class % 64);
        }
        Ok(())
    }

    fn report(&self, problem: Problem, new: u16, held: u16) -> Report {
        Report {
            problem,
            new: self.key(new),
            held: self.key(held),
            path: [None; MAX_PATH],
            path_len: 0,
        }
    }

    fn key(&self, c: u16) -> ClassKey {
        self.classes[c as usize].expect("class in use")
    }

    fn edge(&self, a: u16, b: u16) -> bool {
        self.edges[a as usize][b as usize / 64] & (1 << (b % 64)) != 0
    }

    /// Breadth-first from `from`: whether `to` is reachable (then `parent` leads back).
    fn search(&mut self, from: u16, to: u16) -> bool {
        self.seen = [0; WORDS];
        self.seen[from as usize / 64] |= 1 << (from % 64);
        self.queue[0] = from;
        let (mut head, mut tail) = (0, 1);
        while head < tail {
            let a = self.queue[head];
            head += 1;
            for w in 0..WORDS {
                let mut bits = self.edges[a as usize][w] & !self.seen[w];
                while bits != 0 {
                    let b = (w * 64) as u16 + bits.trailing_zeros() as u16;
                    bits &= bits - 1;
                    self.seen[w] |= 1 << (b % 64);
                    self.parent[b as usize] = a;
                    if b == to {
                        return true;
                    }
                    self.queue[tail] = b;
                    tail += 1;
                }
            }
        }
        false
    }

    /// The path `from` → … → `to` that `search` found, in order.
    fn fill_path(&self, r: &mut Report, from: u16, to: u16) {
        let mut len = 1;
        let mut c = to;
        while c != from {
            c = self.parent[c as usize];
            len += 1;
        }
        r.path_len = len;
        // Walk back from `to`, placing each class at its index (those beyond MAX_PATH but
        // the last are left out).
        let mut c = to;
        let mut i = len - 1;
        loop {
            let slot = if i < MAX_PATH - 1 {
                Some(i)
            } else if i == len - 1 {
                Some(MAX_PATH - 1)
            } else {
                None
            };
            if let Some(s) = slot {
                r.path[s] = Some(self.key(c));
            }
            if c == from {
                break;
            }
            c = self.parent[c as usize];
            i -= 1;
        }
    }

    fn lookup(&self, key: &ClassKey) -> Option<u16> {
        let mut slot = key.hash() as usize % INDEX_SLOTS;
        loop {
            let v = self.index[slot];
            if v == 0 {
                return None;
            }
            if self.key(v - 1).same(key) {
                return Some(v - 1);
            }
            slot = (slot + 1) % INDEX_SLOTS;
        }
    }

    /// The number of `key`'s class, given one if it is new.
    fn class(&mut self, key: &ClassKey) -> Result<u16, Full> {
        let mut slot = key.hash() as usize % INDEX_SLOTS;
        loop {
            let v = self.index[slot];
            if v == 0 {
                break;
            }
            if self.key(v - 1).same(key) {
                return Ok(v - 1);
            }
            slot = (slot + 1) % INDEX_SLOTS;
        }
        if self.nclasses == MAX_CLASSES {
            return Err(Full::Classes);
        }
        let c = self.nclasses as u16;
        self.classes[c as usize] = Some(*key);
        self.nclasses += 1;
        self.index[slot] = c + 1;
        Ok(c)
    }

    fn find_context(&self, id: usize) -> Option<usize> {
        self.contexts[..self.ncontexts]
            .iter()
            .position(|c| c.id == id)
    }

    fn context(&mut self, id: usize) -> Result<usize, Full> {
        if let Some(i) = self.find_context(id) {
            return Ok(i);
        }
        if self.ncontexts == MAX_CONTEXTS {
            return Err(Full::Contexts);
        }
        let i = self.ncontexts;
        self.ncontexts += 1;
        self.contexts[i] = Context {
            id,
            n: 0,
            held: [NO_HELD; MAX_HELD],
        };
        Ok(i)
    }
}
