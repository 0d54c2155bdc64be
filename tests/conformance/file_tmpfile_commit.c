/* O_TMPFILE files written and fsynced one after another, some given a name with linkat, then
 * hundreds of new files in one folder made durable by one fsync of the folder. On an ext4
 * root (the @ext4 pass) every fsync commits the journal, the last one a large transaction of
 * adjacent inode-table and directory blocks that the checkpoint writes in runs. The fuzz run
 * (seed 430419) panicked in such a commit, started by openat(O_TMPFILE): it copied every
 * dirty block and grew a 1 MiB run buffer on a fragmented heap (issue 19). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_NAME "tmpfile-commit"
#define TMPFILES 64
#define FILES 600

static char buf[8192];

/* A file's bytes are all `c`, `len` of them. */
static int holds(const char *path, char c, long len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    static char got[sizeof buf + 1];
    long n = read(fd, got, sizeof got);
    close(fd);
    if (n != len)
        return 0;
    for (long i = 0; i < n; i++)
        if (got[i] != c)
            return 0;
    return 1;
}

static void tmpfiles(void) {
    char path[64];
    for (int i = 0; i < TMPFILES; i++) {
        int fd = open(DIR_NAME, O_TMPFILE | O_RDWR, 0600);
        CHECK(fd >= 0);
        if (fd < 0)
            return;
        memset(buf, 'a' + i % 26, sizeof buf);
        CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
        CHECK_OK(fsync(fd));
        if (i % 8 == 0) {
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            snprintf(path, sizeof path, DIR_NAME "/kept-%d", i);
            CHECK_OK(linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW));
            CHECK_OK(fsync(fd));
        }
        CHECK_OK(close(fd));
    }
    for (int i = 0; i < TMPFILES; i += 8) {
        snprintf(path, sizeof path, DIR_NAME "/kept-%d", i);
        CHECK(holds(path, 'a' + i % 26, sizeof buf));
    }
}

static void many_files(void) {
    char path[64];
    memset(buf, 'z', 100);
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof path, DIR_NAME "/f%d", i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
        CHECK(fd >= 0);
        if (fd < 0)
            return;
        CHECK(write(fd, buf, 100) == 100);
        CHECK_OK(close(fd));
    }
    int d = open(DIR_NAME, O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0);
    CHECK_OK(fsync(d));
    CHECK_OK(close(d));
    int bad = 0;
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof path, DIR_NAME "/f%d", i);
        bad += !holds(path, 'z', 100);
    }
    CHECK(bad == 0);
}

static void clean_up(void) {
    char path[64];
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof path, DIR_NAME "/f%d", i);
        CHECK_OK(unlink(path));
    }
    for (int i = 0; i < TMPFILES; i += 8) {
        snprintf(path, sizeof path, DIR_NAME "/kept-%d", i);
        CHECK_OK(unlink(path));
    }
    CHECK_OK(rmdir(DIR_NAME));
    sync();
}

int main(void) {
    if (mkdir(DIR_NAME, 0755) != 0)
        CHECK(errno == EEXIST);
    tmpfiles();
    many_files();
    clean_up();
    DONE();
}
