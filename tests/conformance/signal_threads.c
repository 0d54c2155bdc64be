/* Signals and threads: a process-directed kill() is handled by the thread that does not block
 * it (or stays pending until some thread unblocks it); pthread_kill/tgkill target one thread,
 * whose pending set alone shows it while blocked; per-thread masks are independent and
 * inherited by new threads while dispositions are shared; sigwait/sigwaitinfo in one thread
 * receive a process-directed signal that every thread blocks; a thread blocked in read() gets
 * EINTR from pthread_kill without SA_RESTART and restarts with it; raise() in a thread delivers
 * to that thread before returning; a memory fault in a thread is handled in that thread, and
 * kills the process when that thread blocks SIGSEGV; exit_group (_exit) from a handler running
 * in a secondary thread, a fatal default action directed at one thread and SIGKILL all end the
 * whole process. Each part runs in its own child with a time limit. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define now_ms lt_now_ms

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

/* Reaps pid within 3 s (killing it otherwise) and returns the status, or -1. */
static int reap(pid_t pid) {
    int st = 0;
    long start = now_ms();
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() - start > 3000) {
            printf("child %d did not end\n", pid);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        sleep_ms(2);
    }
}

#define CHECK_ST(cond, st)                                                                \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            printf("%s:%d: CHECK(%s) failed (wait status 0x%x)\n", __FILE__, __LINE__,     \
                   #cond, (unsigned)(st));                                                \
            lt_failures++;                                                                \
        }                                                                                 \
    } while (0)

static void set_handler(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static void thread_mask(int how, int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(pthread_sigmask(how, &s, NULL) == 0);
}

static int thread_blocks(int sig) {
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static int thread_pending(int sig) {
    sigset_t p;
    sigemptyset(&p);
    sigpending(&p);
    return sigismember(&p, sig);
}

/* ---- the handler records which thread ran it ---- */

static volatile int hcount;
static volatile pid_t htid;
static volatile int hsig;

static void rec_handler(int sig) {
    hsig = sig;
    htid = gettid_();
    __atomic_add_fetch(&hcount, 1, __ATOMIC_SEQ_CST);
}

static void reset_rec(void) {
    hcount = 0;
    htid = 0;
    hsig = 0;
}

/* Waits up to 2 s for hcount to reach n. */
static int wait_count(int n) {
    long start = now_ms();
    while (__atomic_load_n(&hcount, __ATOMIC_SEQ_CST) < n && now_ms() - start < 2000)
        sleep_ms(1);
    return hcount >= n;
}

/* ---- workers: threads that sleep and carry out commands ---- */

enum { CMD_NONE, CMD_BLOCK, CMD_UNBLOCK, CMD_PENDING, CMD_EXIT };

struct worker {
    pthread_t th;
    volatile pid_t tid;
    volatile int cmd;
    volatile int arg;
    volatile int result;
};

static void *worker_main(void *p) {
    struct worker *w = p;
    w->tid = gettid_();
    for (;;) {
        int c = __atomic_load_n(&w->cmd, __ATOMIC_SEQ_CST);
        if (c != CMD_NONE) {
            if (c == CMD_EXIT) return NULL;
            if (c == CMD_BLOCK) thread_mask(SIG_BLOCK, w->arg);
            if (c == CMD_UNBLOCK) thread_mask(SIG_UNBLOCK, w->arg);
            if (c == CMD_PENDING) w->result = thread_pending(w->arg) * 2 + thread_blocks(w->arg);
            __atomic_store_n(&w->cmd, CMD_NONE, __ATOMIC_SEQ_CST);
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void start_worker(struct worker *w) {
    memset((void *)w, 0, sizeof *w);
    CHECK(pthread_create(&w->th, NULL, worker_main, w) == 0);
    long start = now_ms();
    while (w->tid == 0 && now_ms() - start < 2000) sleep_ms(1);
    CHECK(w->tid != 0);
}

static int command(struct worker *w, int cmd, int arg) {
    w->arg = arg;
    __atomic_store_n(&w->cmd, cmd, __ATOMIC_SEQ_CST);
    long start = now_ms();
    while (__atomic_load_n(&w->cmd, __ATOMIC_SEQ_CST) != CMD_NONE) {
        if (now_ms() - start > 2000) {
            printf("worker %d did not carry out command %d\n", w->tid, cmd);
            lt_failures++;
            return -1;
        }
        sleep_ms(1);
    }
    return w->result;
}

static void stop_worker(struct worker *w) {
    __atomic_store_n(&w->cmd, CMD_EXIT, __ATOMIC_SEQ_CST);
    CHECK(pthread_join(w->th, NULL) == 0);
}

/* ---- kill() to the process goes to a thread that does not block it ---- */

static void t_kill_routing(void) {
    set_handler(SIGUSR1, rec_handler, 0);
    thread_mask(SIG_BLOCK, SIGUSR1); /* inherited by the workers */
    struct worker w[3];
    for (int i = 0; i < 3; i++) start_worker(&w[i]);
    command(&w[2], CMD_UNBLOCK, SIGUSR1);

    for (int round = 0; round < 4; round++) {
        reset_rec();
        CHECK(kill(getpid(), SIGUSR1) == 0);
        CHECK(wait_count(1));
        CHECK(htid == w[2].tid);
        CHECK(hsig == SIGUSR1);
    }

    /* Switch: only worker 0 accepts it now. */
    command(&w[2], CMD_BLOCK, SIGUSR1);
    command(&w[0], CMD_UNBLOCK, SIGUSR1);
    for (int round = 0; round < 3; round++) {
        reset_rec();
        CHECK(kill(getpid(), SIGUSR1) == 0);
        CHECK(wait_count(1));
        CHECK(htid == w[0].tid);
    }

    /* Nobody accepts it: it stays pending for the process, visible in every thread. */
    command(&w[0], CMD_BLOCK, SIGUSR1);
    reset_rec();
    CHECK(kill(getpid(), SIGUSR1) == 0);
    sleep_ms(20);
    CHECK(hcount == 0);
    CHECK(thread_pending(SIGUSR1));
    CHECK(command(&w[1], CMD_PENDING, SIGUSR1) == 3); /* pending and blocked */
    /* The thread that unblocks it takes it. */
    command(&w[1], CMD_UNBLOCK, SIGUSR1);
    CHECK(hcount == 1); /* delivered before the worker acknowledged */
    CHECK(htid == w[1].tid);
    CHECK(!thread_pending(SIGUSR1));

    /* The sending thread gets it itself when it does not block it. */
    reset_rec();
    thread_mask(SIG_UNBLOCK, SIGUSR1);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(hcount == 1);
    CHECK(htid == gettid_());

    for (int i = 0; i < 3; i++) stop_worker(&w[i]);
}

/* ---- pthread_kill / tgkill target one thread ---- */

static void t_pthread_kill(void) {
    set_handler(SIGUSR1, rec_handler, 0);
    struct worker w[3];
    for (int i = 0; i < 3; i++) start_worker(&w[i]);

    for (int i = 0; i < 3; i++) {
        reset_rec();
        CHECK(pthread_kill(w[i].th, SIGUSR1) == 0);
        CHECK(wait_count(1));
        CHECK(htid == w[i].tid);
    }
    for (int i = 2; i >= 0; i--) {
        reset_rec();
        CHECK(syscall(SYS_tgkill, getpid(), w[i].tid, SIGUSR1) == 0);
        CHECK(wait_count(1));
        CHECK(htid == w[i].tid);
    }
    /* To the calling thread: delivered before pthread_kill returns. */
    reset_rec();
    CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0);
    CHECK(hcount == 1);
    CHECK(htid == gettid_());

    CHECK(pthread_kill(w[0].th, 0) == 0);
    CHECK(pthread_kill(w[0].th, 99) == EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, getpid(), w[0].tid, 99), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, getpid(), 0x3ffffff0, SIGUSR1), ESRCH);
    CHECK_ERR(syscall(SYS_tgkill, getpid(), -1, SIGUSR1), EINVAL);
    /* Thread id of our process, wrong thread group. */
    pid_t parent = getppid();
    CHECK_ERR(syscall(SYS_tgkill, parent, w[0].tid, 0), ESRCH);

    /* A thread-directed signal blocked by its target is pending for that thread only. */
    command(&w[1], CMD_BLOCK, SIGUSR1);
    reset_rec();
    CHECK(pthread_kill(w[1].th, SIGUSR1) == 0);
    sleep_ms(20);
    CHECK(hcount == 0);
    CHECK(command(&w[1], CMD_PENDING, SIGUSR1) == 3);
    CHECK(command(&w[0], CMD_PENDING, SIGUSR1) == 0);
    CHECK(!thread_pending(SIGUSR1));
    command(&w[1], CMD_UNBLOCK, SIGUSR1);
    CHECK(hcount == 1);
    CHECK(htid == w[1].tid);

    for (int i = 0; i < 3; i++) stop_worker(&w[i]);
    /* A joined thread's id is gone. */
    CHECK_ERR(syscall(SYS_tgkill, getpid(), w[0].tid, 0), ESRCH);
}

/* ---- per-thread masks, shared dispositions ---- */

static void *mask_thread(void *p) {
    (void)p;
    long r = 0;
    /* Inherited from the creator. */
    if (!thread_blocks(SIGRTMIN + 1)) r |= 1;
    if (thread_blocks(SIGUSR2)) r |= 2;
    thread_mask(SIG_BLOCK, SIGUSR2);
    thread_mask(SIG_UNBLOCK, SIGRTMIN + 1);
    if (!thread_blocks(SIGUSR2)) r |= 4;
    if (thread_blocks(SIGRTMIN + 1)) r |= 8;
    /* A disposition set here is seen by every thread. */
    set_handler(SIGHUP, rec_handler, 0);
    return (void *)r;
}

static void t_masks(void) {
    thread_mask(SIG_BLOCK, SIGRTMIN + 1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, mask_thread, NULL) == 0);
    void *r = (void *)-1;
    CHECK(pthread_join(t, &r) == 0);
    CHECK(r == NULL);
    /* The thread's changes did not touch ours. */
    CHECK(thread_blocks(SIGRTMIN + 1));
    CHECK(!thread_blocks(SIGUSR2));
    struct sigaction sa;
    CHECK(sigaction(SIGHUP, NULL, &sa) == 0);
    CHECK(sa.sa_handler == rec_handler);
    reset_rec();
    CHECK(raise(SIGHUP) == 0);
    CHECK(hcount == 1 && hsig == SIGHUP);

    /* Workers with different masks report them independently. */
    struct worker a, b;
    start_worker(&a);
    start_worker(&b);
    command(&a, CMD_BLOCK, SIGUSR2);
    CHECK(command(&a, CMD_PENDING, SIGUSR2) == 1);
    CHECK(command(&b, CMD_PENDING, SIGUSR2) == 0);
    CHECK(command(&a, CMD_PENDING, SIGRTMIN + 1) == 1); /* inherited from us */
    command(&b, CMD_UNBLOCK, SIGRTMIN + 1);
    CHECK(command(&b, CMD_PENDING, SIGRTMIN + 1) == 0);
    CHECK(command(&a, CMD_PENDING, SIGRTMIN + 1) == 1);
    CHECK(thread_blocks(SIGRTMIN + 1));
    CHECK(!thread_blocks(SIGUSR2));
    stop_worker(&a);
    stop_worker(&b);

    /* sigprocmask in a multi-threaded process changes the calling thread only (Linux). */
    start_worker(&a);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
    CHECK(command(&a, CMD_PENDING, SIGWINCH) == 0);
    CHECK(thread_blocks(SIGWINCH));
    stop_worker(&a);
}

/* ---- sigwait in one thread ---- */

static volatile int sw_sig;
static siginfo_t sw_info;
static volatile pid_t sw_tid;

static void *sigwait_thread(void *p) {
    (void)p;
    sw_tid = gettid_();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    int sig = 0;
    if (sigwait(&s, &sig) == 0) sw_sig = sig;
    /* Then sigwaitinfo for a second one. */
    memset(&sw_info, 0, sizeof sw_info);
    sigaddset(&s, SIGUSR2);
    sigwaitinfo(&s, &sw_info);
    return NULL;
}

static void t_sigwait(void) {
    set_handler(SIGUSR1, rec_handler, 0);
    set_handler(SIGUSR2, rec_handler, 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &s, NULL) == 0);
    struct worker w;
    start_worker(&w); /* blocks both too, by inheritance */
    reset_rec();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sigwait_thread, NULL) == 0);
    long start = now_ms();
    while (sw_tid == 0 && now_ms() - start < 2000) sleep_ms(1);
    sleep_ms(20); /* let it reach sigwait */
    CHECK(kill(getpid(), SIGUSR1) == 0);
    start = now_ms();
    while (sw_sig == 0 && now_ms() - start < 2000) sleep_ms(1);
    CHECK(sw_sig == SIGUSR1);
    sleep_ms(10);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    int jr = -1;
    start = now_ms();
    while ((jr = pthread_tryjoin_np(t, NULL)) != 0 && now_ms() - start < 1000) sleep_ms(1);
    CHECK(jr == 0);
    if (jr != 0) {
        /* Unstick it with thread-directed signals; give up on it if even that fails. */
        pthread_kill(t, SIGUSR1);
        sleep_ms(20);
        pthread_kill(t, SIGUSR2);
        start = now_ms();
        while ((jr = pthread_tryjoin_np(t, NULL)) != 0 && now_ms() - start < 500) sleep_ms(1);
        if (jr != 0) printf("sigwait thread stuck even after pthread_kill\n");
        else printf("sigwait thread got the signals from pthread_kill (sw_sig %d)\n", sw_sig);
        lt_failures++;
        return;
    }
    CHECK(sw_info.si_signo == SIGUSR2);
    CHECK(sw_info.si_code == SI_USER);
    CHECK(sw_info.si_pid == getpid());
    CHECK(sw_info.si_uid == getuid());
    CHECK(hcount == 0); /* the handler never ran */
    CHECK(!thread_pending(SIGUSR1) && !thread_pending(SIGUSR2));
    stop_worker(&w);
}

/* ---- EINTR in read() after pthread_kill ---- */

static int rd_pipe[2];
static volatile int rd_started;
static volatile long rd_ret;
static volatile int rd_errno;
static volatile pid_t rd_tid;

static void *reader_thread(void *p) {
    (void)p;
    char b;
    rd_tid = gettid_();
    rd_started = 1;
    long r = read(rd_pipe[0], &b, 1);
    rd_errno = errno;
    __atomic_store_n(&rd_ret, r, __ATOMIC_SEQ_CST);
    return NULL;
}

static void t_eintr(void) {
    CHECK(pipe(rd_pipe) == 0);
    thread_mask(SIG_BLOCK, SIGUSR2); /* only the reader may take it */

    /* Without SA_RESTART: EINTR, and the handler ran in the reader. */
    set_handler(SIGUSR2, rec_handler, 0);
    reset_rec();
    rd_started = 0;
    rd_ret = -2;
    pthread_t t;
    sigset_t none;
    sigemptyset(&none);
    CHECK(pthread_sigmask(SIG_SETMASK, &none, NULL) == 0);
    CHECK(pthread_create(&t, NULL, reader_thread, NULL) == 0);
    thread_mask(SIG_BLOCK, SIGUSR2);
    while (!rd_started) sleep_ms(1);
    sleep_ms(30);
    CHECK(rd_ret == -2);
    CHECK(pthread_kill(t, SIGUSR2) == 0);
    long start = now_ms();
    while (__atomic_load_n(&rd_ret, __ATOMIC_SEQ_CST) == -2 && now_ms() - start < 2000)
        sleep_ms(1);
    CHECK(rd_ret == -1);
    CHECK(rd_errno == EINTR);
    CHECK(hcount == 1);
    CHECK(htid == rd_tid);
    if (rd_ret == -2) CHECK(write(rd_pipe[1], "x", 1) == 1);
    pthread_join(t, NULL);

    /* With SA_RESTART: the read carries on and returns the byte written later. */
    set_handler(SIGUSR2, rec_handler, SA_RESTART);
    reset_rec();
    rd_started = 0;
    rd_ret = -2;
    CHECK(pthread_sigmask(SIG_SETMASK, &none, NULL) == 0);
    CHECK(pthread_create(&t, NULL, reader_thread, NULL) == 0);
    thread_mask(SIG_BLOCK, SIGUSR2);
    while (!rd_started) sleep_ms(1);
    sleep_ms(30);
    CHECK(pthread_kill(t, SIGUSR2) == 0);
    CHECK(wait_count(1));
    CHECK(htid == rd_tid);
    sleep_ms(30);
    CHECK(rd_ret == -2); /* still reading */
    CHECK(write(rd_pipe[1], "y", 1) == 1);
    start = now_ms();
    while (__atomic_load_n(&rd_ret, __ATOMIC_SEQ_CST) == -2 && now_ms() - start < 2000)
        sleep_ms(1);
    CHECK(rd_ret == 1);
    pthread_join(t, NULL);

    /* A process-directed kill that only the reader accepts interrupts its read too. */
    set_handler(SIGUSR2, rec_handler, 0);
    reset_rec();
    rd_started = 0;
    rd_ret = -2;
    CHECK(pthread_sigmask(SIG_SETMASK, &none, NULL) == 0);
    CHECK(pthread_create(&t, NULL, reader_thread, NULL) == 0);
    thread_mask(SIG_BLOCK, SIGUSR2);
    while (!rd_started) sleep_ms(1);
    sleep_ms(30);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    start = now_ms();
    while (__atomic_load_n(&rd_ret, __ATOMIC_SEQ_CST) == -2 && now_ms() - start < 2000)
        sleep_ms(1);
    CHECK(rd_ret == -1);
    CHECK(rd_errno == EINTR);
    CHECK(htid == rd_tid);
    if (rd_ret == -2) CHECK(write(rd_pipe[1], "x", 1) == 1);
    pthread_join(t, NULL);
}

/* ---- raise() in a thread ---- */

static void *raise_thread(void *p) {
    (void)p;
    long bad = 0;
    reset_rec();
    if (raise(SIGUSR1) != 0) bad |= 1;
    if (hcount != 1) bad |= 2;
    if (htid != gettid_()) bad |= 4;
    return (void *)bad;
}

static void t_raise(void) {
    set_handler(SIGUSR1, rec_handler, 0);
    struct worker w;
    start_worker(&w); /* another thread that accepts SIGUSR1 */
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, raise_thread, NULL) == 0);
        void *r = (void *)-1;
        CHECK(pthread_join(t, &r) == 0);
        if (r != NULL) {
            printf("%s:%d: raise in a thread: result %ld\n", __FILE__, __LINE__, (long)r);
            lt_failures++;
        }
    }
    stop_worker(&w);
}

/* ---- synchronous SIGSEGV in a thread ---- */

static __thread sigjmp_buf segv_jmp;
static volatile pid_t segv_tid;
static void *volatile segv_addr;
static volatile int segv_code;

static void segv_handler(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    segv_tid = gettid_();
    segv_addr = si->si_addr;
    segv_code = si->si_code;
    siglongjmp(segv_jmp, 1);
}

/* Read through a volatile pointer so the compiler knows nothing of the address. */
static volatile int *volatile fault_ptr = (volatile int *)(uintptr_t)0x10;

static void *segv_thread(void *p) {
    (void)p;
    if (sigsetjmp(segv_jmp, 1) == 0) {
        *fault_ptr = 1;
        return (void *)1; /* no fault */
    }
    return (void *)(long)gettid_();
}

static void t_segv(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    struct worker w;
    start_worker(&w); /* does not block SIGSEGV either */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, segv_thread, NULL) == 0);
    void *r = NULL;
    CHECK(pthread_join(t, &r) == 0);
    CHECK(r != (void *)1 && r != NULL);
    CHECK(segv_tid == (pid_t)(long)r);
    CHECK(segv_addr == (void *)0x10);
    CHECK(segv_code == SEGV_MAPERR);
    stop_worker(&w);

    /* The faulting thread blocks SIGSEGV: the process dies of it despite the handler. */
    pid_t c = fork();
    if (c == 0) {
        start_worker(&w);
        thread_mask(SIG_BLOCK, SIGSEGV);
        *fault_ptr = 1;
        _exit(90);
    }
    int st = reap(c);
    CHECK_ST(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, st);
}

/* ---- ending the process from a secondary thread ---- */

static void exit42_handler(int sig) {
    (void)sig;
    _exit(42);
}

static void exitgroup_handler(int sig) {
    (void)sig;
    syscall(SYS_exit_group, 43);
}

static int blocker_pipe[2];

static void *blocker_thread(void *p) {
    (void)p;
    char b;
    read(blocker_pipe[0], &b, 1);
    return NULL;
}

static void t_exit_group(void) {
    CHECK(pipe(blocker_pipe) == 0);

    /* _exit from a handler running in a worker, while the main thread waits in pause(). */
    pid_t c = fork();
    if (c == 0) {
        set_handler(SIGUSR1, exit42_handler, 0);
        thread_mask(SIG_BLOCK, SIGUSR1);
        struct worker w;
        start_worker(&w);
        command(&w, CMD_UNBLOCK, SIGUSR1);
        pthread_t b;
        pthread_create(&b, NULL, blocker_thread, NULL);
        kill(getpid(), SIGUSR1);
        for (;;) pause();
    }
    int st = reap(c);
    CHECK_ST(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 42, st);

    /* exit_group from a handler in a thread reached by pthread_kill, main blocked in read. */
    c = fork();
    if (c == 0) {
        set_handler(SIGUSR2, exitgroup_handler, 0);
        struct worker w;
        start_worker(&w);
        pthread_kill(w.th, SIGUSR2);
        char b;
        read(blocker_pipe[0], &b, 1);
        _exit(1);
    }
    st = reap(c);
    CHECK_ST(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 43, st);

    /* A fatal default action directed at one thread ends them all. */
    c = fork();
    if (c == 0) {
        struct worker w;
        start_worker(&w);
        pthread_t b;
        pthread_create(&b, NULL, blocker_thread, NULL);
        thread_mask(SIG_BLOCK, SIGTERM);
        pthread_kill(w.th, SIGTERM);
        char x;
        read(blocker_pipe[0], &x, 1);
        _exit(1);
    }
    st = reap(c);
    CHECK_ST(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, st);

    /* SIGKILL to a process whose threads are all blocked in read(). */
    int ready[2];
    CHECK(pipe(ready) == 0);
    c = fork();
    if (c == 0) {
        pthread_t b[2];
        pthread_create(&b[0], NULL, blocker_thread, NULL);
        pthread_create(&b[1], NULL, blocker_thread, NULL);
        write(ready[1], "r", 1);
        char x;
        read(blocker_pipe[0], &x, 1);
        _exit(1);
    }
    char x;
    CHECK(read(ready[0], &x, 1) == 1);
    sleep_ms(20);
    CHECK(kill(c, SIGKILL) == 0);
    st = reap(c);
    CHECK_ST(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, st);

    /* A thread exiting with pthread_exit while a process-directed signal is handled by the
     * remaining one: the process carries on. */
    c = fork();
    if (c == 0) {
        set_handler(SIGUSR1, rec_handler, 0);
        struct worker w;
        start_worker(&w);
        stop_worker(&w);
        reset_rec();
        kill(getpid(), SIGUSR1);
        _exit(hcount == 1 && htid == gettid_() ? 44 : 45);
    }
    st = reap(c);
    CHECK_ST(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 44, st);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sub("kill_routing", t_kill_routing);
    sub("pthread_kill", t_pthread_kill);
    sub("masks", t_masks);
    sub("sigwait", t_sigwait);
    sub("eintr", t_eintr);
    sub("raise", t_raise);
    sub("segv", t_segv);
    sub("exit_group", t_exit_group);
    DONE();
}
