/* PTRACE_SEIZE's way of stopping: PTRACE_INTERRUPT of a sleeping or spinning tracee
 * (PTRACE_EVENT_STOP with SIGTRAP; the interrupted pause() goes on afterwards), a group stop
 * reported as PTRACE_EVENT_STOP with the stop signal, PTRACE_LISTEN keeping it stopped until
 * SIGCONT (reported as PTRACE_EVENT_STOP with SIGTRAP, then SIGCONT's signal-delivery stop),
 * INTERRUPT of a listening tracee, a parent other than the tracer seeing the stop and the
 * continue, and the EIO cases of INTERRUPT and LISTEN. */
#define _GNU_SOURCE
#include "ptrace_test.h"

static pid_t spawn(int spin) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (spin)
            for (volatile unsigned long i = 0;; i++) {
            }
        for (;;) pause();
    }
    return pid;
}

/* Waits for a stop and returns its status >> 8 (signal | event << 8). */
static int stop_of(pid_t pid) {
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st));
    return st >> 8;
}

static void quiet(pid_t pid) {
    int st;
    lt_sleep_ms(30);
    CHECK(waitpid(pid, &st, WNOHANG | __WALL) == 0);
}

static void kill_wait(pid_t pid) {
    int st;
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void interrupt(int spin) {
    pid_t pid = spawn(spin);
    CHECK_OK(ptrace(PTRACE_SEIZE, pid, 0, 0));
    quiet(pid);
    CHECK_ERR(ptrace(PTRACE_LISTEN, pid, 0, 0), ESRCH);
    CHECK_OK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
    CHECK(stop_of(pid) == (SIGTRAP | PTRACE_EVENT_STOP << 8));
    CHECK(pt_si_code(pid, NULL) == (SIGTRAP | PTRACE_EVENT_STOP << 8));
    /* A second INTERRUPT of a stopped tracee adds nothing. */
    CHECK_OK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
    quiet(pid);
    /* LISTEN after any PTRACE_EVENT_STOP: the tracee stays put, out of reach of requests
     * that need a stop, until the next INTERRUPT. */
    CHECK_OK(ptrace(PTRACE_LISTEN, pid, 0, 0));
    quiet(pid);
    CHECK_ERR(ptrace(PTRACE_CONT, pid, 0, 0), ESRCH);
    CHECK_OK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
    CHECK(stop_of(pid) == (SIGTRAP | PTRACE_EVENT_STOP << 8));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    quiet(pid);
    /* LISTEN needs a PTRACE_EVENT_STOP: not for a signal-delivery stop. */
    CHECK_OK(kill(pid, SIGWINCH));
    CHECK(stop_of(pid) == SIGWINCH);
    CHECK_ERR(ptrace(PTRACE_LISTEN, pid, 0, 0), EIO);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    quiet(pid);
    kill_wait(pid);
}

static void t_interrupt_sleeper(void) { interrupt(0); }
static void t_interrupt_spinner(void) { interrupt(1); }

static void t_group_stop_listen(void) {
    pid_t pid = spawn(0);
    CHECK_OK(ptrace(PTRACE_SEIZE, pid, 0, 0));
    CHECK_OK(kill(pid, SIGSTOP));
    CHECK(stop_of(pid) == SIGSTOP); /* signal-delivery stop */
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, (void *)SIGSTOP));
    CHECK(stop_of(pid) == (SIGSTOP | PTRACE_EVENT_STOP << 8)); /* group stop */
    int signo = 0;
    CHECK(pt_si_code(pid, &signo) == (SIGSTOP | PTRACE_EVENT_STOP << 8) && signo == SIGSTOP);
    CHECK_OK(ptrace(PTRACE_LISTEN, pid, 0, 0));
    quiet(pid);
    /* INTERRUPT makes a listening tracee report its group stop again. */
    CHECK_OK(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
    CHECK(stop_of(pid) == (SIGSTOP | PTRACE_EVENT_STOP << 8));
    CHECK_OK(ptrace(PTRACE_LISTEN, pid, 0, 0));
    quiet(pid);
    CHECK_OK(kill(pid, SIGCONT));
    CHECK(stop_of(pid) == (SIGTRAP | PTRACE_EVENT_STOP << 8));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(stop_of(pid) == SIGCONT);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, (void *)SIGCONT));
    quiet(pid);
    kill_wait(pid);
}

/* A tracer that is not the parent: the parent still sees the group stop (WUNTRACED) and the
 * continue (WCONTINUED) while the tracer holds the tracee in PTRACE_LISTEN. */
static void t_parent_sees_stop(void) {
    pid_t pid = spawn(0);
    int fds[2];
    CHECK_OK(pipe(fds));
    fflush(stdout);
    pid_t tracer = fork();
    if (tracer == 0) {
        if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) _exit(1);
        char c = 1;
        if (write(fds[1], &c, 1) != 1) _exit(2);
        for (;;) {
            int st;
            if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) _exit(0);
            int sig = WSTOPSIG(st);
            if (st >> 16 == PTRACE_EVENT_STOP && sig != SIGTRAP)
                ptrace(PTRACE_LISTEN, pid, 0, 0);
            else
                ptrace(PTRACE_CONT, pid, 0, (void *)(long)(sig == SIGTRAP ? 0 : sig));
        }
    }
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    int st;
    CHECK_OK(kill(pid, SIGSTOP));
    CHECK(waitpid(pid, &st, WUNTRACED) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    CHECK_OK(kill(pid, SIGCONT));
    CHECK(waitpid(pid, &st, WCONTINUED) == pid);
    CHECK(WIFCONTINUED(st));
    kill(tracer, SIGKILL);
    CHECK(waitpid(tracer, &st, 0) == tracer);
    kill_wait(pid);
}

static void t_not_seized(void) {
    pid_t pid = spawn(0);
    CHECK_OK(ptrace(PTRACE_ATTACH, pid, 0, 0));
    CHECK(stop_of(pid) == SIGSTOP);
    CHECK_ERR(ptrace(PTRACE_INTERRUPT, pid, 0, 0), EIO);
    CHECK_ERR(ptrace(PTRACE_LISTEN, pid, 0, 0), EIO);
    kill_wait(pid);
}

int main(void) {
    lt_sub("interrupt_sleeper", t_interrupt_sleeper, 5000);
    lt_sub("interrupt_spinner", t_interrupt_spinner, 5000);
    lt_sub("group_stop_listen", t_group_stop_listen, 5000);
    lt_sub("parent_sees_stop", t_parent_sees_stop, 5000);
    lt_sub("not_seized", t_not_seized, 5000);
    DONE();
}
