/* MAP_GROWSDOWN (Linux's VM_GROWSDOWN, mm/mmap.c's expand_downwards and acct_stack_growth):
 * a private anonymous mapping that a fault below grows down to the faulting page, however
 * far below, unless an accessible mapping that does not grow lies within stack_guard_gap
 * (256 pages) under the new start, or the grown mapping would exceed RLIMIT_STACK; then the
 * fault is SIGSEGV (SEGV_MAPERR). A kernel access below grows it too. mmap leaves the gap
 * free for mappings it places; /proc/PID/maps shows the mapping as any anonymous one and
 * smaps' VmFlags has "gd"; mprotect with PROT_GROWSDOWN reaches down to its start (EINVAL
 * on a mapping that does not grow); shared or file mappings cannot grow (EINVAL). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define PG 4096UL
#define GAP (256 * PG)
#define MB (1UL << 20)

static sigjmp_buf jb;
static volatile int sig, code;

static void handler(int s, siginfo_t *si, void *u) {
    (void)u;
    sig = s;
    code = si->si_code;
    siglongjmp(jb, 1);
}

/* Stores to `p`: 0, or the signal it raised. */
static int touch(volatile char *p) {
    sig = 0;
    if (!sigsetjmp(jb, 1)) {
        *p = 7;
        return 0;
    }
    return sig;
}

/* The maps line of the mapping holding `a`: its bounds, protection and name. */
static int maps_of(void *a, unsigned long *lo, unsigned long *hi, char *perm, char *flags) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int found = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        char pm[8];
        int n = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %*u%n", &s, &e, pm, &n) == 3) {
            found = s <= (unsigned long)a && (unsigned long)a < e;
            if (found) {
                *lo = s;
                *hi = e;
                strcpy(perm, pm);
                /* No name after the inode. */
                char *rest = line + n;
                while (*rest == ' ')
                    rest++;
                CHECK(*rest == '\n');
            }
        } else if (found && strncmp(line, "VmFlags:", 8) == 0) {
            strcpy(flags, line + 8);
            fclose(f);
            return 1;
        }
    }
    fclose(f);
    return 0;
}

/* A free, 64 MiB region to place mappings in. */
static char *region(void) {
    char *r = mmap(NULL, 64 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(r != MAP_FAILED);
    CHECK_OK(munmap(r, 64 * MB));
    return r;
}

static char *growing(char *at, size_t len) {
    char *g = mmap(at, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
    CHECK(g == at);
    return g;
}

static void grows(char *r) {
    char *g = growing(r + 32 * MB, 4 * PG);
    unsigned long lo = 0, hi = 0;
    char perm[8] = "", flags[256] = "";
    CHECK(maps_of(g, &lo, &hi, perm, flags));
    CHECK(lo == (unsigned long)g && hi == (unsigned long)g + 4 * PG);
    CHECK(strcmp(perm, "rw-p") == 0);
    CHECK(strstr(flags, " gd ") != NULL);
    /* The page just below. */
    CHECK(touch(g - 1) == 0);
    CHECK(maps_of(g - 1, &lo, &hi, perm, flags));
    CHECK(lo == (unsigned long)g - PG && hi == (unsigned long)g + 4 * PG);
    CHECK(strstr(flags, " gd ") != NULL);
    /* Far below: the whole way down becomes part of it. */
    CHECK(touch(g - 100 * PG + 5) == 0);
    CHECK(maps_of(g - 50 * PG, &lo, &hi, perm, flags));
    CHECK(lo == (unsigned long)g - 100 * PG && hi == (unsigned long)g + 4 * PG);
    CHECK(g[-1] == 7 && g[-100 * (long)PG + 5] == 7 && g[-50 * (long)PG] == 0);
    /* A kernel store below grows it as well. */
    int fd[2];
    CHECK_OK(pipe(fd));
    CHECK(write(fd[1], "abcd", 4) == 4);
    CHECK(read(fd[0], g - 200 * PG, 4) == 4);
    CHECK(memcmp(g - 200 * PG, "abcd", 4) == 0);
    close(fd[0]);
    close(fd[1]);
    /* mprotect with PROT_GROWSDOWN reaches down to the start. */
    CHECK_OK(mprotect(g + PG, PG, PROT_READ | PROT_GROWSDOWN));
    CHECK(maps_of(g - 200 * PG, &lo, &hi, perm, flags));
    CHECK(lo == (unsigned long)g - 200 * PG && hi == (unsigned long)g + 2 * PG);
    CHECK(strcmp(perm, "r--p") == 0);
    CHECK(maps_of(g + 2 * PG, &lo, &hi, perm, flags));
    CHECK(lo == (unsigned long)g + 2 * PG && strcmp(perm, "rw-p") == 0);
    CHECK_OK(munmap(g - 200 * PG, 204 * PG));
}

static void guard_gap(char *r) {
    /* An accessible mapping exactly a gap and a page below: the page just below grows,
     * the next one would come within the gap. */
    char *g = growing(r + 32 * MB, 4 * PG);
    char *under = mmap(g - GAP - 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0);
    CHECK(under == g - GAP - 2 * PG);
    CHECK(touch(g - 1) == 0);
    CHECK(touch(g - PG - 1) == SIGSEGV && code == SEGV_MAPERR);
    /* Nor does a kernel store grow it there. */
    int fd[2];
    CHECK_OK(pipe(fd));
    CHECK(write(fd[1], "abcd", 4) == 4);
    CHECK_ERR(read(fd[0], g - 2 * PG, 4), EFAULT);
    close(fd[0]);
    close(fd[1]);
    /* mprotect PROT_GROWSDOWN on a mapping that does not grow. */
    CHECK_ERR(mprotect(under, PG, PROT_READ | PROT_GROWSDOWN), EINVAL);
    CHECK_OK(munmap(under, PG));
    CHECK_OK(munmap(g - PG, 5 * PG));

    /* A mapping without access below does not count. */
    g = growing(r + 40 * MB, 4 * PG);
    char *none = mmap(g - 2 * PG, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(none == g - 2 * PG);
    CHECK(touch(g - 1) == 0);
    CHECK(touch(g - PG - 1) == SIGSEGV && code == SEGV_ACCERR);
    CHECK_OK(munmap(g - 2 * PG, 6 * PG));

    /* mmap keeps the gap free: a hint inside it is not taken. */
    g = growing(r + 48 * MB, 4 * PG);
    char *h = mmap(g - 8 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(h != MAP_FAILED && (h >= g + 4 * PG || h + PG <= g - GAP));
    CHECK(h == MAP_FAILED || munmap(h, PG) == 0);
    h = mmap(g - GAP - PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(h == g - GAP - PG);
    CHECK(h == MAP_FAILED || munmap(h, PG) == 0);
    CHECK_OK(munmap(g, 4 * PG));
}

static void stack_limit(char *r) {
    /* The whole mapping counts against RLIMIT_STACK: with 16 pages, a 4-page mapping grows
     * by 12. */
    struct rlimit old, small = {16 * PG, 16 * PG};
    CHECK_OK(getrlimit(RLIMIT_STACK, &old));
    small.rlim_max = old.rlim_max;
    CHECK_OK(setrlimit(RLIMIT_STACK, &small));
    char *g = growing(r + 32 * MB, 4 * PG);
    int i = 1;
    while (i < 40 && touch(g - i * PG) == 0)
        i++;
    CHECK(i == 13 && sig == SIGSEGV && code == SEGV_MAPERR);
    CHECK_OK(setrlimit(RLIMIT_STACK, &old));
    CHECK(touch(g - 13 * PG) == 0);
    CHECK_OK(munmap(g - 13 * PG, 17 * PG));
}

static void refused(void) {
    CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1,
               0) == MAP_FAILED &&
          errno == EINVAL);
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_OK(ftruncate(fileno(f), PG));
    CHECK(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fileno(f), 0) == MAP_FAILED &&
          errno == EINVAL);
    CHECK(mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_GROWSDOWN, fileno(f), 0) == MAP_FAILED &&
          errno == EINVAL);
    fclose(f);
    /* Placed by mmap itself, it is usable. */
    char *g = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
    CHECK(g != MAP_FAILED);
    if (g != MAP_FAILED) {
        g[0] = 1;
        g[2 * PG - 1] = 1;
    }
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    char *r = region();
    grows(r);
    guard_gap(r);
    stack_limit(r);
    refused();
    DONE();
}
