/* System V semaphore undo lists belong to tasks and are shared by CLONE_SYSVSEM, as Linux's
 * sem_undo_list: a SEM_UNDO adjustment made by a thread stays when that thread exits (its
 * process's other threads share the list) and applies when the last one exits; two
 * processes made by clone(CLONE_SYSVSEM) share one list, so the child's exit applies
 * nothing and the parent's does; a forked child has a list of its own, applied at its exit;
 * unshare(CLONE_SYSVSEM) is allowed in a multi-threaded process and lets go of the calling
 * thread's share (nothing applies while another thread holds the list), and in a
 * single-threaded one applies the adjustments at once. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static int sem_id;

static int val(void) { return semctl(sem_id, 0, GETVAL); }

static int up(short n) {
    struct sembuf s = {0, n, SEM_UNDO};
    return semop(sem_id, &s, 1);
}

/* Runs `fn` in a forked helper process and returns its exit code (the helper's checks
 * failed: nonzero). */
static int in_helper(int (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) _exit(fn());
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st)) return 99;
    return WEXITSTATUS(st);
}

static void *thread_up(void *arg) {
    (void)arg;
    return (void *)(intptr_t)up(3);
}

/* A thread's adjustment outlives the thread: the list is its process's threads'. */
static int threads_share(void) {
    pthread_t t;
    void *r;
    if (pthread_create(&t, NULL, thread_up, NULL) != 0) return 10;
    pthread_join(t, &r);
    if (r != 0) return 11;
    if (val() != 3) return 12;
    return 0;
}

static int child_up(void *arg) {
    (void)arg;
    return up(2) == 0 ? 0 : 1;
}

/* clone(CLONE_SYSVSEM) without CLONE_THREAD: the child's exit leaves the shared list alone. */
static int clone_sysvsem(void) {
    static char stack[64 * 1024] __attribute__((aligned(16)));
    pid_t c = clone(child_up, stack + sizeof stack, CLONE_SYSVSEM | SIGCHLD, NULL);
    if (c < 0) return 20;
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 21;
    if (val() != 2) return 22;
    return 0;
}

static void *thread_wait(void *arg) {
    int *pipefd = arg;
    char b;
    while (read(pipefd[0], &b, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

/* unshare(CLONE_SYSVSEM) with a second thread alive: allowed; the other thread still holds
 * the list, so nothing applies until both are gone. */
static int unshare_threaded(void) {
    int pipefd[2];
    pthread_t t;
    if (pipe(pipefd) != 0) return 30;
    if (pthread_create(&t, NULL, thread_wait, pipefd) != 0) return 31;
    if (up(4) != 0) return 32;
    if (unshare(CLONE_SYSVSEM) != 0) return 33;
    if (val() != 4) return 34;
    /* A new SEM_UNDO operation starts a new list, of this thread alone. */
    if (up(1) != 0) return 35;
    if (unshare(CLONE_SYSVSEM) != 0) return 36;
    if (val() != 4) return 37;
    if (write(pipefd[1], "x", 1) != 1) return 38;
    pthread_join(t, NULL);
    return 0;
}

int main(void) {
    sem_id = semget(IPC_PRIVATE, 1, 0600);
    CHECK(sem_id >= 0);
    if (sem_id < 0) DONE();

    CHECK_EXIT(in_helper(threads_share) << 8, 0);
    CHECK(val() == 0);

    CHECK_EXIT(in_helper(clone_sysvsem) << 8, 0);
    CHECK(val() == 0);

    /* fork: the child's list is its own, applied when it exits. */
    CHECK(up(1) == 0);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) _exit(up(5) == 0 && val() == 6 ? 0 : 1);
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    CHECK_EXIT(st, 0);
    CHECK(val() == 1);
    /* Single-threaded unshare(CLONE_SYSVSEM) applies the caller's adjustments now. */
    CHECK_OK(unshare(CLONE_SYSVSEM));
    CHECK(val() == 0);

    CHECK_EXIT(in_helper(unshare_threaded) << 8, 0);
    CHECK(val() == 0);

    CHECK_OK(semctl(sem_id, 0, IPC_RMID));
    DONE();
}
