/* Lintel's benchmark set, in the spirit of lmbench. Runs the same on Lintel and on Linux (as
 * the first process of an initramfs) and prints one line per benchmark:
 *   BENCH <name> <value> <unit>      or      BENCH <name> n/a <reason>
 * Each benchmark sizes its iteration count to run about TARGET_NS, and reports the median of
 * ROUNDS rounds. With the argument "quick" every benchmark runs a handful of iterations (for
 * the test suite, which checks that the command works, never the timings). With "scaling"
 * (booted with several CPUs) it prints only the scaling rows: a fixed amount of work split
 * over 1, 2 and 4 threads or processes, in milliseconds of wall time. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int quick;
/* "only=A,B": run only the rows whose names contain A or B (cargo xtask bench --filter). */
static const char *only;
static int want(const char *name) {
    if (!only) return 1;
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char piece[64];
        if (n > 0 && n < sizeof piece) {
            memcpy(piece, p, n);
            piece[n] = 0;
            if (strstr(name, piece)) return 1;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}
/* Set by a benchmark whose iterations do more than one operation each (b_ctx). */
static double ctx_hops_scale = 1;
static long long target_ns = 200000000; /* per round */
#define ROUNDS 5

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef int (*bench_fn)(long iters); /* returns 0, or -1 when it cannot run */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nanoseconds per iteration: calibrate, then the median of ROUNDS rounds. */
static double measure(bench_fn fn, long *iters_out) {
    long iters = 1;
    if (!quick) {
        for (;;) {
            long long t0 = now_ns();
            if (fn(iters) != 0) return -1;
            long long dt = now_ns() - t0;
            if (dt > target_ns / 4 || iters > (1L << 28)) {
                iters = (long)((double)iters * target_ns / (dt > 0 ? dt : 1));
                if (iters < 1) iters = 1;
                break;
            }
            iters *= 4;
        }
    } else {
        iters = 3;
    }
    double r[ROUNDS];
    int rounds = quick ? 1 : ROUNDS;
    for (int i = 0; i < rounds; i++) {
        long long t0 = now_ns();
        if (fn(iters) != 0) return -1;
        r[i] = (double)(now_ns() - t0) / iters / ctx_hops_scale;
    }
    ctx_hops_scale = 1;
    qsort(r, rounds, sizeof r[0], cmp_double);
    *iters_out = iters;
    return r[rounds / 2];
}

static void report(const char *name, bench_fn fn, const char *unit, double scale) {
    if (!want(name)) return;
    long iters = 0;
    double ns = measure(fn, &iters);
    if (ns < 0) {
        printf("BENCH %s n/a %s\n", name, strerror(errno));
    } else {
        printf("BENCH %s %.3f %s\n", name, ns * scale, unit);
    }
    fflush(stdout);
}

static int devnull = -1;

static int b_getppid(long n) {
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    return 0;
}
static int b_read_null(long n) {
    char c;
    for (long i = 0; i < n; i++)
        if (read(devnull, &c, 1) < 0) return -1;
    return 0;
}
static int b_write_null(long n) {
    char c = 0;
    for (long i = 0; i < n; i++)
        if (write(devnull, &c, 1) != 1) return -1;
    return 0;
}
static int b_open_close(long n) {
    for (long i = 0; i < n; i++) {
        int fd = open("/tmp/bench.file", O_RDONLY);
        if (fd < 0) return -1;
        close(fd);
    }
    return 0;
}
static int b_stat(long n) {
    struct stat st;
    for (long i = 0; i < n; i++)
        if (stat("/tmp/bench.file", &st) != 0) return -1;
    return 0;
}
static int b_fork_exit(long n) {
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) return -1;
        if (p == 0) _exit(0);
        waitpid(p, NULL, 0);
    }
    return 0;
}
static char self[256];
static int b_fork_exec(long n) {
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) return -1;
        if (p == 0) {
            char *argv[] = {self, "exit", NULL};
            execve(self, argv, environ);
            _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    }
    return 0;
}
static int b_spawn(long n) {
    for (long i = 0; i < n; i++) {
        pid_t p;
        char *argv[] = {self, "exit", NULL};
        if (posix_spawn(&p, self, NULL, NULL, argv, environ) != 0) return -1;
        waitpid(p, NULL, 0);
    }
    return 0;
}
static int b_pipe_pingpong(long n) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) return -1;
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(a[1]);
        close(b[0]);
        while (read(a[0], &c, 1) == 1) write(b[1], &c, 1);
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    char c = 'x';
    for (long i = 0; i < n; i++) {
        write(a[1], &c, 1);
        read(b[0], &c, 1);
    }
    close(a[1]);
    waitpid(p, NULL, 0);
    close(b[0]);
    return 0;
}
#define CHUNK 65536
static char buf[CHUNK];
static int tcp_pair(int fd[2]);
/* Moves n chunks through a pipe, a Unix socket pair (sock 1) or a loopback TCP connection
 * (sock 2) to a child that drains them. */
/* A child that reads fd[0] to its end (fd[1] closed in it); fd[0] closed in the caller. */
static pid_t drain_child(int fd[2]) {
    pid_t p = fork();
    if (p == 0) {
        close(fd[1]);
        while (read(fd[0], buf, CHUNK) > 0) {
        }
        _exit(0);
    }
    close(fd[0]);
    return p;
}
static int stream_bw(long n, int sock) {
    int fd[2];
    if (sock == 2 ? tcp_pair(fd) : sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, fd) : pipe(fd))
        return -1;
    pid_t p = drain_child(fd);
    for (long i = 0; i < n; i++) {
        size_t off = 0;
        while (off < CHUNK) {
            ssize_t w = write(fd[1], buf + off, CHUNK - off);
            if (w <= 0) return -1;
            off += w;
        }
    }
    close(fd[1]);
    waitpid(p, NULL, 0);
    return 0;
}
static int b_pipe_bw(long n) { return stream_bw(n, 0); }
static int b_unix_bw(long n) { return stream_bw(n, 1); }
static int b_page_fault(long n) {
    size_t len = (size_t)n * 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -1;
    for (long i = 0; i < n; i++) m[i * 4096] = 1;
    munmap(m, len);
    return 0;
}
static int b_mmap(long n) {
    for (long i = 0; i < n; i++) {
        void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return -1;
        munmap(m, 1 << 20);
    }
    return 0;
}
static int b_create_delete(long n) {
    for (long i = 0; i < n; i++) {
        int fd = open("/tmp/bench.tmp", O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) return -1;
        close(fd);
        unlink("/tmp/bench.tmp");
    }
    return 0;
}
/* The file of the sequential write/read benchmarks: on tmpfs, then on the ext4 disk, where a
 * write round ends with fsync so the data has reached the disk on both kernels. */
static const char *big_path = "/tmp/bench.big";
static int big_fsync;
static int b_file_write(long n) {
    int fd = open(big_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) return -1;
    for (long i = 0; i < n; i++)
        if (write(fd, buf, CHUNK) != CHUNK) return -1;
    if (big_fsync && fsync(fd) != 0) return -1;
    close(fd);
    return 0;
}
static int b_file_read(long n) {
    int fd = open(big_path, O_RDONLY);
    if (fd < 0) return -1;
    long done = 0;
    while (done < n) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0) return -1;
        if (r == 0) lseek(fd, 0, SEEK_SET);
        else done++;
    }
    close(fd);
    return 0;
}
static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }
static int b_signal(long n) {
    signal(SIGUSR1, on_usr1);
    for (long i = 0; i < n; i++) kill(getpid(), SIGUSR1);
    return 0;
}
static void *nothing(void *p) { return p; }
static int b_thread(long n) {
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0) return -1;
        pthread_join(t, NULL);
    }
    return 0;
}
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn, total;
static void *ponger(void *p) {
    (void)p;
    pthread_mutex_lock(&mu);
    for (long i = 0; i < total; i++) {
        while (turn != 1) pthread_cond_wait(&cv, &mu);
        turn = 0;
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}
static int b_futex_pingpong(long n) {
    pthread_t t;
    turn = 0;
    total = n;
    if (pthread_create(&t, NULL, ponger, NULL) != 0) return -1;
    pthread_mutex_lock(&mu);
    for (long i = 0; i < n; i++) {
        turn = 1;
        pthread_cond_signal(&cv);
        while (turn != 0) pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    return 0;
}

/* lmbench's lat_syscall read: one byte from /dev/zero (copied to user memory). */
static int devzero = -1;
static int b_read_zero(long n) {
    char c;
    for (long i = 0; i < n; i++)
        if (read(devzero, &c, 1) != 1) return -1;
    return 0;
}
static int b_fstat(long n) {
    struct stat st;
    for (long i = 0; i < n; i++)
        if (fstat(devnull, &st) != 0) return -1;
    return 0;
}
/* lmbench's lat_sig install: a handler installed (and the old one read back). */
static void on_usr2(int s) { (void)s; }
static int b_sigaction(long n) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    for (long i = 0; i < n; i++)
        if (sigaction(SIGUSR2, &sa, &old) != 0) return -1;
    return 0;
}
/* lmbench's lat_proc shell: fork, exec /bin/sh -c, which runs the benchmark binary. */
static int b_shell(long n) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "%s exit", self);
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) return -1;
        if (p == 0) {
            char *argv[] = {"/bin/sh", "-c", cmd, NULL};
            execve("/bin/sh", argv, environ);
            _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            errno = ENOENT;
            return -1;
        }
    }
    return 0;
}
/* One byte there and back over a Unix stream socket pair between two processes. */
static int b_unix_pingpong(long n) {
    int fd[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd)) return -1;
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(fd[0]);
        while (read(fd[1], &c, 1) == 1) write(fd[1], &c, 1);
        _exit(0);
    }
    close(fd[1]);
    char c = 'x';
    for (long i = 0; i < n; i++) {
        write(fd[0], &c, 1);
        read(fd[0], &c, 1);
    }
    close(fd[0]);
    waitpid(p, NULL, 0);
    return 0;
}
/* lmbench's lat_ctx: a token goes round a ring of ctx_procs processes joined by pipes; each
 * sums its own ctx_ws bytes of memory before passing it on. One iteration is one hop (a
 * context switch plus a 1-byte pipe write and read); the pipe cost is not subtracted. */
static int ctx_procs, ctx_ws;
static volatile long ctx_sink;
static void ctx_touch(const long *ws, int words) {
    long sum = 0;
    for (int i = 0; i < words; i++) sum += ws[i];
    ctx_sink += sum;
}
static int b_ctx(long n) {
    int p[8][2], np = ctx_procs;
    pid_t kids[8];
    for (int i = 0; i < np; i++)
        if (pipe(p[i])) return -1;
    long laps = (n + np - 1) / np;
    int words = ctx_ws / (int)sizeof(long);
    for (int k = 1; k < np; k++) {
        kids[k] = fork();
        if (kids[k] < 0) return -1;
        if (kids[k] == 0) {
            long *ws = words ? calloc(words, sizeof(long)) : NULL;
            char c;
            for (long l = 0; l < laps; l++) {
                if (read(p[k][0], &c, 1) != 1) _exit(1);
                ctx_touch(ws, words);
                if (write(p[(k + 1) % np][1], &c, 1) != 1) _exit(1);
            }
            _exit(0);
        }
    }
    long *ws = words ? calloc(words, sizeof(long)) : NULL;
    char c = 'x';
    int ok = 0;
    for (long l = 0; l < laps; l++) {
        if (write(p[1 % np][1], &c, 1) != 1 || read(p[0][0], &c, 1) != 1) {
            ok = -1;
            break;
        }
        ctx_touch(ws, words);
    }
    for (int i = 0; i < np; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    for (int k = 1; k < np; k++) waitpid(kids[k], NULL, 0);
    free(ws);
    /* measure() divides by n: scale so the figure is per hop. */
    ctx_hops_scale = (double)(laps * np) / n;
    return ok;
}
/* Pages of a file on tmpfs mapped private and read once each: every touch is a fault on a
 * page already in the page cache (lmbench's lat_pagefault). */
static const char *map_path = "/tmp/bench.map";
#define MAP_LEN (4 << 20)
static int b_file_fault(long n) {
    int fd = open(map_path, O_RDONLY);
    if (fd < 0) return -1;
    long pages = MAP_LEN / 4096, done = 0;
    while (done < n) {
        volatile char *m = mmap(NULL, MAP_LEN, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) return -1;
        for (long i = 0; i < pages && done < n; i++, done++) (void)m[i * 4096];
        munmap((void *)m, MAP_LEN);
    }
    close(fd);
    return 0;
}
/* mmap + munmap of the 4 MiB file, one byte touched (lmbench's lat_mmap touches the ends). */
static int b_mmap_file(long n) {
    int fd = open(map_path, O_RDONLY);
    if (fd < 0) return -1;
    for (long i = 0; i < n; i++) {
        volatile char *m = mmap(NULL, MAP_LEN, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) return -1;
        (void)m[0];
        (void)m[MAP_LEN - 1];
        munmap((void *)m, MAP_LEN);
    }
    close(fd);
    return 0;
}
/* lmbench's bw_mem rd, wr and bcopy on 8 MiB (touched once before the rounds). */
#define MEM_LEN (8 << 20)
static long *mem_a, *mem_b;
static int b_mem_rd(long n) {
    long sum = 0;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < MEM_LEN / 8; j += 4) sum += mem_a[j] + mem_a[j + 1] + mem_a[j + 2] + mem_a[j + 3];
    ctx_sink += sum;
    return 0;
}
static int b_mem_wr(long n) {
    for (long i = 0; i < n; i++)
        for (long j = 0; j < MEM_LEN / 8; j += 4) mem_a[j] = mem_a[j + 1] = mem_a[j + 2] = mem_a[j + 3] = i;
    return 0;
}
static int b_mem_cp(long n) {
    for (long i = 0; i < n; i++) {
        memcpy(mem_b, mem_a, MEM_LEN);
        __asm__ volatile("" ::"r"(mem_b) : "memory");
    }
    return 0;
}
/* lmbench's bw_file_rd open2close: open, read the whole 4 MiB file in 64 KiB reads, close. */
static int b_file_open2close(long n) {
    for (long i = 0; i < n; i++) {
        int fd = open(map_path, O_RDONLY);
        if (fd < 0) return -1;
        ssize_t r;
        while ((r = read(fd, buf, CHUNK)) > 0) {
        }
        close(fd);
        if (r < 0) return -1;
    }
    return 0;
}
/* lmbench's lat_fs: create `n` files of fs_size bytes in a fresh directory, then delete them;
 * the two phases are timed apart. */
static int fs_size;
static double fs_create_ns, fs_delete_ns;
static int fs_round(long n) {
    char name[64];
    mkdir("/tmp/fs", 0755);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "/tmp/fs/%ld", i);
        int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) return -1;
        if (fs_size && write(fd, buf, fs_size) != fs_size) return -1;
        close(fd);
    }
    long long t1 = now_ns();
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "/tmp/fs/%ld", i);
        if (unlink(name)) return -1;
    }
    long long t2 = now_ns();
    fs_create_ns = (double)(t1 - t0) / n;
    fs_delete_ns = (double)(t2 - t1) / n;
    return 0;
}
static void fs_rows(int kib) {
    long files = quick ? 3 : 1000;
    double c[ROUNDS], d[ROUNDS];
    int rounds = quick ? 1 : ROUNDS;
    fs_size = kib * 1024;
    char cname[32], dname[32];
    snprintf(cname, sizeof cname, "fs_create_%dk", kib);
    snprintf(dname, sizeof dname, "fs_delete_%dk", kib);
    if (!want(cname) && !want(dname)) return;
    for (int i = 0; i < rounds; i++) {
        if (fs_round(files)) {
            printf("BENCH fs_create_%dk n/a %s\nBENCH fs_delete_%dk n/a %s\n", kib,
                   strerror(errno), kib, strerror(errno));
            return;
        }
        c[i] = fs_create_ns;
        d[i] = fs_delete_ns;
    }
    qsort(c, rounds, sizeof c[0], cmp_double);
    qsort(d, rounds, sizeof d[0], cmp_double);
    printf("BENCH fs_create_%dk %.3f us\n", kib, c[rounds / 2] / 1e3);
    printf("BENCH fs_delete_%dk %.3f us\n", kib, d[rounds / 2] / 1e3);
    fflush(stdout);
}
/* Reports a bandwidth row: `bytes` moved per iteration of fn. */
static void report_bw(const char *name, bench_fn fn, double bytes) {
    if (!want(name)) return;
    long it;
    double ns = measure(fn, &it);
    if (ns > 0) printf("BENCH %s %.1f MiB/s\n", name, (bytes / 1048576.0) / (ns / 1e9));
    else printf("BENCH %s n/a %s\n", name, strerror(errno));
    fflush(stdout);
}

/* Loopback networking (127.0.0.1). A receive that waits longer than this fails (EAGAIN)
 * instead of hanging the run, so a lost packet or a missed wake-up shows as n/a. */
static const struct timeval net_timeout = {10, 0};

/* A listening TCP socket on 127.0.0.1 and an ephemeral port, whose address goes to *sa. */
static int tcp_listener(struct sockaddr_in *sa) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0) return -1;
    socklen_t len = sizeof *sa;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)sa, sizeof *sa) || listen(l, 16) ||
        getsockname(l, (struct sockaddr *)sa, &len)) {
        close(l);
        return -1;
    }
    return l;
}
/* A connected TCP pair over loopback (fd[0] accepted, fd[1] connecting), Nagle off on both
 * ends as latency benchmarks do, receives bounded by net_timeout. */
static int tcp_pair(int fd[2]) {
    struct sockaddr_in sa;
    int l = tcp_listener(&sa), one = 1;
    if (l < 0) return -1;
    fd[0] = -1;
    fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd[1] < 0 || connect(fd[1], (struct sockaddr *)&sa, sizeof sa)) goto fail;
    fd[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd[0] < 0) goto fail;
    for (int i = 0; i < 2; i++)
        if (setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
            setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &net_timeout, sizeof net_timeout))
            goto fail;
    close(l);
    return 0;
fail:;
    int err = errno;
    close(fd[0]);
    close(fd[1]);
    close(l);
    errno = err;
    return -1;
}
#include "udp_pair.h"
static int udp_pair(int fd[2]) { return udp_pair_on_lo(fd, &net_timeout); }
/* One byte there and back between this process and an echo child over a connected socket
 * pair. The pair and the child are set up once for all rounds (net_lat): on Linux under TCG
 * a fork and a connection cost about 7 ms, which per round would swamp a short round and
 * make the calibration erratic. */
static int echo_fd = -1;
static int b_sock_pingpong(long n) {
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (send(echo_fd, &c, 1, MSG_NOSIGNAL) != 1) return -1;
        ssize_t r = recv(echo_fd, &c, 1, 0);
        if (r != 1) {
            if (r == 0) errno = ECONNRESET; /* the echo child went away */
            return -1;
        }
    }
    return 0;
}
static void net_lat(const char *name, int udp) {
    if (!want(name)) return;
    int fd[2];
    if (udp ? udp_pair(fd) : tcp_pair(fd)) {
        printf("BENCH %s n/a %s\n", name, strerror(errno));
        return;
    }
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(fd[0]);
        /* Until end of file (TCP) or an empty datagram (UDP). */
        while (recv(fd[1], &c, 1, 0) == 1)
            if (send(fd[1], &c, 1, MSG_NOSIGNAL) != 1) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    echo_fd = fd[0];
    if (p < 0) printf("BENCH %s n/a %s\n", name, strerror(errno));
    else report(name, b_sock_pingpong, "us", 1e-3);
    if (udp) send(fd[0], "", 0, 0);
    close(fd[0]);
    if (p > 0) waitpid(p, NULL, 0);
}
static int b_tcp_bw(long n) { return stream_bw(n, 2); }
/* connect + accept + close of both ends (the client first, as a client usually does). */
static int b_tcp_connect(long n) {
    struct sockaddr_in sa;
    int l = tcp_listener(&sa);
    if (l < 0) return -1;
    int c = -1;
    for (long i = 0; i < n; i++) {
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa)) goto fail;
        int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0) goto fail;
        close(c);
        close(a);
    }
    close(l);
    return 0;
fail:;
    int err = errno;
    close(c);
    close(l);
    errno = err;
    return -1;
}
/* Linux boots with lo down (Lintel's is always up): bring it up, as an init script would. */
static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) perror("bench: cannot bring lo up");
    }
    if (s >= 0) close(s);
}

/* The ext4 disk (/dev/vda, made empty by the xtask) mounted on /mnt; on Linux the drivers are
 * modules, loaded first in the order /modules/order lists them. Returns why not, or NULL. */
static const char *mount_disk(void) {
    /* Run by hand on a host, /dev/vda may well be the host's own disk. */
    if (getpid() != 1) return "not the first process of a benchmark machine";
    FILE *order = fopen("/modules/order", "r");
    char name[128], path[256];
    while (order && fscanf(order, "%127s", name) == 1) {
        snprintf(path, sizeof path, "/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)) {
            static char why[200];
            snprintf(why, sizeof why, "cannot load module %s: %s", name, strerror(errno));
            fclose(order);
            return why;
        }
        close(fd);
    }
    if (order) fclose(order);
    /* The driver may probe the disk asynchronously: give /dev/vda a moment to appear. */
    struct stat st;
    for (int i = 0; i < 200 && stat("/dev/vda", &st) != 0; i++) usleep(10000);
    mkdir("/mnt", 0755);
    if (mount("/dev/vda", "/mnt", "ext4", 0, NULL) != 0) return "no ext4 disk to mount";
    return NULL;
}

/* As the first process on Linux: mount what the benchmarks need; power off at the end. */
static void init_setup(void) {
    mkdir("/dev", 0755);
    mkdir("/proc", 0755);
    mkdir("/tmp", 01777);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    loopback_up();
}

/* sendfile and copy_file_range from the 4 MiB tmpfs file (map_path): the whole file sent
 * over a Unix stream socket pair (sock 1) or a loopback TCP connection (sock 2) to a child
 * that drains it, or copied into another tmpfs file. */
static int sendfile_bw(long n, int sock) {
    int fd[2];
    if (sock == 2 ? tcp_pair(fd) : socketpair(AF_UNIX, SOCK_STREAM, 0, fd)) return -1;
    int src = open(map_path, O_RDONLY);
    if (src < 0) return -1;
    pid_t p = drain_child(fd);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        off_t off = 0;
        while (off < MAP_LEN) {
            ssize_t w = sendfile(fd[1], src, &off, MAP_LEN - off);
            if (w <= 0) {
                rc = -1;
                break;
            }
        }
    }
    close(src);
    close(fd[1]);
    waitpid(p, NULL, 0);
    return rc;
}
static int b_sendfile_unix(long n) { return sendfile_bw(n, 1); }
static int b_sendfile_tcp(long n) { return sendfile_bw(n, 2); }
static int b_copy_file_range(long n) {
    int src = open(map_path, O_RDONLY);
    int dst = open("/tmp/bench.copy", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (src < 0 || dst < 0) return -1;
    for (long i = 0; i < n; i++) {
        loff_t in = 0, out = 0;
        while (in < MAP_LEN) {
            ssize_t w = copy_file_range(src, &in, dst, &out, MAP_LEN - in, 0);
            if (w <= 0) return -1;
        }
    }
    close(src);
    close(dst);
    unlink("/tmp/bench.copy");
    return 0;
}

/* Scaling: the same total work done by 1, 2 and 4 workers at once. */
#define SPIN_TOTAL 400000000UL
static volatile unsigned long spin_sink;
static void spin(unsigned long n) {
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++) x += i ^ (x >> 3);
    spin_sink += x;
}
static void *spin_thread(void *arg) {
    spin((unsigned long)arg);
    return 0;
}
static double ms_since(long long t0) { return (now_ns() - t0) / 1e6; }

static void scaling(void) {
    unsigned long total = quick ? SPIN_TOTAL / 100 : SPIN_TOTAL;
    int forks = quick ? 4 : 64;
    for (int n = 1; n <= 4; n *= 2) {
        pthread_t t[4];
        long long t0 = now_ns();
        for (int i = 0; i < n; i++) pthread_create(&t[i], 0, spin_thread, (void *)(total / n));
        for (int i = 0; i < n; i++) pthread_join(t[i], 0);
        printf("BENCH cpu_threads_%d %.1f ms\n", n, ms_since(t0));
        t0 = now_ns();
        for (int i = 0; i < n; i++)
            if (fork() == 0) {
                spin(total / n);
                _exit(0);
            }
        for (int i = 0; i < n; i++) wait(0);
        printf("BENCH cpu_procs_%d %.1f ms\n", n, ms_since(t0));
        /* n shells' worth of fork+exec+wait at once, forks/n each. */
        t0 = now_ns();
        for (int i = 0; i < n; i++)
            if (fork() == 0) _exit(b_fork_exec(forks / n) ? 1 : 0);
        for (int i = 0; i < n; i++) wait(0);
        printf("BENCH fork_exec_par_%d %.1f ms\n", n, ms_since(t0));
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exit") == 0) return 0;
    quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "only=", 5) == 0) only = argv[i] + 5;
    int scale_only = argc > 1 && strcmp(argv[argc - 1], "scaling") == 0;
    if (getpid() == 1) init_setup();
    if (scale_only) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) strcpy(self, argv[0]);
        scaling();
        printf("BENCH done\n");
        fflush(stdout);
        if (getpid() == 1) reboot(RB_POWER_OFF);
        return 0;
    }
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    printf("BENCH boot_to_user %.3f ms\n", boot.tv_sec * 1e3 + boot.tv_nsec / 1e6);
    FILE *mi = fopen("/proc/meminfo", "r");
    long total_kb = -1, avail_kb = -1;
    char line[256];
    while (mi && fgets(line, sizeof line, mi)) {
        sscanf(line, "MemTotal: %ld kB", &total_kb);
        sscanf(line, "MemAvailable: %ld kB", &avail_kb);
    }
    if (mi) fclose(mi);
    if (total_kb > 0 && avail_kb >= 0)
        printf("BENCH memory_in_use %.1f MiB\n", (total_kb - avail_kb) / 1024.0);
    else
        printf("BENCH memory_in_use n/a no MemAvailable in /proc/meminfo\n");
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) strcpy(self, argv[0]);
    devnull = open("/dev/null", O_RDWR);
    devzero = open("/dev/zero", O_RDONLY);
    int fd = open("/tmp/bench.file", O_CREAT | O_WRONLY, 0644);
    close(fd);
    memset(buf, 'b', sizeof buf);
    fd = open(map_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    for (int i = 0; fd >= 0 && i < MAP_LEN / CHUNK; i++) write(fd, buf, CHUNK);
    if (fd >= 0) close(fd);
    report("null_syscall", b_getppid, "ns", 1);
    report("read_devnull", b_read_null, "ns", 1);
    report("read_devzero", b_read_zero, "ns", 1);
    report("write_devnull", b_write_null, "ns", 1);
    report("fstat", b_fstat, "ns", 1);
    report("open_close", b_open_close, "ns", 1);
    report("stat", b_stat, "ns", 1);
    report("sigaction", b_sigaction, "ns", 1);
    report("fork_exit_wait", b_fork_exit, "us", 1e-3);
    report("fork_exec_wait", b_fork_exec, "us", 1e-3);
    report("fork_shell_wait", b_shell, "us", 1e-3);
    report("posix_spawn_wait", b_spawn, "us", 1e-3);
    report("pipe_pingpong", b_pipe_pingpong, "us", 1e-3);
    report("unix_pingpong", b_unix_pingpong, "us", 1e-3);
    static const int ctx_p[] = {2, 8}, ctx_k[] = {0, 16};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            char name[32];
            ctx_procs = ctx_p[i];
            ctx_ws = ctx_k[j] * 1024;
            snprintf(name, sizeof name, "ctx_%dp_%dk", ctx_p[i], ctx_k[j]);
            report(name, b_ctx, "us", 1e-3);
        }
    /* Bandwidth: MiB/s from ns per 64 KiB chunk. */
    long it;
    double ns;
    report_bw("pipe_bandwidth", b_pipe_bw, CHUNK);
    report_bw("unix_bandwidth", b_unix_bw, CHUNK);
    mem_a = malloc(MEM_LEN);
    mem_b = malloc(MEM_LEN);
    if (mem_a && mem_b) {
        memset(mem_a, 1, MEM_LEN);
        memset(mem_b, 2, MEM_LEN);
        report_bw("mem_read", b_mem_rd, MEM_LEN);
        report_bw("mem_write", b_mem_wr, MEM_LEN);
        report_bw("mem_copy", b_mem_cp, MEM_LEN);
    }
    free(mem_a);
    free(mem_b);
    report("page_fault", b_page_fault, "ns", 1);
    report("file_page_fault", b_file_fault, "ns", 1);
    report("mmap_munmap_1m", b_mmap, "us", 1e-3);
    report("mmap_file_4m", b_mmap_file, "us", 1e-3);
    report("file_create_delete", b_create_delete, "us", 1e-3);
    static const int fs_k[] = {0, 1, 4, 10};
    for (int i = 0; i < 4; i++) fs_rows(fs_k[i]);
    report_bw("tmpfs_write", b_file_write, CHUNK);
    report_bw("tmpfs_read", b_file_read, CHUNK);
    report_bw("tmpfs_read_open2close", b_file_open2close, MAP_LEN);
    /* ext4_read reads the file ext4_write leaves, so either row runs both. */
    int ext4 = want("ext4_write") || want("ext4_read");
    const char *why = ext4 ? mount_disk() : NULL;
    if (!ext4) {
        /* Neither ext4 row selected. */
    } else if (why) {
        printf("BENCH ext4_write n/a %s\n", why);
        printf("BENCH ext4_read n/a %s\n", why);
    } else {
        big_path = "/mnt/bench.big";
        big_fsync = 1;
        ns = measure(b_file_write, &it);
        if (ns > 0) printf("BENCH ext4_write %.1f MiB/s\n", (CHUNK / 1048576.0) / (ns / 1e9));
        else printf("BENCH ext4_write n/a %s\n", strerror(errno));
        ns = measure(b_file_read, &it);
        if (ns > 0) printf("BENCH ext4_read %.1f MiB/s\n", (CHUNK / 1048576.0) / (ns / 1e9));
        else printf("BENCH ext4_read n/a %s\n", strerror(errno));
        unlink(big_path);
        umount("/mnt");
    }
    report("signal_roundtrip", b_signal, "ns", 1);
    report("thread_create_join", b_thread, "us", 1e-3);
    report("futex_pingpong", b_futex_pingpong, "us", 1e-3);
    net_lat("tcp_lat", 0);
    net_lat("udp_lat", 1);
    report_bw("tcp_bandwidth", b_tcp_bw, CHUNK);
    /* Last: closed connections linger in TIME_WAIT and should not weigh on the others. */
    report("tcp_connect", b_tcp_connect, "us", 1e-3);
    report_bw("sendfile_tmpfs_unix", b_sendfile_unix, MAP_LEN);
    report_bw("sendfile_tmpfs_tcp", b_sendfile_tcp, MAP_LEN);
    report_bw("copy_file_range_4m", b_copy_file_range, MAP_LEN);
    printf("BENCH done\n");
    fflush(stdout);
    if (getpid() == 1) {
        sync();
        reboot(RB_POWER_OFF);
    }
    return 0;
}
