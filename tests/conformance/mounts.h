/* Reading the mount tables as a test sees them: the per-mount options of a mount point in
 * /proc/mounts, a test's scratch mount `base` (`scratch_tmpfs`, `scratch_done`) and the `at`
 * helper naming a file under it, and `copy_self` putting the running program onto it.
 * Include after lintel_test.h. */
#ifndef MOUNTS_H
#define MOUNTS_H
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];

/* `base`/`name`, in one of four rotating buffers (so a call may take two or three). */
static const char *at(const char *name) {
    static char bufs[4][192];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 192, "%s/%s", base, name);
    return b;
}

/* The whole of a /proc file into `buf` (NUL-terminated; empty when unreadable). */
static void read_all(const char *path, char *buf, size_t size) {
    ssize_t n, len = 0;
    int fd = open(path, O_RDONLY);
    while (fd >= 0 && (n = read(fd, buf + len, size - 1 - len)) > 0) len += n;
    if (fd >= 0) close(fd);
    buf[len] = 0;
}

/* The options field of `point`'s /proc/mounts line, or "". */
static __attribute__((unused)) const char *mounts_opts(const char *point) {
    static char buf[65536], opts[256];
    opts[0] = 0;
    read_all("/proc/mounts", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char src[128], pt[256], type[64], o[256];
        if (sscanf(p, "%127s %255s %63s %255s", src, pt, type, o) == 4 && strcmp(pt, point) == 0)
            snprintf(opts, sizeof opts, "%s", o);
    }
    return opts;
}

/* Makes `base` a new folder named after `template` (ending in XXXXXX) with a tmpfs mounted
 * on it with `opts`, private: no propagation to or from the rest of the system (Linux's
 * default there may be shared). */
static __attribute__((unused)) void scratch_tmpfs(const char *template, const char *opts) {
    snprintf(base, sizeof base, "%s", template);
    CHECK(mkdtemp(base) != NULL);
    CHECK_OK(mount("none", base, "tmpfs", 0, opts));
    CHECK_OK(mount(NULL, base, NULL, MS_PRIVATE, NULL));
}

/* Unmounts the scratch mount and removes its folder. */
static __attribute__((unused)) void scratch_done(void) {
    CHECK_OK(umount2(base, 0));
    CHECK_OK(rmdir(base));
}

/* Copies this program to `dst` with `mode`. */
static __attribute__((unused)) void copy_self(const char *dst, mode_t mode) {
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    CHECK(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        CHECK(write(out, buf, n) == n);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    CHECK_OK(chmod(dst, mode));
}
#endif
