/* File metadata and data movers: chown family (and the set-user-ID bit it clears),
 * utimensat/futimens, statfs/fstatfs, mknod/mkfifo, O_TMPFILE + linkat, sendfile,
 * copy_file_range, splice, memfd_create, close_range, the set*id family and groups. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* Checks in a forked child: a failure is printed and the child's exit status becomes 1
 * (its checks go on, as in the parent). */
static int child_failures;
#define CHILD_CHECK(cond)                                                       \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("%s:%d: child CHECK(%s) failed (errno %d %s)\n", __FILE__,  \
                   __LINE__, #cond, errno, strerror(errno));                    \
            child_failures++;                                                   \
        }                                                                       \
    } while (0)

static const char *section = "start";
static void on_watchdog(int s) {
    (void)s;
    printf("file_meta: watchdog: stuck for 20 s in %s\n", section);
    _exit(2);
}

static void reap(pid_t pid) {
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int write_file(const char *path, const char *data, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, data, strlen(data));
    close(fd);
    return n == (ssize_t)strlen(data) ? 0 : -1;
}

static void test_chown(void) {
    struct stat sb;
    CHECK_OK(write_file("owned", "#!/bin/sh\n", 0755));
    CHECK_OK(chmod("owned", 06755));
    CHECK_OK(stat("owned", &sb));
    CHECK((sb.st_mode & 07777) == 06755);
    CHECK_OK(chown("owned", 1000, 1001));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 1000 && sb.st_gid == 1001);
    /* chown of an executable clears set-user-ID and (group-executable) set-group-ID. */
    CHECK((sb.st_mode & 07777) == 0755);
    /* -1 leaves an id alone. */
    CHECK_OK(chown("owned", -1, 1002));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 1000 && sb.st_gid == 1002);
    CHECK_OK(chown("owned", 1003, -1));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 1003 && sb.st_gid == 1002);

    /* fchown on an open fd. */
    int fd = open("owned", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(fchown(fd, 2000, 2001));
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_uid == 2000 && sb.st_gid == 2001);
    /* fchownat with AT_EMPTY_PATH acts on the fd itself. */
    CHECK_OK(fchownat(fd, "", 2002, 2003, AT_EMPTY_PATH));
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_uid == 2002 && sb.st_gid == 2003);
    close(fd);
    CHECK_ERR(fchown(999, 0, 0), EBADF);
    CHECK_ERR(chown("no-such-file", 0, 0), ENOENT);

    /* lchown and fchownat(AT_SYMLINK_NOFOLLOW) change the link, chown follows it. */
    CHECK_OK(symlink("owned", "ownlink"));
    CHECK_OK(lchown("ownlink", 3000, 3001));
    CHECK_OK(lstat("ownlink", &sb));
    CHECK(sb.st_uid == 3000 && sb.st_gid == 3001);
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 2002 && sb.st_gid == 2003);
    CHECK_OK(fchownat(AT_FDCWD, "ownlink", 3100, 3101, AT_SYMLINK_NOFOLLOW));
    CHECK_OK(lstat("ownlink", &sb));
    CHECK(sb.st_uid == 3100 && sb.st_gid == 3101);
    CHECK_OK(chown("ownlink", 4000, 4001));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 4000 && sb.st_gid == 4001);
    CHECK_OK(lstat("ownlink", &sb));
    CHECK(sb.st_uid == 3100);
    CHECK_OK(fchownat(AT_FDCWD, "ownlink", 4100, 4101, 0));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_uid == 4100 && sb.st_gid == 4101);
    CHECK_ERR(fchownat(AT_FDCWD, "owned", 0, 0, 0x1234), EINVAL);
    /* chown changes ctime but not mtime. */
    struct stat before;
    CHECK_OK(stat("owned", &before));
    struct timespec d = {0, 20 * 1000000};
    nanosleep(&d, NULL);
    CHECK_OK(chown("owned", 0, 0));
    CHECK_OK(stat("owned", &sb));
    CHECK(sb.st_mtim.tv_sec == before.st_mtim.tv_sec &&
          sb.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    CHECK(sb.st_ctim.tv_sec > before.st_ctim.tv_sec ||
          (sb.st_ctim.tv_sec == before.st_ctim.tv_sec &&
           sb.st_ctim.tv_nsec > before.st_ctim.tv_nsec));
    unlink("ownlink");
    unlink("owned");
}

static void test_times(void) {
    struct stat sb;
    CHECK_OK(write_file("timed", "t", 0644));
    struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
    CHECK_OK(utimensat(AT_FDCWD, "timed", ts, 0));
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_atim.tv_sec == 1000000000 && sb.st_atim.tv_nsec == 123456789);
    CHECK(sb.st_mtim.tv_sec == 1100000000 && sb.st_mtim.tv_nsec == 987654321);

    /* UTIME_OMIT leaves one alone; UTIME_NOW sets the current time. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec t2[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    CHECK_OK(utimensat(AT_FDCWD, "timed", t2, 0));
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_atim.tv_sec >= now.tv_sec - 1 && sb.st_atim.tv_sec <= now.tv_sec + 5);
    CHECK(sb.st_mtim.tv_sec == 1100000000 && sb.st_mtim.tv_nsec == 987654321);
    struct timespec t3[2] = {{0, UTIME_OMIT}, {1200000000, 5}};
    CHECK_OK(utimensat(AT_FDCWD, "timed", t3, 0));
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_atim.tv_sec >= now.tv_sec - 1);
    CHECK(sb.st_mtim.tv_sec == 1200000000 && sb.st_mtim.tv_nsec == 5);
    /* NULL: both now. */
    CHECK_OK(utimensat(AT_FDCWD, "timed", NULL, 0));
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_mtim.tv_sec >= now.tv_sec - 1 && sb.st_mtim.tv_sec <= now.tv_sec + 5);
    /* Errors. */
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, "timed", bad, 0), EINVAL);
    CHECK_ERR(utimensat(AT_FDCWD, "timed", ts, 0x4), EINVAL);
    CHECK_ERR(utimensat(AT_FDCWD, "no-such-file", ts, 0), ENOENT);

    /* futimens on an fd. */
    int fd = open("timed", O_RDONLY);
    struct timespec t4[2] = {{1300000000, 1}, {1400000000, 2}};
    CHECK_OK(futimens(fd, t4));
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_atim.tv_sec == 1300000000 && sb.st_atim.tv_nsec == 1);
    CHECK(sb.st_mtim.tv_sec == 1400000000 && sb.st_mtim.tv_nsec == 2);
    close(fd);

    /* AT_SYMLINK_NOFOLLOW changes the link's times, not the target's. */
    CHECK_OK(symlink("timed", "timelink"));
    struct timespec t5[2] = {{1500000000, 0}, {1600000000, 0}};
    CHECK_OK(utimensat(AT_FDCWD, "timelink", t5, AT_SYMLINK_NOFOLLOW));
    CHECK_OK(lstat("timelink", &sb));
    CHECK(sb.st_atim.tv_sec == 1500000000 && sb.st_mtim.tv_sec == 1600000000);
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_atim.tv_sec == 1300000000 && sb.st_mtim.tv_sec == 1400000000);
    /* Without the flag the target changes. */
    struct timespec t6[2] = {{1700000000, 0}, {1700000001, 0}};
    CHECK_OK(utimensat(AT_FDCWD, "timelink", t6, 0));
    CHECK_OK(stat("timed", &sb));
    CHECK(sb.st_atim.tv_sec == 1700000000 && sb.st_mtim.tv_sec == 1700000001);
    CHECK_OK(lstat("timelink", &sb));
    CHECK(sb.st_mtim.tv_sec == 1600000000);
    unlink("timelink");

    /* A write updates mtime. */
    fd = open("timed", O_WRONLY);
    CHECK(write(fd, "x", 1) == 1);
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_mtim.tv_sec >= now.tv_sec - 1);
    close(fd);
    unlink("timed");
}

static void test_statfs(void) {
    struct statfs a, b;
    CHECK_OK(statfs(".", &a));
    CHECK(a.f_bsize > 0);
    CHECK(a.f_namelen >= 255);
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    CHECK_OK(fstatfs(fd, &b));
    CHECK(a.f_type == b.f_type && a.f_bsize == b.f_bsize && a.f_namelen == b.f_namelen);
    CHECK(a.f_blocks == b.f_blocks);
    close(fd);
    CHECK_OK(statfs("/proc", &a));
    CHECK(a.f_type == 0x9fa0); /* PROC_SUPER_MAGIC */
    CHECK_ERR(statfs("no-such-dir", &a), ENOENT);
    CHECK_ERR(fstatfs(999, &a), EBADF);
}

static void test_mknod(void) {
    struct stat sb;
    CHECK_OK(mknod("fifo1", S_IFIFO | 0644, 0));
    CHECK_OK(stat("fifo1", &sb));
    CHECK(S_ISFIFO(sb.st_mode) && (sb.st_mode & 0777) == 0644);
    CHECK_OK(mkfifo("fifo2", 0600));
    CHECK_OK(lstat("fifo2", &sb));
    CHECK(S_ISFIFO(sb.st_mode) && (sb.st_mode & 0777) == 0600);
    CHECK_ERR(mkfifo("fifo2", 0600), EEXIST);
    CHECK_OK(mknod("regular", S_IFREG | 0640, 0));
    CHECK_OK(stat("regular", &sb));
    CHECK(S_ISREG(sb.st_mode) && sb.st_size == 0 && (sb.st_mode & 0777) == 0640);
    CHECK_OK(mknod("regular0", 0600, 0)); /* type 0: a regular file */
    CHECK_OK(stat("regular0", &sb));
    CHECK(S_ISREG(sb.st_mode));
    CHECK_ERR(mknod("dir", S_IFDIR | 0755, 0), EPERM);
    CHECK_ERR(mknod("regular", S_IFREG | 0640, 0), EEXIST);
    CHECK_OK(mknodat(AT_FDCWD, "fifo3", S_IFIFO | 0600, 0));
    CHECK_OK(stat("fifo3", &sb));
    CHECK(S_ISFIFO(sb.st_mode));

    /* A FIFO made this way works: no reader → ENXIO for a non-blocking writer. */
    CHECK_ERR(open("fifo1", O_WRONLY | O_NONBLOCK), ENXIO);
    int r = open("fifo1", O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0);
    int w = open("fifo1", O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK(write(w, "fifo", 4) == 4);
    char buf[8] = {0};
    CHECK(read(r, buf, sizeof buf) == 4);
    CHECK(memcmp(buf, "fifo", 4) == 0);
    close(w);
    CHECK(read(r, buf, sizeof buf) == 0);
    close(r);
    unlink("fifo1");
    unlink("fifo2");
    unlink("fifo3");
    unlink("regular");
    unlink("regular0");
}

/* O_TMPFILE in `dir`; returns 0 if it was tested, -1 if the file system refused it. */
static int tmpfile_in(const char *dir) {
    int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
    if (fd < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR)
            return -1;
        printf("O_TMPFILE in %s: %s\n", dir, strerror(errno));
        lt_failures++;
        return 0;
    }
    struct stat sb;
    CHECK_OK(fstat(fd, &sb));
    CHECK(S_ISREG(sb.st_mode) && sb.st_nlink == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(write(fd, "tmpdata", 7) == 7);
    char name[256], proc[64];
    snprintf(name, sizeof name, "%s/tmplinked-%d", dir, (int)getpid());
    CHECK_OK(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH));
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_nlink == 1);
    char buf[16] = {0};
    int r = open(name, O_RDONLY);
    CHECK(r >= 0);
    CHECK(read(r, buf, sizeof buf) == 7);
    CHECK(memcmp(buf, "tmpdata", 7) == 0);
    close(r);
    /* Linking again through /proc/self/fd with AT_SYMLINK_FOLLOW works as well. */
    char name2[300];
    snprintf(name2, sizeof name2, "%s-2", name);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    CHECK_OK(linkat(AT_FDCWD, proc, AT_FDCWD, name2, AT_SYMLINK_FOLLOW));
    CHECK_OK(stat(name2, &sb));
    CHECK(sb.st_nlink == 2 && sb.st_size == 7);
    unlink(name2);
    unlink(name);
    close(fd);

    /* O_EXCL: can never be linked. */
    fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK_ERR(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), ENOENT);
    close(fd);
    /* O_TMPFILE needs write access mode; it needs a directory. */
    CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
    return 0;
}

static void test_tmpfile(void) {
    if (tmpfile_in(".") == 0)
        return;
    printf("O_TMPFILE not supported by the cwd's file system; trying /dev/shm\n");
    if (tmpfile_in("/dev/shm") == 0)
        return;
    printf("SKIP O_TMPFILE: not supported in the cwd or /dev/shm\n");
}

static void test_movers(void) {
    CHECK_OK(write_file("src", "0123456789", 0644));
    int in = open("src", O_RDONLY);
    CHECK(in >= 0);
    int p[2];
    CHECK_OK(pipe(p));
    char buf[32];

    section = "movers: sendfile";
    /* sendfile without an offset uses and advances the file position. */
    CHECK(sendfile(p[1], in, NULL, 4) == 4);
    CHECK(lseek(in, 0, SEEK_CUR) == 4);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 4);
    CHECK(memcmp(buf, "0123", 4) == 0);
    /* With an offset: reads there, updates the offset, leaves the position. */
    off_t off = 6;
    CHECK(sendfile(p[1], in, &off, 3) == 3);
    CHECK(off == 9);
    CHECK(lseek(in, 0, SEEK_CUR) == 4);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 3);
    CHECK(memcmp(buf, "678", 3) == 0);
    /* Short at end of file; 0 at end of file. */
    off = 8;
    CHECK(sendfile(p[1], in, &off, 100) == 2);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK(sendfile(p[1], in, &off, 100) == 0);
    section = "movers: sendfile to a file";
    /* To a regular file. */
    int out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(out >= 0);
    off = 0;
    CHECK(sendfile(out, in, &off, 10) == 10);
    CHECK(lseek(out, 0, SEEK_CUR) == 10);
    memset(buf, 0, sizeof buf);
    CHECK(pread(out, buf, sizeof buf, 0) == 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);
    /* Errors: a write-only source, a bad fd. */
    CHECK_ERR(sendfile(p[1], p[1], NULL, 1), EBADF);
    CHECK_ERR(sendfile(p[1], 999, NULL, 1), EBADF);
    close(out);

    section = "movers: copy_file_range";
    /* copy_file_range between files, with explicit offsets and with file positions. */
    out = open("dst", O_RDWR | O_TRUNC);
    off_t ioff = 2, ooff = 5;
    CHECK(copy_file_range(in, &ioff, out, &ooff, 4, 0) == 4);
    CHECK(ioff == 6 && ooff == 9);
    struct stat sb;
    CHECK_OK(fstat(out, &sb));
    CHECK(sb.st_size == 9);
    memset(buf, 0, sizeof buf);
    CHECK(pread(out, buf, sizeof buf, 0) == 9);
    CHECK(memcmp(buf, "\0\0\0\0\0" "2345", 9) == 0);
    CHECK(lseek(out, 0, SEEK_CUR) == 0);
    lseek(in, 7, SEEK_SET);
    CHECK(copy_file_range(in, NULL, out, NULL, 100, 0) == 3);
    CHECK(lseek(in, 0, SEEK_CUR) == 10 && lseek(out, 0, SEEK_CUR) == 3);
    memset(buf, 0, sizeof buf);
    CHECK(pread(out, buf, sizeof buf, 0) == 9);
    CHECK(memcmp(buf, "789\0\0" "2345", 9) == 0);
    CHECK(copy_file_range(in, NULL, out, NULL, 100, 0) == 0); /* at EOF */
    CHECK_ERR(copy_file_range(in, NULL, out, NULL, 1, 1), EINVAL);
    CHECK_ERR(copy_file_range(in, NULL, p[1], NULL, 1, 0), EINVAL); /* not a regular file */
    /* Overlapping ranges in the same file. */
    ioff = 0;
    ooff = 2;
    CHECK_ERR(copy_file_range(out, &ioff, out, &ooff, 4, 0), EINVAL);

    section = "movers: splice";
    /* splice file → pipe and pipe → file. */
    off = 3;
    CHECK(splice(in, &off, p[1], NULL, 5, 0) == 5);
    CHECK(off == 8);
    CHECK(lseek(in, 0, SEEK_CUR) == 10);
    off_t woff = 20;
    CHECK(splice(p[0], NULL, out, &woff, 5, 0) == 5);
    CHECK(woff == 25);
    memset(buf, 0, sizeof buf);
    CHECK(pread(out, buf, 5, 20) == 5);
    CHECK(memcmp(buf, "34567", 5) == 0);
    section = "movers: splice without offsets";
    /* Without offsets: file positions. */
    lseek(in, 0, SEEK_SET);
    CHECK(splice(in, NULL, p[1], NULL, 2, 0) == 2);
    CHECK(lseek(in, 0, SEEK_CUR) == 2);
    lseek(out, 0, SEEK_SET);
    CHECK(splice(p[0], NULL, out, NULL, 2, 0) == 2);
    CHECK(lseek(out, 0, SEEK_CUR) == 2);
    memset(buf, 0, sizeof buf);
    CHECK(pread(out, buf, 3, 0) == 3);
    CHECK(memcmp(buf, "019", 3) == 0);
    section = "movers: splice errors";
    /* Empty pipe with SPLICE_F_NONBLOCK: EAGAIN; neither end a pipe: EINVAL; an offset for
     * the pipe end: ESPIPE. */
    /* (In a child with a time limit, so that a wrongly blocking splice fails only this.) */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(2);
        CHILD_CHECK(splice(p[0], NULL, out, NULL, 2, SPLICE_F_NONBLOCK) == -1 && errno == EAGAIN);
        _exit(child_failures != 0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        printf("  splice(empty pipe, SPLICE_F_NONBLOCK) blocked for 2 s instead of EAGAIN\n");
    CHECK_ERR(splice(in, NULL, out, NULL, 2, 0), EINVAL);
    off = 0;
    CHECK_ERR(splice(in, NULL, p[1], &off, 2, 0), ESPIPE);
    section = "movers: splice at EOF";
    /* The writer is gone and the pipe is empty: 0. */
    close(p[1]);
    CHECK(splice(p[0], NULL, out, NULL, 2, 0) == 0);
    close(p[0]);
    close(out);
    close(in);
    unlink("src");
    unlink("dst");
}

static void test_memfd(void) {
    int fd = memfd_create("lintel-memfd", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    CHECK(write(fd, "memory file", 11) == 11);
    char buf[32] = {0};
    CHECK(pread(fd, buf, sizeof buf, 0) == 11);
    CHECK(memcmp(buf, "memory file", 11) == 0);
    struct stat sb;
    CHECK_OK(fstat(fd, &sb));
    CHECK(S_ISREG(sb.st_mode) && sb.st_size == 11);
    char proc[64], link[256] = {0};
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    CHECK(readlink(proc, link, sizeof link - 1) > 0);
    CHECK(strncmp(link, "/memfd:lintel-memfd", 19) == 0);
    CHECK(strstr(link, "(deleted)") != NULL);
    /* ftruncate and a shared mapping see the same bytes. */
    CHECK_OK(ftruncate(fd, 4096));
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(memcmp(m, "memory file", 11) == 0);
        memcpy(m, "MEMORY", 6);
        munmap(m, 4096);
    }
    CHECK(pread(fd, buf, 6, 0) == 6);
    CHECK(memcmp(buf, "MEMORY", 6) == 0);
    /* Without MFD_ALLOW_SEALING, the seal set is sealed. */
    CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL);
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    close(fd);

    /* Seals. */
    fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == 0);
    CHECK(write(fd, "abcd", 4) == 4);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
    CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK));
    CHECK_ERR(write(fd, "e", 1), EPERM); /* at the end: would grow */
    CHECK(pwrite(fd, "X", 1, 0) == 1);   /* inside: fine */
    CHECK_ERR(ftruncate(fd, 2), EPERM);
    CHECK_ERR(ftruncate(fd, 8), EPERM);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    CHECK_ERR(pwrite(fd, "Y", 1, 0), EPERM);
    CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
    close(fd);
    CHECK_ERR(memfd_create("bad", 0x100), EINVAL);
    int f = open("plain", O_RDWR | O_CREAT, 0644);
    CHECK_ERR(fcntl(f, F_GET_SEALS), EINVAL);
    close(f);
    unlink("plain");
}

static void test_close_range(void) {
    int base = open("/dev/null", O_RDONLY);
    CHECK(base >= 0);
    for (int i = 100; i <= 105; i++)
        CHECK(dup2(base, i) == i);
    CHECK_OK(syscall(SYS_close_range, 100, 102, CLOSE_RANGE_CLOEXEC));
    for (int i = 100; i <= 102; i++)
        CHECK(fcntl(i, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(103, F_GETFD) == 0);
    CHECK_OK(syscall(SYS_close_range, 101, 103, 0));
    CHECK(fcntl(100, F_GETFD) == FD_CLOEXEC);
    CHECK_ERR(fcntl(101, F_GETFD), EBADF);
    CHECK_ERR(fcntl(103, F_GETFD), EBADF);
    CHECK(fcntl(104, F_GETFD) == 0);
    /* To the end of the table; gaps are fine. */
    CHECK_OK(syscall(SYS_close_range, 100, ~0U, 0));
    CHECK_ERR(fcntl(100, F_GETFD), EBADF);
    CHECK_ERR(fcntl(105, F_GETFD), EBADF);
    CHECK(fcntl(base, F_GETFD) == 0);
    /* first > last, unknown flags: EINVAL. Nothing open in range: fine. */
    CHECK_ERR(syscall(SYS_close_range, 5, 3, 0), EINVAL);
    CHECK_ERR(syscall(SYS_close_range, 200, 300, 0x80), EINVAL);
    CHECK_OK(syscall(SYS_close_range, 200, 300, 0));
    /* CLOEXEC takes effect at exec: a child execs a shell test of fd 100. */
    CHECK(dup2(base, 100) == 100);
    CHECK_OK(syscall(SYS_close_range, 100, 100, CLOSE_RANGE_CLOEXEC));
    pid_t pid = fork();
    if (pid == 0) {
        /* fcntl in the child before exec still sees the fd. */
        CHILD_CHECK(fcntl(100, F_GETFD) == FD_CLOEXEC);
        CHILD_CHECK(syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) == 0);
        CHILD_CHECK(fcntl(0, F_GETFD) == FD_CLOEXEC);
        _exit(child_failures != 0);
    }
    reap(pid);
    close(100);
    close(base);
}

static void test_ids(void) {
    CHECK_OK(write_file("secret", "root only", 0600));
    CHECK_OK(chown("secret", 0, 0));
    CHECK_OK(chmod("secret", 0600));
    int p[2];
    CHECK_OK(pipe(p));

    if (geteuid() != 0) {
        printf("SKIP set*id tests: not running as root\n");
        return;
    }
    CHECK_OK(mkdir("pub", 0777));
    CHECK_OK(chmod("pub", 0777));
    /* Drop everything: no way back. */
    pid_t pid = fork();
    if (pid == 0) {
        gid_t gl[3] = {10, 20, 30};
        CHILD_CHECK(setgroups(3, gl) == 0);
        gid_t got[8];
        CHILD_CHECK(getgroups(0, NULL) == 3);
        CHILD_CHECK(getgroups(8, got) == 3);
        CHILD_CHECK(got[0] == 10 && got[1] == 20 && got[2] == 30);
        CHILD_CHECK(getgroups(2, got) == -1 && errno == EINVAL);
        CHILD_CHECK(setgroups(0, NULL) == 0);
        CHILD_CHECK(getgroups(0, NULL) == 0);
        CHILD_CHECK(setresgid(1000, 1000, 1000) == 0);
        gid_t rg, eg, sg;
        CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == 1000 && eg == 1000 && sg == 1000);
        CHILD_CHECK(getgid() == 1000 && getegid() == 1000);
        CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
        uid_t ru, eu, su;
        CHILD_CHECK(getresuid(&ru, &eu, &su) == 0 && ru == 1000 && eu == 1000 && su == 1000);
        CHILD_CHECK(getuid() == 1000 && geteuid() == 1000);
        CHILD_CHECK(open("secret", O_RDONLY) == -1 && errno == EACCES);
        CHILD_CHECK(access("secret", R_OK) == -1 && errno == EACCES);
        CHILD_CHECK(setuid(0) == -1 && errno == EPERM);
        CHILD_CHECK(seteuid(0) == -1 && errno == EPERM);
        CHILD_CHECK(setresuid(-1, 0, -1) == -1 && errno == EPERM);
        CHILD_CHECK(setgid(0) == -1 && errno == EPERM);
        CHILD_CHECK(setgroups(0, NULL) == -1 && errno == EPERM);
        CHILD_CHECK(chown("secret", 1000, 1000) == -1 && errno == EPERM);
        /* Unprivileged: setuid to one's own id is allowed. */
        CHILD_CHECK(setuid(1000) == 0);
        /* Not allowed to create in a root-owned 0755 directory; a file it creates in a
         * 0777 directory is owned by 1000:1000. */
        CHILD_CHECK(open("mine", O_CREAT | O_WRONLY, 0644) == -1 && errno == EACCES);
        int fd = open("pub/mine", O_CREAT | O_WRONLY, 0644);
        CHILD_CHECK(fd >= 0);
        struct stat sb;
        CHILD_CHECK(fstat(fd, &sb) == 0 && sb.st_uid == 1000 && sb.st_gid == 1000);
        close(fd);
        /* kill() on a root process: EPERM. */
        CHILD_CHECK(kill(getppid(), 0) == -1 && errno == EPERM);
        _exit(child_failures != 0);
    }
    reap(pid);
    unlink("pub/mine");
    rmdir("pub");

    /* Keep 0 as the saved set-user-ID: the effective id can go back. */
    pid = fork();
    if (pid == 0) {
        CHILD_CHECK(setresuid(1000, 1000, 0) == 0);
        CHILD_CHECK(open("secret", O_RDONLY) == -1 && errno == EACCES);
        CHILD_CHECK(seteuid(0) == 0);
        CHILD_CHECK(geteuid() == 0 && getuid() == 1000);
        int fd = open("secret", O_RDONLY);
        CHILD_CHECK(fd >= 0);
        close(fd);
        /* access() checks the real id (1000), not the effective one. */
        CHILD_CHECK(access("secret", R_OK) == -1 && errno == EACCES);
        CHILD_CHECK(faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS) == 0);
        /* setuid() as euid 0 sets all three. */
        CHILD_CHECK(setuid(2000) == 0);
        uid_t ru, eu, su;
        CHILD_CHECK(getresuid(&ru, &eu, &su) == 0 && ru == 2000 && eu == 2000 && su == 2000);
        CHILD_CHECK(seteuid(0) == -1 && errno == EPERM);
        /* setreuid swapping as an unprivileged user. */
        _exit(child_failures != 0);
    }
    reap(pid);

    /* setreuid/setregid, and the saved id following the effective one. */
    pid = fork();
    if (pid == 0) {
        CHILD_CHECK(setregid(3000, 3001) == 0);
        gid_t rg, eg, sg;
        CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == 3000 && eg == 3001 && sg == 3001);
        CHILD_CHECK(setreuid(3000, 3001) == 0);
        uid_t ru, eu, su;
        CHILD_CHECK(getresuid(&ru, &eu, &su) == 0 && ru == 3000 && eu == 3001 && su == 3001);
        /* Unprivileged: may swap real and effective. */
        CHILD_CHECK(setreuid(3001, 3000) == 0);
        CHILD_CHECK(getresuid(&ru, &eu, &su) == 0 && ru == 3001 && eu == 3000 && su == 3000);
        CHILD_CHECK(setreuid(-1, 5) == -1 && errno == EPERM);
        _exit(child_failures != 0);
    }
    reap(pid);
    close(p[0]);
    close(p[1]);
    unlink("secret");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    section = "chown";
    test_chown();
    section = "times";
    test_times();
    section = "statfs";
    test_statfs();
    section = "mknod";
    test_mknod();
    section = "tmpfile";
    test_tmpfile();
    section = "movers";
    test_movers();
    section = "memfd";
    test_memfd();
    section = "close_range";
    test_close_range();
    section = "ids";
    test_ids();
    DONE();
}
