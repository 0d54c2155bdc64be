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
    /* CLOCK_MONOTONIC = base_mono + (base_frac + (raw - base_raw) * mono_mult) >> 32 while
     * raw < raw_next (the kernel's time::Line); past it the kernel moves the line on. */
    uint32_t base_frac;
    uint64_t base_raw;
    int64_t base_mono;
    uint64_t mono_mult;
    uint64_t raw_next;
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

/* The raw clock, the monotonic clock and the wall clock's offset from it, read consistently;
 * 0 when the monotonic clock's line has ended (only the kernel knows it then). */
static int read_clock(uint64_t *raw, int64_t *mono, int64_t *offset) {
    const struct vvar *v = vvar();
    uint32_t s;
    uint64_t r, base_raw, mono_mult, raw_next;
    int64_t base_mono;
    uint32_t base_frac;
    do {
        s = v->seq;
        __asm__ volatile("" ::: "memory");
        uint64_t d = rdtsc() - v->tsc_boot;
        r = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        base_raw = v->base_raw;
        base_mono = v->base_mono;
        base_frac = v->base_frac;
        mono_mult = v->mono_mult;
        raw_next = v->raw_next;
        *offset = v->realtime_offset;
        __asm__ volatile("" ::: "memory");
    } while ((s & 1) || s != v->seq);
    *raw = r;
    if (r >= raw_next)
        return 0;
    uint64_t dr = r > base_raw ? r - base_raw : 0;
    *mono = base_mono + (int64_t)(((unsigned __int128)dr * mono_mult + base_frac) >> 32);
    return 1;
}

static int do_clock_gettime(int clk, struct timespec_k *ts) {
    uint64_t raw;
    int64_t mono = 0, off, ns;
    switch (clk) {
    case 0: /* CLOCK_REALTIME */
    case 1: /* CLOCK_MONOTONIC */
    case 4: /* CLOCK_MONOTONIC_RAW */
    case 7: /* CLOCK_BOOTTIME */
        if (!read_clock(&raw, &mono, &off) && clk != 4)
            return (int)sys2(228, clk, (long)ts); /* clock_gettime */
        ns = clk == 4 ? (int64_t)raw : mono;
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
