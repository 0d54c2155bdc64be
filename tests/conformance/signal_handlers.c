/* Signal handlers: siginfo contents for kill, tkill/tgkill, sigqueue and rt_sigqueueinfo;
 * SA_RESETHAND, SA_NODEFER, sa_mask, the ucontext's uc_sigmask (read and written), nesting of
 * different signals, coalescing of standard signals, queueing and ordering of real-time signals,
 * rt_sigpending, SIG_IGN discarding pending signals, sigaltstack with SA_ONSTACK (and
 * SS_AUTODISARM), and FPU/SSE/AVX state preserved across a handler. Each part runs in its own
 * child with a time limit, so one kernel bug shows as one failed part. */
#define _GNU_SOURCE
#include "lintel_test.h"
#ifdef __x86_64__
#include <cpuid.h>
#endif
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define now_ms lt_now_ms

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

static void set_handler(int sig, void (*h)(int), int flags, const sigset_t *mask) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static void set_info_handler(int sig, void (*h)(int, siginfo_t *, void *), int flags,
                             const sigset_t *mask) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags | SA_SIGINFO;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static int is_blocked(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static int is_pending(int sig) {
    sigset_t p;
    sigemptyset(&p);
    sigpending(&p);
    return sigismember(&p, sig);
}

static void block(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
}

static void unblock(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- siginfo of the various senders ---- */

static volatile int count;
static volatile int last_sig;
static siginfo_t last_info;

static void info_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_sig = sig;
    last_info = *si;
    count++;
}

static void reset_info(void) {
    count = 0;
    last_sig = 0;
    memset(&last_info, 0x5a, sizeof last_info);
}

static void t_siginfo(void) {
    set_info_handler(SIGUSR1, info_handler, 0, NULL);
    pid_t me = getpid();

    /* kill: SI_USER with the sender's pid and uid, delivered before kill returns. */
    reset_info();
    CHECK(kill(me, SIGUSR1) == 0);
    CHECK(count == 1);
    CHECK(last_sig == SIGUSR1);
    CHECK(last_info.si_signo == SIGUSR1);
    CHECK(last_info.si_code == SI_USER);
    CHECK(last_info.si_errno == 0);
    CHECK(last_info.si_pid == me);
    CHECK(last_info.si_uid == getuid());

    /* raise, tgkill and tkill: SI_TKILL. */
    reset_info();
    CHECK(raise(SIGUSR1) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_signo == SIGUSR1);
    CHECK(last_info.si_code == SI_TKILL);
    CHECK(last_info.si_pid == me);
    CHECK(last_info.si_uid == getuid());

    reset_info();
    CHECK(syscall(SYS_tgkill, me, gettid_(), SIGUSR1) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_code == SI_TKILL);
    CHECK(last_info.si_pid == me);
    CHECK(last_info.si_uid == getuid());

    reset_info();
    CHECK(syscall(SYS_tkill, gettid_(), SIGUSR1) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_code == SI_TKILL);
    CHECK(last_info.si_pid == me);

    /* sigqueue: SI_QUEUE with the value, an int or a pointer. */
    reset_info();
    union sigval v;
    memset(&v, 0, sizeof v);
    v.sival_int = 42;
    CHECK(sigqueue(me, SIGUSR1, v) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_signo == SIGUSR1);
    CHECK(last_info.si_code == SI_QUEUE);
    CHECK(last_info.si_pid == me);
    CHECK(last_info.si_uid == getuid());
    CHECK(last_info.si_value.sival_int == 42);
    CHECK(last_info.si_int == 42);

    reset_info();
    v.sival_ptr = (void *)&count;
    CHECK(sigqueue(me, SIGUSR1, v) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_code == SI_QUEUE);
    CHECK(last_info.si_value.sival_ptr == (void *)&count);
    CHECK(last_info.si_ptr == (void *)&count);

    /* rt_sigqueueinfo and rt_tgsigqueueinfo pass the caller's siginfo through (the signal
     * number is taken from the argument). */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = me;
    si.si_uid = getuid();
    si.si_value.sival_int = 99;
    reset_info();
    CHECK(syscall(SYS_rt_sigqueueinfo, me, SIGUSR1, &si) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_signo == SIGUSR1);
    CHECK(last_info.si_code == SI_QUEUE);
    CHECK(last_info.si_value.sival_int == 99);
    CHECK(last_info.si_pid == me);

    si.si_code = -42; /* any negative code may be sent */
    si.si_value.sival_int = 7;
    reset_info();
    CHECK(syscall(SYS_rt_tgsigqueueinfo, me, gettid_(), SIGUSR1, &si) == 0);
    CHECK(count == 1);
    CHECK(last_info.si_code == -42);
    CHECK(last_info.si_value.sival_int == 7);

    /* Impersonating kill() or the kernel towards another process is refused. */
    pid_t child = fork();
    if (child == 0) {
        for (;;) pause();
    }
    CHECK(child > 0);
    count = 0;
    si.si_code = SI_USER;
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si), EPERM);
    si.si_code = SI_TKILL;
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si), EPERM);
    si.si_code = SI_KERNEL;
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si), EPERM);
    si.si_code = SI_QUEUE;
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, me, 0x41, &si), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigqueueinfo, me, SIGUSR1, (void *)8), EFAULT);
    CHECK_ERR(syscall(SYS_tgkill, me, gettid_(), 65), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, 0, gettid_(), SIGUSR1), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, me, 0, SIGUSR1), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, child, gettid_(), SIGUSR1), ESRCH); /* wrong group */
    CHECK(kill(child, SIGKILL) == 0);
    int st = 0;
    CHECK(waitpid(child, &st, 0) == child);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(count == 0); /* none of the refused calls delivered anything here */
}

/* ---- SA_RESETHAND ---- */

static volatile int reset_seen_dfl = -1;

static void reset_handler(int sig) {
    struct sigaction o;
    memset(&o, 0, sizeof o);
    sigaction(sig, NULL, &o);
    reset_seen_dfl = o.sa_handler == SIG_DFL;
    count++;
}

static void t_resethand(void) {
    count = 0;
    set_handler(SIGUSR2, reset_handler, SA_RESETHAND, NULL);
    struct sigaction o;
    CHECK(sigaction(SIGUSR2, NULL, &o) == 0);
    CHECK(o.sa_handler == reset_handler);
    CHECK(o.sa_flags & SA_RESETHAND);
    CHECK(raise(SIGUSR2) == 0);
    CHECK(count == 1);
    CHECK(reset_seen_dfl == 1); /* reset before the handler runs */
    memset(&o, 0, sizeof o);
    CHECK(sigaction(SIGUSR2, NULL, &o) == 0);
    CHECK(o.sa_handler == SIG_DFL);
    /* The next one takes the default action: termination. */
    pid_t pid = fork();
    if (pid == 0) {
        raise(SIGUSR2);
        _exit(50);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR2);
    CHECK(count == 1);
}

/* ---- SA_NODEFER and the implicit blocking of the handled signal ---- */

static volatile int depth, maxdepth, calls, seen_blocked, seen_unblocked;

static void nest_handler(int sig) {
    depth++;
    if (depth > maxdepth) maxdepth = depth;
    calls++;
    if (is_blocked(sig))
        seen_blocked++;
    else
        seen_unblocked++;
    if (calls < 3) raise(sig);
    depth--;
}

static void t_nodefer(void) {
    depth = maxdepth = calls = seen_blocked = seen_unblocked = 0;
    set_handler(SIGUSR1, nest_handler, SA_NODEFER, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(calls == 3);
    CHECK(maxdepth == 3); /* each raise nested inside the previous handler */
    CHECK(seen_unblocked == 3 && seen_blocked == 0);
    CHECK(depth == 0);
    CHECK(!is_blocked(SIGUSR1));

    /* Without SA_NODEFER the signal is blocked in the handler; the raise inside stays pending
     * and runs after the handler returns. */
    depth = maxdepth = calls = seen_blocked = seen_unblocked = 0;
    set_handler(SIGUSR1, nest_handler, 0, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(calls == 3);
    CHECK(maxdepth == 1);
    CHECK(seen_blocked == 3 && seen_unblocked == 0);
    CHECK(!is_blocked(SIGUSR1));
    CHECK(!is_pending(SIGUSR1));
}

/* ---- sa_mask, and nesting of a different signal ---- */

static volatile int order[16];
static volatile int norder;
static volatile int in_usr1_mask_usr1, in_usr1_mask_usr2, in_usr1_mask_hup, usr2_pending_inside;

static void usr1_raises_usr2(int sig) {
    (void)sig;
    order[norder++] = 1;
    in_usr1_mask_usr1 = is_blocked(SIGUSR1);
    in_usr1_mask_usr2 = is_blocked(SIGUSR2);
    in_usr1_mask_hup = is_blocked(SIGHUP);
    raise(SIGUSR2);
    usr2_pending_inside = is_pending(SIGUSR2);
    order[norder++] = 3;
}

static void usr2_mark(int sig) {
    (void)sig;
    order[norder++] = 2;
}

static void t_samask(void) {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    set_handler(SIGUSR1, usr1_raises_usr2, 0, &m);
    set_handler(SIGUSR2, usr2_mark, 0, NULL);
    norder = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(in_usr1_mask_usr1 == 1);
    CHECK(in_usr1_mask_usr2 == 1);
    CHECK(in_usr1_mask_hup == 0);
    CHECK(usr2_pending_inside == 1);
    /* SIGUSR2 ran after SIGUSR1's handler returned. */
    CHECK(norder == 3);
    CHECK(order[0] == 1 && order[1] == 3 && order[2] == 2);
    CHECK(!is_blocked(SIGUSR1) && !is_blocked(SIGUSR2));

    /* Without the mask, SIGUSR2's handler nests inside SIGUSR1's. */
    set_handler(SIGUSR1, usr1_raises_usr2, 0, NULL);
    norder = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(in_usr1_mask_usr1 == 1);
    CHECK(in_usr1_mask_usr2 == 0);
    CHECK(usr2_pending_inside == 0);
    CHECK(norder == 3);
    CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
}

/* ---- ucontext uc_sigmask: holds the pre-handler mask; writing it changes the mask after
 * sigreturn ---- */

static volatile int uc_rt5, uc_usr1, uc_usr2, cur_rt5, cur_usr1, cur_usr2, uc_calls, uc_modify;

static void uc_handler(int sig, siginfo_t *si, void *ucv) {
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    uc_rt5 = sigismember(&uc->uc_sigmask, SIGRTMIN + 5);
    uc_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
    uc_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
    cur_rt5 = is_blocked(SIGRTMIN + 5);
    cur_usr1 = is_blocked(SIGUSR1);
    cur_usr2 = is_blocked(SIGUSR2);
    if (uc_modify) sigaddset(&uc->uc_sigmask, SIGWINCH);
    uc_calls++;
}

static void t_ucontext(void) {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    set_info_handler(SIGUSR1, uc_handler, 0, &m);
    block(SIGRTMIN + 5);
    uc_calls = 0;
    uc_modify = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(uc_calls == 1);
    CHECK(uc_rt5 == 1);
    CHECK(uc_usr1 == 0);
    CHECK(uc_usr2 == 0);
    CHECK(cur_rt5 == 1 && cur_usr1 == 1 && cur_usr2 == 1);
    CHECK(is_blocked(SIGRTMIN + 5) && !is_blocked(SIGUSR1) && !is_blocked(SIGUSR2));

    uc_modify = 1;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(uc_calls == 2);
    CHECK(is_blocked(SIGWINCH)); /* sigreturn took the mask from the frame */
    CHECK(is_blocked(SIGRTMIN + 5));
    CHECK(!is_blocked(SIGUSR1) && !is_blocked(SIGUSR2));
    uint64_t raw = 0;
    CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &raw, 8) == 0);
    CHECK(raw == ((1ULL << (SIGWINCH - 1)) | (1ULL << (SIGRTMIN + 5 - 1))));
}

/* ---- standard signals coalesce; real-time signals queue, in order ---- */

static volatile int vals[16];
static volatile int sigs[16];
static volatile int nvals;

static void record_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (nvals < 16) {
        sigs[nvals] = sig;
        vals[nvals] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
    }
    nvals++;
}

static void t_coalesce(void) {
    count = 0;
    set_info_handler(SIGUSR1, info_handler, 0, NULL);
    block(SIGUSR1);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(count == 0);
    CHECK(is_pending(SIGUSR1));
    uint64_t p = 0;
    CHECK(syscall(SYS_rt_sigpending, &p, 8) == 0);
    CHECK(p == (1ULL << (SIGUSR1 - 1)));
    unblock(SIGUSR1);
    CHECK(count == 1);
    CHECK(!is_pending(SIGUSR1));
    p = 1;
    CHECK(syscall(SYS_rt_sigpending, &p, 8) == 0);
    CHECK(p == 0);
    /* The same for signals sent to the process. */
    count = 0;
    block(SIGUSR1);
    for (int i = 0; i < 3; i++) CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(count == 0);
    CHECK(is_pending(SIGUSR1));
    unblock(SIGUSR1);
    CHECK(count == 1);
    CHECK(!is_pending(SIGUSR1));
}

static void t_rtqueue(void) {
    nvals = 0;
    set_info_handler(SIGRTMIN, record_handler, 0, NULL);
    block(SIGRTMIN);
    union sigval v;
    memset(&v, 0, sizeof v);
    for (int i = 1; i <= 3; i++) {
        v.sival_int = i * 10;
        CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0);
    }
    CHECK(nvals == 0);
    CHECK(is_pending(SIGRTMIN));
    uint64_t p = 0;
    CHECK(syscall(SYS_rt_sigpending, &p, 8) == 0);
    CHECK(p == (1ULL << (SIGRTMIN - 1)));
    unblock(SIGRTMIN);
    CHECK(nvals == 3);
    CHECK(vals[0] == 10 && vals[1] == 20 && vals[2] == 30);
    CHECK(!is_pending(SIGRTMIN));

    /* Several pending signals are delivered lowest number first (each handler blocks all, so
     * they run one after another): standard before real-time, and among real-time signals the
     * lower number first, each signal's queue in order. All are sent to the process. */
    sigset_t all;
    sigfillset(&all);
    set_info_handler(SIGUSR1, record_handler, 0, &all);
    set_info_handler(SIGUSR2, record_handler, 0, &all);
    set_info_handler(SIGRTMIN + 1, record_handler, 0, &all);
    set_info_handler(SIGRTMIN + 2, record_handler, 0, &all);
    sigset_t old;
    CHECK(sigprocmask(SIG_BLOCK, &all, &old) == 0);
    nvals = 0;
    v.sival_int = 1;
    CHECK(sigqueue(getpid(), SIGRTMIN + 2, v) == 0);
    v.sival_int = 2;
    CHECK(sigqueue(getpid(), SIGRTMIN + 1, v) == 0);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    v.sival_int = 3;
    CHECK(sigqueue(getpid(), SIGRTMIN + 2, v) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(nvals == 0);
    p = 0;
    CHECK(syscall(SYS_rt_sigpending, &p, 8) == 0);
    CHECK(p == ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 1 - 1)) |
                (1ULL << (SIGRTMIN + 2 - 1))));
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK(nvals == 5);
    CHECK(sigs[0] == SIGUSR1);
    CHECK(sigs[1] == SIGUSR2);
    CHECK(sigs[2] == SIGRTMIN + 1 && vals[2] == 2);
    CHECK(sigs[3] == SIGRTMIN + 2 && vals[3] == 1);
    CHECK(sigs[4] == SIGRTMIN + 2 && vals[4] == 3);
}

/* ---- SIG_IGN discards pending signals; a blocked signal is queued even when ignored ---- */

/* rt_sigaction with an unreadable new action fails with EFAULT and changes nothing; with an
 * unwritable old-action pointer it fails with EFAULT after installing the new action (Linux
 * copies the old action out after do_sigaction). The kernel's struct: handler, flags, then
 * (restorer and) mask, all zero here. */
static void t_sigaction_efault(void) {
    struct sigaction o;
    unsigned long kact[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
    set_handler(SIGWINCH, SIG_DFL, 0, NULL);
    CHECK_ERR(syscall(SYS_rt_sigaction, SIGWINCH, (void *)8, NULL, 8), EFAULT);
    CHECK(sigaction(SIGWINCH, NULL, &o) == 0);
    CHECK(o.sa_handler == SIG_DFL);
    CHECK_ERR(syscall(SYS_rt_sigaction, SIGWINCH, kact, (void *)8, 8), EFAULT);
    CHECK(sigaction(SIGWINCH, NULL, &o) == 0);
    CHECK(o.sa_handler == SIG_IGN);
    set_handler(SIGWINCH, SIG_DFL, 0, NULL);
}

static void t_ignore(void) {
    count = 0;
    set_info_handler(SIGUSR1, info_handler, 0, NULL);
    block(SIGUSR1);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(is_pending(SIGUSR1));
    set_handler(SIGUSR1, SIG_IGN, 0, NULL);
    CHECK(!is_pending(SIGUSR1));
    set_info_handler(SIGUSR1, info_handler, 0, NULL);
    unblock(SIGUSR1);
    CHECK(count == 0);

    /* All queued instances of a real-time signal go. */
    set_info_handler(SIGRTMIN + 3, info_handler, 0, NULL);
    block(SIGRTMIN + 3);
    union sigval v;
    memset(&v, 0, sizeof v);
    CHECK(sigqueue(getpid(), SIGRTMIN + 3, v) == 0);
    CHECK(sigqueue(getpid(), SIGRTMIN + 3, v) == 0);
    CHECK(is_pending(SIGRTMIN + 3));
    set_handler(SIGRTMIN + 3, SIG_IGN, 0, NULL);
    CHECK(!is_pending(SIGRTMIN + 3));
    set_info_handler(SIGRTMIN + 3, info_handler, 0, NULL);
    unblock(SIGRTMIN + 3);
    CHECK(count == 0);

    /* Setting SIG_DFL for a signal whose default is to ignore also discards it. */
    set_info_handler(SIGWINCH, info_handler, 0, NULL);
    block(SIGWINCH);
    CHECK(raise(SIGWINCH) == 0);
    CHECK(is_pending(SIGWINCH));
    set_handler(SIGWINCH, SIG_DFL, 0, NULL);
    CHECK(!is_pending(SIGWINCH));
    set_info_handler(SIGWINCH, info_handler, 0, NULL);
    unblock(SIGWINCH);
    CHECK(count == 0);

    /* An unblocked ignored signal is dropped at once. */
    set_handler(SIGUSR2, SIG_IGN, 0, NULL);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(!is_pending(SIGUSR2));

    /* A blocked signal is queued even while ignored (the handler may change before it is
     * unblocked): it is pending, and a handler installed later runs when it is unblocked. */
    block(SIGUSR2);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(is_pending(SIGUSR2));
    set_info_handler(SIGUSR2, info_handler, 0, NULL);
    CHECK(is_pending(SIGUSR2));
    reset_info();
    unblock(SIGUSR2);
    CHECK(count == 1);
    CHECK(last_sig == SIGUSR2);
    CHECK(last_info.si_code == SI_USER);
}

/* ---- sigaltstack and SA_ONSTACK ---- */

#define ALT_SIZE 65536
static char *alt, *alt2;
static volatile int h_try = 1, h_on_alt, h_flags, h_eperm_set, h_eperm_disable, h_calls, h_nested_on_alt;
static volatile uintptr_t h_local_addr, h_nested_local_addr;

static int in_alt(const volatile void *p) {
    return (const char *)p >= alt && (const char *)p < alt + ALT_SIZE;
}

static void nested_onstack_handler(int sig) {
    (void)sig;
    volatile char local = 0;
    h_nested_on_alt = in_alt(&local);
    h_nested_local_addr = (uintptr_t)&local;
}

static void onstack_handler(int sig) {
    (void)sig;
    volatile char local = 0;
    h_calls++;
    h_on_alt = in_alt(&local);
    h_local_addr = (uintptr_t)&local;
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    sigaltstack(NULL, &cur);
    h_flags = cur.ss_flags;
    if (!h_try) return;
    stack_t n = {.ss_sp = alt2, .ss_size = ALT_SIZE, .ss_flags = 0};
    errno = 0;
    h_eperm_set = sigaltstack(&n, NULL) == -1 && errno == EPERM;
    n.ss_flags = SS_DISABLE;
    errno = 0;
    h_eperm_disable = syscall(SYS_sigaltstack, &n, NULL) == -1 && errno == EPERM;
    raise(SIGUSR2); /* SA_ONSTACK too: nests further down the same alternate stack */
}

static void t_altstack(void) {
    alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    alt2 = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(alt != MAP_FAILED && alt2 != MAP_FAILED);
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    set_handler(SIGUSR1, onstack_handler, SA_ONSTACK, NULL);
    set_handler(SIGUSR2, nested_onstack_handler, SA_ONSTACK, NULL);
    h_calls = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(h_calls == 1);
    CHECK(h_on_alt == 1);
    CHECK(h_flags == SS_ONSTACK);
    CHECK(h_eperm_set == 1);
    CHECK(h_eperm_disable == 1);
    CHECK(h_nested_on_alt == 1);
    CHECK(h_nested_local_addr < h_local_addr);
    /* Back on the normal stack: not on it any more, and it can be changed. */
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    CHECK(sigaltstack(NULL, &cur) == 0);
    CHECK(cur.ss_flags == 0);
    CHECK(cur.ss_sp == alt && cur.ss_size == ALT_SIZE);

    /* A handler without SA_ONSTACK stays on the normal stack and sees flags 0. */
    set_handler(SIGUSR1, onstack_handler, 0, NULL);
    set_handler(SIGUSR2, nested_onstack_handler, 0, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(h_calls == 2);
    CHECK(h_on_alt == 0);
    CHECK(h_flags == 0);
    /* Off the alternate stack, the handler could replace it and then disable it, but
     * rt_sigreturn restores the one saved in the frame's uc_stack. */
    CHECK(h_eperm_set == 0);
    CHECK(h_eperm_disable == 0);
    CHECK(h_nested_on_alt == 0);
    memset(&cur, 0, sizeof cur);
    CHECK(sigaltstack(NULL, &cur) == 0);
    CHECK(cur.ss_sp == alt && cur.ss_size == ALT_SIZE && cur.ss_flags == 0);

    /* Disabled: SA_ONSTACK handlers run on the normal stack. */
    h_try = 0;
    ss.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&ss, NULL) == 0);
    set_handler(SIGUSR1, onstack_handler, SA_ONSTACK, NULL);
    set_handler(SIGUSR2, nested_onstack_handler, SA_ONSTACK, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(h_calls == 3);
    CHECK(h_on_alt == 0);
    CHECK(h_flags == SS_DISABLE);
    memset(&cur, 0, sizeof cur);
    CHECK(sigaltstack(NULL, &cur) == 0);
    CHECK(cur.ss_flags == SS_DISABLE);
}

/* SS_AUTODISARM: the alternate stack is disarmed while the handler runs and comes back after. */
static volatile int ad_on_alt, ad_flags;

static void autodisarm_handler(int sig) {
    (void)sig;
    volatile char local = 0;
    ad_on_alt = in_alt(&local);
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    syscall(SYS_sigaltstack, NULL, &cur);
    ad_flags = cur.ss_flags;
}

static void t_autodisarm(void) {
    alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(alt != MAP_FAILED);
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = (int)SS_AUTODISARM};
    CHECK(syscall(SYS_sigaltstack, &ss, NULL) == 0);
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    CHECK(syscall(SYS_sigaltstack, NULL, &cur) == 0);
    CHECK(cur.ss_sp == alt && cur.ss_size == ALT_SIZE && cur.ss_flags == (int)SS_AUTODISARM);
    set_handler(SIGUSR1, autodisarm_handler, SA_ONSTACK, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(ad_on_alt == 1);
    CHECK(ad_flags == SS_DISABLE);
    memset(&cur, 0, sizeof cur);
    CHECK(syscall(SYS_sigaltstack, NULL, &cur) == 0);
    CHECK(cur.ss_sp == alt && cur.ss_size == ALT_SIZE && cur.ss_flags == (int)SS_AUTODISARM);
}

/* ---- FPU, SSE and AVX state across a handler ---- */

/* x86_64's FPU/SSE/AVX registers (the ports' FP/SIMD state across a handler: tests/boot). */
#ifdef __x86_64__
static volatile int fpu_mxcsr_in, fpu_cw_in, fpu_use_avx, fpu_calls;
static volatile double fpu_result;

static void fpu_handler(int sig) {
    (void)sig;
    unsigned int mx = 0;
    unsigned short cw = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    fpu_mxcsr_in = mx;
    fpu_cw_in = cw;
    /* Use floating point and wreck every vector register. */
    volatile double a = 1.5, b = 3.25;
    for (int i = 0; i < 10; i++) a = a * b + 0.125 / b;
    fpu_result = a;
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\t"
                     "pcmpeqd %%xmm2, %%xmm2\n\tpcmpeqd %%xmm3, %%xmm3\n\t"
                     "pcmpeqd %%xmm4, %%xmm4\n\tpcmpeqd %%xmm5, %%xmm5\n\t"
                     "pcmpeqd %%xmm6, %%xmm6\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
                     "pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9\n\t"
                     "pcmpeqd %%xmm10, %%xmm10\n\tpcmpeqd %%xmm11, %%xmm11\n\t"
                     "pcmpeqd %%xmm12, %%xmm12\n\tpcmpeqd %%xmm13, %%xmm13\n\t"
                     "pcmpeqd %%xmm14, %%xmm14\n\tpcmpeqd %%xmm15, %%xmm15\n\t"
                     "ldmxcsr %0\n\t"
                     :
                     : "m"((unsigned int){0x1f80 | 0x2000})
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    if (fpu_use_avx)
        __asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvpcmpeqd %%ymm7, %%ymm7, %%ymm7\n\t"
                         "vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n\tvpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                         "vzeroupper\n\t"
                         "vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n\t"
                         :
                         :
                         : "xmm0", "xmm1", "xmm7", "xmm8", "xmm15");
    unsigned short badcw = 0x037f & ~0x0300; /* single precision */
    __asm__ volatile("fldcw %0" : : "m"(badcw));
    fpu_calls++;
}

static int have_avx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0; /* OSXSAVE, AVX */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

/* Loads xmm0-15 from in, sends sig to this thread with a raw tgkill (the handler runs on the
 * way back from that system call), stores xmm0-15 to out. */
static long sse_roundtrip(const unsigned char *in, unsigned char *out, int sig) {
    long ret;
    __asm__ volatile("movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\t"
                     "movdqu 32(%[in]), %%xmm2\n\tmovdqu 48(%[in]), %%xmm3\n\t"
                     "movdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"
                     "movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\t"
                     "movdqu 128(%[in]), %%xmm8\n\tmovdqu 144(%[in]), %%xmm9\n\t"
                     "movdqu 160(%[in]), %%xmm10\n\tmovdqu 176(%[in]), %%xmm11\n\t"
                     "movdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\t"
                     "movdqu 224(%[in]), %%xmm14\n\tmovdqu 240(%[in]), %%xmm15\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\t"
                     "movdqu %%xmm2, 32(%[out])\n\tmovdqu %%xmm3, 48(%[out])\n\t"
                     "movdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, 80(%[out])\n\t"
                     "movdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\t"
                     "movdqu %%xmm8, 128(%[out])\n\tmovdqu %%xmm9, 144(%[out])\n\t"
                     "movdqu %%xmm10, 160(%[out])\n\tmovdqu %%xmm11, 176(%[out])\n\t"
                     "movdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\t"
                     "movdqu %%xmm14, 224(%[out])\n\tmovdqu %%xmm15, 240(%[out])\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_tgkill), "D"((long)getpid()), "S"((long)gettid_()),
                       "d"((long)sig), [in] "r"(in), [out] "r"(out)
                     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                       "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
                       "xmm15");
    return ret;
}

/* The same with the full 256-bit ymm0, ymm7, ymm8 and ymm15. */
static long avx_roundtrip(const unsigned char *in, unsigned char *out, int sig) {
    long ret;
    __asm__ volatile("vmovdqu 0(%[in]), %%ymm0\n\tvmovdqu 32(%[in]), %%ymm7\n\t"
                     "vmovdqu 64(%[in]), %%ymm8\n\tvmovdqu 96(%[in]), %%ymm15\n\t"
                     "syscall\n\t"
                     "vmovdqu %%ymm0, 0(%[out])\n\tvmovdqu %%ymm7, 32(%[out])\n\t"
                     "vmovdqu %%ymm8, 64(%[out])\n\tvmovdqu %%ymm15, 96(%[out])\n\t"
                     "vzeroupper\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_tgkill), "D"((long)getpid()), "S"((long)gettid_()),
                       "d"((long)sig), [in] "r"(in), [out] "r"(out)
                     : "rcx", "r11", "memory", "xmm0", "xmm7", "xmm8", "xmm15");
    return ret;
}

static void t_fpu(void) {
    set_handler(SIGUSR1, fpu_handler, 0, NULL);
    fpu_use_avx = have_avx();

    /* Non-default MXCSR (round toward zero) and x87 control word (double precision) in the
     * interrupted code; the handler starts with the defaults. */
    unsigned int mx_main = 0x1f80 | 0x6000, mx_after = 0;
    unsigned short cw_main = 0x027f, cw_after = 0;
    __asm__ volatile("ldmxcsr %0" : : "m"(mx_main));
    __asm__ volatile("fldcw %0" : : "m"(cw_main));

    unsigned char in[256], out[256];
    for (int i = 0; i < 256; i++) in[i] = (unsigned char)(i * 7 + 3);
    memset(out, 0, sizeof out);
    fpu_calls = 0;
    long r = sse_roundtrip(in, out, SIGUSR1);
    __asm__ volatile("stmxcsr %0" : "=m"(mx_after));
    __asm__ volatile("fnstcw %0" : "=m"(cw_after));
    CHECK(r == 0);
    CHECK(fpu_calls == 1);
    CHECK(memcmp(in, out, sizeof in) == 0);
    for (int i = 0; i < 16; i++)
        if (memcmp(in + 16 * i, out + 16 * i, 16) != 0) printf("xmm%d was not preserved\n", i);
    CHECK(mx_after == mx_main);
    CHECK(cw_after == cw_main);
    CHECK(fpu_mxcsr_in == 0x1f80);
    CHECK(fpu_cw_in == 0x037f);
    if (fpu_mxcsr_in != 0x1f80 || fpu_cw_in != 0x037f)
        printf("handler started with mxcsr %#x fcw %#x\n", fpu_mxcsr_in, fpu_cw_in);
    unsigned int mx_def = 0x1f80;
    unsigned short cw_def = 0x037f;
    __asm__ volatile("ldmxcsr %0" : : "m"(mx_def));
    __asm__ volatile("fldcw %0" : : "m"(cw_def));

    /* Ordinary floating-point code around a handler keeps its values. */
    volatile double x = 1.0;
    double acc = 0.0;
    for (int i = 1; i <= 20; i++) {
        acc += x / i;
        if (i == 10) raise(SIGUSR1);
    }
    double expect = 0.0;
    for (int i = 1; i <= 20; i++) expect += 1.0 / i;
    CHECK(acc == expect);

    if (fpu_use_avx) {
        unsigned char yin[128], yout[128];
        for (int i = 0; i < 128; i++) yin[i] = (unsigned char)(i * 13 + 5);
        memset(yout, 0, sizeof yout);
        r = avx_roundtrip(yin, yout, SIGUSR1);
        CHECK(r == 0);
        CHECK(memcmp(yin, yout, sizeof yin) == 0);
        if (memcmp(yin, yout, sizeof yin) != 0)
            for (int i = 0; i < 4; i++)
                printf("ymm%d: low %s, high %s\n", i == 0 ? 0 : i == 1 ? 7 : i == 2 ? 8 : 15,
                       memcmp(yin + 32 * i, yout + 32 * i, 16) ? "changed" : "kept",
                       memcmp(yin + 32 * i + 16, yout + 32 * i + 16, 16) ? "changed" : "kept");
    }
}

#endif

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sub("siginfo", t_siginfo);
    sub("resethand", t_resethand);
    sub("nodefer", t_nodefer);
    sub("sa_mask", t_samask);
    sub("ucontext", t_ucontext);
    sub("coalesce", t_coalesce);
    sub("rtqueue", t_rtqueue);
    sub("ignore", t_ignore);
    sub("sigaction_efault", t_sigaction_efault);
    sub("altstack", t_altstack);
    sub("autodisarm", t_autodisarm);
#ifdef __x86_64__
    sub("fpu", t_fpu);
#endif
    DONE();
}
