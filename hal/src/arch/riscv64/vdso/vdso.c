/* Lintel's riscv64 vDSO: the signal-return trampoline, clock_gettime, gettimeofday,
 * clock_getres, getcpu and flush_icache, with Linux's names and version (LINUX_4.15).
 * The kernel maps this object (built by hal/build.rs with the cross compiler) into every
 * process with the data page `vvar` just below it. Times use the kernel's formula (`time` CSR
 * ticks since boot times `mult`, shifted right by 32), so both paths agree. */
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
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static inline long sys3(long nr, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

/* The handler's return address (ra) when a signal is delivered: rt_sigreturn (139). */
__asm__(".text\n"
        ".global __vdso_rt_sigreturn\n"
        ".type __vdso_rt_sigreturn, @function\n"
        "__vdso_rt_sigreturn:\n"
        "    li a7, 139\n"
        "    ecall\n"
        ".size __vdso_rt_sigreturn, .-__vdso_rt_sigreturn\n");

static void read_clock(uint64_t *mono, int64_t *offset) {
    const struct vvar *v = vvar();
    uint32_t s;
    do {
        s = v->seq;
        __asm__ volatile("fence r,r" ::: "memory");
        uint64_t d = rdtime() - v->time_boot;
        *mono = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        *offset = v->realtime_offset;
        __asm__ volatile("fence r,r" ::: "memory");
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

int __vdso_clock_gettime(int clk, struct timespec_k *ts) {
    return do_clock_gettime(clk, ts);
}

int __vdso_gettimeofday(struct timeval_k *tv, void *tz) {
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

int __vdso_clock_getres(int clk, struct timespec_k *res) {
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

/* getcpu asks the kernel: the CPU index is not readable from user mode. */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache) {
    (void)cache;
    return (int)sys3(168, (long)cpu, (long)node, 0);
}

/* riscv_flush_icache (259): the kernel's call makes the other harts' fetches coherent. */
int __vdso_flush_icache(void *start, void *end, unsigned long flags) {
    return (int)sys3(259, (long)start, (long)end, (long)flags);
}
