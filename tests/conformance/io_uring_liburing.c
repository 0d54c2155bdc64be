/* Debian's liburing (liburing.a from liburing-dev) driving Lintel's io_uring: a file copy in
 * the manner of liburing's io_uring-cp example (queue depth 16, READV/WRITEV of 16 KiB blocks,
 * short reads requeued), then a copy with registered buffers and files where each READ_FIXED is
 * linked to the WRITE_FIXED of the same block, with a linked FSYNC at the end; the copies must
 * be byte for byte the source, and each completion's result what Linux answers. Also a short
 * read that breaks its link (the write is cancelled), IORING_OP_NOP batches with
 * io_uring_submit_and_wait, the opcode probe, and the completion ring's overflow. */
// covers: io_uring_setup io_uring_enter io_uring_register
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <sys/stat.h>
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

int main(void) {
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
    unlink("src.bin");
    unlink("cp1.bin");
    unlink("cp2.bin");
    unlink("cp3.bin");
    DONE();
}
