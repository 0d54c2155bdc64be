/* Directory listing: getdents64 (entries, d_type, d_ino, small buffers, rewinding, seeking to
 * d_off, errors) and opendir/readdir agreeing with it. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct lt_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define MAXE 64
struct entry {
    char name[64];
    unsigned char type;
    uint64_t ino;
    int64_t off;
};

static long raw_getdents64(int fd, void *buf, size_t n) {
    return syscall(SYS_getdents64, fd, buf, n);
}

/* Parses one getdents64 buffer into `out` starting at *n; returns 0 when records look sane. */
static int parse(const char *buf, long len, struct entry *out, int *n) {
    long pos = 0;
    int ok = 1;
    while (pos < len) {
        const struct lt_dirent64 *d = (const void *)(buf + pos);
        size_t nl = strlen(d->d_name);
        if (d->d_reclen == 0 || d->d_reclen % 8 != 0 ||
            d->d_reclen < offsetof(struct lt_dirent64, d_name) + nl + 1 || pos + d->d_reclen > len)
            ok = 0;
        if (d->d_reclen == 0) break;
        if (*n < MAXE && nl < sizeof out[0].name) {
            strcpy(out[*n].name, d->d_name);
            out[*n].type = d->d_type;
            out[*n].ino = d->d_ino;
            out[*n].off = d->d_off;
            (*n)++;
        }
        pos += d->d_reclen;
    }
    return ok;
}

/* Reads the whole directory with a buffer of `bufsz`; returns the entry count or -1. */
static int read_all(int fd, size_t bufsz, struct entry *out) {
    static char buf[65536] __attribute__((aligned(8)));
    int n = 0;
    for (int rounds = 0; rounds < 1000; rounds++) {
        long r = raw_getdents64(fd, buf, bufsz);
        if (r < 0) return -1;
        if (r == 0) return n;
        if (!parse(buf, r, out, &n)) return -1;
    }
    return -1;
}

static int count_name(const struct entry *e, int n, const char *name) {
    int c = 0;
    for (int i = 0; i < n; i++) c += strcmp(e[i].name, name) == 0;
    return c;
}

static const struct entry *find(const struct entry *e, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return &e[i];
    return NULL;
}

static uint64_t ino_of(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    return st.st_ino;
}

static const char *files[] = {"f1", "f2", "file_three", "f4", "a_rather_longer_file_name_5"};
#define NFILES 5

int main(void) {
    CHECK_OK(mkdir("de", 0755));
    for (int i = 0; i < NFILES; i++) {
        char p[128];
        snprintf(p, sizeof p, "de/%s", files[i]);
        int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
        CHECK(fd >= 0);
        close(fd);
    }
    CHECK_OK(mkdir("de/sub", 0755));
    CHECK_OK(symlink("f1", "de/lnk"));

    int dfd = open("de", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);

    /* One big read. */
    static struct entry all[MAXE];
    int n = read_all(dfd, 65536, all);
    CHECK(n == NFILES + 4);
    CHECK(count_name(all, n, ".") == 1);
    CHECK(count_name(all, n, "..") == 1);
    for (int i = 0; i < NFILES; i++) {
        CHECK(count_name(all, n, files[i]) == 1);
        const struct entry *e = find(all, n, files[i]);
        char p[128];
        snprintf(p, sizeof p, "de/%s", files[i]);
        CHECK(e && e->type == DT_REG);
        CHECK(e && e->ino == ino_of(p));
    }
    const struct entry *e = find(all, n, "sub");
    CHECK(count_name(all, n, "sub") == 1);
    CHECK(e && e->type == DT_DIR && e->ino == ino_of("de/sub"));
    e = find(all, n, "lnk");
    CHECK(count_name(all, n, "lnk") == 1);
    CHECK(e && e->type == DT_LNK && e->ino == ino_of("de/lnk"));
    e = find(all, n, ".");
    CHECK(e && e->type == DT_DIR && e->ino == ino_of("de"));
    e = find(all, n, "..");
    CHECK(e && e->type == DT_DIR && e->ino == ino_of("."));
    /* Past the end: 0, and again 0. */
    static char buf[4096] __attribute__((aligned(8)));
    CHECK(raw_getdents64(dfd, buf, sizeof buf) == 0);
    CHECK(raw_getdents64(dfd, buf, sizeof buf) == 0);

    /* Rewinding lists the same entries again, in small chunks this time (each buffer fits
     * one or two short records). */
    CHECK(lseek(dfd, 0, SEEK_SET) == 0);
    static struct entry small[MAXE];
    int m = read_all(dfd, 64, small);
    CHECK(m == n);
    for (int i = 0; i < m; i++) {
        const struct entry *b = find(all, n, small[i].name);
        CHECK(b && b->type == small[i].type && b->ino == small[i].ino);
        CHECK(count_name(small, m, small[i].name) == 1);
    }

    /* A buffer too small for even one record. */
    CHECK(lseek(dfd, 0, SEEK_SET) == 0);
    CHECK_ERR(raw_getdents64(dfd, buf, 1), EINVAL);
    CHECK_ERR(raw_getdents64(dfd, buf, 8), EINVAL);
    /* The long name does not fit in 40 bytes (19 + 28 > 40); find it and check the error. */
    {
        CHECK(lseek(dfd, 0, SEEK_SET) == 0);
        int saw_einval = 0, got = 0;
        for (int i = 0; i < 100; i++) {
            errno = 0;
            long r = raw_getdents64(dfd, buf, 40);
            if (r == 0) break;
            if (r < 0) {
                saw_einval = errno == EINVAL;
                break;
            }
            int k = 0;
            struct entry tmp[4];
            parse(buf, r, tmp, &k);
            got += k;
        }
        CHECK(saw_einval);
        CHECK(got < n);
        /* A bigger buffer then picks up where it stopped: the rest arrives exactly once. */
        long r = raw_getdents64(dfd, buf, sizeof buf);
        CHECK(r > 0);
        int k = 0;
        static struct entry rest[MAXE];
        if (r > 0) parse(buf, r, rest, &k);
        CHECK(got + k == n);
        CHECK(count_name(rest, k, "a_rather_longer_file_name_5") == 1);
    }

    /* Seeking to a record's d_off resumes right after it. */
    {
        CHECK(lseek(dfd, 0, SEEK_SET) == 0);
        static struct entry ord[MAXE];
        int k = read_all(dfd, 65536, ord);
        CHECK(k == n);
        if (k >= 4) {
            CHECK(lseek(dfd, ord[2].off, SEEK_SET) == ord[2].off);
            long r = raw_getdents64(dfd, buf, sizeof buf);
            CHECK(r > 0);
            int j = 0;
            static struct entry after[MAXE];
            if (r > 0) parse(buf, r, after, &j);
            CHECK(j == k - 3);
            CHECK(j > 0 && strcmp(after[0].name, ord[3].name) == 0);
        }
    }

    /* Removing and adding entries shows after a rewind. */
    CHECK_OK(unlink("de/f2"));
    int fd = open("de/new", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK(lseek(dfd, 0, SEEK_SET) == 0);
    n = read_all(dfd, 4096, all);
    CHECK(n == NFILES + 4);
    CHECK(count_name(all, n, "f2") == 0);
    CHECK(count_name(all, n, "new") == 1);

    /* Errors. */
    fd = open("de/f1", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(raw_getdents64(fd, buf, sizeof buf), ENOTDIR);
    close(fd);
    CHECK_ERR(raw_getdents64(-1, buf, sizeof buf), EBADF);
    CHECK_ERR(raw_getdents64(9999, buf, sizeof buf), EBADF);
    fd = open("/dev/null", O_RDONLY);
    CHECK_ERR(raw_getdents64(fd, buf, sizeof buf), ENOTDIR);
    close(fd);

    /* An empty directory has just "." and "..". */
    CHECK_OK(mkdir("de_empty", 0755));
    fd = open("de_empty", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    static struct entry em[MAXE];
    int k = read_all(fd, 4096, em);
    CHECK(k == 2);
    CHECK(count_name(em, k, ".") == 1 && count_name(em, k, "..") == 1);
    close(fd);

    /* opendir/readdir agree with getdents64. */
    CHECK(lseek(dfd, 0, SEEK_SET) == 0);
    n = read_all(dfd, 4096, all);
    DIR *d = opendir("de");
    CHECK(d != NULL);
    if (d) {
        int seen = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d)) != NULL) {
            const struct entry *g = find(all, n, de->d_name);
            CHECK(g != NULL);
            if (g) CHECK(g->type == de->d_type && g->ino == (uint64_t)de->d_ino);
            seen++;
        }
        CHECK(errno == 0);
        CHECK(seen == n);
        rewinddir(d);
        de = readdir(d);
        CHECK(de != NULL);
        CHECK(dirfd(d) >= 0);
        CHECK_OK(closedir(d));
    }
    errno = 0;
    CHECK(opendir("de/f1") == NULL && errno == ENOTDIR);
    errno = 0;
    CHECK(opendir("de_missing") == NULL && errno == ENOENT);
    /* fdopendir on an open directory descriptor. */
    fd = open("de_empty", O_RDONLY | O_DIRECTORY);
    d = fdopendir(fd);
    CHECK(d != NULL);
    if (d) {
        int cnt = 0;
        while (readdir(d)) cnt++;
        CHECK(cnt == 2);
        closedir(d);
    }
    close(dfd);
    DONE();
}
