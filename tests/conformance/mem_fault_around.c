/* Fault-around (Linux's do_fault_around and filemap_map_pages, fault_around_bytes 64 KiB): a
 * read fault on a file mapping also maps the pages around it that the page cache holds, and
 * what programs can observe stays as Linux shows it:
 * - one read of a cached file (a memfd: tmpfs on both kernels) is one minor fault and maps
 *   the 16 pages of the 64 KiB-aligned window holding it (smaps Rss 64 kB, Anonymous 0);
 *   mincore reports every cached page of the file whether mapped or not; a sequential reader
 *   of 64 pages takes 4 faults;
 * - the window starts at the mapping's start when that is higher (then runs 16 pages from
 *   there) and stops at the mapping's end and at the end of the page table (2 MiB);
 * - only cached pages: holes of a sparse file are not mapped by a neighbour's fault;
 * - never for a write fault: a store as first touch maps (copies) its page alone;
 * - MAP_PRIVATE: a store to a page mapped around a read copies it (the file keeps its
 *   bytes, smaps Anonymous 4 kB), while pages not stored to follow later writes to the file;
 * - MAP_SHARED read faults map around as well;
 * - never past the end of the file: the partial last page is mapped (its tail reads zeros),
 *   the pages after it are not (mincore 0) and a touch there is SIGBUS (BUS_ADRERR).
 * The mappings are placed relative to a 2 MiB boundary (a larger reservation, then
 * MAP_FIXED), so that no window meets a page table's end by chance. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL
#define WINDOW 16

#define sub(name, fn) lt_sub(name, fn, 10000)

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static unsigned char pat(size_t pg) { return (unsigned char)('A' + pg % 50); }

/* A memfd of `pages` pages, page i filled with pat(i) (only those with skip(i) false). */
static int make_memfd(size_t pages, int (*skip)(size_t)) {
    int fd = (int)syscall(SYS_memfd_create, "fault_around", 0);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, (off_t)(pages * PAGE)));
    static unsigned char buf[PAGE];
    for (size_t i = 0; i < pages; i++) {
        if (skip && skip(i)) continue;
        memset(buf, pat(i), PAGE);
        CHECK(pwrite(fd, buf, PAGE, (off_t)(i * PAGE)) == (ssize_t)PAGE);
    }
    return fd;
}

/* Pages one page table maps (2 MiB): fault-around stops at its end. */
#define TABLE 512

/* Maps `pages` pages of fd from page `off` at an address `shift` pages (maybe negative) from a
 * 2 MiB boundary, so that no window meets a page table's end unless the test wants it to. */
static volatile unsigned char *map_at(size_t pages, int prot, int flags, int fd, size_t off,
                                      long shift) {
    size_t span = (pages + 3 * TABLE) * PAGE;
    char *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED);
    uintptr_t a = ((uintptr_t)r + 2 * TABLE * PAGE - 1) & ~(uintptr_t)(TABLE * PAGE - 1);
    CHECK_OK(munmap(r, span));
    a += shift * (long)PAGE;
    void *p = mmap((void *)a, pages * PAGE, prot, flags | MAP_FIXED, fd, (off_t)(off * PAGE));
    CHECK(p == (void *)a);
    return p;
}

/* The value in kB of smaps line `field` (e.g. "Rss:") of the mapping starting at p; -1 if
 * missing. */
static long smaps_kb(volatile void *p, const char *field) {
    static char buf[1 << 20];
    if (lt_slurp("/proc/self/smaps", buf, sizeof buf) < 0) return -1;
    char want[32];
    snprintf(want, sizeof want, "%lx-", (unsigned long)(uintptr_t)p);
    int in = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long a, b;
        char sp;
        if (sscanf(line, "%lx-%lx%c", &a, &b, &sp) == 3 && sp == ' ')
            in = strncmp(line, want, strlen(want)) == 0;
        else if (in && strncmp(line, field, strlen(field)) == 0)
            return atol(line + strlen(field));
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

/* mincore of n pages at p as a string of '0'/'1'. */
static const char *resident(volatile void *p, size_t n) {
    static unsigned char v[256];
    static char s[257];
    CHECK(n <= 256);
    CHECK_OK(mincore((void *)p, n * PAGE, v));
    for (size_t i = 0; i < n; i++) s[i] = (v[i] & 1) ? '1' : '0';
    s[n] = 0;
    return s;
}

#define CHECK_KB(p, field, want)                                                             \
    do {                                                                                     \
        long got_ = smaps_kb(p, field);                                                      \
        if (got_ != (want)) printf("%s:%d: smaps %s %ld kB, want %ld\n", __FILE__, __LINE__, \
                                   field, got_, (long)(want));                               \
        CHECK(got_ == (want));                                                               \
    } while (0)

/* A memfd of `pages` pages (page i holding pat(i)) mapped at a 2 MiB boundary: the setup of
 * most cases below; *fd is the file. */
static volatile unsigned char *map_memfd(size_t pages, int prot, int flags, int *fd) {
    *fd = make_memfd(pages, NULL);
    return map_at(pages, prot, flags, *fd, 0, 0);
}

static void unmap_close(volatile unsigned char *p, size_t pages, int fd) {
    CHECK_OK(munmap((void *)p, pages * PAGE));
    close(fd);
}

static void one_read(void) {
    int fd;
    volatile unsigned char *p = map_memfd(64, PROT_READ | PROT_WRITE, MAP_PRIVATE, &fd);
    long f0 = minflt();
    CHECK(p[5 * PAGE] == pat(5));
    long f1 = minflt();
    CHECK(f1 - f0 == 1);
    CHECK_KB(p, "Rss:", 64);
    CHECK_KB(p, "Anonymous:", 0);
    /* The file's pages are all in the page cache, mapped or not. */
    CHECK(strcmp(resident(p, 64), "1111111111111111111111111111111111111111111111111111111111111111") == 0);
    /* The pages of the window read without a fault. */
    int bad = 0;
    long f2 = minflt();
    for (size_t i = 0; i < WINDOW; i++) bad |= p[i * PAGE + 7] != pat(i);
    long f3 = minflt();
    /* The next windows: one more fault each, 4 faults for 64 pages. */
    for (size_t i = WINDOW; i < 64; i++) bad |= p[i * PAGE] != pat(i);
    long f4 = minflt();
    CHECK(!bad);
    CHECK(f3 == f2);
    CHECK(f4 - f3 == 3);
    CHECK_KB(p, "Rss:", 256);
    unmap_close(p, 64, fd);
}

static void window_clamped(void) {
    int fd = make_memfd(64, NULL);
    /* Starting 3 pages past a 64 KiB boundary: 16 pages from the mapping's start. */
    volatile unsigned char *p = map_at(40, PROT_READ, MAP_PRIVATE, fd, 3, 3);
    CHECK(p[0] == pat(3));
    CHECK_KB(p, "Rss:", 64);
    for (size_t i = 0; i < WINDOW; i++) CHECK(p[i * PAGE] == pat(3 + i));
    CHECK_KB(p, "Rss:", 64);
    CHECK_OK(munmap((void *)p, 40 * PAGE));
    /* Ending 4 pages into a window: a fault there maps those 4. */
    p = map_at(20, PROT_READ, MAP_PRIVATE, fd, 0, 0);
    CHECK(p[18 * PAGE] == pat(18));
    CHECK_KB(p, "Rss:", 16);
    CHECK_OK(munmap((void *)p, 20 * PAGE));
    /* Starting 5 pages below a page table's end: the window stops there. */
    p = map_at(20, PROT_READ, MAP_PRIVATE, fd, 0, -5);
    CHECK(p[0] == pat(0));
    CHECK_KB(p, "Rss:", 20);
    CHECK(p[5 * PAGE] == pat(5));
    CHECK_KB(p, "Rss:", 80);
    unmap_close(p, 20, fd);
}

static int odd_or_high(size_t i) { return (i & 1) || i >= 8; }

static void holes(void) {
    /* Pages 0, 2, 4, 6 hold data; the rest of the 16 are holes. */
    int fd = make_memfd(16, odd_or_high);
    volatile unsigned char *p = map_at(16, PROT_READ, MAP_PRIVATE, fd, 0, 0);
    CHECK(p[2 * PAGE] == pat(2));
    CHECK_KB(p, "Rss:", 16);
    CHECK(strcmp(resident(p, 16), "1010101000000000") == 0);
    unmap_close(p, 16, fd);
}

static void write_first(void) {
    int fd;
    volatile unsigned char *p = map_memfd(32, PROT_READ | PROT_WRITE, MAP_PRIVATE, &fd);
    long f0 = minflt();
    p[2 * PAGE] = 'w';
    CHECK(minflt() - f0 == 1);
    /* The store's page alone, a private copy. */
    CHECK_KB(p, "Rss:", 4);
    CHECK_KB(p, "Anonymous:", 4);
    unsigned char c = 0;
    CHECK(pread(fd, &c, 1, 2 * PAGE) == 1 && c == pat(2));
    unmap_close(p, 32, fd);
}

static void private_cow(void) {
    int fd;
    volatile unsigned char *p = map_memfd(32, PROT_READ | PROT_WRITE, MAP_PRIVATE, &fd);
    CHECK(p[0] == pat(0));
    CHECK_KB(p, "Rss:", 64);
    /* A store to a page the read mapped around: copied, the file keeps its bytes. */
    long f0 = minflt();
    p[3 * PAGE + 1] = 'z';
    CHECK(minflt() - f0 == 1);
    CHECK(p[3 * PAGE + 1] == 'z' && p[3 * PAGE] == pat(3));
    unsigned char c = 0;
    CHECK(pread(fd, &c, 1, 3 * PAGE + 1) == 1 && c == pat(3));
    CHECK_KB(p, "Rss:", 64);
    CHECK_KB(p, "Anonymous:", 4);
    /* A page mapped around and never stored to is the file's: it shows a later write. */
    CHECK(pwrite(fd, "q", 1, 4 * PAGE) == 1);
    CHECK(p[4 * PAGE] == 'q');
    /* The copied page does not. */
    CHECK(pwrite(fd, "r", 1, 3 * PAGE + 1) == 1);
    CHECK(p[3 * PAGE + 1] == 'z');
    unmap_close(p, 32, fd);
}

static void shared_read(void) {
    int fd;
    volatile unsigned char *p = map_memfd(32, PROT_READ | PROT_WRITE, MAP_SHARED, &fd);
    long f0 = minflt();
    CHECK(p[17 * PAGE] == pat(17));
    CHECK(minflt() - f0 == 1);
    CHECK_KB(p, "Rss:", 64);
    /* Stores through the shared mapping reach the file, around pages included. */
    p[20 * PAGE] = 's';
    unsigned char c = 0;
    CHECK(pread(fd, &c, 1, 20 * PAGE) == 1 && c == 's');
    unmap_close(p, 32, fd);
}

static sigjmp_buf jb;
static volatile void *bus_addr;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)uc;
    bus_addr = si->si_addr;
    bus_code = si->si_code;
    siglongjmp(jb, 1);
}

/* Reads the byte at `a`, which must raise SIGBUS: 1 if it did (bus_addr and bus_code then say
 * what the handler was given). The sigsetjmp is here, where nothing changes between it and the
 * jump back: a caller's local changed in between (a loop counter) has no defined value after
 * siglongjmp, and gcc for riscv64 and aarch64 does keep the counter's next value in its stack
 * slot before the access, so a loop around sigsetjmp computed the next page's address. */
static int bus_on_read(volatile unsigned char *a) {
    bus_addr = NULL;
    if (sigsetjmp(jb, 1) == 0) {
        (void)*a;
        return 0;
    }
    return 1;
}

static void past_eof(void) {
    int fd = make_memfd(3, NULL);
    /* 3 pages and 100 bytes: the fourth page is partial. */
    CHECK(pwrite(fd, "tail", 4, 3 * PAGE) == 4);
    CHECK_OK(ftruncate(fd, 3 * PAGE + 100));
    volatile unsigned char *p = map_at(8, PROT_READ, MAP_PRIVATE, fd, 0, 0);
    CHECK(p[0] == pat(0));
    CHECK_KB(p, "Rss:", 16);
    CHECK(strcmp(resident(p, 8), "11110000") == 0);
    CHECK(p[3 * PAGE] == 't' && p[3 * PAGE + 99] == 0 && p[3 * PAGE + 100] == 0 &&
          p[4 * PAGE - 1] == 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    CHECK_OK(sigaction(SIGBUS, &sa, NULL));
    for (size_t pg = 4; pg < 8; pg += 3) {
        CHECK(bus_on_read(p + pg * PAGE + 8));
        CHECK(bus_addr == (void *)(p + pg * PAGE + 8));
        CHECK(bus_code == BUS_ADRERR);
    }
    CHECK_KB(p, "Rss:", 16);
    unmap_close(p, 8, fd);
}

int main(void) {
    sub("one_read", one_read);
    sub("window_clamped", window_clamped);
    sub("holes", holes);
    sub("write_first", write_first);
    sub("private_cow", private_cow);
    sub("shared_read", shared_read);
    sub("past_eof", past_eof);
    DONE();
}
