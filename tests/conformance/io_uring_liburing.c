/* Debian's liburing (liburing.a from liburing-dev) driving Lintel's io_uring: a file copy in
 * the manner of liburing's io_uring-cp example (queue depth 16, READV/WRITEV of 16 KiB blocks,
 * short reads requeued), then a copy with registered buffers and files where each READ_FIXED is
 * linked to the WRITE_FIXED of the same block, with a linked FSYNC at the end; the copies must
 * be byte for byte the source, and each completion's result what Linux answers. Also a short
 * read that breaks its link (the write is cancelled), IORING_OP_NOP batches with
 * io_uring_submit_and_wait, the opcode probe, the completion ring's overflow, and what an
 * event loop uses (a registered ring fd, a registered eventfd, waits with a timeout, OPENAT,
 * STATX and CLOSE), and the rules of registered ring fds. */
// covers: io_uring_setup io_uring_enter io_uring_register
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#ifndef STATX_SIZE /* musl without statx: the kernel header has the struct */
#include <linux/stat.h>
#endif
#include <sys/syscall.h>
#include <sys/uio.h>

#define QD 16
#define BS (16 * 1024)
/* Not a multiple of the block size: the last block is short. */
#define SIZE (1024 * 1024 + 4321)

static unsigned char src_data[SIZE];

/* FNV-1a of a file's contents, and its length through *len. */
static uint64_t file_hash(const char *path, long *len) {
    uint64_t h = 1469598103934665603ull;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    unsigned char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
        *len += n;
    }
    close(fd);
    return h;
}

static int same_as_source(const char *path) {
    long a, b;
    uint64_t ha = file_hash("src.bin", &a), hb = file_hash(path, &b);
    return a == SIZE && b == SIZE && ha == hb;
}

/* liburing's io_uring-cp: up to QD reads in flight; each completed read becomes a write of
 * what it got, a short read is requeued for the rest, and the loop ends when every byte is
 * written. */
struct io_data {
    int read;
    off_t first_offset, offset;
    size_t first_len;
    struct iovec iov;
};

static void queue_prepped(struct io_uring *ring, struct io_data *d, int in, int out) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (d->read)
        io_uring_prep_readv(sqe, in, &d->iov, 1, d->offset);
    else
        io_uring_prep_writev(sqe, out, &d->iov, 1, d->offset);
    io_uring_sqe_set_data(sqe, d);
}

static int queue_read(struct io_uring *ring, off_t size, off_t offset, int in) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) return 1;
    struct io_data *d = malloc(size + sizeof *d);
    if (!d) return 1;
    io_uring_prep_readv(sqe, in, &d->iov, 1, offset);
    d->read = 1;
    d->offset = d->first_offset = offset;
    d->iov.iov_base = d + 1;
    d->iov.iov_len = size;
    d->first_len = size;
    io_uring_sqe_set_data(sqe, d);
    return 0;
}

static void queue_write(struct io_uring *ring, struct io_data *d, int in, int out) {
    d->read = 0;
    d->offset = d->first_offset;
    d->iov.iov_base = d + 1;
    d->iov.iov_len = d->first_len;
    queue_prepped(ring, d, in, out);
    io_uring_submit(ring);
}

static void cp_example(void) {
    struct io_uring ring;
    CHECK(io_uring_queue_init(QD, &ring, 0) == 0);
    int in = open("src.bin", O_RDONLY), out = open("cp1.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(in >= 0 && out >= 0);
    off_t insize = SIZE, reads = insize, writes = insize, offset = 0;
    unsigned long read_cqes = 0, write_cqes = 0, max_inflight = 0;
    unsigned inflight = 0;
    int guard = 0;
    while ((reads || writes) && guard++ < 100000) {
        unsigned had = inflight;
        while (reads && inflight < QD) {
            off_t this = reads > BS ? BS : reads;
            if (queue_read(&ring, this, offset, in)) break;
            reads -= this;
            offset += this;
            inflight++;
        }
        if (had != inflight) CHECK(io_uring_submit(&ring) == (int)(inflight - had));
        if (inflight > max_inflight) max_inflight = inflight;
        int got_comp = 0;
        while (writes) {
            struct io_uring_cqe *cqe;
            int r = got_comp ? io_uring_peek_cqe(&ring, &cqe) : io_uring_wait_cqe(&ring, &cqe);
            if (r == -EAGAIN) break;
            if (r < 0) {
                CHECK(r == 0);
                goto out;
            }
            got_comp = 1;
            struct io_data *d = io_uring_cqe_get_data(cqe);
            if (cqe->res < 0) {
                printf("cqe res %d (%s)\n", cqe->res, strerror(-cqe->res));
                CHECK(cqe->res >= 0);
                goto out;
            }
            if ((size_t)cqe->res != d->iov.iov_len) {
                /* A short transfer: the rest again. */
                d->iov.iov_base = (char *)d->iov.iov_base + cqe->res;
                d->iov.iov_len -= cqe->res;
                d->offset += cqe->res;
                queue_prepped(&ring, d, in, out);
                io_uring_submit(&ring);
                io_uring_cqe_seen(&ring, cqe);
                continue;
            }
            if (d->read) {
                read_cqes++;
                queue_write(&ring, d, in, out);
                writes -= d->first_len;
            } else {
                write_cqes++;
                free(d);
                inflight--;
            }
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    /* The writes still in flight. */
    while (inflight) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&ring, &cqe) < 0) break;
        struct io_data *d = io_uring_cqe_get_data(cqe);
        CHECK(cqe->res == (int)d->iov.iov_len && !d->read);
        write_cqes++;
        free(d);
        io_uring_cqe_seen(&ring, cqe);
        inflight--;
    }
out:
    /* 64 full blocks and a short one; QD reads were in flight at once. */
    CHECK(read_cqes == SIZE / BS + 1);
    CHECK(write_cqes == SIZE / BS + 1);
    CHECK(max_inflight == QD);
    close(in);
    close(out);
    io_uring_queue_exit(&ring);
    CHECK(same_as_source("cp1.bin"));
}

/* READ_FIXED linked to WRITE_FIXED through registered buffers and registered files, four
 * blocks (eight requests) in flight, then FSYNC linked after the last write. */
static void cp_linked_fixed(void) {
    enum { PAIRS = 4 };
    struct io_uring ring;
    CHECK(io_uring_queue_init(2 * PAIRS, &ring, 0) == 0);
    int in = open("src.bin", O_RDONLY), out = open("cp2.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(in >= 0 && out >= 0);
    int fds[2] = {in, out};
    CHECK(io_uring_register_files(&ring, fds, 2) == 0);
    static char bufs[PAIRS][BS];
    struct iovec iov[PAIRS];
    for (int i = 0; i < PAIRS; i++) iov[i] = (struct iovec){bufs[i], BS};
    CHECK(io_uring_register_buffers(&ring, iov, PAIRS) == 0);

    const int blocks = SIZE / BS + 1;
    int next = 0, done = 0, bad = 0;
    int slot_block[PAIRS];
    int free_slots = PAIRS;
    int slot_free[PAIRS] = {1, 1, 1, 1};
    while (done < blocks && !bad) {
        int queued = 0;
        for (int s = 0; s < PAIRS && next < blocks; s++) {
            if (!slot_free[s]) continue;
            off_t off = (off_t)next * BS;
            unsigned len = off + BS > SIZE ? SIZE - off : BS;
            struct io_uring_sqe *r = io_uring_get_sqe(&ring);
            struct io_uring_sqe *w = io_uring_get_sqe(&ring);
            if (!r || !w) {
                CHECK(r && w);
                bad = 1;
                break;
            }
            io_uring_prep_read_fixed(r, 0, bufs[s], len, off, s);
            r->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
            io_uring_sqe_set_data64(r, (uint64_t)s << 1);
            io_uring_prep_write_fixed(w, 1, bufs[s], len, off, s);
            w->flags |= IOSQE_FIXED_FILE;
            io_uring_sqe_set_data64(w, (uint64_t)s << 1 | 1);
            slot_free[s] = 0;
            slot_block[s] = next++;
            free_slots--;
            queued += 2;
        }
        if (queued) CHECK(io_uring_submit(&ring) == queued);
        /* Both completions of at least one pair. */
        int got = 0;
        while (got < 2 && !bad) {
            struct io_uring_cqe *cqe;
            if (io_uring_wait_cqe(&ring, &cqe)) {
                bad = 1;
                break;
            }
            int s = cqe->user_data >> 1, is_write = cqe->user_data & 1;
            off_t off = (off_t)slot_block[s] * BS;
            int want = off + BS > SIZE ? SIZE - off : BS;
            if (cqe->res != want) {
                printf("block %d %s: res %d, expected %d\n", slot_block[s],
                       is_write ? "write" : "read", cqe->res, want);
                CHECK(cqe->res == want);
                bad = 1;
            }
            io_uring_cqe_seen(&ring, cqe);
            if (is_write) {
                slot_free[s] = 1;
                free_slots++;
                done++;
                got = 2;
            }
        }
    }
    CHECK(done == blocks && free_slots == PAIRS);

    /* The write, then an fsync that runs only after it (a link), both on registered files. */
    struct io_uring_sqe *w = io_uring_get_sqe(&ring);
    io_uring_prep_write(w, 1, "tail", 4, SIZE);
    w->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    io_uring_sqe_set_data64(w, 100);
    struct io_uring_sqe *f = io_uring_get_sqe(&ring);
    io_uring_prep_fsync(f, 1, IORING_FSYNC_DATASYNC);
    f->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(f, 101);
    CHECK(io_uring_submit_and_wait(&ring, 2) == 2);
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe *cqe;
        CHECK(io_uring_peek_cqe(&ring, &cqe) == 0);
        CHECK(cqe->user_data == (uint64_t)100 + i);
        CHECK(cqe->res == (i == 0 ? 4 : 0));
        io_uring_cqe_seen(&ring, cqe);
    }
    CHECK(ftruncate(out, SIZE) == 0);
    CHECK(io_uring_unregister_buffers(&ring) == 0);
    CHECK(io_uring_unregister_files(&ring) == 0);
    /* Unregistered: a fixed read now fails with EFAULT (no buffers) on the plain fd. */
    struct io_uring_sqe *r = io_uring_get_sqe(&ring);
    io_uring_prep_read_fixed(r, in, bufs[0], 16, 0, 0);
    CHECK(io_uring_submit(&ring) == 1);
    struct io_uring_cqe *cqe;
    CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    CHECK(cqe->res == -EFAULT);
    io_uring_cqe_seen(&ring, cqe);
    close(in);
    close(out);
    io_uring_queue_exit(&ring);
    CHECK(same_as_source("cp2.bin"));
}

/* A read that comes back short breaks its link: the linked write is cancelled, and so is a
 * request linked after that. */
static void short_read_breaks_link(void) {
    struct io_uring ring;
    CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    int in = open("src.bin", O_RDONLY), out = open("cp3.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    static char buf[100];
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, in, buf, sizeof buf, SIZE - 10);
    s->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(s, 1);
    s = io_uring_get_sqe(&ring);
    io_uring_prep_write(s, out, buf, sizeof buf, 0);
    s->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(s, 2);
    s = io_uring_get_sqe(&ring);
    io_uring_prep_nop(s);
    io_uring_sqe_set_data64(s, 3);
    CHECK(io_uring_submit_and_wait(&ring, 3) == 3);
    int want[3] = {10, -ECANCELED, -ECANCELED};
    for (int i = 0; i < 3; i++) {
        struct io_uring_cqe *cqe;
        CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        CHECK(cqe->user_data == (uint64_t)i + 1);
        if (cqe->res != want[i]) printf("cqe %d: res %d, expected %d\n", i + 1, cqe->res, want[i]);
        CHECK(cqe->res == want[i]);
        io_uring_cqe_seen(&ring, cqe);
    }
    CHECK(memcmp(buf, src_data + SIZE - 10, 10) == 0);
    struct stat st;
    CHECK(fstat(out, &st) == 0 && st.st_size == 0);
    close(in);
    close(out);
    io_uring_queue_exit(&ring);
}

/* Batches of NOPs through submit_and_wait and the batch peek; more completions than the
 * completion ring holds are kept (IORING_FEAT_NODROP) and all arrive. */
static void nops_and_overflow(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    struct io_uring ring;
    CHECK(io_uring_queue_init_params(8, &ring, &p) == 0);
    CHECK(p.features & IORING_FEAT_NODROP);
    CHECK(p.sq_entries == 8 && p.cq_entries == 16);
    unsigned long sum = 0, seen = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 8; i++) {
            struct io_uring_sqe *s = io_uring_get_sqe(&ring);
            io_uring_prep_nop(s);
            io_uring_sqe_set_data64(s, round * 8 + i + 1);
        }
        CHECK(io_uring_submit(&ring) == 8);
    }
    /* 32 completions for a ring of 16. */
    while (seen < 32) {
        struct io_uring_cqe *cqes[8];
        unsigned n = io_uring_peek_batch_cqe(&ring, cqes, 8);
        if (n == 0) {
            struct io_uring_cqe *c;
            if (io_uring_wait_cqe(&ring, &c)) break;
            continue;
        }
        for (unsigned i = 0; i < n; i++) {
            CHECK(cqes[i]->res == 0);
            sum += cqes[i]->user_data;
        }
        io_uring_cq_advance(&ring, n);
        seen += n;
    }
    CHECK(seen == 32 && sum == 32 * 33 / 2);
    io_uring_queue_exit(&ring);
}

/* The opcode probe liburing programs check before they use an opcode. */
static void probe(void) {
    struct io_uring_probe *pr = io_uring_get_probe();
    CHECK(pr != NULL);
    if (!pr) return;
    int ops[] = {IORING_OP_NOP, IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ_FIXED,
                 IORING_OP_WRITE_FIXED, IORING_OP_FSYNC, IORING_OP_READ, IORING_OP_WRITE,
                 IORING_OP_TIMEOUT, IORING_OP_LINK_TIMEOUT, IORING_OP_ASYNC_CANCEL};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!io_uring_opcode_supported(pr, ops[i])) printf("opcode %d not supported\n", ops[i]);
        CHECK(io_uring_opcode_supported(pr, ops[i]));
    }
    io_uring_free_probe(pr);
}

/* What an event loop on liburing uses: a registered ring fd (io_uring_enter by index from
 * then on), completions signalled on a registered eventfd, waiting with a timeout
 * (IORING_ENTER_EXT_ARG), and OPENAT, STATX, READ and CLOSE requests. */
static void event_loop(void) {
    struct io_uring ring;
    CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    CHECK(io_uring_register_ring_fd(&ring) == 1);
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK(efd >= 0);
    CHECK(io_uring_register_eventfd(&ring, efd) == 0);

    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts = {0, 50 * 1000000};
    long t0 = lt_now_ms();
    CHECK(io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == -ETIME);
    CHECK(lt_now_ms() - t0 >= 40);
    uint64_t n = 0;
    CHECK(read(efd, &n, sizeof n) == -1 && errno == EAGAIN);

    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    io_uring_prep_openat(s, AT_FDCWD, "src.bin", O_RDONLY, 0);
    io_uring_sqe_set_data64(s, 1);
    static struct statx stx;
    s = io_uring_get_sqe(&ring);
    io_uring_prep_statx(s, AT_FDCWD, "src.bin", 0, STATX_SIZE, &stx);
    io_uring_sqe_set_data64(s, 2);
    CHECK(io_uring_submit_and_wait(&ring, 2) == 2);
    int fd = -1;
    for (int i = 0; i < 2; i++) {
        CHECK(io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0);
        if (cqe->user_data == 1) fd = cqe->res;
        else CHECK(cqe->user_data == 2 && cqe->res == 0);
        io_uring_cqe_seen(&ring, cqe);
    }
    CHECK(fd >= 0 && stx.stx_size == SIZE);
    CHECK(read(efd, &n, sizeof n) == sizeof n && n >= 1);

    static char buf[64];
    s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, fd, buf, sizeof buf, 1000);
    s->flags |= IOSQE_IO_LINK;
    s = io_uring_get_sqe(&ring);
    io_uring_prep_close(s, fd);
    CHECK(io_uring_submit_and_wait(&ring, 2) == 2);
    for (int i = 0; i < 2; i++) {
        CHECK(io_uring_peek_cqe(&ring, &cqe) == 0);
        CHECK(cqe->res == (i == 0 ? (int)sizeof buf : 0));
        io_uring_cqe_seen(&ring, cqe);
    }
    CHECK(memcmp(buf, src_data + 1000, sizeof buf) == 0);
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    CHECK(io_uring_unregister_eventfd(&ring) == 0);
    CHECK(io_uring_unregister_ring_fd(&ring) == 1);
    /* Through the plain fd again. */
    s = io_uring_get_sqe(&ring);
    io_uring_prep_nop(s);
    CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    close(efd);
    io_uring_queue_exit(&ring);
}

static long reg_rings(int fd, unsigned op, struct io_uring_rsrc_update *u, unsigned n) {
    return syscall(__NR_io_uring_register, fd, op, u, n);
}

static long enter_slot(unsigned slot, unsigned flags) {
    return syscall(__NR_io_uring_enter, slot, 0, 0, flags | IORING_ENTER_REGISTERED_RING, NULL, 0);
}

/* IORING_REGISTER_RING_FDS by hand: chosen and given slots, the write-back, EBUSY, EINVAL,
 * EOPNOTSUPP, EBADF, a partial batch; a registered ring outlives its fd; io_uring_register
 * by slot; the table is the thread's own (a child has none, so EINVAL), and unregistering
 * empties slots. */
static void ring_fd_rules(void) {
    struct io_uring ring;
    CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    int rfd = ring.ring_fd;
    struct io_uring_rsrc_update u = {.offset = 3, .data = rfd};
    CHECK(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1) == 1 && u.offset == 3);
    u = (struct io_uring_rsrc_update){.offset = 3, .data = rfd};
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1), EBUSY);
    u.offset = 16;
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1), EINVAL);
    u = (struct io_uring_rsrc_update){.offset = -1U, .resv = 1, .data = rfd};
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1), EINVAL);
    int efd = eventfd(0, 0);
    u = (struct io_uring_rsrc_update){.offset = -1U, .data = efd};
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1), EOPNOTSUPP);
    u.data = 999;
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1), EBADF);
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 0), EINVAL);
    CHECK_ERR(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 17), EINVAL);
    struct io_uring_rsrc_update two[2] = {{.offset = -1U, .data = rfd}, {.offset = 16, .data = rfd}};
    CHECK(reg_rings(rfd, IORING_REGISTER_RING_FDS, two, 2) == 1 && two[0].offset == 0);

    /* A dup registered in slot 5 and closed: the slot still holds the ring. */
    int d = dup(rfd);
    u = (struct io_uring_rsrc_update){.offset = 5, .data = d};
    CHECK(reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1) == 1);
    close(d);
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    io_uring_prep_nop(s);
    CHECK(io_uring_submit(&ring) == 1);
    CHECK(enter_slot(5, IORING_ENTER_GETEVENTS) == 0);
    CHECK(io_uring_cq_ready(&ring) == 1);
    io_uring_cq_advance(&ring, 1);
    CHECK_ERR(enter_slot(6, 0), EBADF);
    CHECK_ERR(enter_slot(16, 0), EINVAL);
    /* io_uring_register by slot (IORING_REGISTER_USE_REGISTERED_RING). */
    CHECK(syscall(__NR_io_uring_register, 5, IORING_REGISTER_EVENTFD | (1U << 31), &efd, 1) == 0);
    CHECK(syscall(__NR_io_uring_register, 5, IORING_UNREGISTER_EVENTFD | (1U << 31), NULL, 0) == 0);
    CHECK_ERR(syscall(__NR_io_uring_register, 6, IORING_UNREGISTER_EVENTFD | (1U << 31), NULL, 0),
              EBADF);

    pid_t c = fork();
    if (c == 0) {
        errno = 0;
        if (enter_slot(5, 0) != -1 || errno != EINVAL) _exit(1);
        struct io_uring_rsrc_update cu = {.offset = 5};
        if (reg_rings(rfd, IORING_UNREGISTER_RING_FDS, &cu, 1) != 0) _exit(2);
        cu = (struct io_uring_rsrc_update){.offset = -1U, .data = rfd};
        if (reg_rings(rfd, IORING_REGISTER_RING_FDS, &cu, 1) != 1 || cu.offset != 0) _exit(3);
        errno = 0;
        if (enter_slot(5, 0) != -1 || errno != EBADF) _exit(4);
        _exit(enter_slot(0, 0) == 0 ? 0 : 5);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    /* The child's registration was its own. */
    CHECK(enter_slot(5, 0) == 0);
    /* exec ends the thread's io_uring context, registered rings and all (EINVAL). */
    c = fork();
    if (c == 0) {
        u = (struct io_uring_rsrc_update){.offset = 2, .data = rfd};
        if (reg_rings(rfd, IORING_REGISTER_RING_FDS, &u, 1) != 1 || enter_slot(2, 0) != 0) _exit(1);
        execl("/proc/self/exe", "io_uring_liburing", "--after-exec", (char *)NULL);
        _exit(2);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);

    struct io_uring_rsrc_update un[3] = {{.offset = 3}, {.offset = 5}, {.offset = 0}};
    CHECK(reg_rings(rfd, IORING_UNREGISTER_RING_FDS, un, 3) == 3);
    CHECK_ERR(enter_slot(3, 0), EBADF);
    CHECK_ERR(enter_slot(5, 0), EBADF);
    un[0] = (struct io_uring_rsrc_update){.offset = 1, .data = 1};
    CHECK_ERR(reg_rings(rfd, IORING_UNREGISTER_RING_FDS, un, 1), EINVAL);
    un[0] = (struct io_uring_rsrc_update){.offset = 16};
    CHECK_ERR(reg_rings(rfd, IORING_UNREGISTER_RING_FDS, un, 1), EINVAL);
    close(efd);
    io_uring_queue_exit(&ring);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--after-exec") == 0) {
        errno = 0;
        return enter_slot(2, 0) == -1 && errno == EINVAL ? 0 : 3;
    }
    for (long i = 0; i < SIZE; i++) src_data[i] = (unsigned char)(i * 131 + (i >> 9));
    int fd = open("src.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, src_data, SIZE) == SIZE);
    close(fd);
    lt_sub("cp_example", cp_example, 20000);
    lt_sub("cp_linked_fixed", cp_linked_fixed, 20000);
    lt_sub("short_read_breaks_link", short_read_breaks_link, 10000);
    lt_sub("nops_and_overflow", nops_and_overflow, 10000);
    lt_sub("probe", probe, 10000);
    lt_sub("event_loop", event_loop, 10000);
    lt_sub("ring_fd_rules", ring_fd_rules, 10000);
    unlink("src.bin");
    unlink("cp1.bin");
    unlink("cp2.bin");
    unlink("cp3.bin");
    DONE();
}
