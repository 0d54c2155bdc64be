/* Helpers shared by the ptrace_* tests: a child that asks to be traced and stops itself
 * before running its body, and resuming a tracee until it exits. */
#ifndef PTRACE_TEST_H
#define PTRACE_TEST_H
#include "lintel_test.h"
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forks a child that calls PTRACE_TRACEME, stops with SIGSTOP, then runs `body` and exits 0;
 * returns once the tracer has seen the stop. */
static inline pid_t pt_traced_child(void (*body)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(90);
        raise(SIGSTOP);
        body();
        _exit(0);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    return pid;
}

/* GETSIGINFO's si_signo and si_code at the tracee's stop, or -1 when it fails. */
static inline int pt_si_code(pid_t pid, int *signo) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) != 0) return -1;
    if (signo) *signo = si.si_signo;
    return si.si_code;
}

/* Continues the tracee and expects it to exit with `code`. */
static inline void pt_finish(pid_t pid, int code) {
    int st = 0;
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, code);
}

#endif
