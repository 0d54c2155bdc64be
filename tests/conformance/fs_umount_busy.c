/* umount2 of a busy mount (as root, on a private tmpfs, on the host too): EBUSY while a file
 * on it is open (also O_PATH), mapped (shared or private, its descriptor closed), a working
 * directory (also another process's), or the program another process runs; then it
 * unmounts. umount2("/") by a process chrooted into the tmpfs: Linux's special case makes the
 * file system read-only (EBUSY while a file is open for writing) and leaves it mounted; with
 * MNT_EXPIRE it is EINVAL. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994

/* The child that unmounts its own root: exit 0 when every step went as Linux's. */
static int chroot_child(void) {
    if (chroot(base) != 0 || chdir("/") != 0) return 10;
    /* Never the real root: the tmpfs with its marker. */
    struct statfs sf;
    if (statfs("/", &sf) != 0 || (unsigned long)sf.f_type != TMPFS_MAGIC ||
        access("/marker", F_OK) != 0)
        return 11;
    int fd = open("/w", O_WRONLY | O_CREAT, 0644);
    if (fd < 0) return 12;
    errno = 0;
    if (umount2("/", 0) != -1 || errno != EBUSY) return 13;
    close(fd);
    if (umount2("/", MNT_EXPIRE) != -1 || errno != EINVAL) return 14;
    if (umount2("/", 0) != 0) return 15;
    if (statfs("/", &sf) != 0 || !(sf.f_flags & ST_RDONLY)) return 16;
    if (open("/x", O_WRONLY | O_CREAT, 0644) != -1 || errno != EROFS) return 17;
    if (access("/marker", F_OK) != 0) return 18;
    if (umount2("/", 0) != 0) return 19;
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        char c;
        return read(0, &c, 1) == 1 ? 0 : 1;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_busy_XXXXXX", "size=8m");
    CHECK_OK(mkdir(at("d"), 0755));
    int fd = open(at("f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, 8192));

    /* An open file. */
    CHECK_ERR(umount2(base, 0), EBUSY);
    close(fd);
    fd = open(at("d"), O_PATH);
    CHECK(fd >= 0);
    CHECK_ERR(umount2(base, 0), EBUSY);
    close(fd);

    /* Mappings outlive their descriptors. */
    fd = open(at("f"), O_RDWR);
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    close(fd);
    CHECK_ERR(umount2(base, 0), EBUSY);
    /* A shared writable mapping is a writer: no read-only remount either. */
    CHECK_ERR(mount(NULL, base, NULL, MS_REMOUNT | MS_RDONLY, NULL), EBUSY);
    munmap(m, 8192);
    fd = open(at("f"), O_RDONLY);
    m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    close(fd);
    CHECK_ERR(umount2(base, 0), EBUSY);
    munmap(m, 4096);

    /* Working directories: ours, then a child's. */
    CHECK_OK(chdir(at("d")));
    CHECK_ERR(umount2(base, 0), EBUSY);
    CHECK_OK(chdir("/"));
    int p[2];
    CHECK_OK(pipe(p));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        if (chdir(at("d")) != 0) _exit(2);
        char ch;
        _exit(read(p[0], &ch, 1) == 1 ? 0 : 1);
    }
    close(p[0]);
    usleep(100000);
    CHECK_ERR(umount2(base, 0), EBUSY);
    CHECK(write(p[1], "x", 1) == 1);
    close(p[1]);
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* A program running from the mount (its descriptor closed by exec). */
    copy_self(at("prog"), 0755);
    CHECK_OK(pipe(p));
    c = fork();
    if (c == 0) {
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        execl(at("prog"), "prog", "wait", (char *)0);
        _exit(3);
    }
    close(p[0]);
    usleep(200000);
    CHECK_ERR(umount2(base, 0), EBUSY);
    CHECK(write(p[1], "x", 1) == 1);
    close(p[1]);
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* umount2("/") in a chroot: read-only, still mounted. */
    fd = open(at("marker"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    c = fork();
    if (c == 0) _exit(chroot_child());
    st = 0;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    if (WEXITSTATUS(st) != 0) printf("chroot child: step %d\n", WEXITSTATUS(st));
    struct statfs sf;
    CHECK_OK(statfs(base, &sf));
    CHECK(sf.f_flags & ST_RDONLY);
    CHECK_ERR(open(at("y"), O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT, NULL));
    fd = open(at("y"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);

    scratch_done();
    DONE();
}
