/* The per-call cost in QEMU's translated blocks (docs/performance.md, "Counting translated
 * blocks"): runs each small system call N times between two marker functions, which
 * tests/bench/blocks.py finds in QEMU's `-d exec,nochain` log to count the kernel's blocks
 * per call. Usage: blocks N (default 10000). Static, non-PIE, so the markers' addresses are
 * the ones `nm` prints. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* FUTEX_WAIT | FUTEX_PRIVATE_FLAG (musl-gcc has no linux/futex.h). */
#define FUTEX_WAIT_PRIVATE_OP 128

#define TMPFS_MAGIC 0x01021994
#define EXT4_MAGIC 0xEF53
#define BIG 65536
#define BIG_FILE (1 << 20)

/* A file of BIG_FILE bytes in the directory `dir` if it is on a file system of `magic`, read
 * through once so that its pages are cached; -1 if the directory is on another one. */
static int big_file(const char *dir, long magic, const char *name) {
    static char chunk[BIG];
    char path[256];
    struct statfs fs;
    if (statfs(dir, &fs) != 0 || fs.f_type != magic)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    for (int i = 0; i < BIG_FILE / BIG; i++)
        if (pwrite(fd, chunk, BIG, (off_t)i * BIG) != BIG)
            return -1;
    fsync(fd);
    for (int i = 0; i < BIG_FILE / BIG; i++)
        pread(fd, chunk, BIG, (off_t)i * BIG);
    return fd;
}

__attribute__((noinline)) void blocks_window_open(int op) { __asm__ volatile("" ::"r"(op)); }
__attribute__((noinline)) void blocks_window_close(int op) { __asm__ volatile("" ::"r"(op)); }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDONLY);
    char c = 0;
    /* futex_eagain: FUTEX_WAIT on a word that does not hold the value, which fails with EAGAIN
     * at once (an uncontended lock's slow path that lost its race): the futex path that looks
     * up the calling thread. */
    unsigned word = 0;
    /* pwrite_tmpfs: a 1-byte pwrite at offset 0 of a regular tmpfs file (the write lock and
     * the page cache's checks of a regular file's write). */
    int tmp = open("/tmp/blocks.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (tmp < 0)
        tmp = open("/dev/shm/blocks.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    /* The path rows (bench.c's stat and open_close): stat of the tmpfs file (two components,
     * as bench.c's /tmp/bench.file), stat of a file four components deep, fstat of the open
     * file (the stat buffer without the walk), and an open and close of the tmpfs file. */
    struct stat st;
    mkdir("/tmp/blocks.d", 0700);
    mkdir("/tmp/blocks.d/sub", 0700);
    close(open("/tmp/blocks.d/sub/file", O_RDWR | O_CREAT, 0600));
    /* pipe_write_read: a 1-byte write into an empty pipe, then a 1-byte read of it in the same
     * process (no switch): the pipe's page handling without the scheduler's.
     * splice_pipe_tmpfs: a 4096-byte write into the pipe, then splice of those bytes from the
     * pipe to offset 0 of the tmpfs file. */
    static char page[4096];
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    /* tmpfs_read_64k and ext4_read_64k: a 64 KiB pread at an offset cycling through a 1 MiB
     * file whose pages are all cached (bench.c's tmpfs_read and ext4_read without the
     * first pass). The tmpfs file is on /tmp or /dev/shm, or on a tmpfs mounted for it; the
     * ext4 file on the root if it is ext4 (`cargo xtask run --disk IMAGE`), else on /dev/vda
     * mounted on /mnt. Without one of them its window runs nothing. */
    static char big[BIG];
    int tbig = big_file("/tmp", TMPFS_MAGIC, "blocks.big");
    if (tbig < 0)
        tbig = big_file("/dev/shm", TMPFS_MAGIC, "blocks.big");
    if (tbig < 0) {
        mkdir("/blocks.tmpfs", 0700);
        mount("tmpfs", "/blocks.tmpfs", "tmpfs", 0, NULL);
        tbig = big_file("/blocks.tmpfs", TMPFS_MAGIC, "blocks.big");
    }
    int ebig = big_file("/", EXT4_MAGIC, "blocks.big");
    if (ebig < 0) {
        mkdir("/mnt", 0755);
        mount("/dev/vda", "/mnt", "ext4", 0, NULL);
        ebig = big_file("/mnt", EXT4_MAGIC, "blocks.big");
    }
    if (tbig < 0 || ebig < 0)
        fprintf(stderr, "blocks: no %s file: its window is empty\n", tbig < 0 ? "tmpfs" : "ext4");
    /* The order is the one blocks.py names: getppid, read_devnull, write_devnull, read_devzero,
     * futex_eagain, pwrite_tmpfs, stat_tmp, stat_deep, fstat, open_close, pipe_write_read,
     * splice_pipe_tmpfs, tmpfs_read_64k, ext4_read_64k. */
    for (int op = 0; op < 14; op++) {
        blocks_window_open(op);
        for (long i = 0; i < n; i++) {
            switch (op) {
            case 0: syscall(SYS_getppid); break;
            case 1: read(null, &c, 1); break;
            case 2: write(null, &c, 1); break;
            case 3: read(zero, &c, 1); break;
            case 4: syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE_OP, 1, NULL, NULL, 0); break;
            case 5: pwrite(tmp, &c, 1, 0); break;
            case 6: stat("/tmp/blocks.tmp", &st); break;
            case 7: stat("/tmp/blocks.d/sub/file", &st); break;
            case 8: fstat(tmp, &st); break;
            case 9: close(open("/tmp/blocks.tmp", O_RDONLY)); break;
            case 10:
                write(pfd[1], &c, 1);
                read(pfd[0], &c, 1);
                break;
            case 11: {
                loff_t off = 0;
                write(pfd[1], page, sizeof page);
                splice(pfd[0], NULL, tmp, &off, sizeof page, 0);
                break;
            }
            case 12:
            case 13: {
                int fd = op == 12 ? tbig : ebig;
                if (fd >= 0)
                    pread(fd, big, BIG, (i % (BIG_FILE / BIG)) * (off_t)BIG);
                break;
            }
            }
        }
        blocks_window_close(op);
    }
    printf("blocks: %ld calls each\n", n);
    return 0;
}
