//! Lintel: a Linux-compatible kernel. This crate is the safe upper half (processes, memory
//! policy, files, syscalls); the hardware lives behind `lintel-hal`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod coredump;
mod drivers;
mod exec;
mod fs;
mod futex;
mod ipc;
mod itimer;
mod keys;
#[cfg(feature = "lockdep")]
mod lockdep;
#[macro_use]
mod log;
mod mm;
mod net;
mod park;
mod proc;
mod random;
mod sched;
mod spinlock;
mod syscall;
mod time;
mod uaccess;
mod uts;
mod vdso;

use alloc::vec::Vec;
use lintel_abi::fcntl::{AT_FDCWD, O_RDWR};
use lintel_abi::Errno;
use lintel_hal::{println, BootInfo};

lintel_hal::entry_point!(kernel_main);

const DEFAULT_ENV: &[&[u8]] = &[
    b"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    b"HOME=/root",
    b"TERM=linux",
];

/// Reads a NUL-separated list from a file of the initramfs (`/lintel/argv`, `/lintel/envp`).
fn read_list(path: &[u8]) -> Option<Vec<Vec<u8>>> {
    let root = fs::initramfs_root();
    let cred = crate::proc::Cred::default().vfs();
    let ctx = lintel_vfs::WalkCtx {
        root: &root,
        start: &root,
        mounts: fs::mounts(),
        cred: &cred,
    };
    let d = lintel_vfs::resolve(&ctx, path, true).ok()?;
    let size = d.inode.stat().size as usize;
    let mut buf = alloc::vec![0u8; size];
    let n = d.inode.read_at(0, &mut buf).ok()?;
    buf.truncate(n);
    Some(
        buf.split(|&c| c == 0)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_vec())
            .collect(),
    )
}

fn kernel_main(info: BootInfo) -> ! {
    log::set_from_cmdline(info.cmdline);
    #[cfg(feature = "lockdep")]
    lockdep::init(info.cmdline);
    park::init();
    fs::procfs::set_boot_cmdline(info.cmdline);
    time::init();
    vdso::init();
    mm::set_grow_limits(proc::grow_limits);
    lintel_hal::set_user_fault_handler(proc::usercopy_fault);
    lintel_hal::mm::set_reclaim_hook(fs::ext4::reclaim);
    mm::kheap::set_shrinker(fs::ext4::shrink_for_heap);
    lintel_hal::set_panic_report(mm::kheap::panic_report);
    info!(
        "lintel {} booting, {} MiB of memory, cmdline '{}'",
        env!("CARGO_PKG_VERSION"),
        info.memory >> 20,
        info.cmdline
    );
    if lintel_hal::smp::cpus_present() > 1 {
        info!(
            "smp: {} CPUs present, {} started",
            lintel_hal::smp::cpus_present(),
            lintel_hal::smp::cpus_started()
        );
    }
    start_watchdog(info.cmdline);
    // Kernel code runs on several CPUs at once (issue 14; docs/architecture.md, "Without the
    // big kernel lock", says what was reviewed and run that way); `lintel.bkl=on` keeps the
    // big kernel lock (kernel code on one CPU at a time), as before, for comparison.
    if info.cmdline.split(' ').any(|w| w == "lintel.bkl=on") {
        if lintel_hal::smp::cpus_present() > 1 {
            warn!("smp: big kernel lock on (lintel.bkl=on): kernel code on one CPU at a time");
        }
    } else {
        if lintel_hal::smp::cpus_present() > 1 {
            info!("smp: big kernel lock off");
        }
        lintel_hal::smp::disable_kernel_lock();
    }
    syscall::init_trace(info.cmdline);
    proc::init_overflow_test(info.cmdline);
    // `cargo xtask docs` boots with `lintel.syscalls` to read the syscall table.
    if info.cmdline.split(' ').any(|w| w == "lintel.syscalls") {
        syscall::print_table();
        lintel_hal::power_off("exit 0");
    }
    drivers::blk::init();
    fs::block::init();
    // Network interrupts record that there is work and wake the stack (its hook).
    lintel_hal::virtio_net::set_net_irq_hook(drivers::net::on_interrupt);
    drivers::net::init();
    // `lintel.nettest`: each card sends an ARP request and reports the reply (boot.net.arp).
    if info.cmdline.split(' ').any(|w| w == "lintel.nettest") {
        drivers::net::for_each_device(drivers::nettest::arp_probe);
    }
    // The cards become the IP stack's eth0, eth1...; `ip=` configures them.
    net::inet::device::attach(info.cmdline);
    info!("timer: {}, tickless idle", lintel_hal::clock::timer_name());
    let (source, bound) = lintel_hal::clock::counter_rate_source();
    let khz = lintel_hal::clock::counter_hz() / 1000;
    match bound {
        Some(ppm) => info!(
            "clock: {}.{:03} MHz, {source} (within {ppm} ppm)",
            khz / 1000,
            khz % 1000
        ),
        None => info!("clock: {}.{:03} MHz, {source}", khz / 1000, khz % 1000),
    }
    // Polled work of the boot CPU's timer: console input, disk completions, interval timers,
    // network timers and received frames, leap seconds.
    sched::on_tick(fs::tty::poll_input);
    sched::on_tick(drivers::blk::poll);
    sched::on_tick(itimer::tick);
    sched::on_tick(fs::timerfd::tick);
    sched::on_tick(fs::io_uring::tick);
    sched::on_tick(net::inet::tick);
    sched::on_tick(syscall::leap_tick);
    // Work that may wait for the disk runs on kernel threads: the ext4 journal's commit
    // every 5 s.
    fs::ext4::start_commit_thread();
    // Closing the last reference to an open file drops the locks it owns.
    fs::file::set_release_hook(fs::on_release);
    fs::file::set_sigio_hook(fs::fasync::send_sigio);
    proc::set_coredump_hook(coredump::dump);
    fs::file::set_event_hook(fs::notify::file_event);
    // Writes and truncations of regular files obey the writer's RLIMIT_FSIZE (SIGXFSZ).
    fs::file::set_fsize_hooks(proc::fsize_limit, proc::raise_sigxfsz);
    // A session leader's exit hangs up its terminal's foreground group.
    proc::set_session_end_hook(fs::tty::session_ended);
    // System calls from user mode go to the syscall layer's table.
    proc::set_syscall_handler(syscall::dispatch);
    proc::set_task_work(syscall::task_work);
    if info.cmdline.split(' ').any(|w| w == "norandmaps") {
        ASLR.store(false, core::sync::atomic::Ordering::Relaxed);
    }
    let root_disk = match root_option(info.cmdline) {
        Some(name) => match fs::block::rdev_of_name(name) {
            Some(i) => Some((i, info.cmdline.split(' ').any(|w| w == "ro"))),
            None => {
                println!("lintel: root={}: no such disk", name);
                power_off("exit 125");
            }
        },
        None => None,
    };
    if let Err(e) = fs::init(info.initrd, root_disk) {
        println!("lintel: cannot build the root file system: {}", e.name());
        power_off("exit 125");
    }
    let argv = read_list(b"/lintel/argv")
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| alloc::vec![b"/bin/sh".to_vec()]);
    let envp = read_list(b"/lintel/envp")
        .unwrap_or_else(|| DEFAULT_ENV.iter().map(|s| s.to_vec()).collect());

    let root = fs::root();
    let fsctx = proc::FsContext {
        root: root.clone(),
        cwd: root,
        umask: 0o022,
    };
    let mut files = fs::fdtable::FdTable::default();
    let console = fs::file::OpenFile::new(
        fs::tty::TtyFile::open(fs::tty::console_tty(), lintel_abi::fcntl::O_NOCTTY),
        None,
        None,
        O_RDWR,
    );
    for fd in 0..3 {
        files
            .install(fd, &console, false)
            .expect("no memory for the console descriptors at boot");
    }
    let thread = match proc::create_init(fsctx, files) {
        Ok(t) => t,
        Err(e) => {
            println!("lintel: cannot create init: {}", e.name());
            power_off("exit 125");
        }
    };
    fs::tty::attach_console(thread.proc_ref());
    let mut ctx = lintel_hal::UserContext::default();
    let path = argv[0].clone();
    if let Err(e) = exec_first(&thread, &mut ctx, path.clone(), argv, envp) {
        println!(
            "lintel: cannot execute {}: {}",
            alloc::string::String::from_utf8_lossy(&path),
            describe(e)
        );
        let code = if e == Errno::ENOENT { 127 } else { 126 };
        power_off(&alloc::format!("exit {}", code));
    }
    proc::start_thread(thread, ctx, lintel_hal::task::FpuState::initial());
    // The other CPUs join the scheduler, each in its own idle loop.
    lintel_hal::smp::start_scheduling(sched::idle_loop);
    sched::idle_loop()
}

/// Starts the first program. A name without a slash is looked up in the environment's PATH,
/// as the shell that would otherwise have been asked to run it does (`cargo xtask run --
/// python3 -m http.server`); argv[0] stays the name given.
fn exec_first(
    thread: &alloc::sync::Arc<proc::Thread>,
    ctx: &mut lintel_hal::UserContext,
    path: alloc::vec::Vec<u8>,
    argv: alloc::vec::Vec<alloc::vec::Vec<u8>>,
    envp: alloc::vec::Vec<alloc::vec::Vec<u8>>,
) -> Result<(), Errno> {
    if path.contains(&b'/') {
        return exec::execve(thread, ctx, AT_FDCWD, path, argv, envp, true);
    }
    let dirs = envp
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .to_vec();
    let mut last = Errno::ENOENT;
    for dir in dirs.split(|&b| b == b':').filter(|d| !d.is_empty()) {
        let mut full = dir.to_vec();
        full.push(b'/');
        full.extend_from_slice(&path);
        match exec::execve(
            thread,
            ctx,
            AT_FDCWD,
            full,
            argv.clone(),
            envp.clone(),
            true,
        ) {
            Err(Errno::ENOENT) => continue,
            Err(e) => last = e,
            Ok(()) => return Ok(()),
        }
    }
    Err(last)
}

/// Flushes the disks, then powers the machine off reporting `line` to the host.
pub fn power_off(line: &str) -> ! {
    #[cfg(feature = "lockdep")]
    lockdep::dump();
    drivers::blk::stop_sleeping();
    fs::write_back_all();
    drivers::blk::shutdown();
    lintel_hal::power_off(line)
}

static ASLR: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Address-space layout randomization, on unless the command line says `norandmaps`.
pub fn aslr_enabled() -> bool {
    ASLR.load(core::sync::atomic::Ordering::Relaxed)
}

/// Seconds in the kernel without progress before the watchdog reports (Linux's soft-lockup
/// threshold is 20 s; TCG is slow, but nothing legitimate stays 10 s in the kernel).
const WATCHDOG_SECONDS: u64 = 10;

/// Starts the lockup watchdog: `lintel.watchdog=N` sets its timeout in seconds (0: off).
/// `lintel.watchdog_test` then spins in the kernel, interrupts off, for two seconds past the
/// timeout, so the boot test `boot.watchdog` sees a report; only the command line can ask
/// for it, never user space.
fn start_watchdog(cmdline: &str) {
    let seconds = cmdline
        .split(' ')
        .find_map(|w| w.strip_prefix("lintel.watchdog="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(WATCHDOG_SECONDS);
    lintel_hal::watchdog::start(seconds);
    if seconds > 0 && cmdline.split(' ').any(|w| w == "lintel.watchdog_test") {
        let end = time::uptime_ns() + (seconds + 2) * 1_000_000_000;
        while time::uptime_ns() < end {
            core::hint::spin_loop();
        }
    }
}

/// The kernel command line's `root=` device, if any.
fn root_option(cmdline: &str) -> Option<&str> {
    cmdline.split(' ').find_map(|w| w.strip_prefix("root="))
}

fn describe(e: Errno) -> &'static str {
    match e {
        Errno::ENOENT => "No such file or directory (ENOENT)",
        Errno::ENOEXEC => "Exec format error (ENOEXEC)",
        Errno::EACCES => "Permission denied (EACCES)",
        Errno::ENOMEM => "Cannot allocate memory (ENOMEM)",
        Errno::E2BIG => "Argument list too long (E2BIG)",
        Errno::ELOOP => "Too many levels of symbolic links (ELOOP)",
        Errno::ENOTDIR => "Not a directory (ENOTDIR)",
        e => e.name(),
    }
}
