/* ptrace and seccomp: SECCOMP_RET_TRACE stops a tracee with PTRACE_O_TRACESECCOMP in
 * PTRACE_EVENT_SECCOMP (the filter's data as event message and in GET_SYSCALL_INFO's seccomp
 * record); the tracer may let the call run, change its number (the filters then judge the new
 * call, and a second TRACE lets it run) or skip it with -1 (rax is the result); without the
 * option the call fails with ENOSYS; PTRACE_O_SUSPEND_SECCOMP lifts the filters. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/user.h>

static int g_mode;
static long g_ppid, g_uid, g_gid;

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define IF_NR(n, v) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(v)

/* getppid and getuid are traced, getgid fails with 55. */
static void filter(void) {
    struct sock_filter f[] = {
        LD_NR,
        IF_NR(SYS_getppid, SECCOMP_RET_TRACE | 0x123),
        IF_NR(SYS_getuid, SECCOMP_RET_TRACE | 7),
        IF_NR(SYS_getgid, SECCOMP_RET_ERRNO | 55),
        RET(SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(91);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) _exit(92);
}

static void body(void) {
    filter();
    /* Tell the tracer the filter is in (it may set options that depend on it). */
    raise(SIGSTOP);
    if (g_mode == 7) {
        long g = syscall(SYS_getgid);
        _exit(g == g_gid ? 70 : 71);
    }
    long r = syscall(SYS_getppid, 11, 22, 33);
    switch (g_mode) {
    case 0: _exit(r == g_ppid ? 10 : 11);
    case 1: _exit(r == getpid() ? 20 : 21);
    case 2: _exit(r == 4242 ? 30 : 31);
    case 3: _exit(r == -1 && errno == ENOSYS ? 40 : 41);
    case 4: _exit(r == -1 && errno == 55 ? 50 : 51);
    case 5: _exit(r == g_uid ? 60 : 61);
    default: _exit(r == -1 && errno == ENOSYS ? 80 : 81);
    }
}

/* Starts a traced child in `mode` and lets it run to its second SIGSTOP (filter in place). */
static pid_t start(int mode) {
    g_mode = mode;
    g_ppid = getpid();
    g_uid = getuid();
    g_gid = getgid();
    pid_t pid = pt_traced_child(body);
    int st = pt_cont_wait(pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    return pid;
}

static int event_of(int st) {
    return WIFSTOPPED(st) ? st >> 16 : -1;
}

/* Resumes the child and waits for its seccomp stop; returns its registers. */
static int to_seccomp_stop(pid_t pid, struct user_regs_struct *r) {
    int st = pt_cont_wait(pid);
    if (st == -1) return 0;
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP);
    CHECK(event_of(st) == PTRACE_EVENT_SECCOMP);
    return ptrace(PTRACE_GETREGS, pid, 0, r) == 0;
}

static void traced(int mode) {
    pid_t pid = start(mode);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESECCOMP));
    struct user_regs_struct r;
    if (!to_seccomp_stop(pid, &r)) {
        CHECK(0);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return;
    }
    CHECK(r.orig_rax == SYS_getppid);
    CHECK((long)r.rax == -ENOSYS);
    CHECK(r.rdi == 11 && r.rsi == 22 && r.rdx == 33);
    unsigned long msg = 0;
    CHECK_OK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
    CHECK(msg == 0x123);
    int signo = 0;
    CHECK(pt_si_code(pid, &signo) == (SIGTRAP | PTRACE_EVENT_SECCOMP << 8));
    CHECK(signo == SIGTRAP);
    if (mode == 0) {
        struct sc_info info;
        memset(&info, 0xff, sizeof info);
        long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
        CHECK(n == 84);
        CHECK(info.op == 3 /* PTRACE_SYSCALL_INFO_SECCOMP */);
        CHECK(info.seccomp.nr == SYS_getppid);
        CHECK(info.seccomp.args[0] == 11 && info.seccomp.args[1] == 22 && info.seccomp.args[2] == 33);
        CHECK(info.seccomp.ret_data == 0x123);
        CHECK(info.ip == r.rip);
        errno = 0;
        CHECK(ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, orig_rax), 0) ==
              SYS_getppid);
    }
    if (mode == 1 || mode == 4 || mode == 5) {
        r.orig_rax = mode == 1 ? SYS_getpid : mode == 4 ? SYS_getgid : SYS_getuid;
        CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    } else if (mode == 2) {
        r.orig_rax = -1;
        r.rax = 4242;
        CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    } else if (mode == 3) {
        CHECK_OK(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, orig_rax), -1L));
    }
    /* The rechecked call stops no more (even under a second TRACE). */
    pt_finish(pid, mode * 10 + 10);
}

static void no_option(void) {
    pid_t pid = start(6);
    pt_finish(pid, 80);
}

static void suspend(void) {
    pid_t pid = start(7);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_SUSPEND_SECCOMP));
    pt_finish(pid, 70);
}

/* A tracer under seccomp itself may not lift its tracee's filters. */
static void suspend_refused(void) {
    pid_t pid = start(7);
    struct sock_filter all[] = {RET(SECCOMP_RET_ALLOW)};
    struct sock_fprog p = {1, all};
    CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    CHECK_OK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p));
    CHECK_ERR(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_SUSPEND_SECCOMP), EPERM);
    pt_finish(pid, 71);
}

int main(void) {
    for (int m = 0; m <= 5; m++) traced(m);
    no_option();
    suspend();
    lt_sub("suspend_refused", suspend_refused, 5000);
    DONE();
}
