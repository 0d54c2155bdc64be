use super::*;

/// Tasks 0..n with their own priorities; locks 0..m with an owner and waiters.
#[derive(Default)]
struct G {
    own: Vec<u32>,
    boost: Vec<u32>,
    owner: Vec<Option<usize>>,
    waiters: Vec<Vec<usize>>,
}

impl G {
    fn new(own: &[u32], locks: usize) -> G {
        G {
            own: own.to_vec(),
            boost: vec![0; own.len()],
            owner: vec![None; locks],
            waiters: vec![Vec::new(); locks],
        }
    }
    /// `t` waits for `l`, then the chain above is adjusted.
    fn wait(&mut self, t: usize, l: usize) -> Vec<usize> {
        self.waiters[l].push(t);
        let mut changed = Vec::new();
        if let Some(o) = self.owner[l] {
            propagate(self, &o, &mut changed);
        }
        changed
    }
    fn leave(&mut self, t: usize, l: usize) {
        self.waiters[l].retain(|&w| w != t);
        let mut changed = Vec::new();
        if let Some(o) = self.owner[l] {
            propagate(self, &o, &mut changed);
        }
    }
    fn eff(&self, t: usize) -> u32 {
        effective(self, &t)
    }
}

impl Graph for G {
    type Lock = usize;
    type Task = usize;
    fn same(&self, a: &usize, b: &usize) -> bool {
        a == b
    }
    fn owner(&self, l: usize) -> Option<usize> {
        self.owner[l]
    }
    fn blocked_on(&self, t: &usize) -> Option<usize> {
        self.waiters.iter().position(|w| w.contains(t))
    }
    fn waiters_of_owner(&self, t: &usize) -> Vec<usize> {
        (0..self.owner.len())
            .filter(|&l| self.owner[l] == Some(*t))
            .flat_map(|l| self.waiters[l].clone())
            .collect()
    }
    fn own(&self, t: &usize) -> u32 {
        self.own[*t]
    }
    fn boost(&self, t: &usize) -> u32 {
        self.boost[*t]
    }
    fn set_boost(&mut self, t: &usize, b: u32) {
        self.boost[*t] = b;
    }
}

#[test]
fn waiter_boosts_owner_and_leaving_undoes_it() {
    // 0: low (10) owns lock 0; 1: high (30) waits.
    let mut g = G::new(&[10, 30, 20], 1);
    g.owner[0] = Some(0);
    assert_eq!(g.wait(1, 0), vec![0]);
    assert_eq!(g.eff(0), 30);
    assert_eq!(g.own[0], 10);
    // A lower waiter changes nothing.
    assert!(g.wait(2, 0).is_empty());
    g.leave(1, 0);
    assert_eq!(g.eff(0), 20);
    g.leave(2, 0);
    assert_eq!(g.eff(0), 10);
    assert_eq!(g.boost[0], 0);
}

#[test]
fn no_boost_below_own() {
    let mut g = G::new(&[50, 30], 1);
    g.owner[0] = Some(0);
    g.wait(1, 0);
    assert_eq!(g.eff(0), 50);
}

#[test]
fn chain_is_transitive_and_undone() {
    // a(10) owns l0; b(15) owns l1 and waits for l0; c(40) waits for l1.
    let mut g = G::new(&[10, 15, 40], 2);
    g.owner[0] = Some(0);
    g.owner[1] = Some(1);
    g.wait(1, 0);
    assert_eq!((g.eff(0), g.eff(1)), (15, 15));
    let changed = g.wait(2, 1);
    assert_eq!(changed, vec![1, 0]);
    assert_eq!((g.eff(0), g.eff(1)), (40, 40));
    g.leave(2, 1);
    assert_eq!((g.eff(0), g.eff(1)), (15, 15));
}

#[test]
fn owner_of_two_locks_keeps_the_higher() {
    let mut g = G::new(&[0, 20, 30], 2);
    g.owner[0] = Some(0);
    g.owner[1] = Some(0);
    g.wait(1, 0);
    g.wait(2, 1);
    assert_eq!(g.eff(0), 30);
    g.leave(2, 1);
    assert_eq!(g.eff(0), 20);
}

#[test]
fn deadlock_detection() {
    // 0 owns l0, 1 owns l1 and waits for l0: 0 waiting for l1 closes the cycle.
    let mut g = G::new(&[0, 0, 0], 2);
    g.owner[0] = Some(0);
    g.owner[1] = Some(1);
    g.wait(1, 0);
    assert!(would_deadlock(&g, &0, 1));
    assert!(!would_deadlock(&g, &2, 1));
    assert!(would_deadlock(&g, &0, 0));
}

#[test]
fn a_cycle_ends_the_walk() {
    let mut g = G::new(&[10, 20], 2);
    g.owner[0] = Some(0);
    g.owner[1] = Some(1);
    g.wait(1, 0);
    // Queued anyway (a requeue does not check): the walk stops.
    g.wait(0, 1);
    assert_eq!((g.eff(0), g.eff(1)), (20, 20));
}

#[test]
fn next_waiter_by_priority_then_arrival() {
    assert_eq!(next_waiter([]), None);
    assert_eq!(next_waiter([(10, 1), (20, 2), (20, 3)]), Some(1));
    assert_eq!(next_waiter([(20, 5), (20, 3), (0, 1)]), Some(1));
    assert_eq!(next_waiter([(0, 4), (0, 2)]), Some(1));
}

#[test]
fn insert_keeps_fifo_among_equals() {
    assert_eq!(insert_at([], 5), 0);
    assert_eq!(insert_at([20, 20, 10], 20), 2);
    assert_eq!(insert_at([20, 20, 10], 30), 0);
    assert_eq!(insert_at([20, 20, 10], 0), 3);
    assert_eq!(insert_at([0, 0], 0), 2);
}

#[test]
fn insert_scans_from_the_back() {
    // A herd of equals: one entry looked at, whatever the queue's length.
    let herd = [0u32; 1000];
    let seen = core::cell::Cell::new(0);
    let count = |&p: &u32| {
        seen.set(seen.get() + 1);
        p
    };
    assert_eq!(insert_at(herd.iter().map(count), 0), 1000);
    assert_eq!(seen.get(), 1);
    // Higher priorities at the front, a fair-class herd behind them: a real-time waiter's scan
    // stops at the last of its priority or higher, after the herd.
    let mut q = vec![50u32, 30, 30];
    q.extend([0; 100]);
    seen.set(0);
    assert_eq!(insert_at(q.iter().map(count), 30), 3);
    assert_eq!(seen.get(), 101);
    seen.set(0);
    assert_eq!(insert_at(q.iter().map(count), 99), 0);
    assert_eq!(seen.get(), 103);
    // The same places as the front-to-back definition, on every sorted queue of a few levels.
    for len in 0..6 {
        for code in 0..3u32.pow(len) {
            let mut q: Vec<u32> = (0..len).map(|i| code / 3u32.pow(i) % 3 * 10).collect();
            q.sort_unstable_by(|a, b| b.cmp(a));
            for prio in [0, 5, 10, 15, 20, 25] {
                let front = (q.iter().enumerate())
                    .fold(0, |at, (i, &p)| if p >= prio { i + 1 } else { at });
                assert_eq!(insert_at(q.iter().copied(), prio), front, "{q:?} {prio}");
            }
        }
    }
}
