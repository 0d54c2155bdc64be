/* File locks: POSIX record locks between processes (conflicts, F_GETLK, shared read locks,
 * partial unlocks, release on close of any fd, F_SETLKW waiting, EDEADLK), OFD locks,
 * flock, and F_GETPIPE_SZ/F_SETPIPE_SZ. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "file_locks: watchdog: a call blocked for 20 s\n";
    if (write(1, m, sizeof m - 1) < 0) {
    }
    _exit(2);
}

static long ms_since(struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&d, &d) == -1 && errno == EINTR) {
    }
}

/* Waits (up to 2 s) until /proc/<pid>/stat shows the process sleeping, then 20 ms more. */
static void wait_sleeping(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 400; i++) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            char *rp = strrchr(buf, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'S')
                break;
        }
        sleep_ms(5);
    }
    sleep_ms(20);
}

static int lk(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    fl.l_pid = (cmd == F_GETLK) ? 12345 : 0; /* ignored by F_GETLK; OFD needs 0 */
    if (fcntl(fd, cmd, &fl) != 0) {
        printf("F_GETLK failed: %s\n", strerror(errno));
        fl.l_type = -1;
    }
    return fl;
}

/* One-byte handshakes over pipes. */
static void put(int fd) {
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        printf("handshake write failed\n");
}
static void get(int fd) {
    char c;
    if (read(fd, &c, 1) != 1)
        printf("handshake read failed\n");
}

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

static volatile sig_atomic_t got_alarm;
static void on_alarm(int s) {
    (void)s;
    got_alarm++;
}

static void reap(pid_t pid) {
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_posix(void) {
    int fd = open("lockfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789abcdefghij", 20) == 20);
    pid_t me = getpid();
    int to_child[2], to_parent[2];
    CHECK_OK(pipe(to_child));
    CHECK_OK(pipe(to_parent));

    /* Parent: write lock on [0,10), read lock on [100,200). */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
    CHECK_OK(lk(fd, F_SETLK, F_RDLCK, 100, 100));
    /* Its own locks never conflict with it: F_GETLK says F_UNLCK. */
    struct flock g = getlk(fd, F_GETLK, F_WRLCK, 0, 300);
    CHECK(g.l_type == F_UNLCK);
    /* Bad arguments. */
    CHECK_ERR(lk(fd, F_SETLK, 77, 0, 1), EINVAL);
    struct flock bw = {.l_type = F_RDLCK, .l_whence = 9, .l_start = 0, .l_len = 1};
    CHECK_ERR(fcntl(fd, F_SETLK, &bw), EINVAL);
    CHECK_ERR(lk(fd, F_SETLK, F_WRLCK, -5, 1), EINVAL);
    CHECK_ERR(lk(999, F_SETLK, F_WRLCK, 0, 1), EBADF);
    int ro = open("lockfile", O_RDONLY);
    CHECK_ERR(lk(ro, F_SETLK, F_WRLCK, 500, 1), EBADF);
    CHECK_OK(lk(ro, F_SETLK, F_RDLCK, 500, 1));
    int wo = open("lockfile", O_WRONLY);
    CHECK_ERR(lk(wo, F_SETLK, F_RDLCK, 600, 1), EBADF);
    close(wo); /* closing any fd of the file drops this process's locks... */
    close(ro);
    /* ... so lock again. */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
    CHECK_OK(lk(fd, F_SETLK, F_RDLCK, 100, 100));

    pid_t pid = fork();
    if (pid == 0) {
        /* Conflicts with the write lock: EAGAIN, for write and read locks alike. */
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 5, 10) == -1 && errno == EAGAIN);
        CHILD_CHECK(lk(fd, F_SETLK, F_RDLCK, 9, 1) == -1 && errno == EAGAIN);
        struct flock c = getlk(fd, F_GETLK, F_WRLCK, 5, 10);
        CHILD_CHECK(c.l_type == F_WRLCK);
        CHILD_CHECK(c.l_pid == me);
        CHILD_CHECK(c.l_whence == SEEK_SET && c.l_start == 0 && c.l_len == 10);
        c = getlk(fd, F_GETLK, F_RDLCK, 0, 1);
        CHILD_CHECK(c.l_type == F_WRLCK && c.l_pid == me);
        /* No conflict between them: F_UNLCK and the rest unchanged. */
        c = getlk(fd, F_GETLK, F_WRLCK, 10, 90);
        CHILD_CHECK(c.l_type == F_UNLCK);
        CHILD_CHECK(c.l_start == 10 && c.l_len == 90 && c.l_whence == SEEK_SET);
        /* Read locks are shared; a write lock conflicts with them. */
        CHILD_CHECK(lk(fd, F_SETLK, F_RDLCK, 150, 100) == 0);
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 120, 1) == -1 && errno == EAGAIN);
        c = getlk(fd, F_GETLK, F_WRLCK, 120, 1);
        CHILD_CHECK(c.l_type == F_RDLCK && c.l_pid == me && c.l_start == 100 &&
                    c.l_len == 100);
        c = getlk(fd, F_GETLK, F_RDLCK, 120, 1);
        CHILD_CHECK(c.l_type == F_UNLCK);
        /* Free bytes lock fine; a lock to EOF (len 0) too. */
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 10, 5) == 0);
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 1000, 0) == 0);
        put(to_parent[1]);
        get(to_child[0]);
        _exit(child_failures != 0);
    }
    get(to_parent[0]);
    /* The child's locks seen from here. */
    g = getlk(fd, F_GETLK, F_WRLCK, 12, 1);
    CHECK(g.l_type == F_WRLCK && g.l_pid == pid && g.l_start == 10 && g.l_len == 5);
    g = getlk(fd, F_GETLK, F_RDLCK, 5000, 10);
    CHECK(g.l_type == F_WRLCK && g.l_pid == pid && g.l_start == 1000 && g.l_len == 0);
    /* The child's read lock on [150,250) blocks upgrading the parent's read lock. */
    CHECK_ERR(lk(fd, F_SETLK, F_WRLCK, 100, 100), EAGAIN);
    g = getlk(fd, F_GETLK, F_WRLCK, 100, 100);
    CHECK(g.l_type == F_RDLCK && g.l_pid == pid && g.l_start == 150 && g.l_len == 100);
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 100, 50)); /* the part the child does not hold */
    put(to_child[1]);
    reap(pid);
    /* The child's locks died with it. */
    g = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
    CHECK(g.l_type == F_UNLCK);

    /* Unlocking the middle of a range splits it. */
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 3, 3));
    pid = fork();
    if (pid == 0) {
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 3, 3) == 0);
        CHILD_CHECK(lk(fd, F_SETLK, F_UNLCK, 3, 3) == 0);
        struct flock c = getlk(fd, F_GETLK, F_WRLCK, 0, 10);
        CHILD_CHECK(c.l_type == F_WRLCK && c.l_start == 0 && c.l_len == 3);
        c = getlk(fd, F_GETLK, F_WRLCK, 4, 6);
        CHILD_CHECK(c.l_type == F_WRLCK && c.l_start == 6 && c.l_len == 4);
        CHILD_CHECK(lk(fd, F_SETLK, F_RDLCK, 2, 2) == -1 && errno == EAGAIN);
        CHILD_CHECK(lk(fd, F_SETLK, F_RDLCK, 5, 2) == -1 && errno == EAGAIN);
        /* SEEK_END and SEEK_CUR positions: the file is 20 bytes. */
        struct flock e = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -14, .l_len = 1};
        CHILD_CHECK(fcntl(fd, F_GETLK, &e) == 0);
        CHILD_CHECK(e.l_type == F_WRLCK && e.l_whence == SEEK_SET && e.l_start == 6);
        lseek(fd, 1, SEEK_SET);
        struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = 1};
        CHILD_CHECK(fcntl(fd, F_GETLK, &cur) == 0);
        CHILD_CHECK(cur.l_type == F_WRLCK && cur.l_start == 0 && cur.l_len == 3);
        /* A negative length covers the bytes before l_start. */
        struct flock neg = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 6, .l_len = -3};
        CHILD_CHECK(fcntl(fd, F_GETLK, &neg) == 0);
        CHILD_CHECK(neg.l_type == F_UNLCK);
        _exit(child_failures != 0);
    }
    reap(pid);

    /* Closing any fd of the file releases all of this process's locks on it. */
    int fd2 = open("lockfile", O_RDONLY);
    CHECK(fd2 >= 0);
    close(fd2);
    pid = fork();
    if (pid == 0) {
        struct flock c = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
        CHILD_CHECK(c.l_type == F_UNLCK);
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 10) == 0);
        _exit(child_failures != 0);
    }
    reap(pid);

    /* F_SETLKW waits until the holder unlocks. */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
    pid = fork();
    if (pid == 0) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        put(to_parent[1]);
        CHILD_CHECK(lk(fd, F_SETLKW, F_WRLCK, 5, 1) == 0);
        CHILD_CHECK(ms_since(&t0) >= 40);
        /* Now the child holds it. */
        put(to_parent[1]);
        get(to_child[0]);
        _exit(child_failures != 0);
    }
    get(to_parent[0]);
    sleep_ms(60);
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 10));
    get(to_parent[0]);
    g = getlk(fd, F_GETLK, F_RDLCK, 0, 10);
    CHECK(g.l_type == F_WRLCK && g.l_pid == pid && g.l_start == 5 && g.l_len == 1);
    put(to_child[1]);
    reap(pid);

    /* Deadlock: the parent holds A, the child holds B and waits for A; the parent asking
     * for B would wait forever: EDEADLK. */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1)); /* A */
    pid = fork();
    if (pid == 0) {
        CHILD_CHECK(lk(fd, F_SETLK, F_WRLCK, 1, 1) == 0); /* B */
        put(to_parent[1]);
        CHILD_CHECK(lk(fd, F_SETLKW, F_WRLCK, 0, 1) == 0); /* waits for A */
        _exit(child_failures != 0);
    }
    get(to_parent[0]);
    /* Wait until the child is blocked on A: F_GETLK can't see waiters, so watch its state
     * in /proc until it sleeps, then give it a moment more. */
    wait_sleeping(pid);
    CHECK_ERR(lk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 1)); /* lets the child finish */
    reap(pid);

    /* A signal (handler without SA_RESTART) interrupts F_SETLKW with EINTR. */
    CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
    pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        ualarm(50000, 0);
        CHILD_CHECK(lk(fd, F_SETLKW, F_WRLCK, 0, 1) == -1 && errno == EINTR);
        CHILD_CHECK(got_alarm == 1);
        _exit(child_failures != 0);
    }
    reap(pid);
    CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 0));

    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    close(fd);
}

static void test_ofd(void) {
    int a = open("ofdfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int b = open("ofdfile", O_RDWR);
    CHECK(a >= 0 && b >= 0);
    CHECK(write(a, "ofd-lock-data", 13) == 13);

    CHECK_OK(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
    /* Two open file descriptions conflict, even in one process. */
    CHECK_ERR(lk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN);
    CHECK_ERR(lk(b, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
    struct flock g = getlk(b, F_OFD_GETLK, F_WRLCK, 5, 10);
    CHECK(g.l_type == F_WRLCK && g.l_pid == -1 && g.l_start == 0 && g.l_len == 10);
    /* l_pid must be 0. */
    struct flock bad = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 1,
                        .l_pid = 1};
    CHECK_ERR(fcntl(a, F_OFD_SETLK, &bad), EINVAL);
    bad.l_pid = getpid();
    CHECK_ERR(fcntl(a, F_OFD_SETLK, &bad), EINVAL);
    /* The same description (a dup) owns it too. */
    int d = dup(a);
    CHECK_OK(lk(d, F_OFD_SETLK, F_WRLCK, 0, 5));
    /* ... and closing the dup does not release it. */
    close(d);
    CHECK_ERR(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
    /* Classic POSIX locks of this same process conflict with OFD locks. */
    CHECK_ERR(lk(b, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
    /* Read locks from two descriptions share. */
    CHECK_OK(lk(a, F_OFD_SETLK, F_RDLCK, 50, 10));
    CHECK_OK(lk(b, F_OFD_SETLK, F_RDLCK, 55, 10));
    CHECK_ERR(lk(a, F_OFD_SETLK, F_WRLCK, 55, 1), EAGAIN);
    /* OFD locks are shared with a child through fork and are not released when the child
     * exits. */
    pid_t pid = fork();
    if (pid == 0) {
        CHILD_CHECK(lk(a, F_OFD_SETLK, F_WRLCK, 0, 3) == 0);
        struct flock c = getlk(b, F_OFD_GETLK, F_WRLCK, 0, 1);
        CHILD_CHECK(c.l_type == F_WRLCK && c.l_pid == -1);
        _exit(child_failures != 0);
    }
    reap(pid);
    CHECK_ERR(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
    /* F_OFD_SETLKW on a free range works; closing the last fd of a releases its locks. */
    CHECK_OK(lk(b, F_OFD_SETLKW, F_WRLCK, 100, 1));
    close(a);
    CHECK_OK(lk(b, F_OFD_SETLK, F_WRLCK, 0, 10));
    /* Closing an unrelated fd of the same file keeps OFD locks (unlike POSIX locks). */
    int c = open("ofdfile", O_RDWR);
    close(c);
    c = open("ofdfile", O_RDWR);
    CHECK_ERR(lk(c, F_OFD_SETLK, F_WRLCK, 0, 10), EAGAIN);
    close(c);
    close(b);
    unlink("ofdfile");
}

static void test_flock(void) {
    int a = open("flockfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
    int b = open("flockfile", O_RDWR);
    CHECK(a >= 0 && b >= 0);

    CHECK_OK(flock(a, LOCK_SH));
    CHECK_OK(flock(b, LOCK_SH | LOCK_NB)); /* shared */
    CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK_OK(flock(a, LOCK_UN));
    CHECK_OK(flock(b, LOCK_EX | LOCK_NB)); /* conversion to exclusive */
    CHECK_ERR(flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    /* A dup shares the description and so the lock. */
    int d = dup(b);
    CHECK_OK(flock(d, LOCK_EX | LOCK_NB));
    close(d);
    CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK); /* still held */
    /* flock and POSIX locks are independent. */
    CHECK_OK(lk(a, F_SETLK, F_WRLCK, 0, 0));
    CHECK_OK(lk(a, F_SETLK, F_UNLCK, 0, 0));
    /* Closing the description releases it. */
    close(b);
    CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
    /* Bad arguments. */
    CHECK_ERR(flock(a, 0), EINVAL);
    CHECK_ERR(flock(a, LOCK_SH | LOCK_EX), EINVAL);
    CHECK_ERR(flock(999, LOCK_SH), EBADF);

    /* Another process: blocks until the holder lets go; an inherited fd shares it. */
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        /* Same description as the parent's a: already "held". */
        CHILD_CHECK(flock(a, LOCK_EX | LOCK_NB) == 0);
        int c = open("flockfile", O_RDWR);
        CHILD_CHECK(flock(c, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        put(p[1]);
        CHILD_CHECK(flock(c, LOCK_SH) == 0); /* waits */
        CHILD_CHECK(ms_since(&t0) >= 40);
        _exit(child_failures != 0);
    }
    get(p[0]);
    sleep_ms(60);
    CHECK_OK(flock(a, LOCK_UN));
    reap(pid);
    close(p[0]);
    close(p[1]);
    close(a);
    unlink("flockfile");
}

static void test_pipe_size(void) {
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536);
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == 65536);
    /* Rounded up to a power-of-two number of pages; at least a page. */
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 3 * 4096) == 16384);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 16384);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 1) == 4096);
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == 4096);
    /* The capacity is what a non-blocking writer can fill. */
    CHECK_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
    static char buf[65536];
    memset(buf, 'p', sizeof buf);
    CHECK(write(p[1], buf, sizeof buf) == 4096);
    CHECK_ERR(write(p[1], buf, 1), EAGAIN);
    /* Growing keeps the data. */
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 8192) == 8192);
    CHECK(write(p[1], buf, sizeof buf) == 4096);
    /* Shrinking below the content: EBUSY. */
    CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    CHECK(read(p[0], buf, sizeof buf) == 8192);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
    /* Not a pipe. */
    int fd = open("notapipe", O_RDWR | O_CREAT, 0644);
    CHECK_ERR(fcntl(fd, F_GETPIPE_SZ), EBADF);
    CHECK_ERR(fcntl(fd, F_SETPIPE_SZ, 4096), EBADF);
    close(fd);
    unlink("notapipe");
    close(p[0]);
    close(p[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    test_posix();
    test_ofd();
    test_flock();
    test_pipe_size();
    DONE();
}
