/* Stress: two threads per CPU (each pinned to one of the CPUs sched_getaffinity gives) change
 * one address space at the same time, a fixed number of rounds each. Every round a thread maps
 * fresh private pages in its own window (they must read as zeros, never another thread's or
 * an earlier round's bytes), fills and checks them, takes write and then all access away with
 * mprotect (writes and reads must fault), gives it back (the bytes must have survived), writes
 * and re-reads its page of a shared memfd through two separate mappings, adds to counters on a
 * shared page that one thread keeps making read-only (a faulting add is retried, so the sums
 * must come out exact), peeks at a neighbour's window (it must fault or show zeros or the
 * neighbour's own tag, never a freed frame reused by someone else) and finally unmaps its
 * pages (they must fault). No thread maps anything at an address of the kernel's choosing
 * while the others run, so a hole left by munmap stays a hole. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096
#define ROUNDS 40
#define MAXT 32
#define WPAGES 4 /* per thread: 2 private pages, 1 memfd page, 1 spare */
#define WORDS (PG / 4)
#define NCOUNTERS 8

static int nthreads;
static int cpus[MAXT];
static int ncpu;
static char *windows;          /* nthreads * WPAGES pages, reserved PROT_NONE */
static atomic_uint *counters;  /* a shared page, toggled read-only by thread 0 */
static int memfd;
static pthread_barrier_t start;
static atomic_int errors;

struct result {
    long faults_expected, faults_seen, add_retries, peeks;
};
static struct result results[MAXT];

static __thread sigjmp_buf tl_jb;
static __thread volatile int tl_armed;

static void on_segv(int sig) {
    if (!tl_armed) {
        /* Not a fault we asked for: die of it (the default action) on return. */
        signal(sig, SIG_DFL);
        return;
    }
    tl_armed = 0;
    siglongjmp(tl_jb, 1);
}

static void fail(int t, int round, const char *what, uintptr_t addr, unsigned got, unsigned want) {
    printf("thread %d round %d: %s at %#lx: got %#x, expected %#x\n", t, round, what,
           (unsigned long)addr, got, want);
    atomic_fetch_add(&errors, 1);
}

/* Reads *p; returns 0 if that faulted. */
static int probe_read(volatile unsigned *p, unsigned *out) {
    if (sigsetjmp(tl_jb, 1)) return 0;
    tl_armed = 1;
    atomic_signal_fence(memory_order_seq_cst);
    unsigned v = *p;
    atomic_signal_fence(memory_order_seq_cst);
    tl_armed = 0;
    *out = v;
    return 1;
}

/* Writes v to *p; returns 0 if that faulted. */
static int probe_write(volatile unsigned *p, unsigned v) {
    if (sigsetjmp(tl_jb, 1)) return 0;
    tl_armed = 1;
    atomic_signal_fence(memory_order_seq_cst);
    *p = v;
    atomic_signal_fence(memory_order_seq_cst);
    tl_armed = 0;
    return 1;
}

/* Adds 1 to a counter, again after each fault (the page is read-only for a moment). */
static long add_retrying(atomic_uint *c) {
    /* volatile: it changes in the loop around sigsetjmp, and a local changed across a
     * sigsetjmp has no defined value after the siglongjmp back. */
    volatile long retries = 0;
    for (;;) {
        if (sigsetjmp(tl_jb, 1) == 0) {
            tl_armed = 1;
            atomic_signal_fence(memory_order_seq_cst);
            atomic_fetch_add(c, 1);
            atomic_signal_fence(memory_order_seq_cst);
            tl_armed = 0;
            return retries;
        }
        retries++;
        if (retries % 64 == 0) sched_yield();
    }
}

static unsigned tag(int t, int round, int word) {
    return ((unsigned)(t + 1) << 24) | ((unsigned)(round & 0xfff) << 12) | (unsigned)word;
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    struct result *r = &results[t];
    if (ncpu > 1) lt_pin(cpus[t % ncpu]);
    char *w = windows + (size_t)t * WPAGES * PG;
    char *nw = windows + (size_t)((t + 1) % nthreads) * WPAGES * PG;
    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS; round++) {
        /* Fresh private pages read as zeros. */
        volatile unsigned *p = mmap(w, 2 * PG, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != (void *)w) {
            fail(t, round, "mmap", (uintptr_t)w, 0, 0);
            break;
        }
        for (int i = 0; i < 2 * WORDS; i++) {
            if (p[i] != 0) {
                fail(t, round, "fresh page not zero", (uintptr_t)&p[i], p[i], 0);
                break;
            }
        }
        for (int i = 0; i < 2 * WORDS; i++) p[i] = tag(t, round, i % WORDS);
        /* Read-only: the bytes stay, a write faults. */
        if (mprotect((void *)p, 2 * PG, PROT_READ) != 0) fail(t, round, "mprotect RO", (uintptr_t)p, errno, 0);
        for (int i = 0; i < 2 * WORDS; i += 7) {
            if (p[i] != tag(t, round, i % WORDS)) {
                fail(t, round, "read-only page changed", (uintptr_t)&p[i], p[i], tag(t, round, i % WORDS));
                break;
            }
        }
        r->faults_expected++;
        if (!probe_write(&p[round % WORDS], 1)) r->faults_seen++;
        else fail(t, round, "write to a read-only page did not fault", (uintptr_t)p, 0, 0);
        /* No access on the second page: a read faults; access back, bytes intact. */
        volatile unsigned *p2 = p + WORDS;
        if (mprotect((void *)p2, PG, PROT_NONE) != 0) fail(t, round, "mprotect NONE", (uintptr_t)p2, errno, 0);
        unsigned v;
        r->faults_expected++;
        if (!probe_read(&p2[round % WORDS], &v)) r->faults_seen++;
        else fail(t, round, "read of a PROT_NONE page did not fault", (uintptr_t)p2, v, 0);
        if (mprotect((void *)p, 2 * PG, PROT_READ | PROT_WRITE) != 0) fail(t, round, "mprotect RW", (uintptr_t)p, errno, 0);
        for (int i = 0; i < WORDS; i++) {
            if (p2[i] != tag(t, round, i)) {
                fail(t, round, "page changed under PROT_NONE", (uintptr_t)&p2[i], p2[i], tag(t, round, i));
                break;
            }
        }
        p[0] = tag(t, round, 0) ^ 0x800;

        /* The thread's memfd page, written through one mapping, read through another. */
        char *fa = w + 2 * PG;
        volatile unsigned *f = mmap(fa, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd,
                                    (off_t)t * PG);
        if (f != (void *)fa) {
            fail(t, round, "mmap memfd", (uintptr_t)fa, errno, 0);
        } else {
            for (int i = 0; i < WORDS; i++) f[i] = tag(t, round, i);
            munmap((void *)f, PG);
            f = mmap(fa, PG, PROT_READ, MAP_SHARED | MAP_FIXED, memfd, (off_t)t * PG);
            if (f != (void *)fa) {
                fail(t, round, "mmap memfd again", (uintptr_t)fa, errno, 0);
            } else {
                for (int i = 0; i < WORDS; i++) {
                    if (f[i] != tag(t, round, i)) {
                        fail(t, round, "memfd page lost a write", (uintptr_t)&f[i], f[i], tag(t, round, i));
                        break;
                    }
                }
                munmap((void *)f, PG);
            }
        }

        /* Shared counters, made read-only for a moment by thread 0. */
        if (t == 0 && round % 3 == 0) {
            mprotect(counters, PG, PROT_READ);
            sched_yield();
            mprotect(counters, PG, PROT_READ | PROT_WRITE);
        }
        r->add_retries += add_retrying(&counters[(t + round) % NCOUNTERS]);

        /* The neighbour's first page: a fault, zeros, or the neighbour's own tag. */
        if (nthreads > 1) {
            unsigned nt = (unsigned)((t + 1) % nthreads) + 1;
            for (int i = 0; i < WORDS; i += 257) {
                if (probe_read((volatile unsigned *)nw + i, &v)) {
                    r->peeks++;
                    if (v != 0 && (v >> 24) != nt) {
                        fail(t, round, "neighbour page shows a stranger's bytes", (uintptr_t)nw, v, nt << 24);
                        break;
                    }
                }
            }
        }

        /* Gone: reads fault. */
        if (munmap((void *)p, 2 * PG) != 0) fail(t, round, "munmap", (uintptr_t)p, errno, 0);
        r->faults_expected++;
        if (!probe_read(&p[WORDS + round % WORDS], &v)) r->faults_seen++;
        else fail(t, round, "read of an unmapped page did not fault", (uintptr_t)p, v, 0);
    }
    return 0;
}

static void stress(void) {
    ncpu = lt_cpus(cpus, MAXT / 2);
    nthreads = 2 * ncpu;
    printf("%d CPUs, %d threads, %d rounds each\n", ncpu, nthreads, ROUNDS);
    fflush(stdout);

    struct sigaction sa = {0};
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    CHECK_OK(sigaction(SIGSEGV, &sa, 0));
    CHECK_OK(sigaction(SIGBUS, &sa, 0));

    windows = mmap(0, (size_t)nthreads * WPAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(windows != MAP_FAILED);
    counters = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(counters != MAP_FAILED);
    memfd = (int)syscall(SYS_memfd_create, "smp_stress_mm", 0);
    CHECK(memfd >= 0);
    CHECK_OK(ftruncate(memfd, (off_t)nthreads * PG));
    if (windows == MAP_FAILED || counters == MAP_FAILED || memfd < 0) return;

    /* Everything that allocates happens before the workers start. */
    long t0 = lt_now_ms();
    pthread_t th[MAXT];
    pthread_barrier_init(&start, 0, (unsigned)nthreads);
    for (int t = 0; t < nthreads; t++)
        CHECK(pthread_create(&th[t], 0, worker, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], 0);

    CHECK(atomic_load(&errors) == 0);
    unsigned sum = 0;
    for (int i = 0; i < NCOUNTERS; i++) sum += atomic_load(&counters[i]);
    if (sum != (unsigned)(nthreads * ROUNDS)) {
        printf("counters add up to %u, expected %d\n", sum, nthreads * ROUNDS);
        lt_failures++;
    }
    long retries = 0, peeks = 0;
    for (int t = 0; t < nthreads; t++) {
        if (results[t].faults_seen != results[t].faults_expected) {
            printf("thread %d: %ld faults, expected %ld\n", t, results[t].faults_seen,
                   results[t].faults_expected);
            lt_failures++;
        }
        retries += results[t].add_retries;
        peeks += results[t].peeks;
    }
    /* The memfd holds each thread's last round. */
    for (int t = 0; t < nthreads; t++) {
        unsigned word = 0;
        CHECK(pread(memfd, &word, 4, (off_t)t * PG + 8) == 4);
        CHECK(word == tag(t, ROUNDS - 1, 2));
    }
    printf("%ld ms; counter adds retried after a fault: %ld; neighbour reads that did not fault: "
           "%ld\n",
           lt_now_ms() - t0, retries, peeks);
}

int main(void) {
    lt_sub("mm stress", stress, 50000);
    DONE();
}
