/* Linux AIO (io_setup/io_submit/io_getevents/io_cancel/io_destroy): the completion ring in
 * Linux's layout (reaped from user space as libaio does), reads and writes (plain and
 * vectored) at offsets, fsync, polls that wait for their file, io_cancel of a poll, eventfd
 * notification, timeouts and the errors. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct ring {
    unsigned id, nr, head, tail, magic, compat, incompat, header_length;
    struct io_event events[];
};

static long setup(unsigned n, aio_context_t *c) { return syscall(SYS_io_setup, n, c); }
static long submit(aio_context_t c, long n, struct iocb **v) { return syscall(SYS_io_submit, c, n, v); }
static long getev(aio_context_t c, long mn, long n, struct io_event *e, struct timespec *t) {
    return syscall(SYS_io_getevents, c, mn, n, e, t);
}

static struct iocb cb(int op, int fd, void *buf, size_t n, long long off, uint64_t data) {
    struct iocb x;
    memset(&x, 0, sizeof x);
    x.aio_lio_opcode = op;
    x.aio_fildes = fd;
    x.aio_buf = (uintptr_t)buf;
    x.aio_nbytes = n;
    x.aio_offset = off;
    x.aio_data = data;
    return x;
}

int main(void) {
    aio_context_t ctx = 0;
    CHECK_ERR(setup(0, &ctx), EINVAL);
    aio_context_t bad = 1;
    CHECK_ERR(setup(4, &bad), EINVAL);
    CHECK_OK(setup(8, &ctx));
    CHECK(ctx != 0);
    struct ring *r = (struct ring *)ctx;
    CHECK(r->magic == 0xa10a10a1 && r->nr >= 8 && r->head == 0 && r->tail == 0);
    CHECK(r->header_length == sizeof(struct ring));

    char path[] = "/tmp/aio-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    struct iocb w = cb(IOCB_CMD_PWRITE, fd, "hello", 5, 10, 77), *v[2] = {&w};
    CHECK(submit(ctx, 1, v) == 1);
    struct io_event ev[4];
    CHECK(getev(ctx, 1, 4, ev, NULL) == 1);
    CHECK(ev[0].data == 77 && ev[0].obj == (uintptr_t)&w && ev[0].res == 5 && ev[0].res2 == 0);
    char buf[16] = {0};
    struct iocb rd = cb(IOCB_CMD_PREAD, fd, buf, sizeof buf, 8, 78);
    v[0] = &rd;
    CHECK(submit(ctx, 1, v) == 1);
    CHECK(getev(ctx, 1, 4, ev, NULL) == 1);
    CHECK(ev[0].res == 7 && memcmp(buf, "\0\0hello", 7) == 0);

    /* Vectored; reaped from the ring in user space, as libaio does. */
    char a[3] = "ab", b[4] = "cde";
    struct iovec iov[2] = {{a, 2}, {b, 3}};
    struct iocb wv = cb(IOCB_CMD_PWRITEV, fd, iov, 2, 0, 1);
    v[0] = &wv;
    CHECK(submit(ctx, 1, v) == 1);
    CHECK(r->tail - r->head == 1);
    CHECK(r->events[r->head].data == 1 && r->events[r->head].res == 5);
    r->head = r->tail;
    struct timespec zero = {0, 0};
    CHECK(getev(ctx, 0, 4, ev, &zero) == 0);
    CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "abcde", 5) == 0);
    /* fsync (Linux completes it from a worker: wait for it). */
    struct iocb fs = cb(IOCB_CMD_FSYNC, fd, 0, 0, 0, 2);
    v[0] = &fs;
    CHECK(submit(ctx, 1, v) == 1);
    CHECK(getev(ctx, 1, 4, ev, NULL) == 1 && ev[0].data == 2 && ev[0].res == 0);

    /* Errors at submission. */
    struct iocb nop = cb(IOCB_CMD_NOOP, fd, 0, 0, 0, 0);
    v[0] = &nop;
    CHECK_ERR(submit(ctx, 1, v), EINVAL);
    struct iocb badfd = cb(IOCB_CMD_PREAD, 999, buf, 1, 0, 0);
    v[0] = &badfd;
    CHECK_ERR(submit(ctx, 1, v), EBADF);
    int wo = open("/proc/self/stat", O_RDONLY);
    struct iocb ro = cb(IOCB_CMD_PWRITE, wo, "x", 1, 0, 0);
    v[0] = &ro;
    CHECK_ERR(submit(ctx, 1, v), EBADF);
    CHECK_ERR(submit(ctx + 4096, 1, v), EINVAL);
    CHECK_ERR(getev(ctx, 2, 1, ev, NULL), EINVAL);

    /* A poll waits for its file; eventfd notification. */
    int p[2];
    CHECK_OK(pipe(p));
    int efd = eventfd(0, EFD_NONBLOCK);
    struct iocb pl = cb(IOCB_CMD_POLL, p[0], (void *)(uintptr_t)POLLIN, 0, 0, 9);
    pl.aio_flags = IOCB_FLAG_RESFD;
    pl.aio_resfd = efd;
    v[0] = &pl;
    CHECK(submit(ctx, 1, v) == 1);
    struct timespec t = {0, 30 * 1000000};
    CHECK(getev(ctx, 1, 4, ev, &t) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(getev(ctx, 1, 4, ev, NULL) == 1);
    CHECK(ev[0].data == 9 && (ev[0].res & POLLIN));
    uint64_t n = 0;
    CHECK(read(efd, &n, 8) == 8 && n == 1);

    /* Cancelling a poll still waiting: EINPROGRESS, and its event comes with no events. */
    struct iocb pl2 = cb(IOCB_CMD_POLL, p[1] + 100, (void *)(uintptr_t)POLLIN, 0, 0, 10);
    v[0] = &pl2;
    CHECK_ERR(submit(ctx, 1, v), EBADF);
    int q[2];
    CHECK_OK(pipe(q));
    pl2 = cb(IOCB_CMD_POLL, q[0], (void *)(uintptr_t)POLLIN, 0, 0, 10);
    CHECK(submit(ctx, 1, v) == 1);
    struct io_event res;
    CHECK_ERR(syscall(SYS_io_cancel, ctx, &pl2, &res), EINPROGRESS);
    CHECK(getev(ctx, 1, 4, ev, NULL) == 1 && ev[0].data == 10 && ev[0].res == 0);
    CHECK_ERR(syscall(SYS_io_cancel, ctx, &pl2, &res), EINVAL);

    CHECK_OK(syscall(SYS_io_destroy, ctx));
    CHECK_ERR(syscall(SYS_io_destroy, ctx), EINVAL);
    DONE();
}
