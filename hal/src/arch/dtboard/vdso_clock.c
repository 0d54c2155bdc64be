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
    uint32_t slewing; /* the disciplined clocks come from the kernel */
    int64_t mono_offset; /* CLOCK_MONOTONIC minus the raw clock, ns */
};

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const struct vvar *vvar(void) {
    return (const struct vvar *)(__ehdr_start - 4096);
}

/* The raw clock, the offsets of the monotonic and wall clocks from it, and whether they
 * are slewing (then only the kernel knows them), read consistently. */
static void read_clock(uint64_t *raw, int64_t *mono_off, int64_t *offset, uint32_t *slewing) {
    const struct vvar *v = vvar();
    uint32_t s;
    do {
        s = v->seq;
        READ_BARRIER();
        uint64_t d = rdtime() - v->time_boot;
        *raw = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        *mono_off = v->mono_offset;
        *offset = v->realtime_offset;
        *slewing = v->slewing;
        READ_BARRIER();
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
            return (int)sys3(113, clk, (long)ts, 0); /* clock_gettime */
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
