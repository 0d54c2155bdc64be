/* name_to_handle_at / open_by_handle_at: EOVERFLOW with the size needed, a handle that opens
 * the same file (regular files, directories, symlinks with O_PATH, AT_SYMLINK_FOLLOW,
 * AT_EMPTY_PATH), EINVAL for bad flags and sizes, EPERM without CAP_DAC_READ_SEARCH, and
 * ESTALE once the file is deleted. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct file_handle *get(int dirfd, const char *p, int flags, int *mnt) {
    struct file_handle probe = {0};
    errno = 0;
    long r = name_to_handle_at(dirfd, p, &probe, mnt, flags);
    if (r != -1 || errno != EOVERFLOW || probe.handle_bytes == 0) {
        printf("probe of %s: %ld errno %d bytes %u\n", p, r, errno, probe.handle_bytes);
        lt_failures++;
        return NULL;
    }
    struct file_handle *h = calloc(1, sizeof *h + probe.handle_bytes);
    h->handle_bytes = probe.handle_bytes;
    if (name_to_handle_at(dirfd, p, h, mnt, flags) != 0) {
        printf("name_to_handle_at %s: errno %d\n", p, errno);
        lt_failures++;
        free(h);
        return NULL;
    }
    return h;
}

static long ino_fd(int fd) {
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 ? (long)st.st_ino : -1;
}

static long ino_path(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? (long)st.st_ino : -2;
}

static struct file_handle *file_h;
static int root_fd;

static void unprivileged(void) {
    CHECK_OK(setuid(65534));
    CHECK_ERR(open_by_handle_at(root_fd, file_h, O_RDONLY), EPERM);
}

int main(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "fh_%d", getpid());
    CHECK_OK(mkdir(dir, 0755));
    CHECK_OK(chdir(dir));
    CHECK_OK(mkdir("d", 0755));
    int fd = open("d/f", O_CREAT | O_WRONLY, 0644);
    CHECK(write(fd, "hello", 5) == 5);
    close(fd);
    CHECK_OK(symlink("d/f", "l"));
    root_fd = open(".", O_RDONLY | O_DIRECTORY);

    int mnt = -1;
    file_h = get(AT_FDCWD, "d/f", 0, &mnt);
    CHECK(mnt >= 0);
    if (!file_h) DONE();
    fd = open_by_handle_at(root_fd, file_h, O_RDONLY);
    CHECK(fd >= 0);
    char buf[8] = {0};
    CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(ino_fd(fd) == ino_path("d/f"));
    CHECK(fcntl(fd, F_GETFD) == 0);
    close(fd);
    fd = open_by_handle_at(root_fd, file_h, O_WRONLY | O_APPEND | O_CLOEXEC);
    CHECK(fd >= 0 && write(fd, "!", 1) == 1);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    close(fd);
    /* Any descriptor on the file system serves as mount_fd. */
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    fd = open_by_handle_at(dfd, file_h, O_RDONLY);
    CHECK(ino_fd(fd) == ino_path("d/f"));
    close(fd);

    /* A directory, and the same file through AT_EMPTY_PATH. */
    struct file_handle *dh = get(AT_FDCWD, "d", 0, &mnt);
    if (dh) {
        fd = open_by_handle_at(root_fd, dh, O_RDONLY | O_DIRECTORY);
        CHECK(ino_fd(fd) == ino_path("d"));
        close(fd);
        CHECK_ERR(open_by_handle_at(root_fd, dh, O_WRONLY), EISDIR);
    }
    struct file_handle *eh = get(dfd, "", AT_EMPTY_PATH, &mnt);
    if (eh) {
        fd = open_by_handle_at(root_fd, eh, O_RDONLY);
        CHECK(ino_fd(fd) == ino_path("d"));
        close(fd);
    }
    CHECK_ERR(name_to_handle_at(dfd, "", file_h, &mnt, 0), ENOENT);

    /* Symlinks: the link itself unless AT_SYMLINK_FOLLOW. */
    struct file_handle *lh = get(AT_FDCWD, "l", 0, &mnt);
    if (lh) {
        CHECK_ERR(open_by_handle_at(root_fd, lh, O_RDONLY), ELOOP);
        fd = open_by_handle_at(root_fd, lh, O_PATH);
        CHECK(ino_fd(fd) == ino_path("l"));
        close(fd);
    }
    struct file_handle *fh2 = get(AT_FDCWD, "l", AT_SYMLINK_FOLLOW, &mnt);
    if (fh2) {
        fd = open_by_handle_at(root_fd, fh2, O_RDONLY);
        CHECK(ino_fd(fd) == ino_path("d/f"));
        close(fd);
    }

    /* Errors. */
    CHECK_ERR(name_to_handle_at(AT_FDCWD, "d/f", file_h, &mnt, 0x8000), EINVAL);
    CHECK_ERR(name_to_handle_at(AT_FDCWD, "missing", file_h, &mnt, 0), ENOENT);
    struct file_handle *big = calloc(1, sizeof *big + 256);
    big->handle_bytes = 129;
    CHECK_ERR(name_to_handle_at(AT_FDCWD, "d/f", big, &mnt, 0), EINVAL);
    CHECK_ERR(open_by_handle_at(root_fd, big, O_RDONLY), EINVAL);
    big->handle_bytes = 0;
    CHECK_ERR(open_by_handle_at(root_fd, big, O_RDONLY), EINVAL);
    CHECK_ERR(open_by_handle_at(999, file_h, O_RDONLY), EBADF);
    CHECK_ERR(name_to_handle_at(AT_FDCWD, "d/f", (void *)8, &mnt, 0), EFAULT);
    lt_sub("unprivileged", unprivileged, 5000);

    /* Deleted: the handle is stale. */
    CHECK_OK(unlink("d/f"));
    CHECK_ERR(open_by_handle_at(root_fd, file_h, O_RDONLY), ESTALE);

    close(dfd);
    close(root_fd);
    unlink("l");
    rmdir("d");
    CHECK_OK(chdir(".."));
    CHECK_OK(rmdir(dir));
    DONE();
}
