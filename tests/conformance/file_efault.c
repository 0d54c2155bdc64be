/* Bad user pointers: file system calls given unmapped or kernel addresses fail with EFAULT
 * (no signal, no partial side effects: a pipe keeps what it could not deliver), and the process carries
 * on. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define KADDR ((void *)0xffff800000000000ul)
#define HIGH ((void *)0x0000800000000000ul) /* first non-canonical address */

static off_t size_of(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return st.st_size;
}

int main(void) {
    /* Unbuffered, so failures printed before a fatal signal are not lost. */
    setvbuf(stdout, NULL, _IONBF, 0);
    /* write from bad buffers: to stdout and to a scratch file. */
    CHECK_ERR(syscall(SYS_write, 1, (void *)1, 10), EFAULT);
    CHECK_ERR(syscall(SYS_write, 1, NULL, 10), EFAULT);
    CHECK_ERR(syscall(SYS_write, 1, KADDR, 10), EFAULT);
    int fd = open("ef_file", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK_ERR(syscall(SYS_write, fd, (void *)1, 10), EFAULT);
    CHECK_ERR(syscall(SYS_write, fd, KADDR, 10), EFAULT);
    CHECK_ERR(syscall(SYS_write, fd, HIGH, 10), EFAULT);
    CHECK_ERR(syscall(SYS_pwrite64, fd, (void *)8, 10, 0), EFAULT);
    CHECK(size_of("ef_file") == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);

    /* read into bad buffers. */
    int z = open("/dev/zero", O_RDONLY);
    CHECK(z >= 0);
    CHECK_ERR(syscall(SYS_read, z, (void *)8, 10), EFAULT);
    CHECK_ERR(syscall(SYS_read, z, NULL, 10), EFAULT);
    CHECK_ERR(syscall(SYS_read, z, KADDR, 10), EFAULT);
    CHECK_ERR(syscall(SYS_read, z, KADDR, 4096), EFAULT);
    CHECK_ERR(syscall(SYS_read, z, HIGH, 10), EFAULT);
    CHECK_ERR(syscall(SYS_read, fd, (void *)8, 10), EFAULT);
    CHECK_ERR(syscall(SYS_read, fd, KADDR, 10), EFAULT);
    CHECK_ERR(syscall(SYS_pread64, fd, (void *)8, 10, 0), EFAULT);
    /* A failed read leaves the offset alone. */
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    char buf[16] = {0};
    CHECK(read(fd, buf, 10) == 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);

    /* A buffer that runs from a mapped page into an unmapped one: the syscall copies what
     * it can. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED);
    if (pages != MAP_FAILED) {
        CHECK_OK(munmap(pages + 4096, 4096));
        memset(pages, 'p', 4096);
        int pf = open("ef_partial", O_CREAT | O_TRUNC | O_RDWR, 0644);
        CHECK(pf >= 0);
        CHECK(syscall(SYS_write, pf, pages + 4000, 200) == 96);
        CHECK(size_of("ef_partial") == 96);
        CHECK(syscall(SYS_read, z, pages + 4000, 200) == 96);
        CHECK(pages[4000] == 0 && pages[4095] == 0 && pages[3999] == 'p');
        /* Nothing valid at all: EFAULT. */
        CHECK_ERR(syscall(SYS_write, pf, pages + 4096, 10), EFAULT);
        CHECK_ERR(syscall(SYS_read, z, pages + 4096, 10), EFAULT);
        close(pf);
        munmap(pages, 4096);
    }

    /* Bad path pointers. */
    CHECK_ERR(syscall(SYS_openat, AT_FDCWD, (void *)1, O_RDONLY), EFAULT);
    CHECK_ERR(syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY), EFAULT);
    CHECK_ERR(syscall(SYS_openat, AT_FDCWD, KADDR, O_RDONLY), EFAULT);
    CHECK_ERR(syscall(SYS_openat, AT_FDCWD, (void *)1, O_CREAT | O_WRONLY, 0644), EFAULT);
    CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, (void *)1, buf, 0), EFAULT);
    CHECK_ERR(syscall(SYS_chdir, (void *)1), EFAULT);
    CHECK_ERR(syscall(SYS_mkdirat, AT_FDCWD, (void *)1, 0755), EFAULT);
    CHECK_ERR(syscall(SYS_unlinkat, AT_FDCWD, KADDR, 0), EFAULT);
    CHECK_ERR(syscall(SYS_faccessat, AT_FDCWD, (void *)1, F_OK), EFAULT);
    CHECK_ERR(syscall(SYS_readlinkat, AT_FDCWD, (void *)1, buf, sizeof buf), EFAULT);
#ifdef SYS_open /* the calls without *at: x86_64 only, not in asm-generic (riscv64, aarch64) */
    CHECK_ERR(syscall(SYS_open, (void *)1, O_RDONLY), EFAULT);
    CHECK_ERR(syscall(SYS_mkdir, (void *)1, 0755), EFAULT);
    CHECK_ERR(syscall(SYS_unlink, KADDR), EFAULT);
    CHECK_ERR(syscall(SYS_access, (void *)1, F_OK), EFAULT);
    CHECK_ERR(syscall(SYS_readlink, (void *)1, buf, sizeof buf), EFAULT);
#endif

    /* Bad output structures. */
    CHECK_ERR(syscall(SYS_fstat, fd, (void *)8), EFAULT);
    CHECK_ERR(syscall(SYS_fstat, fd, KADDR), EFAULT);
    CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "ef_file", (void *)8, 0), EFAULT);
    CHECK_ERR(syscall(SYS_newfstatat, fd, "", KADDR, AT_EMPTY_PATH), EFAULT);
    CHECK_ERR(syscall(SYS_getcwd, (void *)8, 256), EFAULT);
#ifdef SYS_pipe
    CHECK_ERR(syscall(SYS_pipe, (void *)8), EFAULT);
#endif
    CHECK_ERR(syscall(SYS_pipe2, KADDR, 0), EFAULT);
    CHECK_ERR(syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), (void *)8, 4096), EFAULT);
    CHECK_OK(symlink("ef_file", "ef_link"));
    CHECK_ERR(syscall(SYS_readlinkat, AT_FDCWD, "ef_link", (void *)8, 64), EFAULT);
    CHECK_ERR(syscall(SYS_readlinkat, AT_FDCWD, "ef_link", KADDR, 64), EFAULT);

    /* Vectored I/O with a bad iovec array or a bad iov_base. */
    struct iovec iv[2] = {{(void *)"ab", 2}, {(void *)8, 10}};
    CHECK_ERR(syscall(SYS_writev, fd, (void *)8, 2), EFAULT);
    CHECK_ERR(syscall(SYS_writev, fd, KADDR, 2), EFAULT);
    struct iovec bad1[1] = {{(void *)8, 10}};
    CHECK_ERR(syscall(SYS_writev, fd, bad1, 1), EFAULT);
    struct iovec bad2[1] = {{KADDR, 10}};
    CHECK_ERR(syscall(SYS_writev, fd, bad2, 1), EFAULT);
    CHECK_ERR(syscall(SYS_readv, z, bad1, 1), EFAULT);
    CHECK_ERR(syscall(SYS_readv, z, bad2, 1), EFAULT);
    CHECK_ERR(syscall(SYS_readv, z, (void *)8, 1), EFAULT);
    /* A kernel address in a later segment fails the whole call before any copy. */
    struct iovec mixk[2] = {{(void *)"ab", 2}, {KADDR, 10}};
    off_t before = size_of("ef_file");
    CHECK_ERR(syscall(SYS_writev, fd, mixk, 2), EFAULT);
    CHECK(size_of("ef_file") == before);
    /* A good first segment then an unmapped user one: the good part is written. */
    CHECK(lseek(fd, 0, SEEK_END) == 10);
    CHECK(syscall(SYS_writev, fd, iv, 2) == 2);
    CHECK(size_of("ef_file") == 12);

    /* The process is intact and the descriptors still work. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == 12);
    CHECK(memcmp(buf, "0123456789ab", 12) == 0);
    CHECK(read(z, buf, 4) == 4 && buf[0] == 0);
    close(fd);
    close(z);
    /* A pipe keeps what a bad buffer could not take: nothing for an unmapped one, the tail
     * for a buffer that runs into an unmapped page. */
    int pp[2];
    CHECK_OK(pipe(pp));
    CHECK(write(pp[1], "abcdefgh", 8) == 8);
    CHECK_ERR(syscall(SYS_read, pp[0], (void *)8, 8), EFAULT);
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(two != MAP_FAILED);
    CHECK_OK(munmap(two + 4096, 4096));
    /* Linux fails the whole read (EFAULT, all 8 bytes kept); Lintel delivers the 4 that fit
     * and keeps the rest. Either way nothing is lost. */
    long got = syscall(SYS_read, pp[0], two + 4092, 8);
    CHECK(got == 4 || (got == -1 && errno == EFAULT));
    char rest[8];
    if (got == 4)
        CHECK(memcmp(two + 4092, "abcd", 4) == 0 && read(pp[0], rest, 8) == 4 &&
              memcmp(rest, "efgh", 4) == 0);
    else
        CHECK(read(pp[0], rest, 8) == 8 && memcmp(rest, "abcdefgh", 8) == 0);
    CHECK(syscall(SYS_read, pp[0], NULL, 0) == 0);
    close(pp[0]);
    close(pp[1]);

    /* Pages written and then made PROT_NONE (still present in memory): a write from them
     * or a read into them is EFAULT for pipes, regular files and /dev/null alike, and the
     * pipe and the file are left as they were. */
    char *np = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(np != MAP_FAILED);
    memset(np, 'n', 4096);
    CHECK_OK(mprotect(np, 4096, PROT_NONE));
    CHECK_OK(pipe(pp));
    CHECK_ERR(syscall(SYS_write, pp[1], np, 16), EFAULT);
    struct iovec niov = {np, 16};
    CHECK_ERR(syscall(SYS_vmsplice, pp[1], &niov, 1, 0), EFAULT);
    CHECK(syscall(SYS_write, pp[1], "pq", 2) == 2);
    CHECK_ERR(syscall(SYS_read, pp[0], np, 2), EFAULT);
    char pq[2];
    CHECK(read(pp[0], pq, 2) == 2 && memcmp(pq, "pq", 2) == 0);
    close(pp[0]);
    close(pp[1]);
    int nf = open("ef_none", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(nf >= 0);
    CHECK_ERR(syscall(SYS_write, nf, np, 16), EFAULT);
    CHECK_ERR(syscall(SYS_pwrite64, nf, np, 16, 0), EFAULT);
    CHECK(size_of("ef_none") == 0);
    CHECK(pwrite(nf, "data", 4, 0) == 4);
    CHECK_ERR(syscall(SYS_pread64, nf, np, 4, 0), EFAULT);
    CHECK_ERR(syscall(SYS_read, nf, np, 4), EFAULT);
    close(nf);
    unlink("ef_none");
    int dz = open("/dev/zero", O_RDONLY);
    CHECK_ERR(syscall(SYS_read, dz, np, 4), EFAULT);
    close(dz);
    CHECK_OK(munmap(np, 4096));
    DONE();
}
