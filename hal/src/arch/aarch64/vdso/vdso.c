/* Lintel's aarch64 vDSO: the signal-return trampoline, clock_gettime, gettimeofday and
 * clock_getres, with Linux's arm64 names and version (__kernel_*, LINUX_2.6.39).
 * The kernel maps this object (built by hal/build.rs with the cross compiler) into every
 * process with the data page `vvar` just below it. Times use the kernel's formula (virtual
 * counter ticks since boot times `mult`, shifted right by 32), so both paths agree. */
#include <stdint.h>

struct vvar {
    volatile uint32_t seq; /* odd while the kernel updates the page */
    uint32_t pad;
    uint64_t time_boot;
    uint64_t mult;
    int64_t realtime_offset; /* wall-clock ns at boot */
    uint32_t resolution_ns;  /* one counter tick, rounded up */
};

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const struct vvar *vvar(void) {
    return (const struct vvar *)(__ehdr_start - 4096);
}

static inline uint64_t rdtime(void) {
    uint64_t t;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(t) :: "memory");
    return t;
}

static inline long sys3(long nr, long a, long b, long c) {
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x8 __asm__("x8") = nr;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
    return x0;
}

/* The handler's return address (x30) when a signal is delivered without SA_RESTORER:
 * rt_sigreturn (139). */
__asm__(".text\n"
        ".global __kernel_rt_sigreturn\n"
        ".type __kernel_rt_sigreturn, @function\n"
        "__kernel_rt_sigreturn:\n"
        "    mov x8, #139\n"
        "    svc #0\n"
        ".size __kernel_rt_sigreturn, .-__kernel_rt_sigreturn\n");

static void read_clock(uint64_t *mono, int64_t *offset) {
    const struct vvar *v = vvar();
    uint32_t s;
    do {
        s = v->seq;
        __asm__ volatile("dmb ishld" ::: "memory");
        uint64_t d = rdtime() - v->time_boot;
        *mono = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        *offset = v->realtime_offset;
        __asm__ volatile("dmb ishld" ::: "memory");
    } while ((s & 1) || s != v->seq);
}

static int do_clock_gettime(int clk, struct timespec_k *ts) {
    uint64_t mono;
    int64_t off, ns;
    switch (clk) {
    case 0: /* CLOCK_REALTIME */
    case 1: /* CLOCK_MONOTONIC */
    case 4: /* CLOCK_MONOTONIC_RAW */
    case 7: /* CLOCK_BOOTTIME */
        read_clock(&mono, &off);
        ns = clk == 0 ? (int64_t)mono + off : (int64_t)mono;
        ts->tv_sec = ns / 1000000000;
        ts->tv_nsec = ns % 1000000000;
        if (ts->tv_nsec < 0) {
            ts->tv_nsec += 1000000000;
            ts->tv_sec -= 1;
        }
        return 0;
    default:
        return (int)sys3(113, clk, (long)ts, 0); /* clock_gettime */
    }
}

int __kernel_clock_gettime(int clk, struct timespec_k *ts) {
    return do_clock_gettime(clk, ts);
}

int __kernel_gettimeofday(struct timeval_k *tv, void *tz) {
    if (tz)
        return (int)sys3(169, (long)tv, (long)tz, 0); /* gettimeofday: the zone comes from it */
    if (tv) {
        struct timespec_k ts;
        do_clock_gettime(0, &ts);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

int __kernel_clock_getres(int clk, struct timespec_k *res) {
    switch (clk) {
    case 0: case 1: case 4: case 7:
        if (res) {
            res->tv_sec = 0;
            res->tv_nsec = (int64_t)vvar()->resolution_ns;
        }
        return 0;
    default:
        return (int)sys3(114, clk, (long)res, 0); /* clock_getres */
    }
}
