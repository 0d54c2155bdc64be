/* Buffered writes read back the same through every path before and after they reach the
 * disk (ext4 keeps written data in memory until fsync, a journal commit or memory pressure):
 * small unaligned pwrites in random order read back before and after fsync and fdatasync; a
 * write then a shared mapping of the same page (and a store through the mapping then pread);
 * a write, a truncation and an extension read zeros past the cut; an O_DIRECT read after a
 * buffered write sees its bytes (where the file system takes O_DIRECT); sendfile and
 * copy_file_range of freshly written data; a program written and executed at once (exec
 * reads it); a file unlinked before any fsync, its blocks reused by the next file, which
 * reads back its own bytes; many small files written, half of them unlinked, the rest read
 * back; small writes inside blocks already written back (sqlite3's rollback journal: its
 * header rewritten after an fdatasync; a store through a shared mapping beside a pwrite into
 * the same page; writes across the end of the file) read back. The disk requests the
 * unsynced writes and the header rewrites took are printed (/proc/diskstats), not checked. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "diskstats.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1 << 20)
#define PIECE 1000

static unsigned char want[SIZE], got[SIZE];

static uint32_t rnd = 12345;
static uint32_t next(void) {
    rnd = rnd * 1103515245u + 12345u;
    return rnd >> 8;
}

static int same_file(int fd, const unsigned char *w, size_t n, const char *what) {
    memset(got, 0xEE, n);
    ssize_t r = pread(fd, got, n, 0);
    if (r != (ssize_t)n || memcmp(got, w, n) != 0) {
        printf("%s: read %zd of %zu, bytes %s\n", what, r, n,
               r == (ssize_t)n ? "differ" : "-");
        return 0;
    }
    return 1;
}

static void random_pieces(void) {
    int fd = open("wb.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) return;
    struct disk d;
    struct dstats a, b;
    int have_disk = ds_disk_of(fd, &d) == 0 && ds_read(&d, &a) == 0;
    memset(want, 0, SIZE);
    /* Pieces of 1000 bytes at random offsets (mostly unaligned), 3000 of them. */
    for (int i = 0; i < 3000; i++) {
        size_t off = next() % (SIZE - PIECE);
        unsigned char p[PIECE];
        for (int k = 0; k < PIECE; k++) p[k] = (unsigned char)(next() | 1);
        CHECK(pwrite(fd, p, PIECE, off) == PIECE);
        memcpy(want + off, p, PIECE);
    }
    /* The last byte makes the size SIZE (the writes may have stopped short of it). */
    CHECK(pwrite(fd, want + SIZE - 1, 1, SIZE - 1) == 1);
    CHECK(same_file(fd, want, SIZE, "before fsync"));
    if (have_disk && ds_read(&d, &b) == 0)
        printf("3000 unsynced pwrites of 1000 bytes: %llu write requests, %llu sectors\n",
               b.v[DS_WRITES] - a.v[DS_WRITES],
               b.v[DS_SECTORS_WRITTEN] - a.v[DS_SECTORS_WRITTEN]);
    CHECK_OK(fsync(fd));
    CHECK(same_file(fd, want, SIZE, "after fsync"));
    /* Overwrites of written blocks, then fdatasync. */
    for (int i = 0; i < 200; i++) {
        size_t off = next() % (SIZE - PIECE);
        memset(want + off, 'a' + i % 26, PIECE);
        CHECK(pwrite(fd, want + off, PIECE, off) == PIECE);
    }
    CHECK(same_file(fd, want, SIZE, "overwrites"));
    CHECK_OK(fdatasync(fd));
    CHECK(same_file(fd, want, SIZE, "after fdatasync"));
    close(fd);
    fd = open("wb.dat", O_RDONLY);
    CHECK_OK(fd);
    if (fd >= 0) {
        CHECK(same_file(fd, want, SIZE, "reopened"));
        close(fd);
    }
}

static void write_then_mmap(void) {
    int fd = open("wb_map.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) return;
    CHECK(pwrite(fd, "hello", 5, 100) == 5);
    CHECK_OK(ftruncate(fd, 8192));
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(memcmp(m + 100, "hello", 5) == 0);
        CHECK(m[99] == 0 && m[105] == 0);
        /* A write after the mapping exists shows in it; a store shows in pread. */
        CHECK(pwrite(fd, "world", 5, 4096 + 7) == 5);
        CHECK(memcmp(m + 4096 + 7, "world", 5) == 0);
        memcpy(m + 200, "store", 5);
        char b[5] = {0};
        CHECK(pread(fd, b, 5, 200) == 5 && memcmp(b, "store", 5) == 0);
        CHECK_OK(msync(m, 8192, MS_SYNC));
        munmap(m, 8192);
    }
    char b[5] = {0};
    CHECK(pread(fd, b, 5, 4096 + 7) == 5 && memcmp(b, "world", 5) == 0);
    close(fd);
    unlink("wb_map.dat");
}

static void write_truncate_read(void) {
    int fd = open("wb_trunc.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) return;
    memset(want, 'x', 3 * 4096);
    CHECK(write(fd, want, 3 * 4096) == 3 * 4096);
    CHECK_OK(ftruncate(fd, 4096 + 10));
    CHECK_OK(ftruncate(fd, 3 * 4096));
    memset(want + 4096 + 10, 0, 2 * 4096 - 10);
    CHECK(same_file(fd, want, 3 * 4096, "write, truncate, extend"));
    CHECK_OK(fsync(fd));
    CHECK(same_file(fd, want, 3 * 4096, "the same after fsync"));
    /* A write past the end after a cut leaves zeros between. */
    CHECK_OK(ftruncate(fd, 100));
    CHECK(pwrite(fd, "end", 3, 20000) == 3);
    memset(want + 100, 0, 20000 - 100);
    memcpy(want + 20000, "end", 3);
    CHECK(same_file(fd, want, 20003, "cut, write past the end"));
    close(fd);
    unlink("wb_trunc.dat");
}

static void direct_after_buffered(void) {
    int fd = open("wb_direct.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) return;
    for (int i = 0; i < 8192; i++) want[i] = (unsigned char)(i * 13 + 5);
    CHECK(pwrite(fd, want, 8192, 0) == 8192);
    int dfd = open("wb_direct.dat", O_RDONLY | O_DIRECT);
    if (dfd < 0) {
        printf("skip O_DIRECT: %s\n", strerror(errno));
    } else {
        unsigned char *al = aligned_alloc(4096, 8192);
        CHECK(al != NULL);
        if (al) {
            CHECK(pread(dfd, al, 8192, 0) == 8192);
            CHECK(memcmp(al, want, 8192) == 0);
            free(al);
        }
        close(dfd);
    }
    close(fd);
    unlink("wb_direct.dat");
}

static void copies(void) {
    int fd = open("wb_src.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int out = open("wb_dst.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int out2 = open("wb_dst2.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && out >= 0 && out2 >= 0);
    if (fd < 0 || out < 0 || out2 < 0) return;
    for (int i = 0; i < 100000; i++) want[i] = (unsigned char)(i * 31 + 7);
    CHECK(write(fd, want, 100000) == 100000);
    off_t o = 0;
    CHECK(sendfile(out, fd, &o, 100000) == 100000);
    CHECK(same_file(out, want, 100000, "sendfile"));
    loff_t i0 = 0, o0 = 0;
    ssize_t n = copy_file_range(fd, &i0, out2, &o0, 100000, 0);
    CHECK(n == 100000);
    CHECK(same_file(out2, want, 100000, "copy_file_range"));
    close(fd);
    close(out);
    close(out2);
    unlink("wb_src.dat");
    unlink("wb_dst.dat");
    unlink("wb_dst2.dat");
}

static void exec_fresh(void) {
    int in = open("/proc/self/exe", O_RDONLY);
    CHECK_OK(in);
    if (in < 0) return;
    int out = open("wb_exe", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK_OK(out);
    if (out < 0) {
        close(in);
        return;
    }
    ssize_t r;
    while ((r = read(in, got, 65536)) > 0) CHECK(write(out, got, r) == r);
    close(in);
    close(out);
    pid_t pid = fork();
    if (pid == 0) {
        execl("./wb_exe", "wb_exe", "child", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 42);
    unlink("wb_exe");
}

static void unlinked_then_reused(void) {
    /* Written, never synced, unlinked: its blocks go back; the next file gets its own bytes. */
    for (int round = 0; round < 3; round++) {
        int fd = open("wb_gone.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
        CHECK_OK(fd);
        if (fd < 0) return;
        memset(want, 'g', 65536);
        CHECK(write(fd, want, 65536) == 65536);
        close(fd);
        unlink("wb_gone.dat");
        fd = open("wb_new.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
        CHECK_OK(fd);
        if (fd < 0) return;
        memset(want, 'n' + round, 4096);
        CHECK(write(fd, want, 100) == 100);
        CHECK(pwrite(fd, want, 4096, 8192) == 4096);
        memset(want + 100, 0, 8192 - 100);
        memset(want + 8192, 'n' + round, 4096);
        CHECK(same_file(fd, want, 8192 + 4096, "new file after an unlinked one"));
        CHECK_OK(fsync(fd));
        CHECK(same_file(fd, want, 8192 + 4096, "new file after fsync"));
        close(fd);
        unlink("wb_new.dat");
    }
}

static void small_files(void) {
    char name[32], body[64], b[64];
    CHECK_OK(mkdir("wb_dir", 0755));
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "wb_dir/f%d", i);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CHECK_OK(fd);
        if (fd < 0) return;
        int n = snprintf(body, sizeof body, "file %d body", i);
        CHECK(write(fd, body, n) == n);
        close(fd);
    }
    for (int i = 0; i < 300; i += 2) {
        snprintf(name, sizeof name, "wb_dir/f%d", i);
        CHECK_OK(unlink(name));
    }
    sync();
    for (int i = 1; i < 300; i += 2) {
        snprintf(name, sizeof name, "wb_dir/f%d", i);
        int fd = open(name, O_RDONLY);
        CHECK_OK(fd);
        if (fd < 0) return;
        int n = snprintf(body, sizeof body, "file %d body", i);
        memset(b, 0, sizeof b);
        CHECK(read(fd, b, sizeof b) == n && memcmp(b, body, n) == 0);
        close(fd);
        CHECK_OK(unlink(name));
    }
    CHECK_OK(rmdir("wb_dir"));
}

/* sqlite3's rollback journal, commit after commit: a new file written in small unaligned
 * pieces, fdatasync, its 12-byte header rewritten, fdatasync; the block is written back
 * already when the header is rewritten (Linux writes into the cached page and reads
 * nothing). Then a store through a shared mapping and a pwrite into the same page, and
 * writes across the end of the file inside one page. */
static void small_rewrites(void) {
    static unsigned char w[3 * 4096 + 100];
    struct disk d;
    struct dstats a, b;
    int have_disk = -1;
    unsigned long long reads = 0;
    for (int round = 0; round < 20; round++) {
        int fd = open("wb.jrn", O_RDWR | O_CREAT | O_TRUNC, 0644);
        CHECK_OK(fd);
        if (fd < 0) return;
        if (have_disk < 0) have_disk = ds_disk_of(fd, &d) == 0;
        memset(w, 0, sizeof w);
        for (size_t k = 0; k < sizeof w; k++) w[k] = (unsigned char)(next() | 1);
        size_t size = 516 + 4096 + 4 + 4 + 4096 + 4;
        CHECK(pwrite(fd, w, 512, 0) == 512);
        CHECK(pwrite(fd, w + 512, 4, 512) == 4);
        CHECK(pwrite(fd, w + 516, 4096, 516) == 4096);
        CHECK(pwrite(fd, w + 4612, 4, 4612) == 4);
        CHECK(pwrite(fd, w + 4616, 4, 4616) == 4);
        CHECK(pwrite(fd, w + 4620, 4096, 4620) == 4096);
        CHECK(pwrite(fd, w + 8716, 4, 8716) == 4);
        CHECK_OK(fdatasync(fd));
        int timed = have_disk == 1 && ds_read(&d, &a) == 0;
        memset(w, 0x5A + round, 12);
        CHECK(pwrite(fd, w, 12, 0) == 12);
        CHECK_OK(fdatasync(fd));
        if (timed && ds_read(&d, &b) == 0) reads += b.v[DS_READS] - a.v[DS_READS];
        CHECK(same_file(fd, w, size, "journal after its header's rewrite"));
        close(fd);
        if (round + 1 < 20) unlink("wb.jrn");
    }
    if (have_disk == 1)
        printf("20 journal header rewrites after fdatasync: %llu read requests\n", reads);
    /* A store through a shared mapping, then a pwrite into the same page. */
    int fd = open("wb.jrn", O_RDWR);
    CHECK_OK(fd);
    if (fd < 0) return;
    size_t size = 516 + 4096 + 4 + 4 + 4096 + 4;
    unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[100] = 'M';
        w[100] = 'M';
        CHECK(pwrite(fd, "pw", 2, 200) == 2);
        memcpy(w + 200, "pw", 2);
        CHECK(m[200] == 'p' && m[100] == 'M');
        CHECK(same_file(fd, w, size, "store through a mapping, then pwrite"));
        CHECK_OK(msync(m, 8192, MS_SYNC));
        munmap(m, 8192);
    }
    CHECK_OK(fdatasync(fd));
    CHECK(same_file(fd, w, size, "after msync and fdatasync"));
    /* Across the end of the file inside one page: the size grows to the write's end. */
    CHECK(pwrite(fd, "tail!", 5, size - 2) == 5);
    memcpy(w + size - 2, "tail!", 5);
    size += 3;
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == size);
    CHECK(same_file(fd, w, size, "write across the end"));
    /* A write starting past the end in the same page leaves zeros between. */
    CHECK(pwrite(fd, "far", 3, size + 10) == 3);
    memset(w + size, 0, 10);
    memcpy(w + size + 10, "far", 3);
    size += 13;
    CHECK(same_file(fd, w, size, "write past the end"));
    CHECK_OK(fsync(fd));
    CHECK(same_file(fd, w, size, "after fsync"));
    close(fd);
    unlink("wb.jrn");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return 42;
    random_pieces();
    write_then_mmap();
    write_truncate_read();
    direct_after_buffered();
    copies();
    exec_fresh();
    unlinked_then_reused();
    small_files();
    small_rewrites();
    unlink("wb.dat");
    DONE();
}
