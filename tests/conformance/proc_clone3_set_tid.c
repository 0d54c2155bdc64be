/* clone3's set_tid: the child gets the requested pid when it is free; EEXIST when it is taken;
 * EPERM for a caller without privilege; EINVAL for a set_tid_size the pid namespace depth does
 * not allow, a size without an array (or the reverse), and pids out of range; EFAULT for an
 * unreadable array; two threads asking for the same free pid at once: exactly one gets it
 * and the other EEXIST; the pid of a process group's or session's leader stays taken (EEXIST)
 * while a member is left, after the leader was reaped, and is free again once the last member
 * is. Must run as root (as the test suite does, natively and in Lintel). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* struct clone_args up to CLONE_ARGS_SIZE_VER2 (88 bytes). */
struct args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

/* clone3 as fork with the given set_tid array; the child exits 7 at once. */
static long clone3_tid(pid_t *tids, uint64_t n) {
    struct args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    a.set_tid = (uint64_t)(uintptr_t)tids;
    a.set_tid_size = n;
    long r = syscall(SYS_clone3, &a, sizeof a);
    if (r == 0) _exit(7);
    return r;
}

static int wait_status(pid_t pid) {
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

/* A pid no process or thread has (kill answers ESRCH), near ours and below both pid_max. */
static pid_t free_pid(void) {
    for (pid_t p = getpid() + 300; p < getpid() + 2000; p++)
        if (p < 32000 && kill(p, 0) == -1 && errno == ESRCH) return p;
    for (pid_t p = 300; p < 32000; p++)
        if (kill(p, 0) == -1 && errno == ESRCH) return p;
    return -1;
}

/* ---- two threads, one requested pid ---- */

#define RACE_ROUNDS 100

static pid_t race_pid;
static atomic_int race_go;
static long race_ret[2];
static int race_err[2];

static void *racer(void *arg) {
    int i = (int)(intptr_t)arg;
    while (!atomic_load(&race_go)) {
    }
    pid_t tids[1] = {race_pid};
    errno = 0;
    race_ret[i] = clone3_tid(tids, 1);
    race_err[i] = errno;
    return NULL;
}

/* Each round both threads ask for one free pid at the same moment: one child gets it, the
 * other call fails with EEXIST (never two children with one pid, never both failing). */
static void same_pid_race(void) {
    for (int r = 0; r < RACE_ROUNDS; r++) {
        race_pid = free_pid();
        CHECK(race_pid > 0);
        atomic_store(&race_go, 0);
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            CHECK(pthread_create(&th[i], NULL, racer, (void *)(intptr_t)i) == 0);
        atomic_store(&race_go, 1);
        for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
        int won = 0, lost = 0;
        for (int i = 0; i < 2; i++) {
            if (race_ret[i] == race_pid) {
                won++;
                CHECK(wait_status(race_pid) == 7 << 8);
            } else if (race_ret[i] == -1 && race_err[i] == EEXIST) {
                lost++;
            } else {
                printf("round %d: thread %d: clone3 gave %ld (errno %d), pid %d asked\n", r, i,
                       race_ret[i], race_err[i], (int)race_pid);
                lt_failures++;
            }
        }
        if (won != 1 || lost != 1) {
            printf("round %d: %d got pid %d, %d EEXIST\n", r, won, (int)race_pid, lost);
            lt_failures++;
            return;
        }
    }
}

/* ---- ids held by a process group or session ---- */

/* A child leads a new process group (or session), forks a member into it and exits; once
 * the leader is reaped, its pid is still the group's (or session's) id and set_tid of it
 * fails with EEXIST, as Linux keeps a pid while any PIDTYPE_PGID or PIDTYPE_SID user is left.
 * In the session case the member moves to a group of its own first, so that only the
 * session holds the id. Once the member (ours by PR_SET_CHILD_SUBREAPER) is reaped, the id
 * is free. */
static void held_by_group(int session) {
    int before = lt_failures;
    int gate[2], report[2];
    CHECK_OK(pipe(gate));
    CHECK_OK(pipe(report));
    pid_t leader = fork();
    if (leader == 0) {
        if (session ? setsid() == -1 : setpgid(0, 0) == -1) _exit(2);
        pid_t member = fork();
        if (member == 0) {
            close(gate[1]);
            member = session && setpgid(0, 0) == -1 ? -1 : getpid();
            char c;
            if (write(report[1], &member, sizeof member) != sizeof member) _exit(4);
            if (read(gate[0], &c, 1) != 0) _exit(5); /* EOF: the test let go */
            _exit(0);
        }
        _exit(member > 0 ? 0 : 3);
    }
    close(gate[0]);
    close(report[1]);
    pid_t member = -1;
    CHECK(read(report[0], &member, sizeof member) == sizeof member);
    close(report[0]);
    CHECK(leader > 0 && wait_status(leader) == 0);
    CHECK(member > 0);
    CHECK((session ? getsid(member) : getpgid(member)) == leader);
    CHECK(getpgid(member) == (session ? member : leader));
    pid_t tids[1] = {leader};
    CHECK_ERR(clone3_tid(tids, 1), EEXIST);
    close(gate[1]);
    /* The member is ours now (we are a subreaper). */
    CHECK(member > 0 && wait_status(member) == 0);
    long r = clone3_tid(tids, 1);
    CHECK(r == leader);
    if (r > 0) CHECK(wait_status((pid_t)r) == 7 << 8);
    if (lt_failures > before) printf("held_by_group(%d) failed\n", session);
}

int main(void) {
    if (getuid() != 0) {
        printf("needs root\n");
        return 1;
    }
    /* The requested pid when it is free. */
    pid_t want = free_pid();
    CHECK(want > 0);
    pid_t tids[2] = {want, 0};
    long r = clone3_tid(tids, 1);
    CHECK(r == want);
    if (r > 0) CHECK(wait_status((pid_t)r) == 7 << 8);
    /* Free again once reaped. */
    r = clone3_tid(tids, 1);
    CHECK(r == want);
    if (r > 0) CHECK(wait_status((pid_t)r) == 7 << 8);

    /* A taken pid: our own, and a live child's. */
    pid_t mine[1] = {getpid()};
    CHECK_ERR(clone3_tid(mine, 1), EEXIST);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    pid_t busy[1] = {child};
    CHECK_ERR(clone3_tid(busy, 1), EEXIST);
    kill(child, SIGKILL);
    CHECK(wait_status(child) != -1);

    /* Bad sizes and pids. */
    CHECK_ERR(clone3_tid(tids, 2), EINVAL);  /* deeper than the pid namespace */
    CHECK_ERR(clone3_tid(tids, 33), EINVAL); /* above MAX_PID_NS_LEVEL */
    CHECK_ERR(clone3_tid(NULL, 1), EINVAL);
    {
        struct args a;
        memset(&a, 0, sizeof a);
        a.exit_signal = SIGCHLD;
        a.set_tid = (uint64_t)(uintptr_t)tids;
        CHECK_ERR(syscall(SYS_clone3, &a, sizeof a), EINVAL); /* array without a size */
    }
    pid_t zero[1] = {0}, neg[1] = {-5}, huge[1] = {1 << 30};
    CHECK_ERR(clone3_tid(zero, 1), EINVAL);
    CHECK_ERR(clone3_tid(neg, 1), EINVAL);
    CHECK_ERR(clone3_tid(huge, 1), EINVAL);
    CHECK_ERR(clone3_tid((pid_t *)8, 1), EFAULT);

    /* Without privilege: EPERM (checked in a child that gave up root). */
    child = fork();
    if (child == 0) {
        if (setuid(65534) != 0) _exit(2);
        errno = 0;
        long x = clone3_tid(tids, 1);
        _exit(x == -1 && errno == EPERM ? 0 : 1);
    }
    CHECK(wait_status(child) == 0);

    same_pid_race();

    CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
    held_by_group(0);
    held_by_group(1);

    /* Ordinary forks still work and never hand out a pid someone has. */
    for (int i = 0; i < 3; i++) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        CHECK(p > 0 && p != getpid());
        CHECK(wait_status(p) == 0);
    }
    DONE();
}
