/* The order of the checks when a name is created or removed (as root, on the host too, on a
 * folder of the working directory's file system bound onto itself and made read-only: tmpfs,
 * and ext4 in the ext4 pass), as Linux's filename_create and do_unlinkat: an existing name gives
 * EEXIST before a read-only mount's EROFS and before the directory's permissions (EACCES);
 * open(O_CREAT) of an existing file without O_EXCL opens it, also on a read-only mount when
 * only read access is asked; a removal checks the mount before the name (EROFS, not ENOENT). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The creations of existing names as user 65534 in a folder it may not write: EEXIST. */
static void as_nobody(void) {
    pid_t p = fork();
    if (p == 0) {
        if (setgid(65534) || setuid(65534)) _exit(100);
        int bad = 0;
        bad |= !(mkdir(at("d"), 0755) < 0 && errno == EEXIST) << 0;
        bad |= !(mknod(at("f"), S_IFIFO | 0644, 0) < 0 && errno == EEXIST) << 1;
        bad |= !(symlink("x", at("f")) < 0 && errno == EEXIST) << 2;
        bad |= !(mkdir(at("new"), 0755) < 0 && errno == EACCES) << 3;
        bad |= !(open(at("new"), O_RDONLY | O_CREAT, 0644) < 0 && errno == EACCES) << 4;
        int fd = open(at("f"), O_RDONLY | O_CREAT, 0644);
        bad |= (fd < 0) << 5;
        _exit(bad);
    }
    int st = 0;
    waitpid(p, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFEXITED(st) && WEXITSTATUS(st)) printf("as nobody: failed checks 0x%x\n", WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(base, "lt_ro_order_XXXXXX");
    CHECK(mkdtemp(base) != NULL);
    CHECK_OK(chmod(base, 0755));
    int fd = open(at("f"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(mkdir(at("d"), 0755));
    CHECK_OK(symlink("nowhere", at("dangling")));
    as_nobody();

    CHECK_OK(mount(base, base, NULL, MS_BIND, NULL));
    CHECK_OK(mount(NULL, base, NULL, MS_PRIVATE, NULL));
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    /* Existing names: EEXIST. */
    CHECK_ERR(mkdir(at("f"), 0755), EEXIST);
    CHECK_ERR(mkdir(at("d"), 0755), EEXIST);
    CHECK_ERR(mkdir(at("dangling"), 0755), EEXIST);
    CHECK_ERR(mknod(at("f"), S_IFIFO | 0644, 0), EEXIST);
    CHECK_ERR(symlink("x", at("d")), EEXIST);
    CHECK_ERR(link(at("f"), at("d")), EEXIST);
    CHECK_ERR(link(at("d"), at("f")), EEXIST);
    CHECK_ERR(link(at("d"), at("new")), EROFS);
    CHECK_ERR(open(at("f"), O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    /* New names: EROFS. */
    CHECK_ERR(mkdir(at("new"), 0755), EROFS);
    CHECK_ERR(mknod(at("new"), S_IFIFO | 0644, 0), EROFS);
    CHECK_ERR(symlink("x", at("new")), EROFS);
    CHECK_ERR(link(at("f"), at("new")), EROFS);
    CHECK_ERR(open(at("new"), O_RDONLY | O_CREAT, 0644), EROFS);
    CHECK_ERR(open(at("dangling"), O_RDONLY | O_CREAT, 0644), EROFS);
    /* An existing file opened with O_CREAT: fine for reading, EROFS for writing. */
    fd = open(at("f"), O_RDONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_ERR(open(at("f"), O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_ERR(open(at("d"), O_RDONLY | O_CREAT, 0644), EISDIR);
    /* Removals and renames: the mount first. */
    CHECK_ERR(unlink(at("nothing")), EROFS);
    CHECK_ERR(rmdir(at("nothing")), EROFS);
    CHECK_ERR(unlink(at("f")), EROFS);
    CHECK_ERR(rmdir(at("d")), EROFS);
    CHECK_ERR(rename(at("nothing"), at("new")), EROFS);
    CHECK_ERR(rename(at("f"), at("new")), EROFS);
    /* Not a normal last name: checked before the mount. */
    CHECK_ERR(rmdir(at(".")), EINVAL);
    CHECK_ERR(mkdir(at("."), 0755), EEXIST);

    CHECK_OK(umount2(base, 0));
    CHECK_OK(unlink(at("f")));
    CHECK_OK(unlink(at("dangling")));
    CHECK_OK(rmdir(at("d")));
    CHECK_OK(rmdir(base));
    DONE();
}
