/* seccomp: strict mode, and classic-BPF filters with each action (ERRNO with its data capped
 * at 4095, TRAP's SIGSYS and its siginfo, KILL_PROCESS and KILL_THREAD, LOG, TRACE without a
 * tracer), filters reading arguments and the architecture, stacking (the most restrictive
 * answer wins), inheritance across fork, the no_new_privs rule for unprivileged callers,
 * filter checking (EINVAL), SECCOMP_GET_ACTION_AVAIL and PR_GET_SECCOMP. Each case runs in a
 * child, since a filter cannot be removed. Also /proc/sys/kernel/seccomp: actions_avail, and
 * actions_logged as root writes it (restored at the end). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <linux/audit.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv)
#define THIS_ARCH AUDIT_ARCH_RISCV64
#endif
/* A call the test filters to SECCOMP_RET_TRACE: getpgrp is x86_64's; asm-generic (riscv64,
 * aarch64) has getpgid alone. */
#ifdef SYS_getpgrp
#define TRACED_NR SYS_getpgrp
#else
#define TRACED_NR SYS_getpgid
#endif
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

static long sc(unsigned op, unsigned flags, void *args) {
    return syscall(SYS_seccomp, op, flags, args);
}

/* Installs "nr -> action, everything else allowed". */
static int install(long nr, unsigned action) {
    struct sock_filter f[] = {
        LD_NR,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
        RET(action),
        RET(SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {4, f};
    return sc(SECCOMP_SET_MODE_FILTER, 0, &p);
}

/* Runs fn in a child and returns its wait status. */
static int in_child(void (*fn)(void)) {
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        fn();
        fflush(stdout);
        _exit(lt_failures ? 1 : 0);
    }
    int st = -1;
    waitpid(k, &st, 0);
    return st;
}

static void errno_action(void) {
    CHECK(prctl(PR_GET_SECCOMP) == 0);
    CHECK_OK(install(SYS_getppid, SECCOMP_RET_ERRNO | 77));
    CHECK(prctl(PR_GET_SECCOMP) == 2);
    CHECK_ERR(syscall(SYS_getppid), 77);
    CHECK(syscall(SYS_getpid) == getpid());
    /* Data above MAX_ERRNO is capped. */
    CHECK_OK(install(SYS_getuid, SECCOMP_RET_ERRNO | 0xffff));
    CHECK_ERR(syscall(SYS_getuid), 4095);
    /* A later ALLOW does not undo an earlier ERRNO; a TRACE without tracer is ENOSYS. */
    struct sock_filter all[] = {RET(SECCOMP_RET_ALLOW)};
    struct sock_fprog p = {1, all};
    CHECK_OK(sc(SECCOMP_SET_MODE_FILTER, 0, &p));
    CHECK_ERR(syscall(SYS_getppid), 77);
    CHECK_OK(install(TRACED_NR, SECCOMP_RET_TRACE | 3));
    CHECK_ERR(syscall(TRACED_NR, 0), ENOSYS);
    CHECK_OK(install(SYS_getsid, SECCOMP_RET_LOG));
    CHECK(syscall(SYS_getsid, 0) >= 0);
    /* Children inherit the filters. */
    pid_t k = fork();
    if (k == 0)
        _exit(syscall(SYS_getppid) == -1 && errno == 77 ? 0 : 1);
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
}

static void args_and_arch(void) {
    /* Refuse close(1000) only, and kill any other architecture. */
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
        RET(SECCOMP_RET_KILL_PROCESS),
        LD_NR,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000, 0, 1),
        RET(SECCOMP_RET_ERRNO | 5),
        RET(SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {sizeof f / sizeof f[0], f};
    CHECK_OK(sc(SECCOMP_SET_MODE_FILTER, 0, &p));
    CHECK_ERR(close(1000), 5);
    CHECK_ERR(close(1001), EBADF);
}

static volatile siginfo_t trapped;
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    trapped = *si;
}

static void trap_action(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    CHECK_OK(install(SYS_getppid, SECCOMP_RET_TRAP | 42));
    /* The handler sees the registers as they were (Linux's syscall_rollback): the call
     * "returns" what its return register held at entry, on x86_64 its own number, on riscv64
     * and aarch64 its first argument. */
#ifdef __x86_64__
    CHECK(syscall(SYS_getppid, 1234) == SYS_getppid);
#else
    CHECK(syscall(SYS_getppid, 1234) == 1234);
#endif
    CHECK(trapped.si_signo == SIGSYS);
    CHECK(trapped.si_code == 1 /* SYS_SECCOMP */);
    CHECK(trapped.si_errno == 42);
    CHECK(trapped.si_syscall == SYS_getppid);
    CHECK(trapped.si_arch == THIS_ARCH);
    CHECK(trapped.si_call_addr != NULL);
}

static void kill_process(void) {
    /* Even a handler for SIGSYS does not save it. */
    signal(SIGSYS, SIG_IGN);
    install(SYS_getppid, SECCOMP_RET_KILL_PROCESS);
    syscall(SYS_getppid);
    _exit(3);
}

static void kill_thread(void) {
    install(SYS_getppid, SECCOMP_RET_KILL_THREAD);
    syscall(SYS_getppid);
    _exit(3);
}

static void strict(void) {
    CHECK_OK(sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
    if (write(1, "", 0) != 0)
        syscall(SYS_exit, 4);
    syscall(SYS_getpid);
    syscall(SYS_exit, 3);
}

static void unprivileged(void) {
    /* The child set no_new_privs; a fresh grandchild as an unprivileged user without it
     * needs no_new_privs first. */
    pid_t k = fork();
    if (k == 0) {
        if (setuid(65534) != 0)
            _exit(2);
        struct sock_filter all[] = {RET(SECCOMP_RET_ALLOW)};
        struct sock_fprog p = {1, all};
        _exit(sc(SECCOMP_SET_MODE_FILTER, 0, &p) == 0 ? 0 : errno == EACCES ? 5 : 1);
    }
    int st;
    waitpid(k, &st, 0);
    /* The grandchild inherited no_new_privs from this child, so it may filter. */
    CHECK_EXIT(st, 0);
}

static void invalid(void) {
    struct sock_filter ok1[] = {RET(SECCOMP_RET_ALLOW)};
    struct sock_fprog p = {0, ok1};
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, &p), EINVAL);
    p.len = 1;
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 1u << 20, &p), EINVAL);
    CHECK_ERR(sc(99, 0, &p), EINVAL);
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8), EFAULT);
    CHECK_ERR(sc(SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
    struct sock_filter noret[] = {LD_NR};
    struct sock_fprog q = {1, noret};
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, &q), EINVAL);
    struct sock_filter far[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), RET(0)};
    q = (struct sock_fprog){2, far};
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, &q), EINVAL);
    struct sock_filter odd[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), RET(0)};
    q = (struct sock_fprog){2, odd};
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, &q), EINVAL);
    struct sock_filter mem[] = {BPF_STMT(BPF_LD | BPF_MEM, 0), RET(0)};
    q = (struct sock_fprog){2, mem};
    CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, &q), EINVAL);
    CHECK(prctl(PR_GET_SECCOMP) == 0);
    /* Action availability. */
    unsigned a = SECCOMP_RET_KILL_PROCESS;
    CHECK_OK(sc(SECCOMP_GET_ACTION_AVAIL, 0, &a));
    a = SECCOMP_RET_LOG;
    CHECK_OK(sc(SECCOMP_GET_ACTION_AVAIL, 0, &a));
    a = 0x12340000;
    CHECK_ERR(sc(SECCOMP_GET_ACTION_AVAIL, 0, &a), EOPNOTSUPP);
    CHECK_ERR(sc(SECCOMP_GET_ACTION_AVAIL, 1, &a), EINVAL);
    struct seccomp_notif_sizes sz;
    CHECK_OK(sc(SECCOMP_GET_NOTIF_SIZES, 0, &sz));
    CHECK(sz.seccomp_data == sizeof(struct seccomp_data));
    /* prctl's form. */
    CHECK_ERR(prctl(PR_SET_SECCOMP, 7, 0, 0, 0), EINVAL);
    CHECK_OK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0));
    CHECK(prctl(PR_GET_SECCOMP) == 2);
    /* Strict mode cannot follow filter mode. */
    CHECK_ERR(sc(SECCOMP_SET_MODE_STRICT, 0, NULL), EINVAL);
}

#define SYSCTL "/proc/sys/kernel/seccomp/"

/* The whole text of a sysctl file, or "" when it cannot be read. */
static const char *sysctl_text(const char *name) {
    static char buf[256];
    lt_slurp(name, buf, sizeof buf);
    return buf;
}

static void proc_files(void) {
    CHECK(strcmp(sysctl_text(SYSCTL "actions_avail"),
                 "kill_process kill_thread trap errno user_notif trace log allow\n") == 0);
    CHECK_ERR(open(SYSCTL "actions_avail", O_WRONLY), EACCES);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", sysctl_text(SYSCTL "actions_logged"));
    CHECK(saved[0] != 0);
    CHECK_OK(lt_write_file(SYSCTL "actions_logged", "trap errno\n"));
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), "trap errno\n") == 0);
    CHECK_OK(lt_write_file(SYSCTL "actions_logged", "log log"));
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), "log\n") == 0);
    /* Parsing stops at the first empty name. */
    CHECK_OK(lt_write_file(SYSCTL "actions_logged", "kill_process  trap"));
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), "kill_process\n") == 0);
    CHECK_OK(lt_write_file(SYSCTL "actions_logged", " trap"));
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), "\n") == 0);
    CHECK_ERR(lt_write_file(SYSCTL "actions_logged", "allow"), EINVAL);
    CHECK_ERR(lt_write_file(SYSCTL "actions_logged", "trap bogus"), EINVAL);
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), "\n") == 0);
    pid_t k = fork();
    if (k == 0) {
        if (setuid(65534) != 0)
            _exit(2);
        _exit(open(SYSCTL "actions_logged", O_WRONLY) < 0 && errno == EACCES ? 0 : 1);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK_EXIT(st, 0);
    CHECK_OK(lt_write_file(SYSCTL "actions_logged", saved));
    CHECK(strcmp(sysctl_text(SYSCTL "actions_logged"), saved) == 0);
}

int main(void) {
    proc_files();
    CHECK_EXIT(in_child(errno_action), 0);
    CHECK_EXIT(in_child(args_and_arch), 0);
    CHECK_EXIT(in_child(trap_action), 0);
    CHECK_EXIT(in_child(unprivileged), 0);
    CHECK_EXIT(in_child(invalid), 0);
    int st = in_child(kill_process);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
    st = in_child(kill_thread);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
    st = in_child(strict);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    DONE();
}
