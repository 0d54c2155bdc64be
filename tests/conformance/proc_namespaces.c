/* unshare and setns: a private UTS namespace (its own host name, a new /proc/self/ns/uts
 * inode), setns back through a /proc/PID/ns/uts descriptor or a pidfd, EPERM for an
 * unprivileged caller, EINVAL for bad flags and descriptors, CLONE_FILES/CLONE_FS with
 * nothing shared, and CLONE_SYSVSEM applying the semaphore undo values as exit does.
 * clone(CLONE_NEWUTS) too. Namespaces a kernel may lack (net, pid, ipc, cgroup, mount,
 * user) give 0 or EINVAL. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static unsigned long ns_ino(const char *link) {
    char buf[64] = {0};
    unsigned long n = 0;
    if (readlink(link, buf, sizeof buf - 1) < 0 || sscanf(buf, "uts:[%lu]", &n) != 1) return 0;
    return n;
}

static char host0[65];

static void private_uts(void) {
    unsigned long before = ns_ino("/proc/self/ns/uts");
    int old = open("/proc/self/ns/uts", O_RDONLY);
    CHECK(old >= 0);
    if (unshare(CLONE_NEWUTS) != 0) {
        CHECK(!"unshare(CLONE_NEWUTS)");
        return;
    }
    unsigned long after = ns_ino("/proc/self/ns/uts");
    CHECK(after != 0 && after != before);
    struct stat st;
    CHECK(stat("/proc/self/ns/uts", &st) == 0 && st.st_ino == after);
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.nodename, host0) == 0);
    CHECK_OK(sethostname("lt-inner", 8));
    CHECK(uname(&u) == 0 && strcmp(u.nodename, "lt-inner") == 0);
    char h[65] = {0};
    CHECK(gethostname(h, sizeof h) == 0 && strcmp(h, "lt-inner") == 0);
    /* Back to where we came from. */
    CHECK_ERR(setns(old, CLONE_NEWNET), EINVAL);
    CHECK_OK(setns(old, CLONE_NEWUTS));
    CHECK(uname(&u) == 0 && strcmp(u.nodename, host0) == 0);
    CHECK(ns_ino("/proc/self/ns/uts") == before);
    close(old);
}

static void by_pidfd(void) {
    int pfd = syscall(SYS_pidfd_open, getppid(), 0);
    CHECK(pfd >= 0);
    if (unshare(CLONE_NEWUTS) != 0) return;
    CHECK_OK(sethostname("lt-pidfd", 8));
    CHECK_ERR(setns(pfd, 0), EINVAL);
    CHECK_OK(setns(pfd, CLONE_NEWUTS));
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.nodename, host0) == 0);
}

/* clone(CLONE_NEWUTS): the child starts in a namespace of its own. */
static void clone_uts(void) {
    unsigned long mine = ns_ino("/proc/self/ns/uts");
    long pid = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        int ok = ns_ino("/proc/self/ns/uts") != mine && sethostname("lt-clone", 8) == 0;
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.nodename, host0) == 0);
}

static void unprivileged(void) {
    int old = open("/proc/self/ns/uts", O_RDONLY);
    CHECK_OK(setuid(65534));
    CHECK_ERR(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), EPERM);
    CHECK_ERR(unshare(CLONE_NEWUTS), EPERM);
    CHECK_ERR(unshare(CLONE_NEWNET), EPERM);
    CHECK_ERR(unshare(CLONE_NEWIPC | CLONE_NEWUTS), EPERM);
    CHECK_ERR(setns(old, CLONE_NEWUTS), EPERM);
    CHECK_OK(unshare(CLONE_FILES | CLONE_FS));
}

/* Each alone in its own child: 0 where the kernel has the namespace, else EINVAL. */
static int ns_flag;
static void other_ns(void) {
    errno = 0;
    int r = unshare(ns_flag);
    CHECK(r == 0 || errno == EINVAL);
}

int main(void) {
    CHECK_OK(gethostname(host0, sizeof host0));
    unsigned long ino = ns_ino("/proc/self/ns/uts");
    CHECK(ino != 0);
    struct stat st;
    CHECK(stat("/proc/self/ns/uts", &st) == 0 && st.st_ino == ino && S_ISREG(st.st_mode));
    CHECK(lstat("/proc/self/ns/uts", &st) == 0 && S_ISLNK(st.st_mode));

    lt_sub("private_uts", private_uts, 5000);
    lt_sub("by_pidfd", by_pidfd, 5000);
    lt_sub("clone_uts", clone_uts, 5000);
    lt_sub("unprivileged", unprivileged, 5000);
    char h[65] = {0};
    CHECK(gethostname(h, sizeof h) == 0 && strcmp(h, host0) == 0);

    CHECK_ERR(unshare(0x1), EINVAL);
    CHECK_ERR(unshare(CLONE_PIDFD), EINVAL);
    CHECK_OK(unshare(0));
    CHECK_OK(unshare(CLONE_FILES));
    CHECK_OK(unshare(CLONE_FS));
    CHECK_OK(unshare(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM));
    int fd = open("/proc/self/status", O_RDONLY);
    CHECK_ERR(setns(fd, 0), EINVAL);
    CHECK_ERR(setns(fd, CLONE_NEWUTS), EINVAL);
    close(fd);
    CHECK_ERR(setns(-1, CLONE_NEWUTS), EBADF);

    /* CLONE_SYSVSEM: leaving the undo list applies it, as exit does. */
    int sem = semget(IPC_PRIVATE, 1, 0600);
    CHECK(sem >= 0);
    struct sembuf up = {0, 2, SEM_UNDO};
    CHECK_OK(semop(sem, &up, 1));
    CHECK(semctl(sem, 0, GETVAL) == 2);
    CHECK_OK(unshare(CLONE_SYSVSEM));
    CHECK(semctl(sem, 0, GETVAL) == 0);
    semctl(sem, 0, IPC_RMID);

    int flags[] = {CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWNS,
                   CLONE_NEWUSER, 0x80 /* CLONE_NEWTIME */};
    for (unsigned i = 0; i < sizeof flags / sizeof *flags; i++) {
        ns_flag = flags[i];
        lt_sub("other_ns", other_ns, 5000);
    }
    DONE();
}
