/* ptrace syscall stops: PTRACE_SYSCALL's entry and exit stops (SIGTRAP, or SIGTRAP|0x80
 * with TRACESYSGOOD), orig_rax and rax at each, PTRACE_GET_SYSCALL_INFO, changing the call
 * at entry (another number, or -1 to skip it) and its result at exit, and CONT ending the
 * stops. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_mode;

/* After its stop the child makes the marker call getppid() with recognizable arguments and
 * exits with a status computed from its result. */
static void body(void) {
    long r = syscall(SYS_getppid, 11, 22, 33);
    if (g_mode == 0) _exit(r == getppid() ? 10 : 11);
    if (g_mode == 1) _exit(r == getpid() ? 20 : 21); /* rewritten to getpid */
    if (g_mode == 2) _exit(r == 4242 ? 30 : 31);     /* skipped, result set */
    _exit(r == -1 && errno == ENOSYS ? 40 : 41);    /* skipped, result left */
}

static pid_t child(int mode) {
    g_mode = mode;
    return pt_traced_child(body);
}

/* Resumes with PTRACE_SYSCALL until the entry stop of getppid; returns its registers. */
static int to_marker_entry(pid_t pid, int sig, struct user_regs_struct *r) {
    for (int i = 0; i < 50; i++) {
        int st;
        if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0) return 0;
        if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) return 0;
        CHECK(WSTOPSIG(st) == sig);
        if (ptrace(PTRACE_GETREGS, pid, 0, r) != 0) return 0;
        if (r->orig_rax == SYS_getppid && r->rdi == 11) return 1;
        /* That was some other call's entry: skip its exit stop. */
        if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0) return 0;
        if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) return 0;
    }
    return 0;
}

static void next_stop(pid_t pid, int sig) {
    int st;
    CHECK_OK(ptrace(PTRACE_SYSCALL, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == sig);
}


static void t_plain(void) {
    pid_t pid = child(0);
    struct user_regs_struct r;
    CHECK(to_marker_entry(pid, SIGTRAP, &r));
    CHECK((long)r.rax == -ENOSYS);
    int signo = 0;
    CHECK(pt_si_code(pid, &signo) == SIGTRAP && signo == SIGTRAP);
    CHECK(r.rsi == 22 && r.rdx == 33);
    next_stop(pid, SIGTRAP);
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK(r.orig_rax == SYS_getppid && (pid_t)r.rax == getpid());
    pt_finish(pid, 10);
}

static void t_sysgood_info(void) {
    pid_t pid = child(0);
    CHECK_OK(ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACESYSGOOD));
    struct user_regs_struct r;
    CHECK(to_marker_entry(pid, SIGTRAP | 0x80, &r));
    CHECK(pt_si_code(pid, NULL) == (SIGTRAP | 0x80));
    struct sc_info si;
    memset(&si, 0xff, sizeof si);
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
    CHECK(n == 80);
    CHECK(si.op == 1 && si.arch == 0xc000003e);
    CHECK(si.entry.nr == SYS_getppid && si.entry.args[0] == 11 && si.entry.args[1] == 22);
    CHECK(si.ip == r.rip && si.sp == r.rsp);
    /* A short buffer gets a prefix; the full size is returned anyway. */
    memset(&si, 0xff, sizeof si);
    CHECK(ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)1, &si) == 80);
    CHECK(si.op == 1 && si.pad[0] == 0xff);
    next_stop(pid, SIGTRAP | 0x80);
    memset(&si, 0, sizeof si);
    n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
    CHECK(n == 33);
    CHECK(si.op == 2 && si.exit.rval == getpid() && si.exit.is_error == 0);
    pt_finish(pid, 10);
}

static void t_rewrite_nr(void) {
    pid_t pid = child(1);
    struct user_regs_struct r;
    CHECK(to_marker_entry(pid, SIGTRAP, &r));
    r.orig_rax = SYS_getpid;
    CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    next_stop(pid, SIGTRAP);
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK(r.orig_rax == SYS_getpid && (pid_t)r.rax == pid);
    pt_finish(pid, 20);
}

static void t_skip_set(void) {
    pid_t pid = child(2);
    struct user_regs_struct r;
    CHECK(to_marker_entry(pid, SIGTRAP, &r));
    r.orig_rax = -1;
    CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    next_stop(pid, SIGTRAP);
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK((long)r.orig_rax == -1 && (long)r.rax == -ENOSYS);
    r.rax = 4242;
    CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    pt_finish(pid, 30);
}

static void t_skip_plain(void) {
    pid_t pid = child(3);
    struct user_regs_struct r;
    CHECK(to_marker_entry(pid, SIGTRAP, &r));
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user_regs_struct, orig_rax),
                    (void *)-1L));
    pt_finish(pid, 40);
}

int main(void) {
    lt_sub("plain", t_plain, 5000);
    lt_sub("sysgood_info", t_sysgood_info, 5000);
    lt_sub("rewrite_nr", t_rewrite_nr, 5000);
    lt_sub("skip_set", t_skip_set, 5000);
    lt_sub("skip_plain", t_skip_plain, 5000);
    DONE();
}
