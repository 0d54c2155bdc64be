/* riscv64's own system calls (elsewhere the test only passes):
 * - riscv_flush_icache(start, end, flags): code written into memory runs after the call, and
 *   rewritten code runs in its new form; flags other than SYS_RISCV_FLUSH_ICACHE_LOCAL are
 *   EINVAL; the range is not checked (Linux flushes everything).
 * - riscv_hwprobe(pairs, count, cpusetsize, cpus, flags): every key answered in place, an
 *   unknown key turned into -1 with value 0; BASE_BEHAVIOR is IMA; IMA_EXT_0 agrees with
 *   AT_HWCAP's F, D, C and V letters; flags are EINVAL; a CPU set must be readable (EFAULT)
 *   and name an online CPU (EINVAL), a zero size with NULL meaning every online CPU; a pair
 *   that cannot be written is EFAULT.
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
#endif

int main(void) {
#if defined(__riscv)
    test_flush_icache();
    test_hwprobe();
#else
    printf("not riscv64: nothing to check\n");
#endif
    DONE();
}
