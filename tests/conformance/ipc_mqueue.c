/* POSIX message queues: mq_open's names, flags, attributes and errors; priority order;
 * message and buffer sizes; full and empty queues (O_NONBLOCK, timeouts); notification by
 * signal (once, one process at a time); reading the status line; polling; a receiver in
 * another process; unlink while open. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/stat.h>

static volatile int got_sig, got_code, got_val, got_pid;
static void on_usr1(int s, siginfo_t *si, void *u) {
    (void)u;
    got_sig = s;
    got_code = si->si_code;
    got_val = si->si_value.sival_int;
    got_pid = si->si_pid;
}

static struct timespec soon(int ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms * 1000000L;
    while (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int main(void) {
    const char *name = "/lintel-test-mq";
    mq_unlink(name);
    struct mq_attr a = {0, 4, 64, 0, {0}};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    CHECK(q != (mqd_t)-1);
    CHECK_ERR(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a), EEXIST);
    CHECK_ERR(mq_open("/lintel-test-none", O_RDWR), ENOENT);
    CHECK_ERR(mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL), EACCES);
    struct mq_attr bad = {0, 0, 64, 0, {0}};
    CHECK_ERR(mq_open("/lintel-test-bad", O_CREAT | O_RDWR, 0600, &bad), EINVAL);
    bad.mq_maxmsg = 100000;
    CHECK_ERR(mq_open("/lintel-test-bad", O_CREAT | O_RDWR, 0600, &bad), EINVAL);

    struct mq_attr g;
    CHECK_OK(mq_getattr(q, &g));
    CHECK(g.mq_maxmsg == 4 && g.mq_msgsize == 64 && g.mq_curmsgs == 0 && g.mq_flags == 0);

    /* Highest priority first, then arrival order. */
    CHECK_OK(mq_send(q, "a", 1, 1));
    CHECK_OK(mq_send(q, "bb", 2, 5));
    CHECK_OK(mq_send(q, "c", 1, 1));
    char buf[64];
    unsigned prio = 99;
    CHECK(mq_receive(q, buf, sizeof buf, &prio) == 2 && prio == 5 && buf[0] == 'b');
    CHECK(mq_receive(q, buf, sizeof buf, &prio) == 1 && prio == 1 && buf[0] == 'a');
    CHECK(mq_receive(q, buf, sizeof buf, &prio) == 1 && prio == 1 && buf[0] == 'c');
    char big[65] = {0};
    CHECK_ERR(mq_send(q, big, 65, 0), EMSGSIZE);
    CHECK_ERR(mq_receive(q, buf, 63, NULL), EMSGSIZE);
    CHECK_ERR(mq_send(q, "x", 1, 32768), EINVAL);

    /* Full and empty queues. */
    struct timespec t = soon(30);
    CHECK_ERR(mq_timedreceive(q, buf, sizeof buf, NULL, &t), ETIMEDOUT);
    for (int i = 0; i < 4; i++)
        CHECK_OK(mq_send(q, "f", 1, 0));
    t = soon(30);
    CHECK_ERR(mq_timedsend(q, "f", 1, 0, &t), ETIMEDOUT);
    struct timespec inval = {0, 2000000000L};
    CHECK_ERR(mq_timedsend(q, "f", 1, 0, &inval), EINVAL);
    struct mq_attr nb = {O_NONBLOCK, 0, 0, 0, {0}}, old;
    CHECK_OK(mq_setattr(q, &nb, &old));
    CHECK(old.mq_flags == 0 && old.mq_curmsgs == 4);
    CHECK_ERR(mq_send(q, "f", 1, 0), EAGAIN);
    struct pollfd p = {q, POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
    /* Reading the queue's file gives its status line. */
    char status[128] = {0};
    CHECK(read(q, status, sizeof status - 1) > 0);
    CHECK(strncmp(status, "QSIZE:4 ", 8) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    CHECK_ERR(mq_receive(q, buf, sizeof buf, NULL), EAGAIN);
    nb.mq_flags = 0;
    CHECK_OK(mq_setattr(q, &nb, NULL));
    nb.mq_flags = O_NONBLOCK | O_APPEND;
    CHECK_ERR(mq_setattr(q, &nb, NULL), EINVAL);

    /* Notification: once, to one process. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 7;
    CHECK_OK(mq_notify(q, &ev));
    pid_t k = fork();
    if (k == 0)
        _exit(mq_notify(q, &ev) == -1 && errno == EBUSY ? 0 : 1);
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
    CHECK_OK(mq_send(q, "n", 1, 0));
    for (int i = 0; i < 100 && !got_sig; i++)
        lt_sleep_ms(5);
    CHECK(got_sig == SIGUSR1 && got_code == SI_MESGQ && got_val == 7 && got_pid == getpid());
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    got_sig = 0;
    CHECK_OK(mq_send(q, "n", 1, 0));
    lt_sleep_ms(20);
    CHECK(got_sig == 0); /* the registration ended with the first notification */
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    CHECK_OK(mq_notify(q, &ev));
    CHECK_OK(mq_notify(q, NULL));
    ev.sigev_signo = 99;
    CHECK_ERR(mq_notify(q, &ev), EINVAL);

    /* A receiver in another process, blocked until a message comes. */
    k = fork();
    if (k == 0) {
        mqd_t r = mq_open(name, O_RDONLY);
        char b[64];
        ssize_t n = mq_receive(r, b, sizeof b, NULL);
        _exit(n == 3 && memcmp(b, "xyz", 3) == 0 ? 0 : 1);
    }
    lt_sleep_ms(50);
    CHECK_OK(mq_send(q, "xyz", 3, 0));
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);

    /* Access modes, and unlink while open. */
    mqd_t w = mq_open(name, O_WRONLY);
    CHECK(w != (mqd_t)-1);
    CHECK_ERR(mq_receive(w, buf, sizeof buf, NULL), EBADF);
    CHECK_OK(mq_unlink(name));
    CHECK_ERR(mq_unlink(name), ENOENT);
    CHECK_OK(mq_send(w, "u", 1, 0));
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    mq_close(w);
    mq_close(q);
    DONE();
}
