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
};

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const struct vvar *vvar(void) {
    return (const struct vvar *)(__ehdr_start - 4096);
}

static void read_clock(uint64_t *mono, int64_t *offset) {
    const struct vvar *v = vvar();
    uint32_t s;
    do {
        s = v->seq;
        READ_BARRIER();
        uint64_t d = rdtime() - v->time_boot;
        *mono = (uint64_t)(((unsigned __int128)d * v->mult) >> 32);
        *offset = v->realtime_offset;
        READ_BARRIER();
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
