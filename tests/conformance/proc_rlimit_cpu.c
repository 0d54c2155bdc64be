/* RLIMIT_CPU: SIGXCPU at the soft limit (the soft limit then reads one second more), SIGKILL
 * at the hard limit; with SIGXCPU's default action the process dies of SIGXCPU. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t xcpu;
static volatile int report = -1;

static void on_xcpu(int sig) {
    (void)sig;
    if (xcpu++ == 0) {
        struct rlimit r;
        getrlimit(RLIMIT_CPU, &r);
        char c = (char)r.rlim_cur;
        write(report, &c, 1);
    }
}

static void spin_forever(void) {
    for (volatile unsigned long i = 0;; i++) {
    }
}

static void caught_then_killed(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        report = p[1];
        signal(SIGXCPU, on_xcpu);
        struct rlimit r = {1, 2};
        setrlimit(RLIMIT_CPU, &r);
        spin_forever();
    }
    close(p[1]);
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    char cur = 0;
    CHECK(read(p[0], &cur, 1) == 1);
    CHECK(cur == 2);
    close(p[0]);
}

static void default_action(void) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        struct rlimit core = {0, 0};
        setrlimit(RLIMIT_CORE, &core);
        struct rlimit r = {1, RLIM_INFINITY};
        setrlimit(RLIMIT_CPU, &r);
        spin_forever();
    }
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU);
}

int main(void) {
    lt_sub("caught_then_killed", caught_then_killed, 60000);
    lt_sub("default_action", default_action, 60000);
    DONE();
}
