use super::*;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

/// A heap page that counts its references.
#[derive(Clone)]
struct TestPage(Rc<RefCell<Vec<u8>>>);

impl TestPage {
    fn new() -> TestPage {
        TestPage(Rc::new(RefCell::new(alloc::vec![0; PAGE])))
    }
    fn write(&self, at: usize, data: &[u8]) {
        self.0.borrow_mut()[at..at + data.len()].copy_from_slice(data);
    }
    fn same(&self, other: &TestPage) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Page for TestPage {
    fn unique(&self) -> bool {
        Rc::strong_count(&self.0) == 1
    }
}

/// A write as the kernel does one: plan, fill the tail and new pages, end. The bytes
/// written (None when nothing fits).
fn write(r: &mut Ring<TestPage>, data: &[u8]) -> Option<usize> {
    let mut done = 0;
    while done < data.len() {
        let Some(mut plan) = r.plan_write(data.len() - done, done == 0).unwrap() else {
            break;
        };
        if let Some(t) = plan.tail.take() {
            t.page.write(t.at, &data[done..done + plan.merged]);
            r.merged(t, plan.merged);
            done += plan.merged;
        }
        for _ in 0..plan.pages {
            let n = (data.len() - done).min(PAGE);
            let page = plan.spare.take().unwrap_or_else(TestPage::new);
            page.write(0, &data[done..done + n]);
            r.filled(page, 0, n, true);
            done += n;
        }
        r.end_write(plan.spare.take());
    }
    (done > 0).then_some(done)
}

/// A read of up to `n` bytes as the kernel does one (the page reference dropped before the
/// buffer is consumed).
fn read(r: &mut Ring<TestPage>, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < n {
        let Some(b) = r.front() else { break };
        let (page, off, id) = (b.page.clone(), b.off, b.id);
        let m = b.len.min(n - out.len());
        out.extend_from_slice(&page.0.borrow()[off..off + m]);
        drop(page);
        r.consume(id, m);
    }
    out
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn small_writes_merge_into_the_last_page() {
    let mut r = Ring::new(16);
    assert_eq!(write(&mut r, b"abc"), Some(3));
    assert_eq!(write(&mut r, b"defg"), Some(4));
    assert_eq!(r.buffers(), 1);
    assert_eq!(r.bytes(), 7);
    assert_eq!(read(&mut r, 100), b"abcdefg");
    assert!(r.is_empty());
}

#[test]
fn a_partial_page_write_fills_the_tail_first_then_new_pages() {
    let mut r = Ring::new(16);
    write(&mut r, &[1; 100]);
    // 4096 + 50: the 50 merge after the 100, the page goes into a new slot.
    let data = bytes(PAGE + 50, 7);
    assert_eq!(write(&mut r, &data), Some(PAGE + 50));
    assert_eq!(r.buffers(), 2);
    let got = read(&mut r, 2 * PAGE);
    assert_eq!(&got[..100], &[1; 100][..]);
    assert_eq!(&got[100..], &data[..]);
}

#[test]
fn a_write_that_does_not_fit_the_tail_takes_a_new_page() {
    let mut r = Ring::new(16);
    write(&mut r, &[1; PAGE - 10]);
    write(&mut r, &[2; 20]);
    assert_eq!(r.buffers(), 2);
    // Only the remainder of a write merges once something moved: a whole page never does.
    write(&mut r, &[3; PAGE]);
    assert_eq!(r.buffers(), 3);
}

#[test]
fn wrap_around_keeps_order_and_counts() {
    let mut r = Ring::new(4);
    let mut expect = Vec::new();
    let mut got = Vec::new();
    for round in 0..50u8 {
        let data = bytes(1000 + round as usize * 77, round);
        let mut off = 0;
        while off < data.len() {
            match write(&mut r, &data[off..]) {
                Some(n) => off += n,
                None => got.extend(read(&mut r, 3000)),
            }
            assert!(r.buffers() <= 4);
        }
        expect.extend_from_slice(&data);
        got.extend(read(&mut r, 1500));
        assert_eq!(r.bytes(), expect.len() - got.len());
    }
    got.extend(read(&mut r, usize::MAX));
    assert_eq!(got, expect);
}

#[test]
fn a_full_ring_takes_no_write_and_no_merge_into_a_full_page() {
    let mut r = Ring::new(2);
    assert_eq!(write(&mut r, &[0; 3 * PAGE]), Some(2 * PAGE));
    assert_eq!(r.free_slots(), 0);
    assert!(r.plan_write(1, true).unwrap().is_none());
    read(&mut r, 10);
    // Room after the first buffer's data does not count: merging appends only at the end.
    assert!(r.plan_write(1, true).unwrap().is_none());
}

#[test]
fn a_write_holds_its_slots_until_it_ends() {
    let mut r: Ring<TestPage> = Ring::new(4);
    let plan = r.plan_write(3 * PAGE, true).unwrap().unwrap();
    assert_eq!(plan.pages, 3);
    assert_eq!(r.free_slots(), 1);
    assert_eq!(r.resize(2 * PAGE), Err(Errno::EBUSY));
    r.filled(TestPage::new(), 0, PAGE, true);
    assert_eq!(r.free_slots(), 1);
    r.end_write(None);
    assert_eq!(r.free_slots(), 3);
}

#[test]
fn a_read_meanwhile_leaves_merged_bytes_standing_alone() {
    let mut r = Ring::new(4);
    write(&mut r, b"xy");
    let mut plan = r.plan_write(3, true).unwrap().unwrap();
    let t = plan.tail.take().unwrap();
    // The reader empties the buffer while the writer copies: the page is not unique, so
    // it is not kept as a spare either.
    assert_eq!(read(&mut r, 10), b"xy");
    assert!(!r.has_spare());
    t.page.write(t.at, b"abc");
    r.merged(t, 3);
    r.end_write(plan.spare.take());
    assert_eq!(read(&mut r, 10), b"abc");
}

#[test]
fn an_emptied_page_is_reused_by_the_next_write() {
    let mut r = Ring::new(16);
    write(&mut r, b"a");
    let first = r.front().unwrap().page.clone();
    assert_eq!(read(&mut r, 1), b"a");
    // Our clone still refers to it: not kept.
    assert!(!r.has_spare());
    write(&mut r, b"b");
    drop(first);
    let page = r.front().unwrap().page.clone();
    drop(page);
    read(&mut r, 1);
    assert!(r.has_spare());
    let kept = r.spare.clone().unwrap();
    write(&mut r, b"c");
    assert!(!r.has_spare());
    assert!(r.front().unwrap().page.same(&kept));
    drop(kept);
    assert_eq!(read(&mut r, 1), b"c");
    assert!(r.has_spare());
}

#[test]
fn one_spare_is_kept_and_an_unused_one_comes_back() {
    let mut r = Ring::new(16);
    write(&mut r, &[5; 4 * PAGE]);
    read(&mut r, 4 * PAGE);
    assert!(r.has_spare());
    // The first small write takes it, the second merges into that page.
    write(&mut r, &[1; 10]);
    write(&mut r, &[1; 10]);
    assert_eq!(r.buffers(), 1);
    assert!(!r.has_spare());
    read(&mut r, 20);
    assert!(r.has_spare());
    // One that plans pages but fills none gives its spare back.
    let plan = r.plan_write(PAGE, true).unwrap().unwrap();
    assert!(plan.spare.is_some());
    assert!(!r.has_spare());
    r.end_write(plan.spare);
    assert!(r.has_spare());
}

#[test]
fn tee_duplicates_references_without_merge() {
    let mut a = Ring::new(16);
    let mut b = Ring::new(16);
    write(&mut a, &bytes(PAGE + 100, 1));
    assert_eq!(a.tee_into(&mut b, PAGE + 50), PAGE + 50);
    assert_eq!(b.buffers(), 2);
    assert_eq!(a.bytes(), PAGE + 100);
    assert!(a
        .iter()
        .zip(b.iter())
        .all(|(x, y)| x.page.same(&y.page) && !y.merge));
    // The copy is never appended to: a small write takes a page of its own.
    write(&mut b, b"z");
    assert_eq!(b.buffers(), 3);
    // The original may still append into its own last page, the tee'd one ends earlier.
    write(&mut a, b"q");
    assert_eq!(a.buffers(), 2);
    let got_b = read(&mut b, usize::MAX);
    assert_eq!(&got_b[..PAGE + 50], &bytes(PAGE + 100, 1)[..PAGE + 50]);
    assert_eq!(&got_b[PAGE + 50..], b"z");
    // b's buffers of a's pages are not its own: only the page of "z" is kept.
    assert!(b.has_spare());
    assert!(a.iter().all(|x| !x.page.same(b.spare.as_ref().unwrap())));
}

#[test]
fn tee_stops_at_the_destination_free_slots() {
    let mut a = Ring::new(16);
    let mut b = Ring::new(2);
    write(&mut a, &[0; 3 * PAGE]);
    assert_eq!(a.tee_into(&mut b, usize::MAX), 2 * PAGE);
    assert_eq!(a.tee_into(&mut b, usize::MAX), 0);
}

#[test]
fn a_shared_page_is_not_kept_as_spare() {
    let mut a = Ring::new(16);
    let mut b = Ring::new(16);
    write(&mut a, b"shared");
    a.tee_into(&mut b, 6);
    read(&mut a, 6);
    assert!(!a.has_spare());
    // b's buffer is not merge-able: not kept there either.
    read(&mut b, 6);
    assert!(!b.has_spare());
}

#[test]
fn resize_rounds_and_refuses_to_drop_data() {
    assert_eq!(round_size(0), Ok(PAGE));
    assert_eq!(round_size(1), Ok(PAGE));
    assert_eq!(round_size(3 * PAGE as u32), Ok(4 * PAGE));
    assert_eq!(round_size(5000), Ok(8192));
    assert_eq!(round_size(1 << 31), Ok(1 << 31));
    assert_eq!(round_size((1 << 31) + 1), Err(Errno::EINVAL));
    let mut r = Ring::new(16);
    write(&mut r, &[0; 2 * PAGE]);
    assert_eq!(r.resize(PAGE), Err(Errno::EBUSY));
    assert_eq!(r.capacity(), 16 * PAGE);
    assert_eq!(r.resize(2 * PAGE), Ok(()));
    assert_eq!(r.free_slots(), 0);
    read(&mut r, PAGE);
    // One page's worth read, but a partly read buffer still holds its slot.
    read(&mut r, 1);
    assert_eq!(r.resize(PAGE), Ok(()));
    assert_eq!(r.capacity(), PAGE);
}
