/* Pages made PROT_NONE and back (issue 21): they keep their contents through PROT_NONE and
 * back, whole mappings and parts of one; while PROT_NONE the kernel refuses them as user code
 * is refused (a user load: SIGSEGV with SEGV_ACCERR; write() from one, read() into one, a pipe
 * either way, process_vm_readv/writev on either side, a futex word in one: EFAULT, a buffer
 * that runs into one: the bytes before it); they stay resident (mincore, smaps' Rss); fork
 * shares them copy-on-write (mprotect back in the child sees the data, a store stays private
 * to whoever makes it; a shared mapping stays shared); mremap moves them; MADV_DONTNEED drops
 * them; munmap frees them; shared and private file pages keep what was stored. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define NP 4
#define FUTEX_WAIT_PRIVATE_OP 128

/* NP pages of private anonymous memory between two PROT_READ guard pages, so that the
 * mapping never merges with a neighbour (smaps then shows it alone). */
static char *region(int flags) {
    char *g = mmap(NULL, (NP + 2) * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED) return NULL;
    char *p = mmap(g + PAGE, NP * PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static char pattern(int seed, size_t i) { return (char)(seed + i * 7 + i / PAGE * 13); }

static void fill(char *p, size_t n, int seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(seed, i);
}

static int same(const char *p, size_t n, int seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(seed, i)) return 0;
    return 1;
}

/* mincore's answer for NP pages at p as a string of 0/1, "E" when it fails. */
static const char *resident(const void *p) {
    static char out[NP + 1];
    unsigned char v[NP];
    if (syscall(SYS_mincore, p, NP * PAGE, v) != 0) return "E";
    for (int i = 0; i < NP; i++)
        out[i] = '0' + (v[i] & 1);
    out[NP] = 0;
    return out;
}

/* The Rss (kB) /proc/self/smaps gives the mapping that starts at `addr`, or -1. */
static long smaps_rss(const void *addr) {
    static char buf[1 << 18];
    char key[40];
    if (lt_slurp("/proc/self/smaps", buf, sizeof buf) < 0) return -1;
    snprintf(key, sizeof key, "%lx-", (unsigned long)addr);
    char *at = strncmp(buf, key, strlen(key)) == 0 ? buf : NULL;
    if (!at) {
        char nk[48];
        snprintf(nk, sizeof nk, "\n%s", key);
        at = strstr(buf, nk);
        if (!at) return -1;
    }
    char *rss = strstr(at, "\nRss:");
    return rss ? strtol(rss + 5, NULL, 10) : -1;
}

static sigjmp_buf jb;
static volatile int seg_code;
static void on_segv(int s, siginfo_t *si, void *u) {
    (void)s, (void)u;
    seg_code = si->si_code;
    siglongjmp(jb, 1);
}

/* A load from `p` faults with SEGV_ACCERR. */
static int load_refused(volatile char *p) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, &old);
    seg_code = 0;
    int refused = 0;
    if (sigsetjmp(jb, 1) == 0) {
        (void)*p;
    } else {
        refused = seg_code == SEGV_ACCERR;
    }
    sigaction(SIGSEGV, &old, NULL);
    return refused;
}

/* Contents through PROT_NONE and back: the whole mapping, a page in its middle, PROT_READ. */
static void contents(void) {
    char *p = region(MAP_PRIVATE);
    CHECK(p != NULL);
    if (!p) return;
    fill(p, NP * PAGE, 1);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    CHECK(load_refused(p));
    CHECK(load_refused(p + NP * PAGE - 1));
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ));
    CHECK(same(p, NP * PAGE, 1));
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ | PROT_WRITE));
    fill(p, NP * PAGE, 2);
    CHECK_OK(mprotect(p + PAGE, PAGE, PROT_NONE));
    CHECK(load_refused(p + PAGE));
    CHECK(p[0] == pattern(2, 0) && p[2 * PAGE] == pattern(2, 2 * PAGE));
    p[2 * PAGE] = 'x';
    CHECK_OK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE));
    CHECK(same(p + PAGE, PAGE, 2 + (int)PAGE * 7 + 13));
    p[2 * PAGE] = pattern(2, 2 * PAGE);
    CHECK(same(p, NP * PAGE, 2));
    /* Never touched, made PROT_NONE and back: zeros. */
    char *q = region(MAP_PRIVATE);
    CHECK(q != NULL);
    if (q) {
        CHECK_OK(mprotect(q, NP * PAGE, PROT_NONE));
        CHECK_OK(mprotect(q, NP * PAGE, PROT_READ | PROT_WRITE));
        CHECK(q[0] == 0 && q[NP * PAGE - 1] == 0);
        munmap(q, NP * PAGE);
    }
    munmap(p, NP * PAGE);
}

/* The kernel's own accesses to a page that was written and then made PROT_NONE. */
static void kernel_refused(void) {
    char *p = region(MAP_PRIVATE);
    CHECK(p != NULL);
    if (!p) return;
    fill(p, NP * PAGE, 3);
    CHECK_OK(mprotect(p + PAGE, (NP - 1) * PAGE, PROT_NONE));
    char *none = p + PAGE;
    char buf[256];
    int fd = open("mp_file", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK_ERR(write(fd, none, 10), EFAULT);
    CHECK_ERR(pwrite(fd, none + 100, 10, 0), EFAULT);
    struct iovec wv[2] = {{(void *)"ab", 2}, {none, 10}};
    CHECK(writev(fd, wv, 2) == 2);
    /* A buffer that runs into the PROT_NONE page: what lies before it. */
    CHECK(write(fd, p + PAGE - 96, 200) == 96);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 98);
    CHECK(pread(fd, buf, 96, 2) == 96 && memcmp(buf, p + PAGE - 96, 96) == 0);
    CHECK_ERR(pread(fd, none, 10, 0), EFAULT);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_ERR(read(fd, none, 10), EFAULT);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    int z = open("/dev/zero", O_RDONLY);
    CHECK(z >= 0);
    CHECK_ERR(read(z, none, 10), EFAULT);
    CHECK_ERR(read(z, none, PAGE), EFAULT);
    CHECK(read(z, p + PAGE - 100, 200) == 100);
    CHECK(p[PAGE - 100] == 0 && p[PAGE - 1] == 0 && p[PAGE - 101] == pattern(3, PAGE - 101));
    /* A pipe: nothing taken from or given to the page, what it holds kept. */
    int pp[2];
    CHECK_OK(pipe2(pp, O_NONBLOCK));
    CHECK_ERR(write(pp[1], none, 10), EFAULT);
    CHECK_ERR(read(pp[0], buf, 10), EAGAIN);
    CHECK(write(pp[1], "pipe", 4) == 4);
    CHECK_ERR(read(pp[0], none, 4), EFAULT);
    CHECK(read(pp[0], buf, 4) == 4 && memcmp(buf, "pipe", 4) == 0);
    struct iovec sv = {none, 10};
    CHECK_ERR(vmsplice(pp[1], &sv, 1, 0), EFAULT);
    /* process_vm_readv and writev, the page on either side. */
    struct iovec lo = {buf, 16}, re = {none, 16};
    CHECK_ERR(process_vm_readv(getpid(), &lo, 1, &re, 1, 0), EFAULT);
    CHECK_ERR(process_vm_writev(getpid(), &lo, 1, &re, 1, 0), EFAULT);
    lo.iov_base = none;
    re.iov_base = p;
    CHECK_ERR(process_vm_readv(getpid(), &lo, 1, &re, 1, 0), EFAULT);
    CHECK_ERR(process_vm_writev(getpid(), &lo, 1, &re, 1, 0), EFAULT);
    /* A futex word in it; a path in it. */
    CHECK_ERR(syscall(SYS_futex, none, FUTEX_WAIT_PRIVATE_OP, 0, NULL, NULL, 0), EFAULT);
    memcpy(p, "mp_file", 8);
    CHECK_OK(mprotect(p, PAGE, PROT_NONE));
    CHECK_ERR(open(p, O_RDONLY), EFAULT);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ));
    CHECK(open(p, O_RDONLY) >= 0);
    CHECK(same(p + PAGE, (NP - 1) * PAGE, 3 + (int)PAGE * 7 + 13));
    close(fd);
    close(z);
    close(pp[0]);
    close(pp[1]);
    unlink("mp_file");
    munmap(p, NP * PAGE);
}

/* mincore and smaps' Rss: PROT_NONE pages that were touched stay resident. */
static void residency(void) {
    char *p = region(MAP_PRIVATE);
    CHECK(p != NULL);
    if (!p) return;
    p[0] = 1;
    p[2 * PAGE] = 1;
    CHECK(strcmp(resident(p), "1010") == 0);
    CHECK(smaps_rss(p) == 8);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    CHECK(strcmp(resident(p), "1010") == 0);
    long rss = smaps_rss(p);
    CHECK(rss == 8);
    if (rss != 8) printf("Rss of the PROT_NONE mapping: %ld kB\n", rss);
    /* MADV_DONTNEED drops them: zeros when they come back. */
    CHECK_OK(madvise(p, 2 * PAGE, MADV_DONTNEED));
    CHECK(strcmp(resident(p), "0010") == 0);
    CHECK(smaps_rss(p) == 4);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ));
    CHECK(p[0] == 0 && p[2 * PAGE] == 1);
    /* munmap of a PROT_NONE mapping with pages. */
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    CHECK_OK(munmap(p, NP * PAGE));
    CHECK(strcmp(resident(p), "E") == 0);
}

/* mremap moves PROT_NONE pages with their contents. */
static void moved(void) {
    char *p = region(MAP_PRIVATE);
    char *d = mmap(NULL, NP * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != NULL && d != MAP_FAILED);
    if (!p || d == MAP_FAILED) return;
    fill(p, 2 * PAGE, 4);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    char *m = mremap(p, NP * PAGE, NP * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, d);
    CHECK(m == d);
    CHECK(strcmp(resident(p), "E") == 0);
    CHECK(strcmp(resident(d), "1100") == 0);
    CHECK(load_refused(d));
    CHECK_OK(mprotect(d, NP * PAGE, PROT_READ));
    CHECK(same(d, 2 * PAGE, 4));
    CHECK(d[3 * PAGE] == 0);
    munmap(d, NP * PAGE);
}

/* fork: the child gets the PROT_NONE pages copy-on-write. */
static void forked(void) {
    char *p = region(MAP_PRIVATE);
    CHECK(p != NULL);
    if (!p) return;
    fill(p, NP * PAGE, 5);
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    /* The child makes them readable and writable again and stores: the parent's stay. */
    pid_t c = fork();
    if (c == 0) {
        lt_failures = 0;
        CHECK(load_refused(p));
        CHECK(strcmp(resident(p), "1111") == 0);
        CHECK_OK(mprotect(p, NP * PAGE, PROT_READ | PROT_WRITE));
        CHECK(same(p, NP * PAGE, 5));
        fill(p, NP * PAGE, 6);
        CHECK(same(p, NP * PAGE, 6));
        _exit(lt_failures ? 1 : 0);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(load_refused(p + PAGE));
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ | PROT_WRITE));
    CHECK(same(p, NP * PAGE, 5));
    /* The parent stores after the fork: the child, still PROT_NONE, keeps what it had. */
    CHECK_OK(mprotect(p, NP * PAGE, PROT_NONE));
    int go[2];
    CHECK_OK(pipe(go));
    c = fork();
    if (c == 0) {
        lt_failures = 0;
        char b;
        CHECK(read(go[0], &b, 1) == 1);
        CHECK_OK(mprotect(p, NP * PAGE, PROT_READ));
        CHECK(same(p, NP * PAGE, 5));
        _exit(lt_failures ? 1 : 0);
    }
    CHECK_OK(mprotect(p, NP * PAGE, PROT_READ | PROT_WRITE));
    fill(p, NP * PAGE, 7);
    CHECK(write(go[1], "g", 1) == 1);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(same(p, NP * PAGE, 7));
    close(go[0]);
    close(go[1]);
    munmap(p, NP * PAGE);
    /* A shared mapping stays shared through PROT_NONE and fork. */
    char *s = region(MAP_SHARED);
    CHECK(s != NULL);
    if (!s) return;
    fill(s, NP * PAGE, 8);
    CHECK_OK(mprotect(s, NP * PAGE, PROT_NONE));
    c = fork();
    if (c == 0) {
        lt_failures = 0;
        CHECK_OK(mprotect(s, NP * PAGE, PROT_READ | PROT_WRITE));
        CHECK(same(s, NP * PAGE, 8));
        fill(s, NP * PAGE, 9);
        _exit(lt_failures ? 1 : 0);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK_OK(mprotect(s, NP * PAGE, PROT_READ));
    CHECK(same(s, NP * PAGE, 9));
    munmap(s, NP * PAGE);
}

/* File pages: a shared mapping's stores are the file's, PROT_NONE or not; a private
 * mapping's own copy survives PROT_NONE and back. */
static void files(void) {
    int fd = open("mp_map", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    char page[PAGE];
    memset(page, 'F', sizeof page);
    CHECK(write(fd, page, PAGE) == (ssize_t)PAGE && write(fd, page, PAGE) == (ssize_t)PAGE);
    char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[0] = 'S';
        CHECK_OK(mprotect(m, 2 * PAGE, PROT_NONE));
        char b[2] = {0};
        CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 'S');
        CHECK(pwrite(fd, "w", 1, 1) == 1);
        CHECK_ERR(pwrite(fd, m, 1, 2), EFAULT);
        CHECK_OK(mprotect(m, 2 * PAGE, PROT_READ));
        CHECK(m[0] == 'S' && m[1] == 'w' && m[2] == 'F' && m[PAGE] == 'F');
        munmap(m, 2 * PAGE);
    }
    char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED);
    if (q != MAP_FAILED) {
        CHECK(q[PAGE] == 'F');
        q[0] = 'P';
        CHECK_OK(mprotect(q, 2 * PAGE, PROT_NONE));
        CHECK_OK(mprotect(q, 2 * PAGE, PROT_READ | PROT_WRITE));
        CHECK(q[0] == 'P' && q[1] == 'w' && q[PAGE] == 'F');
        char b[2] = {0};
        CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 'S');
        munmap(q, 2 * PAGE);
    }
    close(fd);
    unlink("mp_map");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    lt_sub("contents", contents, 20000);
    lt_sub("kernel_refused", kernel_refused, 20000);
    lt_sub("residency", residency, 20000);
    lt_sub("moved", moved, 20000);
    lt_sub("forked", forked, 20000);
    lt_sub("files", files, 20000);
    DONE();
}
