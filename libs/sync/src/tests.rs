//! Host tests: real threads contend, parked through a parker made of std's Condvar.

use crate::{set_parker, Mutex, Park, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar};
use std::time::Duration;

/// Parks by key with a generation number per key: an unpark bumps it.
struct StdParker {
    gens: std::sync::Mutex<HashMap<usize, u64>>,
    cv: Condvar,
    parks: AtomicUsize,
}

impl Park for StdParker {
    fn park(&self, key: usize, validate: &dyn Fn() -> bool) -> bool {
        let mut g = self.gens.lock().unwrap();
        if !validate() {
            return true;
        }
        self.parks.fetch_add(1, Ordering::Relaxed);
        let start = *g.entry(key).or_default();
        while g.get(&key).copied().unwrap_or(0) == start {
            // The timeout only keeps a broken lock from hanging the test run; the counts
            // below show whether the wake-ups came.
            let (ng, _) = self.cv.wait_timeout(g, Duration::from_secs(5)).unwrap();
            g = ng;
        }
        true
    }
    fn unpark_one(&self, key: usize) {
        self.unpark_all(key);
    }
    fn unpark_all(&self, key: usize) {
        *self.gens.lock().unwrap().entry(key).or_default() += 1;
        self.cv.notify_all();
    }
}

fn parker() -> &'static StdParker {
    static P: std::sync::OnceLock<&'static StdParker> = std::sync::OnceLock::new();
    let p = *P.get_or_init(|| {
        Box::leak(Box::new(StdParker {
            gens: std::sync::Mutex::new(HashMap::new()),
            cv: Condvar::new(),
            parks: AtomicUsize::new(0),
        }))
    });
    set_parker(p);
    p
}

#[test]
fn mutex_counts_under_contention() {
    let p = parker();
    let m = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let mut g = m.lock();
                    let v = *g;
                    if i % 100 == 0 {
                        // A long hold: the others park.
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    *g = v + 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*m.lock(), 16000);
    assert!(p.parks.load(Ordering::Relaxed) > 0, "no thread ever parked");
}

#[test]
fn mutex_try_lock_and_get_mut() {
    let mut m = Mutex::new(5);
    {
        let g = m.lock();
        assert!(m.is_locked());
        assert!(m.try_lock().is_none());
        drop(g);
    }
    assert!(!m.is_locked());
    *m.get_mut() += 1;
    assert_eq!(*m.try_lock().unwrap(), 6);
    assert_eq!(m.into_inner(), 6);
}

#[test]
fn rwlock_readers_share_writers_exclude() {
    let p = parker();
    let l = Arc::new(RwLock::new((0u64, 0u64)));
    let mut threads = Vec::new();
    for _ in 0..4 {
        let l = l.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0..1000 {
                let mut g = l.write();
                g.0 += 1;
                if i % 100 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                g.1 += 1;
            }
        }));
    }
    for _ in 0..4 {
        let l = l.clone();
        threads.push(std::thread::spawn(move || {
            for _ in 0..1000 {
                let g = l.read();
                // A nested read, as ext4's nested operations take: no deadlock.
                let g2 = l.read();
                assert_eq!(g.0, g.1, "a reader saw half a write");
                assert_eq!(g2.0, g.0);
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*l.read(), (4000, 4000));
    assert!(p.parks.load(Ordering::Relaxed) > 0);
}

#[test]
fn rwlock_try() {
    let l = RwLock::new(1);
    let r = l.read();
    assert!(l.try_write().is_none());
    assert!(l.try_read().is_some());
    drop(r);
    let w = l.write();
    assert!(l.try_read().is_none());
    drop(w);
    assert_eq!(l.into_inner(), 1);
}
