/* The mqueue file system: `mount -t mqueue` with any source shows the queues (every mount the
 * same ones), statfs gives MQUEUE_MAGIC, a queue's file has the mode, owner and group it was
 * created with and reads as Linux's status line; open() of it gives a queue descriptor,
 * open(O_CREAT) there creates a queue with the default attributes, unlink removes one as
 * mq_unlink, chmod applies; mkdir, mknod, symlink, link and rename are EPERM; mq_open's
 * descriptor reads as "/NAME" in /proc/self/fd; /dev/mqueue, where mounted, lists them.
 * A process's mq_notify registration ends when it closes any descriptor of the queue (a dup,
 * another open of it), as Linux's mqueue_flush_file; another process's close leaves it. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define MQUEUE_MAGIC 0x19800202

static char dir1[64], dir2[64];

static const char *in(const char *dir, const char *name) {
    static char bufs[4][128];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 128, "%s/%s", dir, name);
    return b;
}

/* Whether `dir` lists `name` as a regular file. */
static int listed(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, name) == 0 && e->d_type == DT_REG)
            found = 1;
    closedir(d);
    return found;
}

static void fd_link(int fd, char *out, size_t cap) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, out, cap - 1);
    out[n > 0 ? n : 0] = 0;
}

static long sysctl_num(const char *path) {
    char b[32] = {0};
    if (lt_slurp(path, b, sizeof b) <= 0)
        return -1;
    return atol(b);
}

/* The NOTIFY_PID of the status line read through `fd` (a descriptor of the queue's file). */
static int notify_pid(int fd) {
    char got[128] = {0};
    int pid = -1;
    CHECK(pread(fd, got, sizeof got - 1, 0) > 0);
    char *p = strstr(got, "NOTIFY_PID:");
    CHECK(p && sscanf(p, "NOTIFY_PID:%d", &pid) == 1);
    return pid;
}

/* Registers for queue `q` (SIGEV_NONE). */
static int notify_none(mqd_t q) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    return mq_notify(q, &ev);
}

/* Whether a child can register for `q`: 0 it could, 1 EBUSY, 2 something else. */
static int child_registers(mqd_t q) {
    pid_t k = fork();
    if (k == 0)
        _exit(notify_none(q) == 0 ? 0 : errno == EBUSY ? 1 : 2);
    int st = 0;
    waitpid(k, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

/* mq_notify's registration ends when its process closes any descriptor of the queue (Linux's
 * mqueue_flush_file), not only the last one of its open; `status` is a descriptor of the
 * queue's file kept open to read its status line. */
static void closes_end_notify(mqd_t q, int status) {
    CHECK_OK(notify_none(q));
    CHECK(notify_pid(status) == getpid());
    int d = dup(q);
    CHECK(d >= 0);
    CHECK_OK(close(d));
    CHECK(notify_pid(status) == 0);
    CHECK(child_registers(q) == 0);
    /* Another open of the queue. */
    CHECK_OK(notify_none(q));
    int o = open(in(dir1, "lintel-mqfs-a"), O_RDONLY);
    CHECK(o >= 0);
    CHECK(notify_pid(status) == getpid());
    CHECK_OK(close(o));
    CHECK(notify_pid(status) == 0);
    /* dup2 over a descriptor of the queue closes it too. */
    CHECK_OK(notify_none(q));
    d = dup(q);
    CHECK(d >= 0 && dup2(status, d) == d);
    CHECK(notify_pid(status) == 0);
    CHECK_OK(close(d));
    /* Another process's close leaves the registration. */
    CHECK_OK(notify_none(q));
    pid_t k = fork();
    if (k == 0)
        _exit(close(q) == 0 && notify_none(q) == -1 ? 0 : 1);
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
    CHECK(notify_pid(status) == getpid());
    CHECK(child_registers(q) == 1);
    CHECK_OK(mq_notify(q, NULL));
    CHECK(notify_pid(status) == 0);
}

int main(void) {
    snprintf(dir1, sizeof dir1, "/tmp/lintel-mqfs-%d", getpid());
    snprintf(dir2, sizeof dir2, "/tmp/lintel-mqfs2-%d", getpid());
    CHECK_OK(mkdir(dir1, 0755));
    CHECK_OK(mkdir(dir2, 0755));
    CHECK_OK(mount("none", dir1, "mqueue", 0, NULL));
    CHECK_OK(mount("whatever", dir2, "mqueue", 0, NULL));
    CHECK_ERR(mount("none", dir2, "mqueue", 0, "size=10"), EINVAL);

    struct statfs sf;
    CHECK_OK(statfs(dir1, &sf));
    CHECK(sf.f_type == MQUEUE_MAGIC && sf.f_bsize == 4096 && sf.f_namelen == 255);
    struct stat st;
    CHECK_OK(stat(dir1, &st));
    CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777 && st.st_uid == 0);

    const char *name = "lintel-mqfs-a";
    mq_unlink("/lintel-mqfs-a");
    mq_unlink("/lintel-mqfs-b");
    umask(022);
    struct mq_attr a = {0, 4, 64, 0, {0}};
    mqd_t q = mq_open("/lintel-mqfs-a", O_CREAT | O_EXCL | O_RDWR, 0640, &a);
    CHECK(q != (mqd_t)-1);
    char lnk[256];
    fd_link(q, lnk, sizeof lnk);
    CHECK(strcmp(lnk, "/lintel-mqfs-a") == 0);
    struct stat fst;
    CHECK_OK(fstat(q, &fst));
    CHECK_OK(stat(in(dir1, name), &st));
    CHECK(st.st_mode == (S_IFREG | 0640) && st.st_uid == getuid() && st.st_gid == getgid());
    CHECK(st.st_size == 80 && st.st_nlink == 1);
    CHECK(fst.st_ino == st.st_ino && fst.st_dev == st.st_dev && fst.st_mode == st.st_mode);
    CHECK(listed(dir1, name) && listed(dir2, name));
    /* Where /dev/mqueue is mounted (systemd does, Lintel's kernel does), it shows them too. */
    if (statfs("/dev/mqueue", &sf) == 0 && sf.f_type == MQUEUE_MAGIC)
        CHECK(listed("/dev/mqueue", name));

    /* The status line, byte for byte. */
    CHECK_OK(mq_send(q, "hello", 5, 3));
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    CHECK_OK(mq_notify(q, &ev));
    char want[128], got[128] = {0};
    snprintf(want, sizeof want, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", 5ul, 0,
             SIGUSR1, getpid());
    int fd = open(in(dir2, name), O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, got, sizeof got - 1) == (ssize_t)strlen(want));
    CHECK(strcmp(got, want) == 0);
    CHECK(read(fd, got, sizeof got) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    memset(got, 0, sizeof got);
    CHECK(read(fd, got, 5) == 5 && strcmp(got, "QSIZE") == 0);
    CHECK_OK(mq_notify(q, NULL));
    ev.sigev_notify = SIGEV_NONE;
    CHECK_OK(mq_notify(q, &ev));
    snprintf(want, sizeof want, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", 5ul, 1, 0,
             getpid());
    memset(got, 0, sizeof got);
    CHECK(pread(fd, got, sizeof got - 1, 0) == (ssize_t)strlen(want));
    CHECK(strcmp(got, want) == 0);
    CHECK_OK(mq_notify(q, NULL));
    fd_link(fd, lnk, sizeof lnk);
    CHECK(strcmp(lnk, in(dir2, name)) == 0);
    closes_end_notify(q, fd);
    close(fd);

    /* open() gives a queue descriptor; the file takes no writes. */
    fd = open(in(dir1, name), O_RDWR);
    CHECK(fd >= 0);
    struct mq_attr g;
    CHECK_OK(mq_getattr(fd, &g));
    CHECK(g.mq_maxmsg == 4 && g.mq_msgsize == 64 && g.mq_curmsgs == 1);
    char buf[64];
    unsigned prio = 0;
    CHECK(mq_receive(fd, buf, sizeof buf, &prio) == 5 && prio == 3 && memcmp(buf, "hello", 5) == 0);
    CHECK_ERR(write(fd, "x", 1), EINVAL);
    close(fd);

    /* chmod applies to the queue. */
    CHECK_OK(chmod(in(dir1, name), 0600));
    CHECK_OK(fstat(q, &fst));
    CHECK(fst.st_mode == (S_IFREG | 0600));

    /* Only queues: no folders, nodes, links or renames. */
    CHECK_ERR(mkdir(in(dir1, "d"), 0755), EPERM);
    CHECK_ERR(mknod(in(dir1, "f"), S_IFIFO | 0600, 0), EPERM);
    CHECK_ERR(symlink("x", in(dir1, "s")), EPERM);
    CHECK_ERR(link(in(dir1, name), in(dir1, "l")), EPERM);
    CHECK_ERR(rename(in(dir1, name), in(dir1, "r")), EPERM);
    CHECK_ERR(open(in(dir1, "none"), O_RDONLY), ENOENT);
    CHECK_ERR(unlink(in(dir1, "none")), ENOENT);

    /* open(O_CREAT) creates a queue with the default attributes. */
    fd = open(in(dir2, "lintel-mqfs-b"), O_CREAT | O_RDWR, 0666);
    CHECK(fd >= 0);
    CHECK_OK(stat(in(dir1, "lintel-mqfs-b"), &st));
    CHECK(st.st_mode == (S_IFREG | 0644));
    mqd_t b = mq_open("/lintel-mqfs-b", O_RDWR);
    CHECK(b != (mqd_t)-1);
    CHECK_OK(mq_getattr(b, &g));
    CHECK(g.mq_maxmsg == sysctl_num("/proc/sys/fs/mqueue/msg_default"));
    CHECK(g.mq_msgsize == sysctl_num("/proc/sys/fs/mqueue/msgsize_default"));
    CHECK_OK(mq_send(fd, "z", 1, 0));
    static char big[1 << 16];
    CHECK(g.mq_msgsize <= (long)sizeof big);
    CHECK(mq_receive(b, big, g.mq_msgsize, NULL) == 1 && big[0] == 'z');
    mq_close(b);
    close(fd);
    CHECK_ERR(open(in(dir1, "lintel-mqfs-b"), O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);

    /* unlink removes the queue as mq_unlink; the open descriptor keeps it. */
    CHECK_OK(unlink(in(dir1, name)));
    CHECK_ERR(mq_unlink("/lintel-mqfs-a"), ENOENT);
    CHECK(!listed(dir2, name));
    fd_link(q, lnk, sizeof lnk);
    CHECK(strcmp(lnk, "/lintel-mqfs-a (deleted)") == 0);
    CHECK_OK(mq_send(q, "k", 1, 0));
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    mq_close(q);
    CHECK_OK(mq_unlink("/lintel-mqfs-b"));
    CHECK(!listed(dir1, "lintel-mqfs-b"));

    CHECK_OK(umount(dir1));
    CHECK_OK(umount(dir2));
    rmdir(dir1);
    rmdir(dir2);
    DONE();
}
