/* The clock half every vDSO shares: the data page `vvar`, read_clock, clock_gettime and
 * gettimeofday. Included by each <arch>/vdso/vdso.c (riscv64's and aarch64's through
 * dtboard/vdso_clock.c) after it defines read_counter() (the counter: x86_64's TSC, riscv64's
 * `time` CSR, aarch64's virtual count), sys3() (a system call), NR_CLOCK_GETTIME and
 * NR_GETTIMEOFDAY (their numbers), READ_BARRIER() (keeps the page's loads between the two
 * reads of `seq`) and VDSO_NAME(x) (the architecture's symbol name for x). The data page lies
 * just below the image; its layout is hal/src/arch/x86_64/vdso.rs's and
 * hal/src/arch/dtboard/vdso.rs's. Times use the kernel's formula (counter ticks since boot
 * times `mult`, shifted right by 32), so both paths agree. */
#include <stdint.h>

struct vvar {
    volatile uint32_t seq; /* odd while the kernel updates the page */
    uint32_t pad;
    uint64_t counter_boot; /* the counter at monotonic zero */
    uint64_t mult;
    int64_t realtime_offset; /* wall-clock ns at boot */
    union {
        uint32_t tsc_aux_is_cpu; /* x86_64: RDTSCP's TSC_AUX holds the CPU index */
        uint32_t resolution_ns;  /* riscv64, aarch64: the clocks' resolution */
    };
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
        READ_BARRIER();
        uint64_t d = read_counter() - v->counter_boot;
        r = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        base_raw = v->base_raw;
        base_mono = v->base_mono;
        base_frac = v->base_frac;
        mono_mult = v->mono_mult;
        raw_next = v->raw_next;
        *offset = v->realtime_offset;
        READ_BARRIER();
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
            return (int)sys3(NR_CLOCK_GETTIME, clk, (long)ts, 0);
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
        return (int)sys3(NR_CLOCK_GETTIME, clk, (long)ts, 0);
    }
}

int VDSO_NAME(clock_gettime)(int clk, struct timespec_k *ts) {
    return do_clock_gettime(clk, ts);
}

int VDSO_NAME(gettimeofday)(struct timeval_k *tv, void *tz) {
    if (tz) /* the zone comes from the system call */
        return (int)sys3(NR_GETTIMEOFDAY, (long)tv, (long)tz, 0);
    if (tv) {
        struct timespec_k ts;
        do_clock_gettime(0, &ts);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}
