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
        "base behaviour, IMA extensions (F, D, C, V, Zba, Zbb, Zbs, Zbc from the ISA string; \
         the later extension bits and keys are not reported); vendor ids 0",
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
const BASE_BEHAVIOR_IMA: u64 = 1;
const IMA_FD: u64 = 1;
const IMA_C: u64 = 2;
const IMA_V: u64 = 4;
/// RISCV_HWPROBE_EXT_ZBA, _ZBB, _ZBS (Linux 6.5), _ZBC (6.8): bit manipulation.
const EXT_ZB: [(&str, u64); 4] = [
    ("zba", 1 << 3),
    ("zbb", 1 << 4),
    ("zbs", 1 << 5),
    ("zbc", 1 << 7),
];
/// RISCV_HWPROBE_MISALIGNED_UNKNOWN.
const MISALIGNED_UNKNOWN: u64 = 0;

fn probe(key: i64) -> Option<u64> {
    let hwcap = lintel_hal::cpu::hwcap();
    let has = |c: u8| hwcap & (1 << (c - b'a')) != 0;
    Some(match key {
        KEY_MVENDORID | KEY_MARCHID | KEY_MIMPID => 0,
        KEY_BASE_BEHAVIOR => BASE_BEHAVIOR_IMA,
        KEY_IMA_EXT_0 => {
            let mut v = 0;
            if has(b'f') && has(b'd') {
                v |= IMA_FD;
            }
            if has(b'c') {
                v |= IMA_C;
            }
            if has(b'v') {
                v |= IMA_V;
            }
            for (name, bit) in EXT_ZB {
                if lintel_hal::cpu::has_isa_extension(name) {
                    v |= bit;
                }
            }
            v
        }
        KEY_CPUPERF_0 => MISALIGNED_UNKNOWN,
        _ => return None,
    })
}

/// The bytes of a user CPU set riscv_hwprobe reads: Linux's cpumask_size() for a kernel of
/// at most 64 CPUs (the mask `online_cpus` has room for); bytes past it are not looked at.
const CPUMASK_BYTES: usize = 8;

/// riscv_hwprobe(pairs, count, cpusetsize, cpus, flags): each `{i64 key; u64 value}` pair gets
/// its value for every CPU (they are alike); an unknown key becomes -1 with value 0. As Linux's
/// hwprobe_get_values: flags first (none defined: EINVAL), then the CPU set (0 and NULL mean
/// every online CPU; otherwise read, EFAULT, and it must name an online CPU, EINVAL), then
/// the pairs in order (EFAULT at the first that cannot be read or written, those before it
/// already answered).
pub fn riscv_hwprobe(c: &mut Call) -> SysResult {
    let [pairs, count, cpusetsize, cpus, flags, _] = c.a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cpusetsize != 0 || cpus != 0 {
        let mut mask = [0u8; CPUMASK_BYTES];
        let n = cpusetsize.min(CPUMASK_BYTES);
        uaccess::read_bytes(cpus, &mut mask[..n])?;
        if u64::from_le_bytes(mask) & crate::syscall::sched::online_cpus() == 0 {
            return Err(Errno::EINVAL);
        }
    }
    for i in 0..count {
        let at = i
            .checked_mul(16)
            .and_then(|o| pairs.checked_add(o))
            .ok_or(Errno::EFAULT)?;
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
