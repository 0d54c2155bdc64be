/* io_uring_setup and io_uring_register: ring sizes, the offsets of the shared rings, the
 * mmaps, the errors, registration of files, buffers and an eventfd, the probe, and a NOP
 * round trip through the rings mapped by hand. */
// covers: io_uring_setup io_uring_enter io_uring_register
#define _GNU_SOURCE
#include "lintel_test.h"
#include "io_uring_ring.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/uio.h>

int main(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    CHECK_ERR(uring_setup(0, &p), EINVAL);
    CHECK_ERR(uring_setup(40000, &p), EINVAL);
    CHECK_ERR(uring_setup(4, (void *)8), EFAULT);
    p.resv[0] = 1;
    CHECK_ERR(uring_setup(4, &p), EINVAL);
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    CHECK_ERR(uring_setup(4, &p), EINVAL); /* cq_entries 0 */
    p.cq_entries = 2;
    CHECK_ERR(uring_setup(4, &p), EINVAL); /* fewer than the SQ */
    p.cq_entries = 5;
    int fd = uring_setup(3, &p);
    CHECK(fd >= 0);
    CHECK(p.sq_entries == 4 && p.cq_entries == 8);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    close(fd);
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CLAMP;
    fd = uring_setup(100000, &p);
    CHECK(fd >= 0 && p.sq_entries == 32768 && p.cq_entries == 65536);
    close(fd);
    /* Flags a kernel without the feature refuses (SQ_AFF without SQPOLL, ATTACH_WQ with no
     * ring to attach to). */
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SQ_AFF;
    CHECK_ERR(uring_setup(4, &p), EINVAL);
    memset(&p, 0, sizeof p);
    p.flags = 1u << 30;
    CHECK_ERR(uring_setup(4, &p), EINVAL);

    struct ring r;
    CHECK(ring_init(&r, 3, 0, 0) == 0);
    CHECK(r.p.sq_entries == 4 && r.p.cq_entries == 8);
    unsigned want = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE |
                    IORING_FEAT_RW_CUR_POS | IORING_FEAT_EXT_ARG;
    CHECK((r.p.features & want) == want);
    CHECK(*r.sq_mask == 3 && *r.cq_mask == 7);
    CHECK(*(unsigned *)(r.sq + r.p.sq_off.ring_entries) == 4);
    CHECK(*(unsigned *)(r.cq + r.p.cq_off.ring_entries) == 8);
    CHECK(*r.sq_head == 0 && *r.sq_tail == 0 && *r.cq_head == 0 && *r.cq_tail == 0);
    /* The array follows the CQEs. */
    CHECK(r.p.sq_off.array >= r.p.cq_off.cqes + 8 * sizeof(struct io_uring_cqe));
    /* SQ and CQ ring are the same pages (IORING_FEAT_SINGLE_MMAP). */
    CHECK(*(unsigned *)(r.cq + r.p.sq_off.ring_mask) == 3);

    /* /proc/self/fd names it. */
    char link[64], name[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", r.fd);
    ssize_t n = readlink(link, name, sizeof name - 1);
    CHECK(n > 0);
    if (n > 0) {
        name[n] = 0;
        CHECK(strcmp(name, "anon_inode:[io_uring]") == 0);
    }

    /* NOP round trip. */
    get_sqe(&r, IORING_OP_NOP, -1, 42);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(*r.sq_head == 1);
    CHECK(reap_res(&r, 42) == 0);
    CHECK(cq_ready(&r) == 0);
    /* Several, more than the SQ ring in two rounds. */
    for (int i = 0; i < 4; i++)
        get_sqe(&r, IORING_OP_NOP, -1, 100 + i);
    CHECK(submit(&r, 4, 4) == 4);
    for (int i = 0; i < 4; i++)
        CHECK(reap_res(&r, 100 + i) == 0);
    /* to_submit larger than what is queued submits what is there. */
    get_sqe(&r, IORING_OP_NOP, -1, 7);
    CHECK(submit(&r, 4, 0) == 1);
    CHECK(reap_res(&r, 7) == 0);
    /* An unknown opcode completes with EINVAL and ends the submission (it counts, what
     * follows stays queued and no waiting happens); unknown SQE flags too. */
    get_sqe(&r, 200, -1, 8);
    struct io_uring_sqe *s = get_sqe(&r, IORING_OP_NOP, -1, 9);
    s->flags = 0x80;
    CHECK(submit(&r, 2, 2) == 1);
    CHECK(reap_res(&r, 8) == -EINVAL);
    CHECK(cq_ready(&r) == 0);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 9) == -EINVAL);
    /* A bad field of a known opcode is refused the same way (a timeout's count of 2). */
    s = get_sqe(&r, IORING_OP_TIMEOUT, -1, 14);
    s->len = 2;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 14) == -EINVAL);
    /* An SQ array index past the SQEs is dropped: not submitted, counted in dropped. */
    get_sqe(&r, IORING_OP_NOP, -1, 10);
    r.sq_array[(r.local_tail - 1) & *r.sq_mask] = 1000;
    CHECK(submit(&r, 1, 0) == 0);
    CHECK(*(unsigned *)(r.sq + r.p.sq_off.dropped) == 1);
    CHECK(*r.sq_head == *r.sq_tail);
    CHECK(cq_ready(&r) == 0);

    /* io_uring_enter's errors. */
    CHECK_ERR(uring_enter(0, 0, 0, 0, 0, 0), EOPNOTSUPP);
    CHECK_ERR(uring_enter(999, 0, 0, 0, 0, 0), EBADF);
    CHECK_ERR(uring_enter(r.fd, 0, 0, 1u << 20, 0, 0), EINVAL);
    struct io_uring_getevents_arg ga;
    memset(&ga, 0, sizeof ga);
    CHECK_ERR(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &ga, 8),
              EINVAL);
    struct __kernel_timespec ts = {0, 20 * 1000 * 1000};
    ga.ts = (uint64_t)(uintptr_t)&ts;
    CHECK_ERR(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &ga,
                          sizeof ga),
              ETIME);
    /* min_complete 0 returns at once. */
    CHECK(uring_enter(r.fd, 0, 0, IORING_ENTER_GETEVENTS, 0, 8) == 0);

    /* Bad mmap offsets. */
    CHECK(mmap(0, 4096, PROT_READ, MAP_SHARED, r.fd, 0x20000000) == MAP_FAILED);

    /* Registration. */
    CHECK_ERR(uring_register(r.fd, IORING_UNREGISTER_BUFFERS, 0, 0), ENXIO);
    CHECK_ERR(uring_register(r.fd, IORING_UNREGISTER_FILES, 0, 0), ENXIO);
    CHECK_ERR(uring_register(r.fd, IORING_UNREGISTER_EVENTFD, 0, 0), ENXIO);
    CHECK_ERR(uring_register(r.fd, 9999, 0, 0), EINVAL);
    CHECK_ERR(uring_register(0, IORING_REGISTER_PROBE, 0, 0), EOPNOTSUPP);
    int fds[2] = {0, -1};
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES, fds, 0), EINVAL);
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_FILES, fds, 2));
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES, fds, 2), EBUSY);
    /* FILES_UPDATE: the count replaced, or the error when none was. */
    struct io_uring_files_update up;
    memset(&up, 0, sizeof up);
    int upd[2] = {1, -1};
    up.fds = (uintptr_t)upd;
    CHECK(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 2) == 2);
    up.offset = 1;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 2), EINVAL);
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 0), EINVAL);
    up.offset = 0;
    up.resv = 1;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 1), EINVAL);
    up.resv = 0;
    int upbad[2] = {IORING_REGISTER_FILES_SKIP, 999};
    up.fds = (uintptr_t)upbad;
    CHECK(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 2) == 1);
    upbad[0] = r.fd;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 2), EBADF);
    up.fds = 8;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 1), EFAULT);
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_FILES, 0, 0));
    up.fds = (uintptr_t)upd;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 1), ENXIO);
    int bad[1] = {r.fd};
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES, bad, 1), EBADF);
    bad[0] = 999;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_FILES, bad, 1), EBADF);
    static char buf[4096];
    struct iovec iov = {buf, sizeof buf};
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_BUFFERS, &iov, 1));
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_BUFFERS, &iov, 1), EBUSY);
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_BUFFERS, 0, 0));
    struct iovec bad_iov = {(void *)8, 4096};
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_BUFFERS, &bad_iov, 1), EFAULT);
    bad_iov.iov_base = buf;
    bad_iov.iov_len = 0;
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_BUFFERS, &bad_iov, 1), EFAULT);
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_EVENTFD, &efd, 2), EINVAL);
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_EVENTFD, &efd, 1));
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_EVENTFD, &efd, 1), EBUSY);
    get_sqe(&r, IORING_OP_NOP, -1, 11);
    CHECK(submit(&r, 1, 1) == 1);
    uint64_t v = 0;
    CHECK(read(efd, &v, 8) == 8 && v == 1);
    CHECK(reap_res(&r, 11) == 0);
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_EVENTFD, 0, 0));
    get_sqe(&r, IORING_OP_NOP, -1, 12);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(read(efd, &v, 8) == -1 && errno == EAGAIN);
    CHECK(reap_res(&r, 12) == 0);

    /* The probe. */
    struct {
        struct io_uring_probe p;
        struct io_uring_probe_op ops[64];
    } pr;
    memset(&pr, 0, sizeof pr);
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_PROBE, &pr, 64));
    CHECK(pr.p.last_op >= IORING_OP_RECV);
    CHECK(pr.p.ops_len > IORING_OP_RECV);
    CHECK(pr.ops[IORING_OP_NOP].flags & IO_URING_OP_SUPPORTED);
    CHECK(pr.ops[IORING_OP_READ].op == IORING_OP_READ &&
          (pr.ops[IORING_OP_READ].flags & IO_URING_OP_SUPPORTED));
    CHECK(pr.ops[IORING_OP_TIMEOUT].flags & IO_URING_OP_SUPPORTED);
    CHECK_ERR(uring_register(r.fd, IORING_REGISTER_PROBE, &pr, 64), EINVAL); /* not zeroed */

    /* The ring fd polls writable with an empty CQ, readable with completions. */
    struct pollfd pf = {r.fd, POLLIN | POLLOUT, 0};
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT);
    get_sqe(&r, IORING_OP_NOP, -1, 13);
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT));
    CHECK(reap_res(&r, 13) == 0);
    close(r.fd);

    /* No frames leak: 500 rings of 4096 entries (about 1.3 MiB each, more than the guest's
     * memory in all), each mapped, with a read waiting, then unmapped and closed; then 60
     * processes that exit with 8 such rings open each. */
    int pp[2];
    CHECK(pipe(pp) == 0);
    for (int i = 0; i < 500; i++) {
        struct ring big;
        if (ring_init(&big, 4096, 0, 0) != 0) {
            CHECK(!"ring_init");
            break;
        }
        s = get_sqe(&big, IORING_OP_READ, pp[0], 1);
        s->addr = (uintptr_t)buf;
        s->len = 1;
        CHECK(submit(&big, 1, 0) == 1);
        munmap(big.sq, big.p.sq_off.array + big.p.sq_entries * 4);
        munmap(big.cq, big.p.cq_off.cqes + big.p.cq_entries * sizeof(struct io_uring_cqe));
        munmap(big.sqes, big.p.sq_entries * sizeof(struct io_uring_sqe));
        close(big.fd);
    }
    for (int i = 0; i < 60; i++) {
        pid_t kid = fork();
        if (kid == 0) {
            for (int j = 0; j < 8; j++) {
                struct ring big;
                if (ring_init(&big, 4096, 0, 0) != 0)
                    _exit(1);
                s = get_sqe(&big, IORING_OP_READ, pp[0], 1);
                s->addr = (uintptr_t)buf;
                s->len = 1;
                if (submit(&big, 1, 0) != 1)
                    _exit(2);
            }
            _exit(0);
        }
        int st;
        CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    close(pp[0]);
    close(pp[1]);

    /* EMFILE when no descriptor is free, EFAULT when params cannot be written back: no
     * descriptor is left behind either way. */
    struct rlimit rl, low;
    getrlimit(RLIMIT_NOFILE, &rl);
    int probe = dup(0);
    close(probe);
    low = rl;
    low.rlim_cur = probe;
    setrlimit(RLIMIT_NOFILE, &low);
    memset(&p, 0, sizeof p);
    CHECK_ERR(uring_setup(4, &p), EMFILE);
    setrlimit(RLIMIT_NOFILE, &rl);
    void *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_ERR(uring_setup(4, ro), EFAULT);
    CHECK(dup(0) == probe);
    DONE();
}
