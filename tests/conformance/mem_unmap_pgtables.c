/* Page tables go back at munmap (Linux's free_pgtables): a program that maps and unmaps
 * memory at ever new places keeps the page tables it needs (VmPTE in /proc/self/status),
 * not one more table for every 2 MiB, or 1 GiB, it ever touched. 64 KiB mappings, each
 * alone in a 2 MiB range (then in a 1 GiB range) of a region nothing else maps, a page at
 * each end touched, each unmapped before the next: afterwards VmPTE is within 16 kB of where
 * it was (a kernel that keeps the tables would show 4 kB more for each 2 MiB range, 8 kB for
 * each 1 GiB one). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK 65536UL
#define MIB (1UL << 20)
#define GIB (1UL << 30)

static long vmpte_kb(void) {
    static char b[16384];
    if (lt_slurp("/proc/self/status", b, sizeof b) < 0) return -1;
    char *p = strstr(b, "\nVmPTE:");
    return p ? atol(p + 7) : -1;
}

/* Maps, touches and unmaps `n` chunks `stride` bytes apart (each at a different offset in
 * its range) in a region of n strides that nothing maps: VmPTE's rise in kB at the end. */
static long churn(size_t n, size_t stride) {
    size_t span = (n + 1) * stride;
    char *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(r != MAP_FAILED);
    if (r == MAP_FAILED) return -1;
    CHECK_OK(munmap(r, span));
    uintptr_t base = ((uintptr_t)r + stride - 1) & ~(uintptr_t)(stride - 1);
    long before = vmpte_kb();
    CHECK(before >= 0);
    for (size_t i = 0; i < n; i++) {
        char *a = (char *)(base + i * stride + (i % 7) * CHUNK);
        char *p = mmap(a, CHUNK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK(p == a);
        if (p != a) return -1;
        p[0] = 1;
        p[CHUNK - 1] = 2;
        CHECK_OK(munmap(p, CHUNK));
    }
    long after = vmpte_kb();
    printf("%zu chunks %zu MiB apart: VmPTE %ld -> %ld kB\n", n, stride / MIB, before, after);
    return after - before;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long rise = churn(256, 2 * MIB);
    CHECK(rise >= -16 && rise <= 16);
    rise = churn(16, GIB);
    CHECK(rise >= -16 && rise <= 16);
    DONE();
}
