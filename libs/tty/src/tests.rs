use super::*;
use alloc::vec;

fn feed(l: &mut Ldisc, s: &[u8]) -> (Vec<u8>, Vec<Signal>) {
    let mut echo = Vec::new();
    let mut sigs = Vec::new();
    for &c in s {
        if let Some(sig) = l.input(c, &mut echo) {
            sigs.push(sig);
        }
    }
    (echo, sigs)
}

fn read_all(l: &mut Ldisc) -> Read {
    let mut b = [0u8; 64];
    l.read(&mut b)
}

#[test]
fn canonical_lines_and_echo() {
    let mut l = Ldisc::new();
    let (echo, _) = feed(&mut l, b"ab\rcd\n");
    assert_eq!(echo, b"ab\r\ncd\r\n");
    let mut b = [0u8; 64];
    assert_eq!(l.read(&mut b), Read::Data(3));
    assert_eq!(&b[..3], b"ab\n");
    assert_eq!(l.read(&mut b), Read::Data(3));
    assert_eq!(&b[..3], b"cd\n");
    assert_eq!(l.read(&mut b), Read::Empty);
}

#[test]
fn partial_line_is_not_readable() {
    let mut l = Ldisc::new();
    feed(&mut l, b"abc");
    assert!(!l.readable(1));
    assert_eq!(read_all(&mut l), Read::Empty);
}

#[test]
fn erase_kill_and_werase() {
    let mut l = Ldisc::new();
    let (echo, _) = feed(&mut l, b"abx\x7fc\n");
    assert_eq!(echo, b"abx\x08 \x08c\r\n");
    let mut b = [0u8; 8];
    assert_eq!(l.read(&mut b), Read::Data(4));
    assert_eq!(&b[..4], b"abc\n");
    feed(&mut l, b"junk\x15ok\n");
    assert_eq!(l.read(&mut b), Read::Data(3));
    assert_eq!(&b[..3], b"ok\n");
    feed(&mut l, b"one two\x17three\n");
    let mut b = [0u8; 16];
    assert_eq!(l.read(&mut b), Read::Data(10));
    assert_eq!(&b[..10], b"one three\n");
}

#[test]
fn eof_on_empty_line_and_after_text() {
    let mut l = Ldisc::new();
    feed(&mut l, b"\x04");
    assert_eq!(read_all(&mut l), Read::Eof);
    feed(&mut l, b"hi\x04");
    let mut b = [0u8; 8];
    assert_eq!(l.read(&mut b), Read::Data(2));
    assert_eq!(&b[..2], b"hi");
    assert_eq!(l.read(&mut b), Read::Empty);
}

#[test]
fn signal_characters_flush_and_echo() {
    let mut l = Ldisc::new();
    let (echo, sigs) = feed(&mut l, b"abc\x03");
    assert_eq!(sigs, vec![Signal::Interrupt]);
    assert!(echo.ends_with(b"^C"));
    feed(&mut l, b"\n");
    let mut b = [0u8; 8];
    assert_eq!(l.read(&mut b), Read::Data(1));
    let (_, sigs) = feed(&mut l, b"\x1a\x1c");
    assert_eq!(sigs, vec![Signal::Suspend, Signal::Quit]);
    let mut t = l.termios;
    t.lflag &= !ISIG;
    l.set_termios(t);
    let (_, sigs) = feed(&mut l, b"\x03\n");
    assert!(sigs.is_empty());
}

#[test]
fn raw_mode_passes_bytes() {
    let mut l = Ldisc::new();
    let mut t = l.termios;
    t.lflag &= !(ICANON | ECHO);
    t.iflag &= !ICRNL;
    l.set_termios(t);
    let (echo, _) = feed(&mut l, b"a\r\x7f");
    assert!(echo.is_empty());
    assert!(l.readable(3));
    assert!(!l.readable(4));
    let mut b = [0u8; 8];
    assert_eq!(l.read(&mut b), Read::Data(3));
    assert_eq!(&b[..3], b"a\r\x7f");
}

#[test]
fn switching_to_raw_releases_the_partial_line() {
    let mut l = Ldisc::new();
    feed(&mut l, b"par");
    let mut t = l.termios;
    t.lflag &= !ICANON;
    l.set_termios(t);
    let mut b = [0u8; 8];
    assert_eq!(l.read(&mut b), Read::Data(3));
}

#[test]
fn output_translation() {
    let l = Ldisc::new();
    let mut out = Vec::new();
    l.output(b"a\nb", &mut out);
    assert_eq!(out, b"a\r\nb");
    let mut raw = Ldisc::new();
    let mut t = raw.termios;
    t.oflag &= !OPOST;
    raw.set_termios(t);
    let mut out = Vec::new();
    raw.output(b"a\n", &mut out);
    assert_eq!(out, b"a\n");
}

#[test]
fn termios_round_trip() {
    let t = Termios::default();
    assert_eq!(Termios::from_bytes(&t.to_bytes()), t);
}

#[test]
fn control_chars_echo_as_caret() {
    let mut l = Ldisc::new();
    let (echo, _) = feed(&mut l, b"\x01");
    assert_eq!(echo, b"^A");
    let (echo, _) = feed(&mut l, b"\x7f");
    assert_eq!(echo, b"\x08 \x08\x08 \x08");
}

#[test]
fn canonical_queue_is_bounded() {
    // Newlines and end-of-file marks nobody reads stop queueing at MAX_READY.
    for c in [b'\n', 4] {
        let mut l = Ldisc::new();
        let mut echo = Vec::new();
        for _ in 0..MAX_READY + 100 {
            l.input(c, &mut echo);
            echo.clear();
        }
        assert!(l.ready.len() + l.lines.len() <= MAX_READY);
    }
}

#[test]
fn termio_keeps_the_high_bits_and_late_control_chars() {
    let mut t = Termios::default();
    t.cflag |= 0x0001_0000;
    let b = t.to_termio_bytes();
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), t.cflag as u16);
    assert_eq!(&b[9..17], &t.cc[..8]);
    let mut raw = b;
    raw[6] = 0; // lflag low byte: no ISIG, ICANON, ECHO
    raw[9] = 7; // VINTR
    let n = t.with_termio(&raw);
    assert_eq!(n.cflag, t.cflag);
    assert_eq!(n.lflag & 0xff, 0);
    assert_eq!(n.cc[0], 7);
    assert_eq!(&n.cc[8..], &t.cc[8..]);
}

#[test]
fn locked_bits_stay() {
    let old = Termios::default();
    let mut lock = Termios::from_bytes(&[0; 36]);
    lock.lflag = ECHO;
    lock.cc[0] = 1;
    let mut new = old;
    new.lflag &= !(ECHO | ICANON);
    new.cc[0] = 9;
    new.cc[1] = 9;
    let t = old.keep_locked(new, &lock);
    assert_eq!(t.lflag & ECHO, ECHO);
    assert_eq!(t.lflag & ICANON, 0);
    assert_eq!((t.cc[0], t.cc[1]), (old.cc[0], 9));
}
