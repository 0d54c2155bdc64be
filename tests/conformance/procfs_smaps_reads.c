/* /proc/PID/smaps read in pieces: any read size gives the same text as one big read, for a
 * process with hundreds of VMAs, a populated 4 MiB mapping and a 128 GiB reservation (whose
 * Size has more than 8 digits; it fits riscv64 Sv39's 256 GiB user half); and reading it a page at a time costs about what one read
 * does (stress-ng's madvise stressor reads it so from 8 threads; rendered again for every
 * page, it took Lintel half a second per read and the stressor overran its time limit). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CAP (4 << 20)
static char whole[CAP], piece[CAP];

/* The file read with reads of `chunk` bytes into `out`; its length. */
static long read_in(const char *path, char *out, size_t chunk) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long n = 0;
    ssize_t r;
    while (n < CAP - 1) {
        size_t want = chunk < (size_t)(CAP - 1 - n) ? chunk : (size_t)(CAP - 1 - n);
        if ((r = read(fd, out + n, want)) <= 0)
            break;
        n += r;
    }
    close(fd);
    out[n] = 0;
    return n;
}

/* Blanks out the page counts that move between two reads (Rss, Pss and the like change as
 * other processes map the same libraries or this one touches its stack); maps lines, Size
 * and the rest stay. The counts are padded to a width, so a changed count keeps the text's
 * length, but a count with more digits has fewer spaces before it: digits become blanks. */
static void mask_counts(char *t) {
    for (char *line = t; *line;) {
        char *nl = strchr(line, '\n');
        char *colon = strchr(line, ':');
        if (!nl)
            break;
        int field = colon && colon < nl && !memchr(line, ' ', colon - line) &&
                    strncmp(line, "Size:", 5) != 0;
        if (field)
            for (char *c = colon; c < nl; c++)
                if (*c >= '0' && *c <= '9')
                    *c = ' '; /* a blank: a count that gains a digit loses a pad */
        line = nl + 1;
    }
}

int main(void) {
    memset(whole, 0, sizeof whole);
    memset(piece, 0, sizeof piece);
    printf("procfs_smaps_reads: start\n");
    /* Alternating protections keep neighbours from merging. */
    for (int i = 0; i < 300; i++) {
        void *p = mmap(NULL, 2 * 4096, PROT_READ | (i & 1 ? PROT_WRITE : 0),
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        CHECK(p != MAP_FAILED);
    }
    char *big = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(big != MAP_FAILED);
    memset(big, 1, 4 << 20);
    void *huge = mmap(NULL, 128UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    CHECK(huge != MAP_FAILED);

    long n = read_in("/proc/self/smaps", whole, CAP - 1);
    CHECK(n > 300 * 400);
    CHECK(strstr(whole, "Size:           134217728 kB\n") != NULL);
    mask_counts(whole);
    static const size_t chunks[] = {4096, 1000, 333};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        long t0 = lt_now_ms();
        long m = read_in("/proc/self/smaps", piece, chunks[i]);
        long ms = lt_now_ms() - t0;
        mask_counts(piece);
        if (m != n || memcmp(whole, piece, n) != 0) {
            long d = 0;
            while (d < n && d < m && whole[d] == piece[d])
                d++;
            printf("smaps read %zu bytes at a time: %ld bytes, not %ld; differs at %ld: %.80s\n",
                   chunks[i], m, n, d, piece + d);
            lt_failures++;
        }
        if (chunks[i] == 4096) {
            /* Generous: Linux takes a few ms; under QEMU without KVM Lintel takes ~100. */
            if (ms > 5000) {
                printf("smaps read 4096 bytes at a time took %ld ms\n", ms);
                lt_failures++;
            }
        }
    }
    DONE();
}
