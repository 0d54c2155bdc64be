/* The program break: brk(0) reports it, growing gives zeroed writable memory, shrinking and
 * regrowing gives fresh zeroed pages, an out-of-range request returns the unchanged break, and
 * /proc/self/maps shows the heap. The raw system call is used throughout because libc's
 * brk/sbrk hide the kernel's return convention (musl's brk() always fails with ENOMEM). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL

static uintptr_t kbrk(uintptr_t addr) { return (uintptr_t)syscall(SYS_brk, addr); }

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Whether /proc/self/maps has a "[heap]" line covering [lo, hi). */
static int maps_heap_covers(uintptr_t lo, uintptr_t hi) {
    static char buf[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return 0;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(fd);
    buf[len] = 0;
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        unsigned long s, e;
        if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &s, &e) == 2 && s <= lo && hi <= e)
            return 1;
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    uintptr_t orig = kbrk(0);
    CHECK(orig != 0);
    CHECK(orig != (uintptr_t)-1);
    CHECK(kbrk(0) == orig); /* querying does not move it */
    CHECK((uintptr_t)sbrk(0) == orig);

    /* Grow to a page boundary plus four pages. */
    uintptr_t base = (orig + PAGE - 1) & ~(PAGE - 1);
    uintptr_t top = base + 4 * PAGE;
    CHECK(kbrk(top) == top);
    CHECK(kbrk(0) == top);
    unsigned char *p = (unsigned char *)base;
    CHECK(all_zero(p, 4 * PAGE));
    memset(p, 0xab, 4 * PAGE);
    CHECK(p[0] == 0xab && p[4 * PAGE - 1] == 0xab);
    CHECK(maps_heap_covers(base, top));

    /* An unaligned break is returned exactly; the rest of its page is usable. */
    uintptr_t odd = top + 100;
    CHECK(kbrk(odd) == odd);
    CHECK(kbrk(0) == odd);
    CHECK(all_zero((unsigned char *)top, PAGE));
    ((volatile unsigned char *)top)[PAGE - 1] = 1;
    CHECK(kbrk(top) == top);

    /* Shrink: the break moves down; regrowing gives zeroed pages again. */
    CHECK(kbrk(base + PAGE) == base + PAGE);
    CHECK(kbrk(0) == base + PAGE);
    CHECK(p[0] == 0xab && p[PAGE - 1] == 0xab); /* the kept page keeps its contents */
    CHECK(kbrk(top) == top);
    CHECK(p[0] == 0xab);
    CHECK(all_zero(p + PAGE, 3 * PAGE));
    CHECK(kbrk(base) == base);
    CHECK(kbrk(top) == top);
    CHECK(all_zero(p, 4 * PAGE));

    /* A larger growth (1 MiB) touched at both ends. */
    uintptr_t big = base + (1UL << 20);
    CHECK(kbrk(big) == big);
    CHECK(((volatile unsigned char *)base)[0] == 0);
    CHECK(((volatile unsigned char *)big)[-1] == 0);
    ((volatile unsigned char *)big)[-1] = 7;
    CHECK(((volatile unsigned char *)big)[-1] == 7);
    CHECK(kbrk(top) == top);

    /* Requests the kernel refuses return the unchanged break. */
    CHECK(kbrk(PAGE) == top);                     /* below the start */
    CHECK(kbrk(1) == top);
    CHECK(kbrk(orig - 1000 * PAGE) == top);       /* below the start, near it */
    CHECK(kbrk(0x7ffffffff000UL) == top);         /* would run into the stack */
    CHECK(kbrk(0xffff800000000000UL) == top);     /* kernel half */
    CHECK(kbrk((uintptr_t)-PAGE) == top);
    CHECK(kbrk(0) == top);
    CHECK(p[0] == 0);                             /* still mapped after the refusals */

    /* Back to where the program started. */
    CHECK(kbrk(orig) == orig);
    CHECK(kbrk(0) == orig);

#ifdef __GLIBC__
    /* glibc's sbrk moves the break through the system call (musl's refuses with ENOMEM). */
    void *old = sbrk(0);
    CHECK(old == (void *)orig);
    void *r = sbrk(PAGE);
    CHECK(r == old);
    CHECK((uintptr_t)sbrk(0) == (uintptr_t)old + PAGE);
    CHECK(kbrk(0) == (uintptr_t)old + PAGE);
    ((volatile char *)old)[PAGE - 1] = 1;
    CHECK(sbrk(-(intptr_t)PAGE) == (void *)((uintptr_t)old + PAGE));
    CHECK(sbrk(0) == old);
    CHECK(kbrk(0) == orig);
#endif
    DONE();
}
