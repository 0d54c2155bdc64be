/* A large directory (thousands of names, many blocks on ext4, where a name index serves the
 * lookups): creates, O_EXCL on existing names, lookups, unlinks, renames within and across
 * directories, hard links, names reusing freed space, and readdir listing exactly what is
 * there, once each. Also many byte-range locks on one file (a lock table that grows and
 * splits): each byte answers F_GETLK as set, and unlocking the whole file frees them all. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 3000

/* 1: in the directory, 0: not (for names "big/n-<i>"), 2: renamed to "big/r-<i>", 3: moved
 * to "other/m-<i>". */
static unsigned char state[N];

static void path_of(char *p, size_t cap, int i) {
    switch (state[i]) {
    case 2: snprintf(p, cap, "big/r-%d-with-a-longer-name", i); break;
    case 3: snprintf(p, cap, "other/m-%d", i); break;
    default: snprintf(p, cap, "big/n-%05d-a-name-long-enough-to-fill-blocks", i);
    }
}

/* How many names readdir lists in `dir`, besides "." and "..". */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Creates `p` (it must not exist) holding the number `i`. */
static void create_holding(const char *p, int i) {
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, &i, sizeof i) == sizeof i);
        close(fd);
    }
}

static void directory(void) {
    CHECK_OK(mkdir("big", 0755));
    CHECK_OK(mkdir("other", 0755));
    char p[160], q[160];
    for (int i = 0; i < N; i++) {
        state[i] = 1;
        path_of(p, sizeof p, i);
        create_holding(p, i);
    }
    path_of(p, sizeof p, N / 2);
    CHECK_ERR(open(p, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    for (int i = 0; i < N; i += 3) {
        path_of(p, sizeof p, i);
        CHECK_OK(unlink(p));
        state[i] = 0;
    }
    for (int i = 1; i < N; i += 7) {
        if (state[i] != 1) continue;
        path_of(p, sizeof p, i);
        state[i] = i % 2 ? 3 : 2;
        path_of(q, sizeof q, i);
        CHECK_OK(rename(p, q));
    }
    /* New names in the space the unlinks freed. */
    for (int i = 0; i < N; i += 3) {
        state[i] = 1;
        path_of(p, sizeof p, i);
        create_holding(p, i);
        if (i % 300 == 0) {
            snprintf(q, sizeof q, "big/link-%d", i);
            CHECK_OK(link(p, q));
        }
    }
    int in_big = 0, in_other = 0;
    for (int i = 0; i < N; i += 300) in_big++; /* the links */
    for (int i = 0; i < N; i++) {
        path_of(p, sizeof p, i);
        int fd = open(p, O_RDONLY);
        CHECK(fd >= 0);
        int v = -1;
        if (fd >= 0) {
            CHECK(read(fd, &v, sizeof v) == sizeof v);
            close(fd);
        }
        CHECK(v == i);
        if (state[i] == 3)
            in_other++;
        else
            in_big++;
        if (state[i] != 1) { /* the old name is gone */
            unsigned char s = state[i];
            state[i] = 1;
            path_of(q, sizeof q, i);
            state[i] = s;
            CHECK_ERR(open(q, O_RDONLY), ENOENT);
        }
    }
    struct stat st;
    CHECK_OK(stat("big/link-300", &st));
    CHECK(st.st_nlink == 2);
    CHECK(count_entries("big") == in_big);
    CHECK(count_entries("other") == in_other);
    CHECK_ERR(rmdir("big"), ENOTEMPTY);
}

static void locks(void) {
    int fd = open("locked", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    /* Every other byte of 20000, then unlock every fourth: the table splits nothing but
     * grows to 10000 locks, then shrinks. */
    for (int i = 0; i < 20000; i += 2) {
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1};
        CHECK_OK(fcntl(fd, F_SETLK, &l));
    }
    for (int i = 0; i < 20000; i += 4) {
        struct flock l = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1};
        CHECK_OK(fcntl(fd, F_SETLK, &l));
    }
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        for (int i = 0; i < 20000; i += 97) {
            struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1};
            if (fcntl(fd, F_GETLK, &l) != 0) bad++;
            int held = i % 4 == 2;
            if (held != (l.l_type == F_WRLCK)) bad++;
            if (held && (l.l_start != i || l.l_len != 1 || l.l_pid != getppid())) bad++;
        }
        /* One lock over the gaps of 0..100: refused while any byte is held. */
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
        if (fcntl(fd, F_SETLK, &l) != -1 || (errno != EAGAIN && errno != EACCES)) bad++;
        _exit(bad ? 1 : 0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_EXIT(status, 0);
    struct flock all = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    CHECK_OK(fcntl(fd, F_SETLK, &all));
    pid = fork();
    if (pid == 0) {
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        _exit(fcntl(fd, F_SETLK, &l) == 0 ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_EXIT(status, 0);
    close(fd);
}

int main(void) {
    directory();
    locks();
    DONE();
}
