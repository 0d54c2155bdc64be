/* Conformance test helpers. A test is a main() that exits 0 when every check holds; each
 * failed check prints file:line and what was expected, and the test exits 1 at the end.
 * Tests must pass natively on Linux (the oracle) and in Lintel. */
#ifndef LINTEL_TEST_H
#define LINTEL_TEST_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lt_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("%s:%d: CHECK(%s) failed (errno %d %s)\n", __FILE__, __LINE__, #cond, \
                   errno, strerror(errno));                                          \
            fflush(stdout);                                                          \
            lt_failures++;                                                           \
        }                                                                            \
    } while (0)

/* Expects `expr` to return -1 with errno `err`. */
#define CHECK_ERR(expr, err)                                                          \
    do {                                                                              \
        errno = 0;                                                                    \
        long lt_r = (long)(expr);                                                     \
        int lt_e = errno;                                                             \
        if (lt_r != -1 || lt_e != (err)) {                                            \
            printf("%s:%d: %s = %ld errno %d (%s), expected -1 errno %d (%s)\n", __FILE__, \
                   __LINE__, #expr, lt_r, lt_e, strerror(lt_e), err, strerror(err));  \
            fflush(stdout);                                                           \
            lt_failures++;                                                            \
        }                                                                             \
    } while (0)

/* Expects `expr` to succeed (not return -1). */
#define CHECK_OK(expr)                                                                   \
    do {                                                                                 \
        errno = 0;                                                                       \
        long lt_r = (long)(expr);                                                        \
        if (lt_r == -1) {                                                                \
            printf("%s:%d: %s failed: errno %d (%s)\n", __FILE__, __LINE__, #expr, errno, \
                   strerror(errno));                                                     \
            fflush(stdout);                                                              \
            lt_failures++;                                                               \
        }                                                                                \
    } while (0)

#define DONE() return lt_failures ? 1 : 0

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Expects the wait status `st_expr` to be a normal exit with `code`. */
#define CHECK_EXIT(st_expr, code)                                                              \
    do {                                                                                       \
        int s_ = (st_expr);                                                                    \
        if (s_ == -1 || !WIFEXITED(s_) || WEXITSTATUS(s_) != (code)) {                         \
            printf("%s:%d: %s: status 0x%x (exit %d, signal %d), expected exit %d\n", __FILE__, \
                   __LINE__, #st_expr, s_, WIFEXITED(s_) ? WEXITSTATUS(s_) : -1,              \
                   WIFSIGNALED(s_) ? WTERMSIG(s_) : 0, code);                                  \
            fflush(stdout);                                                                    \
            lt_failures++;                                                                     \
        }                                                                                      \
    } while (0)

/* Milliseconds on the monotonic clock. */
static inline long lt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void lt_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Blocks `sig` in the calling thread (to take it with lt_wait_sig instead of a handler). */
static inline void lt_block_sig(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

/* The signal `sig` (blocked) if it arrives within `ms`, with its siginfo in *si; else 0. */
static inline int lt_wait_sig(int sig, int ms, siginfo_t *si) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    memset(si, 0, sizeof *si);
    int r = sigtimedwait(&s, si, &ts);
    return r < 0 ? 0 : r;
}

/* Runs fn in a forked child with a time limit, so one broken part fails alone instead of
 * hanging or killing the whole test. The child's failed checks print themselves and make it
 * exit 1; a timeout, a signal or a non-zero status counts as one failure here. */
static inline void lt_sub(const char *name, void (*fn)(void), long limit_ms) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("%s: fork failed: %s\n", name, strerror(errno));
        lt_failures++;
        return;
    }
    if (pid == 0) {
        lt_failures = 0;
        fn();
        fflush(stdout);
        _exit(lt_failures ? 1 : 0);
    }
    long start = lt_now_ms();
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            printf("%s: waitpid: %s\n", name, strerror(errno));
            lt_failures++;
            return;
        }
        if (lt_now_ms() - start > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            printf("%s: timed out\n", name);
            lt_failures++;
            return;
        }
        lt_sleep_ms(2);
    }
    if (WIFSIGNALED(st)) {
        printf("%s: killed by signal %d\n", name, WTERMSIG(st));
        lt_failures++;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("%s: failed (status 0x%x)\n", name, st);
        lt_failures++;
    }
}

#include <fcntl.h>
/* Reads the whole file `path` (a /proc file, read to its end) into `buf` (NUL-terminated);
 * returns its length, or -1 after printing why. */
static inline long lt_slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    buf[0] = 0;
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += r;
    buf[n] = 0;
    close(fd);
    return (long)n;
}

/* Writes `text` to the file `path` in one write (a /proc/sys file): 0, or -1 with errno
 * from open or write. */
static inline int lt_write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

#include <sys/file.h>
/* The machine clock's lock, for the tests that set or discipline the clock (time_adjtime_slew,
 * time_adjtime_leap, time_hrtimer's clock_settime): they run natively on the host as root,
 * each libc's build in parallel, and a set clears the NTP state another one checks. Held until
 * lt_clock_unlock or the process ends; -1 (the test goes on unlocked) if the file cannot be
 * opened. */
#define LT_CLOCK_LOCK "/tmp/lintel_clock.lock"
static inline int lt_clock_lock(void) {
    int fd = open(LT_CLOCK_LOCK, O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0)
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    return fd;
}
static inline void lt_clock_unlock(int fd) {
    if (fd >= 0) close(fd);
}

/* The number after "name:" at the start of a line of `text` (/proc/meminfo, status), -1 if
 * no line has it. */
static inline long long lt_field_num(const char *text, const char *name) {
    size_t l = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, name, l) == 0 && p[l] == ':')
            return strtoll(p + l + 1, NULL, 10);
    return -1;
}

/* The line of `text` that starts with `key` then `suffix`, checked to come after `*last`
 * (a field-order check; `*last` moves to it). Prints and counts a failure naming `what` when
 * the line is missing or out of order; returns its start or NULL. */
static inline const char *lt_line_in_order(const char *text, const char *key, const char *suffix,
                                           const char **last, const char *what) {
    char k[96];
    snprintf(k, sizeof k, "%s%s", key, suffix);
    const char *at = strncmp(text, k, strlen(k)) == 0 ? text : NULL;
    if (!at) {
        snprintf(k, sizeof k, "\n%s%s", key, suffix);
        at = strstr(text, k);
        at = at ? at + 1 : NULL;
    }
    if (!at) {
        printf("%s: no %s\n", what, key);
        lt_failures++;
        return NULL;
    }
    if (at < *last) {
        printf("%s: %s out of order\n", what, key);
        lt_failures++;
    }
    *last = at;
    return at;
}

#ifdef _GNU_SOURCE
#include <limits.h>
#include <sched.h>
/* Fills `cpus` with the CPUs this thread may run on (at most `max`, lowest first) and returns
 * how many; at least one (CPU 0) when sched_getaffinity fails. */
static inline int lt_cpus(int *cpus, int max) {
    cpu_set_t s;
    int n = 0;
    if (sched_getaffinity(0, sizeof s, &s) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
            if (CPU_ISSET(c, &s)) cpus[n++] = c;
    if (n == 0) cpus[n++] = 0;
    return n;
}

/* Field `n` (1-based, as in proc(5)) of /proc/self/stat as a number, or LONG_MIN. */
static inline long lt_stat_field(int n) {
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return LONG_MIN;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *p = strrchr(buf, ')');
    if (!p || n < 3) return LONG_MIN;
    p += 2; /* field 3 starts here */
    for (int i = 3; i < n; i++) {
        p = strchr(p, ' ');
        if (!p) return LONG_MIN;
        p++;
    }
    return strtol(p, NULL, 10);
}

/* Binds the calling thread to CPU `cpu`. */
static inline void lt_pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

/* For the multiprocessor races: the CPUs this process may use (lt_smp_init reads them once),
 * pinning to the i-th of them round-robin (nothing with one CPU), and a busy wait's step
 * (on one CPU it lets the awaited process run). */
static int lt_ncpu __attribute__((unused));
static int lt_cpu_list[8] __attribute__((unused));
static inline void lt_smp_init(void) {
    lt_ncpu = lt_cpus(lt_cpu_list, 8);
    printf("%d CPUs\n", lt_ncpu);
}
static inline void lt_pin_nth(int i) {
    if (lt_ncpu > 1) lt_pin(lt_cpu_list[i % lt_ncpu]);
}
static inline void lt_relax(void) {
    if (lt_ncpu < 2) sched_yield();
}
#endif

#endif
