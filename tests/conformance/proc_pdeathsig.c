/* PR_SET_PDEATHSIG: the signal arrives when the parent process ends (the orphan goes to the
 * subreaper, si_code SI_USER and si_pid the dead parent), when the parent's creating thread
 * ends while the process lives on (getppid unchanged), not for other threads' ends; fork
 * clears it, exec keeps it, PR_GET_PDEATHSIG reads it back and bad signals are EINVAL. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

/* Waits up to `ms` for `sig` (blocked by the caller); returns its siginfo's signo or 0. */
static int wait_sig(int sig, int ms, siginfo_t *si) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    for (;;) {
        int r = sigtimedwait(&s, si, &ts);
        if (r >= 0) return r;
        if (errno != EINTR) return 0;
    }
}

/* The parent process exits: the child gets its signal and the subreaper as its parent. */
static void parent_exits(void) {
    CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
    pid_t me = getpid();
    int ready[2], result[2];
    CHECK(pipe(ready) == 0 && pipe(result) == 0);
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t c = fork();
        if (c == 0) {
            lt_block_sig(SIGUSR1);
            int ok = prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) == 0;
            pid_t parent = getppid();
            write(ready[1], "r", 1);
            siginfo_t si;
            memset(&si, 0, sizeof si);
            int got = wait_sig(SIGUSR1, 5000, &si);
            char r = 'y';
            if (!ok) r = 'p';
            else if (got != SIGUSR1) r = 'n';
            else if (si.si_code != SI_USER) r = 'c';
            else if (si.si_pid != parent) r = 'i';
            else if (getppid() != me) r = 'r';
            write(result[1], &r, 1);
            _exit(0);
        }
        char b;
        read(ready[0], &b, 1);
        _exit(0);
    }
    close(ready[1]);
    close(result[1]);
    int st;
    CHECK(waitpid(mid, &st, 0) == mid);
    char r = 0;
    CHECK(read(result[0], &r, 1) == 1);
    if (r != 'y') printf("parent_exits: child reported '%c'\n", r);
    CHECK(r == 'y');
    /* The grandchild is ours to reap now. */
    CHECK(waitpid(-1, &st, 0) > 0);
}

struct creator {
    int ready[2], result[2];
    pid_t child;
};

static void *create_child(void *arg) {
    struct creator *k = arg;
    pid_t main_pid = getpid();
    fflush(stdout);
    k->child = fork();
    if (k->child == 0) {
        lt_block_sig(SIGUSR2);
        prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
        write(k->ready[1], "r", 1);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int got = wait_sig(SIGUSR2, 5000, &si);
        char r = 'y';
        if (got != SIGUSR2) r = 'n';
        else if (si.si_pid != main_pid) r = 'i';
        else if (getppid() != main_pid) r = 'r';
        write(k->result[1], &r, 1);
        _exit(0);
    }
    char b;
    read(k->ready[0], &b, 1);
    return NULL;
}

static void *idle_thread(void *arg) {
    (void)arg;
    return NULL;
}

/* The thread that forked the child ends: the child gets its signal, its parent stays. */
static void creator_thread_exits(void) {
    struct creator k;
    CHECK(pipe(k.ready) == 0 && pipe(k.result) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, create_child, &k) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    char r = 0;
    CHECK(read(k.result[0], &r, 1) == 1);
    if (r != 'y') printf("creator_thread_exits: child reported '%c'\n", r);
    CHECK(r == 'y');
    int st;
    CHECK(waitpid(k.child, &st, 0) == k.child);
}

/* Another thread's end sends nothing to a child the main thread created. */
static void other_thread_exits(void) {
    int ready[2], result[2];
    CHECK(pipe(ready) == 0 && pipe(result) == 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        lt_block_sig(SIGUSR1);
        prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
        write(ready[1], "r", 1);
        siginfo_t si;
        int got = wait_sig(SIGUSR1, 300, &si);
        write(result[1], got == 0 ? "y" : "n", 1);
        _exit(0);
    }
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, idle_thread, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    char r = 0;
    CHECK(read(result[0], &r, 1) == 1);
    CHECK(r == 'y');
    int st;
    CHECK(waitpid(c, &st, 0) == c);
}

/* The setting itself: read back, bounds, cleared by fork, kept by exec. */
static void setting(void) {
    int v = -1;
    CHECK(prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0);
    CHECK(prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0) == 0);
    CHECK(v == SIGTERM);
    CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
    CHECK_ERR(prctl(PR_SET_PDEATHSIG, -1L, 0, 0, 0), EINVAL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        int w = -1;
        prctl(PR_GET_PDEATHSIG, &w, 0, 0, 0);
        _exit(w == 0 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    c = fork();
    if (c == 0) {
        execl("/proc/self/exe", "proc_pdeathsig", "--get", (char *)NULL);
        _exit(2);
    }
    CHECK(waitpid(c, &st, 0) == c);
    /* The child's own setting is 0 after fork; exec of a non-set-id program keeps it. */
    CHECK_EXIT(st, 0);
    c = fork();
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
        execl("/proc/self/exe", "proc_pdeathsig", "--get", (char *)NULL);
        _exit(2);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, SIGHUP);
    CHECK(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) == 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--get") == 0) {
        int v = -1;
        prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0);
        return v;
    }
    lt_sub("setting", setting, 10000);
    lt_sub("parent_exits", parent_exits, 10000);
    lt_sub("creator_thread_exits", creator_thread_exits, 10000);
    lt_sub("other_thread_exits", other_thread_exits, 10000);
    DONE();
}
