/* mountinfo's root field of a bind mount follows the bound folder or file (as root, inside a
 * fresh private tmpfs on a temporary folder, on the host too), as Linux's dentry path: after
 * a rename of the folder, of a folder above it, and of a bound file; "//deleted" once the
 * bound file is unlinked; a bind of a bind shows the path inside the file system. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The root field of the mountinfo line whose mount point is `point` ("" when none). */
static const char *root_of(const char *point) {
    static char buf[65536], root[256];
    root[0] = 0;
    read_all("/proc/self/mountinfo", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char r[256], pt[256];
        if (sscanf(p, "%*d %*d %*u:%*u %255s %255s", r, pt) == 2 && strcmp(pt, point) == 0)
            snprintf(root, sizeof root, "%s", r);
    }
    return root;
}

static void expect(const char *point, const char *want) {
    const char *got = root_of(point);
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0) printf("%s: root %s, want %s\n", point, got, want);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_bind_root_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("top"), 0755));
    CHECK_OK(mkdir(at("top/a"), 0755));
    CHECK_OK(mkdir(at("top/a/in"), 0755));
    CHECK_OK(mkdir(at("b"), 0755));
    CHECK_OK(mkdir(at("bb"), 0755));
    int fd = open(at("f"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    fd = open(at("g"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);

    CHECK_OK(mount(at("top/a"), at("b"), NULL, MS_BIND, NULL));
    CHECK_OK(mount(at("f"), at("g"), NULL, MS_BIND, NULL));
    /* A bind of a folder inside the bind: its root inside the file system. */
    CHECK_OK(mount(at("b/in"), at("bb"), NULL, MS_BIND, NULL));
    expect(at("b"), "/top/a");
    expect(at("g"), "/f");
    expect(at("bb"), "/top/a/in");

    CHECK_OK(rename(at("top/a"), at("top/c")));
    expect(at("b"), "/top/c");
    expect(at("bb"), "/top/c/in");
    CHECK_OK(rename(at("top"), at("up")));
    expect(at("b"), "/up/c");
    expect(at("bb"), "/up/c/in");
    CHECK_OK(rename(at("f"), at("h")));
    expect(at("g"), "/h");
    CHECK_OK(unlink(at("h")));
    expect(at("g"), "/h//deleted");

    CHECK_OK(umount2(at("bb"), 0));
    CHECK_OK(umount2(at("g"), 0));
    CHECK_OK(umount2(at("b"), 0));
    scratch_done();
    DONE();
}
