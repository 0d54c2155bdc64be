/* mq_notify with SIGEV_THREAD: through the C library (which registers a netlink socket and a
 * cookie, and starts the thread when the kernel sends the cookie back), and the kernel's side
 * of it directly: the 32-byte cookie arrives on the netlink socket with its last byte 1
 * (NOTIFY_WOKENUP) when a message comes, 2 (NOTIFY_REMOVED) when the registration is
 * withdrawn; the status line shows NOTIFY:2; a socket that is not netlink is EINVAL, a file
 * that is no socket ENOTSOCK, a closed descriptor EBADF. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/netlink.h>
#include <mqueue.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define COOKIE 32

static volatile int called, called_val;

static void on_message(union sigval v) {
    called_val = v.sival_int;
    __atomic_store_n(&called, 1, __ATOMIC_SEQ_CST);
}

/* mq_notify without the C library's SIGEV_THREAD machinery. */
static long raw_notify(mqd_t q, int sock, void *cookie) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_signo = sock;
    ev.sigev_value.sival_ptr = cookie;
    return syscall(SYS_mq_notify, q, &ev);
}

static void status_of(mqd_t q, char *out, size_t cap) {
    memset(out, 0, cap);
    if (pread(q, out, cap - 1, 0) < 0)
        out[0] = 0;
}

int main(void) {
    const char *name = "/lintel-test-mq-thread";
    mq_unlink(name);
    struct mq_attr a = {0, 4, 64, 0, {0}};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    CHECK(q != (mqd_t)-1);
    char buf[64];

    /* Through the C library: a thread runs the function with the value. */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_message;
    ev.sigev_value.sival_int = 42;
    CHECK_OK(mq_notify(q, &ev));
    char st[128];
    status_of(q, st, sizeof st);
    CHECK(strstr(st, "NOTIFY:2     SIGNO:0     ") != NULL);
    CHECK_ERR(mq_notify(q, &ev), EBUSY);
    CHECK_OK(mq_send(q, "m", 1, 0));
    for (int i = 0; i < 400 && !__atomic_load_n(&called, __ATOMIC_SEQ_CST); i++)
        lt_sleep_ms(5);
    CHECK(called == 1 && called_val == 42);
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    status_of(q, st, sizeof st);
    CHECK(strstr(st, "NOTIFY:0     SIGNO:0     NOTIFY_PID:0 ") != NULL);

    /* The kernel's side: the cookie on a netlink socket. */
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    CHECK(nl >= 0);
    unsigned char cookie[COOKIE], got[64];
    for (int i = 0; i < COOKIE; i++)
        cookie[i] = (unsigned char)(0xa0 + i);
    CHECK_OK(raw_notify(q, nl, cookie));
    CHECK_ERR(recv(nl, got, sizeof got, MSG_DONTWAIT), EAGAIN);
    CHECK_OK(mq_send(q, "n", 1, 0));
    memset(got, 0, sizeof got);
    CHECK(recv(nl, got, sizeof got, MSG_DONTWAIT) == COOKIE);
    CHECK(memcmp(got, cookie, COOKIE - 1) == 0 && got[COOKIE - 1] == 1);
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
    /* Withdrawn: the cookie comes back marked removed. */
    CHECK_OK(raw_notify(q, nl, cookie));
    CHECK_OK(mq_notify(q, NULL));
    memset(got, 0, sizeof got);
    CHECK(recv(nl, got, sizeof got, MSG_DONTWAIT) == COOKIE);
    CHECK(memcmp(got, cookie, COOKIE - 1) == 0 && got[COOKIE - 1] == 2);
    CHECK_ERR(recv(nl, got, sizeof got, MSG_DONTWAIT), EAGAIN);
    CHECK_OK(mq_send(q, "o", 1, 0));
    CHECK_ERR(recv(nl, got, sizeof got, MSG_DONTWAIT), EAGAIN);
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);

    /* The socket must be a netlink one. */
    int sv[2], p[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECK_OK(pipe(p));
    CHECK_ERR(raw_notify(q, sv[0], cookie), EINVAL);
    CHECK_ERR(raw_notify(q, p[0], cookie), ENOTSOCK);
    CHECK_ERR(raw_notify(q, 999, cookie), EBADF);
    CHECK_ERR(raw_notify(q, nl, NULL), EFAULT);
    /* The sigevent is checked before the queue descriptor. */
    CHECK_ERR(raw_notify(p[0], 999, cookie), EBADF);
    CHECK_ERR(raw_notify(p[0], nl, cookie), EBADF);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
    close(nl);

    mq_close(q);
    CHECK_OK(mq_unlink(name));
    DONE();
}
