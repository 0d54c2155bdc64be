#!/usr/bin/env python3
"""Counts the kernel's translated blocks per call from QEMU's `-d exec,nochain` log while
tests/bench/blocks.c runs (docs/performance.md, "Counting translated blocks").

    blocks.py KERNEL_ELF BLOCKS_BINARY LOG [N] [--top K]

LOG is the file or FIFO QEMU writes (`-D LOG`); N the calls per window (blocks.c's argument,
default 10000). blocks.c runs only the rows named in its optional second argument; the others'
windows stay empty (0 blocks) and in place, so OPS below names them all in blocks.c's order.
Only guest addresses in the kernel's half (>= 0xffff800000000000) between the
first block of `blocks_window_open` and that of `blocks_window_close` count, so user code, boot
and the program's start-up do not. Prints blocks per call for each window and the K functions
(default 12) that ran most blocks in it."""
import bisect
import subprocess
import sys
from collections import Counter

OPS = [
    "getppid",
    "read_devnull",
    "write_devnull",
    "read_devzero",
    "futex_eagain",
    "pwrite_tmpfs",
    "stat_tmp",
    "stat_deep",
    "fstat",
    "open_close",
    "pipe_write_read",
    "splice_pipe_tmpfs",
    "udp_send_recv",
    "tcp_send_recv",
    "sigaction",
    "yield_switch",
    "futex_handoff",
    "condvar_handoff",
    "pipe_switch",
    "file_fault",
    "tmpfs_read_64k",
    "ext4_read_64k",
    "tcp_epoll_1",
    "tcp_epoll_8",
    "read_devzero_protnone",
    "epoll_idle_1000",
    "sendfile_tcp_16k",
]
KERNEL_HALF = 0xFFFF800000000000


def symbols(elf, demangle):
    args = ["nm", "-n"] + (["-C"] if demangle else []) + [elf]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        # `.L` names are assembler-local labels (the riscv64 toolchain keeps them): they would
        # take the place of the functions they sit in.
        if len(parts) == 3 and parts[1] in "tTwW" and not parts[2].startswith(".L"):
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    return addrs, names


def main():
    argv = [a for a in sys.argv[1:]]
    top = 12
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        del argv[i : i + 2]
    dump = None
    if "--dump" in argv:
        i = argv.index("--dump")
        dump = argv[i + 1]
        del argv[i : i + 2]
    kernel, user, log = argv[:3]
    n = int(argv[3]) if len(argv) > 3 else 10000
    uaddrs, unames = symbols(user, False)
    open_pc = "%016x" % uaddrs[unames.index("blocks_window_open")]
    close_pc = "%016x" % uaddrs[unames.index("blocks_window_close")]
    windows = []  # Counter of kernel pcs per window
    cur = None
    with open(log, "r", errors="replace") as f:
        for line in f:
            if not line.startswith("Trace"):
                continue
            try:
                pc = line.split("/", 2)[1]
            except IndexError:
                continue
            if pc == open_pc:
                cur = Counter()
            elif pc == close_pc:
                if cur is not None:
                    windows.append(cur)
                cur = None
            elif cur is not None and pc[0] == "f" and int(pc, 16) >= KERNEL_HALF:
                cur[pc] += 1
    kaddrs, knames = symbols(kernel, True)
    if dump:
        # Per-address counts with their source lines (addr2line), for a closer look.
        pcs = sorted({pc for w in windows for pc in w})
        out = subprocess.run(
            ["addr2line", "-a", "-f", "-C", "-i", "-e", kernel, *("0x" + pc for pc in pcs)],
            capture_output=True, text=True
        ).stdout if pcs else ""
        with open(dump, "w") as d:
            for i, w in enumerate(windows):
                d.write("window %d\n" % i)
                for pc in sorted(w):
                    d.write("%s %d\n" % (pc, w[pc]))
            d.write("addr2line\n" + out)
    for i, w in enumerate(windows):
        name = OPS[i] if i < len(OPS) else "window%d" % i
        total = sum(w.values())
        print("%-14s %8.1f kernel blocks per call (%d in %d calls)" % (name, total / n, total, n))
        by_sym = Counter()
        for pc, c in w.items():
            a = int(pc, 16)
            j = bisect.bisect_right(kaddrs, a) - 1
            sym = knames[j] if j >= 0 else "?"
            by_sym[sym] += c
        for sym, c in by_sym.most_common(top):
            print("    %6.1f  %s" % (c / n, sym[:150]))


if __name__ == "__main__":
    main()
