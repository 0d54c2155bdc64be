/* The per-call cost in QEMU's translated blocks (docs/performance.md, "Counting translated
 * blocks"): runs each small system call N times between two marker functions, which
 * tests/bench/blocks.py finds in QEMU's `-d exec,nochain` log to count the kernel's blocks
 * per call. Usage: blocks N [ROWS] (N default 10000; ROWS a comma-separated list of row names,
 * default all: the other rows' windows open and close with nothing in them, so blocks.py's
 * order holds and they count about 0). Static, non-PIE, so the markers' addresses are the ones
 * `nm` prints. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* FUTEX_WAIT | FUTEX_PRIVATE_FLAG (musl-gcc has no linux/futex.h). */
#define FUTEX_WAIT_PRIVATE_OP 128
#define FUTEX_WAKE_PRIVATE_OP 129

/* The switch rows (issue 21): a second thread of this process, started before the window
 * opens and parked on `go` until it does. Each row makes N switches in all: yield_switch, two
 * threads calling sched_yield N/2 times each; futex_handoff, a word passed back and forth
 * through FUTEX_WAIT/FUTEX_WAKE N/2 times (one handoff = one wake and one wait); condvar_handoff,
 * bench.c's futex_pingpong (a mutex and a condition variable) N/2 round trips. pipe_switch (in
 * main) is the same between two processes: a byte back and forth through two pipes N/2 times. */
static volatile int go, word2;
static long rounds;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int turn;

static long futex(volatile int *w, int op, int val) { return syscall(SYS_futex, w, op, val, NULL, NULL, 0); }
static void wait_go(void) {
    while (!go)
        futex(&go, FUTEX_WAIT_PRIVATE_OP, 0);
}
static void start(void) {
    go = 1;
    futex(&go, FUTEX_WAKE_PRIVATE_OP, 1);
}
static void *yielder(void *a) {
    (void)a;
    wait_go();
    for (long i = 0; i < rounds; i++)
        sched_yield();
    return NULL;
}
static void *futex_partner(void *a) {
    (void)a;
    wait_go();
    for (long i = 0; i < rounds; i++) {
        while (word2 == 0)
            futex(&word2, FUTEX_WAIT_PRIVATE_OP, 0);
        word2 = 0;
        futex(&word2, FUTEX_WAKE_PRIVATE_OP, 1);
    }
    return NULL;
}
/* read_devzero_protnone's second thread: parked until the window has closed. */
static void *parker(void *a) {
    (void)a;
    wait_go();
    return NULL;
}
static void *ponger(void *a) {
    (void)a;
    wait_go();
    pthread_mutex_lock(&mu);
    for (long i = 0; i < rounds; i++) {
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        turn = 0;
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* The rows in blocks.py's order (its OPS). */
static const char *const row_names[] = {
    "getppid", "read_devnull", "write_devnull", "read_devzero", "futex_eagain", "pwrite_tmpfs",
    "stat_tmp", "stat_deep", "fstat", "open_close", "pipe_write_read", "splice_pipe_tmpfs",
    "udp_send_recv", "tcp_send_recv", "sigaction", "yield_switch", "futex_handoff",
    "condvar_handoff", "pipe_switch", "file_fault", "tmpfs_read_64k", "ext4_read_64k",
    "tcp_epoll_1", "tcp_epoll_8", "read_devzero_protnone", "epoll_idle_1000", "sendfile_tcp_16k",
};

/* Whether row `op` is asked for in `rows` (NULL: every row). */
static int wanted(const char *rows, int op) {
    if (!rows)
        return 1;
    size_t len = strlen(row_names[op]);
    for (const char *p = rows; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, row_names[op], len) == 0 && (p[len] == ',' || p[len] == 0))
            return 1;
    return 0;
}

__attribute__((noinline)) void blocks_window_open(int op) { __asm__ volatile("" ::"r"(op)); }
__attribute__((noinline)) void blocks_window_close(int op) { __asm__ volatile("" ::"r"(op)); }

static void on_usr2(int s) { (void)s; }

#include "udp_pair.h"

/* A connected TCP pair on 127.0.0.1, Nagle off (bench.c's tcp_pair). */
static int tcp_pair(int fd[2]) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &len))
        return -1;
    fd[1] = socket(AF_INET, SOCK_STREAM, 0);
    if (fd[1] < 0 || connect(fd[1], (struct sockaddr *)&sa, sizeof sa)) return -1;
    fd[0] = accept(l, NULL, NULL);
    if (fd[0] < 0) return -1;
    for (int i = 0; i < 2; i++)
        if (setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) return -1;
    close(l);
    return 0;
}

/* One byte there and back over a socket pair in one process (bench.c's udp_lat and tcp_lat
 * without the echo child: the stack's work per packet without the scheduler's). */
static void sock_there_and_back(int fd[2], char *c) {
    send(fd[0], c, 1, 0);
    recv(fd[1], c, 1, 0);
    send(fd[1], c, 1, 0);
    recv(fd[0], c, 1, 0);
}

/* tcp_epoll_1, tcp_epoll_8 (issue 21, redis over loopback): NPAIRS connected TCP pairs and a
 * listener, the server ends and the listener watched by one epoll instance (redis-server's
 * event loop). One call: a byte sent by client i (round robin), epoll_wait (one event), the
 * server end's recv and reply, the client's recv. The two rows differ only in how many
 * sockets are open and watched. */
#define NPAIRS 8
static int epairs[NPAIRS][2], elisten = -1, epfd[2] = {-1, -1};

static int epoll_pairs(void) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    elisten = socket(AF_INET, SOCK_STREAM, 0);
    if (elisten < 0 || bind(elisten, (struct sockaddr *)&sa, sizeof sa) || listen(elisten, 16))
        return -1;
    for (int k = 0; k < 2; k++) {
        epfd[k] = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = elisten};
        if (epfd[k] < 0 || epoll_ctl(epfd[k], EPOLL_CTL_ADD, elisten, &ev))
            return -1;
    }
    for (int i = 0; i < NPAIRS; i++) {
        if (tcp_pair(epairs[i]))
            return -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        /* epfd[0] watches pair 0 only, epfd[1] all of them. */
        if ((i == 0 && epoll_ctl(epfd[0], EPOLL_CTL_ADD, epairs[i][1], &ev)) ||
            epoll_ctl(epfd[1], EPOLL_CTL_ADD, epairs[i][1], &ev))
            return -1;
    }
    return 0;
}

static void epoll_there_and_back(int ep, int pair, char *c) {
    struct epoll_event ev[NPAIRS + 1];
    send(epairs[pair][0], c, 1, 0);
    if (epoll_wait(ep, ev, NPAIRS + 1, -1) != 1 || ev[0].data.u32 != (unsigned)pair)
        fprintf(stderr, "blocks: epoll_wait gave something else\n");
    recv(epairs[pair][1], c, 1, 0);
    send(epairs[pair][1], c, 1, 0);
    recv(epairs[pair][0], c, 1, 0);
}

/* epoll_idle_1000 (issue 21, a server with many idle connections): one epoll instance
 * watching IDLE idle files (IDLE / 2 eventfds at 0 and the read ends of IDLE / 2 empty pipes)
 * and the read end of one active pipe. One call: a byte written into the active pipe,
 * epoll_wait (one event), the byte read back. Set up only when the row is asked for (it needs
 * RLIMIT_NOFILE raised). */
#define IDLE 1000
static int idle_ep = -1, idle_pipe[2] = {-1, -1};

static int epoll_idle(void) {
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = 4096};
    if (setrlimit(RLIMIT_NOFILE, &rl) && (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 2 * IDLE))
        return -1;
    idle_ep = epoll_create1(0);
    if (idle_ep < 0 || pipe(idle_pipe))
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = IDLE};
    if (epoll_ctl(idle_ep, EPOLL_CTL_ADD, idle_pipe[0], &ev))
        return -1;
    for (int i = 0; i < IDLE; i++) {
        int p[2], fd = -1;
        if (i % 2 == 0)
            fd = eventfd(0, 0);
        else if (pipe(p) == 0)
            fd = p[0];
        ev.data.u32 = i;
        if (fd < 0 || epoll_ctl(idle_ep, EPOLL_CTL_ADD, fd, &ev))
            return -1;
    }
    return 0;
}

static void epoll_idle_call(char *c) {
    struct epoll_event ev[4];
    write(idle_pipe[1], c, 1);
    if (epoll_wait(idle_ep, ev, 4, -1) != 1 || ev[0].data.u32 != IDLE)
        fprintf(stderr, "blocks: epoll_wait gave something else\n");
    read(idle_pipe[0], c, 1);
}

#define TMPFS_MAGIC 0x01021994
#define EXT4_MAGIC 0xEF53
#define BIG 65536
#define BIG_FILE (1 << 20)

/* A file of BIG_FILE bytes in the directory `dir` if it is on a file system of `magic`, read
 * through once so that its pages are cached; -1 if the directory is on another one. */
static int big_file(const char *dir, long magic, const char *name) {
    static char chunk[BIG];
    char path[256];
    struct statfs fs;
    if (statfs(dir, &fs) != 0 || fs.f_type != magic)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    for (int i = 0; i < BIG_FILE / BIG; i++)
        if (pwrite(fd, chunk, BIG, (off_t)i * BIG) != BIG)
            return -1;
    fsync(fd);
    for (int i = 0; i < BIG_FILE / BIG; i++)
        pread(fd, chunk, BIG, (off_t)i * BIG);
    return fd;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    const char *rows = argc > 2 ? argv[2] : NULL;
    int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDONLY);
    char c = 0;
    /* futex_eagain: FUTEX_WAIT on a word that does not hold the value, which fails with EAGAIN
     * at once (an uncontended lock's slow path that lost its race): the futex path that looks
     * up the calling thread. */
    unsigned word = 0;
    /* pwrite_tmpfs: a 1-byte pwrite at offset 0 of a regular tmpfs file (the write lock and
     * the page cache's checks of a regular file's write). */
    int tmp = open("/tmp/blocks.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (tmp < 0)
        tmp = open("/dev/shm/blocks.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    /* The path rows (bench.c's stat and open_close): stat of the tmpfs file (two components,
     * as bench.c's /tmp/bench.file), stat of a file four components deep, fstat of the open
     * file (the stat buffer without the walk), and an open and close of the tmpfs file. */
    struct stat st;
    mkdir("/tmp/blocks.d", 0700);
    mkdir("/tmp/blocks.d/sub", 0700);
    close(open("/tmp/blocks.d/sub/file", O_RDWR | O_CREAT, 0600));
    /* pipe_write_read: a 1-byte write into an empty pipe, then a 1-byte read of it in the same
     * process (no switch): the pipe's page handling without the scheduler's.
     * splice_pipe_tmpfs: a 4096-byte write into the pipe, then splice of those bytes from the
     * pipe to offset 0 of the tmpfs file. */
    static char page[4096];
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    /* udp_send_recv, tcp_send_recv: one byte there and back over a connected pair on
     * 127.0.0.1 (two packets, two sends and two receives per call). */
    int upair[2], tpair[2];
    if (udp_pair_on_lo(upair, NULL) || tcp_pair(tpair) || epoll_pairs()) {
        perror("blocks: socket pair");
        return 1;
    }
    /* sigaction: a handler installed and the old one read back (bench.c's sigaction row,
     * lmbench's lat_sig install); after the first call libc makes one rt_sigaction each. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    /* file_fault: the first read of one byte of each page of a 4 MiB tmpfs file already in
     * memory, mapped MAP_PRIVATE (bench.c's file_page_fault, lmbench's lat_pagefault): one
     * call is one page, the file mapped again (and unmapped) every 1024 pages, so a call's
     * count includes 1/1024 of an mmap and a munmap. */
    enum { MAP_PAGES = 1024 };
    int mapfd = open("/tmp/blocks.map", O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < MAP_PAGES; i++)
        if (write(mapfd, page, sizeof page) != (ssize_t)sizeof page)
            return 1;
    volatile char *map = NULL;
    /* tmpfs_read_64k and ext4_read_64k: a 64 KiB pread at an offset cycling through a 1 MiB
     * file whose pages are all cached (bench.c's tmpfs_read and ext4_read without the
     * first pass). The tmpfs file is on /tmp or /dev/shm, or on a tmpfs mounted for it; the
     * ext4 file on the root if it is ext4 (`cargo xtask run --disk IMAGE`), else on /dev/vda
     * mounted on /mnt. Without one of them its window runs nothing. */
    static char big[BIG];
    int tbig = big_file("/tmp", TMPFS_MAGIC, "blocks.big");
    if (tbig < 0)
        tbig = big_file("/dev/shm", TMPFS_MAGIC, "blocks.big");
    if (tbig < 0) {
        mkdir("/blocks.tmpfs", 0700);
        mount("tmpfs", "/blocks.tmpfs", "tmpfs", 0, NULL);
        tbig = big_file("/blocks.tmpfs", TMPFS_MAGIC, "blocks.big");
    }
    int ebig = big_file("/", EXT4_MAGIC, "blocks.big");
    if (ebig < 0) {
        mkdir("/mnt", 0755);
        mount("/dev/vda", "/mnt", "ext4", 0, NULL);
        ebig = big_file("/mnt", EXT4_MAGIC, "blocks.big");
    }
    if (tbig < 0 || ebig < 0)
        fprintf(stderr, "blocks: no %s file: its window is empty\n", tbig < 0 ? "tmpfs" : "ext4");
    if (wanted(rows, 25) && epoll_idle()) {
        perror("blocks: epoll_idle_1000");
        return 1;
    }
    /* The order is the one blocks.py names: getppid, read_devnull, write_devnull, read_devzero,
     * futex_eagain, pwrite_tmpfs, stat_tmp, stat_deep, fstat, open_close, pipe_write_read,
     * splice_pipe_tmpfs, udp_send_recv, tcp_send_recv, sigaction, then the switch rows:
     * yield_switch, futex_handoff, condvar_handoff, pipe_switch, then file_fault, tmpfs_read_64k,
     * ext4_read_64k, tcp_epoll_1, tcp_epoll_8, read_devzero_protnone (nothing undoes its
     * PROT_NONE page), epoll_idle_1000, sendfile_tcp_16k. A second argument (row names, comma-separated) runs only those rows; the
     * others' windows stay empty and in place. */
    rounds = n / 2;
    for (int op = 0; op < (int)(sizeof row_names / sizeof *row_names); op++) {
        if (!wanted(rows, op)) {
            blocks_window_open(op);
            blocks_window_close(op);
            continue;
        }
        pthread_t t, parked;
        void *(*partner)(void *) = op == 15 ? yielder : op == 16 ? futex_partner : op == 17 ? ponger : NULL;
        int up[2], down[2];
        pid_t child = -1;
        go = 0;
        if (partner && pthread_create(&t, NULL, partner, NULL) != 0)
            return 1;
        if (op == 18) {
            if (pipe(up) < 0 || pipe(down) < 0)
                return 1;
            child = fork();
            if (child == 0) {
                for (long i = 0; i < rounds; i++) {
                    if (read(down[0], &c, 1) != 1)
                        _exit(1);
                    write(up[1], &c, 1);
                }
                _exit(0);
            }
            /* One trip before the window: the child is past fork and blocked in read. */
            write(down[1], &c, 1);
            read(up[0], &c, 1);
        }
        /* read_devzero_protnone (issue 21): read_devzero again, in a process with a second
         * thread (parked) and a page that was written and then made PROT_NONE, where user
         * copies walked the mappings and the direct I/O path stepped aside. Last: nothing
         * undoes the PROT_NONE page. */
        if (op == 24) {
            char *none = mmap(NULL, sizeof page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (none == MAP_FAILED || pthread_create(&parked, NULL, parker, NULL) != 0)
                return 1;
            none[0] = 1;
            if (mprotect(none, sizeof page, PROT_NONE) != 0)
                return 1;
            sched_yield();
        }
        if (partner)
            sched_yield(); /* the partner parks on `go` */
        blocks_window_open(op);
        if (partner)
            start();
        if (op < 15 || op >= 19) {
            for (long i = 0; i < n; i++) {
                switch (op) {
                case 0: syscall(SYS_getppid); break;
                case 1: read(null, &c, 1); break;
                case 2: write(null, &c, 1); break;
                case 3:
                case 24: read(zero, &c, 1); break;
                case 4: syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE_OP, 1, NULL, NULL, 0); break;
                case 5: pwrite(tmp, &c, 1, 0); break;
                case 6: stat("/tmp/blocks.tmp", &st); break;
                case 7: stat("/tmp/blocks.d/sub/file", &st); break;
                case 8: fstat(tmp, &st); break;
                case 9: close(open("/tmp/blocks.tmp", O_RDONLY)); break;
                case 10:
                    write(pfd[1], &c, 1);
                    read(pfd[0], &c, 1);
                    break;
                case 11: {
                    loff_t off = 0;
                    write(pfd[1], page, sizeof page);
                    splice(pfd[0], NULL, tmp, &off, sizeof page, 0);
                    break;
                }
                case 12: sock_there_and_back(upair, &c); break;
                case 13: sock_there_and_back(tpair, &c); break;
                case 14: sigaction(SIGUSR2, &sa, &old); break;
                case 19:
                    if (i % MAP_PAGES == 0) {
                        if (map)
                            munmap((void *)map, MAP_PAGES * sizeof page);
                        map = mmap(NULL, MAP_PAGES * sizeof page, PROT_READ, MAP_PRIVATE, mapfd, 0);
                        if (map == MAP_FAILED)
                            return 1;
                    }
                    c = map[(i % MAP_PAGES) * sizeof page];
                    break;
                case 20:
                case 21: {
                    int fd = op == 20 ? tbig : ebig;
                    if (fd >= 0)
                        pread(fd, big, BIG, (i % (BIG_FILE / BIG)) * (off_t)BIG);
                    break;
                }
                case 22: epoll_there_and_back(epfd[0], 0, &c); break;
                case 23: epoll_there_and_back(epfd[1], (int)(i % NPAIRS), &c); break;
                case 25: epoll_idle_call(&c); break;
                case 26: {
                    /* sendfile_tcp_16k (issue 21): sendfile of 16 KiB of the cached tmpfs file
                     * into the TCP pair, and its reads out of the other end. */
                    off_t off = (i % (BIG_FILE / 16384)) * (off_t)16384;
                    if (tbig >= 0 && sendfile(tpair[1], tbig, &off, 16384) == 16384)
                        for (ssize_t got = 0; got < 16384;) {
                            ssize_t r = read(tpair[0], big, 16384 - got);
                            if (r <= 0)
                                break;
                            got += r;
                        }
                    break;
                }
                }
            }
        } else if (op == 15) {
            for (long i = 0; i < rounds; i++)
                sched_yield();
        } else if (op == 16) {
            for (long i = 0; i < rounds; i++) {
                word2 = 1;
                futex(&word2, FUTEX_WAKE_PRIVATE_OP, 1);
                while (word2 == 1)
                    futex(&word2, FUTEX_WAIT_PRIVATE_OP, 1);
            }
        } else if (op == 17) {
            pthread_mutex_lock(&mu);
            for (long i = 0; i < rounds; i++) {
                turn = 1;
                pthread_cond_signal(&cv);
                while (turn != 0)
                    pthread_cond_wait(&cv, &mu);
            }
            pthread_mutex_unlock(&mu);
        } else if (op == 18) {
            for (long i = 1; i < rounds; i++) {
                write(down[1], &c, 1);
                read(up[0], &c, 1);
            }
        }
        if (op == 19 && map)
            munmap((void *)map, MAP_PAGES * sizeof page);
        blocks_window_close(op);
        if (partner)
            pthread_join(t, NULL);
        if (op == 24) {
            start();
            pthread_join(parked, NULL);
        }
        if (op == 18) {
            close(down[1]);
            waitpid(child, NULL, 0);
            close(down[0]), close(up[0]), close(up[1]);
        }
    }
    printf("blocks: %ld calls each\n", n);
    return 0;
}
