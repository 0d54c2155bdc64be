/* riscv64's own system calls (elsewhere the test only passes):
 * - riscv_flush_icache(start, end, flags): code written into memory runs after the call, and
 *   rewritten code runs in its new form; flags other than SYS_RISCV_FLUSH_ICACHE_LOCAL are
 *   EINVAL; the range is not checked (Linux flushes everything).
 * - riscv_hwprobe(pairs, count, cpusetsize, cpus, flags): every key answered in place, an
 *   unknown key turned into -1 with value 0; BASE_BEHAVIOR is IMA; IMA_EXT_0 agrees with
 *   AT_HWCAP's F, D, C and V letters; flags are EINVAL; a CPU set must be readable (EFAULT)
 *   and name an online CPU (EINVAL), a zero size with NULL meaning every online CPU; a pair
 *   that cannot be written is EFAULT; flags is an unsigned int (the upper half is not looked
 *   at).
 * - the later keys (Linux 6.11's, up to MISALIGNED_VECTOR_PERF): CPUPERF_0 and
 *   MISALIGNED_SCALAR_PERF agree, ZICBOZ_BLOCK_SIZE is 0 unless IMA_EXT_0 has Zicboz,
 *   HIGHEST_VIRT_ADDRESS is TASK_SIZE (user_max_virt_addr(): 1 << 38, 47 or 56 for Sv39, 48
 *   or 57) and bounds every mapping (a page at it is ENOMEM, the page below it maps: riscv64
 *   keeps no guard page below TASK_SIZE, unlike x86_64), TIME_CSR_FREQ is the
 *   rate `rdtime` counts at, MISALIGNED_VECTOR_PERF has no speed without V.
 * - RISCV_HWPROBE_WHICH_CPUS: the set is in/out (empty in: every online CPU), the CPUs on
 *   which every pair matches (bitmask keys: every bit asked for; others: equal); the pairs are
 *   not answered, but an unknown key becomes -1 and empties the set; no set, a zero size or
 *   other flags are EINVAL, a set that cannot be written back EFAULT.
 * Linux's sources are the reference (arch/riscv/kernel/sys_riscv.c, sys_hwprobe.c): the
 * qemu-user this host has answers neither call, so the verdict on Linux comes from the
 * x86_64 build, where there is nothing to check.
 * covers: riscv_hwprobe riscv_flush_icache */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__riscv)
#include <time.h>
#define NR_riscv_hwprobe 258
#define NR_riscv_flush_icache 259

struct pair {
    int64_t key;
    uint64_t value;
};

static long hwprobe(struct pair *p, long n, long setsize, void *set, long flags) {
    return syscall(NR_riscv_hwprobe, p, n, setsize, set, flags);
}

static long flush(void *start, void *end, long flags) {
    return syscall(NR_riscv_flush_icache, start, end, flags);
}

/* `li a0, v; ret` at `code`. */
static void emit(uint32_t *code, int v) {
    code[0] = ((uint32_t)v << 20) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

static void test_flush_icache(void) {
    long pg = sysconf(_SC_PAGESIZE);
    uint32_t *code = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(code != MAP_FAILED);
    if (code == MAP_FAILED) return;
    int (*fn)(void) = (int (*)(void))code;
    emit(code, 42);
    CHECK_OK(flush(code, code + 2, 0));
    CHECK(fn() == 42);
    emit(code, 43);
    CHECK_OK(flush(code, code + 2, 1));
    CHECK(fn() == 43);
    emit(code, 44);
    /* Any range, even an empty or reversed one, flushes. */
    CHECK_OK(flush(code + 2, code, 0));
    CHECK(fn() == 44);
    CHECK_OK(flush(0, 0, 0));
    CHECK_ERR(flush(code, code + 2, 2), EINVAL);
    CHECK_ERR(flush(code, code + 2, 3), EINVAL);
    munmap(code, pg);
}

static void test_hwprobe(void) {
    unsigned long hw = getauxval(AT_HWCAP);
#define LETTER(c) (hw & (1ul << ((c) - 'a')))
    struct pair p[7] = {{0}, {1}, {2}, {3}, {4}, {1000}, {-5}};
    for (int i = 0; i < 7; i++) p[i].value = 0x5555;
    CHECK_OK(hwprobe(p, 7, 0, NULL, 0));
    for (int i = 0; i < 5; i++) CHECK(p[i].key == i);
    CHECK(p[3].value == 1); /* RISCV_HWPROBE_BASE_BEHAVIOR_IMA */
    uint64_t ext = p[4].value;
    CHECK(!!(ext & 1) == !!(LETTER('f') && LETTER('d')));
    CHECK(!!(ext & 2) == !!LETTER('c'));
    CHECK(!!(ext & 4) == !!LETTER('v'));
    CHECK(p[5].key == -1 && p[5].value == 0);
    CHECK(p[6].key == -1 && p[6].value == 0);
    printf("hwcap %#lx, IMA_EXT_0 %#llx, mvendorid %#llx\n", hw, (unsigned long long)ext,
           (unsigned long long)p[0].value);

    /* No pairs: nothing to do. */
    CHECK_OK(hwprobe(NULL, 0, 0, NULL, 0));
    /* Flags are checked first. */
    CHECK_ERR(hwprobe(p, 1, 0, NULL, 2), EINVAL);
    CHECK_ERR(hwprobe(p, 1, 0, NULL, -1), EINVAL);

    /* A CPU set: this thread's CPU answers as all do; an empty set is EINVAL. */
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpu = sched_getcpu();
    CHECK(cpu >= 0);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    struct pair q = {4, 0};
    CHECK_OK(hwprobe(&q, 1, sizeof set, &set, 0));
    CHECK(q.key == 4 && q.value == ext);
    CPU_ZERO(&set);
    CHECK_ERR(hwprobe(&q, 1, sizeof set, &set, 0), EINVAL);
    CHECK_ERR(hwprobe(&q, 1, 0, &set, 0), EINVAL);
    CHECK_ERR(hwprobe(&q, 1, sizeof set, NULL, 0), EFAULT);
    CHECK_ERR(hwprobe(&q, 1, sizeof set, (void *)8, 0), EFAULT);

    /* Pairs that cannot be read or written. */
    CHECK_ERR(hwprobe((void *)8, 1, 0, NULL, 0), EFAULT);
    long pg = sysconf(_SC_PAGESIZE);
    struct pair *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED);
    if (ro != MAP_FAILED) {
        ro[0].key = 3;
        CHECK_OK(mprotect(ro, pg, PROT_READ));
        CHECK_ERR(hwprobe(ro, 1, 0, NULL, 0), EFAULT);
        CHECK(ro[0].key == 3 && ro[0].value == 0);
        munmap(ro, pg);
    }
    /* The pairs before a bad one are answered. */
    struct pair *two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(two != MAP_FAILED);
    if (two != MAP_FAILED) {
        struct pair *last = (struct pair *)((char *)two + pg) - 1;
        last->key = 3;
        CHECK_OK(munmap((char *)two + pg, pg));
        CHECK_ERR(hwprobe(last, 2, 0, NULL, 0), EFAULT);
        CHECK(last->key == 3 && last->value == 1);
        munmap(two, pg);
    }
}

/* Linux 6.11's keys past IMA_EXT_0. */
static void test_hwprobe_later_keys(void) {
    struct pair p[7] = {{4}, {5}, {6}, {7}, {8}, {9}, {10}};
    CHECK_OK(hwprobe(p, 7, 0, NULL, 0));
    for (int i = 0; i < 7; i++) CHECK(p[i].key == i + 4);
    uint64_t ext = p[0].value, vector = ext & 4;
    printf("cpuperf %llu, cboz %llu, highest va %#llx, timebase %llu, vector perf %llu\n",
           (unsigned long long)p[1].value, (unsigned long long)p[2].value,
           (unsigned long long)p[3].value, (unsigned long long)p[4].value,
           (unsigned long long)p[6].value);
    /* CPUPERF_0 and MISALIGNED_SCALAR_PERF: the same speed, UNKNOWN..UNSUPPORTED. */
    CHECK(p[1].value == p[5].value && p[5].value <= 4);
    /* ZICBOZ_BLOCK_SIZE: a power of two with Zicboz, else 0. */
    if (ext & (1 << 6))
        CHECK(p[2].value >= 16 && (p[2].value & (p[2].value - 1)) == 0);
    else
        CHECK(p[2].value == 0);
    /* HIGHEST_VIRT_ADDRESS: TASK_SIZE, above the stack and a new mapping; a page at it is
     * ENOMEM, the last page below it maps. */
    uint64_t top = p[3].value;
    long pg = sysconf(_SC_PAGESIZE);
    CHECK(top == 1ull << 38 || top == 1ull << 47 || top == 1ull << 56);
    CHECK((uintptr_t)&top < top);
    void *m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED && (uint64_t)(uintptr_t)m + pg <= top);
    if (m != MAP_FAILED) munmap(m, pg);
    errno = 0;
    CHECK(mmap((void *)(uintptr_t)((top + pg - 1) & ~(uint64_t)(pg - 1)), pg, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
          errno == ENOMEM);
    char *last = mmap((void *)(uintptr_t)(top - pg), pg, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(last == (char *)(uintptr_t)(top - pg));
    if (last != MAP_FAILED) {
        last[pg - 1] = 7;
        /* A copy from the last byte below TASK_SIZE reaches it (usercopy's bound). */
        int fds[2];
        char got = 0;
        CHECK_OK(pipe(fds));
        CHECK(write(fds[1], last + pg - 1, 1) == 1 && read(fds[0], &got, 1) == 1 && got == 7);
        close(fds[0]);
        close(fds[1]);
        munmap(last, pg);
    }
    /* TIME_CSR_FREQ: `rdtime` over a sleep, against CLOCK_MONOTONIC. */
    uint64_t hz = p[4].value;
    CHECK(hz > 0);
    struct timespec a, b;
    uint64_t t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    __asm__ volatile("rdtime %0" : "=r"(t0));
    usleep(100000);
    __asm__ volatile("rdtime %0" : "=r"(t1));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    double counted = hz ? (double)(t1 - t0) / (double)hz : 0;
    CHECK(counted > 0.5 * secs && counted <= secs * 1.01 + 0.001);
    /* MISALIGNED_VECTOR_PERF: UNKNOWN, SLOW, FAST or UNSUPPORTED; no speed without V. */
    uint64_t vp = p[6].value;
    CHECK(vp == 0 || vp == 2 || vp == 3 || vp == 4);
    if (!vector) CHECK(vp == 0 || vp == 4);
}

#define WHICH_CPUS 1

/* RISCV_HWPROBE_WHICH_CPUS: which CPUs match the pairs. */
static void test_hwprobe_which_cpus(void) {
    struct pair base[2] = {{0}, {4}};
    CHECK_OK(hwprobe(base, 2, 0, NULL, 0));
    uint64_t vendor = base[0].value, ext = base[1].value;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int cpu = sched_getcpu();
    if (cpu < 0) cpu = 0;

    /* The CPUs that have every extension bit asked for (here all of them): the set stays. */
    struct pair q[2] = {{4, ext}, {3, 1}};
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    CHECK_OK(hwprobe(q, 2, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set));
    CHECK(q[0].key == 4 && q[0].value == ext && q[1].key == 3 && q[1].value == 1);
    /* A subset of the bits matches too, and the pair is not answered. */
    q[0].value = 0;
    CHECK_OK(hwprobe(q, 1, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == 1 && q[0].key == 4 && q[0].value == 0);
    /* An empty set asks about every online CPU. */
    CPU_ZERO(&set);
    CHECK_OK(hwprobe(q, 1, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == online && CPU_ISSET(cpu, &set));
    /* A bit no CPU has: no CPU. */
    q[0].value = ext | (1ull << 63);
    CHECK_OK(hwprobe(q, 1, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == 0);
    /* A value key matches only when equal. */
    struct pair v = {0, vendor + 1};
    CPU_ZERO(&set);
    CHECK_OK(hwprobe(&v, 1, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == 0);
    v.value = vendor;
    CPU_ZERO(&set);
    CHECK_OK(hwprobe(&v, 1, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == online);
    /* An unknown key: rewritten to -1, and no CPU; the valid pairs stay as they were. */
    struct pair u[3] = {{4, 0}, {1000, 7}, {-3, 9}};
    CPU_ZERO(&set);
    CHECK_OK(hwprobe(u, 3, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == 0);
    CHECK(u[0].key == 4 && u[0].value == 0);
    CHECK(u[1].key == -1 && u[1].value == 0 && u[2].key == -1 && u[2].value == 0);
    /* No pairs: the online CPUs of the set. */
    CPU_ZERO(&set);
    CHECK_OK(hwprobe(NULL, 0, sizeof set, &set, WHICH_CPUS));
    CHECK(CPU_COUNT(&set) == online);

    /* Errors: no set, other flags, a set or pairs that cannot be read, a set that cannot be
     * written back. */
    CHECK_ERR(hwprobe(q, 1, 0, &set, WHICH_CPUS), EINVAL);
    CHECK_ERR(hwprobe(q, 1, sizeof set, NULL, WHICH_CPUS), EINVAL);
    CHECK_ERR(hwprobe(q, 1, sizeof set, &set, WHICH_CPUS | 2), EINVAL);
    CHECK_ERR(hwprobe(q, 1, sizeof set, (void *)8, WHICH_CPUS), EFAULT);
    CHECK_ERR(hwprobe((void *)8, 1, sizeof set, &set, WHICH_CPUS), EFAULT);
    long pg = sysconf(_SC_PAGESIZE);
    cpu_set_t *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED);
    if (ro != MAP_FAILED) {
        CPU_SET(cpu, ro);
        CHECK_OK(mprotect(ro, pg, PROT_READ));
        CHECK_ERR(hwprobe(q, 1, sizeof *ro, ro, WHICH_CPUS), EFAULT);
        munmap(ro, pg);
    }
    /* flags is an unsigned int: bits above it are not seen. */
    CHECK_OK(hwprobe(q, 1, 0, NULL, 1l << 32));
    CHECK(q[0].key == 4 && q[0].value == ext);
}
#endif

int main(void) {
#if defined(__riscv)
    test_flush_icache();
    test_hwprobe();
    test_hwprobe_later_keys();
    test_hwprobe_which_cpus();
#else
    printf("not riscv64: nothing to check\n");
#endif
    DONE();
}
