/* High-water marks of memory use: /proc/self/status's VmPeak and VmHWM keep the largest
 * address-space size and resident set after memory is unmapped; getrusage's ru_maxrss is
 * the peak resident set, carried across execve (RUSAGE_SELF), and a reaped child's peak
 * reaches its parent (wait4's rusage and RUSAGE_CHILDREN). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1024L * 1024)

static long status_kb(const char *name) {
    static char buf[8192];
    if (lt_slurp("/proc/self/status", buf, sizeof buf) <= 0) return -1;
    return lt_field_num(buf, name);
}

static long maxrss_kb(int who) {
    struct rusage ru;
    if (getrusage(who, &ru) != 0) return -1;
    return ru.ru_maxrss;
}

/* Maps and touches `bytes` of anonymous memory, then unmaps it. */
static void touch_and_drop(long bytes) {
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED) return;
    for (long i = 0; i < bytes; i += 4096) p[i] = 1;
    CHECK(munmap(p, bytes) == 0);
}

static void peaks(void) {
    long rss0 = status_kb("VmRSS"), size0 = status_kb("VmSize");
    CHECK(rss0 > 0 && size0 > 0);
    touch_and_drop(64 * MB);
    long rss1 = status_kb("VmRSS"), hwm = status_kb("VmHWM");
    long size1 = status_kb("VmSize"), peak = status_kb("VmPeak");
    if (hwm < rss0 + 60 * 1024 || peak < size0 + 60 * 1024)
        printf("before: rss %ld size %ld; after: rss %ld hwm %ld size %ld peak %ld\n", rss0, size0,
               rss1, hwm, size1, peak);
    CHECK(rss1 < rss0 + 16 * 1024);
    CHECK(hwm >= rss0 + 60 * 1024);
    CHECK(peak >= size0 + 60 * 1024);
    CHECK(size1 < size0 + 16 * 1024);
    long self = maxrss_kb(RUSAGE_SELF), thread = maxrss_kb(RUSAGE_THREAD);
    CHECK(self >= rss0 + 60 * 1024);
    CHECK(thread >= rss0 + 60 * 1024);
}

static void child_peak(void) {
    long before = maxrss_kb(RUSAGE_CHILDREN);
    CHECK(before >= 0 && before < 32 * 1024);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        touch_and_drop(48 * MB);
        _exit(0);
    }
    int st;
    struct rusage ru;
    CHECK(wait4(c, &st, 0, &ru) == c && WIFEXITED(st));
    CHECK(ru.ru_maxrss >= 44 * 1024);
    CHECK(maxrss_kb(RUSAGE_CHILDREN) >= 44 * 1024);
}

/* The peak before execve stays in RUSAGE_SELF after it. */
static void across_exec(void) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        touch_and_drop(40 * MB);
        char *argv[] = {"mem_hiwater", "report", NULL};
        execv("/proc/self/exe", argv);
        _exit(99);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        long self = maxrss_kb(RUSAGE_SELF);
        if (self < 36 * 1024) printf("after exec: ru_maxrss %ld kB\n", self);
        return self >= 36 * 1024 ? 0 : 1;
    }
    lt_sub("peaks", peaks, 20000);
    lt_sub("child_peak", child_peak, 20000);
    lt_sub("across_exec", across_exec, 20000);
    DONE();
}
