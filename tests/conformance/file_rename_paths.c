/* Paths follow renames (Linux's dcache, d_move): getcwd and /proc/self/cwd after an ancestor
 * of the working directory is renamed, /proc/self/fd/N after the file or its directory moves,
 * " (deleted)" once the name is gone, ".." from a directory fd after the directory moved,
 * RENAME_EXCHANGE of two directories, a file mapping's name in /proc/self/maps. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#define LT_RENAME_NOREPLACE 1
#define LT_RENAME_EXCHANGE 2

static char base[512];

static const char *at(const char *rel) {
    static char bufs[4][PATH_MAX];
    static int n;
    char *b = bufs[n++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", base, rel);
    return b;
}

/* Checks that readlink(link) says base/rel (with suffix, e.g. " (deleted)"). */
static void check_link(int line, const char *link, const char *rel, const char *suffix) {
    char got[PATH_MAX], want[PATH_MAX];
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n < 0) {
        printf("line %d: readlink %s: %s\n", line, link, strerror(errno));
        lt_failures++;
        return;
    }
    got[n] = 0;
    snprintf(want, sizeof want, "%s%s%s%s", base, *rel ? "/" : "", rel, suffix);
    if (strcmp(got, want) != 0) {
        printf("line %d: readlink %s = \"%s\", expected \"%s\"\n", line, link, got, want);
        lt_failures++;
    }
}

static void check_fd(int line, int fd, const char *rel, const char *suffix) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    check_link(line, link, rel, suffix);
}

static void check_cwd(int line, const char *rel) {
    char got[PATH_MAX], want[PATH_MAX];
    snprintf(want, sizeof want, "%s/%s", base, rel);
    if (!getcwd(got, sizeof got)) {
        printf("line %d: getcwd: %s\n", line, strerror(errno));
        lt_failures++;
    } else if (strcmp(got, want) != 0) {
        printf("line %d: getcwd = \"%s\", expected \"%s\"\n", line, got, want);
        lt_failures++;
    }
    check_link(line, "/proc/self/cwd", rel, "");
}

static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static void make_file(const char *p) {
    int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "data", 4) == 4);
        close(fd);
    }
}

/* getcwd and /proc/self/cwd after renaming an ancestor, then after moving the cwd itself. */
static void test_cwd_ancestor(void) {
    CHECK_OK(mkdir(at("a"), 0755));
    CHECK_OK(mkdir(at("a/b"), 0755));
    CHECK_OK(mkdir(at("a/b/c"), 0755));
    CHECK_OK(chdir(at("a/b/c")));
    check_cwd(__LINE__, "a/b/c");
    CHECK_OK(rename(at("a"), at("z")));
    check_cwd(__LINE__, "z/b/c");
    CHECK_OK(rename(at("z/b"), at("y")));
    check_cwd(__LINE__, "y/c");
    /* ".." walks the new parents. */
    CHECK_OK(chdir(".."));
    check_cwd(__LINE__, "y");
    CHECK_OK(chdir(base));
    CHECK_OK(rmdir(at("y/c")));
    CHECK_OK(rmdir(at("y")));
    CHECK_OK(rmdir(at("z")));
}

/* /proc/self/fd/N after renaming the file, moving it to another directory, renaming that
 * directory, and unlinking it. */
static void test_fd_links(void) {
    make_file(at("f"));
    int fd = open(at("f"), O_RDONLY);
    CHECK(fd >= 0);
    check_fd(__LINE__, fd, "f", "");
    CHECK_OK(rename(at("f"), at("g")));
    check_fd(__LINE__, fd, "g", "");
    CHECK_OK(mkdir(at("d"), 0755));
    CHECK_OK(rename(at("g"), at("d/h")));
    check_fd(__LINE__, fd, "d/h", "");
    CHECK_OK(rename(at("d"), at("e")));
    check_fd(__LINE__, fd, "e/h", "");
    /* RENAME_NOREPLACE moves it as well. */
    CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("e/h"), AT_FDCWD, at("e/i"),
                     LT_RENAME_NOREPLACE));
    check_fd(__LINE__, fd, "e/i", "");
    CHECK_OK(unlink(at("e/i")));
    check_fd(__LINE__, fd, "e/i", " (deleted)");
    close(fd);

    /* A file another rename replaced is deleted; the one moved onto its name is there. */
    make_file(at("e/old"));
    make_file(at("e/new"));
    int old = open(at("e/old"), O_RDONLY), new = open(at("e/new"), O_RDONLY);
    CHECK(old >= 0 && new >= 0);
    CHECK_OK(rename(at("e/new"), at("e/old")));
    check_fd(__LINE__, old, "e/old", " (deleted)");
    check_fd(__LINE__, new, "e/old", "");
    close(old);
    close(new);

    /* Unlinking one of two hard links deletes the name the file was opened by. */
    CHECK_OK(link(at("e/old"), at("e/other")));
    int l = open(at("e/old"), O_RDONLY);
    CHECK(l >= 0);
    CHECK_OK(unlink(at("e/old")));
    check_fd(__LINE__, l, "e/old", " (deleted)");
    close(l);
    CHECK_OK(unlink(at("e/other")));

    /* A directory fd, and a removed working directory. */
    CHECK_OK(mkdir(at("e/gone"), 0755));
    int dfd = open(at("e/gone"), O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(chdir(at("e/gone")));
    CHECK_OK(rmdir(at("e/gone")));
    check_fd(__LINE__, dfd, "e/gone", " (deleted)");
    check_link(__LINE__, "/proc/self/cwd", "e/gone", " (deleted)");
    char buf[PATH_MAX];
    CHECK_ERR(getcwd(buf, sizeof buf) ? 0 : -1, ENOENT);
    CHECK_OK(chdir(base));
    close(dfd);
    CHECK_OK(rmdir(at("e")));
}

/* openat(dirfd, "..") and fchdir after dirfd's directory moved elsewhere. */
static void test_dotdot(void) {
    CHECK_OK(mkdir(at("p"), 0755));
    CHECK_OK(mkdir(at("p/q"), 0755));
    CHECK_OK(mkdir(at("r"), 0755));
    int dfd = open(at("p/q"), O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(rename(at("p/q"), at("r/q")));
    check_fd(__LINE__, dfd, "r/q", "");
    int up = openat(dfd, "..", O_RDONLY | O_DIRECTORY);
    CHECK(up >= 0);
    CHECK(same_file(up, at("r")));
    CHECK(!same_file(up, at("p")));
    check_fd(__LINE__, up, "r", "");
    /* A file made through the fd is in the directory's new place. */
    int nf = openat(dfd, "made", O_CREAT | O_WRONLY, 0644);
    CHECK(nf >= 0);
    check_fd(__LINE__, nf, "r/q/made", "");
    close(nf);
    CHECK_OK(fchdir(dfd));
    check_cwd(__LINE__, "r/q");
    CHECK_OK(chdir(".."));
    check_cwd(__LINE__, "r");
    CHECK_OK(chdir(base));
    close(up);
    close(dfd);
    CHECK_OK(unlink(at("r/q/made")));
    CHECK_OK(rmdir(at("r/q")));
    CHECK_OK(rmdir(at("r")));
    CHECK_OK(rmdir(at("p")));
}

/* RENAME_EXCHANGE of two directories swaps the paths of everything under them. */
static void test_exchange(void) {
    CHECK_OK(mkdir(at("x"), 0755));
    CHECK_OK(mkdir(at("x/in"), 0755));
    CHECK_OK(mkdir(at("w"), 0755));
    make_file(at("w/file"));
    int fd = open(at("w/file"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(chdir(at("x/in")));
    CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("x"), AT_FDCWD, at("w"), LT_RENAME_EXCHANGE));
    check_cwd(__LINE__, "w/in");
    check_fd(__LINE__, fd, "x/file", "");
    /* And back, through names relative to the cwd. */
    CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, "../../x", AT_FDCWD, "../../w",
                     LT_RENAME_EXCHANGE));
    check_cwd(__LINE__, "x/in");
    check_fd(__LINE__, fd, "w/file", "");
    CHECK_OK(chdir(base));
    close(fd);
    CHECK_OK(unlink(at("w/file")));
    CHECK_OK(rmdir(at("w")));
    CHECK_OK(rmdir(at("x/in")));
    CHECK_OK(rmdir(at("x")));
}

/* A file mapping's name in /proc/self/maps follows a rename. */
static void test_maps(void) {
    make_file(at("mapped"));
    int fd = open(at("mapped"), O_RDONLY);
    CHECK(fd >= 0);
    void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    close(fd);
    CHECK_OK(rename(at("mapped"), at("moved")));
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, " %s\n", at("moved"));
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    int found = 0;
    char line[PATH_MAX + 128];
    while (f && fgets(line, sizeof line, f)) {
        char *s = strstr(line, want);
        if (s && s[strlen(want)] == 0) found = 1;
    }
    if (f) fclose(f);
    if (!found) {
        printf("maps has no line naming%s", want);
        lt_failures++;
    }
    munmap(p, 4096);
    CHECK_OK(unlink(at("moved")));
}

int main(void) {
    char tmpl[] = "/tmp/lt-rename-paths.XXXXXX";
    if (!mkdtemp(tmpl) || chdir(tmpl) != 0 || !getcwd(base, sizeof base)) {
        printf("setup: %s\n", strerror(errno));
        return 1;
    }
    test_cwd_ancestor();
    test_fd_links();
    test_dotdot();
    test_exchange();
    test_maps();
    CHECK_OK(chdir("/"));
    CHECK_OK(rmdir(base));
    DONE();
}
