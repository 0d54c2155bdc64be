/* The fd table and the fs context (cwd, umask) belong to each thread, shared by reference as
 * Linux's files_struct and fs_struct: a thread made by a raw clone(CLONE_VM | CLONE_THREAD |
 * CLONE_SIGHAND) without CLONE_FILES and CLONE_FS has copies (what it opens, closes or chdirs
 * to stays its own, and its exit closes its copy's files); unshare(CLONE_FILES),
 * unshare(CLONE_FS) and close_range(CLOSE_RANGE_UNSHARE) in one thread of a multi-threaded
 * process part only that thread (its siblings keep the fds it closes and their cwd), and
 * /proc/thread-self/cwd and fd are the thread's (/proc/self's are the leader's). POSIX
 * record locks belong to the fd table: processes sharing one (CLONE_FILES) do not conflict,
 * F_GETLK names the process that set each lock, and closing any fd of the file in the shared
 * table drops them all. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* close_range(2) (436 on every architecture) and its CLOSE_RANGE_UNSHARE flag, which older
 * libc headers lack. */
#define NR_CLOSE_RANGE 436
#define CR_UNSHARE (1U << 1)

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* ---- Raw threads: clone(CLONE_THREAD) with chosen sharing flags, joined through
 * CLONE_CHILD_CLEARTID. The child runs `fn(arg)` on its own stack with the creator's TLS, so
 * it makes system calls only (and the creator waits meanwhile). */
#if defined(__x86_64__)
static long raw_clone(unsigned long flags, void *top, int *ctid, int (*fn)(void *), void *arg) {
    void **sp = (void **)top - 2;
    sp[0] = (void *)fn;
    sp[1] = arg;
    register long rax __asm__("rax") = SYS_clone;
    register unsigned long rdi __asm__("rdi") = flags;
    register void *rsi __asm__("rsi") = sp;
    register long rdx __asm__("rdx") = 0;
    register int *r10 __asm__("r10") = ctid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "pop %%rax\n\t"
                     "pop %%rdi\n\t"
                     "call *%%rax\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t"
                     "syscall\n\t"
                     "hlt\n"
                     "1:\n"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return rax;
}
#define HAVE_RAW_CLONE 1
#endif

#ifdef HAVE_RAW_CLONE
static char raw_stack[256 * 1024] __attribute__((aligned(16)));
static volatile int raw_ctid;

/* Runs fn(arg) in a new raw thread with `flags` beyond CLONE_VM | CLONE_THREAD |
 * CLONE_SIGHAND and waits until it has exited (its tid word cleared). */
static int run_raw_thread(unsigned long flags, int (*fn)(void *), void *arg) {
    raw_ctid = 1;
    unsigned long f = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_CHILD_CLEARTID | flags;
    long tid = raw_clone(f, raw_stack + sizeof raw_stack, (int *)&raw_ctid, fn, arg);
    if (tid < 0) {
        errno = (int)-tid;
        return -1;
    }
    while (raw_ctid != 0) syscall(SYS_futex, &raw_ctid, FUTEX_WAIT, 1, NULL, NULL, 0);
    return 0;
}

/* What the raw thread found (written by it, read once it is gone). */
static struct {
    int opened, inherited, pwd_ok, closed_inherited;
} raw;
static int raw_inherit_fd;

static int raw_child(void *arg) {
    (void)arg;
    /* Its copy holds what the creator had open... */
    raw.inherited = syscall(SYS_fcntl, raw_inherit_fd, F_GETFD) >= 0;
    /* ...and what it opens or closes is its own. */
    raw.opened = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
    raw.closed_inherited = syscall(SYS_close, raw_inherit_fd) == 0;
    /* Its own cwd (no CLONE_FS). */
    raw.pwd_ok = syscall(SYS_chdir, "/") == 0;
    return 0;
}

/* A raw thread whose table holds a pipe's write end the creator closed: its exit closes it. */
static int raw_hold(void *arg) {
    (void)arg;
    return 0;
}

static void raw_threads(void) {
    char before[PATH_MAX], after[PATH_MAX];
    CHECK_OK(chdir("/tmp"));
    CHECK(getcwd(before, sizeof before) != NULL);
    raw_inherit_fd = open("/dev/null", O_RDONLY);
    CHECK(raw_inherit_fd >= 0);
    memset(&raw, 0, sizeof raw);
    CHECK_OK(run_raw_thread(0, raw_child, NULL));
    CHECK(raw.inherited);
    CHECK(raw.opened >= 0);
    CHECK(raw.closed_inherited);
    CHECK(raw.pwd_ok);
    /* The fd the thread opened is not in this table (its number was free here too), the one
     * it closed is still open here, and the cwd did not move. */
    if (raw.opened >= 0) CHECK_ERR(fcntl(raw.opened, F_GETFD), EBADF);
    CHECK(fd_open(raw_inherit_fd));
    CHECK(getcwd(after, sizeof after) != NULL);
    CHECK(strcmp(before, after) == 0);
    close(raw_inherit_fd);

    /* With CLONE_FILES and CLONE_FS the same thread shares both. */
    raw_inherit_fd = open("/dev/null", O_RDONLY);
    memset(&raw, 0, sizeof raw);
    CHECK_OK(run_raw_thread(CLONE_FILES | CLONE_FS, raw_child, NULL));
    CHECK(raw.opened >= 0 && fd_open(raw.opened));
    CHECK(!fd_open(raw_inherit_fd));
    CHECK(getcwd(after, sizeof after) != NULL);
    CHECK(strcmp(after, "/") == 0);
    if (raw.opened >= 0) close(raw.opened);
    CHECK_OK(chdir("/tmp"));

    /* A thread's exit closes its copy's files: the pipe's last write end goes with it. */
    int p[2];
    CHECK_OK(pipe(p));
    memset(&raw, 0, sizeof raw);
    CHECK_OK(run_raw_thread(CLONE_FS, raw_hold, NULL));
    close(p[1]);
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    CHECK(poll(&pf, 1, 5000) == 1);
    char c;
    CHECK(read(p[0], &c, 1) == 0);
    close(p[0]);
}
#endif

/* ---- pthreads (CLONE_FILES | CLONE_FS) parting with unshare and close_range. */
static int shared_fd;
static char thread_cwd[PATH_MAX], thread_self_cwd[PATH_MAX];
static int thread_ok;

static void *unshare_files_thread(void *arg) {
    (void)arg;
    thread_ok = unshare(CLONE_FILES) == 0 && close(shared_fd) == 0 && !fd_open(shared_fd);
    /* An fd of its own table only: /proc/thread-self/fd shows it, /proc/self/fd (the
     * leader's table) does not. */
    int fd = open("/dev/null", O_RDONLY);
    thread_ok &= fd >= 0 && dup2(fd, 100) == 100;
    thread_ok &= access("/proc/thread-self/fd/100", F_OK) == 0;
    thread_ok &= access("/proc/self/fd/100", F_OK) == -1 && errno == ENOENT;
    return NULL;
}

static void *unshare_fs_thread(void *arg) {
    (void)arg;
    thread_ok = unshare(CLONE_FS) == 0 && chdir("/") == 0 && umask(077) == 022;
    if (!getcwd(thread_cwd, sizeof thread_cwd)) thread_cwd[0] = 0;
    ssize_t n = readlink("/proc/thread-self/cwd", thread_self_cwd, sizeof thread_self_cwd - 1);
    thread_self_cwd[n > 0 ? n : 0] = 0;
    return NULL;
}

static void *close_range_thread(void *arg) {
    (void)arg;
    thread_ok = syscall(NR_CLOSE_RANGE, 3, ~0U, CR_UNSHARE) == 0 &&
                !fd_open(shared_fd);
    return NULL;
}

static void run_pthread(void *(*fn)(void *)) {
    pthread_t t;
    thread_ok = 0;
    CHECK(pthread_create(&t, NULL, fn, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(thread_ok);
}

static void pthreads(void) {
    shared_fd = open("/dev/null", O_RDONLY);
    CHECK(shared_fd >= 0);
    run_pthread(unshare_files_thread);
    CHECK(fd_open(shared_fd));
    CHECK(!fd_open(100));

    run_pthread(close_range_thread);
    CHECK(fd_open(shared_fd));
    close(shared_fd);

    char cwd[PATH_MAX], link[PATH_MAX];
    CHECK_OK(chdir("/tmp"));
    umask(022);
    run_pthread(unshare_fs_thread);
    CHECK(strcmp(thread_cwd, "/") == 0);
    CHECK(strcmp(thread_self_cwd, "/") == 0);
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(strcmp(cwd, "/tmp") == 0);
    /* /proc/self/cwd is the leader's (this thread's). */
    ssize_t n = readlink("/proc/self/cwd", link, sizeof link - 1);
    CHECK(n > 0);
    link[n > 0 ? n : 0] = 0;
    CHECK(strcmp(link, "/tmp") == 0);
    CHECK(umask(022) == 022);
}

/* ---- POSIX record locks owned by the fd table. */
static char lock_path[] = "/tmp/thread_files_lockXXXXXX";

static int setlk(int fd, int type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, F_SETLK, &fl);
}

/* F_GETLK for a write lock on [start, start+len): the blocking lock's type, its pid in *pid. */
static int getlk(int fd, off_t start, off_t len, pid_t *pid) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, F_GETLK, &fl) != 0) return -1;
    if (pid) *pid = fl.l_pid;
    return fl.l_type;
}

static long clone_files(void) { return syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0); }

static void record_locks(void) {
    int fd = mkstemp(lock_path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, "0123456789012345678901234567890123456789", 40) == 40);
    CHECK_OK(setlk(fd, F_WRLCK, 0, 10));
    pid_t me = getpid();

    /* A process sharing the table owns the same locks: no conflict with this process's,
     * and the lock it sets is this table's too. */
    long c = clone_files();
    if (c == 0) {
        int bad = 0;
        if (getlk(fd, 0, 10, NULL) != F_UNLCK) bad |= 1;
        if (setlk(fd, F_WRLCK, 0, 10) != 0) bad |= 2;
        if (setlk(fd, F_WRLCK, 20, 10) != 0) bad |= 4;
        _exit(bad);
    }
    CHECK(c > 0);
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getlk(fd, 20, 10, NULL) == F_UNLCK);

    /* Another process (its own table) sees both, each naming the process that set it; the
     * sharer's exit left them to the table. */
    pid_t d = fork();
    if (d == 0) {
        pid_t p1 = 0, p2 = 0;
        int bad = 0;
        if (getlk(fd, 0, 10, &p1) != F_WRLCK || p1 != me) bad |= 1;
        if (getlk(fd, 20, 10, &p2) != F_WRLCK || p2 != (pid_t)c) bad |= 2;
        if (setlk(fd, F_RDLCK, 25, 1) != -1 || (errno != EAGAIN && errno != EACCES)) bad |= 4;
        _exit(bad);
    }
    CHECK(d > 0);
    CHECK(waitpid(d, &st, 0) == d);
    CHECK_EXIT(st, 0);

    /* A sharer opening the file again and closing that fd drops the table's locks. */
    c = clone_files();
    if (c == 0) {
        int fd2 = open(lock_path, O_RDONLY);
        _exit(fd2 >= 0 && close(fd2) == 0 ? 0 : 1);
    }
    CHECK(c > 0);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    d = fork();
    if (d == 0) _exit(getlk(fd, 0, 40, NULL) == F_UNLCK ? 0 : 1);
    CHECK(d > 0);
    CHECK(waitpid(d, &st, 0) == d);
    CHECK_EXIT(st, 0);
    close(fd);
    unlink(lock_path);
}

int main(void) {
#ifdef HAVE_RAW_CLONE
    raw_threads();
#endif
    pthreads();
    record_locks();
    DONE();
}
