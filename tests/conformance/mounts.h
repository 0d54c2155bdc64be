/* Reading the mount tables as a test sees them: the per-mount options of a mount point in
 * /proc/mounts, and the `at` helper naming a file under a test's scratch mount `base`. */
#ifndef MOUNTS_H
#define MOUNTS_H
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
static const char *mounts_opts(const char *point) {
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
#endif
