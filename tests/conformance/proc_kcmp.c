/* kcmp: open files (the same open file through dup and fork, another open of the same file),
 * address spaces, fd tables, fs contexts and signal handlers of threads, processes and
 * children, System V undo lists (absent ones compare equal; a thread or SEM_UNDO creates
 * one), epoll targets (KCMP_EPOLL_TFD), a consistent order, and the errors. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM, KCMP_EPOLL_TFD };

static long kcmp(pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2) {
    return syscall(SYS_kcmp, a, b, type, i1, i2);
}

static pid_t thread_tid;
static volatile int done;
static void *idle(void *arg) {
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    while (!done)
        lt_sleep_ms(5);
    return NULL;
}

int main(void) {
    pid_t me = getpid();
    int a = open("/proc/self/stat", O_RDONLY), b = dup(a), c = open("/proc/self/stat", O_RDONLY);
    CHECK(kcmp(me, me, KCMP_FILE, a, a) == 0);
    CHECK(kcmp(me, me, KCMP_FILE, a, b) == 0);
    long ac = kcmp(me, me, KCMP_FILE, a, c), ca = kcmp(me, me, KCMP_FILE, c, a);
    CHECK((ac == 1 && ca == 2) || (ac == 2 && ca == 1));
    CHECK_ERR(kcmp(me, me, KCMP_FILE, a, 999), EBADF);
    CHECK_ERR(kcmp(me, me, 99, 0, 0), EINVAL);
    CHECK_ERR(kcmp(me, 0x3ffffff0, KCMP_VM, 0, 0), ESRCH);
    CHECK(kcmp(me, me, KCMP_VM, 0, 0) == 0);

    /* A thread shares everything with its process. */
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    while (!thread_tid)
        lt_sleep_ms(5);
    for (int k = KCMP_VM; k <= KCMP_SIGHAND; k++)
        CHECK(kcmp(me, thread_tid, k, 0, 0) == 0);
    CHECK(kcmp(me, thread_tid, KCMP_FILE, a, a) == 0);
    done = 1;
    pthread_join(t, NULL);

    /* A child shares its inherited open files, nothing else. */
    int p[2];
    CHECK_OK(pipe(p));
    pid_t k = fork();
    if (k == 0) {
        char x;
        read(p[0], &x, 1);
        _exit(0);
    }
    CHECK(kcmp(me, k, KCMP_FILE, a, a) == 0);
    CHECK(kcmp(me, k, KCMP_FILE, a, c) != 0);
    for (int kind = KCMP_VM; kind <= KCMP_SIGHAND; kind++) {
        long r = kcmp(me, k, kind, 0, 0);
        CHECK(r == 1 || r == 2);
    }
    /* Undo lists: the thread made one for this process (CLONE_SYSVSEM), the children have
     * none (equal) until one of them uses SEM_UNDO. */
    long r = kcmp(me, k, KCMP_SYSVSEM, 0, 0);
    CHECK(r == 1 || r == 2);
    int sid = semget(IPC_PRIVATE, 1, 0600), go[2], ack[2];
    CHECK(sid >= 0);
    CHECK_OK(pipe(go));
    CHECK_OK(pipe(ack));
    pid_t k2 = fork();
    if (k2 == 0) {
        char x;
        struct sembuf up = {0, 1, SEM_UNDO};
        read(go[0], &x, 1);
        semop(sid, &up, 1);
        write(ack[1], "x", 1);
        read(go[0], &x, 1);
        _exit(0);
    }
    CHECK(kcmp(k, k2, KCMP_SYSVSEM, 0, 0) == 0);
    char x;
    write(go[1], "x", 1);
    read(ack[0], &x, 1);
    r = kcmp(k, k2, KCMP_SYSVSEM, 0, 0);
    CHECK(r == 1 || r == 2);
    CHECK(kcmp(k2, k2, KCMP_SYSVSEM, 0, 0) == 0);
    write(go[1], "x", 1);
    waitpid(k2, NULL, 0);
    CHECK_OK(semctl(sid, 0, IPC_RMID));
    write(p[1], "x", 1);
    waitpid(k, NULL, 0);

    /* Which file an epoll instance watches under a given fd. */
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {0}};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    struct {
        uint32_t efd, tfd, toff;
    } slot = {ep, p[0], 0};
    CHECK(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot) == 0);
    CHECK(kcmp(me, me, KCMP_EPOLL_TFD, p[1], (unsigned long)&slot) != 0);
    slot.tfd = p[1];
    CHECK_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), ENOENT);
    slot.efd = a;
    CHECK_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), EINVAL);
    DONE();
}
