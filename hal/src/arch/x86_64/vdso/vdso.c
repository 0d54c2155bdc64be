/* Lintel's vDSO: clock_gettime, gettimeofday, time and getcpu without entering the kernel.
 * The kernel maps this object (built by hal/build.rs) into every process with the data
 * page `vvar` just below it, and points AT_SYSINFO_EHDR at it. The clock half is
 * ../../vdso_clock.h (shared with the other architectures); clocks it does not handle fall
 * back to the system call. */
#include <stdint.h>

static inline uint64_t read_counter(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline long sys3(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return r;
}

#define NR_CLOCK_GETTIME 228
#define NR_GETTIMEOFDAY 96
/* x86 keeps loads in order: only the compiler must not move them. */
#define READ_BARRIER() __asm__ volatile("" ::: "memory")
#define VDSO_NAME(x) __vdso_##x
#include "../../vdso_clock.h"

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
        return (int)sys3(309, (long)cpu, (long)node, 0);
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
