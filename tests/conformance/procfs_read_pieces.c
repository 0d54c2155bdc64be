/* /proc files read in small pieces while what they describe changes between the reads: the
 * pieces join into whole lines of the file's format, never a line torn between two states.
 * Linux's seq_file keeps the text it made for the open file and continues in it (a
 * single-record file such as /proc/self/stat is one snapshot; /proc/self/maps continues at
 * the next whole record). A read at offset 0 makes the text again. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static char text[1 << 20];

/* Reads `path` in pieces of `chunk` bytes, calling `between` after each piece. */
static long read_pieces(const char *path, size_t chunk, void (*between)(int)) {
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    long n = 0;
    ssize_t r;
    int i = 0;
    while (n < (long)sizeof text - 1 && (r = read(fd, text + n, chunk)) > 0) {
        n += r;
        between(i++);
    }
    CHECK(r >= 0);
    close(fd);
    text[n] = 0;
    return n;
}

static void *spot[64];

/* Maps and unmaps pages below and above everything, so that lines come and go before and
 * after the part already read. */
static void churn_maps(int i) {
    int k = i % 64;
    if (spot[k]) {
        munmap(spot[k], 4096);
        spot[k] = 0;
    } else {
        spot[k] = mmap(0, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (spot[k] == MAP_FAILED) spot[k] = 0;
    }
}

static void t_maps(void) {
    long n = read_pieces("/proc/self/maps", 5, churn_maps);
    CHECK(n > 0 && text[n - 1] == '\n');
    unsigned long prev_end = 0;
    int lines = 0;
    for (char *line = text; *line; lines++) {
        char *nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl) break;
        *nl = 0;
        unsigned long s, e, off, ino;
        char perms[8];
        unsigned maj, min;
        int used = 0;
        int got = sscanf(line, "%lx-%lx %7s %lx %x:%x %lu%n", &s, &e, perms, &off, &maj, &min,
                         &ino, &used);
        if (got != 7 || s >= e || strlen(perms) != 4 || s < prev_end) {
            printf("torn or unordered maps line %d: \"%s\"\n", lines, line);
            CHECK(0);
            break;
        }
        prev_end = e;
        line = nl + 1;
    }
    CHECK(lines > 3);
    for (int k = 0; k < 64; k++)
        if (spot[k]) munmap(spot[k], 4096), spot[k] = 0;
}

static volatile unsigned long sink;

/* Uses CPU time and changes the process's counters (faults, time) between the pieces. */
static void churn_stat(int i) {
    for (unsigned long j = 0; j < 200000; j++) sink += j ^ (unsigned long)i;
    churn_maps(i);
}

static void t_stat(void) {
    long n = read_pieces("/proc/self/stat", 3, churn_stat);
    CHECK(n > 0 && text[n - 1] == '\n');
    /* One line: "pid (comm) state" then 49 more numeric fields. */
    CHECK(strchr(text, '\n') == text + n - 1);
    char *rp = strrchr(text, ')');
    CHECK(rp != NULL);
    if (!rp) return;
    int fields = 0;
    for (char *tok = strtok(rp + 2, " \n"); tok; tok = strtok(NULL, " \n")) {
        fields++;
        if (fields == 1) {
            CHECK(strlen(tok) == 1);
            continue;
        }
        char *end;
        strtoll(tok, &end, 10);
        if (*end) {
            printf("field %d not a number: \"%s\"\n", fields + 2, tok);
            CHECK(0);
        }
    }
    CHECK(fields >= 50);
    if (fields < 50) printf("%d fields after comm: \"%s\"\n", fields, rp + 2);
}

/* Reading from offset 0 again makes the text again: the second read of /proc/self/stat at
 * offset 0 shows the CPU time used since the first. */
static void t_reread(void) {
    int fd = open("/proc/self/stat", O_RDONLY);
    CHECK(fd >= 0);
    char a[1024], b[1024];
    ssize_t na = pread(fd, a, sizeof a - 1, 0);
    CHECK(na > 0);
    a[na > 0 ? na : 0] = 0;
    /* At least 3 clock ticks of user time. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do {
        for (unsigned long j = 0; j < 100000; j++) sink += j;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 60000000L);
    ssize_t nb = pread(fd, b, sizeof b - 1, 0);
    CHECK(nb > 0);
    b[nb > 0 ? nb : 0] = 0;
    close(fd);
    unsigned long ua = 0, ub = 0;
    char *pa = strrchr(a, ')'), *pb = strrchr(b, ')');
    CHECK(pa && pb);
    if (!pa || !pb) return;
    /* utime is field 14: the 12th after the ")". */
    CHECK(sscanf(pa + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &ua) == 1);
    CHECK(sscanf(pb + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &ub) == 1);
    CHECK(ub > ua);
    if (ub <= ua) printf("utime %lu then %lu\n", ua, ub);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    t_maps();
    t_stat();
    t_reread();
    DONE();
}
