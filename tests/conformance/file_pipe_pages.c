/* Pipes as rings of pages (Linux's pipe_buffer): small writes merge into the last page while
 * it has room, a page never splits a write of at most PIPE_BUF bytes, the capacity counts
 * pages (F_SETPIPE_SZ below the pages in use is EBUSY), tee duplicates page references
 * that a later write into the source does not reach, and splice from a tmpfs file (memfd)
 * into a pipe gives the file's bytes, holes as zeros, moving the offset it was given or the
 * file's position; splice from a pipe into a file (tmpfs or the working directory's) writes
 * the buffers' bytes and consumes only those, O_APPEND being EINVAL and a sealed memfd EPERM. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void test_merge(void) {
    int p[2];
    CHECK_OK(pipe2(p, O_NONBLOCK));
    char chunk[100];
    memset(chunk, 'm', sizeof chunk);
    long total = 0;
    for (;;) {
        ssize_t n = write(p[1], chunk, sizeof chunk);
        if (n < 0) break;
        CHECK(n == 100);
        total += n;
    }
    CHECK(errno == EAGAIN);
    /* 40 writes of 100 bytes fit a 4096-byte page, the 41st takes the next: 16 pages. */
    CHECK(total == 16 * 40 * 100);
    int avail = 0;
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == total);
    close(p[0]);
    close(p[1]);

    /* A full page is not merged into: 4096 then 100 bytes are two pages. */
    CHECK_OK(pipe2(p, O_NONBLOCK));
    static char page[4096];
    CHECK(write(p[1], page, sizeof page) == 4096);
    CHECK(write(p[1], chunk, 100) == 100);
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == 4196);
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    char buf[8192];
    CHECK(read(p[0], buf, sizeof buf) == 4196);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == 4096);
    /* One page: a write of PIPE_BUF bytes goes in whole, then nothing more. */
    CHECK(write(p[1], page, 4096) == 4096);
    CHECK_ERR(write(p[1], "x", 1), EAGAIN);
    CHECK(read(p[0], buf, 10) == 10);
    /* Room in the page is no free slot: a new write still waits. */
    CHECK_ERR(write(p[1], "x", 1), EAGAIN);
    CHECK(read(p[0], buf, sizeof buf) == 4086);
    CHECK(write(p[1], "y", 1) == 1);
    close(p[0]);
    close(p[1]);
}

static void test_tee(void) {
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    CHECK(write(p[1], "abc", 3) == 3);
    CHECK(tee(p[0], q[1], 64, 0) == 3);
    /* This merges into the source's page: the duplicate keeps its 3 bytes. */
    CHECK(write(p[1], "def", 3) == 3);
    CHECK(write(q[1], "XYZ", 3) == 3);
    char b[16] = {0};
    CHECK(read(q[0], b, sizeof b) == 6 && memcmp(b, "abcXYZ", 6) == 0);
    CHECK(read(p[0], b, sizeof b) == 6 && memcmp(b, "abcdef", 6) == 0);
    /* The same pipe on both sides: EINVAL. */
    CHECK(write(p[1], "g", 1) == 1);
    CHECK_ERR(tee(p[0], p[1], 1, 0), EINVAL);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static void test_splice_file(void) {
    int fd = memfd_create("pages", 0);
    CHECK(fd >= 0);
    static char data[10000];
    for (int i = 0; i < (int)sizeof data; i++) data[i] = (char)(i * 7 + i / 4096);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    CHECK_OK(ftruncate(fd, 20000));
    int p[2];
    CHECK_OK(pipe(p));
    loff_t off = 100;
    CHECK(splice(fd, &off, p[1], NULL, 9000, 0) == 9000);
    CHECK(off == 9100);
    static char got[20000];
    CHECK(read(p[0], got, sizeof got) == 9000);
    CHECK(memcmp(got, data + 100, 9000) == 0);
    /* The file's position when no offset is given; the hole after the data reads as
     * zeros. */
    CHECK(lseek(fd, 9000, SEEK_SET) == 9000);
    ssize_t n = splice(fd, NULL, p[1], NULL, 6000, 0);
    CHECK(n == 6000);
    CHECK(lseek(fd, 0, SEEK_CUR) == 15000);
    CHECK(read(p[0], got, sizeof got) == 6000);
    CHECK(memcmp(got, data + 9000, 1000) == 0);
    int zero = 1;
    for (int i = 1000; i < 6000; i++) zero &= got[i] == 0;
    CHECK(zero);
    /* At the end of the file: 0. */
    off = 20000;
    CHECK(splice(fd, &off, p[1], NULL, 100, 0) == 0);
    CHECK(off == 20000);
    /* Into a full pipe with SPLICE_F_NONBLOCK: EAGAIN. */
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
    off = 0;
    CHECK(splice(fd, &off, p[1], NULL, 8192, 0) == 4096);
    CHECK_ERR(splice(fd, &off, p[1], NULL, 100, SPLICE_F_NONBLOCK), EAGAIN);
    CHECK(read(p[0], got, sizeof got) == 4096 && memcmp(got, data, 4096) == 0);
    close(p[0]);
    close(p[1]);
    close(fd);
}

/* splice from a pipe into a file (a memfd: tmpfs; and a file of the working directory, ext4
 * or tmpfs): the bytes of several buffers, partial pages among them, land at the offset given
 * or the file's position; only what was written leaves the pipe; O_APPEND is EINVAL and a
 * sealed file EPERM, with the pipe's bytes left to read. */
static void splice_into(int fd, int sealable) {
    int p[2];
    CHECK_OK(pipe(p));
    static char data[8100], got[70000];
    for (int i = 0; i < (int)sizeof data; i++) data[i] = (char)(i * 13 + 5);
    /* 100 bytes, then 5000 (904 merge into the first page, 4096 take the next), then 3000
     * (a third page). */
    CHECK(write(p[1], data, 100) == 100);
    CHECK(write(p[1], data + 100, 5000) == 5000);
    CHECK(write(p[1], data + 5100, 3000) == 3000);
    loff_t off = 10;
    CHECK(splice(p[0], NULL, fd, &off, 6000, 0) == 6000);
    CHECK(off == 6010);
    int avail = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == 2100);
    memset(got, 0, sizeof got);
    CHECK(pread(fd, got, 6000, 10) == 6000);
    CHECK(memcmp(got, data, 6000) == 0);
    /* The file's position when no offset is given; a len past the pipe's bytes takes them
     * all. */
    CHECK(lseek(fd, 3, SEEK_SET) == 3);
    CHECK(splice(p[0], NULL, fd, NULL, 100000, 0) == 2100);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2103);
    CHECK(pread(fd, got, 2100, 3) == 2100);
    CHECK(memcmp(got, data + 6000, 2100) == 0);
    /* A full 64 KiB pipe at an offset inside a page. */
    static char big[65536];
    for (int i = 0; i < (int)sizeof big; i++) big[i] = (char)(i * 7 + i / 4096);
    CHECK(write(p[1], big, sizeof big) == (ssize_t)sizeof big);
    off = 4097;
    CHECK(splice(p[0], NULL, fd, &off, sizeof big, 0) == (ssize_t)sizeof big);
    CHECK(off == 4097 + (loff_t)sizeof big);
    CHECK(pread(fd, got, sizeof big, 4097) == (ssize_t)sizeof big);
    CHECK(memcmp(got, big, sizeof big) == 0);
    /* O_APPEND: EINVAL, nothing leaves the pipe. */
    CHECK(write(p[1], "hello", 5) == 5);
    int fl = fcntl(fd, F_GETFL);
    CHECK_OK(fcntl(fd, F_SETFL, fl | O_APPEND));
    CHECK_ERR(splice(p[0], NULL, fd, NULL, 5, 0), EINVAL);
    CHECK_OK(fcntl(fd, F_SETFL, fl));
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == 5);
    if (sealable) {
        CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
        off = 0;
        CHECK_ERR(splice(p[0], NULL, fd, &off, 5, 0), EPERM);
        CHECK_OK(ioctl(p[0], FIONREAD, &avail));
        CHECK(avail == 5);
    }
    CHECK(read(p[0], got, sizeof got) == 5 && memcmp(got, "hello", 5) == 0);
    close(p[0]);
    close(p[1]);
}

static void test_splice_to_file(void) {
    int m = memfd_create("into", MFD_ALLOW_SEALING);
    CHECK(m >= 0);
    splice_into(m, 1);
    close(m);
    int fd = open("splice_into", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    splice_into(fd, 0);
    close(fd);
    unlink("splice_into");
}

int main(void) {
    test_merge();
    test_tee();
    test_splice_file();
    test_splice_to_file();
    DONE();
}
