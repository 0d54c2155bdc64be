/* rename's checks with trailing slashes, in Linux's order: every pair of a file, a folder, a
 * full folder, a missing name, symlinks to a folder, to a file and to nowhere, with and
 * without a trailing slash on either side (a slash on a non-folder is ENOTDIR before EISDIR
 * or ENOENT of the other side; a folder may take a slash on both), plus renames into their
 * own subfolder (EINVAL) and of or onto "." and ".." (EBUSY). Each case starts from a fresh
 * tree in a temporary folder. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *from, *to;
    int err;
} cases[] = {
    {"file", "x", 0},
    {"file", "x/", ENOTDIR},
    {"file", "file", 0},
    {"file", "file/", ENOTDIR},
    {"file", "file2/", ENOTDIR},
    {"file", "dir2", EISDIR},
    {"file", "dir2/", ENOTDIR},
    {"file", "full", EISDIR},
    {"file", "full/", ENOTDIR},
    {"file", "missing/x", ENOENT},
    {"file", "file/x", ENOTDIR},
    {"file", "ldir/", ENOTDIR},
    {"file", "lfile/", ENOTDIR},
    {"file", "dangle/", ENOTDIR},
    {"file", "dir/sub/", ENOTDIR},
    {"file/", "x", ENOTDIR},
    {"file/", "x/", ENOTDIR},
    {"file/", "file", ENOTDIR},
    {"file/", "file/", ENOTDIR},
    {"file/", "file2/", ENOTDIR},
    {"file/", "dir2", ENOTDIR},
    {"file/", "dir2/", ENOTDIR},
    {"file/", "full", ENOTDIR},
    {"file/", "full/", ENOTDIR},
    {"file/", "missing/x", ENOENT},
    {"file/", "file/x", ENOTDIR},
    {"file/", "ldir/", ENOTDIR},
    {"file/", "lfile/", ENOTDIR},
    {"file/", "dangle/", ENOTDIR},
    {"file/", "dir/sub/", ENOTDIR},
    {"dir", "x", 0},
    {"dir", "x/", 0},
    {"dir", "file", ENOTDIR},
    {"dir", "file/", ENOTDIR},
    {"dir", "file2/", ENOTDIR},
    {"dir", "dir2", 0},
    {"dir", "dir2/", 0},
    {"dir", "full", ENOTEMPTY},
    {"dir", "full/", ENOTEMPTY},
    {"dir", "missing/x", ENOENT},
    {"dir", "file/x", ENOTDIR},
    {"dir", "ldir/", ENOTDIR},
    {"dir", "lfile/", ENOTDIR},
    {"dir", "dangle/", ENOTDIR},
    {"dir", "dir/sub/", EINVAL},
    {"dir/", "x", 0},
    {"dir/", "x/", 0},
    {"dir/", "file", ENOTDIR},
    {"dir/", "file/", ENOTDIR},
    {"dir/", "file2/", ENOTDIR},
    {"dir/", "dir2", 0},
    {"dir/", "dir2/", 0},
    {"dir/", "full", ENOTEMPTY},
    {"dir/", "full/", ENOTEMPTY},
    {"dir/", "missing/x", ENOENT},
    {"dir/", "file/x", ENOTDIR},
    {"dir/", "ldir/", ENOTDIR},
    {"dir/", "lfile/", ENOTDIR},
    {"dir/", "dangle/", ENOTDIR},
    {"dir/", "dir/sub/", EINVAL},
    {"missing", "x", ENOENT},
    {"missing", "x/", ENOENT},
    {"missing", "file", ENOENT},
    {"missing", "file/", ENOENT},
    {"missing", "file2/", ENOENT},
    {"missing", "dir2", ENOENT},
    {"missing", "dir2/", ENOENT},
    {"missing", "full", ENOENT},
    {"missing", "full/", ENOENT},
    {"missing", "missing/x", ENOENT},
    {"missing", "file/x", ENOTDIR},
    {"missing", "ldir/", ENOENT},
    {"missing", "lfile/", ENOENT},
    {"missing", "dangle/", ENOENT},
    {"missing", "dir/sub/", ENOENT},
    {"missing/", "x", ENOENT},
    {"missing/", "x/", ENOENT},
    {"missing/", "file", ENOENT},
    {"missing/", "file/", ENOENT},
    {"missing/", "file2/", ENOENT},
    {"missing/", "dir2", ENOENT},
    {"missing/", "dir2/", ENOENT},
    {"missing/", "full", ENOENT},
    {"missing/", "full/", ENOENT},
    {"missing/", "missing/x", ENOENT},
    {"missing/", "file/x", ENOTDIR},
    {"missing/", "ldir/", ENOENT},
    {"missing/", "lfile/", ENOENT},
    {"missing/", "dangle/", ENOENT},
    {"missing/", "dir/sub/", ENOENT},
    {"ldir", "x", 0},
    {"ldir", "x/", ENOTDIR},
    {"ldir", "file", 0},
    {"ldir", "file/", ENOTDIR},
    {"ldir", "file2/", ENOTDIR},
    {"ldir", "dir2", EISDIR},
    {"ldir", "dir2/", ENOTDIR},
    {"ldir", "full", EISDIR},
    {"ldir", "full/", ENOTDIR},
    {"ldir", "missing/x", ENOENT},
    {"ldir", "file/x", ENOTDIR},
    {"ldir", "ldir/", ENOTDIR},
    {"ldir", "lfile/", ENOTDIR},
    {"ldir", "dangle/", ENOTDIR},
    {"ldir", "dir/sub/", ENOTDIR},
    {"ldir/", "x", ENOTDIR},
    {"ldir/", "x/", ENOTDIR},
    {"ldir/", "file", ENOTDIR},
    {"ldir/", "file/", ENOTDIR},
    {"ldir/", "file2/", ENOTDIR},
    {"ldir/", "dir2", ENOTDIR},
    {"ldir/", "dir2/", ENOTDIR},
    {"ldir/", "full", ENOTDIR},
    {"ldir/", "full/", ENOTDIR},
    {"ldir/", "missing/x", ENOENT},
    {"ldir/", "file/x", ENOTDIR},
    {"ldir/", "ldir/", ENOTDIR},
    {"ldir/", "lfile/", ENOTDIR},
    {"ldir/", "dangle/", ENOTDIR},
    {"ldir/", "dir/sub/", ENOTDIR},
    {"lfile/", "x", ENOTDIR},
    {"lfile/", "x/", ENOTDIR},
    {"lfile/", "file", ENOTDIR},
    {"lfile/", "file/", ENOTDIR},
    {"lfile/", "file2/", ENOTDIR},
    {"lfile/", "dir2", ENOTDIR},
    {"lfile/", "dir2/", ENOTDIR},
    {"lfile/", "full", ENOTDIR},
    {"lfile/", "full/", ENOTDIR},
    {"lfile/", "missing/x", ENOENT},
    {"lfile/", "file/x", ENOTDIR},
    {"lfile/", "ldir/", ENOTDIR},
    {"lfile/", "lfile/", ENOTDIR},
    {"lfile/", "dangle/", ENOTDIR},
    {"lfile/", "dir/sub/", ENOTDIR},
    {"dangle/", "x", ENOTDIR},
    {"dangle/", "x/", ENOTDIR},
    {"dangle/", "file", ENOTDIR},
    {"dangle/", "file/", ENOTDIR},
    {"dangle/", "file2/", ENOTDIR},
    {"dangle/", "dir2", ENOTDIR},
    {"dangle/", "dir2/", ENOTDIR},
    {"dangle/", "full", ENOTDIR},
    {"dangle/", "full/", ENOTDIR},
    {"dangle/", "missing/x", ENOENT},
    {"dangle/", "file/x", ENOTDIR},
    {"dangle/", "ldir/", ENOTDIR},
    {"dangle/", "lfile/", ENOTDIR},
    {"dangle/", "dangle/", ENOTDIR},
    {"dangle/", "dir/sub/", ENOTDIR},
    {"dangle", "x", 0},
    {"dangle", "x/", ENOTDIR},
    {"dangle", "file", 0},
    {"dangle", "file/", ENOTDIR},
    {"dangle", "file2/", ENOTDIR},
    {"dangle", "dir2", EISDIR},
    {"dangle", "dir2/", ENOTDIR},
    {"dangle", "full", EISDIR},
    {"dangle", "full/", ENOTDIR},
    {"dangle", "missing/x", ENOENT},
    {"dangle", "file/x", ENOTDIR},
    {"dangle", "ldir/", ENOTDIR},
    {"dangle", "lfile/", ENOTDIR},
    {"dangle", "dangle/", ENOTDIR},
    {"dangle", "dir/sub/", ENOTDIR},
    {"dir", "dir/", 0},
    {"dir/", "dir", 0},
    {"dir", "dir/sub", EINVAL},
    {"file", "file/x/", ENOTDIR},
    {".", "x", EBUSY},
    {"dir/.", "x/", EBUSY},
    {"dir/..", "x", EBUSY},
    {"file", ".", EBUSY},
    {"file", "dir/..", EBUSY},
    {"dir", ".", EBUSY},
};

static char top[64];

/* Removes everything under the current folder `path` (depth one or two). */
static void clear(const char *path) {
    static const char *names[] = {"dir2/dir", "dir2/ldir", "full/x", "full/dir", "x/dir",
                                  "dir/x",    "file",      "file2",  "dir",      "dir2",
                                  "full",     "ldir",      "lfile",  "dangle",   "x"};
    char p[256];
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        if (unlink(p) != 0) rmdir(p);
    }
}

static void fresh(void) {
    clear(top);
    CHECK_OK(mkdir("dir", 0755));
    CHECK_OK(mkdir("dir2", 0755));
    CHECK_OK(mkdir("full", 0755));
    int fd = open("file", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    fd = open("file2", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    fd = open("full/x", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);
    CHECK_OK(symlink("dir", "ldir"));
    CHECK_OK(symlink("file", "lfile"));
    CHECK_OK(symlink("nowhere", "dangle"));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(top, "/tmp/lt_rnslash_XXXXXX");
    CHECK(mkdtemp(top) != NULL);
    CHECK_OK(chdir(top));
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        fresh();
        errno = 0;
        int r = rename(cases[i].from, cases[i].to);
        int e = r == 0 ? 0 : errno;
        if (e != cases[i].err) {
            printf("rename(%s, %s): %s, expected %s\n", cases[i].from, cases[i].to,
                   e ? strerror(e) : "0", cases[i].err ? strerror(cases[i].err) : "0");
            lt_failures++;
        }
    }
    clear(top);
    CHECK_OK(chdir("/"));
    CHECK_OK(rmdir(top));
    DONE();
}
