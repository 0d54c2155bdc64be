//! /proc's system-wide files, /proc/sys and /proc/sysvipc: the tables of what exists and the generators
//! of their text, kept apart from the inode plumbing so adding a file is one table row and
//! one match arm here.

use crate::fs::file;
use crate::fs::seq::SeqText;
use crate::fs::{aio, epoll, inotify};
use crate::ipc;
use crate::ipc::mqueue;
use crate::mm::commit;
use crate::proc::{self, limits};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicI64, AtomicUsize};
use lintel_abi::{Errno, KResult};

/// A /proc/sys or /proc/sysvipc entry: its path under /proc, and the generator of its text (None for a
/// directory).
type SysctlEntry = (&'static str, Option<fn(&mut SeqText)>);

pub(super) const SYSCTL: &[SysctlEntry] = &[
    ("sys", None),
    ("sys/kernel", None),
    ("sys/kernel/ostype", Some(|t| t.str("Linux\n"))),
    ("sys/kernel/osrelease", Some(|t| t.str("6.1.0-lintel\n"))),
    ("sys/kernel/version", Some(|t| t.str("#1 SMP Lintel\n"))),
    (
        "sys/kernel/hostname",
        Some(|t| {
            t.string({
                format!(
                    "{}\n",
                    String::from_utf8_lossy(&crate::uts::hostname(super::current_pid()))
                )
            })
        }),
    ),
    (
        "sys/kernel/domainname",
        Some(|t| {
            t.string({
                format!(
                    "{}\n",
                    String::from_utf8_lossy(&crate::uts::domainname(super::current_pid()))
                )
            })
        }),
    ),
    (
        "sys/kernel/pid_max",
        Some(|t| t.string(format!("{}\n", limits::pid_max()))),
    ),
    (
        "sys/kernel/threads-max",
        Some(|t| t.string(format!("{}\n", limits::threads_max()))),
    ),
    ("sys/kernel/ngroups_max", Some(|t| t.str("65536\n"))),
    (
        "sys/kernel/core_pattern",
        Some(|t| {
            t.string({
                format!(
                    "{}\n",
                    String::from_utf8_lossy(&proc::core_pattern::pattern())
                )
            })
        }),
    ),
    (
        "sys/kernel/core_uses_pid",
        Some(|t| t.string(format!("{}\n", proc::core_pattern::uses_pid() as u8))),
    ),
    ("sys/kernel/cap_last_cap", Some(|t| t.str("40\n"))),
    (
        "sys/kernel/randomize_va_space",
        Some(|t| {
            t.string(String::from(if crate::aslr_enabled() {
                "2\n"
            } else {
                "0\n"
            }))
        }),
    ),
    ("sys/kernel/seccomp", None),
    (
        "sys/kernel/seccomp/actions_avail",
        Some(|t| {
            t.string(lintel_seccomp::logged::names_text(
                lintel_seccomp::logged::ALL,
            ))
        }),
    ),
    (
        "sys/kernel/seccomp/actions_logged",
        Some(|t| {
            t.string(lintel_seccomp::logged::names_text(
                lintel_seccomp::logged::ACTIONS_LOGGED.load(Relaxed),
            ))
        }),
    ),
    ("sys/kernel/random", None),
    ("sys/kernel/random/boot_id", Some(|t| t.string(boot_id()))),
    ("sys/kernel/random/uuid", Some(|t| t.string(new_uuid()))),
    ("sys/kernel/random/entropy_avail", Some(|t| t.str("256\n"))),
    ("sys/fs", None),
    ("sys/fs/pipe-max-size", Some(|t| t.str("1048576\n"))),
    ("sys/fs/nr_open", Some(|t| t.str("1048576\n"))),
    (
        "sys/fs/file-max",
        Some(|t| t.string(format!("{}\n", file::file_max()))),
    ),
    (
        "sys/fs/file-nr",
        Some(|t| t.string(format!("{}\t0\t{}\n", file::nr_files(), file::file_max()))),
    ),
    (
        "sys/fs/aio-max-nr",
        Some(|t| t.string(format!("{}\n", aio::AIO_MAX_NR.load(Relaxed)))),
    ),
    (
        "sys/fs/aio-nr",
        Some(|t| t.string(format!("{}\n", aio::AIO_NR.load(Relaxed)))),
    ),
    ("sys/fs/mqueue", None),
    (
        "sys/fs/mqueue/msg_max",
        Some(|t| t.string(num(&mqueue::MSG_MAX))),
    ),
    (
        "sys/fs/mqueue/msgsize_max",
        Some(|t| t.string(num(&mqueue::MSGSIZE_MAX))),
    ),
    (
        "sys/fs/mqueue/msg_default",
        Some(|t| t.string(num(&mqueue::MSG_DEFAULT))),
    ),
    (
        "sys/fs/mqueue/msgsize_default",
        Some(|t| t.string(num(&mqueue::MSGSIZE_DEFAULT))),
    ),
    (
        "sys/fs/mqueue/queues_max",
        Some(|t| t.string(num(&mqueue::QUEUES_MAX))),
    ),
    (
        "sys/fs/lease-break-time",
        Some(|t| t.string(format!("{}\n", crate::fs::lease::BREAK_SECS.load(Relaxed)))),
    ),
    ("sys/fs/epoll", None),
    (
        "sys/fs/epoll/max_user_watches",
        Some(|t| t.string(format!("{}\n", epoll::watches::max_user_watches()))),
    ),
    ("sys/fs/inotify", None),
    (
        "sys/fs/inotify/max_queued_events",
        Some(|t| t.string(format!("{}\n", inotify::MAX_QUEUED_EVENTS.load(Relaxed)))),
    ),
    (
        "sys/fs/inotify/max_user_instances",
        Some(|t| t.string(format!("{}\n", inotify::MAX_USER_INSTANCES.load(Relaxed)))),
    ),
    (
        "sys/fs/inotify/max_user_watches",
        Some(|t| t.string(format!("{}\n", inotify::MAX_USER_WATCHES.load(Relaxed)))),
    ),
    ("sys/vm", None),
    (
        "sys/vm/overcommit_memory",
        Some(|t| t.string(format!("{}\n", commit::mode()))),
    ),
    (
        "sys/vm/overcommit_ratio",
        Some(|t| t.string(format!("{}\n", commit::ratio()))),
    ),
    (
        "sys/vm/overcommit_kbytes",
        Some(|t| t.string(format!("{}\n", commit::kbytes()))),
    ),
    ("sys/vm/max_map_count", Some(|t| t.str("65530\n"))),
    (
        "sys/vm/admin_reserve_kbytes",
        Some(|t| t.string(super::vm::read("admin_reserve_kbytes"))),
    ),
    (
        "sys/vm/compact_unevictable_allowed",
        Some(|t| t.string(super::vm::read("compact_unevictable_allowed"))),
    ),
    (
        "sys/vm/dirty_background_bytes",
        Some(|t| t.string(super::vm::read("dirty_background_bytes"))),
    ),
    (
        "sys/vm/dirty_background_ratio",
        Some(|t| t.string(super::vm::read("dirty_background_ratio"))),
    ),
    (
        "sys/vm/dirty_bytes",
        Some(|t| t.string(super::vm::read("dirty_bytes"))),
    ),
    (
        "sys/vm/dirty_expire_centisecs",
        Some(|t| t.string(super::vm::read("dirty_expire_centisecs"))),
    ),
    (
        "sys/vm/dirty_ratio",
        Some(|t| t.string(super::vm::read("dirty_ratio"))),
    ),
    (
        "sys/vm/dirty_writeback_centisecs",
        Some(|t| t.string(super::vm::read("dirty_writeback_centisecs"))),
    ),
    (
        "sys/vm/dirtytime_expire_seconds",
        Some(|t| t.string(super::vm::read("dirtytime_expire_seconds"))),
    ),
    (
        "sys/vm/extfrag_threshold",
        Some(|t| t.string(super::vm::read("extfrag_threshold"))),
    ),
    (
        "sys/vm/laptop_mode",
        Some(|t| t.string(super::vm::read("laptop_mode"))),
    ),
    (
        "sys/vm/min_free_kbytes",
        Some(|t| t.string(super::vm::read("min_free_kbytes"))),
    ),
    (
        "sys/vm/mmap_min_addr",
        Some(|t| t.string(super::vm::read("mmap_min_addr"))),
    ),
    (
        "sys/vm/oom_dump_tasks",
        Some(|t| t.string(super::vm::read("oom_dump_tasks"))),
    ),
    (
        "sys/vm/oom_kill_allocating_task",
        Some(|t| t.string(super::vm::read("oom_kill_allocating_task"))),
    ),
    (
        "sys/vm/page-cluster",
        Some(|t| t.string(super::vm::read("page-cluster"))),
    ),
    (
        "sys/vm/panic_on_oom",
        Some(|t| t.string(super::vm::read("panic_on_oom"))),
    ),
    (
        "sys/vm/stat_interval",
        Some(|t| t.string(super::vm::read("stat_interval"))),
    ),
    (
        "sys/vm/swappiness",
        Some(|t| t.string(super::vm::read("swappiness"))),
    ),
    (
        "sys/vm/user_reserve_kbytes",
        Some(|t| t.string(super::vm::read("user_reserve_kbytes"))),
    ),
    (
        "sys/vm/vfs_cache_pressure",
        Some(|t| t.string(super::vm::read("vfs_cache_pressure"))),
    ),
    (
        "sys/vm/watermark_scale_factor",
        Some(|t| t.string(super::vm::read("watermark_scale_factor"))),
    ),
    ("sys/vm/drop_caches", Some(|t| t.str("0\n"))),
    ("sys/net", None),
    ("sys/net/core", None),
    ("sys/net/core/somaxconn", Some(|t| t.str("4096\n"))),
    (
        "sys/kernel/shmmax",
        Some(|t| t.string(format!("{}\n", ipc::limits::shmmax()))),
    ),
    (
        "sys/kernel/shmall",
        Some(|t| t.string(format!("{}\n", ipc::limits::shmall()))),
    ),
    (
        "sys/kernel/shmmni",
        Some(|t| t.string(format!("{}\n", ipc::limits::SHMMNI.load(Relaxed)))),
    ),
    (
        "sys/kernel/msgmax",
        Some(|t| t.string(format!("{}\n", ipc::limits::msgmax()))),
    ),
    (
        "sys/kernel/msgmnb",
        Some(|t| t.string(format!("{}\n", ipc::limits::msgmnb()))),
    ),
    (
        "sys/kernel/msgmni",
        Some(|t| t.string(format!("{}\n", ipc::limits::MSGMNI.load(Relaxed)))),
    ),
    ("sys/kernel/sem", Some(|t| t.string(sem_text()))),
    ("sys/kernel/keys", None),
    (
        "sys/kernel/keys/maxkeys",
        Some(|t| t.string(key_limit("maxkeys"))),
    ),
    (
        "sys/kernel/keys/persistent_keyring_expiry",
        Some(|t| t.string(key_limit("persistent_keyring_expiry"))),
    ),
    (
        "sys/kernel/keys/maxbytes",
        Some(|t| t.string(key_limit("maxbytes"))),
    ),
    (
        "sys/kernel/keys/root_maxkeys",
        Some(|t| t.string(key_limit("root_maxkeys"))),
    ),
    (
        "sys/kernel/keys/root_maxbytes",
        Some(|t| t.string(key_limit("root_maxbytes"))),
    ),
    // Not under /proc/sys, but the same kind of static tree: the System V IPC tables.
    ("sysvipc", None),
    ("sysvipc/msg", Some(ipc::msg::proc_text)),
    ("sysvipc/sem", Some(ipc::sem::proc_text)),
    ("sysvipc/shm", Some(ipc::shm::proc_text)),
];

/// /proc/sys/kernel/sem: semmsl, semmns, semopm and semmni, tab-separated.
fn sem_text() -> String {
    let v: Vec<String> = ipc::limits::SEM
        .iter()
        .map(|x| format!("{}", x.load(Relaxed)))
        .collect();
    format!("{}\n", v.join("\t"))
}

/// What takes the text written to a sysctl file.
pub(super) type SysctlSetter = fn(&[u8]) -> KResult<()>;

/// The /proc/sys files root may write (mode 0644), with their setters.
const SYSCTL_WRITABLE: &[(&str, SysctlSetter)] = &[
    ("sys/kernel/core_pattern", |b| {
        proc::core_pattern::set_pattern(b);
        Ok(())
    }),
    ("sys/kernel/seccomp/actions_logged", |b| {
        let mask = lintel_seccomp::logged::logged_from_names(b).ok_or(Errno::EINVAL)?;
        lintel_seccomp::logged::ACTIONS_LOGGED.store(mask, Relaxed);
        Ok(())
    }),
    ("sys/kernel/core_uses_pid", |b| {
        proc::core_pattern::set_uses_pid(sysctl_number(b)? != 0);
        Ok(())
    }),
    ("sys/kernel/pid_max", |b| {
        limits::set_pid_max(sysctl_number(b)?)
    }),
    ("sys/kernel/threads-max", |b| {
        limits::set_threads_max(sysctl_number(b)?)
    }),
    ("sys/fs/file-max", |b| file::set_file_max(sysctl_number(b)?)),
    ("sys/vm/overcommit_memory", |b| {
        commit::set_mode(sysctl_number(b)?)
    }),
    ("sys/vm/overcommit_ratio", |b| {
        commit::set_ratio(sysctl_number(b)?)
    }),
    ("sys/vm/overcommit_kbytes", |b| {
        commit::set_kbytes(sysctl_number(b)?)
    }),
    ("sys/kernel/shmmax", |b| {
        ipc::limits::set_shmmax(sysctl_number(b)?)
    }),
    ("sys/kernel/shmall", |b| {
        ipc::limits::set_shmall(sysctl_number(b)?)
    }),
    ("sys/kernel/shmmni", |b| {
        ipc::limits::set_shmmni(sysctl_number(b)?)
    }),
    ("sys/kernel/msgmax", |b| {
        ipc::limits::set_msgmax(sysctl_number(b)?)
    }),
    ("sys/kernel/msgmnb", |b| {
        ipc::limits::set_msgmnb(sysctl_number(b)?)
    }),
    ("sys/kernel/msgmni", |b| {
        ipc::limits::set_msgmni(sysctl_number(b)?)
    }),
    ("sys/kernel/sem", |b| {
        ipc::limits::set_sem(&sysctl_numbers(b)?)
    }),
    // Linux's ranges: msg_max 1..=65536, msgsize_max 128..=16 MiB, the defaults within
    // those, queues_max anything from 0.
    ("sys/fs/mqueue/msg_max", |b| {
        set_range(&mqueue::MSG_MAX, b, 1, 65536)
    }),
    ("sys/fs/mqueue/msgsize_max", |b| {
        set_range(&mqueue::MSGSIZE_MAX, b, 128, 16 << 20)
    }),
    ("sys/fs/mqueue/msg_default", |b| {
        set_range(&mqueue::MSG_DEFAULT, b, 1, 65536)
    }),
    ("sys/fs/mqueue/msgsize_default", |b| {
        set_range(&mqueue::MSGSIZE_DEFAULT, b, 128, 16 << 20)
    }),
    ("sys/fs/mqueue/queues_max", |b| {
        set_range(&mqueue::QUEUES_MAX, b, 0, i32::MAX as i64)
    }),
    ("sys/kernel/keys/maxkeys", |b| set_key_limit("maxkeys", b)),
    ("sys/kernel/keys/persistent_keyring_expiry", |b| {
        set_key_limit("persistent_keyring_expiry", b)
    }),
    ("sys/kernel/keys/maxbytes", |b| set_key_limit("maxbytes", b)),
    ("sys/kernel/keys/root_maxkeys", |b| {
        set_key_limit("root_maxkeys", b)
    }),
    ("sys/kernel/keys/root_maxbytes", |b| {
        set_key_limit("root_maxbytes", b)
    }),
    ("sys/fs/aio-max-nr", |b| {
        set_int(&aio::AIO_MAX_NR, sysctl_number(b)?)
    }),
    ("sys/fs/epoll/max_user_watches", |b| {
        epoll::watches::set_max_user_watches(sysctl_number(b)?)
    }),
    ("sys/fs/inotify/max_queued_events", |b| {
        set_int(&inotify::MAX_QUEUED_EVENTS, sysctl_number(b)?)
    }),
    ("sys/fs/inotify/max_user_instances", |b| {
        set_int(&inotify::MAX_USER_INSTANCES, sysctl_number(b)?)
    }),
    ("sys/fs/inotify/max_user_watches", |b| {
        set_int(&inotify::MAX_USER_WATCHES, sysctl_number(b)?)
    }),
    ("sys/vm/admin_reserve_kbytes", |b| {
        super::vm::write("admin_reserve_kbytes", b)
    }),
    ("sys/vm/compact_unevictable_allowed", |b| {
        super::vm::write("compact_unevictable_allowed", b)
    }),
    ("sys/vm/dirty_background_bytes", |b| {
        super::vm::write("dirty_background_bytes", b)
    }),
    ("sys/vm/dirty_background_ratio", |b| {
        super::vm::write("dirty_background_ratio", b)
    }),
    ("sys/vm/dirty_bytes", |b| super::vm::write("dirty_bytes", b)),
    ("sys/vm/dirty_expire_centisecs", |b| {
        super::vm::write("dirty_expire_centisecs", b)
    }),
    ("sys/vm/dirty_ratio", |b| super::vm::write("dirty_ratio", b)),
    ("sys/vm/dirty_writeback_centisecs", |b| {
        super::vm::write("dirty_writeback_centisecs", b)
    }),
    ("sys/vm/dirtytime_expire_seconds", |b| {
        super::vm::write("dirtytime_expire_seconds", b)
    }),
    ("sys/vm/extfrag_threshold", |b| {
        super::vm::write("extfrag_threshold", b)
    }),
    ("sys/vm/laptop_mode", |b| super::vm::write("laptop_mode", b)),
    ("sys/vm/min_free_kbytes", |b| {
        super::vm::write("min_free_kbytes", b)
    }),
    ("sys/vm/mmap_min_addr", |b| {
        super::vm::write("mmap_min_addr", b)
    }),
    ("sys/vm/oom_dump_tasks", |b| {
        super::vm::write("oom_dump_tasks", b)
    }),
    ("sys/vm/oom_kill_allocating_task", |b| {
        super::vm::write("oom_kill_allocating_task", b)
    }),
    ("sys/vm/page-cluster", |b| {
        super::vm::write("page-cluster", b)
    }),
    ("sys/vm/panic_on_oom", |b| {
        super::vm::write("panic_on_oom", b)
    }),
    ("sys/vm/stat_interval", |b| {
        super::vm::write("stat_interval", b)
    }),
    ("sys/vm/swappiness", |b| super::vm::write("swappiness", b)),
    ("sys/vm/user_reserve_kbytes", |b| {
        super::vm::write("user_reserve_kbytes", b)
    }),
    ("sys/vm/vfs_cache_pressure", |b| {
        super::vm::write("vfs_cache_pressure", b)
    }),
    ("sys/vm/watermark_scale_factor", |b| {
        super::vm::write("watermark_scale_factor", b)
    }),
    ("sys/vm/drop_caches", super::vm::drop_caches),
    ("sys/fs/lease-break-time", |b| {
        set_int(&crate::fs::lease::BREAK_SECS, sysctl_number(b)?)
    }),
];

fn key_limit(name: &str) -> String {
    format!(
        "{}\n",
        crate::keys::limit(name).map_or(0, |l| l.load(Relaxed))
    )
}

/// The key quotas are ints from 0 up (proc_dointvec_minmax).
fn set_key_limit(name: &str, b: &[u8]) -> KResult<()> {
    let v = sysctl_number(b)?;
    if v > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    if let Some(l) = crate::keys::limit(name) {
        l.store(v as u32, Relaxed);
    }
    Ok(())
}

fn num(v: &AtomicI64) -> String {
    format!("{}\n", v.load(Relaxed))
}

/// A sysctl with Linux's minimum and maximum (EINVAL outside).
fn set_range(to: &AtomicI64, b: &[u8], min: i64, max: i64) -> KResult<()> {
    let v = sysctl_number(b)?;
    if !(min as u64..=max as u64).contains(&v) {
        return Err(Errno::EINVAL);
    }
    to.store(v as i64, Relaxed);
    Ok(())
}

/// A sysctl holding an `int` that may be anything from 0 up (proc_dointvec_minmax with a
/// minimum of 0).
fn set_int(to: &AtomicUsize, v: u64) -> KResult<()> {
    if v > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    to.store(v as usize, Relaxed);
    Ok(())
}

/// Numbers separated by blanks (EINVAL for anything else).
fn sysctl_numbers(buf: &[u8]) -> KResult<Vec<u64>> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    text.split_ascii_whitespace()
        .map(|w| w.parse().map_err(|_| Errno::EINVAL))
        .collect()
}

pub(super) fn sysctl_setter(i: u16) -> Option<SysctlSetter> {
    let path = SYSCTL[i as usize].0;
    SYSCTL_WRITABLE
        .iter()
        .find(|(p, _)| *p == path)
        .map(|&(_, f)| f)
}

/// A number written to a sysctl file, with the blanks around it (EINVAL otherwise, as
/// Linux's proc_dointvec_minmax; a negative number is out of every range here).
pub(super) fn sysctl_number(buf: &[u8]) -> KResult<u64> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    text.trim().parse::<u64>().map_err(|_| Errno::EINVAL)
}

fn uuid_text(b: [u8; 16]) -> String {
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{:02x}", x)).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
}

fn new_uuid() -> String {
    let mut b = [0u8; 16];
    crate::random::fill(&mut b);
    uuid_text(b)
}

fn boot_id() -> String {
    static ID: spin::Once<String> = spin::Once::new();
    ID.call_once(new_uuid).clone()
}

pub(super) fn sysctl_index(path: &str) -> Option<u16> {
    SYSCTL
        .iter()
        .position(|(p, _)| *p == path)
        .map(|i| i as u16)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum SysFile {
    Meminfo,
    Uptime,
    Version,
    Cpuinfo,
    Mounts,
    Filesystems,
    Partitions,
    Loadavg,
    Stat,
    Cmdline,
    Vmstat,
    Diskstats,
    Zoneinfo,
}

pub(super) const SYS_FILES: &[(&[u8], SysFile)] = &[
    (b"meminfo", SysFile::Meminfo),
    (b"uptime", SysFile::Uptime),
    (b"version", SysFile::Version),
    (b"cpuinfo", SysFile::Cpuinfo),
    (b"mounts", SysFile::Mounts),
    (b"filesystems", SysFile::Filesystems),
    (b"partitions", SysFile::Partitions),
    (b"loadavg", SysFile::Loadavg),
    (b"stat", SysFile::Stat),
    (b"cmdline", SysFile::Cmdline),
    (b"vmstat", SysFile::Vmstat),
    (b"diskstats", SysFile::Diskstats),
    (b"zoneinfo", SysFile::Zoneinfo),
];

pub(super) fn sys_content(t: &mut SeqText, f: SysFile) {
    let up = crate::time::uptime_ns();
    match f {
        SysFile::Meminfo => t.string(super::meminfo::text()),
        SysFile::Uptime => {
            let _ = writeln!(
                t,
                "{}.{:02} {}.{:02}",
                up / 1_000_000_000,
                (up / 10_000_000) % 100,
                up / 1_000_000_000,
                (up / 10_000_000) % 100
            );
        }
        SysFile::Version => {
            t.str("Linux version 6.1.0-lintel (lintel@lintel) (rustc) #1 SMP Lintel\n")
        }
        SysFile::Cpuinfo => t.string(lintel_hal::cpu::cpuinfo()),
        SysFile::Cmdline => {
            let _ = writeln!(t, "{}", super::boot_cmdline());
        }
        SysFile::Vmstat => t.string(super::meminfo::vmstat()),
        SysFile::Diskstats => diskstats(t),
        SysFile::Zoneinfo => t.string(super::meminfo::zoneinfo(
            super::vm::min_free_kbytes(),
            lintel_hal::smp::cpu_mask().count_ones() as u64,
        )),
        SysFile::Mounts => crate::fs::mounts_text(t),
        SysFile::Filesystems => {
            for (name, dev) in crate::fs::FILESYSTEMS {
                let _ = writeln!(t, "{}\t{}", if *dev { "" } else { "nodev" }, name);
            }
        }
        SysFile::Partitions => crate::fs::block::partitions_text(t),
        SysFile::Loadavg => {
            let pids = proc::all_pids();
            let _ = writeln!(
                t,
                "0.00 0.00 0.00 1/{} {}",
                pids.len(),
                pids.last().copied().unwrap_or(1)
            );
        }
        SysFile::Stat => stat_text(t, up),
    }
}

/// /proc/diskstats: each disk and partition with Linux ≥ 5.5's 17 counters (reads, merges,
/// sectors, milliseconds, writes, ..., in flight, busy and weighted milliseconds, discards,
/// flushes), counted per request by the block layer (`drivers::iostats`). Lintel merges no
/// requests and has no discard, so those stay 0.
fn diskstats(s: &mut SeqText) {
    for d in crate::fs::block::all() {
        // As Linux's diskstats_show: every disk (unbound loop devices too), partitions only
        // with a size.
        if d.partition_of().is_some() && d.size() == 0 {
            continue;
        }
        let rdev = d.rdev();
        let c = d.io_stats().map(|st| st.snapshot()).unwrap_or_default();
        let _ = writeln!(
            s,
            "{:4} {:7} {} {}",
            lintel_abi::stat::major(rdev),
            lintel_abi::stat::minor(rdev),
            d.name(),
            c.diskstats()
        );
    }
}

/// /proc/stat: CPU time in USER_HZ ticks per CPU (user and system: what threads ran there,
/// `sched::cpustat`; idle: the rest of the CPU's uptime), the cpu line their sum, then
/// Linux's counters: context switches, forks since boot, threads runnable now.
fn stat_text(t: &mut SeqText, up: u64) {
    let tick = |ns: u64| ns / 10_000_000;
    // The stints running now, which cpustat counts only when they end: (user, system) per CPU.
    let now = crate::time::uptime_ns();
    let mut current = [(0u64, 0u64); 64];
    let mut running = 0u64;
    for p in proc::all_pids().into_iter().filter_map(proc::find_process) {
        for th in p.live_threads() {
            running += u64::from(th.state.lock().is_runnable());
            let ct = *th.cpu.lock();
            if ct.running {
                let busy = now.saturating_sub(ct.since);
                let user = th.user_ns().saturating_sub(ct.user_at_since).min(busy);
                let c = &mut current[ct.cpu % 64];
                c.0 += user;
                c.1 += busy - user;
            }
        }
    }
    let mask = lintel_hal::smp::cpu_mask();
    let cpus: alloc::vec::Vec<(usize, u64, u64, u64)> = (0..64)
        .filter(|i| mask & (1u64 << i) != 0)
        .map(|i| {
            let (user, sys) = crate::sched::cpustat::cpu_times(i);
            let (user, sys) = (user + current[i].0, sys + current[i].1);
            let idle = up.saturating_sub(user + sys);
            (i, tick(user), tick(sys), tick(idle))
        })
        .collect();
    let sum = |f: fn(&(usize, u64, u64, u64)) -> u64| cpus.iter().map(f).sum::<u64>();
    let _ = writeln!(
        t,
        "cpu  {} 0 {} {} 0 0 0 0 0 0",
        sum(|c| c.1),
        sum(|c| c.2),
        sum(|c| c.3)
    );
    for (i, user, sys, idle) in &cpus {
        let _ = writeln!(t, "cpu{i} {user} 0 {sys} {idle} 0 0 0 0 0 0");
    }
    let _ = writeln!(
        t,
        "intr 0\nctxt {}\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0",
        crate::sched::cpustat::switches(),
        (crate::time::realtime_ns() - up as i64) / 1_000_000_000,
        crate::sched::cpustat::forks(),
        running.max(1)
    );
}
