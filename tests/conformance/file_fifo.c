/* FIFOs opened by name, as Linux's fifo_open and pipe_poll behave: a blocking open for
 * reading waits for a writer and one for writing waits for a reader (EINTR when a signal
 * without SA_RESTART interrupts the wait); O_NONBLOCK readers open at once and see no POLLHUP
 * until a writer has come and gone; O_RDWR never waits and both reads and writes. stress-ng's
 * fifo stressor (select on a reader opened before the writer) found the missing waits. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static short revents(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    return n < 0 ? -1 : p.revents;
}

/* A non-blocking reader with no writer yet: no event, read gives EOF; a writer's arrival
 * and its data make it readable; its departure is POLLHUP. */
static void test_nonblock_reader(void) {
    CHECK_OK(mkfifo("f1", 0600));
    int r = open("f1", O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0);
    CHECK(revents(r) == 0);
    char c;
    CHECK(read(r, &c, 1) == 0);
    int w = open("f1", O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK(revents(r) == 0);
    CHECK_ERR(read(r, &c, 1), EAGAIN);
    CHECK(write(w, "x", 1) == 1);
    CHECK(revents(r) == POLLIN);
    close(w);
    CHECK(revents(r) == (POLLIN | POLLHUP));
    CHECK(read(r, &c, 1) == 1 && c == 'x');
    CHECK(revents(r) == POLLHUP);
    CHECK(read(r, &c, 1) == 0);
    close(r);
    /* A reader that opened while a writer was there sees POLLHUP once it leaves. */
    int r2 = open("f1", O_RDONLY | O_NONBLOCK);
    w = open("f1", O_WRONLY | O_NONBLOCK);
    int r3 = open("f1", O_RDONLY | O_NONBLOCK);
    CHECK(r2 >= 0 && w >= 0 && r3 >= 0);
    CHECK(revents(r3) == 0);
    close(w);
    CHECK(revents(r2) == POLLHUP && revents(r3) == POLLHUP);
    close(r2);
    close(r3);
    CHECK_ERR(open("f1", O_WRONLY | O_NONBLOCK), ENXIO);
    unlink("f1");
}

/* Blocking opens wait for the other side, which a child supplies 200 ms later. */
static void test_blocking_opens(void) {
    CHECK_OK(mkfifo("f2", 0600));
    for (int reader_first = 0; reader_first < 2; reader_first++) {
        pid_t pid = fork();
        if (pid == 0) {
            lt_sleep_ms(200);
            int fd = open("f2", reader_first ? O_WRONLY : O_RDONLY);
            if (fd < 0) _exit(2);
            if (reader_first) {
                _exit(write(fd, "y", 1) == 1 ? 0 : 3);
            }
            char c = 0;
            _exit(read(fd, &c, 1) == 1 && c == 'z' ? 0 : 4);
        }
        long t0 = lt_now_ms();
        int fd = open("f2", reader_first ? O_RDONLY : O_WRONLY);
        CHECK(fd >= 0);
        CHECK(lt_now_ms() - t0 >= 150);
        char c = 0;
        if (reader_first) {
            CHECK(read(fd, &c, 1) == 1 && c == 'y');
        } else {
            CHECK(write(fd, "z", 1) == 1);
        }
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_EXIT(st, 0);
        close(fd);
    }
    unlink("f2");
}

static void on_alarm(int sig) { (void)sig; }

/* A signal whose handler has no SA_RESTART ends a waiting open with EINTR. */
static void test_interrupted_open(void) {
    CHECK_OK(mkfifo("f3", 0600));
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    CHECK_OK(sigaction(SIGALRM, &sa, NULL));
    for (int i = 0; i < 2; i++) {
        alarm(1);
        long t0 = lt_now_ms();
        CHECK_ERR(open("f3", i ? O_WRONLY : O_RDONLY), EINTR);
        CHECK(lt_now_ms() - t0 >= 500);
    }
    /* The abandoned opens left no reader or writer behind. */
    CHECK_ERR(open("f3", O_WRONLY | O_NONBLOCK), ENXIO);
    unlink("f3");
}

/* O_RDWR opens at once with nobody else, reads back what it wrote, and counts as a reader
 * for a non-blocking writer. */
static void test_rdwr(void) {
    CHECK_OK(mkfifo("f4", 0600));
    int fd = open("f4", O_RDWR);
    CHECK(fd >= 0);
    CHECK(write(fd, "rw", 2) == 2);
    char b[2] = {0};
    CHECK(read(fd, b, 2) == 2 && b[0] == 'r' && b[1] == 'w');
    int w = open("f4", O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0);
    CHECK(revents(fd) == 0);
    close(w);
    close(fd);
    unlink("f4");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "fifo.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        printf("no scratch folder: %s\n", strerror(errno));
        return 1;
    }
    lt_sub("nonblock_reader", test_nonblock_reader, 10000);
    lt_sub("blocking_opens", test_blocking_opens, 10000);
    lt_sub("interrupted_open", test_interrupted_open, 10000);
    lt_sub("rdwr", test_rdwr, 10000);
    CHECK_OK(chdir(".."));
    CHECK_OK(rmdir(dir));
    DONE();
}
