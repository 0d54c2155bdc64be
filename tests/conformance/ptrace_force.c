/* A debugger's access to memory its tracee cannot reach itself (Linux's FOLL_FORCE, which
 * /proc/PID/mem and PTRACE_PEEK/POKE{TEXT,DATA} use and process_vm_readv does not): a
 * PROT_NONE page is read (its contents, or zeros when never touched) and written, a
 * read-only private page (anonymous or of a file opened read-only) is written by breaking
 * COW: the tracee sees the new bytes, the tracer's copy and the file keep theirs. A shared
 * read-only mapping is read but not written (EIO from both interfaces: check_vma_flags
 * refuses FOLL_FORCE writes to mappings that are not COW), and a /proc/PID/mem access that
 * runs into an unmapped page moves the bytes before it (EIO when there are none; a POKEDATA
 * across the end is EIO but has stored the bytes before it, as __access_remote_vm does). */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define PG 4096L

static unsigned char *none_p;  /* PROT_NONE, filled with 'N' before */
static unsigned char *none0_p; /* PROT_NONE, never touched */
static unsigned char *ro_p;    /* PROT_READ anonymous private, filled with 'R' before */
static unsigned char *rof_p;   /* PROT_READ private mapping of a file of 'F' opened O_RDONLY */
static unsigned char *shro_p;  /* PROT_READ shared mapping of the same file */
static unsigned char *edge_p;  /* a writable page followed by an unmapped one */

static const uint64_t POKE = 0x1122334455667788ull;

static int word_is(const unsigned char *p, uint64_t v) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w == v;
}

static int filled(const unsigned char *p, long n, unsigned char c) {
    for (long i = 0; i < n; i++)
        if (p[i] != c) return 0;
    return 1;
}

/* The tracee, once the tracer is done: what it sees of each page (exit code: the first
 * check that failed). */
static void body(void) {
    if (mprotect(none_p, PG, PROT_READ) != 0 || mprotect(none0_p, PG, PROT_READ) != 0) _exit(20);
    if (!word_is(none_p + 8, POKE)) _exit(21);
    if (memcmp(none_p + 200, "hello", 5) != 0) _exit(22);
    if (none_p[0] != 'N' || none_p[16] != 'N' || none_p[PG - 1] != 'N') _exit(23);
    if (!word_is(none0_p, POKE) || !filled(none0_p + 8, PG - 8, 0)) _exit(24);
    if (!word_is(ro_p + 64, POKE) || memcmp(ro_p + 300, "world", 5) != 0) _exit(25);
    if (ro_p[0] != 'R' || ro_p[72] != 'R') _exit(26);
    if (!word_is(rof_p + 16, POKE) || memcmp(rof_p + 400, "file!", 5) != 0) _exit(27);
    if (rof_p[0] != 'F' || rof_p[24] != 'F') _exit(28);
    if (!filled(shro_p, PG, 'F')) _exit(29);
    /* The failed POKEDATA across the page's end still stored the bytes before it. */
    if (memcmp(edge_p + PG - 8, "1234\0\0\0\0", 8) != 0) _exit(30);
    _exit(0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int ffd = open("ptrace_force.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(ffd >= 0);
    static unsigned char fbuf[PG];
    memset(fbuf, 'F', PG);
    CHECK(pwrite(ffd, fbuf, PG, 0) == PG);
    close(ffd);
    int rfd = open("ptrace_force.dat", O_RDONLY);
    CHECK(rfd >= 0);

    unsigned char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(m != MAP_FAILED);
    none_p = m;
    none0_p = m + PG;
    ro_p = m + 2 * PG;
    memset(none_p, 'N', PG);
    memset(ro_p, 'R', PG);
    CHECK_OK(mprotect(none_p, 2 * PG, PROT_NONE));
    CHECK_OK(mprotect(ro_p, PG, PROT_READ));
    rof_p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, rfd, 0);
    shro_p = mmap(NULL, PG, PROT_READ, MAP_SHARED, rfd, 0);
    CHECK(rof_p != MAP_FAILED && shro_p != MAP_FAILED);
    CHECK(rof_p[0] == 'F'); /* the page is in the page cache and mapped in both processes */
    edge_p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(edge_p != MAP_FAILED);
    CHECK_OK(munmap(edge_p + PG, PG));
    memset(edge_p, 'E', PG);

    pid_t pid = pt_traced_child(body);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
#define AT(p) ((off_t)(uintptr_t)(p))

    /* Reads: PROT_NONE pages too, a never-touched one as zeros. */
    unsigned char b[64];
    CHECK(pread(fd, b, 16, AT(none_p + 100)) == 16 && filled(b, 16, 'N'));
    CHECK(pread(fd, b, 16, AT(none0_p + 100)) == 16 && filled(b, 16, 0));
    CHECK(pread(fd, b, 16, AT(ro_p)) == 16 && filled(b, 16, 'R'));
    CHECK(pread(fd, b, 16, AT(shro_p)) == 16 && filled(b, 16, 'F'));
    /* Across PROT_NONE into the read-only page: one read. */
    CHECK(pread(fd, b, 64, AT(ro_p - 32)) == 64 && filled(b, 32, 0) && filled(b + 32, 32, 'R'));
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, (void *)none_p, 0);
    CHECK(errno == 0 && (uint64_t)w == 0x4e4e4e4e4e4e4e4eull);
    errno = 0;
    w = ptrace(PTRACE_PEEKTEXT, pid, (void *)(none0_p + 8), 0);
    CHECK(errno == 0 && w == 0);
    errno = 0;
    w = ptrace(PTRACE_PEEKDATA, pid, (void *)shro_p, 0);
    CHECK(errno == 0 && (uint64_t)w == 0x4646464646464646ull);

    /* Writes: PROT_NONE and read-only private pages. */
    CHECK_OK(ptrace(PTRACE_POKEDATA, pid, (void *)(none_p + 8), (void *)(uintptr_t)POKE));
    CHECK(pwrite(fd, "hello", 5, AT(none_p + 200)) == 5);
    CHECK_OK(ptrace(PTRACE_POKETEXT, pid, (void *)none0_p, (void *)(uintptr_t)POKE));
    CHECK_OK(ptrace(PTRACE_POKEDATA, pid, (void *)(ro_p + 64), (void *)(uintptr_t)POKE));
    CHECK(pwrite(fd, "world", 5, AT(ro_p + 300)) == 5);
    CHECK_OK(ptrace(PTRACE_POKETEXT, pid, (void *)(rof_p + 16), (void *)(uintptr_t)POKE));
    CHECK(pwrite(fd, "file!", 5, AT(rof_p + 400)) == 5);
    /* Read back through the other interface. */
    errno = 0;
    w = ptrace(PTRACE_PEEKDATA, pid, (void *)(none_p + 200), 0);
    CHECK(errno == 0 && memcmp(&w, "helloNNN", 8) == 0);
    CHECK(pread(fd, b, 8, AT(rof_p + 16)) == 8 && word_is(b, POKE));

    /* A shared read-only mapping is not written. */
    CHECK_ERR(ptrace(PTRACE_POKEDATA, pid, (void *)shro_p, (void *)(uintptr_t)POKE), EIO);
    CHECK_ERR(pwrite(fd, "x", 1, AT(shro_p + 8)), EIO);

    /* Into an unmapped page: the bytes before it, or EIO. */
    CHECK(pwrite(fd, "1234567890abcdef", 16, AT(edge_p + PG - 8)) == 8);
    CHECK(pread(fd, b, 16, AT(edge_p + PG - 8)) == 8 && memcmp(b, "12345678", 8) == 0);
    CHECK_ERR(pwrite(fd, "x", 1, AT(edge_p + PG)), EIO);
    CHECK_ERR(pread(fd, b, 1, AT(edge_p + PG)), EIO);
    errno = 0;
    CHECK(ptrace(PTRACE_PEEKDATA, pid, (void *)(edge_p + PG - 4), 0) == -1 && errno == EIO);
    CHECK_ERR(ptrace(PTRACE_POKEDATA, pid, (void *)(edge_p + PG - 4), 0), EIO);

    /* process_vm_readv is not forced: EFAULT on the PROT_NONE page. */
    struct iovec lo = {b, 8}, re = {none_p, 8};
    CHECK_ERR(process_vm_readv(pid, &lo, 1, &re, 1, 0), EFAULT);
    close(fd);

    /* The tracee sees every write; the tracer's own pages and the file are unchanged. */
    pt_finish(pid, 0);
    CHECK_OK(mprotect(none_p, 2 * PG, PROT_READ));
    CHECK(filled(none_p, PG, 'N') && filled(none0_p, PG, 0));
    CHECK(filled(ro_p, PG, 'R'));
    CHECK(filled(rof_p, PG, 'F') && filled(shro_p, PG, 'F'));
    CHECK(edge_p[PG - 8] == 'E');
    CHECK(pread(rfd, fbuf, PG, 0) == PG && filled(fbuf, PG, 'F'));
    close(rfd);
    unlink("ptrace_force.dat");
    DONE();
}
