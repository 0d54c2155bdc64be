/* A multi-threaded tracee: with TRACECLONE a new thread is attached at birth and starts in
 * a SIGSTOP stop; the tracer addresses it by its tid (PEEKUSER, CONT), waitpid(-1, __WALL)
 * and waitpid(tid, __WALL) report its stops and its exit; a thread can be traced with
 * PTRACE_SYSCALL while its sibling runs freely; the process's exit follows. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/user.h>

static void *thread_fn(void *arg) {
    (void)arg;
    syscall(SYS_getppid, 77, 0, 0); /* a marker call the tracer watches for */
    return (void *)5;
}

static void body(void) {
    pthread_t th;
    if (pthread_create(&th, NULL, thread_fn, NULL) != 0) _exit(50);
    void *ret = NULL;
    pthread_join(th, &ret);
    _exit(ret == (void *)5 ? 6 : 51);
}

static int event_of(int st) { return WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP ? st >> 16 : -1; }

static void t_clone_thread(void) {
    pid_t pid = pt_traced_child(body);
    long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD;
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)opts));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st = 0;
    pid_t tid = 0;
    int seen_event = 0, seen_start = 0, seen_marker = 0, seen_thread_exit = 0;
    /* Everything reports through one wait loop, in whatever order the threads run. */
    for (int i = 0; i < 200; i++) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) break;
        if (w == pid && !WIFSTOPPED(st)) break; /* the process has ended */
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            /* Its own status, or the group's once the process exits too (Linux reports the
             * group exit code for every thread of an exiting group). */
            CHECK(w == tid);
            CHECK(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 6));
            seen_thread_exit = 1;
            continue;
        }
        if (w == pid && event_of(st) == PTRACE_EVENT_CLONE) {
            unsigned long msg = 0;
            CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
            CHECK(tid == 0 || tid == (pid_t)msg);
            tid = (pid_t)msg;
            seen_event = 1;
            CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
            continue;
        }
        if (w != pid && tid == 0) tid = w; /* its start can come before the event */
        if (w == tid && WSTOPSIG(st) == SIGSTOP && !seen_start) {
            seen_start = 1;
            /* Trace this thread's system calls only. */
            CHECK_OK(ptrace(PTRACE_SYSCALL, tid, 0, 0));
            continue;
        }
        if (w == tid && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
#ifdef __x86_64__
            struct user_regs_struct r;
            CHECK_OK(ptrace(PTRACE_GETREGS, tid, 0, &r));
            if (r.orig_rax == SYS_getppid && r.rdi == 77) seen_marker = 1;
#else
            /* The other ports have no GETREGS: the architecture-neutral request. */
            struct sc_info si;
            memset(&si, 0, sizeof si);
            CHECK(ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof si, &si) > 0);
            if (si.op == 1 /* PTRACE_SYSCALL_INFO_ENTRY */ && si.entry.nr == SYS_getppid &&
                si.entry.args[0] == 77)
                seen_marker = 1;
#endif
            CHECK_OK(ptrace(PTRACE_SYSCALL, tid, 0, 0));
            continue;
        }
        /* Anything else (SIGCHLD and the like) is passed on. */
        int sig = WSTOPSIG(st);
        if (sig == SIGTRAP || sig == (SIGTRAP | 0x80) || sig == SIGSTOP) sig = 0;
        CHECK_OK(ptrace(PTRACE_CONT, w, 0, (void *)(long)sig));
    }
    CHECK(seen_event && seen_start && seen_marker && seen_thread_exit);
    CHECK_EXIT(st, 6);
}

int main(void) {
    lt_sub("clone_thread", t_clone_thread, 10000);
    DONE();
}
