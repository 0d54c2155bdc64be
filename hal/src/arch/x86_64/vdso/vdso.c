/* Lintel's vDSO: clock_gettime, gettimeofday, time and getcpu without entering the kernel.
 * The kernel maps this object (built by hal/build.rs) into every process with the data
 * page `vvar` just below it, and points AT_SYSINFO_EHDR at it. Times use the same formula as
 * the kernel (TSC ticks since boot times `mult`, shifted right by 32), so both paths agree.
 * Clocks it does not handle fall back to the system call. */
#include <stdint.h>

struct vvar {
    volatile uint32_t seq; /* odd while the kernel updates the page */
    uint32_t pad;
    uint64_t tsc_boot;
    uint64_t mult;
    int64_t realtime_offset; /* wall-clock ns at boot */
    uint32_t tsc_aux_is_cpu; /* RDTSCP's TSC_AUX holds the CPU index */
    uint32_t slewing; /* the disciplined clocks come from the kernel */
    int64_t mono_offset; /* CLOCK_MONOTONIC minus the raw clock, ns */
};

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const struct vvar *vvar(void) {
    return (const struct vvar *)(__ehdr_start - 4096);
}

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline long sys2(long nr, long a, long b) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

/* Monotonic and wall-clock nanoseconds, read consistently. */
/* The raw clock, the offsets of the monotonic and wall clocks from it, and whether they
 * are slewing (then only the kernel knows them), read consistently. */
static void read_clock(uint64_t *raw, int64_t *mono_off, int64_t *offset, uint32_t *slewing) {
    const struct vvar *v = vvar();
    uint32_t s;
    do {
        s = v->seq;
        __asm__ volatile("" ::: "memory");
        uint64_t d = rdtsc() - v->tsc_boot;
        *raw = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        *mono_off = v->mono_offset;
        *offset = v->realtime_offset;
        *slewing = v->slewing;
        __asm__ volatile("" ::: "memory");
    } while ((s & 1) || s != v->seq);
}

static int do_clock_gettime(int clk, struct timespec_k *ts) {
    uint64_t raw;
    int64_t mono_off, off, ns;
    uint32_t slewing;
    switch (clk) {
    case 0: /* CLOCK_REALTIME */
    case 1: /* CLOCK_MONOTONIC */
    case 4: /* CLOCK_MONOTONIC_RAW */
    case 7: /* CLOCK_BOOTTIME */
        read_clock(&raw, &mono_off, &off, &slewing);
        if (clk != 4 && slewing)
            return (int)sys2(228, clk, (long)ts); /* clock_gettime */
        ns = (int64_t)raw;
        if (clk != 4)
            ns += mono_off;
        if (clk == 0)
            ns += off;
        ts->tv_sec = ns / 1000000000;
        ts->tv_nsec = ns % 1000000000;
        if (ts->tv_nsec < 0) {
            ts->tv_nsec += 1000000000;
            ts->tv_sec -= 1;
        }
        return 0;
    default:
        return (int)sys2(228, clk, (long)ts); /* clock_gettime */
    }
}

int __vdso_clock_gettime(int clk, struct timespec_k *ts) {
    return do_clock_gettime(clk, ts);
}

int __vdso_gettimeofday(struct timeval_k *tv, void *tz) {
    if (tz)
        return (int)sys2(96, (long)tv, (long)tz); /* gettimeofday: the zone comes from it */
    if (tv) {
        struct timespec_k ts;
        do_clock_gettime(0, &ts);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

long __vdso_time(long *t) {
    struct timespec_k ts;
    do_clock_gettime(0, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}

/* The CPU index from RDTSCP's TSC_AUX (each CPU's is set at boot), else from the kernel;
 * one NUMA node. */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache) {
    (void)cache;
    if (!vvar()->tsc_aux_is_cpu)
        return (int)sys2(309, (long)cpu, (long)node);
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    if (cpu) *cpu = aux;
    if (node) *node = 0;
    return 0;
}

int clock_gettime(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_k *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
