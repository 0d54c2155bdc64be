/* Threads: pthread_create/join sequentially and concurrently, __thread storage per thread,
 * gettid/getpid, CLONE_CHILD_SETTID/CLEARTID through a raw clone(), detached threads,
 * pthread_exit, the exit system call ending one thread and exit_group ending the process,
 * condition-variable timeouts, semaphores, barriers, tgkill, fork() from a multithreaded
 * process, the main thread exiting first, and execve from a non-main thread. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long now_ms(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int wait_for(pid_t pid) {
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

/* ---- sequential and concurrent create/join, TLS, ids ---- */

static __thread long tls_val = 42;
static __thread char tls_buf[64];

struct info {
    long id;
    pid_t tid, pid, ppid;
    long tls_initial;
    void *tls_addr;
    int tls_ok;
    int tls_zero;
};

static pthread_barrier_t conc_barrier;

static void *info_main(void *arg) {
    struct info *in = arg;
    in->tid = gettid_();
    in->pid = getpid();
    in->ppid = getppid();
    in->tls_initial = tls_val;
    in->tls_addr = &tls_val;
    in->tls_zero = tls_buf[0] == 0 && tls_buf[63] == 0;
    tls_val = in->id * 1000;
    memset(tls_buf, (int)in->id + 1, sizeof tls_buf);
    return (void *)(in->id + 100);
}

static void *conc_main(void *arg) {
    struct info *in = arg;
    info_main(arg);
    /* All threads are alive at once here; each must still see only its own values. */
    pthread_barrier_wait(&conc_barrier);
    for (int i = 0; i < 3; i++) {
        sched_yield();
        if (tls_val != in->id * 1000) return NULL;
        for (int j = 0; j < 64; j++)
            if (tls_buf[j] != (char)(in->id + 1)) return NULL;
    }
    pthread_barrier_wait(&conc_barrier);
    in->tls_ok = 1;
    return (void *)(in->id + 100);
}

/* ---- raw clone with CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID ---- */

static volatile int clone_ran;
static volatile pid_t clone_ctid_seen;
static volatile pid_t clone_ctid = -7;

static int clone_fn(void *arg) {
    /* No libc calls that touch TLS (errno) here: this thread shares the main TLS. */
    clone_ctid_seen = clone_ctid;
    clone_ran = (int)(intptr_t)arg;
    return 0;
}

/* ---- detached threads ---- */

static int detached_done;

static void *detached_main(void *arg) {
    (void)arg;
    sleep_ms(5);
    __atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* ---- pthread_exit, SYS_exit ---- */

static volatile int sysexit_after;

static __attribute__((noinline)) void exit_inner(void) { pthread_exit((void *)77); }

static __attribute__((noinline)) void exit_outer(void) {
    exit_inner();
    sysexit_after = 2; /* not reached */
}

static void *pexit_main(void *arg) {
    (void)arg;
    exit_outer();
    return (void *)1; /* not reached */
}

static volatile pid_t sysexit_tid;

static void *sysexit_main(void *arg) {
    (void)arg;
    sysexit_tid = gettid_();
    syscall(SYS_exit, 0);
    sysexit_after = 1; /* not reached */
    return NULL;
}

/* ---- semaphores ---- */

static sem_t ping, pong;
static int handoff_log[40];
static int handoff_pos;

static void *sem_main(void *arg) {
    (void)arg;
    for (int i = 0; i < 20; i++) {
        sem_wait(&ping);
        handoff_log[handoff_pos++] = 2 * i + 1;
        sem_post(&pong);
    }
    return NULL;
}

/* ---- barrier ---- */

#define BAR_THREADS 4
#define BAR_ROUNDS 10
static pthread_barrier_t barrier;
static int bar_serial[BAR_ROUNDS];
static int bar_phase[BAR_THREADS];
static int bar_bad;

static void *bar_main(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < BAR_ROUNDS; r++) {
        __atomic_store_n(&bar_phase[id], r, __ATOMIC_SEQ_CST);
        int x = pthread_barrier_wait(&barrier);
        if (x == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_add_fetch(&bar_serial[r], 1, __ATOMIC_SEQ_CST);
        else if (x != 0)
            __atomic_add_fetch(&bar_bad, 1, __ATOMIC_SEQ_CST);
        /* Past the barrier, everybody has reached round r. */
        for (int j = 0; j < BAR_THREADS; j++)
            if (__atomic_load_n(&bar_phase[j], __ATOMIC_SEQ_CST) < r)
                __atomic_add_fetch(&bar_bad, 1, __ATOMIC_SEQ_CST);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

/* ---- helpers for the forked scenarios ---- */

static int block_fd = -1; /* read end of a pipe nobody writes to */

static void *block_main(void *arg) {
    (void)arg;
    char c;
    for (;;) read(block_fd, &c, 1);
    return NULL;
}

static void *exit_group_main(void *arg) {
    sleep_ms(10);
    syscall(SYS_exit_group, (int)(intptr_t)arg);
    return NULL;
}

static void *libc_exit_main(void *arg) {
    sleep_ms(10);
    exit((int)(intptr_t)arg);
}

static int late_fd = -1;
static pid_t main_pid_for_late;

static void *late_main(void *arg) {
    (void)arg;
    sleep_ms(30);
    /* The main thread has exited; the process is still here. */
    int ok = getpid() == main_pid_for_late;
    char c = ok ? 'y' : 'n';
    write(late_fd, &c, 1);
    exit(42);
}

static char exec_pid_arg[32];

static void *exec_main(void *arg) {
    (void)arg;
    sleep_ms(10);
    /* The new program runs as the process (with its pid), after the other threads died. */
    char script[96];
    snprintf(script, sizeof script, "test $$ = %s", exec_pid_arg);
    char *av[] = {"busybox", "sh", "-c", script, NULL};
    char *ev[] = {NULL};
    execve("/bin/busybox", av, ev);
    _exit(100 + errno);
}

static void *fork_sleeper(void *arg) {
    sem_t *s = arg;
    sem_wait(s);
    return (void *)5;
}

static int count_threads_self(void) {
    /* Field 20 of /proc/self/stat is num_threads. */
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p += 2; /* field 3 */
    for (int field = 3; field < 20; field++) {
        p = strchr(p, ' ');
        if (!p) return -1;
        p++;
    }
    return atoi(p);
}

/* The thread count once exited threads have left: on Linux a joined thread can still be
 * counted for a moment (pthread_join returns at its CLONE_CHILD_CLEARTID wake-up, before the
 * kernel has released it), so wait up to 2 s for `want`. */
static int threads_settle(int want) {
    int n = count_threads_self();
    for (int i = 0; i < 2000 && n != want; i++) {
        usleep(1000);
        n = count_threads_self();
    }
    return n;
}

static int count_task_dir(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void *nop_main(void *arg) { return arg; }

static void *kill_main_main(void *arg) {
    sleep_ms(10);
    /* A fatal signal with the default action, sent to one thread, ends the process. */
    syscall(SYS_tgkill, getpid(), getpid(), (int)(intptr_t)arg);
    for (;;) pause();
    return NULL;
}

static void *kill_self_main(void *arg) {
    sleep_ms(10);
    syscall(SYS_tgkill, getpid(), gettid_(), (int)(intptr_t)arg);
    for (;;) pause();
    return NULL;
}

/* /proc/PID/task/TID describes the thread: a named thread asleep in read. */
static int task_pipe[2];
static volatile pid_t task_tid;
static void *task_sleeper(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, (unsigned long)"sleeper", 0, 0, 0);
    task_tid = gettid_();
    char c;
    return (void *)(long)read(task_pipe[0], &c, 1);
}
static long slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0) buf[n] = 0;
    return n;
}
static void task_files(void) {
    CHECK_OK(pipe(task_pipe));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, task_sleeper, NULL) == 0);
    char path[96], buf[1024], want[64];
    /* Wait until it sleeps (state S in its own stat). */
    int asleep = 0;
    for (int i = 0; i < 2000 && !asleep; i++) {
        if (task_tid) {
            snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), task_tid);
            snprintf(want, sizeof want, "%d (sleeper) S ", task_tid);
            asleep = slurp(path, buf, sizeof buf) > 0 && strncmp(buf, want, strlen(want)) == 0;
        }
        if (!asleep) lt_sleep_ms(5);
    }
    if (!asleep) printf("task stat: %s (want %s)\n", buf, want);
    CHECK(asleep);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", task_tid);
    CHECK(slurp(path, buf, sizeof buf) > 0 && strcmp(buf, "sleeper\n") == 0);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", task_tid);
    CHECK(slurp(path, buf, sizeof buf) > 0);
    CHECK(strncmp(buf, "Name:\tsleeper\n", 14) == 0);
    snprintf(want, sizeof want, "\nPid:\t%d\n", task_tid);
    CHECK(strstr(buf, want) != NULL);
    snprintf(want, sizeof want, "\nTgid:\t%d\n", getpid());
    CHECK(strstr(buf, want) != NULL);
    /* The process's own files still name the process. */
    CHECK(slurp("/proc/self/comm", buf, sizeof buf) > 0 && strcmp(buf, "sleeper\n") != 0);
    snprintf(want, sizeof want, "%d (", getpid());
    CHECK(slurp("/proc/self/stat", buf, sizeof buf) > 0 && strncmp(buf, want, strlen(want)) == 0);
    CHECK(write(task_pipe[1], "x", 1) == 1);
    void *r;
    pthread_join(th, &r);
    CHECK((long)r == 1);
    close(task_pipe[0]);
    close(task_pipe[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pid = getpid();
    CHECK(gettid_() == pid);
    task_files();

    /* 50 threads one after the other. */
    pid_t seq_tids[50];
    for (long i = 0; i < 50; i++) {
        struct info in = {.id = i};
        pthread_t th;
        int e = pthread_create(&th, NULL, info_main, &in);
        CHECK(e == 0);
        if (e) break;
        void *ret = NULL;
        CHECK(pthread_join(th, &ret) == 0);
        CHECK((long)ret == i + 100);
        CHECK(in.pid == pid);
        CHECK(in.ppid == getppid());
        CHECK(in.tid > 0 && in.tid != pid);
        CHECK(in.tls_initial == 42);
        CHECK(in.tls_zero);
        CHECK(in.tls_addr != &tls_val);
        seq_tids[i] = in.tid;
    }
    CHECK(tls_val == 42); /* the main thread's copy is untouched */
    CHECK(tls_buf[0] == 0);
    /* Thread ids are not reused back to back. */
    for (int i = 1; i < 50; i++) CHECK(seq_tids[i] != seq_tids[i - 1]);

    /* 8 at once. */
    tls_val = -1;
    CHECK(pthread_barrier_init(&conc_barrier, NULL, 8) == 0);
    struct info conc[8];
    pthread_t cth[8];
    for (long i = 0; i < 8; i++) {
        memset(&conc[i], 0, sizeof conc[i]);
        conc[i].id = i + 1;
        CHECK(pthread_create(&cth[i], NULL, conc_main, &conc[i]) == 0);
    }
    for (int i = 0; i < 8; i++) {
        void *ret = NULL;
        CHECK(pthread_join(cth[i], &ret) == 0);
        CHECK((long)ret == conc[i].id + 100);
        CHECK(conc[i].tls_ok);
        CHECK(conc[i].tls_initial == 42); /* the initial image, not main's -1 */
        CHECK(conc[i].tls_zero);
        CHECK(conc[i].pid == pid);
        CHECK(conc[i].tid != pid);
        for (int j = 0; j < i; j++) {
            CHECK(conc[i].tid != conc[j].tid);
            CHECK(conc[i].tls_addr != conc[j].tls_addr);
        }
    }
    CHECK(pthread_barrier_destroy(&conc_barrier) == 0);
    CHECK(tls_val == -1);
    tls_val = 42;

    /* Threads are not children. */
    CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
    CHECK_ERR(waitpid(conc[0].tid, NULL, WNOHANG), ECHILD);

    /* tgkill: signal 0 probes a live thread; a joined thread is gone. */
    CHECK(syscall(SYS_tgkill, pid, pid, 0) == 0);
    CHECK_ERR(syscall(SYS_tgkill, pid, seq_tids[49], 0), ESRCH);
    CHECK_ERR(syscall(SYS_tgkill, 0, pid, 0), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, pid, 0, 0), EINVAL);
    CHECK_ERR(syscall(SYS_tgkill, pid, pid, 1000), EINVAL);
    CHECK_ERR(syscall(SYS_tkill, seq_tids[49], 0), ESRCH);

    /* Raw clone(): CLONE_PARENT_SETTID stores the tid in the parent's word,
     * CLONE_CHILD_SETTID in the child's (same memory here), CLONE_CHILD_CLEARTID clears it
     * at exit and wakes a futex waiter on it. */
    {
        size_t sz = 64 * 1024;
        char *stack = malloc(sz);
        CHECK(stack != NULL);
        volatile pid_t ptid = -5;
        int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                    CLONE_CHILD_CLEARTID;
        int r = clone(clone_fn, stack + sz, flags, (void *)(intptr_t)9, (pid_t *)&ptid, NULL,
                      (pid_t *)&clone_ctid);
        CHECK(r > 0 && r != pid);
        CHECK(ptid == r);
        for (int i = 0; i < 200 && clone_ctid != 0; i++) {
            pid_t v = clone_ctid;
            if (v == 0) break;
            struct timespec to = {0, 20 * 1000000L};
            syscall(SYS_futex, &clone_ctid, FUTEX_WAIT, v, &to, NULL, 0);
        }
        CHECK(clone_ctid == 0);
        CHECK(clone_ran == 9);
        CHECK(clone_ctid_seen == r); /* CLONE_CHILD_SETTID ran before the child */
        sleep_ms(5);
        CHECK_ERR(syscall(SYS_tgkill, pid, r, 0), ESRCH);
        free(stack);
    }

    /* clone flag combinations Linux rejects: CLONE_THREAD needs CLONE_SIGHAND, which needs
     * CLONE_VM; CLONE_NEWNS cannot share the filesystem context. */
    CHECK_ERR(syscall(SYS_clone, CLONE_THREAD, NULL, NULL, NULL, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_clone, CLONE_THREAD | CLONE_VM, NULL, NULL, NULL, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_clone, CLONE_SIGHAND, NULL, NULL, NULL, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS, NULL, NULL, NULL, NULL), EINVAL);

    /* set_tid_address returns the caller's tid. */
    {
        CHECK(syscall(SYS_set_tid_address, NULL) == pid);
    }

    /* Detached threads finish on their own while main goes on. */
    {
        pthread_attr_t attr;
        CHECK(pthread_attr_init(&attr) == 0);
        CHECK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0);
        for (int i = 0; i < 3; i++) {
            pthread_t th;
            CHECK(pthread_create(&th, &attr, detached_main, NULL) == 0);
        }
        pthread_attr_destroy(&attr);
        for (int i = 0; i < 2; i++) {
            pthread_t th;
            CHECK(pthread_create(&th, NULL, detached_main, NULL) == 0);
            CHECK(pthread_detach(th) == 0);
        }
        for (int i = 0; i < 2000 && __atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < 5; i++)
            sleep_ms(1);
        CHECK(detached_done == 5);
    }

    /* pthread_exit from deep inside a thread; join gets its value. */
    {
        pthread_t th;
        CHECK(pthread_create(&th, NULL, pexit_main, NULL) == 0);
        void *ret = NULL;
        CHECK(pthread_join(th, &ret) == 0);
        CHECK(ret == (void *)77);
    }

    /* The exit system call ends only the calling thread. In a forked child, since libc
     * does not see such a thread go (musl's pthread_join would wait forever). */
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            int bad = 0;
            pthread_t th;
            if (pthread_create(&th, NULL, sysexit_main, NULL) != 0) _exit(99);
            for (int i = 0; i < 2000 && sysexit_tid == 0; i++) sleep_ms(1);
            if (sysexit_tid <= 0) bad |= 1;
            int gone = 0;
            for (int i = 0; i < 2000 && !gone; i++) {
                gone = syscall(SYS_tgkill, getpid(), sysexit_tid, 0) == -1 && errno == ESRCH;
                if (!gone) sleep_ms(1);
            }
            if (!gone) bad |= 2;
            if (sysexit_after != 0) bad |= 4;
            if (threads_settle(1) != 1) bad |= 8;
            /* Threads still work afterwards. */
            pthread_t th2;
            void *ret = NULL;
            if (pthread_create(&th2, NULL, nop_main, (void *)3) != 0) bad |= 16;
            else if (pthread_join(th2, &ret) != 0 || ret != (void *)3) bad |= 32;
            _exit(bad);
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 0);
    }

    /* pthread_cond_timedwait times out, on CLOCK_REALTIME and on CLOCK_MONOTONIC. The start
     * is read before the deadline is computed: a thread preempted between the two reads
     * (several ms with the host loaded) would otherwise see less than the 40 ms it waited
     * for (CI once saw dt < 35). Waited at least 40 ms, two readings cut to whole ms: >= 39. */
    {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t c = PTHREAD_COND_INITIALIZER;
        struct timespec dl;
        long t0 = now_ms(CLOCK_MONOTONIC);
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 40 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        CHECK(pthread_mutex_lock(&m) == 0);
        int r = pthread_cond_timedwait(&c, &m, &dl);
        CHECK(r == ETIMEDOUT);
        CHECK(pthread_mutex_unlock(&m) == 0); /* the mutex was re-acquired */
        long dt = now_ms(CLOCK_MONOTONIC) - t0;
        if (!(dt >= 39 && dt < 1500)) printf("CLOCK_REALTIME timedwait: %ld ms\n", dt);
        CHECK(dt >= 39 && dt < 1500);

        pthread_condattr_t ca;
        pthread_cond_t c2;
        CHECK(pthread_condattr_init(&ca) == 0);
        CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
        CHECK(pthread_cond_init(&c2, &ca) == 0);
        t0 = now_ms(CLOCK_MONOTONIC);
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += 40 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        CHECK(pthread_mutex_lock(&m) == 0);
        CHECK(pthread_cond_timedwait(&c2, &m, &dl) == ETIMEDOUT);
        CHECK(pthread_mutex_unlock(&m) == 0);
        dt = now_ms(CLOCK_MONOTONIC) - t0;
        if (!(dt >= 39 && dt < 1500)) printf("CLOCK_MONOTONIC timedwait: %ld ms\n", dt);
        CHECK(dt >= 39 && dt < 1500);
        /* A deadline in the past returns at once. */
        dl.tv_sec -= 10;
        CHECK(pthread_mutex_lock(&m) == 0);
        CHECK(pthread_cond_timedwait(&c2, &m, &dl) == ETIMEDOUT);
        CHECK(pthread_mutex_unlock(&m) == 0);
        pthread_cond_destroy(&c2);
        pthread_condattr_destroy(&ca);
        /* pthread_mutex_timedlock on a held mutex. */
        CHECK(pthread_mutex_lock(&m) == 0);
        CHECK(pthread_mutex_trylock(&m) == EBUSY);
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 20 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        CHECK(pthread_mutex_timedlock(&m, &dl) == ETIMEDOUT);
        CHECK(pthread_mutex_unlock(&m) == 0);
    }

    /* Semaphores: a strict ping-pong handoff between two threads. */
    {
        CHECK(sem_init(&ping, 0, 0) == 0);
        CHECK(sem_init(&pong, 0, 0) == 0);
        CHECK_ERR(sem_trywait(&ping), EAGAIN);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, sem_main, NULL) == 0);
        for (int i = 0; i < 20; i++) {
            handoff_log[handoff_pos++] = 2 * i;
            CHECK(sem_post(&ping) == 0);
            while (sem_wait(&pong) != 0 && errno == EINTR) {
            }
        }
        CHECK(pthread_join(th, NULL) == 0);
        CHECK(handoff_pos == 40);
        for (int i = 0; i < 40; i++) CHECK(handoff_log[i] == i);
        int v = -1;
        CHECK(sem_getvalue(&ping, &v) == 0 && v == 0);
        CHECK(sem_post(&ping) == 0 && sem_post(&ping) == 0);
        CHECK(sem_getvalue(&ping, &v) == 0 && v == 2);
        CHECK(sem_trywait(&ping) == 0 && sem_trywait(&ping) == 0);
        CHECK_ERR(sem_trywait(&ping), EAGAIN);
        struct timespec dl;
        long t0 = now_ms(CLOCK_MONOTONIC); /* before the deadline, as above */
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 30 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
        CHECK_ERR(sem_timedwait(&ping, &dl), ETIMEDOUT);
        CHECK(now_ms(CLOCK_MONOTONIC) - t0 >= 29);
        sem_destroy(&ping);
        sem_destroy(&pong);
    }

    /* Barrier: every round has exactly one serial thread, nobody passes early. */
    {
        CHECK(pthread_barrier_init(&barrier, NULL, BAR_THREADS) == 0);
        pthread_t th[BAR_THREADS];
        for (long i = 0; i < BAR_THREADS; i++)
            CHECK(pthread_create(&th[i], NULL, bar_main, (void *)i) == 0);
        for (int i = 0; i < BAR_THREADS; i++) CHECK(pthread_join(th[i], NULL) == 0);
        for (int r = 0; r < BAR_ROUNDS; r++) CHECK(bar_serial[r] == 1);
        CHECK(bar_bad == 0);
        CHECK(pthread_barrier_destroy(&barrier) == 0);
    }

    int blk[2];
    CHECK(pipe(blk) == 0);
    block_fd = blk[0];

    /* exit_group from a thread ends the whole process with that status, even while the
     * main thread is blocked in read(). So does exit() from a thread. */
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            pthread_t th, th2;
            pthread_create(&th2, NULL, block_main, NULL);
            pthread_create(&th, NULL, exit_group_main, (void *)33);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 33);

        c = fork();
        if (c == 0) {
            pthread_t th;
            pthread_create(&th, NULL, libc_exit_main, (void *)3);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 3);
    }

    /* A default-action fatal signal delivered to one thread kills the whole process, whether
     * a thread sends it to the (blocked) main thread or to itself. */
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            pthread_t th;
            pthread_create(&th, NULL, kill_main_main, (void *)SIGTERM);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        int st = -1;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        fflush(stdout);
        c = fork();
        if (c == 0) {
            pthread_t th;
            pthread_create(&th, NULL, kill_self_main, (void *)SIGUSR2);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        st = -1;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR2);
        fflush(stdout);
        c = fork();
        if (c == 0) {
            pthread_t th;
            pthread_create(&th, NULL, kill_self_main, (void *)SIGKILL);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        st = -1;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }

    /* The main thread exits first (pthread_exit); the process lives on until the last
     * thread calls exit(42). */
    {
        int p[2];
        CHECK(pipe(p) == 0);
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            close(p[0]);
            late_fd = p[1];
            main_pid_for_late = getpid();
            pthread_t th;
            pthread_create(&th, NULL, late_main, NULL);
            pthread_exit(NULL);
        }
        CHECK(c > 0);
        close(p[1]);
        /* The process is not reaped while its last thread runs. */
        int st = 0;
        CHECK(waitpid(c, &st, WNOHANG) == 0);
        char ch = 0;
        CHECK(read(p[0], &ch, 1) == 1);
        CHECK(ch == 'y');
        CHECK_EXIT(wait_for(c), 42);
        close(p[0]);
    }

    /* fork() in a multithreaded process: the child has only the calling thread, and can
     * create and join threads of its own. */
    {
        sem_t s;
        CHECK(sem_init(&s, 0, 0) == 0);
        pthread_t th[3];
        for (int i = 0; i < 3; i++) CHECK(pthread_create(&th[i], NULL, fork_sleeper, &s) == 0);
        int before = count_threads_self();
        CHECK(before == 4);
        CHECK(count_task_dir() == 4);
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            int bad = 0;
            if (threads_settle(1) != 1) bad |= 1;
            if (count_task_dir() != 1) bad |= 32;
            if (gettid_() != getpid()) bad |= 2;
            pthread_t t2;
            void *ret = NULL;
            if (pthread_create(&t2, NULL, nop_main, (void *)11) != 0) bad |= 4;
            else if (pthread_join(t2, &ret) != 0 || ret != (void *)11) bad |= 8;
            char *m = malloc(1000);
            if (!m) bad |= 16;
            free(m);
            _exit(bad);
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 0);
        /* The parent's threads are unaffected. */
        for (int i = 0; i < 3; i++) CHECK(sem_post(&s) == 0);
        for (int i = 0; i < 3; i++) {
            void *ret = NULL;
            CHECK(pthread_join(th[i], &ret) == 0 && ret == (void *)5);
        }
        CHECK(threads_settle(1) == 1);
        sem_destroy(&s);
    }

    /* execve from a non-main thread: the other threads (the blocked main thread too) are
     * gone, the program runs with the process's pid, and the parent sees its exit status. */
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            snprintf(exec_pid_arg, sizeof exec_pid_arg, "%d", (int)getpid());
            pthread_t th, th2;
            pthread_create(&th2, NULL, block_main, NULL);
            pthread_create(&th, NULL, exec_main, NULL);
            char ch;
            for (;;) read(block_fd, &ch, 1);
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 0);

        c = fork();
        if (c == 0) {
            snprintf(exec_pid_arg, sizeof exec_pid_arg, "%d", (int)getpid());
            pthread_t th;
            pthread_create(&th, NULL, exec_main, NULL);
            pthread_exit(NULL); /* the main thread is already a zombie at exec time */
        }
        CHECK(c > 0);
        CHECK_EXIT(wait_for(c), 0);
    }
    close(blk[0]);
    close(blk[1]);

    CHECK(threads_settle(1) == 1);
    DONE();
}
