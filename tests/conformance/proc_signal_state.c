/* Signal state without delivery: rt_sigaction stores and returns handler, flags, restorer and
 * mask; rt_sigprocmask blocks, unblocks and sets the mask; rt_sigpending reports a blocked
 * signal; sigaltstack; fork inherits it all. No handler is ever invoked. The raw system calls
 * use the kernel's struct (handler, flags, restorer, 8-byte mask). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __riscv
/* riscv64 (asm-generic's signal.h) has no SA_RESTORER: the kernel clears the bit, and its
 * struct sigaction has no restorer field (signals return through the vDSO). */
#undef SA_RESTORER
#define SA_RESTORER 0
#elif !defined(SA_RESTORER)
#define SA_RESTORER 0x04000000
#endif
#define SA_UNSUPPORTED_BIT 0x00000400

struct ksa {
    void *handler;
    unsigned long flags;
#ifndef __riscv
    void *restorer;
#endif
    uint64_t mask;
};

#define BIT(s) (1ULL << ((s) - 1))

static long ksigaction(long sig, const struct ksa *act, struct ksa *old) {
    return syscall(SYS_rt_sigaction, sig, act, old, 8);
}
static long kmask(long how, const uint64_t *set, uint64_t *old) {
    return syscall(SYS_rt_sigprocmask, how, set, old, 8);
}
static uint64_t cur_mask(void) {
    uint64_t m = 0xdeadbeef;
    if (kmask(SIG_BLOCK, NULL, &m) != 0) return 0xdeadbeef;
    return m;
}

static void handler(int sig) { (void)sig; }
static void handler2(int sig, siginfo_t *si, void *uc) { (void)sig, (void)si, (void)uc; }
#ifndef __riscv
static void fake_restorer(void) {}
#endif

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    uint64_t saved_mask = cur_mask();

    /* libc sigaction: SIG_IGN for SIGUSR1 reads back. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    memset(&old, 0xff, sizeof old);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0);
    CHECK(old.sa_handler == SIG_IGN);

    /* A handler with SA_RESTART and a mask; replacing returns the previous action. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    memset(&old, 0, sizeof old);
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
    CHECK(old.sa_handler == SIG_IGN);
    memset(&old, 0, sizeof old);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0);
    CHECK(old.sa_handler == handler);
    CHECK(old.sa_flags & SA_RESTART);
    CHECK(!(old.sa_flags & SA_SIGINFO));
    CHECK(sigismember(&old.sa_mask, SIGUSR2) == 1);
    CHECK(sigismember(&old.sa_mask, SIGINT) == 0);

    /* SA_SIGINFO handler through libc. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler2;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    memset(&old, 0, sizeof old);
    CHECK(sigaction(SIGUSR2, NULL, &old) == 0);
    CHECK(old.sa_sigaction == handler2);
    CHECK((old.sa_flags & (SA_SIGINFO | SA_NODEFER)) == (SA_SIGINFO | SA_NODEFER));

    /* Raw: every field comes back exactly; SIGKILL and SIGSTOP are dropped from the mask and
     * unknown flag bits are cleared (so programs can detect them, Linux 5.11+). */
    struct ksa k = {.handler = (void *)handler,
                    .flags = SA_RESTART | SA_SIGINFO | SA_RESTORER | SA_NODEFER | SA_ONSTACK,
#ifndef __riscv
                    .restorer = (void *)fake_restorer,
#endif
                    .mask = BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(40)};
    struct ksa ko;
    CHECK(ksigaction(SIGTERM, &k, NULL) == 0);
    memset(&ko, 0, sizeof ko);
    CHECK(ksigaction(SIGTERM, NULL, &ko) == 0);
    CHECK(ko.handler == (void *)handler);
    CHECK(ko.flags == (SA_RESTART | SA_SIGINFO | SA_RESTORER | SA_NODEFER | SA_ONSTACK));
#ifndef __riscv
    CHECK(ko.restorer == (void *)fake_restorer);
#endif
    CHECK(ko.mask == (BIT(SIGUSR2) | BIT(40)));
    k.flags = SA_RESTORER | SA_RESETHAND | SA_UNSUPPORTED_BIT;
    k.mask = 0;
    memset(&ko, 0, sizeof ko);
    CHECK(ksigaction(SIGTERM, &k, &ko) == 0);
    CHECK(ko.flags == (SA_RESTART | SA_SIGINFO | SA_RESTORER | SA_NODEFER | SA_ONSTACK));
    memset(&ko, 0, sizeof ko);
    CHECK(ksigaction(SIGTERM, NULL, &ko) == 0);
    CHECK(ko.flags == (SA_RESTORER | SA_RESETHAND));
    CHECK(ko.mask == 0);
    k.handler = SIG_DFL;
    k.flags = SA_RESTORER;
    CHECK(ksigaction(SIGTERM, &k, NULL) == 0);
    memset(&ko, 0xff, sizeof ko);
    CHECK(ksigaction(SIGTERM, NULL, &ko) == 0);
    CHECK(ko.handler == SIG_DFL);
    /* The highest real-time signal is a valid target. */
    k.handler = SIG_IGN;
    CHECK(ksigaction(64, &k, NULL) == 0);
    CHECK(ksigaction(64, NULL, &ko) == 0 && ko.handler == SIG_IGN);
    k.handler = SIG_DFL;
    CHECK(ksigaction(64, &k, NULL) == 0);

    /* SIGKILL and SIGSTOP cannot be changed, but can be queried. */
    k.handler = SIG_IGN;
    CHECK_ERR(ksigaction(SIGKILL, &k, NULL), EINVAL);
    CHECK_ERR(ksigaction(SIGSTOP, &k, NULL), EINVAL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    memset(&ko, 0xff, sizeof ko);
    CHECK(ksigaction(SIGKILL, NULL, &ko) == 0);
    CHECK(ko.handler == SIG_DFL);
    CHECK(ksigaction(SIGSTOP, NULL, &ko) == 0);
    /* Invalid signal numbers and set sizes. */
    CHECK_ERR(ksigaction(0, &k, NULL), EINVAL);
    CHECK_ERR(ksigaction(0, NULL, &ko), EINVAL);
    CHECK_ERR(ksigaction(65, &k, NULL), EINVAL);
    CHECK_ERR(ksigaction(65, NULL, &ko), EINVAL);
    CHECK_ERR(ksigaction(-1, &k, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 4), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 16), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ko, 0), EINVAL);
    CHECK_ERR(ksigaction(SIGUSR1, (void *)1, NULL), EFAULT);
    CHECK_ERR(ksigaction(SIGUSR1, NULL, (void *)1), EFAULT);
    /* The failed calls left SIGUSR1's handler alone. */
    CHECK(ksigaction(SIGUSR1, NULL, &ko) == 0 && ko.handler == (void *)handler);

    /* rt_sigprocmask round trips. */
    uint64_t set, o;
    set = 0;
    CHECK(kmask(SIG_SETMASK, &set, NULL) == 0);
    CHECK(cur_mask() == 0);
    set = BIT(SIGUSR1);
    o = 1234;
    CHECK(kmask(SIG_BLOCK, &set, &o) == 0);
    CHECK(o == 0);
    CHECK(cur_mask() == BIT(SIGUSR1));
    set = BIT(SIGUSR2);
    CHECK(kmask(SIG_BLOCK, &set, &o) == 0);
    CHECK(o == BIT(SIGUSR1));
    CHECK(cur_mask() == (BIT(SIGUSR1) | BIT(SIGUSR2)));
    set = BIT(SIGUSR1) | BIT(SIGHUP); /* unblocking an unblocked signal is fine */
    CHECK(kmask(SIG_UNBLOCK, &set, &o) == 0);
    CHECK(o == (BIT(SIGUSR1) | BIT(SIGUSR2)));
    CHECK(cur_mask() == BIT(SIGUSR2));
    set = BIT(SIGINT) | BIT(64) | BIT(35);
    CHECK(kmask(SIG_SETMASK, &set, &o) == 0);
    CHECK(o == BIT(SIGUSR2));
    CHECK(cur_mask() == (BIT(SIGINT) | BIT(64) | BIT(35)));
    /* SIGKILL and SIGSTOP are silently left unblocked. */
    set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGUSR1);
    CHECK(kmask(SIG_BLOCK, &set, NULL) == 0);
    CHECK(cur_mask() == (BIT(SIGINT) | BIT(64) | BIT(35) | BIT(SIGUSR1)));
    set = ~0ULL;
    CHECK(kmask(SIG_SETMASK, &set, NULL) == 0);
    CHECK(cur_mask() == ~(BIT(SIGKILL) | BIT(SIGSTOP)));
    /* Errors leave the mask alone; a bad how is ignored when there is no new set. */
    set = 0;
    CHECK_ERR(kmask(3, &set, NULL), EINVAL);
    CHECK_ERR(kmask(99, &set, &o), EINVAL);
    CHECK_ERR(kmask(-1, &set, NULL), EINVAL);
    CHECK(kmask(99, NULL, &o) == 0);
    CHECK(o == ~(BIT(SIGKILL) | BIT(SIGSTOP)));
    CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 4), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 16), EINVAL);
    CHECK_ERR(kmask(SIG_SETMASK, (void *)1, NULL), EFAULT);
    CHECK_ERR(kmask(SIG_BLOCK, NULL, (void *)1), EFAULT);
    CHECK(cur_mask() == ~(BIT(SIGKILL) | BIT(SIGSTOP)));
    CHECK(kmask(SIG_SETMASK, &set, NULL) == 0);
    CHECK(cur_mask() == 0);

    /* libc sigprocmask agrees with the kernel's view. */
    sigset_t ls, lo;
    sigemptyset(&ls);
    sigaddset(&ls, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &ls, NULL) == 0);
    CHECK(cur_mask() == BIT(SIGALRM));
    CHECK(sigprocmask(SIG_SETMASK, NULL, &lo) == 0);
    CHECK(sigismember(&lo, SIGALRM) == 1 && sigismember(&lo, SIGUSR1) == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &ls, NULL) == 0);
    CHECK(cur_mask() == 0);

    /* sigaltstack: none at first; a too-small stack is refused; one can be set and removed. */
    static char altstack[65536];
    stack_t ss, oss;
    memset(&oss, 0, sizeof oss);
    CHECK(sigaltstack(NULL, &oss) == 0);
    CHECK(oss.ss_flags == SS_DISABLE);
    ss.ss_sp = altstack;
    ss.ss_size = 512;
    ss.ss_flags = 0;
    CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), ENOMEM); /* raw: libc checks these itself */
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0x1234;
    CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), EINVAL);
    ss.ss_flags = 0;
    CHECK(sigaltstack(&ss, NULL) == 0);
    memset(&oss, 0, sizeof oss);
    CHECK(sigaltstack(NULL, &oss) == 0);
    CHECK(oss.ss_sp == altstack && oss.ss_size == sizeof altstack && oss.ss_flags == 0);
    ss.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&ss, NULL) == 0);
    CHECK(sigaltstack(NULL, &oss) == 0 && oss.ss_flags == SS_DISABLE);

    /* fork inherits dispositions and the mask. */
    k.handler = (void *)handler;
    k.flags = SA_RESTORER | SA_RESTART;
    k.mask = BIT(SIGINT);
    CHECK(ksigaction(SIGUSR1, &k, NULL) == 0);
    k.handler = SIG_IGN;
    k.flags = SA_RESTORER;
    k.mask = 0;
    CHECK(ksigaction(SIGUSR2, &k, NULL) == 0);
    set = BIT(SIGHUP) | BIT(50);
    CHECK(kmask(SIG_SETMASK, &set, NULL) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct ksa c1, c2;
        int bad = 0;
        if (ksigaction(SIGUSR1, NULL, &c1) != 0 || c1.handler != (void *)handler || !(c1.flags & SA_RESTART) ||
            c1.mask != BIT(SIGINT))
            bad |= 1;
        if (ksigaction(SIGUSR2, NULL, &c2) != 0 || c2.handler != SIG_IGN) bad |= 2;
        if (cur_mask() != (BIT(SIGHUP) | BIT(50))) bad |= 4;
        uint64_t p = 1;
        if (syscall(SYS_rt_sigpending, &p, 8) != 0 || p != 0) bad |= 8;
        _exit(bad);
    }
    CHECK(pid > 0);
    int st = -1;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        printf("fork child: state mismatch bits %d (1 SIGUSR1 action, 2 SIGUSR2 action, 4 mask, 8 pending)\n",
               WEXITSTATUS(st));

    /* A blocked signal sent to self stays pending (its handler is not run, nothing is
     * delivered); setting SIG_IGN discards it. Done in a child so that a kernel that delivers
     * it anyway shows up as a child killed by SIGUSR1 rather than ending this test. */
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        uint64_t pend = 1;
        if (syscall(SYS_rt_sigpending, &pend, 8) != 0 || pend != 0) bad |= 1;
        set = BIT(SIGUSR1);
        k.handler = (void *)handler;
        k.flags = SA_RESTORER;
        k.mask = 0;
        if (ksigaction(SIGUSR1, &k, NULL) != 0) bad |= 2;
        if (kmask(SIG_SETMASK, &set, NULL) != 0) bad |= 2;
        if (kill(getpid(), SIGUSR1) != 0) bad |= 4;
        if (syscall(SYS_rt_sigpending, &pend, 8) != 0 || pend != BIT(SIGUSR1)) bad |= 8;
        sigset_t lp;
        if (sigpending(&lp) != 0 || sigismember(&lp, SIGUSR1) != 1) bad |= 8;
        if (syscall(SYS_rt_sigpending, &pend, 16) != -1 || errno != EINVAL) bad |= 16;
        if (syscall(SYS_rt_sigpending, (void *)1, 8) != -1 || errno != EFAULT) bad |= 16;
        k.handler = SIG_IGN;
        if (ksigaction(SIGUSR1, &k, NULL) != 0) bad |= 2;
        if (syscall(SYS_rt_sigpending, &pend, 8) != 0 || pend != 0) bad |= 32;
        if (kmask(SIG_UNBLOCK, &set, NULL) != 0) bad |= 2;
        _exit(bad);
    }
    CHECK(pid > 0);
    st = -1;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        printf("pending child: failed bits %d (1 pending not empty at start, 2 setup, 4 kill, 8 not pending after "
               "kill, 16 rt_sigpending errors, 32 SIG_IGN did not discard)\n",
               WEXITSTATUS(st));
    if (WIFSIGNALED(st)) printf("pending child: killed by signal %d although it was blocked\n", WTERMSIG(st));

    /* Put everything back. */
    k.handler = SIG_DFL;
    k.flags = SA_RESTORER;
    CHECK(ksigaction(SIGUSR1, &k, NULL) == 0);
    CHECK(ksigaction(SIGUSR2, &k, NULL) == 0);
    CHECK(kmask(SIG_SETMASK, &saved_mask, NULL) == 0);
    DONE();
}
