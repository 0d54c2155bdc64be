/* /proc/self/maps of a process with tens of thousands of mappings (every other page of a
 * large mapping made read-only): megabytes of text, which the kernel builds in a buffer that
 * may fail (ENOMEM) but must not abort. Read in pieces, it comes through whole and in order:
 * one line per mapping, addresses rising, no line torn between two reads. smaps_rollup and
 * status sum the same mappings. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Half as many on the ports, whose lists run under QEMU's emulation of another instruction
 * set (40000 take about 10 s there): still twenty thousand lines, a megabyte of text. */
#if defined(__x86_64__)
#define PAGES 40000
#else
#define PAGES 20000
#endif

/* The whole file, read `piece` bytes at a time (NULL on failure). */
static char *slurp(const char *path, size_t piece, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + piece + 1 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, piece);
        if (r < 0) {
            printf("read %s at %zu: %s\n", path, n, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += r;
    }
    close(fd);
    buf[n] = 0;
    *len = n;
    return buf;
}

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char *base = mmap(NULL, (size_t)PAGES * pg, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(base != MAP_FAILED);
    if (base == MAP_FAILED) DONE();
    /* Lines are counted by overlap: a neighbouring mapping may merge into the first page's. */
    for (long i = 1; i < PAGES; i += 2) {
        if (mprotect(base + i * pg, pg, PROT_READ) != 0) {
            printf("mprotect page %ld: %s\n", i, strerror(errno));
            lt_failures++;
            break;
        }
    }
    unsigned long lo = (unsigned long)base, hi = lo + (unsigned long)PAGES * pg;

    size_t pieces[] = {4096, 1000, 65536};
    for (unsigned k = 0; k < sizeof pieces / sizeof *pieces; k++) {
        size_t len = 0;
        char *text = slurp("/proc/self/maps", pieces[k], &len);
        CHECK(text != NULL);
        if (!text) continue;
        CHECK(len > 0 && text[len - 1] == '\n');
        long lines = 0, inside = 0, bad = 0;
        unsigned long prev_end = 0;
        for (char *l = text; *l; ) {
            char *nl = strchr(l, '\n');
            if (!nl) {
                bad++;
                break;
            }
            /* strtoul, not sscanf: glibc's sscanf measures the whole rest of the text
             * (strlen) on every call. */
            char *p;
            unsigned long s = strtoul(l, &p, 16), e = 0;
            int ok = *p == '-';
            if (ok) e = strtoul(p + 1, &p, 16);
            ok = ok && *p == ' ' && (p[1] == 'r' || p[1] == '-');
            if (!ok || s >= e || s < prev_end) {
                if (bad++ < 3) printf("bad line %ld: %.*s\n", lines, (int)(nl - l), l);
            }
            prev_end = e;
            if (s < hi && e > lo) inside++;
            lines++;
            l = nl + 1;
        }
        if (inside != PAGES || bad) {
            printf("piece %zu: %ld lines, %ld in the mapping (want %d), %ld bad\n", pieces[k],
                   lines, inside, PAGES, bad);
            lt_failures++;
        }
        free(text);
    }

    /* smaps_rollup: the written pages of the mapping are resident. */
    for (long i = 0; i < PAGES; i += 2) base[i * pg] = 1;
    size_t len = 0;
    char *roll = slurp("/proc/self/smaps_rollup", 4096, &len);
    CHECK(roll != NULL);
    if (roll) {
        char *rss = strstr(roll, "\nRss:");
        long kb = -1;
        CHECK(rss && sscanf(rss + 5, "%ld", &kb) == 1);
        CHECK(kb >= (long)PAGES / 2 * (pg / 1024));
        free(roll);
    }
    munmap(base, (size_t)PAGES * pg);
    DONE();
}
