/* pipe2 and socketpair with a pointer they cannot write: EFAULT, and no fd left behind. Linux
 * reserves the two fds, copies them out, and installs the files only after the copy worked,
 * so the next fds handed out are still the lowest free ones, and no other thread of the
 * process ever sees the new files, nor loses what it dup2'd onto one of those fds while the
 * failing call ran. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The lowest free fd (open gives the lowest). */
static int lowest_free(void) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) close(fd);
    return fd;
}

static void check_next_pair_lowest(const char *what) {
    int low = lowest_free();
    int p[2] = {-1, -1};
    CHECK_OK(pipe2(p, O_CLOEXEC));
    if (p[0] != low || p[1] <= low) {
        printf("after %s: pipe2 gave %d,%d, lowest free was %d\n", what, p[0], p[1], low);
        lt_failures++;
    }
    /* The fd after the pair is free again once it is closed: nothing was left there. */
    close(p[0]);
    close(p[1]);
    CHECK(lowest_free() == low);
}

static void test_bad_pointers(void) {
    /* A hole in the middle of the fd table, so "lowest" is not just the end. */
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
    int c = open("/dev/null", O_RDONLY);
    CHECK(a >= 0 && b > a && c > b);
    close(b);
    int before = lowest_free();
    CHECK(before == b);

    CHECK_ERR(syscall(SYS_pipe2, (void *)1, 0), EFAULT);
    CHECK(lowest_free() == before);
    check_next_pair_lowest("pipe2(1)");
    CHECK_ERR(syscall(SYS_pipe2, (void *)1, O_CLOEXEC | O_NONBLOCK), EFAULT);
    check_next_pair_lowest("pipe2(1, O_CLOEXEC|O_NONBLOCK)");
#ifdef SYS_pipe
    CHECK_ERR(syscall(SYS_pipe, (void *)1), EFAULT);
    check_next_pair_lowest("pipe(1)");
#endif
    /* A read-only page: readable, so a check that only reads would pass it. */
    long pg = sysconf(_SC_PAGESIZE);
    int *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED);
    if (ro != MAP_FAILED) {
        CHECK_ERR(syscall(SYS_pipe2, ro, 0), EFAULT);
        CHECK(ro[0] == 0 && ro[1] == 0);
        check_next_pair_lowest("pipe2(read-only page)");
        CHECK_ERR(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, ro), EFAULT);
        check_next_pair_lowest("socketpair(read-only page)");
        munmap(ro, pg);
    }
    CHECK_ERR(syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, (void *)1), EFAULT);
    check_next_pair_lowest("socketpair(1)");
    close(a);
    close(c);
}

static atomic_int stop;

static void *failing_pipes(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) syscall(SYS_pipe2, (void *)1, 0);
    return NULL;
}

/* While another thread keeps failing pipe2, this one dup2s onto the lowest free fd (the one
 * that pipe2 would take): when dup2 says it worked, the fd holds its file until it is
 * closed. Linux answers EBUSY for an fd another call has reserved and not filled yet. */
static void test_race(void) {
    /* Before the thread starts: once it runs, its pipe2 may hold the lowest fds reserved at
     * the moment of the look (a thread started on another CPU runs at once). */
    int target = lowest_free();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, failing_pipes, NULL) == 0);
    int lost = 0, done = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 200000; i++) {
        int r = dup2(0, target);
        if (r == target) {
            if (fcntl(target, F_GETFD) == -1) lost++;
            close(target);
            done++;
        } else {
            CHECK(r == -1 && errno == EBUSY);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= 1) break;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    CHECK(done > 0);
    if (lost) {
        printf("%d of %d fds dup2'd onto went away under a failing pipe2\n", lost, done);
        lt_failures++;
    }
    CHECK(lowest_free() == target);
}

int main(void) {
    test_bad_pointers();
    test_race();
    DONE();
}
