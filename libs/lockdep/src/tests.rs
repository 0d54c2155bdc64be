use crate::graph::{Full, MAX_CLASSES, MAX_CONTEXTS, MAX_HELD};
use crate::*;

fn graph() -> Box<Graph> {
    Box::new(Graph::new())
}

fn lock(class: ClassKey, instance: usize) -> Acquire {
    Acquire {
        class,
        instance,
        kind: Kind::Spin,
        read: false,
        try_lock: false,
    }
}

fn problem(r: Result<(), Error>) -> Report {
    match r {
        Err(Error::Problem(r)) => r,
        other => panic!("expected a report, got {other:?}"),
    }
}

const A: ClassKey = ClassKey::named("A");
const B: ClassKey = ClassKey::named("B");
const C: ClassKey = ClassKey::named("C");

#[test]
fn abba_is_a_cycle() {
    let mut g = graph();
    // Thread 1: A then B.
    g.acquire(1, &lock(A, 0xa)).unwrap();
    g.acquire(1, &lock(B, 0xb)).unwrap();
    g.release(1, 0xb);
    g.release(1, 0xa);
    assert!(g.has_edge(&A, &B));
    let edges: Vec<String> = g.edges().map(|(a, b)| format!("{a}->{b}")).collect();
    assert_eq!(edges, ["A->B"]);
    // Thread 2, later: B then A, which could deadlock with thread 1.
    g.acquire(2, &lock(B, 0xb)).unwrap();
    let r = problem(g.acquire(2, &lock(A, 0xa)));
    assert_eq!(r.problem, Problem::Cycle);
    assert!(r.new.same(&A) && r.held.same(&B));
    let path: Vec<String> = r.path().map(|c| c.to_string()).collect();
    assert_eq!(path, ["A", "B"]);
    let text = r.to_string();
    assert!(text.contains("taking A while holding B"), "{text}");
    assert!(text.ends_with("A -> B -> A"), "{text}");
}

#[test]
fn three_lock_cycle_names_the_path() {
    let mut g = graph();
    for (x, y) in [(A, B), (B, C)] {
        g.acquire(1, &lock(x, 1)).unwrap();
        g.acquire(1, &lock(y, 2)).unwrap();
        g.release(1, 2);
        g.release(1, 1);
    }
    // C then A closes A -> B -> C -> A; no thread ever held all three.
    g.acquire(3, &lock(C, 3)).unwrap();
    let r = problem(g.acquire(3, &lock(A, 4)));
    assert_eq!(r.problem, Problem::Cycle);
    let path: Vec<String> = r.path().map(|c| c.to_string()).collect();
    assert_eq!(path, ["A", "B", "C"]);
    assert!(r.to_string().ends_with("A -> B -> C -> A"), "{r}");
}

#[test]
fn consistent_order_passes() {
    let mut g = graph();
    for t in 0..10 {
        g.acquire(t, &lock(A, 1)).unwrap();
        g.acquire(t, &lock(B, 2)).unwrap();
        g.acquire(t, &lock(C, 3)).unwrap();
        // Released out of order.
        g.release(t, 2);
        g.release(t, 1);
        g.release(t, 3);
        assert_eq!(g.held(t), 0);
    }
    // A then C alone is consistent with A -> B -> C.
    g.acquire(1, &lock(A, 1)).unwrap();
    g.acquire(1, &lock(C, 3)).unwrap();
}

#[test]
fn held_stacks_are_per_context() {
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    // Another thread taking B while thread 1 holds A orders nothing.
    g.acquire(2, &lock(B, 2)).unwrap();
    assert!(!g.has_edge(&A, &B));
    g.release(2, 2);
    g.acquire(1, &lock(B, 2)).unwrap();
    assert!(g.has_edge(&A, &B));
}

#[test]
fn sleeping_lock_under_spin_lock() {
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    let r = problem(g.acquire(
        1,
        &Acquire {
            kind: Kind::Sleep,
            ..lock(B, 2)
        },
    ));
    assert_eq!(r.problem, Problem::SleepUnderSpin);
    assert!(r.new.same(&B) && r.held.same(&A));
    // A try-lock does not sleep.
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    g.acquire(
        1,
        &Acquire {
            kind: Kind::Sleep,
            try_lock: true,
            ..lock(B, 2)
        },
    )
    .unwrap();
    // A spin lock under a sleeping lock is fine.
    let mut g = graph();
    g.acquire(
        1,
        &Acquire {
            kind: Kind::Sleep,
            ..lock(B, 2)
        },
    )
    .unwrap();
    g.acquire(1, &lock(A, 1)).unwrap();
}

#[test]
fn recursion_and_nesting() {
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    let r = problem(g.acquire(1, &lock(A, 1)));
    assert_eq!(r.problem, Problem::SelfDeadlock);

    // Two instances of one class (parent, child) without an annotation...
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    let r = problem(g.acquire(1, &lock(A, 2)));
    assert_eq!(r.problem, Problem::SameClass);
    assert!(r.to_string().contains("lock_nested"));
    // ... and with one: the child is a subclass, ordered after the parent.
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    g.acquire(1, &lock(A.nested(1), 2)).unwrap();
    g.release(1, 2);
    g.release(1, 1);
    // The reverse nesting is then a cycle.
    g.acquire(2, &lock(A.nested(1), 2)).unwrap();
    let r = problem(g.acquire(2, &lock(A, 1)));
    assert_eq!(r.problem, Problem::Cycle);
    assert!(r.to_string().contains("A/1"), "{r}");
}

#[test]
fn readers_may_recurse() {
    let read = Acquire {
        kind: Kind::Sleep,
        read: true,
        ..lock(A, 1)
    };
    let mut g = graph();
    g.acquire(1, &read).unwrap();
    g.acquire(1, &read).unwrap();
    g.release(1, 1);
    g.release(1, 1);
    assert_eq!(g.held(1), 0);
    // A writer under a reader of the same lock waits for itself.
    g.acquire(1, &read).unwrap();
    let r = problem(g.acquire(
        1,
        &Acquire {
            read: false,
            ..read
        },
    ));
    assert_eq!(r.problem, Problem::SelfDeadlock);
}

#[test]
fn try_lock_adds_no_cycle_but_orders_what_follows() {
    let mut g = graph();
    g.acquire(1, &lock(A, 1)).unwrap();
    g.acquire(1, &lock(B, 2)).unwrap();
    g.release(1, 2);
    g.release(1, 1);
    // B then try A: cannot wait, so no deadlock.
    g.acquire(2, &lock(B, 2)).unwrap();
    g.acquire(
        2,
        &Acquire {
            try_lock: true,
            ..lock(A, 1)
        },
    )
    .unwrap();
    // But C under the try-locked A is ordered after A.
    g.acquire(2, &lock(C, 3)).unwrap();
    assert!(g.has_edge(&A, &C));
}

#[test]
fn sites_are_classes() {
    #[track_caller]
    fn site() -> ClassKey {
        ClassKey::here()
    }
    let (x, y) = (site(), site());
    assert!(!x.same(&y));
    let mut g = graph();
    g.acquire(1, &lock(x, 1)).unwrap();
    g.acquire(1, &lock(y, 2)).unwrap();
    g.release(1, 2);
    g.release(1, 1);
    g.acquire(1, &lock(y, 2)).unwrap();
    let r = problem(g.acquire(1, &lock(x, 1)));
    assert!(r.to_string().contains("tests.rs:"), "{r}");
}

#[test]
fn full_tables_stop_checking_once() {
    let mut g = graph();
    for i in 0..MAX_CLASSES {
        let name: &'static str = Box::leak(format!("c{i}").into_boxed_str());
        g.acquire(1, &lock(ClassKey::named(name), i)).unwrap();
        g.release(1, i);
    }
    assert_eq!(g.classes(), MAX_CLASSES);
    assert!(matches!(
        g.acquire(1, &lock(A, 1)),
        Err(Error::Full(Full::Classes))
    ));
    // Stopped: even a cycle passes now.
    g.acquire(1, &lock(A, 1)).unwrap();
    g.acquire(1, &lock(A, 1)).unwrap();

    let mut g = graph();
    for t in 0..MAX_CONTEXTS {
        g.acquire(t, &lock(A, t)).unwrap();
    }
    assert!(matches!(
        g.acquire(MAX_CONTEXTS, &lock(A, 0)),
        Err(Error::Full(Full::Contexts))
    ));

    let mut g = graph();
    for i in 0..MAX_HELD {
        let name: &'static str = Box::leak(format!("h{i}").into_boxed_str());
        g.acquire(1, &lock(ClassKey::named(name), i)).unwrap();
    }
    assert!(matches!(
        g.acquire(1, &lock(A, 99)),
        Err(Error::Full(Full::Held))
    ));
}

#[test]
fn contexts_are_reused() {
    let mut g = graph();
    for t in 0..10 * MAX_CONTEXTS {
        g.acquire(t, &lock(A, 1)).unwrap();
        g.release(t, 1);
    }
    g.acquire(0, &lock(B, 2)).unwrap();
}

#[test]
fn long_cycle_paths_are_cut_in_the_report() {
    let names: Vec<ClassKey> = (0..40)
        .map(|i| ClassKey::named(Box::leak(format!("n{i}").into_boxed_str())))
        .collect();
    let mut g = graph();
    for w in names.windows(2) {
        g.acquire(1, &lock(w[0], 1)).unwrap();
        g.acquire(1, &lock(w[1], 2)).unwrap();
        g.release(1, 2);
        g.release(1, 1);
    }
    g.acquire(1, &lock(names[39], 2)).unwrap();
    let r = problem(g.acquire(1, &lock(names[0], 1)));
    let text = r.to_string();
    assert!(text.contains("n0 -> n1 -> "), "{text}");
    assert!(text.ends_with("n14 -> ... -> n39 -> n0"), "{text}");
}

#[test]
fn nested_device_io_is_a_level_of_its_own() {
    let mut g = graph();
    // The lower file system: A (its mount's lock) then B (an inode's).
    g.acquire(1, &lock(A, 0xa)).unwrap();
    g.acquire(1, &lock(B, 0xb)).unwrap();
    g.release(1, 0xb);
    g.release(1, 0xa);
    // The upper instance (on a loop device backed by a file below) holds its B, and the
    // device's I/O takes the lower instance's A: a cycle, unless the I/O is a nested level.
    g.acquire(2, &lock(B, 0xb2)).unwrap();
    g.nest(2, true).unwrap();
    g.acquire(2, &lock(A, 0xa)).unwrap();
    g.acquire(2, &lock(B, 0xb)).unwrap();
    g.release(2, 0xb);
    g.release(2, 0xa);
    g.nest(2, false).unwrap();
    g.release(2, 0xb2);
    assert!(g.has_edge(&B, &A.nested(graph::NEST_SUBCLASSES)));
    assert!(!g.has_edge(&B, &A));
    // Outside it, the context is back at level 0: the same B -> A is a cycle again.
    g.acquire(2, &lock(B, 0xb2)).unwrap();
    let r = problem(g.acquire(2, &lock(A, 0xa)));
    assert_eq!(r.problem, Problem::Cycle);
}
