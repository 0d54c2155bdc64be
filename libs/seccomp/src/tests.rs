use super::*;
use alloc::vec;

fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

const LD_ABS: u16 = LD | W | ABS;
const JEQ_K: u16 = JMP | JEQ | K;
const RET_K: u16 = RET | K;

fn data(nr: i32, arg0: u64) -> SeccompData {
    SeccompData {
        nr,
        arch: 0xc000_003e,
        instruction_pointer: 0x1234_5678_9abc,
        args: [arg0, 0, 0, 0, 0, 0],
    }
}

/// "deny nr with errno 1, allow the rest".
fn deny(nr: u32) -> Program {
    Program::new(vec![
        stmt(LD_ABS, 0),
        jump(JEQ_K, nr, 0, 1),
        stmt(RET_K, SECCOMP_RET_ERRNO | 1),
        stmt(RET_K, SECCOMP_RET_ALLOW),
    ])
    .unwrap()
}

#[test]
fn runs_a_simple_filter() {
    let p = deny(39);
    assert_eq!(p.run(&data(39, 0)), SECCOMP_RET_ERRNO | 1);
    assert_eq!(p.run(&data(40, 0)), SECCOMP_RET_ALLOW);
}

#[test]
fn reads_every_field() {
    for (k, want) in [
        (0, 7u32),
        (4, 0xc000_003e),
        (8, 0x5678_9abc),
        (12, 0x1234),
        (16, 0xdead_beef),
        (20, 0x1),
    ] {
        let p = Program::new(vec![stmt(LD_ABS, k), stmt(RET | A, 0)]).unwrap();
        assert_eq!(p.run(&data(7, 0x1_dead_beef)), want, "offset {k}");
    }
}

#[test]
fn alu_memory_and_index_register() {
    let p = Program::new(vec![
        stmt(LD | IMM, 6),
        stmt(ST, 3),
        stmt(LDX | IMM, 7),
        stmt(ALU | MUL | X, 0),
        stmt(ALU | SUB | K, 2),
        stmt(MISC | TAX, 0),
        stmt(LD | MEM, 3),
        stmt(ALU | ADD | X, 0),
        stmt(ALU | LSH | K, 1),
        stmt(ALU | NEG, 0),
        stmt(ALU | NEG, 0),
        stmt(RET | A, 0),
    ])
    .unwrap();
    assert_eq!(p.run(&data(0, 0)), (6 + 40) * 2);
    // Division by a zero X returns 0.
    let p = Program::new(vec![
        stmt(LD | IMM, 5),
        stmt(ALU | DIV | X, 0),
        stmt(RET_K, 99),
    ])
    .unwrap();
    assert_eq!(p.run(&data(0, 0)), 0);
}

#[test]
fn refuses_what_linux_refuses() {
    let bad = |v: Vec<Insn>| assert_eq!(Program::new(v).unwrap_err(), FilterError::Invalid);
    bad(vec![]);
    bad(vec![stmt(RET_K, 0); BPF_MAXINSNS + 1]);
    // No RET at the end.
    bad(vec![stmt(LD_ABS, 0)]);
    // Misaligned, or outside seccomp_data.
    bad(vec![stmt(LD_ABS, 2), stmt(RET_K, 0)]);
    bad(vec![stmt(LD_ABS, 64), stmt(RET_K, 0)]);
    // Byte and half-word loads, MOD and indirect loads are not seccomp's.
    bad(vec![stmt(LD | 0x10 | ABS, 0), stmt(RET_K, 0)]);
    bad(vec![stmt(ALU | 0x90 | K, 3), stmt(RET_K, 0)]);
    bad(vec![stmt(LD | W | 0x40, 0), stmt(RET_K, 0)]);
    // Constant division by zero, shifts of 32 and more.
    bad(vec![stmt(ALU | DIV | K, 0), stmt(RET_K, 0)]);
    bad(vec![stmt(ALU | LSH | K, 32), stmt(RET_K, 0)]);
    // Jumps past the end.
    bad(vec![jump(JEQ_K, 0, 1, 0), stmt(RET_K, 0)]);
    bad(vec![stmt(JMP | JA, 1), stmt(RET_K, 0)]);
    // Scratch memory out of range, or read before written.
    bad(vec![stmt(ST, 16), stmt(RET_K, 0)]);
    bad(vec![stmt(LD | MEM, 0), stmt(RET_K, 0)]);
    bad(vec![
        jump(JEQ_K, 0, 1, 0),
        stmt(ST, 2),
        stmt(LD | MEM, 2),
        stmt(RET_K, 0),
    ]);
    bad(vec![stmt(RET | X, 0)]);
    // Written on every path: fine.
    Program::new(vec![
        stmt(ST, 2),
        jump(JEQ_K, 0, 1, 0),
        stmt(ST, 2),
        stmt(LD | MEM, 2),
        stmt(RET | A, 0),
    ])
    .unwrap();
    // LEN loads the size of seccomp_data.
    let p = Program::new(vec![stmt(LD | W | LEN, 0), stmt(RET | A, 0)]).unwrap();
    assert_eq!(p.run(&data(0, 0)), 64);
}

#[test]
fn the_most_restrictive_answer_wins() {
    let allow = || Program::new(vec![stmt(RET_K, SECCOMP_RET_ALLOW)]).unwrap();
    let f1 = Filter::push(None, deny(39), false).unwrap();
    let f2 = Filter::push(Some(f1.clone()), allow(), false).unwrap();
    assert_eq!(f2.decide(&data(39, 0)).0, SECCOMP_RET_ERRNO | 1);
    assert_eq!(f2.decide(&data(1, 0)).0, SECCOMP_RET_ALLOW);
    let trap = Program::new(vec![stmt(RET_K, SECCOMP_RET_TRAP | 5)]).unwrap();
    let f3 = Filter::push(Some(f2.clone()), trap, true).unwrap();
    assert_eq!(f3.decide(&data(39, 0)), (SECCOMP_RET_TRAP | 5, true));
    let kill = Program::new(vec![stmt(RET_K, SECCOMP_RET_KILL_PROCESS)]).unwrap();
    let f4 = Filter::push(Some(f3.clone()), kill, false).unwrap();
    assert_eq!(f4.decide(&data(1, 0)).0, SECCOMP_RET_KILL_PROCESS);
    // An unknown action ranks by its value too (0x00010000 is below TRAP).
    let odd = Program::new(vec![stmt(RET_K, 0x0001_0000)]).unwrap();
    let f5 = Filter::push(Some(f3.clone()), odd, false).unwrap();
    assert_eq!(f5.decide(&data(1, 0)).0, 0x0001_0000);
    assert!(f4.extends(&f1) && f4.extends(&f4) && !f1.extends(&f4));
    assert_eq!(f4.depth(), 4);
}

#[test]
fn total_length_is_bounded() {
    let big = || Program::new(vec![stmt(RET_K, SECCOMP_RET_ALLOW); BPF_MAXINSNS]).unwrap();
    let mut f = None;
    for _ in 0..7 {
        f = Some(Filter::push(f, big(), false).unwrap());
    }
    assert_eq!(
        Filter::push(f, big(), false).unwrap_err(),
        FilterError::TooLong
    );
}

#[test]
fn the_winning_filter_is_named() {
    let notif = || Program::new(vec![stmt(RET_K, SECCOMP_RET_USER_NOTIF)]).unwrap();
    let allow = || Program::new(vec![stmt(RET_K, SECCOMP_RET_ALLOW)]).unwrap();
    let l: Listener = Arc::new(7u32);
    let f1 = Filter::push_with(None, notif(), false, Some(l)).unwrap();
    let f2 = Filter::push(Some(f1.clone()), allow(), false).unwrap();
    // The filter that gave the answer, not the newest.
    let (r, m) = f2.decide_match(&data(1, 0));
    assert_eq!(r, SECCOMP_RET_USER_NOTIF);
    assert!(m.is_some_and(|m| Arc::ptr_eq(m, &f1) && m.listener.is_some()));
    // Among equal answers, the newest filter's.
    let f3 = Filter::push(Some(f2.clone()), notif(), false).unwrap();
    assert!(f3
        .decide_match(&data(1, 0))
        .1
        .is_some_and(|m| Arc::ptr_eq(m, &f3)));
    // Every filter allowing: no filter named.
    let f4 = Filter::push(None, allow(), false).unwrap();
    assert!(f4.decide_match(&data(1, 0)).1.is_none());
    assert_eq!(f3.chain().count(), 3);
    assert!(action_available(SECCOMP_RET_USER_NOTIF));
}
