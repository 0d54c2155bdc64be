/* Overcommit (vm.overcommit_memory): mode 0 refuses one private writable mapping larger than
 * RAM + swap unless MAP_NORESERVE; mode 1 grants everything; mode 2 refuses mmap, brk, mremap
 * growth and mprotect(PROT_WRITE) of private memory past CommitLimit, MAP_NORESERVE or not.
 * /proc/meminfo's CommitLimit is RAM × overcommit_ratio / 100 + swap and Committed_AS moves
 * with what is mapped. A MAP_GROWSDOWN mapping's growth is committed memory too: in mode 2 a
 * fault that would grow it past the limit raises SIGSEGV (acct_stack_growth's
 * security_vm_enough_memory_mm), while a page's growth goes on.
 *
 * Safe on the host too: the sysctls are only written as root, the ratio is never changed
 * (only written back with its own value), and mode 2 lasts a few system calls in a child,
 * while the parent restores the old mode whatever happens to the child. Each refusal asks for
 * more than the free commit headroom plus 1 GiB, so no memory is ever touched, and mode 2
 * with the host's own ratio refuses others only what the same limit would refuse anyway. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define GiB (1UL << 30)
#define MiB (1UL << 20)

static long read_num(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atol(buf) : -1;
}

static int write_num(const char *path, long v) {
    char buf[32];
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    int len = snprintf(buf, sizeof buf, "%ld\n", v);
    ssize_t n = write(fd, buf, len);
    close(fd);
    return n == len ? 0 : -1;
}

/* A /proc/meminfo field in kB. */
static long meminfo(const char *key) {
    static char buf[8192];
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    size_t kl = strlen(key);
    for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') return atol(p + kl + 1);
    }
    return -1;
}

#define MODE "/proc/sys/vm/overcommit_memory"
#define RATIO "/proc/sys/vm/overcommit_ratio"
#define KBYTES "/proc/sys/vm/overcommit_kbytes"

static const int RW = PROT_READ | PROT_WRITE;
static const int PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

/* Bytes that mode 2 must refuse: past the limit whatever else runs. */
static size_t too_much(void) {
    long limit = meminfo("CommitLimit"), used = meminfo("Committed_AS");
    long free_kb = limit > used ? limit - used : 0;
    return (size_t)free_kb * 1024 + GiB;
}

static void meminfo_fields(void) {
    long total = meminfo("MemTotal"), swap = meminfo("SwapTotal");
    long limit = meminfo("CommitLimit"), ratio = read_num(RATIO);
    CHECK(total > 0 && swap >= 0 && limit > 0 && meminfo("Committed_AS") >= 0);
    CHECK(ratio >= 0);
    CHECK(read_num(KBYTES) >= 0);
    if (read_num(KBYTES) == 0) {
        long want = total / 100 * ratio + swap;
        long diff = limit > want ? limit - want : want - limit;
        if (diff > want / 50 + 1024) {
            printf("CommitLimit %ld kB, expected about %ld kB\n", limit, want);
            lt_failures++;
        }
    }
    /* Committed_AS follows a private writable mapping (several tries: other processes on
     * the host change it too). */
    int seen = 0;
    for (int i = 0; i < 5 && !seen; i++) {
        long before = meminfo("Committed_AS");
        void *p = mmap(NULL, 256 * MiB, RW, PRIV, -1, 0);
        CHECK(p != MAP_FAILED);
        long during = meminfo("Committed_AS");
        munmap(p, 256 * MiB);
        long after = meminfo("Committed_AS");
        long grew = during - before, shrank = during - after;
        seen = grew > 200 * 1024 && grew < 312 * 1024 && shrank > 200 * 1024 && shrank < 312 * 1024;
    }
    CHECK(seen);
    /* A read-only or MAP_NORESERVE mapping is not committed. */
    seen = 0;
    for (int i = 0; i < 5 && !seen; i++) {
        long before = meminfo("Committed_AS");
        void *p = mmap(NULL, 256 * MiB, PROT_READ, PRIV, -1, 0);
        void *q = mmap(NULL, 256 * MiB, RW, PRIV | MAP_NORESERVE, -1, 0);
        CHECK(p != MAP_FAILED && q != MAP_FAILED);
        long during = meminfo("Committed_AS");
        munmap(p, 256 * MiB);
        munmap(q, 256 * MiB);
        seen = during - before < 100 * 1024;
    }
    CHECK(seen);
}

static void mode0(void) {
    size_t big = (size_t)(meminfo("MemTotal") + meminfo("SwapTotal")) * 1024 * 2;
    CHECK(mmap(NULL, big, RW, PRIV, -1, 0) == MAP_FAILED && errno == ENOMEM);
    void *p = mmap(NULL, big, RW, PRIV | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, big);
    /* Read-only private memory is not committed. */
    p = mmap(NULL, big, PROT_READ, PRIV, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, big);
}

static void mode1(void) {
    size_t big = (size_t)(meminfo("MemTotal") + meminfo("SwapTotal")) * 1024 * 2;
    void *p = mmap(NULL, big, RW, PRIV, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, big);
    p = mmap(NULL, big, RW, PRIV | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, big);
}

static sigjmp_buf grow_jb;
static volatile int grow_sig, grow_code;

static void grow_handler(int s, siginfo_t *si, void *u) {
    (void)u;
    grow_sig = s;
    grow_code = si->si_code;
    siglongjmp(grow_jb, 1);
}

/* Stores to `p`: 0, or the signal it raised. */
static int store_at(volatile char *p) {
    grow_sig = 0;
    if (!sigsetjmp(grow_jb, 1)) {
        *p = 1;
        return 0;
    }
    return grow_sig;
}

/* A one-page MAP_GROWSDOWN mapping with `room` free bytes below it (and RLIMIT_STACK
 * lifted, so that only the commit limit holds a growth back); its address. */
static char *growsdown_with_room(size_t room) {
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    CHECK_OK(setrlimit(RLIMIT_STACK, &rl));
    size_t span = room + 8 * MiB;
    char *area = mmap(NULL, span, PROT_NONE, PRIV | MAP_NORESERVE, -1, 0);
    CHECK(area != MAP_FAILED);
    if (area == MAP_FAILED) return NULL;
    CHECK_OK(munmap(area, span));
    char *top = area + span - 4096;
    char *g = mmap(top, 4096, RW, PRIV | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(g == top);
    return g == top ? g : NULL;
}

/* Runs in a child: mode 2 lasts from here to the end of the function. */
static void mode2(void) {
    size_t big = too_much();
    /* Before switching: the read-only mapping and the first page, for mprotect and mremap. */
    char *ro = mmap(NULL, big, PROT_READ, PRIV, -1, 0);
    char *small = mmap(NULL, 4096, RW, PRIV, -1, 0);
    void *brk0 = sbrk(0);
    struct sigaction sa = {0};
    sa.sa_sigaction = grow_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    char *g = growsdown_with_room(big + 8 * MiB);
    CHECK(ro != MAP_FAILED && small != MAP_FAILED);
    if (write_num(MODE, 2) != 0) {
        printf("cannot write %s: %s\n", MODE, strerror(errno));
        lt_failures++;
        return;
    }
    void *a = mmap(NULL, big, RW, PRIV, -1, 0);
    int e1 = errno;
    void *b = mmap(NULL, big, RW, PRIV | MAP_NORESERVE, -1, 0);
    int e2 = errno;
    int r3 = mprotect(ro, big, RW);
    int e3 = errno;
    void *m = mremap(small, 4096, big, MREMAP_MAYMOVE);
    int e4 = errno;
    void *s = sbrk(big);
    int e5 = errno;
    /* A growing mapping's growth past the limit, then by a page. */
    int far = g ? store_at(g - big) : -1, far_code = grow_code;
    int near = g ? store_at(g - 4096) : -1;
    void *ok = mmap(NULL, 4 * MiB, RW, PRIV, -1, 0);
    int e6 = errno;
    write_num(MODE, 0);
    /* Outside mode 2 the same growth goes on (when it is no bigger than RAM: mode 0's
     * guess refuses more); `ok` may have gone just below the growing mapping. */
    if (ok != MAP_FAILED) munmap(ok, 4 * MiB);
    if (g && big < (size_t)meminfo("MemTotal") * 1024) CHECK(store_at(g - big) == 0);

    CHECK(a == MAP_FAILED && e1 == ENOMEM);
    CHECK(b == MAP_FAILED && e2 == ENOMEM); /* MAP_NORESERVE means nothing in mode 2 */
    CHECK(r3 == -1 && e3 == ENOMEM);
    CHECK(m == MAP_FAILED && e4 == ENOMEM);
    CHECK(s == (void *)-1 && e5 == ENOMEM);
    CHECK(sbrk(0) == brk0);
    CHECK(far == SIGSEGV && far_code == SEGV_MAPERR);
    CHECK(near == 0);
    if (ok == MAP_FAILED) printf("small mapping in mode 2: %s\n", strerror(e6));
    CHECK(ok != MAP_FAILED);
    /* A mapping made in mode 2 with MAP_NORESERVE stays committed after it. */
}

int main(void) {
    long mode = read_num(MODE), ratio = read_num(RATIO);
    CHECK(mode >= 0 && mode <= 2);
    CHECK(ratio >= 0);
    meminfo_fields();
    if (geteuid() != 0 || mode < 0 || ratio < 0) DONE();

    /* Bad values are refused; writing the ratio back keeps it. */
    CHECK_ERR(write_num(MODE, 3), EINVAL);
    CHECK_ERR(write_num(MODE, -1), EINVAL);
    CHECK(read_num(MODE) == mode);
    CHECK_OK(write_num(RATIO, ratio));
    CHECK(read_num(RATIO) == ratio);

    CHECK_OK(write_num(MODE, 0));
    lt_sub("mode0", mode0, 10000);
    CHECK_OK(write_num(MODE, 1));
    CHECK(read_num(MODE) == 1);
    lt_sub("mode1", mode1, 10000);
    CHECK_OK(write_num(MODE, 0));
    lt_sub("mode2", mode2, 10000);
    /* Whatever happened to the child, the old mode comes back. */
    CHECK_OK(write_num(MODE, mode));
    CHECK(read_num(MODE) == mode);
    DONE();
}
