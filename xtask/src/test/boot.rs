//! Boot tests: whole boots of `cargo xtask run`'s contract (output, exit status, keys typed
//! on the console, disks, memory exhaustion). This file is the table of cases and the loop
//! that runs them; their longer guest scripts and disk checks are in boot_fixtures.rs.

use super::boot_fixtures::{
    disk_setup, disk_verify, ext4_held_output, ext4_setup_big, ext4_setup_held, ext4_setup_small,
    ext4_verify_fsck, ext4_verify_workload, DiskFn, DISK_SCRIPT, EXHAUST_CHAIN, EXHAUST_EXEC_CHAIN,
    EXHAUST_FORKBOMB, EXHAUST_MEMORY, EXHAUST_OOM_KILLER, EXHAUST_SYSCTL, EXT4_ENOSPC,
    EXT4_HELD_PRESSURE, EXT4_WORKLOAD, TMPFS_FRAMES,
};
use super::{blockdev, selects, tail, vfat, Tally};
use crate::build::{self, Variant};
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::path::PathBuf;

/// Whole-boot checks of `cargo xtask run`'s contract: output, exit status, failures.
pub(super) fn boot_tests(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    struct Case {
        id: String,
        argv: Vec<String>,
        add: Option<(PathBuf, String)>,
        status: u8,
        output: Vec<String>,
        /// Keys typed on the console, and substrings its output must contain.
        keys: Option<qemu::Keys>,
        contains: Vec<String>,
        /// Substrings its output must not contain.
        lacks: Vec<&'static str>,
        /// A disk image: made by the first function before the boot, checked by the second
        /// after QEMU exits.
        disk: Option<(DiskFn, DiskFn)>,
        /// Guest memory (QEMU -m) when not the default.
        mem: Option<&'static str>,
        /// CPUs (QEMU -smp).
        smp: u32,
        /// Seconds before the boot counts as hung (exit status 124).
        timeout: u64,
    }
    impl Case {
        /// What most cases leave as it is: no program added, nothing typed, no disk, the
        /// default memory, one CPU, no output required, 120 s before the boot counts as hung.
        const DEFAULT: Case = Case {
            id: String::new(),
            argv: Vec::new(),
            add: None,
            status: 0,
            output: Vec::new(),
            keys: None,
            contains: Vec::new(),
            lacks: Vec::new(),
            disk: None,
            mem: None,
            smp: 1,
            timeout: 120,
        };
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cases = vec![
        Case {
            id: "boot.echo".into(),
            argv: s(&["/bin/busybox", "echo", "hi"]),
            status: 0,
            output: s(&["hi"]),
            ..Case::DEFAULT
        },
        Case {
            id: "boot.exit-status".into(),
            argv: s(&["/bin/sh", "-c", "exit 7"]),
            status: 7,
            ..Case::DEFAULT
        },
        // Init is unkillable, as on Linux: SIGKILL and signals it has no handler for do not
        // reach it (a child is killed as usual).
        Case {
            id: "boot.init-unkillable".into(),
            argv: s(&[
                "/bin/sh",
                "-c",
                "kill -9 $$; kill -TERM $$; sh -c 'kill -9 $$'; echo child $?; exit 3",
            ]),
            status: 3,
            contains: vec!["child 137".into()],
            ..Case::DEFAULT
        },
        Case {
            id: "boot.missing-program".into(),
            argv: s(&["/no/such/program"]),
            status: 127,
            output: s(&[
                "lintel: cannot execute /no/such/program: No such file or directory (ENOENT)",
            ]),
            ..Case::DEFAULT
        },
    ];
    // Issue 14's mark: every CPU QEMU gives is online and reported.
    cases.push(Case {
        id: "boot.smp.nproc".into(),
        argv: s(&[
            "/bin/sh",
            "-c",
            "nproc; cat /sys/devices/system/cpu/online; grep -c ^processor /proc/cpuinfo",
        ]),
        status: 0,
        output: s(&["4", "0-3", "4"]),
        smp: 4,
        ..Case::DEFAULT
    });
    // ... and an init that exits at once on four CPUs powers off: before 5a900cb a CPU that
    // had not yet run a thread kept its bring-up root table, and exit waited for ever for it
    // to leave (it printed 4 and hung). A boot takes a few seconds; a hang fails at 60.
    cases.push(Case {
        id: "boot.smp.short-init".into(),
        argv: s(&["/bin/busybox", "nproc"]),
        status: 0,
        output: s(&["4"]),
        smp: 4,
        timeout: 60,
        ..Case::DEFAULT
    });
    let bin = build::ensure_build_dir()?.join("tests/boot");
    for v in [Variant::Musl, Variant::MuslPie, Variant::Glibc] {
        let exe = bin.join(format!("args.{}", v.name()));
        build::compile_c(&root().join("tests/boot/args.c"), v, &exe)?;
        cases.push(Case {
            id: format!("boot.args.{}", v.name()),
            argv: s(&["/args", "a", "b c"]),
            add: Some((exe, "/args".into())),
            status: 3,
            output: s(&["argc=3", "argv[0]=/args", "argv[1]=a", "argv[2]=b c"]),
            ..Case::DEFAULT
        });
    }
    // Issue 20: a program of any kind given to `--add` brings what it needs (musl's or
    // glibc's interpreter and libraries, read from its ELF file; nothing for static-pie)
    // and prints what it prints on this host.
    let libcuse = root().join("tests/boot/libcuse.c");
    for (name, exe) in [
        (
            "musl-dyn",
            add_program_build(&libcuse, &bin, "musl-dyn", &["musl-gcc", "-O2"])?,
        ),
        // Debian's musl-gcc specs make -static-pie a PIE with musl's interpreter.
        (
            "musl-gcc-static-pie",
            add_program_build(
                &libcuse,
                &bin,
                "musl-gcc-spie",
                &["musl-gcc", "-static-pie"],
            )?,
        ),
        ("musl-static-pie", {
            let exe = bin.join("libcuse.musl-pie");
            build::compile_c(&libcuse, Variant::MuslPie, &exe)?;
            exe
        }),
        (
            "glibc-dyn",
            add_program_build(&libcuse, &bin, "glibc-dyn", &["gcc", "-O2"])?,
        ),
    ] {
        let native = std::process::Command::new(&exe)
            .args(["zeta", "alpha b"])
            .env("HOME", "/root")
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let output = String::from_utf8_lossy(&native.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        cases.push(Case {
            id: format!("boot.add.{name}"),
            argv: s(&["/usr/local/bin/libcuse", "zeta", "alpha b"]),
            add: Some((exe, "/usr/local/bin/libcuse".into())),
            status: 0,
            output,
            ..Case::DEFAULT
        });
    }
    // Init survives signals pending from when it had a handler that find SIG_DFL at delivery.
    let pending = bin.join("init_pending.musl");
    build::compile_c(
        &root().join("tests/boot/init_pending.c"),
        Variant::Musl,
        &pending,
    )?;
    cases.push(Case {
        id: "boot.init-pending-default".into(),
        argv: s(&["/init_pending"]),
        add: Some((pending, "/init_pending".into())),
        status: 4,
        contains: vec!["init survived its pending signals".into()],
        ..Case::DEFAULT
    });
    // Relative CLOCK_REALTIME timers count on the monotonic clock across clock changes.
    let realtime_jump = bin.join("realtime_jump.musl");
    build::compile_c(
        &root().join("tests/boot/realtime_jump.c"),
        Variant::Musl,
        &realtime_jump,
    )?;
    cases.push(Case {
        id: "boot.realtime-jump".into(),
        argv: s(&["/realtime_jump"]),
        add: Some((realtime_jump, "/realtime_jump".into())),
        status: 0,
        contains: vec!["realtime-jump: ok".into()],
        ..Case::DEFAULT
    });
    // Exited and reaped tasks give back all their kernel memory.
    let task_leak = bin.join("task_leak.musl");
    build::compile_c(
        &root().join("tests/boot/task_leak.c"),
        Variant::Musl,
        &task_leak,
    )?;
    cases.push(Case {
        id: "boot.task-memory".into(),
        argv: s(&["/task_leak"]),
        add: Some((task_leak, "/task_leak".into())),
        status: 0,
        contains: vec!["no task memory lost".into()],
        ..Case::DEFAULT
    });
    // Kernel stacks are page frames in their own guarded area, not kernel heap (issue 19).
    let kstack_frames = bin.join("kstack_frames.musl");
    build::compile_c(
        &root().join("tests/boot/kstack_frames.c"),
        Variant::Musl,
        &kstack_frames,
    )?;
    cases.push(Case {
        id: "boot.kstack-frames".into(),
        argv: s(&["/kstack_frames"]),
        add: Some((kstack_frames, "/kstack_frames".into())),
        status: 0,
        contains: vec!["kernel stacks are frames".into()],
        ..Case::DEFAULT
    });
    // 1,000 loopback TCP connections at once on a 1 GiB guest (issue 13's capacity mark).
    let conns = bin.join("conns.musl");
    build::compile_c(&root().join("tests/boot/conns.c"), Variant::Musl, &conns)?;
    cases.push(Case {
        id: "boot.net.conns".into(),
        argv: s(&["/conns"]),
        add: Some((conns, "/conns".into())),
        status: 0,
        output: s(&["1000 connections echoed"]),
        mem: Some("1G"),
        ..Case::DEFAULT
    });
    // The interactive shell on the console: line editing, ^C, job control (^Z, fg, bg, jobs,
    // kill %1) and vi, typed as a user would.
    let k = |wait: u64, text: &str| (wait, text.as_bytes().to_vec());
    cases.push(Case {
        id: "boot.console".into(),
        argv: vec![],
        status: 3,
        keys: Some(vec![
            k(2500, "echo $((6*7))\n"),
            k(400, "echo abcX\x7fd\n"),
            k(400, "sleep 100\n"),
            k(800, "\x03"),
            k(400, "echo after-intr\n"),
            k(400, "sleep 100 &\n"),
            k(400, "jobs\n"),
            k(400, "kill %1; wait\n"),
            k(600, "sleep 30\n"),
            k(800, "\x1a"),
            k(500, "bg; jobs\n"),
            k(500, "fg\n"),
            k(800, "\x03"),
            k(400, "vi /tmp/v.txt\n"),
            k(1500, "ihello from vi"),
            k(300, "\x1b"),
            k(1200, ":wq\r"),
            k(1000, "cat /tmp/v.txt\n"),
            k(500, "exit 3\n"),
        ]),
        contains: s(&[
            "42",
            "abcd",
            "^C",
            "after-intr",
            "Running",
            "Stopped",
            "hello from vi",
        ]),
        ..Case::DEFAULT
    });
    cases.push(Case {
        id: "boot.disk".into(),
        argv: s(&["/bin/sh", "-c", DISK_SCRIPT]),
        status: 0,
        output: s(&[
            "size=8388608",
            "first=LINTEL-FIRST-SECTOR",
            "last=LINTEL-LAST-SECTOR",
            "tail=LINTEL-LAST-SECTOR",
            "back=WRITTEN-BY-GUEST",
            "big=262144",
        ]),
        disk: Some((disk_setup, disk_verify)),
        ..Case::DEFAULT
    });
    cases.push(Case {
        id: "boot.ext4-workload".into(),
        argv: s(&["/bin/sh", "-c", EXT4_WORKLOAD]),
        status: 0,
        output: s(&["files=800", "big1=1000000", "workload done"]),
        disk: Some((ext4_setup_big, ext4_verify_workload)),
        ..Case::DEFAULT
    });
    cases.push(Case {
        id: "boot.ext4-enospc".into(),
        argv: s(&["/bin/sh", "-c", EXT4_ENOSPC]),
        status: 0,
        output: s(&[
            "fill=ENOSPC",
            "keep=kept",
            "busybox intact",
            "writable again",
        ]),
        disk: Some((ext4_setup_small, ext4_verify_fsck)),
        ..Case::DEFAULT
    });
    // Issue 21: the unused ext4 files kept for their cached pages give way when memory is
    // short (192 MiB read on a 128 MiB guest, then 72 MiB into a tmpfs, new files, forks):
    // no OOM kill, no ENOMEM, no panic. About 20 s with KVM.
    cases.push(Case {
        id: "boot.ext4-held-pressure".into(),
        argv: s(&["/bin/sh", "-c", EXT4_HELD_PRESSURE]),
        status: 0,
        output: ext4_held_output(),
        lacks: vec!["Out of memory", "panic", "ENOMEM"],
        disk: Some((ext4_setup_held, ext4_verify_fsck)),
        mem: Some("128M"),
        timeout: 90,
        ..Case::DEFAULT
    });
    cases.push(Case {
        id: "boot.loop-part".into(),
        argv: s(&["/bin/sh", "-c", blockdev::LOOP_PART_SCRIPT]),
        status: 0,
        output: s(blockdev::LOOP_PART_OUTPUT),
        disk: Some((blockdev::loop_part_setup, blockdev::loop_part_verify)),
        ..Case::DEFAULT
    });
    let vfat_calls = bin.join("vfat_calls.musl");
    build::compile_c(
        &root().join("tests/boot/vfat_calls.c"),
        Variant::Musl,
        &vfat_calls,
    )?;
    cases.push(Case {
        id: "boot.vfat".into(),
        argv: s(&["/bin/sh", "-c", vfat::VFAT_SCRIPT]),
        add: Some((vfat_calls, "/vfat_calls".into())),
        status: 0,
        output: vfat::vfat_output(),
        disk: Some((vfat::vfat_setup, vfat::vfat_verify)),
        ..Case::DEFAULT
    });
    // `--add` of a dynamically linked Debian program brings its interpreter and libraries.
    cases.push(Case {
        id: "boot.args.dynamic-ls".into(),
        argv: s(&["/usr/bin/ls", "-1d", "/tests", "/lintel"]),
        add: Some((PathBuf::from("/usr/bin/ls"), "/usr/bin/ls".into())),
        status: 0,
        output: s(&["/lintel", "/tests"]),
        ..Case::DEFAULT
    });
    // Exhaustion: runaway process creation by root on a small guest ends with fork failing
    // (EAGAIN from threads-max, or ENOMEM), never a kernel panic, and the system works after.
    // The OOM killer's victim is logged on the console, as Linux logs it.
    let oom_log: &[&str] = &["Out of memory: Killed process"];
    let exhaust: [(&str, &str, &[&str], &[&str]); 6] = [
        (
            "boot.exhaust.chain",
            EXHAUST_CHAIN,
            &["applet-ok", "fork-refused", "final-ok"],
            &[],
        ),
        (
            "boot.exhaust.forkbomb",
            EXHAUST_FORKBOMB,
            &[
                "bomb-stopped",
                "bomb-status=137",
                "fork-refused",
                "final-ok",
            ],
            &[],
        ),
        (
            "boot.exhaust.exec-chain",
            EXHAUST_EXEC_CHAIN,
            &["fork-refused", "final-ok"],
            &[],
        ),
        (
            "boot.exhaust.sysctl",
            EXHAUST_SYSCTL,
            &[
                "pid_max=32768",
                "now=40",
                "too-small-refused",
                "bounded",
                "fork-refused",
                "pid-wrapped",
                "final-ok",
            ],
            &[],
        ),
        (
            "boot.exhaust.memory",
            EXHAUST_MEMORY,
            &[
                "dd-big=1",
                "dd-status=137",
                "tmpfs-full",
                "1000000",
                "tmpfs-again",
                "final-ok",
            ],
            oom_log,
        ),
        (
            "boot.exhaust.oom-killer",
            EXHAUST_OOM_KILLER,
            &[
                "big-ready",
                "small-done 50000000",
                "big-status=137",
                "final-ok",
            ],
            oom_log,
        ),
    ];
    for (id, script, expect, logged) in exhaust {
        cases.push(Case {
            id: id.into(),
            argv: s(&["/bin/sh", "-c", script]),
            status: 0,
            output: s(expect),
            contains: s(logged),
            mem: Some("128M"),
            ..Case::DEFAULT
        });
    }
    // Fork with page frames nearly exhausted fails with ENOMEM and leaves the frame reserve
    // free (issue 19): nobody is OOM-killed, fork works again once memory is back.
    let fork_reserve = bin.join("fork_reserve.musl");
    build::compile_c(
        &root().join("tests/boot/fork_reserve.c"),
        Variant::Musl,
        &fork_reserve,
    )?;
    cases.push(Case {
        id: "boot.exhaust.fork-reserve".into(),
        argv: s(&["/fork_reserve"]),
        add: Some((fork_reserve, "/fork_reserve".into())),
        status: 0,
        output: s(&[
            "fork-refused",
            "reserve-kept",
            "children-alive-until-killed",
            "fork-again",
        ]),
        mem: Some("128M"),
        ..Case::DEFAULT
    });
    // Issue 18: tmpfs data lives in page frames, not the kernel heap (a quarter of RAM).
    cases.push(Case {
        id: "boot.tmpfs-frames".into(),
        argv: s(&["/bin/sh", "-c", TMPFS_FRAMES]),
        status: 0,
        output: s(&[
            "written",
            "memfree-down",
            "shmem-counted",
            "df-used 204800",
            "memfree-back",
            "df-used 0",
            "final-ok",
        ]),
        mem: Some("512M"),
        ..Case::DEFAULT
    });
    // ... so a 300 MB initramfs unpacks into the tmpfs root of a 2 GiB guest (ENOSPC when
    // tmpfs was capped by the heap). The file is a hole with a mark at its end.
    if selects(filter, "boot.initramfs-big") {
        let big = build::ensure_build_dir()?.join("initramfs-big");
        let f = std::fs::File::create(&big).map_err(|e| e.to_string())?;
        f.set_len(300 << 20).map_err(|e| e.to_string())?;
        std::os::unix::fs::FileExt::write_at(&f, b"END", (300 << 20) - 3)
            .map_err(|e| e.to_string())?;
        cases.push(Case {
            id: "boot.initramfs-big".into(),
            argv: s(&["/bin/sh", "-c", "wc -c < /big; tail -c 3 /big; echo"]),
            add: Some((big, "/big".into())),
            status: 0,
            output: s(&["314572800", "END"]),
            mem: Some("2G"),
            ..Case::DEFAULT
        });
    }
    let kernel = build::kernel()?;
    for (n, c) in cases.iter().enumerate() {
        if !selects(filter, &c.id) {
            continue;
        }
        let mut img = build::base_image()?;
        if let Some((h, g)) = &c.add {
            img.add_program(h, g)?;
        }
        build::set_launch(&mut img, &c.argv);
        let disk = match &c.disk {
            Some((setup, _)) => {
                let p = build::ensure_build_dir()?
                    .join(format!("disk-{}-boot{n}.img", std::process::id()));
                setup(&p)?;
                Some(p)
            }
            None => None,
        };
        let mut opts = RunOpts {
            kvm,
            timeout: Some(c.timeout),
            disk: disk.clone(),
            ..RunOpts::default()
        };
        if let Some(m) = c.mem {
            opts.mem = m.into();
        }
        opts.smp = c.smp;
        let (outcome, out) = qemu::boot_typed(
            &opts,
            &kernel,
            &img,
            &format!("boot{n}"),
            true,
            c.keys.clone(),
        )?;
        let disk_check = match (&c.disk, &disk) {
            (Some((_, verify)), Some(p)) => {
                let r = verify(p);
                let _ = std::fs::remove_file(p);
                r
            }
            _ => Ok(()),
        };
        let absent: Vec<&String> = c
            .contains
            .iter()
            .filter(|w| !out.contains(w.as_str()))
            .collect();
        let present = c.lacks.iter().find(|w| out.contains(*w));
        let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
        let missing: Vec<&String> = c
            .output
            .iter()
            .filter(|want| !lines.contains(&want.as_str()))
            .collect();
        if outcome != Outcome::Exit(c.status) {
            t.fail(
                &c.id,
                &format!(
                    "expected exit {}, got {}; console: {}",
                    c.status,
                    qemu::describe(&outcome),
                    tail(&out, 4)
                ),
            );
        } else if let Some(w) = absent.first() {
            t.fail(
                &c.id,
                &format!("console output lacks {:?}; console: {}", w, tail(&out, 6)),
            );
        } else if let Some(w) = present {
            t.fail(
                &c.id,
                &format!("console output has {:?}; console: {}", w, tail(&out, 6)),
            );
        } else if !missing.is_empty() {
            t.fail(
                &c.id,
                &format!(
                    "missing output line {:?}; console: {}",
                    missing[0],
                    tail(&out, 4)
                ),
            );
        } else if let Err(e) = disk_check {
            t.fail(&c.id, &format!("disk image after power-off: {e}"));
        } else {
            t.pass(&c.id);
        }
    }
    Ok(())
}

/// Compiles `src` into `dir/libcuse.NAME` with the compiler command `cc`.
fn add_program_build(
    src: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    cc: &[&str],
) -> Result<PathBuf, String> {
    let out = dir.join(format!("libcuse.{name}"));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (prog, args) = cc.split_first().ok_or("no compiler")?;
    let o = std::process::Command::new(prog)
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(src)
        .output()
        .map_err(|e| format!("{prog}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{prog}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(out)
}
