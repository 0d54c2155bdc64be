/* An anonymous pipe opened again through /proc/self/fd/N (what `open("/dev/stdin")` does when
 * stdin is a pipe) is not a named FIFO: Linux's fifo_open skips the partner waits for pipefs
 * inodes (`is_pipe`). A reopened read end whose writers are all gone opens at once and reads
 * the data left, then end-of-file; a reopened write end whose readers are gone opens at once,
 * even with O_NONBLOCK (no ENXIO), and its write fails with EPIPE. CPython's
 * test_asyncio.test_subprocess test_devstdin_input (the parent writes and closes the pipe
 * before the child opens /dev/stdin) hung in the child's open. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int reopen(int fd, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, flags);
}

/* Writer closed before the reopen: no wait, the data, then EOF. */
static void test_read_after_writer_closed(void) {
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(write(p[1], "abc", 3) == 3);
    CHECK_OK(close(p[1]));
    int r = reopen(p[0], O_RDONLY | O_CLOEXEC);
    CHECK(r >= 0);
    char buf[8];
    CHECK(read(r, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(read(r, buf, sizeof buf) == 0);
    close(r);
    close(p[0]);
}

/* The same through a child's /dev/stdin, the parent's end closed first. */
static void test_dev_stdin(void) {
    int p[2], out[2];
    CHECK_OK(pipe2(p, O_CLOEXEC));
    CHECK_OK(pipe2(out, O_CLOEXEC));
    CHECK(write(p[1], "hello", 5) == 5);
    CHECK_OK(close(p[1]));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(p[0], 0);
        close(p[0]);
        int f = open("/dev/stdin", O_RDONLY);
        if (f < 0) _exit(2);
        char buf[16];
        ssize_t n = read(f, buf, sizeof buf);
        ssize_t m = read(f, buf, sizeof buf);
        char c = (char)('0' + n);
        write(out[1], &c, 1);
        _exit(m == 0 ? 0 : 3);
    }
    close(p[0]);
    close(out[1]);
    char c = 0;
    CHECK(read(out[0], &c, 1) == 1 && c == '5');
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(out[0]);
}

/* Readers gone: the write end reopens at once (blocking or not) and writes get EPIPE. */
static void test_write_after_reader_closed(void) {
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(close(p[0]));
    int w = reopen(p[1], O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK_ERR(write(w, "x", 1), EPIPE);
    close(w);
    w = reopen(p[1], O_WRONLY);
    CHECK(w >= 0);
    CHECK_ERR(write(w, "x", 1), EPIPE);
    close(w);
    close(p[1]);
}

/* A reopened read end with no writer and O_NONBLOCK: EOF at once (a FIFO by name would
 * give the same, but a pipe's reopen never waits when blocking either: see above). */
static void test_nonblock_read_no_writer(void) {
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(close(p[1]));
    int r = reopen(p[0], O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0);
    char c;
    CHECK(read(r, &c, 1) == 0);
    close(r);
    close(p[0]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    lt_sub("read_after_writer_closed", test_read_after_writer_closed, 10000);
    lt_sub("dev_stdin", test_dev_stdin, 10000);
    lt_sub("write_after_reader_closed", test_write_after_reader_closed, 10000);
    lt_sub("nonblock_read_no_writer", test_nonblock_read_no_writer, 10000);
    DONE();
}
