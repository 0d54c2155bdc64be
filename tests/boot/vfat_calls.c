/* vfat_calls DIR: the vfat answers busybox cannot show, one line each ("what=result"),
 * made in DIR/calls, which is removed again. Linux's vfat gives the same lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#define XCHG 2 /* RENAME_EXCHANGE */

static const char *name(int r) {
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EROFS: return "EROFS";
    default: return "other";
    }
}

#define SAY(what, call) printf("%s=%s\n", what, name(call))

int main(int argc, char **argv) {
    char buf[300];
    struct stat st;
    if (argc < 2 || chdir(argv[1]) || mkdir("calls", 0755) || chdir("calls"))
        return 1;
    SAY("tmpfile", open(".", O_TMPFILE | O_RDWR, 0600));
    SAY("mknod", mknod("fifo", S_IFIFO | 0644, 0));
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    SAY("link", link("f", "g"));
    SAY("symlink", symlink("f", "s"));
    SAY("badname", open("bad*name", O_CREAT | O_RDWR, 0644));
    memset(buf, 'n', 256);
    buf[256] = 0;
    SAY("longname", open(buf, O_CREAT | O_RDWR, 0644));
    SAY("exists", open("F", O_CREAT | O_EXCL | O_RDWR, 0644));
    /* A write past the end: the gap reads as zeros. */
    pwrite(fd, "x", 1, 10000);
    char c = 1;
    pread(fd, &c, 1, 5000);
    fstat(fd, &st);
    printf("gap=%lld %d\n", (long long)st.st_size, c);
    SAY("ftruncate", ftruncate(fd, 3));
    SAY("fsync", fsync(fd));
    fstat(fd, &st);
    printf("size=%lld\n", (long long)st.st_size);
    close(fd);
    /* Times: 2-second steps; the access time is a date. */
    struct timespec ts[2] = {{1000000001, 0}, {1000000001, 0}};
    utimensat(AT_FDCWD, "f", ts, 0);
    stat("f", &st);
    printf("times=%lld %lld\n", (long long)st.st_atime, (long long)st.st_mtime);
    /* chmod: the write bits are the read-only attribute; r and x cannot change. */
    SAY("chmod444", chmod("f", 0444));
    stat("f", &st);
    printf("mode=%o\n", st.st_mode & 07777);
    SAY("chmod755", chmod("f", 0755));
    stat("f", &st);
    printf("mode=%o\n", st.st_mode & 07777);
    SAY("chmod-suid", chmod("f", 04644));
    SAY("chown-same", chown("f", 1000, 100));
    SAY("chown-other", chown("f", 1, -1));
    /* A change of case finds the same file: success, the name stays. */
    SAY("rename-case", rename("f", "F"));
    SAY("lookup-f", stat("f", &st));
    mkdir("sub", 0755);
    close(open("sub/in", O_CREAT | O_RDWR, 0644));
    SAY("exchange", (int)syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "sub", XCHG));
    stat("f", &st);
    printf("f-is-dir=%d\n", S_ISDIR(st.st_mode));
    SAY("rmdir-full", rmdir("f"));
    SAY("unlink-dir", unlink("f"));
    SAY("rename-dir-over-file", rename("f", "sub"));
    struct statfs sf;
    statfs(".", &sf);
    printf("statfs=%lx %ld\n", (long)sf.f_type, (long)sf.f_namelen);
    unlink("f/in");
    rmdir("f");
    unlink("sub");
    chdir("..");
    SAY("cleanup", rmdir("calls"));
    return 0;
}
