/* Reads into, and writes from, a buffer that runs into an unmapped page: Linux moves the
 * bytes up to the first byte it cannot reach and returns that short count (EFAULT only when
 * nothing moved), and a file's position moves by that count: filemap_read and
 * generic_perform_write, pipe_read and pipe_write, read_iter_zero go page by page, and their
 * copy_to_user/copy_from_user/clear_user stop at the faulting byte (a pipe moves whole pages
 * of its buffers only). Checked for a regular file in the test's folder (tmpfs, or ext4 in
 * the @ext4 pass), a memfd, a pipe and /dev/zero, with the buffer's mapped part starting at
 * the page's start and 100 bytes in. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096L
#define FILE_SIZE (4 * PG)

static unsigned char pat[FILE_SIZE];
/* Two pages, the second unmapped: `buf` is the first. */
static unsigned char *buf;

#define EXPECT(expr, want)                                                                    \
    do {                                                                                      \
        long got_ = (long)(expr);                                                             \
        if (got_ != (long)(want))                                                             \
            printf("%s:%d: %s = %ld (errno %d), want %ld\n", __FILE__, __LINE__, #expr, got_, \
                   errno, (long)(want));                                                      \
        CHECK(got_ == (long)(want));                                                          \
    } while (0)

/* The file `fd` holds pat (FILE_SIZE bytes). */
static void reads(int fd) {
    /* 8 KiB at offset 100 into the page and its hole: the page, whole. */
    memset(buf, 0, PG);
    EXPECT(lseek(fd, 100, SEEK_SET), 100);
    EXPECT(read(fd, buf, 2 * PG), PG);
    CHECK(memcmp(buf, pat + 100, PG) == 0);
    EXPECT(lseek(fd, 0, SEEK_CUR), 100 + PG);
    /* The buffer 100 bytes into its page: what is left of it. */
    EXPECT(lseek(fd, 0, SEEK_SET), 0);
    EXPECT(read(fd, buf + 100, 2 * PG), PG - 100);
    CHECK(memcmp(buf + 100, pat, PG - 100) == 0);
    EXPECT(lseek(fd, 0, SEEK_CUR), PG - 100);
    EXPECT(pread(fd, buf + 100, 2 * PG, 300), PG - 100);
    CHECK(memcmp(buf + 100, pat + 300, PG - 100) == 0);
    /* Less than asked for the file's end: the hole is not reached. */
    EXPECT(pread(fd, buf, 2 * PG, FILE_SIZE - 50), 50);
    /* Nothing can be moved: EFAULT, the position stays. */
    EXPECT(lseek(fd, 7, SEEK_SET), 7);
    errno = 0;
    EXPECT(read(fd, buf + PG, 10), -1);
    CHECK(errno == EFAULT);
    EXPECT(lseek(fd, 0, SEEK_CUR), 7);
}

static void writes(int fd) {
    for (long i = 0; i < PG; i++) buf[i] = (unsigned char)(i * 7 + 3);
    /* 8 KiB at offset 100 from the page and its hole: the page is written. */
    EXPECT(lseek(fd, 100, SEEK_SET), 100);
    EXPECT(write(fd, buf, 2 * PG), PG);
    EXPECT(lseek(fd, 0, SEEK_CUR), 100 + PG);
    static unsigned char back[FILE_SIZE];
    EXPECT(pread(fd, back, FILE_SIZE, 0), FILE_SIZE);
    CHECK(memcmp(back, pat, 100) == 0);
    CHECK(memcmp(back + 100, buf, PG) == 0);
    CHECK(memcmp(back + 100 + PG, pat + 100 + PG, FILE_SIZE - 100 - PG) == 0);
    /* From 100 bytes into the page, at a page boundary of the file. */
    EXPECT(pwrite(fd, buf + 100, 2 * PG, 2 * PG), PG - 100);
    EXPECT(pread(fd, back, PG, 2 * PG), PG);
    CHECK(memcmp(back, buf + 100, PG - 100) == 0);
    CHECK(memcmp(back + PG - 100, pat + 3 * PG - 100, 100) == 0);
    /* Nothing can be taken: EFAULT, the file and the position stay. */
    errno = 0;
    EXPECT(write(fd, buf + PG, 10), -1);
    CHECK(errno == EFAULT);
    EXPECT(lseek(fd, 0, SEEK_CUR), 100 + PG);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == FILE_SIZE);
}

static void file_case(int fd) {
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(pwrite(fd, pat, FILE_SIZE, 0) == FILE_SIZE);
    reads(fd);
    CHECK(pwrite(fd, pat, FILE_SIZE, 0) == FILE_SIZE);
    writes(fd);
    close(fd);
}

/* A pipe moves whole pages of its buffers (pipe_write and pipe_read): a page the user buffer
 * cannot give or take whole is left where it was, so the count stops before it, or the call
 * is EFAULT when it is the first. */
static void pipe_case(void) {
    int p[2];
    CHECK_OK(pipe(p));
    memcpy(buf, pat, PG);
    EXPECT(write(p[1], buf, 2 * PG), PG);
    errno = 0;
    EXPECT(write(p[1], buf + 100, 2 * PG), -1);
    CHECK(errno == EFAULT);
    /* One page in the pipe: a read that cannot take it whole takes nothing. */
    errno = 0;
    EXPECT(read(p[0], buf + 100, 2 * PG), -1);
    CHECK(errno == EFAULT);
    memset(buf, 0, PG);
    EXPECT(read(p[0], buf, 2 * PG), PG);
    CHECK(memcmp(buf, pat, PG) == 0);
    /* Two pages in the pipe: the first comes, the second stays. */
    EXPECT(write(p[1], pat + PG, 2 * PG), 2 * PG);
    EXPECT(read(p[0], buf, 2 * PG), PG);
    CHECK(memcmp(buf, pat + PG, PG) == 0);
    static unsigned char rest[2 * PG];
    EXPECT(read(p[0], rest, sizeof rest), PG);
    CHECK(memcmp(rest, pat + 2 * PG, PG) == 0);
    close(p[0]);
    close(p[1]);
}

static void zero_case(void) {
    int z = open("/dev/zero", O_RDONLY);
    CHECK(z >= 0);
    memset(buf, 1, PG);
    EXPECT(read(z, buf, 2 * PG), PG);
    int nonzero = 0;
    for (long i = 0; i < PG; i++) nonzero |= buf[i];
    CHECK(!nonzero);
    memset(buf, 1, PG);
    EXPECT(read(z, buf + 100, 2 * PG), PG - 100);
    CHECK(buf[99] == 1 && buf[100] == 0 && buf[PG - 1] == 0);
    close(z);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    for (long i = 0; i < FILE_SIZE; i++) pat[i] = (unsigned char)('a' + i % 23 + i / PG);
    buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED);
    if (buf == MAP_FAILED) DONE();
    CHECK_OK(munmap(buf + PG, PG));
    file_case(open("pb.dat", O_RDWR | O_CREAT | O_TRUNC, 0644));
    unlink("pb.dat");
    file_case((int)syscall(SYS_memfd_create, "partial_buf", 0));
    pipe_case();
    zero_case();
    DONE();
}
