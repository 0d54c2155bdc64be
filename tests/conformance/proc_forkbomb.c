/* Fork and thread bombs contained by RLIMIT_NPROC, and the system recovering afterwards.
 * 1. A child lowers RLIMIT_NPROC and forks until fork fails (EAGAIN) or a cap is reached
 *    (root is exempt from RLIMIT_NPROC on Linux, so reaching the cap is accepted too); all
 *    the children are released and reaped, and fork works again.
 * 2. A child that drops root (uid/gid 65534) with RLIMIT_NPROC 8 must see fork fail with
 *    EAGAIN after at most 7 more processes, and pthread_create fail with EAGAIN (threads
 *    count too); after reaping, both work again.
 * 3. A thread bomb: threads are created until pthread_create fails or a cap is reached, and
 *    all of them are joined.
 * 4. The kernel-wide bounds that hold for root too: /proc/sys/kernel/threads-max (at least 20)
 *    and pid_max (above 300) are root-writable numbers, new pids stay below pid_max, and
 *    writing something that is not a number changes nothing (EINVAL).
 * Children print their own failed checks and exit 1 if any failed. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORK_CAP 150
#define THREAD_CAP 100
#define LOW_NPROC 8

/* Forks children that wait for EOF on `gate` and then exit 0, until fork fails or `cap`
 * children exist. Stores the pids; returns how many were made and the fork errno (0 if
 * the cap was reached). */
static int fork_until_fail(int gate[2], pid_t *pids, int cap, int *err) {
    int n = 0;
    *err = 0;
    for (int i = 0; i < cap; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) != 0) {
            }
            _exit(0);
        }
        if (pid < 0) {
            *err = errno;
            break;
        }
        pids[n++] = pid;
    }
    return n;
}

/* Reaps the given children; returns how many did not exit 0. */
static int reap_all(pid_t *pids, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int st = -1;
        pid_t r;
        while ((r = waitpid(pids[i], &st, 0)) == -1 && errno == EINTR) {
        }
        if (r != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) bad++;
    }
    return bad;
}

/* One more fork that must work. */
static int fork_works(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(42);
    if (pid < 0) return 0;
    int st = -1;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 42;
}

static int thread_gate = -1;

static void *gated_thread(void *arg) {
    char c;
    while (read(thread_gate, &c, 1) != 0) {
    }
    return arg;
}

static void *nop_thread(void *arg) { return arg; }

static int thread_works(void) {
    pthread_t th;
    void *ret = NULL;
    if (pthread_create(&th, NULL, nop_thread, (void *)7) != 0) return 0;
    return pthread_join(th, &ret) == 0 && ret == (void *)7;
}

/* The number in a /proc/sys file, or -1. */
static long sysctl_read(const char *path) {
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0 || buf[n - 1] != '\n') return -1;
    buf[n] = 0;
    return strtol(buf, NULL, 10);
}

/* Writes `text` to a /proc/sys file; returns 0 or the errno. */
static int sysctl_write(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
}

static void check_sysctl_bounds(void) {
    const char *tm = "/proc/sys/kernel/threads-max", *pm = "/proc/sys/kernel/pid_max";
    long threads = sysctl_read(tm), pid_max = sysctl_read(pm);
    CHECK(threads >= 20);
    CHECK(pid_max > 300);
    struct stat sb;
    CHECK(stat(tm, &sb) == 0 && (sb.st_mode & 07777) == 0644 && sb.st_uid == 0);
    CHECK(stat(pm, &sb) == 0 && (sb.st_mode & 07777) == 0644 && sb.st_uid == 0);
    pid_t c = fork();
    if (c == 0) _exit(0);
    CHECK(c > 0 && c < pid_max);
    if (c > 0) waitpid(c, NULL, 0);
    if (geteuid() == 0) {
        /* Not a number: refused before anything changes. */
        CHECK(sysctl_write(tm, "lots\n") == EINVAL);
        CHECK(sysctl_write(pm, "lots\n") == EINVAL);
        CHECK(sysctl_read(tm) == threads);
        CHECK(sysctl_read(pm) == pid_max);
    }
}

#define CHILD_BEGIN() (lt_failures = 0)
#define CHILD_END() _exit(lt_failures ? 1 : 0)

static void print_status(const char *what, int st) {
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("%s: status 0x%x (exit %d, signal %d)\n", what, st,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    static pid_t pids[FORK_CAP];

    /* ---- 1. Fork bomb with a lowered RLIMIT_NPROC (root may be exempt) ---- */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        CHILD_BEGIN();
        struct rlimit rl = {32, 32};
        CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
        struct rlimit got;
        CHECK(getrlimit(RLIMIT_NPROC, &got) == 0 && got.rlim_cur == 32 && got.rlim_max == 32);
        int gate[2];
        if (pipe(gate) != 0) _exit(99);
        int err = 0;
        int n = fork_until_fail(gate, pids, FORK_CAP, &err);
        if (n < FORK_CAP && err != EAGAIN) printf("fork failed after %d children: errno %d\n", n, err);
        CHECK(n == FORK_CAP || err == EAGAIN);
        CHECK(n > 0);
        close(gate[1]);
        close(gate[0]);
        CHECK(reap_all(pids, n) == 0);
        CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
        CHECK(fork_works());
        CHILD_END();
    }
    CHECK(c > 0);
    int st = -1;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    print_status("fork bomb child", st);

    /* ---- 2. Unprivileged: the limit is enforced for fork and for threads ---- */
    if (geteuid() == 0) {
        fflush(stdout);
        c = fork();
        if (c == 0) {
            CHILD_BEGIN();
            CHECK(setgid(65534) == 0);
            CHECK(setuid(65534) == 0);
            CHECK(getuid() == 65534 && geteuid() == 65534);
            struct rlimit rl = {LOW_NPROC, LOW_NPROC};
            CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
            /* Raising the hard limit back is not allowed without privilege. */
            struct rlimit up = {LOW_NPROC, LOW_NPROC + 10};
            CHECK_ERR(setrlimit(RLIMIT_NPROC, &up), EPERM);
            int gate[2];
            if (pipe(gate) != 0) _exit(99);
            int err = 0;
            int n = fork_until_fail(gate, pids, 50, &err);
            /* This process counts too: at most LOW_NPROC - 1 children. */
            if (err != EAGAIN || n > LOW_NPROC - 1)
                printf("unprivileged: %d children, then fork errno %d\n", n, err);
            CHECK(err == EAGAIN);
            CHECK(n <= LOW_NPROC - 1);
            /* Threads count against the same limit. */
            pthread_t th;
            thread_gate = gate[0];
            int e = pthread_create(&th, NULL, gated_thread, NULL);
            CHECK(e == EAGAIN);
            /* Fork still fails while they all live. */
            pid_t again = fork();
            if (again == 0) _exit(0);
            CHECK(again == -1 && errno == EAGAIN);
            close(gate[1]);
            close(gate[0]);
            if (e == 0) pthread_join(th, NULL);
            if (again > 0) waitpid(again, NULL, 0);
            CHECK(reap_all(pids, n) == 0);
            if (n > 0) CHECK(fork_works());
            if (n > 1) CHECK(thread_works());
            CHILD_END();
        }
        CHECK(c > 0);
        st = -1;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        print_status("unprivileged fork bomb child", st);
    }

    /* ---- 3. Thread bomb ---- */
    {
        static pthread_t th[THREAD_CAP];
        int gate[2];
        CHECK(pipe(gate) == 0);
        thread_gate = gate[0];
        pthread_attr_t attr;
        CHECK(pthread_attr_init(&attr) == 0);
        /* Small stacks so the cap, not memory, ends the bomb; but never below the
         * architecture's minimum (128 KiB on aarch64 glibc, where 64 KiB is EINVAL). */
        size_t stack = 64 * 1024;
        if ((long)stack < (long)PTHREAD_STACK_MIN) stack = PTHREAD_STACK_MIN;
        CHECK(pthread_attr_setstacksize(&attr, stack) == 0);
        int n = 0, err = 0;
        for (int i = 0; i < THREAD_CAP; i++) {
            int e = pthread_create(&th[n], &attr, gated_thread, (void *)(long)(i + 1));
            if (e != 0) {
                err = e;
                break;
            }
            n++;
        }
        pthread_attr_destroy(&attr);
        CHECK(n == THREAD_CAP || err == EAGAIN);
        CHECK(n > 0);
        close(gate[1]);
        for (int i = 0; i < n; i++) {
            void *ret = NULL;
            CHECK(pthread_join(th[i], &ret) == 0);
            CHECK(ret == (void *)(long)(i + 1));
        }
        close(gate[0]);
        CHECK(thread_works());
    }

    /* ---- 4. threads-max and pid_max ---- */
    check_sysctl_bounds();

    /* Everything still works. */
    CHECK(fork_works());
    CHECK(thread_works());
    CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
    DONE();
}
