/* MAP_32BIT on x86_64 (Linux's find_start_end in arch/x86/kernel/sys_x86_64.c): without
 * MAP_FIXED the mapping goes in [1 GiB, 2 GiB), the lowest free range there (the search
 * starts up to 32 MiB higher when randomizing); a free hint that ends by 2 GiB is taken as
 * it is, a hint higher up is ignored; a request that finds no room there is ENOMEM, and
 * MAP_FIXED places the mapping where it says. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/mman.h>
#include <unistd.h>

#define LOW 0x40000000UL
#define HIGH 0x80000000UL
#define MB (1UL << 20)

static int in_range(void *p, size_t len) {
    unsigned long a = (unsigned long)p;
    return p != MAP_FAILED && a >= LOW && a + len <= HIGH;
}

static void *map32(void *hint, size_t len, int prot, int extra) {
    return mmap(hint, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT | extra, -1, 0);
}

/* Whether [a, a + len) holds no mapping (mincore is ENOMEM for every unmapped page). */
static int unmapped(unsigned long a, size_t len) {
    unsigned char v;
    for (unsigned long p = a; p < a + len; p += 4096)
        if (mincore((void *)p, 4096, &v) == 0 || errno != ENOMEM)
            return 0;
    return 1;
}

int main(void) {
    /* Plain requests: in the low range, usable. */
    char *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = map32(NULL, 3 * 4096, PROT_READ | PROT_WRITE, 0);
        CHECK(in_range(p[i], 3 * 4096));
        if (p[i] != MAP_FAILED) {
            p[i][0] = 1;
            p[i][3 * 4096 - 1] = 2;
        }
    }
    /* A hint above 2 GiB is ignored. */
    char *h = map32((void *)0x7f0000000000UL, 4096, PROT_READ, 0);
    CHECK(in_range(h, 4096));
    /* A free hint below 2 GiB is taken, even under 1 GiB. */
    if (unmapped(0x30000000UL, 2 * 4096)) {
        char *q = map32((void *)0x30000000UL, 4096, PROT_READ, 0);
        CHECK(q == (char *)0x30000000UL);
        CHECK(q == MAP_FAILED || munmap(q, 4096) == 0);
    }
    if (unmapped(0x7ff00000UL, 16 * 4096)) {
        char *q = map32((void *)0x7ff00000UL, 8 * 4096, PROT_READ, 0);
        CHECK(q == (char *)0x7ff00000UL);
        CHECK(q == MAP_FAILED || munmap(q, 8 * 4096) == 0);
        /* One that would end past 2 GiB is not. */
        q = map32((void *)0x7fffc000UL, 8 * 4096, PROT_READ, 0);
        CHECK(in_range(q, 8 * 4096));
        CHECK(q == MAP_FAILED || munmap(q, 8 * 4096) == 0);
    }
    /* More than the range holds: ENOMEM. */
    CHECK(map32(NULL, 1UL << 30, PROT_NONE, MAP_NORESERVE) == MAP_FAILED && errno == ENOMEM);
    CHECK(map32(NULL, 3UL << 30, PROT_NONE, MAP_NORESERVE) == MAP_FAILED && errno == ENOMEM);
    /* Filling the range: every piece is in it, then ENOMEM. */
    enum { N = 32 };
    char *piece[N];
    int n = 0;
    for (; n < N; n++) {
        piece[n] = map32(NULL, 64 * MB, PROT_NONE, MAP_NORESERVE);
        if (piece[n] == MAP_FAILED)
            break;
        CHECK(in_range(piece[n], 64 * MB));
    }
    CHECK(n < N && errno == ENOMEM);
    CHECK(n >= 8 && n <= 16);
    /* Smaller pieces still fit in the holes left, but only in the range. */
    char *small = map32(NULL, 4096, PROT_READ, 0);
    CHECK(small == MAP_FAILED || in_range(small, 4096));
    for (int i = 0; i < n; i++)
        CHECK_OK(munmap(piece[i], 64 * MB));
    /* Room again. */
    char *again = map32(NULL, 64 * MB, PROT_NONE, MAP_NORESERVE);
    CHECK(in_range(again, 64 * MB));
    CHECK(again == MAP_FAILED || munmap(again, 64 * MB) == 0);
    /* MAP_FIXED goes where it says, above 2 GiB too. */
    char *anywhere = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(anywhere != MAP_FAILED && (unsigned long)anywhere >= HIGH);
    char *fixed = map32(anywhere, 4096, PROT_READ | PROT_WRITE, MAP_FIXED);
    CHECK(fixed == anywhere);
    if (fixed != MAP_FAILED)
        fixed[0] = 1;
    /* File mappings follow the same rule. */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        CHECK_OK(ftruncate(fileno(f), 4096));
        char *fm = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_32BIT, fileno(f), 0);
        CHECK(in_range(fm, 4096));
        fclose(f);
    }
    DONE();
}
