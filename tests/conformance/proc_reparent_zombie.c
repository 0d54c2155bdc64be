/* A zombie whose parent exits passes to the child subreaper (or init) as Linux's
 * reparent_leader does: its exit signal becomes SIGCHLD (a child made by clone() with exit
 * signal 0 is then found by a plain waitpid, without __WCLONE), the new parent gets a SIGCHLD
 * naming the zombie, and a new parent that ignores SIGCHLD has it reaped at once instead of
 * keeping it as a zombie for ever. (Found by stress-ng under `cargo xtask fuzz`: zombies left
 * behind after their stressors ended.) */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int quit(void *arg) {
    (void)arg;
    return 7;
}

/* The middle process: makes a child with exit signal 0, waits until it is a zombie (without
 * reaping it), writes its pid to `fd` and exits, leaving the zombie to be reparented. */
static void middle(int fd) {
    static char stack[64 * 1024] __attribute__((aligned(16)));
    pid_t c = clone(quit, stack + sizeof stack, 0, NULL);
    if (c < 0) _exit(1);
    siginfo_t si;
    if (waitid(P_PID, c, &si, WEXITED | WNOWAIT | __WCLONE) != 0) _exit(2);
    if (write(fd, &c, sizeof c) != sizeof c) _exit(3);
    _exit(0);
}

static pid_t start_middle(pid_t *m) {
    int p[2];
    pid_t c = -1;
    if (pipe(p) != 0) return -1;
    fflush(stdout);
    *m = fork();
    if (*m == 0) {
        close(p[0]);
        middle(p[1]);
    }
    close(p[1]);
    if (read(p[0], &c, sizeof c) != sizeof c) c = -1;
    close(p[0]);
    return c;
}

int main(void) {
    CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));

    /* SIGCHLD blocked: the zombie's notice is pending when its parent's exit passes it here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    pid_t m, c = start_middle(&m);
    CHECK(c > 0);
    int st;
    CHECK(waitpid(m, &st, 0) == m);
    CHECK_EXIT(st, 0);
    siginfo_t si;
    struct timespec ts = {5, 0};
    CHECK(sigtimedwait(&set, &si, &ts) == SIGCHLD);
    CHECK(si.si_pid == c);
    CHECK(si.si_code == CLD_EXITED && si.si_status == 7);
    /* A plain waitpid finds it: its exit signal is SIGCHLD now. */
    CHECK(waitpid(-1, &st, WNOHANG) == c);
    CHECK_EXIT(st, 7);
    CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
    CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));

    /* SIGCHLD ignored here: the middle process and the zombie it leaves are both reaped
     * without a wait. */
    signal(SIGCHLD, SIG_IGN);
    c = start_middle(&m);
    CHECK(c > 0);
    /* With SIGCHLD ignored, wait blocks until every child is gone, then ECHILD. */
    CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
    CHECK_ERR(waitpid(c, &st, WNOHANG | __WALL), ECHILD);
    /* Gone soon after: Linux releases the zombies an exit auto-reaps after it has woken the
     * waiting parent (exit_notify's `dead` list), so a kill just after the wait may still
     * find it for a moment (seen natively on a 2-core host). */
    long deadline = lt_now_ms() + 5000;
    while (kill(c, 0) == 0 && lt_now_ms() < deadline) lt_sleep_ms(1);
    CHECK(kill(c, 0) == -1 && errno == ESRCH);
    DONE();
}
