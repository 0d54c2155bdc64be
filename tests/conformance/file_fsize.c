/* RLIMIT_FSIZE: a write to a regular file is cut at the limit, one that starts at or past it
 * fails with EFBIG and raises SIGXFSZ (whose default action kills); truncate and fallocate
 * growing past it do the same; shrinking and pipes are not limited. stress-ng's fsize
 * stressor found the limit ignored. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int xfsz;
static void on_xfsz(int sig) {
    (void)sig;
    xfsz++;
}

static void test_limits(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_xfsz;
    CHECK_OK(sigaction(SIGXFSZ, &sa, NULL));
    struct rlimit rl = {1000, 1000};
    CHECK_OK(setrlimit(RLIMIT_FSIZE, &rl));
    int fd = open("fsize-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static char buf[2000];
    memset(buf, 'a', sizeof buf);
    CHECK(write(fd, buf, 600) == 600);
    CHECK(write(fd, buf, 600) == 400);
    CHECK(xfsz == 0);
    CHECK_ERR(write(fd, buf, 1), EFBIG);
    CHECK(xfsz == 1);
    CHECK(pwrite(fd, buf, 10, 999) == 1);
    CHECK_ERR(pwrite(fd, buf, 10, 1000), EFBIG);
    CHECK(xfsz == 2);
    CHECK(write(fd, buf, 0) == 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 1000);

    CHECK_ERR(ftruncate(fd, 1001), EFBIG);
    CHECK(xfsz == 3);
    CHECK_OK(ftruncate(fd, 1000));
    CHECK_OK(ftruncate(fd, 10));
    CHECK(xfsz == 3);
    if (fallocate(fd, 0, 0, 500) == 0) {
        CHECK_ERR(fallocate(fd, 0, 500, 501), EFBIG);
        CHECK(xfsz == 4);
        CHECK_OK(fstat(fd, &st));
        CHECK(st.st_size == 500);
    } else {
        CHECK(errno == EOPNOTSUPP);
    }
    close(fd);

    /* Pipes are not files: the limit does not apply. */
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(write(p[1], buf, sizeof buf) == (ssize_t)sizeof buf);
    close(p[0]);
    close(p[1]);
    unlink("fsize-file");
}

/* With SIGXFSZ's default action the writer is killed. */
static void test_default_kills(void) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {10, 10};
        setrlimit(RLIMIT_FSIZE, &rl);
        int fd = open("fsize-kill", O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) _exit(2);
        (void)write(fd, "0123456789", 10);
        (void)write(fd, "x", 1);
        _exit(3);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ);
    struct stat sb;
    CHECK_OK(stat("fsize-kill", &sb));
    CHECK(sb.st_size == 10);
    unlink("fsize-kill");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    lt_sub("limits", test_limits, 10000);
    lt_sub("default_kills", test_default_kills, 10000);
    DONE();
}
