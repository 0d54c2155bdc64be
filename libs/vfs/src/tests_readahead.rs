//! The fault read window (`readahead::fault_window`) against Linux 6.1's
//! do_sync_mmap_readahead with the default 128 KiB window (32 pages).

use crate::readahead::{count_miss, fault_window, ReadAdvice, MMAP_LOTSAMISS};

const RA: u64 = 32;

#[test]
fn centred_on_the_fault() {
    // ra->start = pgoff - 16, 32 pages: 16 before the fault, the fault, 15 after.
    assert_eq!(fault_window(100, 1000, RA, ReadAdvice::Normal, 1), (84, 32));
    assert_eq!(fault_window(16, 1000, RA, ReadAdvice::Normal, 1), (0, 32));
}

#[test]
fn clamped_to_the_start_and_end_of_the_file() {
    // Near the start: from page 0, still the whole window.
    assert_eq!(fault_window(3, 1000, RA, ReadAdvice::Normal, 1), (0, 32));
    assert_eq!(fault_window(0, 1000, RA, ReadAdvice::Normal, 1), (0, 32));
    // Near the end: not past the page holding the last byte.
    assert_eq!(
        fault_window(995, 1000, RA, ReadAdvice::Normal, 1),
        (979, 21)
    );
    assert_eq!(
        fault_window(999, 1000, RA, ReadAdvice::Normal, 1),
        (983, 17)
    );
    // A file smaller than the window: all of it.
    assert_eq!(fault_window(2, 5, RA, ReadAdvice::Normal, 1), (0, 5));
    assert_eq!(fault_window(0, 1, RA, ReadAdvice::Normal, 1), (0, 1));
}

#[test]
fn advice() {
    // MADV_RANDOM: the page alone.
    assert_eq!(fault_window(100, 1000, RA, ReadAdvice::Random, 1), (100, 1));
    // MADV_SEQUENTIAL: the window forward from the fault, clamped to the file.
    assert_eq!(
        fault_window(100, 1000, RA, ReadAdvice::Sequential, 1),
        (100, 32)
    );
    assert_eq!(
        fault_window(990, 1000, RA, ReadAdvice::Sequential, 1),
        (990, 10)
    );
    // POSIX_FADV_SEQUENTIAL's doubled window is centred as well.
    assert_eq!(
        fault_window(100, 1000, 2 * RA, ReadAdvice::Normal, 1),
        (68, 64)
    );
    // No read-ahead at all (a zero window): the page.
    assert_eq!(fault_window(100, 1000, 0, ReadAdvice::Normal, 1), (100, 1));
}

#[test]
fn many_misses_stop_read_around() {
    assert_eq!(
        fault_window(100, 1000, RA, ReadAdvice::Normal, MMAP_LOTSAMISS),
        (84, 32)
    );
    assert_eq!(
        fault_window(100, 1000, RA, ReadAdvice::Normal, MMAP_LOTSAMISS + 1),
        (100, 1)
    );
    // Sequential advice reads ahead whatever the misses.
    assert_eq!(
        fault_window(100, 1000, RA, ReadAdvice::Sequential, 5000),
        (100, 32)
    );
    // The count saturates at ten times the limit.
    assert_eq!(count_miss(0), 1);
    assert_eq!(count_miss(MMAP_LOTSAMISS * 10 - 1), MMAP_LOTSAMISS * 10);
    assert_eq!(count_miss(MMAP_LOTSAMISS * 10), MMAP_LOTSAMISS * 10);
}

#[test]
fn the_fault_is_always_inside() {
    for size in 1..80u64 {
        for idx in 0..size {
            for advice in [
                ReadAdvice::Normal,
                ReadAdvice::Random,
                ReadAdvice::Sequential,
            ] {
                let (first, count) = fault_window(idx, size, RA, advice, 1);
                assert!(first <= idx && idx < first + count, "{idx} in {size}");
                assert!(first + count <= size && count <= RA);
            }
        }
    }
}
