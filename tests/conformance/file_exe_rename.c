/* /proc/self/exe and the program's lines in /proc/self/maps follow the running executable's
 * file: a copy of this test is executed, renames itself while running (both names change to
 * the new path), then unlinks itself (both show " (deleted)"), as Linux's d_path of the exe
 * file and of the mapped file; opening /proc/self/exe still opens the program's file. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 16];

static int exe_is(const char *want) {
    char got[512];
    ssize_t n = readlink("/proc/self/exe", got, sizeof got - 1);
    if (n < 0) return 0;
    got[n] = 0;
    if (strcmp(got, want) != 0) {
        printf("/proc/self/exe -> '%s', expected '%s'\n", got, want);
        return 0;
    }
    return 1;
}

/* How many lines of /proc/self/maps name exactly `name` (the name runs to the line's end). */
static int maps_lines(const char *name) {
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return -1;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(fd);
    buf[len] = 0;
    int count = 0;
    size_t nl = strlen(name);
    for (char *line = buf; *line;) {
        char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (ll >= nl + 1 && line[ll - nl - 1] == ' ' && memcmp(line + ll - nl, name, nl) == 0)
            count++;
        line += ll + (end ? 1 : 0);
    }
    return count;
}

/* Opening /proc/self/exe opens the running program's file (ino), with `nlink` links. */
static int exe_opens(ino_t ino, nlink_t nlink) {
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) return 0;
    struct stat st;
    int ok = fstat(fd, &st) == 0 && st.st_ino == ino && st.st_nlink == nlink;
    close(fd);
    return ok;
}

static int child(const char *path) {
    char moved[256], deleted[300];
    struct stat st;
    CHECK_OK(stat(path, &st));
    snprintf(moved, sizeof moved, "%s-moved", path);
    snprintf(deleted, sizeof deleted, "%s (deleted)", moved);
    CHECK(exe_is(path));
    int lines = maps_lines(path);
    CHECK(lines >= 1);
    CHECK_OK(rename(path, moved));
    CHECK(exe_is(moved));
    CHECK(maps_lines(path) == 0);
    CHECK(maps_lines(moved) == lines);
    CHECK(exe_opens(st.st_ino, 1));
    CHECK_OK(unlink(moved));
    CHECK(exe_is(deleted));
    CHECK(maps_lines(moved) == 0);
    CHECK(maps_lines(deleted) == lines);
    CHECK(exe_opens(st.st_ino, 0));
    DONE();
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "child") == 0) return child(argv[2]);
    char path[256], moved[300];
    snprintf(path, sizeof path, "/tmp/lt-exe-rename-%d", getpid());
    snprintf(moved, sizeof moved, "%s-moved", path);
    int in = open("/proc/self/exe", O_RDONLY);
    CHECK(in >= 0);
    int out = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    CHECK(out >= 0);
    if (in < 0 || out < 0) DONE();
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) CHECK(write(out, buf, n) == n);
    close(in);
    close(out);
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "child", path, (char *)NULL);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    /* The child removed both names; nothing is left behind. */
    CHECK(access(path, F_OK) != 0 && access(moved, F_OK) != 0);
    unlink(path);
    unlink(moved);
    DONE();
}
