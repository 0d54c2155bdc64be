/* Helpers shared by the ptrace_* tests: a child that asks to be traced and stops itself
 * before running its body, and resuming a tracee until it exits. */
#ifndef PTRACE_TEST_H
#define PTRACE_TEST_H
#include "lintel_test.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

/* struct ptrace_syscall_info (older libc headers lack it). */
struct sc_info {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t ip, sp;
    union {
        struct {
            uint64_t nr, args[6];
        } entry;
        struct {
            int64_t rval;
            uint8_t is_error;
        } exit;
        struct {
            uint64_t nr, args[6];
            uint32_t ret_data;
        } seccomp;
    };
};

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

/* Continues the tracee and returns the wait status of its next stop or exit (-1 on error). */
static inline int pt_cont_wait(pid_t pid) {
    int st = -1;
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0 || waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

/* Continues the tracee and expects it to exit with `code`. */
static inline void pt_finish(pid_t pid, int code) {
    int st = 0;
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, code);
}

#endif
