/* ptrace events: PTRACE_EVENT_FORK/VFORK/CLONE/VFORK_DONE with the new child attached and stopped
 * (GETEVENTMSG gives its pid, waitpid(__WALL) its stops and exit), PTRACE_EVENT_EXEC (the
 * message is the old tid) and exec's plain SIGTRAP without TRACEEXEC, PTRACE_EVENT_EXIT with
 * the exit status as message, and a group stop (SIGSTOP delivered by the tracer) reported to
 * the tracer. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static char **g_argv;


/* Waits for the tracee's exit, passing on the signals it gets meanwhile (SIGCHLD). */
static int wait_exit(pid_t pid) {
    int st = -1;
    for (int i = 0; i < 20; i++) {
        if (waitpid(pid, &st, __WALL) != pid) return -1;
        if (!WIFSTOPPED(st)) return st;
        if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(st)) != 0) return -1;
    }
    return -1;
}

static int event_of(int st) { return WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP ? st >> 16 : -1; }

static void body_fork(void) {
    pid_t g = fork();
    if (g == 0) _exit(7);
    int st;
    if (waitpid(g, &st, 0) != g) _exit(50);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) + 1 : 51);
}

static void body_vfork(void) {
    pid_t g = vfork();
    if (g == 0) _exit(7);
    int st;
    if (waitpid(g, &st, 0) != g) _exit(50);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) + 1 : 51);
}

static char stack[65536];
static int clone_fn(void *arg) {
    (void)arg;
    return 7;
}

static void body_clone(void) {
    signal(SIGUSR1, SIG_IGN);
    pid_t g = clone(clone_fn, stack + sizeof stack, SIGUSR1, 0);
    int st;
    if (waitpid(g, &st, __WCLONE) != g) _exit(50);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) + 1 : 51);
}

/* The child makes a grandchild of the given kind; the tracer follows both. */
static void follow(void (*body)(void), int option, int event) {
    pid_t pid = pt_traced_child(body);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)option));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(event_of(st) == event);
    unsigned long msg = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
    pid_t g = (pid_t)msg;
    CHECK(g > 0 && g != pid);
    /* The new child starts stopped, traced by us. */
    CHECK(waitpid(g, &st, __WALL) == g);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    CHECK_OK(ptrace(PTRACE_CONT, g, 0, 0));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    /* We see the grandchild's exit though we are not its parent. */
    CHECK(waitpid(g, &st, __WALL) == g);
    CHECK_EXIT(st, 7);
    CHECK_EXIT(wait_exit(pid), 8);
}

static void t_fork(void) { follow(body_fork, PTRACE_O_TRACEFORK, PTRACE_EVENT_FORK); }
static void t_vfork(void) { follow(body_vfork, PTRACE_O_TRACEVFORK, PTRACE_EVENT_VFORK); }
static void t_clone(void) { follow(body_clone, PTRACE_O_TRACECLONE, PTRACE_EVENT_CLONE); }

/* PTRACE_EVENT_VFORK_DONE: the vfork parent stops again once its child has let go. */
static void t_vfork_done(void) {
    pid_t pid = pt_traced_child(body_vfork);
    long opts = PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE;
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)opts));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(event_of(st) == PTRACE_EVENT_VFORK);
    unsigned long g = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &g));
    CHECK(waitpid((pid_t)g, &st, __WALL) == (pid_t)g);
    CHECK_OK(ptrace(PTRACE_CONT, (pid_t)g, 0, 0));
    CHECK(waitpid((pid_t)g, &st, __WALL) == (pid_t)g);
    CHECK_EXIT(st, 7);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(event_of(st) == PTRACE_EVENT_VFORK_DONE);
    unsigned long msg = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
    CHECK(msg == g);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK_EXIT(wait_exit(pid), 8);
}

/* Without the option the grandchild is not traced. */
static void t_fork_untraced(void) {
    pid_t pid = pt_traced_child(body_fork);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK_EXIT(wait_exit(pid), 8);
}

static void body_exec(void) {
    char *args[] = {g_argv[0], "execed", NULL};
    execv("/proc/self/exe", args);
    _exit(60);
}

static void t_exec_event(void) {
    pid_t pid = pt_traced_child(body_exec);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACEEXEC));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(event_of(st) == PTRACE_EVENT_EXEC);
    unsigned long msg = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
    CHECK(msg == (unsigned long)pid);
    pt_finish(pid, 3);
}

static void t_exec_sigtrap(void) {
    pid_t pid = pt_traced_child(body_exec);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && st >> 8 == SIGTRAP);
    siginfo_t si;
    CHECK_OK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si));
    CHECK(si.si_signo == SIGTRAP && si.si_code == SI_USER);
    pt_finish(pid, 3);
}

static void body_exit(void) { _exit(5); }

static void t_exit_event(void) {
    pid_t pid = pt_traced_child(body_exit);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACEEXIT));
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(event_of(st) == PTRACE_EVENT_EXIT);
    unsigned long msg = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
    CHECK(msg == 5 << 8);
    CHECK(pt_si_code(pid, NULL) == (SIGTRAP | PTRACE_EVENT_EXIT << 8));
    pt_finish(pid, 5);
}

static void body_stop(void) {
    raise(SIGSTOP);
    _exit(9);
}

/* SIGSTOP passed on by the tracer makes a group stop, which the tracer sees too. */
static void t_group_stop(void) {
    pid_t pid = pt_traced_child(body_stop);
    int st;
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, (void *)SIGSTOP));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    /* A group stop has no siginfo: that is how it differs from a signal-delivery stop. */
    errno = 0;
    CHECK(pt_si_code(pid, NULL) == -1 && errno == EINVAL);
    pt_finish(pid, 9);
}

int main(int argc, char **argv) {
    g_argv = argv;
    if (argc > 1 && strcmp(argv[1], "execed") == 0) return 3;
    lt_sub("fork", t_fork, 5000);
    lt_sub("vfork", t_vfork, 5000);
    lt_sub("clone", t_clone, 5000);
    lt_sub("vfork_done", t_vfork_done, 5000);
    lt_sub("fork_untraced", t_fork_untraced, 5000);
    lt_sub("exec_event", t_exec_event, 5000);
    lt_sub("exec_sigtrap", t_exec_sigtrap, 5000);
    lt_sub("exit_event", t_exit_event, 5000);
    lt_sub("group_stop", t_group_stop, 5000);
    DONE();
}
