/* getdents64 while the directory changes: every entry that exists for the whole listing is
 * returned exactly once, nothing is returned twice, and "." and ".." come once (POSIX, and
 * Linux on every file system). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define N 120

static int seen[3 * N];

static void make(const char *prefix, int i) {
    char name[64];
    snprintf(name, sizeof name, "d/%s%03d", prefix, i);
    int fd = open(name, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
}

/* Reads one small batch of entries, recording the names; returns false at the end. */
static int batch(int fd, int *dots) {
    char buf[256];
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    CHECK(n >= 0);
    if (n <= 0) return 0;
    for (long off = 0; off < n;) {
        unsigned short reclen = *(unsigned short *)(buf + off + 16);
        const char *name = buf + off + 19;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            (*dots)++;
        } else if (name[0] == 'f') {
            seen[atoi(name + 1)]++;
        } else if (name[0] == 'g') {
            seen[N + atoi(name + 1)]++;
        }
        off += reclen;
    }
    return 1;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK_OK(mkdir("d", 0755));
    for (int i = 0; i < N; i++) make("f", i);
    int fd = open("d", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    int dots = 0;
    for (int k = 0; k < 5; k++) CHECK(batch(fd, &dots));
    /* Change the directory in the middle of the listing: remove every third file, add new ones. */
    for (int i = 0; i < N; i += 3) {
        char name[64];
        snprintf(name, sizeof name, "d/f%03d", i);
        CHECK_OK(unlink(name));
    }
    for (int i = 0; i < N; i++) make("g", i);
    while (batch(fd, &dots)) {
    }
    close(fd);
    CHECK(dots == 2);
    for (int i = 0; i < N; i++) {
        if (i % 3 != 0) {
            if (seen[i] != 1) printf("f%03d seen %d times\n", i, seen[i]);
            CHECK(seen[i] == 1); /* present throughout: exactly once */
        } else {
            CHECK(seen[i] <= 1); /* removed during the listing: at most once */
        }
        CHECK(seen[N + i] <= 1); /* added during the listing: at most once */
    }
    DONE();
}
