/* A minimal io_uring user side with raw system calls (no liburing): setup, the three mmaps,
 * getting an SQE, submitting and reaping CQEs. */
#ifndef IO_URING_RING_H
#define IO_URING_RING_H
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ring {
    int fd;
    struct io_uring_params p;
    unsigned char *sq, *cq;
    struct io_uring_sqe *sqes;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned local_tail;
};

static inline long uring_setup(unsigned n, struct io_uring_params *p) {
    return syscall(SYS_io_uring_setup, n, p);
}
static inline long uring_enter(int fd, unsigned sub, unsigned min, unsigned flags, void *sig, size_t sz) {
    return syscall(SYS_io_uring_enter, fd, sub, min, flags, sig, sz);
}
static inline long uring_register(int fd, unsigned op, void *arg, unsigned n) {
    return syscall(SYS_io_uring_register, fd, op, arg, n);
}

static inline int ring_init(struct ring *r, unsigned entries, unsigned flags, unsigned cq) {
    memset(r, 0, sizeof *r);
    r->p.flags = flags;
    r->p.cq_entries = cq;
    r->fd = uring_setup(entries, &r->p);
    if (r->fd < 0)
        return -1;
    size_t sqsz = r->p.sq_off.array + r->p.sq_entries * 4;
    size_t cqsz = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
    r->sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                 IORING_OFF_SQ_RING);
    r->cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                 IORING_OFF_CQ_RING);
    r->sqes = mmap(0, r->p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sq == MAP_FAILED || r->cq == MAP_FAILED || r->sqes == MAP_FAILED)
        return -1;
    r->sq_head = (unsigned *)(r->sq + r->p.sq_off.head);
    r->sq_tail = (unsigned *)(r->sq + r->p.sq_off.tail);
    r->sq_mask = (unsigned *)(r->sq + r->p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(r->sq + r->p.sq_off.array);
    r->sq_flags = (unsigned *)(r->sq + r->p.sq_off.flags);
    r->cq_head = (unsigned *)(r->cq + r->p.cq_off.head);
    r->cq_tail = (unsigned *)(r->cq + r->p.cq_off.tail);
    r->cq_mask = (unsigned *)(r->cq + r->p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(r->cq + r->p.cq_off.cqes);
    r->local_tail = *r->sq_tail;
    return 0;
}

/* A zeroed SQE for `op`, queued (not yet submitted). */
static inline struct io_uring_sqe *get_sqe(struct ring *r, int op, int fd, uint64_t data) {
    unsigned idx = r->local_tail & *r->sq_mask;
    struct io_uring_sqe *s = &r->sqes[idx];
    memset(s, 0, sizeof *s);
    s->opcode = op;
    s->fd = fd;
    s->user_data = data;
    r->sq_array[idx] = idx;
    r->local_tail++;
    __atomic_store_n(r->sq_tail, r->local_tail, __ATOMIC_RELEASE);
    return s;
}

/* Submits what was queued and waits for `min` completions. */
static inline long submit(struct ring *r, unsigned n, unsigned min) {
    return uring_enter(r->fd, n, min, min ? IORING_ENTER_GETEVENTS : 0, 0, 8);
}

static inline unsigned cq_ready(struct ring *r) {
    return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) - *r->cq_head;
}

/* Takes the next CQE (0 when there is none). */
static inline int reap(struct ring *r, struct io_uring_cqe *out) {
    if (!cq_ready(r))
        return 0;
    *out = r->cqes[*r->cq_head & *r->cq_mask];
    __atomic_store_n(r->cq_head, *r->cq_head + 1, __ATOMIC_RELEASE);
    return 1;
}

/* Reaps one CQE and returns its res, or -1000 when none; checks its user_data. */
static inline int reap_res(struct ring *r, uint64_t data) {
    struct io_uring_cqe c;
    if (!reap(r, &c))
        return -1000;
    if (c.user_data != data)
        return -2000 - (int)c.user_data;
    return c.res;
}
#endif
