/* O_DIRECT as Linux answers it. On ext4 (/tmp on the host and in the ext4 pass) and on the
 * disk's block device: a read or write whose file offset, length or buffer (each non-empty
 * segment of readv/writev) is not a multiple of the logical block size (512) is EINVAL, and
 * neither moves the file offset; an empty transfer, a read at or past the end of the file
 * and a read of a hole are not refused; O_APPEND writes start at the size; aligned direct
 * I/O works, stops at the end of the file, and agrees with buffered I/O and shared mappings
 * of the same file both ways. fcntl(F_SETFL) turns O_DIRECT on for ext4 files and pipes
 * (FIFOs too) and refuses it for sockets and /dev/null; open(O_DIRECT) is EINVAL for
 * directories, FIFOs, /dev/null and proc files, and for tmpfs files before Linux 6.6 (from
 * 6.6 tmpfs takes any alignment), O_TMPFILE ones too, and a refused O_TRUNC truncates
 * nothing. O_PATH ignores O_DIRECT. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#define EXT4_MAGIC 0xEF53
#define TMPFS_MAGIC_ 0x01021994

static unsigned char *buf; /* page aligned, 64 KiB */

static int all(const unsigned char *p, size_t n, unsigned char b) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != b) return 0;
    return 1;
}

/* Whether the running kernel's release is at least major.minor. */
static int release_at_least(int major, int minor) {
    struct utsname u;
    int a = 0, b = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2) return 0;
    return a > major || (a == major && b >= minor);
}

static void on_ext4(const char *dir) {
    char path[128], fifo[128];
    snprintf(path, sizeof path, "%s/lt-odirect-%d", dir, getpid());
    snprintf(fifo, sizeof fifo, "%s/lt-odirect-fifo-%d", dir, getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_DIRECT, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(fcntl(fd, F_GETFL) & O_DIRECT);
    memset(buf, 'a', 8192);

    /* Aligned writes work; any misaligned piece is EINVAL and writes nothing. */
    CHECK(write(fd, buf, 4096) == 4096);
    CHECK_ERR(write(fd, buf + 1, 4096), EINVAL);
    CHECK_ERR(write(fd, buf, 100), EINVAL);
    CHECK_ERR(pwrite(fd, buf, 512, 100), EINVAL);
    CHECK(lseek(fd, 0, SEEK_CUR) == 4096);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 4096);
    CHECK(pwrite(fd, buf, 512, 4096) == 512); /* 512 inside a 4096-byte ext4 block */
    CHECK(pwrite(fd, buf, 0, 3) == 0);        /* empty: never refused */

    /* Reads: the offset too; at or past the end of the file nothing is refused. */
    CHECK(pread(fd, buf, 512, 512) == 512);
    CHECK_ERR(pread(fd, buf, 512, 1), EINVAL);
    CHECK_ERR(pread(fd, buf, 100, 0), EINVAL);
    CHECK(pread(fd, buf, 0, 1) == 0);
    CHECK(pread(fd, buf + 1, 512, 1 << 20) == 0);
    CHECK(pread(fd, buf, 100, 4608) == 0);
    CHECK(lseek(fd, 3, SEEK_SET) == 3);
    CHECK_ERR(read(fd, buf, 512), EINVAL);
    CHECK(lseek(fd, 0, SEEK_CUR) == 3);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(read(fd, buf, 1024) == 1024);
    CHECK(lseek(fd, 0, SEEK_CUR) == 1024);

    /* Vectors: every non-empty segment's address and length. */
    struct iovec ok2[2] = {{buf, 512}, {buf + 1024, 512}};
    CHECK(preadv(fd, ok2, 2, 0) == 1024);
    struct iovec short_len[2] = {{buf, 512}, {buf + 1024, 100}};
    CHECK_ERR(preadv(fd, short_len, 2, 0), EINVAL);
    struct iovec split[2] = {{buf, 100}, {buf + 1024, 412}};
    CHECK_ERR(preadv(fd, split, 2, 0), EINVAL);
    struct iovec odd_base[2] = {{buf + 1, 512}, {buf + 1024, 512}};
    CHECK_ERR(pwritev(fd, odd_base, 2, 0), EINVAL);
    struct iovec empty_odd[2] = {{buf + 3, 0}, {buf + 1024, 512}};
    CHECK(pwritev(fd, empty_odd, 2, 0) == 512);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(readv(fd, ok2, 2) == 1024);
    CHECK(writev(fd, ok2, 2) == 1024);
    CHECK_ERR(writev(fd, split, 2), EINVAL);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2048);

    /* The end of the file cuts aligned reads short. */
    CHECK_OK(ftruncate(fd, 1000));
    CHECK(pread(fd, buf, 4096, 0) == 1000);
    CHECK(pread(fd, buf, 4096, 512) == 488);
    CHECK(pread(fd, buf, 4096, 1024) == 0);

    /* O_APPEND: the write starts at the size (1000, not a multiple of 512). */
    int app = open(path, O_WRONLY | O_APPEND | O_DIRECT);
    CHECK(app >= 0);
    CHECK_ERR(write(app, buf, 512), EINVAL);
    CHECK_OK(ftruncate(fd, 1024));
    CHECK(write(app, buf, 512) == 512);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 1536);
    close(app);

    /* A hole reads as zeros whatever the alignment. */
    CHECK_OK(ftruncate(fd, 0));
    CHECK_OK(ftruncate(fd, 65536));
    memset(buf, 0x77, 4096);
    CHECK(pread(fd, buf + 1, 100, 8195) == 100);
    CHECK(all(buf + 1, 100, 0));

    /* Coherence with buffered I/O both ways. */
    int bfd = open(path, O_RDWR);
    CHECK(bfd >= 0);
    memset(buf, 'B', 4096);
    CHECK(pwrite(bfd, buf, 4096, 0) == 4096);
    memset(buf, 0, 4096);
    CHECK(pread(fd, buf, 4096, 0) == 4096);
    CHECK(all(buf, 4096, 'B'));
    memset(buf, 'C', 4096);
    CHECK(pread(bfd, buf + 4096, 4096, 4096) == 4096); /* now cached */
    CHECK(pwrite(fd, buf, 4096, 4096) == 4096);
    memset(buf, 0, 8192);
    CHECK(pread(bfd, buf, 4096, 4096) == 4096);
    CHECK(all(buf, 4096, 'C'));
    /* Unaligned buffered I/O on the other descriptor is fine. */
    CHECK(pwrite(bfd, "xyz", 3, 5) == 3);

    /* ... and with a shared mapping: its stores reach direct reads, direct writes reach it. */
    unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        memset(m + 4096, 'M', 4096);
        memset(buf, 0, 4096);
        CHECK(pread(fd, buf, 4096, 4096) == 4096);
        CHECK(all(buf, 4096, 'M'));
        memset(buf, 'D', 4096);
        CHECK(pwrite(fd, buf, 4096, 4096) == 4096);
        CHECK(all(m + 4096, 4096, 'D'));
        CHECK(m[5] == 'x' && m[7] == 'z');
        munmap(m, 8192);
    }

    /* fcntl turns O_DIRECT off and on; the rules follow the flag. */
    CHECK_OK(fcntl(bfd, F_SETFL, O_DIRECT));
    CHECK(fcntl(bfd, F_GETFL) & O_DIRECT);
    CHECK_ERR(pread(bfd, buf, 512, 1), EINVAL);
    CHECK_ERR(pwrite(bfd, buf, 100, 0), EINVAL);
    CHECK_OK(fcntl(bfd, F_SETFL, 0));
    CHECK((fcntl(bfd, F_GETFL) & O_DIRECT) == 0);
    CHECK(pwrite(bfd, buf, 100, 1) == 100);
    close(bfd);

    /* O_TRUNC with O_DIRECT; O_PATH ignores O_DIRECT. */
    int t = open(path, O_RDWR | O_TRUNC | O_DIRECT);
    CHECK(t >= 0);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 0);
    if (t >= 0) close(t);
    int op = open(path, O_PATH | O_DIRECT);
    CHECK(op >= 0);
    if (op >= 0) close(op);

    /* Directories and FIFOs of ext4 take no O_DIRECT at open; an open FIFO takes it. */
    CHECK_ERR(open(dir, O_RDONLY | O_DIRECT), EINVAL);
    CHECK_ERR(open(dir, O_RDONLY | O_DIRECTORY | O_DIRECT), EINVAL);
    CHECK_OK(mkfifo(fifo, 0600));
    CHECK_ERR(open(fifo, O_RDWR | O_DIRECT), EINVAL);
    int ff = open(fifo, O_RDWR | O_NONBLOCK);
    CHECK(ff >= 0);
    CHECK_OK(fcntl(ff, F_SETFL, O_DIRECT | O_NONBLOCK));
    if (ff >= 0) close(ff);
    unlink(fifo);
    close(fd);
    CHECK_OK(unlink(path));
}

/* The disk itself, when this system lets us open it (not the host's). */
static void on_blockdev(const char *dev) {
    int b = open(dev, O_RDONLY | O_DIRECT);
    if (b < 0) {
        printf("%s: %s, not tested\n", dev, strerror(errno));
        return;
    }
    int plain = open(dev, O_RDONLY);
    CHECK(plain >= 0);
    static unsigned char cached[4096];
    CHECK(pread(b, buf, 4096, 4096) == 4096);
    CHECK(pread(plain, cached, 4096, 4096) == 4096);
    CHECK(memcmp(buf, cached, 4096) == 0);
    CHECK(pread(b, buf, 512, 512) == 512);
    CHECK_ERR(pread(b, buf, 512, 1), EINVAL);
    CHECK_ERR(pread(b, buf, 256, 0), EINVAL);
    CHECK_ERR(pread(b, buf + 8, 4096, 0), EINVAL);
    CHECK(pread(b, buf + 8, 0, 0) == 0);
    off_t size = lseek(b, 0, SEEK_END);
    CHECK(size > 0 && size % 512 == 0);
    CHECK(pread(b, buf, 100, size) == 0);
    CHECK(pread(b, buf, 512, size - 512) == 512);
    close(b);
    if (plain >= 0) close(plain);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK(posix_memalign((void **)&buf, 4096, 65536) == 0);

    /* Files and descriptors that never take O_DIRECT. */
    CHECK_ERR(open("/proc/self/status", O_RDONLY | O_DIRECT), EINVAL);
    CHECK_ERR(open("/dev/null", O_RDWR | O_DIRECT), EINVAL);
    int n = open("/dev/null", O_RDWR);
    CHECK(n >= 0);
    CHECK_ERR(fcntl(n, F_SETFL, O_DIRECT), EINVAL);
    CHECK((fcntl(n, F_GETFL) & O_DIRECT) == 0);
    close(n);
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_ERR(fcntl(sv[0], F_SETFL, O_DIRECT), EINVAL);
    close(sv[0]);
    close(sv[1]);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[1], F_SETFL, O_DIRECT));
    CHECK(fcntl(p[1], F_GETFL) & O_DIRECT);
    close(p[0]);
    close(p[1]);

    /* tmpfs: refused before Linux 6.6, any alignment from then on. */
    struct statfs sf;
    if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC_) {
        char shm[64];
        snprintf(shm, sizeof shm, "/dev/shm/lt-odirect-%d", getpid());
        int s = open(shm, O_CREAT | O_RDWR | O_DIRECT, 0600);
        if (release_at_least(6, 6)) {
            CHECK(s >= 0);
            CHECK(pwrite(s, buf + 1, 100, 1) == 100);
            CHECK(pread(s, buf + 3, 100, 1) == 100);
        } else {
            CHECK(s == -1 && errno == EINVAL);
            /* The file exists: O_CREAT made it before the open failed. */
            int plain = open(shm, O_RDWR);
            CHECK(plain >= 0);
            CHECK_ERR(fcntl(plain, F_SETFL, O_DIRECT), EINVAL);
            /* A refused O_TRUNC truncates nothing; O_TMPFILE is refused too. */
            CHECK(pwrite(plain, "abc", 3, 0) == 3);
            CHECK_ERR(open(shm, O_RDWR | O_TRUNC | O_DIRECT), EINVAL);
            struct stat ss;
            CHECK_OK(fstat(plain, &ss));
            CHECK(ss.st_size == 3);
            CHECK_ERR(open("/dev/shm", O_TMPFILE | O_RDWR | O_DIRECT, 0600), EINVAL);
            if (plain >= 0) close(plain);
        }
        if (release_at_least(6, 6)) {
            int t = open("/dev/shm", O_TMPFILE | O_RDWR | O_DIRECT, 0600);
            CHECK(t >= 0);
            if (t >= 0) close(t);
        }
        if (s >= 0) close(s);
        unlink(shm);
    }

    if (statfs("/tmp", &sf) == 0 && sf.f_type == EXT4_MAGIC) {
        on_ext4("/tmp");
        on_blockdev("/dev/vda");
    } else {
        printf("/tmp is not ext4: the ext4 part runs in the ext4 pass\n");
    }
    DONE();
}
