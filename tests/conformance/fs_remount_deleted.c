/* A read-only remount while a removed file is still in use (as root, on a private tmpfs of
 * its own, on the host too): Linux's sb_prepare_remount_readonly refuses with EBUSY while
 * an inode whose last link went is not yet freed (s_remove_count) — a removed file open for
 * writing or only for reading, mapped privately with its descriptor closed, a removed folder
 * that is a working directory — and not for a file that keeps another name. A remount of
 * the mount alone (MS_BIND) does not care; once the file is let go the remount succeeds. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int remount(unsigned long flags) {
    return mount(NULL, base, NULL, MS_REMOUNT | flags, NULL);
}

/* The file system is read-only now, then made writable again. */
static void check_ro_then_rw(void) {
    struct statvfs sv;
    CHECK_OK(statvfs(base, &sv));
    CHECK(sv.f_flag & ST_RDONLY);
    CHECK_OK(remount(0));
}

static int create(const char *name, int flags) {
    int fd = open(at(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "data", 4) == 4);
    if (fd >= 0) close(fd);
    fd = open(at(name), flags);
    CHECK(fd >= 0);
    return fd;
}

int main(void) {
    (void)mounts_opts;
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_rmdel_XXXXXX", "size=1m");

    /* Removed, open for writing. */
    int fd = create("w", O_WRONLY);
    CHECK_OK(unlink(at("w")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    close(fd);
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    /* Removed, open only for reading: still busy (its freeing is a write). */
    fd = create("r", O_RDONLY);
    CHECK_OK(unlink(at("r")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    /* The mount alone may become read-only. */
    CHECK_OK(remount(MS_BIND | MS_RDONLY));
    CHECK_OK(remount(MS_BIND));
    char buf[8] = {0};
    CHECK(pread(fd, buf, sizeof buf, 0) == 4 && memcmp(buf, "data", 4) == 0);
    close(fd);
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    /* Removed, mapped privately, descriptor closed. */
    fd = create("m", O_RDONLY);
    void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    close(fd);
    CHECK_OK(unlink(at("m")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    if (m != MAP_FAILED) {
        CHECK(memcmp(m, "data", 4) == 0);
        munmap(m, 4096);
    }
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    /* A removed folder as the working directory. */
    CHECK_OK(mkdir(at("d"), 0755));
    CHECK_OK(chdir(at("d")));
    CHECK_OK(rmdir(at("d")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    CHECK_OK(chdir("/"));
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    /* One name of two removed: the file is still linked, nothing blocks. */
    fd = create("a", O_RDONLY);
    CHECK_OK(link(at("a"), at("b")));
    CHECK_OK(unlink(at("a")));
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();
    /* Then its last name goes while it is open. */
    CHECK_OK(unlink(at("b")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    close(fd);
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    /* Replaced by a rename while open. */
    fd = create("old", O_RDONLY);
    int fd2 = create("new", O_RDONLY);
    close(fd2);
    CHECK_OK(rename(at("new"), at("old")));
    CHECK_ERR(remount(MS_RDONLY), EBUSY);
    close(fd);
    CHECK_OK(remount(MS_RDONLY));
    check_ro_then_rw();

    scratch_done();
    DONE();
}
