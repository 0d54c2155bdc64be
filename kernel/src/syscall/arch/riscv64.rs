//! riscv_flush_icache and riscv_hwprobe

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "riscv_flush_icache",
        riscv_flush_icache,
        "fence.i on every hart (the local-only flag too: the thread may move)",
    ),
    Syscall::partial(
        "riscv_hwprobe",
        riscv_hwprobe,
        "keys 0-10 (Linux 6.11's): base behaviour, IMA_EXT_0 (F, D, C, V and the Z* extensions \
         Linux reports that the ISA string names, vector ones only with V), misaligned \
         access speed unknown, Zicboz block size 0 (Zicboz is not enabled for programs), \
         the user address limit, the timebase; vendor ids 0; WHICH_CPUS",
    ),
];

/// riscv64 has no ptrace request of its own.
pub const PTRACE_ARCH_REQUEST: Option<usize> = None;

/// Never called: there is no architecture request.
pub fn ptrace_arch_request(
    _code: usize,
    _addr: usize,
    _regs: &mut lintel_hal::context::UserContext,
) -> Result<Option<u64>, Errno> {
    Err(Errno::EIO)
}

/// SYS_RISCV_FLUSH_ICACHE_LOCAL: only the calling thread's hart.
const FLUSH_ICACHE_LOCAL: usize = 1;

pub fn riscv_flush_icache(c: &mut Call) -> SysResult {
    let [_start, _end, flags, ..] = c.a;
    if flags & !FLUSH_ICACHE_LOCAL != 0 {
        return Err(Errno::EINVAL);
    }
    // Every hart, even for the local flag: the thread may run on another hart next.
    lintel_hal::cpu::sync_icache();
    ok(0)
}

const KEY_MVENDORID: i64 = 0;
const KEY_MARCHID: i64 = 1;
const KEY_MIMPID: i64 = 2;
const KEY_BASE_BEHAVIOR: i64 = 3;
const KEY_IMA_EXT_0: i64 = 4;
const KEY_CPUPERF_0: i64 = 5;
const KEY_ZICBOZ_BLOCK_SIZE: i64 = 6;
const KEY_HIGHEST_VIRT_ADDRESS: i64 = 7;
const KEY_TIME_CSR_FREQ: i64 = 8;
const KEY_MISALIGNED_SCALAR_PERF: i64 = 9;
const KEY_MISALIGNED_VECTOR_PERF: i64 = 10;
/// Linux's RISCV_HWPROBE_MAX_KEY for the keys above (6.11): WHICH_CPUS treats a key past it
/// as unknown.
const MAX_KEY: i64 = KEY_MISALIGNED_VECTOR_PERF;
const BASE_BEHAVIOR_IMA: u64 = 1;
const IMA_FD: u64 = 1;
const IMA_C: u64 = 2;
const IMA_V: u64 = 4;
/// The IMA_EXT_0 bits of the extensions Linux reports whenever the harts have them (its
/// hwprobe_isa_ext0 without a condition): the ISA string's name and RISCV_HWPROBE_EXT_*.
const EXT_ANY: [(&str, u64); 17] = [
    ("zba", 1 << 3),
    ("zbb", 1 << 4),
    ("zbs", 1 << 5),
    ("zbc", 1 << 7),
    ("zbkb", 1 << 8),
    ("zbkc", 1 << 9),
    ("zbkx", 1 << 10),
    ("zknd", 1 << 11),
    ("zkne", 1 << 12),
    ("zknh", 1 << 13),
    ("zksed", 1 << 14),
    ("zksh", 1 << 15),
    ("zkt", 1 << 16),
    ("zihintntl", 1 << 29),
    ("ztso", 1 << 33),
    ("zicond", 1 << 35),
    ("zihintpause", 1 << 36),
];
/// The ones Linux reports only with the F and D state it saves (has_fpu).
const EXT_FP: [(&str, u64); 3] = [("zfh", 1 << 27), ("zfhmin", 1 << 28), ("zfa", 1 << 32)];
/// The ones Linux reports only with V.
const EXT_VECTOR: [(&str, u64); 15] = [
    ("zvbb", 1 << 17),
    ("zvbc", 1 << 18),
    ("zvkb", 1 << 19),
    ("zvkg", 1 << 20),
    ("zvkned", 1 << 21),
    ("zvknha", 1 << 22),
    ("zvknhb", 1 << 23),
    ("zvksed", 1 << 24),
    ("zvksh", 1 << 25),
    ("zvkt", 1 << 26),
    ("zvfh", 1 << 30),
    ("zvfhmin", 1 << 31),
    ("zve32x", 1 << 37),
    ("zve32f", 1 << 38),
    ("zve64x", 1 << 39),
];
/// RISCV_HWPROBE_MISALIGNED_SCALAR_UNKNOWN (also CPUPERF_0's): Lintel does not time
/// misaligned accesses as Linux's boot probe does.
const MISALIGNED_UNKNOWN: u64 = 0;
/// RISCV_HWPROBE_MISALIGNED_VECTOR_UNSUPPORTED: Linux's answer without V.
const MISALIGNED_VECTOR_UNSUPPORTED: u64 = 4;
/// RISCV_HWPROBE_WHICH_CPUS.
const WHICH_CPUS: u32 = 1;

/// The IMA_EXT_0 value: the letters from AT_HWCAP, the Z* extensions from the ISA string.
fn ima_ext_0() -> u64 {
    let hwcap = lintel_hal::cpu::hwcap();
    let has = |c: u8| hwcap & (1 << (c - b'a')) != 0;
    let fpu = has(b'f') && has(b'd');
    let vector = has(b'v');
    let mut v = 0;
    if fpu {
        v |= IMA_FD;
    }
    if has(b'c') {
        v |= IMA_C;
    }
    if vector {
        v |= IMA_V;
    }
    let groups: [(&[(&str, u64)], bool); 3] =
        [(&EXT_ANY, true), (&EXT_FP, fpu), (&EXT_VECTOR, vector)];
    for (exts, enabled) in groups {
        for (name, bit) in exts.iter().filter(|_| enabled) {
            if lintel_hal::cpu::has_isa_extension(name) {
                v |= bit;
            }
        }
    }
    v
}

/// A key's value on the harts (all alike: the boot hart's device tree entry speaks for
/// them), or None for a key Linux does not know.
fn probe(key: i64) -> Option<u64> {
    Some(match key {
        KEY_MVENDORID | KEY_MARCHID | KEY_MIMPID => 0,
        KEY_BASE_BEHAVIOR => BASE_BEHAVIOR_IMA,
        KEY_IMA_EXT_0 => ima_ext_0(),
        KEY_CPUPERF_0 | KEY_MISALIGNED_SCALAR_PERF => MISALIGNED_UNKNOWN,
        // Linux: the device tree's block size only when IMA_EXT_0 reports Zicboz, which it
        // does not here (cbo.zero is not enabled for user mode, senvcfg.CBZE).
        KEY_ZICBOZ_BLOCK_SIZE => 0,
        // Linux's user_max_virt_addr(), arch_get_mmap_end(ULONG_MAX, ..) = STACK_TOP_MAX:
        // TASK_SIZE itself (1 << 47 on Sv48, 1 << 38 on Sv39), where user mappings end.
        KEY_HIGHEST_VIRT_ADDRESS => crate::mm::user_end() as u64,
        // The `time` CSR's frequency, the device tree's timebase-frequency.
        KEY_TIME_CSR_FREQ => lintel_hal::clock::counter_hz(),
        KEY_MISALIGNED_VECTOR_PERF => {
            if lintel_hal::cpu::hwcap() & (1 << (b'v' - b'a')) != 0 {
                MISALIGNED_UNKNOWN
            } else {
                MISALIGNED_VECTOR_UNSUPPORTED
            }
        }
        _ => return None,
    })
}

/// Linux's riscv_hwprobe_pair_cmp: for the bitmask keys a CPU matches when it has every bit
/// asked for, for the others when the value is the same.
fn matches(key: i64, have: u64, want: u64) -> bool {
    match key {
        KEY_BASE_BEHAVIOR | KEY_IMA_EXT_0 | KEY_CPUPERF_0 => have & want == want,
        _ => have == want,
    }
}

/// The bytes of a user CPU set riscv_hwprobe reads: Linux's cpumask_size() for a kernel of
/// at most 64 CPUs (the mask `online_cpus` has room for); bytes past it are not looked at.
const CPUMASK_BYTES: usize = 8;

/// Reads the first `size` bytes (at most CPUMASK_BYTES) of a user CPU set.
fn read_cpus(cpus: usize, size: usize) -> Result<(u64, usize), Errno> {
    let mut mask = [0u8; CPUMASK_BYTES];
    let n = size.min(CPUMASK_BYTES);
    uaccess::read_bytes(cpus, &mut mask[..n])?;
    Ok((u64::from_le_bytes(mask), n))
}

/// The address of pair `i`.
fn pair_at(pairs: usize, i: usize) -> Result<usize, Errno> {
    i.checked_mul(16)
        .and_then(|o| pairs.checked_add(o))
        .ok_or(Errno::EFAULT)
}

/// riscv_hwprobe(pairs, count, cpusetsize, cpus, flags): each `{i64 key; u64 value}` pair gets
/// its value for every CPU (they are alike); an unknown key becomes -1 with value 0. As Linux's
/// hwprobe_get_values: flags (an unsigned int) first (none but WHICH_CPUS: EINVAL), then the
/// CPU set (0 and NULL mean every online CPU; otherwise read, EFAULT, and it must name an
/// online CPU, EINVAL), then the pairs in order (EFAULT at the first that cannot be read or
/// written, those before it already answered).
pub fn riscv_hwprobe(c: &mut Call) -> SysResult {
    let [pairs, count, cpusetsize, cpus, flags, _] = c.a;
    let flags = flags as u32;
    if flags & WHICH_CPUS != 0 {
        return which_cpus(pairs, count, cpusetsize, cpus, flags);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cpusetsize != 0 || cpus != 0 {
        let (mask, _) = read_cpus(cpus, cpusetsize)?;
        if mask & crate::syscall::sched::online_cpus() == 0 {
            return Err(Errno::EINVAL);
        }
    }
    for i in 0..count {
        let at = pair_at(pairs, i)?;
        let key = uaccess::read_u64(at)? as i64;
        let (k, v) = match probe(key) {
            Some(v) => (key, v),
            None => (-1, 0),
        };
        uaccess::write_u64(at, k as u64)?;
        uaccess::write_u64(at + 8, v)?;
    }
    ok(0)
}

/// RISCV_HWPROBE_WHICH_CPUS, as Linux's hwprobe_get_cpus: the pairs are the question (left
/// as they are, but an unknown key is rewritten to -1 and then every later pair is only read
/// and the answer is the empty set) and the CPU set is in/out: the given online CPUs (an
/// empty set means all online) for which every pair matches. Flags other than WHICH_CPUS
/// alone, and a NULL or zero-sized set, are EINVAL.
fn which_cpus(pairs: usize, count: usize, cpusetsize: usize, cpus: usize, flags: u32) -> SysResult {
    if flags != WHICH_CPUS || cpusetsize == 0 || cpus == 0 {
        return Err(Errno::EINVAL);
    }
    let online = crate::syscall::sched::online_cpus();
    let (mut mask, n) = read_cpus(cpus, cpusetsize)?;
    if mask == 0 {
        mask = online;
    }
    mask &= online;
    let mut clear_all = false;
    for i in 0..count {
        let at = pair_at(pairs, i)?;
        let key = uaccess::read_u64(at)? as i64;
        let want = uaccess::read_u64(at + 8)?;
        let value = (0..=MAX_KEY).contains(&key).then(|| probe(key)).flatten();
        let Some(have) = value else {
            clear_all = true;
            uaccess::write_u64(at, -1i64 as u64)?;
            uaccess::write_u64(at + 8, 0)?;
            continue;
        };
        // Every CPU answers alike, so one comparison decides for all of them.
        if !clear_all && !matches(key, have, want) {
            mask = 0;
        }
    }
    if clear_all {
        mask = 0;
    }
    uaccess::write_bytes(cpus, &mask.to_le_bytes()[..n])?;
    ok(0)
}
