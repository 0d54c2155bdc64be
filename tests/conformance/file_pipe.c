/* Pipes: pipe/pipe2 flags, data flow, end-of-file, EPIPE and SIGPIPE, non-blocking reads and
 * writes, capacity, and what fstat/fcntl report about the two ends. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_basic(void) {
    int p[2] = {-1, -1};
    CHECK_OK(pipe(p));
    CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
    struct stat a, b;
    CHECK_OK(fstat(p[0], &a));
    CHECK_OK(fstat(p[1], &b));
    CHECK(S_ISFIFO(a.st_mode) && S_ISFIFO(b.st_mode));
    CHECK((a.st_mode & 0777) == 0600);
    CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    CHECK(a.st_nlink == 1);
    /* Access modes and descriptor flags. */
    CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
    CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
    CHECK(fcntl(p[0], F_GETFD) == 0 && fcntl(p[1], F_GETFD) == 0);
    CHECK_ERR(write(p[0], "x", 1), EBADF);
    char c;
    CHECK_ERR(read(p[1], &c, 1), EBADF);

    /* Data flows in order; reads return what is there without waiting for more. */
    CHECK(write(p[1], "hello ", 6) == 6);
    CHECK(write(p[1], "pipe", 4) == 4);
    int avail = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == 10);
    char buf[64] = {0};
    CHECK(read(p[0], buf, 3) == 3);
    CHECK(memcmp(buf, "hel", 3) == 0);
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == 7);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 7);
    CHECK(strcmp(buf, "lo pipe") == 0);
    CHECK(read(p[0], buf, 0) == 0);
    CHECK(write(p[1], "", 0) == 0);

    /* A second pipe is a different inode. */
    int q[2];
    CHECK_OK(pipe(q));
    struct stat s2;
    CHECK_OK(fstat(q[0], &s2));
    CHECK(s2.st_ino != a.st_ino);
    close(q[0]);
    close(q[1]);

    /* End of file once every write end is closed, after the data is drained. */
    int w2 = dup(p[1]);
    CHECK(write(p[1], "tail", 4) == 4);
    CHECK_OK(close(p[1]));
    CHECK(write(w2, "!", 1) == 1);
    CHECK_OK(close(w2));
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 5);
    CHECK(strcmp(buf, "tail!") == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    close(p[0]);
}

static void test_pipe2(void) {
    int p[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(p[1], F_GETFD) == FD_CLOEXEC);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
    close(p[0]);
    close(p[1]);

    CHECK(syscall(SYS_pipe2, p, 0) == 0);
    CHECK(fcntl(p[0], F_GETFD) == 0 && (fcntl(p[1], F_GETFL) & O_NONBLOCK) == 0);
    close(p[0]);
    close(p[1]);

    CHECK_OK(pipe2(p, O_NONBLOCK));
    CHECK(fcntl(p[0], F_GETFD) == 0);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    CHECK((fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0);
    char buf[256];
    /* Empty: EAGAIN while a writer exists. */
    CHECK_ERR(read(p[0], buf, sizeof buf), EAGAIN);
    CHECK(write(p[1], "ab", 2) == 2);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK_ERR(read(p[0], buf, sizeof buf), EAGAIN);

    /* Fill it: the default capacity is 64 KiB, after which writes fail with EAGAIN. */
    static char chunk[4096];
    memset(chunk, 'f', sizeof chunk);
    long total = 0;
    for (int i = 0; i < 1000; i++) {
        errno = 0;
        ssize_t r = write(p[1], chunk, sizeof chunk);
        if (r < 0) break;
        total += r;
    }
    CHECK(errno == EAGAIN);
    CHECK(total == 65536);
    CHECK_ERR(write(p[1], "x", 1), EAGAIN);
    int avail = -1;
    CHECK_OK(ioctl(p[0], FIONREAD, &avail));
    CHECK(avail == total);
    /* Draining makes room again. */
    CHECK(read(p[0], chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    CHECK(write(p[1], "x", 1) == 1);
    long drained = 0;
    for (int i = 0; i < 1000; i++) {
        ssize_t r = read(p[0], chunk, sizeof chunk);
        if (r <= 0) break;
        drained += r;
    }
    CHECK(drained == total - (long)sizeof chunk + 1);

    /* Empty with no writer: end of file, not EAGAIN. */
    close(p[1]);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    close(p[0]);

    /* Both flags at once; O_NONBLOCK can be set later with F_SETFL. */
    CHECK_OK(pipe2(p, O_NONBLOCK | O_CLOEXEC));
    CHECK(fcntl(p[1], F_GETFD) == FD_CLOEXEC && (fcntl(p[1], F_GETFL) & O_NONBLOCK));
    close(p[0]);
    close(p[1]);
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
    CHECK_ERR(read(p[0], buf, 1), EAGAIN);
    close(p[0]);
    close(p[1]);

    /* Invalid flags. */
    CHECK_ERR(syscall(SYS_pipe2, p, O_APPEND), EINVAL);
    CHECK_ERR(syscall(SYS_pipe2, p, O_RDWR), EINVAL);
    CHECK_ERR(syscall(SYS_pipe2, p, 0x40000000), EINVAL);
}

static void test_epipe(void) {
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    CHECK_OK(close(p[0]));
    CHECK_ERR(write(p[1], "x", 1), EPIPE);
    CHECK_ERR(write(p[1], "xyz", 3), EPIPE);
    close(p[1]);

    /* Data left in the pipe does not prevent EPIPE. */
    CHECK_OK(pipe(p));
    CHECK(write(p[1], "left", 4) == 4);
    close(p[0]);
    CHECK_ERR(write(p[1], "more", 4), EPIPE);
    close(p[1]);

    /* A blocked SIGPIPE is left pending and the write still fails with EPIPE. */
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
    CHECK_OK(pipe(p));
    close(p[0]);
    CHECK_ERR(write(p[1], "x", 1), EPIPE);
    sigset_t pend;
    sigemptyset(&pend);
    CHECK_OK(sigpending(&pend));
    CHECK(sigismember(&pend, SIGPIPE) == 1);
    close(p[1]);
    /* Discard it before unblocking. */
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    CHECK_OK(sigprocmask(SIG_SETMASK, &old, NULL));
    sigemptyset(&pend);
    CHECK_OK(sigpending(&pend));
    CHECK(sigismember(&pend, SIGPIPE) == 0);

    /* With the default action the writer dies of SIGPIPE. */
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    CHECK_OK(pipe(p));
    close(p[0]);
    pid_t pid = fork();
    if (pid == 0) {
        ssize_t r = write(p[1], "x", 1);
        _exit(r == -1 ? 2 : 3);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE);
    close(p[1]);
    signal(SIGPIPE, SIG_IGN);
}

static void test_across_fork(void) {
    /* A child writes, the parent reads until end of file. */
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        static char big[20000];
        for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i % 251);
        size_t off = 0;
        while (off < sizeof big) {
            ssize_t r = write(p[1], big + off, sizeof big - off);
            if (r <= 0) _exit(1);
            off += r;
        }
        _exit(0);
    }
    CHECK(pid > 0);
    close(p[1]);
    static char got[30000];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(p[0], got + n, sizeof got - n);
        if (r <= 0) {
            CHECK(r == 0);
            break;
        }
        n += r;
    }
    CHECK(n == 20000);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= got[i] == (char)(i % 251);
    CHECK(ok);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(p[0]);
}

int main(void) {
    /* Unbuffered, so failures printed before a fatal signal are not lost. */
    setvbuf(stdout, NULL, _IONBF, 0);
    test_basic();
    test_pipe2();
    test_across_fork();
    test_epipe();
    DONE();
}
