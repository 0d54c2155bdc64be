/* clone's CLONE_FILES, CLONE_FS and CLONE_SIGHAND between processes (without CLONE_THREAD):
 * the fd table, the cwd/umask and the signal handlers are then one object both processes see
 * and change; without the flags the child has copies. unshare(CLONE_FILES/CLONE_FS),
 * close_range(CLOSE_RANGE_UNSHARE) and execve give the caller a private table; the exit of a
 * sharer leaves the table's files open for the others; kcmp sees the sharing. The EINVAL
 * cases of copy_process: CLONE_SIGHAND without CLONE_VM, CLONE_THREAD without CLONE_SIGHAND,
 * CLONE_FS with CLONE_NEWNS; clone3's CLONE_CLEAR_SIGHAND. Must run as root (kcmp on another process). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
enum { KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND };

/* struct clone_args up to CLONE_ARGS_SIZE_VER0 (64 bytes). */
struct clone_args0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* What a child reports back to the parent (a MAP_SHARED page: fork-like children have their
 * own memory). */
struct report {
    int fd, fd2, ok;
};
static struct report *rep;

/* clone without CLONE_VM: the child goes on from here with a copy of the memory, as fork. */
static long clone_fork(unsigned long flags) {
    return syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static int wait_status(pid_t pid) {
    int st = -1;
    if (waitpid(pid, &st, __WALL) != pid) return -1;
    return st;
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void handler(int sig) { (void)sig; }

/* CLONE_VM children (run on their own stack). */
static int child_sigaction(void *arg) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = arg ? SIG_IGN : handler;
    return sigaction(SIGUSR1, &sa, NULL) == 0 ? 0 : 1;
}

static int child_wait_pipe(void *arg) {
    char c;
    return read((int)(intptr_t)arg, &c, 1) == 1 ? 0 : 1;
}

static char stack[2][256 * 1024];

static pid_t clone_vm(int (*fn)(void *), unsigned long flags, void *arg, int which) {
    return clone(fn, stack[which] + sizeof stack[which], flags | CLONE_VM | SIGCHLD, arg);
}

/* The program run by execve in a CLONE_FILES child: its close-on-exec fd is closed, and an
 * fd it opens does not reach the parent's table. */
static int exec_child(int cx) {
    int ok = !fd_open(cx);
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || fcntl(fd, F_DUPFD, 100) != 100) ok = 0;
    return ok ? 0 : 1;
}

static void files(void) {
    /* CLONE_FILES: the child's open and close are the parent's. */
    int pre = open("/dev/null", O_RDONLY);
    CHECK(pre >= 0);
    rep->fd = -1;
    long pid = clone_fork(CLONE_FILES);
    if (pid == 0) {
        rep->fd = open("/dev/null", O_RDONLY);
        close(pre);
        _exit(0);
    }
    CHECK(pid > 0);
    CHECK_EXIT(wait_status(pid), 0);
    CHECK(rep->fd >= 0);
    CHECK(fd_open(rep->fd)); /* opened by the child, still open after it exited */
    CHECK(!fd_open(pre) && errno == EBADF);
    close(rep->fd);

    /* A pipe made by a CLONE_FILES child: its write end stays open in the shared table after
     * the child exits (no end of file). */
    pid = clone_fork(CLONE_FILES);
    if (pid == 0) {
        int p[2];
        if (pipe2(p, O_NONBLOCK) == 0 && write(p[1], "x", 1) == 1) {
            rep->fd = p[0];
            rep->fd2 = p[1];
        }
        _exit(0);
    }
    CHECK_EXIT(wait_status(pid), 0);
    char c = 0;
    CHECK(read(rep->fd, &c, 1) == 1 && c == 'x');
    CHECK_ERR(read(rep->fd, &c, 1), EAGAIN);
    CHECK_OK(close(rep->fd2));
    CHECK(read(rep->fd, &c, 1) == 0);
    close(rep->fd);

    /* Without CLONE_FILES, and after unshare(CLONE_FILES): the child's own copy. */
    pre = open("/dev/null", O_RDONLY);
    for (int i = 0; i < 2; i++) {
        pid = clone_fork(i ? CLONE_FILES : 0);
        if (pid == 0) {
            if (i && unshare(CLONE_FILES) != 0) _exit(2);
            rep->fd = fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 90 + i);
            close(pre);
            _exit(0);
        }
        CHECK_EXIT(wait_status(pid), 0);
        CHECK(rep->fd == 90 + i);
        CHECK(!fd_open(90 + i));
        CHECK(fd_open(pre));
    }

    /* close_range(CLOSE_RANGE_UNSHARE) closes in a private copy; without it, in the shared
     * table. */
    pid = clone_fork(CLONE_FILES);
    if (pid == 0) _exit(syscall(SYS_close_range, pre, pre, CLOSE_RANGE_UNSHARE) == 0 ? 0 : 2);
    CHECK_EXIT(wait_status(pid), 0);
    CHECK(fd_open(pre));
    pid = clone_fork(CLONE_FILES);
    if (pid == 0) _exit(syscall(SYS_close_range, pre, pre, 0) == 0 ? 0 : 2);
    CHECK_EXIT(wait_status(pid), 0);
    CHECK(!fd_open(pre));

    /* execve in a CLONE_FILES child: close-on-exec acts on the child's own copy. */
    int cx = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(cx >= 0);
    pid = clone_fork(CLONE_FILES);
    if (pid == 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", cx);
        execl("/proc/self/exe", "proc_clone_share", "exec-child", num, (char *)NULL);
        _exit(3);
    }
    CHECK_EXIT(wait_status(pid), 0);
    CHECK(fcntl(cx, F_GETFD) == FD_CLOEXEC);
    CHECK(!fd_open(100));
    close(cx);
}

static void fs(void) {
    char dir[] = "/tmp/clone_share.XXXXXX", cwd[256], here[256];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(getcwd(here, sizeof here) != NULL);
    mode_t old = umask(022);

    /* CLONE_FS: the child's chdir and umask are the parent's. */
    long pid = clone_fork(CLONE_FS);
    if (pid == 0) {
        umask(077);
        _exit(chdir(dir) == 0 ? 0 : 2);
    }
    CHECK_EXIT(wait_status(pid), 0);
    CHECK(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, dir) == 0);
    CHECK(umask(022) == 077);
    CHECK_OK(chdir(here));

    /* Without CLONE_FS, and after unshare(CLONE_FS): the child's own. */
    for (int i = 0; i < 2; i++) {
        pid = clone_fork(i ? CLONE_FS : 0);
        if (pid == 0) {
            if (i && unshare(CLONE_FS) != 0) _exit(3);
            umask(077);
            _exit(chdir(dir) == 0 ? 0 : 2);
        }
        CHECK_EXIT(wait_status(pid), 0);
        CHECK(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, here) == 0);
        CHECK(umask(022) == 022);
    }
    umask(old);
    rmdir(dir);
}

static void sighand(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));

    /* CLONE_SIGHAND|CLONE_VM: the child's sigaction is the parent's. */
    pid_t pid = clone_vm(child_sigaction, CLONE_SIGHAND, NULL, 0);
    CHECK(pid > 0);
    CHECK_EXIT(wait_status(pid), 0);
    CHECK_OK(sigaction(SIGUSR1, NULL, &sa));
    CHECK(sa.sa_handler == handler);

    /* CLONE_VM alone: the child's own handlers. */
    pid = clone_vm(child_sigaction, 0, (void *)1, 0);
    CHECK(pid > 0);
    CHECK_EXIT(wait_status(pid), 0);
    CHECK_OK(sigaction(SIGUSR1, NULL, &sa));
    CHECK(sa.sa_handler == handler);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

/* clone3's CLONE_CLEAR_SIGHAND: the child's own handlers start at SIG_DFL, ignored signals
 * stay ignored; it cannot go with CLONE_SIGHAND, and unknown flags are EINVAL. */
static void clear_sighand(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    sa.sa_handler = SIG_IGN;
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
    struct clone_args0 a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_CLEAR_SIGHAND;
    a.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid == 0) {
        struct sigaction u1, u2;
        sigaction(SIGUSR1, NULL, &u1);
        sigaction(SIGUSR2, NULL, &u2);
        _exit(u1.sa_handler == SIG_DFL && u2.sa_handler == SIG_IGN ? 0 : 2);
    }
    CHECK(pid > 0);
    if (pid > 0) CHECK_EXIT(wait_status(pid), 0);
    CHECK_OK(sigaction(SIGUSR1, NULL, &sa));
    CHECK(sa.sa_handler == handler);
    a.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
    CHECK_ERR(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    a.flags = 1ULL << 40;
    CHECK_ERR(syscall(SYS_clone3, &a, sizeof a), EINVAL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
}

static void kcmp_sharing(void) {
    int p[2];
    CHECK_OK(pipe(p));
    pid_t me = getpid();
    /* A child sharing everything, and a forked one sharing nothing. */
    pid_t shared = clone_vm(child_wait_pipe, CLONE_FILES | CLONE_FS | CLONE_SIGHAND,
                            (void *)(intptr_t)p[0], 0);
    long forked = clone_fork(0);
    if (forked == 0) {
        char c;
        _exit(read(p[0], &c, 1) == 1 ? 0 : 1);
    }
    CHECK(shared > 0 && forked > 0);
    for (int k = KCMP_FILES; k <= KCMP_SIGHAND; k++) {
        CHECK(syscall(SYS_kcmp, me, shared, k, 0, 0) == 0);
        CHECK(syscall(SYS_kcmp, me, forked, k, 0, 0) > 0);
    }
    CHECK(write(p[1], "xx", 2) == 2);
    CHECK_EXIT(wait_status(shared), 0);
    CHECK_EXIT(wait_status((pid_t)forked), 0);
    close(p[0]);
    close(p[1]);
}

static void einval(void) {
    /* Each would be a fork if the flags were allowed: the child leaves at once. */
    long r;
    errno = 0;
    r = clone_fork(CLONE_SIGHAND);
    if (r == 0) _exit(99);
    CHECK(r == -1 && errno == EINVAL);
    errno = 0;
    r = clone_fork(CLONE_THREAD);
    if (r == 0) _exit(99);
    CHECK(r == -1 && errno == EINVAL);
    errno = 0;
    r = clone_fork(CLONE_THREAD | CLONE_FILES | CLONE_FS);
    if (r == 0) _exit(99);
    CHECK(r == -1 && errno == EINVAL);
    errno = 0;
    r = clone_fork(CLONE_FS | CLONE_NEWNS);
    if (r == 0) _exit(99);
    CHECK(r == -1 && errno == EINVAL);
    /* unshare(CLONE_SIGHAND) while the handlers are shared: EINVAL. */
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = clone_vm(child_wait_pipe, CLONE_SIGHAND, (void *)(intptr_t)p[0], 1);
    CHECK(pid > 0);
    CHECK_ERR(unshare(CLONE_SIGHAND), EINVAL);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK_EXIT(wait_status(pid), 0);
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "exec-child") == 0) return exec_child(atoi(argv[2]));
    if (getuid() != 0) {
        printf("needs root\n");
        return 1;
    }
    rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(rep != MAP_FAILED);
    if (rep == MAP_FAILED) DONE();
    files();
    fs();
    sighand();
    clear_sighand();
    kcmp_sharing();
    einval();
    DONE();
}
