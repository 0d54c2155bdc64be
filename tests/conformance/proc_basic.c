/* Basic per-process calls: arch_prctl (FS/GS base), set_tid_address, uname, getrandom,
 * clock_gettime/clock_getres/nanosleep, the resource limits (getrlimit, setrlimit, prlimit64,
 * and RLIMIT_NOFILE enforcement), and ENOSYS for an unknown system call number. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* From <asm/prctl.h>, which musl's include path lacks. */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 1
#endif
#ifndef GRND_RANDOM
#define GRND_RANDOM 2
#endif

#ifdef __x86_64__ /* arch_prctl is x86_64's: the other ports have no FS/GS base */
/* A system call that leaves errno (and therefore TLS) alone: -errno on failure. */
static inline long raw2(long n, long a, long b) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

static inline unsigned long fs0(void) {
    unsigned long v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

static unsigned long fake_tls[64] __attribute__((aligned(64)));

struct fs_result {
    long set, get, restore, bad_set, bad_restore;
    unsigned long got, self;
};

/* Points FS at fake_tls and back without touching TLS in between. */
__attribute__((noinline)) static void fs_round_trip(unsigned long saved, struct fs_result *r) {
    fake_tls[0] = (unsigned long)fake_tls;
    r->got = 0;
    r->set = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fake_tls);
    r->get = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&r->got);
    r->self = fs0();
    r->restore = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)saved);
    /* A non-canonical base is refused with EPERM; if it is not, put the real one back. */
    r->bad_set = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)0xffff800000000000UL);
    r->bad_restore = 0;
    if (r->bad_set == 0) r->bad_restore = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)saved);
}

#endif

static int tid_word;

static long ts_ns(const struct timespec *t) { return t->tv_sec * 1000000000L + t->tv_nsec; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

#ifdef __x86_64__
    /* arch_prctl: the FS base is the thread pointer, whose first word points to itself. */
    unsigned long fs = 0;
    CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0);
    CHECK(fs != 0);
    CHECK(fs == fs0());
    struct fs_result r;
    fs_round_trip(fs, &r);
    CHECK(r.set == 0);
    CHECK(r.get == 0);
    CHECK(r.got == (unsigned long)fake_tls);
    CHECK(r.self == (unsigned long)fake_tls);
    CHECK(r.restore == 0);
    CHECK(r.bad_set == -EPERM);
    CHECK(r.bad_restore == 0);
    unsigned long fs2 = 0;
    CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2) == 0);
    CHECK(fs2 == fs);
    CHECK_ERR(syscall(SYS_arch_prctl, 0x1999, &fs2), EINVAL);
    CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)8), EFAULT);
    /* GS: not used by libc; starts at 0 and round trips. */
    unsigned long gs = 1;
    CHECK(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) == 0);
    CHECK(gs == 0);
    CHECK(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x12345000UL) == 0);
    CHECK(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) == 0);
    CHECK(gs == 0x12345000UL);
    CHECK(syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL) == 0);
    CHECK(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) == 0 && gs == 0);
    CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_GS, 0xffff800000000000UL), EPERM);

#endif

    /* set_tid_address returns the caller's tid. */
    long tid = syscall(SYS_gettid);
    CHECK(syscall(SYS_set_tid_address, &tid_word) == tid);
    CHECK(tid == getpid());

    /* uname */
    struct utsname u;
    memset(&u, 0, sizeof u);
    CHECK(uname(&u) == 0);
    CHECK(strcmp(u.sysname, "Linux") == 0);
#if defined(__x86_64__)
    CHECK(strcmp(u.machine, "x86_64") == 0);
#elif defined(__riscv)
    CHECK(strcmp(u.machine, "riscv64") == 0);
#elif defined(__aarch64__)
    CHECK(strcmp(u.machine, "aarch64") == 0);
#endif
    CHECK(u.release[0] >= '0' && u.release[0] <= '9');
    CHECK(strchr(u.release, '.') != NULL);
    CHECK(u.version[0] != 0);
    CHECK(u.nodename[0] != 0);
    CHECK_ERR(syscall(SYS_uname, (void *)1), EFAULT);

    /* getrandom */
    unsigned char a[64], b[64], big[4096];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK(syscall(SYS_getrandom, a, sizeof a, 0) == 64);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++) nonzero |= a[i];
    CHECK(nonzero);
    CHECK(syscall(SYS_getrandom, b, sizeof b, GRND_NONBLOCK) == 64);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(syscall(SYS_getrandom, big, sizeof big, 0) == (long)sizeof big);
    CHECK(syscall(SYS_getrandom, b, 16, GRND_RANDOM | GRND_NONBLOCK) > 0);
    CHECK(syscall(SYS_getrandom, b, 0, 0) == 0);
    CHECK_ERR(syscall(SYS_getrandom, b, sizeof b, 0x100), EINVAL);
    CHECK_ERR(syscall(SYS_getrandom, (void *)1, 64, 0), EFAULT);

    /* clock_gettime */
    struct timespec t, prev, res;
    CHECK(clock_gettime(CLOCK_REALTIME, &t) == 0);
    CHECK(t.tv_sec > 1577836800); /* 2020-01-01 */
    CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &t) == 0);
    CHECK(t.tv_sec > 1577836800);
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0);
    CHECK(tv.tv_sec >= t.tv_sec && tv.tv_sec <= t.tv_sec + 2);
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    /* time() may be coarse (Linux's vDSO reads the tick-updated seconds): one behind is fine. */
    time_t now = time(NULL);
    CHECK(now >= t.tv_sec - 1 && now <= t.tv_sec + 2);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &prev) == 0);
    int mono_ok = 1, raw_ok = 1;
    for (int i = 0; i < 1000; i++) {
        CHECK(clock_gettime(CLOCK_MONOTONIC, &t) == 0);
        if (t.tv_nsec < 0 || t.tv_nsec >= 1000000000L || ts_ns(&t) < ts_ns(&prev)) mono_ok = 0;
        prev = t;
    }
    CHECK(mono_ok);
    for (int i = 0; i < 200; i++) {
        CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t) == 0);
        if (ts_ns(&t) < ts_ns(&prev)) raw_ok = 0;
        prev = t;
    }
    CHECK(raw_ok);
    static const clockid_t clocks[] = {CLOCK_REALTIME,       CLOCK_MONOTONIC,        CLOCK_MONOTONIC_RAW,
                                       CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
                                       CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        CHECK(syscall(SYS_clock_gettime, clocks[i], &t) == 0);
        CHECK(syscall(SYS_clock_getres, clocks[i], &res) == 0);
        CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000L);
    }
    struct timespec mono, boot;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &mono) == 0);
    CHECK(clock_gettime(CLOCK_BOOTTIME, &boot) == 0);
    CHECK(ts_ns(&boot) >= ts_ns(&mono));
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
    CHECK(res.tv_sec == 0 && res.tv_nsec >= 1 && res.tv_nsec <= 10000000L);
    CHECK(syscall(SYS_clock_getres, CLOCK_REALTIME, NULL) == 0);
    CHECK_ERR(syscall(SYS_clock_gettime, 100, &t), EINVAL);
    CHECK_ERR(syscall(SYS_clock_getres, 100, &res), EINVAL);
    CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);
    CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_REALTIME, (void *)1), EFAULT);

    /* nanosleep sleeps at least as long as asked and rejects bad times. */
    struct timespec before, after, d = {0, 2000000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &before) == 0);
    CHECK(nanosleep(&d, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &after) == 0);
    CHECK(ts_ns(&after) - ts_ns(&before) >= 2000000L);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
    bad.tv_nsec = -1;
    CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_nanosleep, (void *)1, NULL), EFAULT);

    /* Resource limits: the three interfaces agree. */
    struct rlimit rl, rl2;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_cur > 16);
    CHECK(rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max);
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl2) == 0);
    CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max);
    CHECK(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &rl2) == 0);
    CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max);
    CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2) == 0);
    CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max);
    CHECK(syscall(SYS_getrlimit, RLIMIT_STACK, &rl2) == 0);
    CHECK(rl2.rlim_cur > 0);
    CHECK(rl2.rlim_max == RLIM_INFINITY || rl2.rlim_cur <= rl2.rlim_max);
    CHECK_ERR(syscall(SYS_getrlimit, 100, &rl2), EINVAL);
    CHECK_ERR(syscall(SYS_prlimit64, 0, 100, NULL, &rl2), EINVAL);
    CHECK_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)1), EFAULT);
    CHECK_ERR(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &rl2), ESRCH);

    /* Soft above hard is refused. */
    if (rl.rlim_max != RLIM_INFINITY) {
        struct rlimit up = {rl.rlim_max + 1, rl.rlim_max};
        CHECK_ERR(setrlimit(RLIMIT_NOFILE, &up), EINVAL);
        CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &up, NULL), EINVAL);
    }
    struct rlimit inv = {200, 100};
    CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, &inv), EINVAL);
    CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, (void *)1), EFAULT);

    /* RLIMIT_CORE round trips through setrlimit/getrlimit and prlimit64's old value. */
    struct rlimit core;
    CHECK(getrlimit(RLIMIT_CORE, &core) == 0);
    struct rlimit zero = {0, core.rlim_max};
    CHECK(setrlimit(RLIMIT_CORE, &zero) == 0);
    CHECK(getrlimit(RLIMIT_CORE, &rl2) == 0);
    CHECK(rl2.rlim_cur == 0 && rl2.rlim_max == core.rlim_max);
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &core, &rl2) == 0);
    CHECK(rl2.rlim_cur == 0);
    CHECK(getrlimit(RLIMIT_CORE, &rl2) == 0 && rl2.rlim_cur == core.rlim_cur);

    /* RLIMIT_NOFILE = 16: descriptors up to 15 can be opened, then EMFILE. A descriptor already
     * above the limit stays open. */
    CHECK(dup2(0, 100) == 100);
    struct rlimit low = {16, rl.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl2) == 0 && rl2.rlim_cur == 16 && rl2.rlim_max == rl.rlim_max);
    int opened[32], nopen = 0, last = -1, fd;
    errno = 0;
    while (nopen < 32 && (fd = open("/dev/null", O_RDONLY)) >= 0) opened[nopen++] = last = fd;
    CHECK(errno == EMFILE);
    CHECK(last == 15);
    CHECK(fcntl(15, F_GETFD) >= 0);
    CHECK(fcntl(100, F_GETFD) >= 0);
    CHECK_ERR(open("/dev/null", O_RDONLY), EMFILE);
    CHECK_ERR(dup(0), EMFILE);
    CHECK_ERR(fcntl(0, F_DUPFD, 3), EMFILE);
    CHECK_ERR(fcntl(0, F_DUPFD, 16), EINVAL);
    CHECK_ERR(dup2(0, 16), EBADF);
    int pfd[2];
    CHECK_ERR(pipe(pfd), EMFILE);
    if (nopen > 0) {
        CHECK(close(opened[--nopen]) == 0);
        CHECK(dup(0) == last);
        CHECK(close(last) == 0);
    }
    while (nopen > 0) close(opened[--nopen]);
    CHECK(close(100) == 0);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(dup2(0, 16) == 16);
    CHECK(close(16) == 0);

    /* Unknown system call numbers. */
    CHECK_ERR(syscall(1000), ENOSYS);
    CHECK_ERR(syscall(100000), ENOSYS);
    CHECK_ERR(syscall(-1L), ENOSYS);
    DONE();
}
