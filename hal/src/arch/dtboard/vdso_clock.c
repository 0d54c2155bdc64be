/* The clock half of the riscv64 and aarch64 vDSOs, included by each <arch>/vdso/vdso.c after
 * it defines rdtime() (the counter), sys3() (a system call), READ_BARRIER() (a load-load
 * barrier) and VDSO_NAME(x) (the architecture's symbol name for x). The data page `vvar` lies
 * just below the image; its layout is hal/src/arch/dtboard/vdso.rs's. */

struct vvar {
    volatile uint32_t seq; /* odd while the kernel updates the page */
    uint32_t pad;
    uint64_t time_boot;
    uint64_t mult;
    int64_t realtime_offset; /* wall-clock ns at boot */
    uint32_t resolution_ns;  /* one counter tick, rounded up */
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
        uint64_t d = rdtime() - v->time_boot;
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
            return (int)sys3(113, clk, (long)ts, 0); /* clock_gettime */
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
        return (int)sys3(113, clk, (long)ts, 0); /* clock_gettime */
    }
}

int VDSO_NAME(clock_gettime)(int clk, struct timespec_k *ts) {
    return do_clock_gettime(clk, ts);
}

int VDSO_NAME(gettimeofday)(struct timeval_k *tv, void *tz) {
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

int VDSO_NAME(clock_getres)(int clk, struct timespec_k *res) {
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
