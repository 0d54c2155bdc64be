/* System V semaphores: semget (IPC_PRIVATE, keys, nsems rules), semop all-or-nothing with
 * IPC_NOWAIT (EAGAIN), ERANGE, EFBIG, E2BIG; blocking and wake-ups (GETNCNT, GETZCNT, the
 * order waiters complete in), semtimedop's timeout, EINTR from a handler even with
 * SA_RESTART, EIDRM for a waiter when the set is removed, a blocked process killed, SEM_UNDO
 * applied at exit (also releasing a lock whose holder was killed, after four processes
 * shared a counter in shared memory under it), the semctl commands (GETVAL/SETVAL/GETALL/
 * SETALL/GETPID/IPC_STAT/IPC_SET/IPC_INFO/SEM_INFO/SEM_STAT/SEM_STAT_ANY) with permissions
 * for another user, and the limits files. Every set made here is removed again. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static char keyfile[64];

static int getval(int id, int n) { return semctl(id, n, GETVAL); }

static int op1(int id, unsigned short n, short op, short flg) {
    struct sembuf s = {n, op, flg};
    return semop(id, &s, 1);
}

/* Waits (up to 5 s) until `cmd` (GETNCNT or GETZCNT) of semaphore n reaches want. */
static int wait_count(int id, int n, int cmd, int want) {
    long start = lt_now_ms();
    while (lt_now_ms() - start < 5000) {
        if (semctl(id, n, cmd) == want) return 1;
        lt_sleep_ms(2);
    }
    return 0;
}

static void basics(void) {
    time_t before = time(NULL);
    int id = semget(IPC_PRIVATE, 3, 0600);
    CHECK(id >= 0);
    struct semid_ds ds;
    union semun u = {.buf = &ds};
    CHECK(semctl(id, 0, IPC_STAT, u) == 0);
    CHECK(ds.sem_nsems == 3);
    CHECK((ds.sem_perm.mode & 0777) == 0600);
    CHECK(ds.sem_perm.uid == geteuid() && ds.sem_perm.cuid == geteuid());
    CHECK(ds.sem_otime == 0);
    CHECK(ds.sem_ctime + 1 >= before && ds.sem_ctime <= time(NULL) + 1); /* time() may trail the kernel clock a little */
    CHECK(getval(id, 0) == 0);
    CHECK(semctl(id, 0, GETPID) == 0);

    u.val = 5;
    CHECK_OK(semctl(id, 1, SETVAL, u));
    CHECK(getval(id, 1) == 5);
    CHECK(semctl(id, 1, GETPID) == getpid());
    u.val = 32768;
    CHECK_ERR(semctl(id, 1, SETVAL, u), ERANGE);
    u.val = -1;
    CHECK_ERR(semctl(id, 1, SETVAL, u), ERANGE);
    u.val = 1;
    CHECK_ERR(semctl(id, 3, SETVAL, u), EINVAL);
    CHECK_ERR(semctl(id, -1, GETVAL), EINVAL);

    unsigned short all[3] = {1, 2, 3}, got[3] = {0};
    u.array = all;
    CHECK_OK(semctl(id, 0, SETALL, u));
    u.array = got;
    CHECK_OK(semctl(id, 0, GETALL, u));
    CHECK(got[0] == 1 && got[1] == 2 && got[2] == 3);
    unsigned short big[3] = {1, 32768, 3};
    u.array = big;
    CHECK_ERR(semctl(id, 0, SETALL, u), ERANGE);
    CHECK(getval(id, 1) == 2);
    u.array = (unsigned short *)1;
    CHECK_ERR(semctl(id, 0, GETALL, u), EFAULT);

    /* All or nothing: the second operation cannot proceed, so the first does not happen. */
    struct sembuf two[2] = {{0, -1, 0}, {1, -3, IPC_NOWAIT}};
    CHECK_ERR(semop(id, two, 2), EAGAIN);
    CHECK(getval(id, 0) == 1 && getval(id, 1) == 2);
    /* Later operations see earlier ones. */
    struct sembuf seq[3] = {{2, -3, 0}, {2, 0, 0}, {2, 4, 0}};
    CHECK_OK(semop(id, seq, 3));
    CHECK(getval(id, 2) == 4);
    CHECK_ERR(op1(id, 0, 0, IPC_NOWAIT), EAGAIN);
    CHECK_OK(op1(id, 0, -1, IPC_NOWAIT));
    CHECK_OK(op1(id, 0, 0, IPC_NOWAIT));
    u.val = 32767;
    CHECK_OK(semctl(id, 0, SETVAL, u));
    CHECK_ERR(op1(id, 0, 1, 0), ERANGE);
    CHECK_ERR(op1(id, 3, 1, 0), EFBIG);
    CHECK_ERR(semop(id, two, 0), EINVAL);
    CHECK_ERR(semop(id, (struct sembuf *)1, 1), EFAULT);
    FILE *f = fopen("/proc/sys/kernel/sem", "r");
    int msl = 0, mns = 0, opm = 0, mni = 0;
    CHECK(f && fscanf(f, "%d %d %d %d", &msl, &mns, &opm, &mni) == 4);
    if (f) fclose(f);
    CHECK(opm >= 1);
    struct sembuf *many = calloc(opm + 1, sizeof *many);
    CHECK_ERR(semop(id, many, opm + 1), E2BIG);
    free(many);
    CHECK_ERR(semget(IPC_PRIVATE, msl + 1, 0600), EINVAL);
    CHECK_ERR(semget(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERR(semget(IPC_PRIVATE, -1, 0600), EINVAL);
    u.buf = &ds;
    CHECK(semctl(id, 0, IPC_STAT, u) == 0);
    CHECK(ds.sem_otime >= before);

    CHECK_ERR(semctl(id, 0, 9999), EINVAL);
    CHECK_ERR(semctl(-1, 0, GETVAL), EINVAL);
    CHECK_OK(semctl(id, 0, IPC_RMID));
    CHECK_ERR(semctl(id, 0, GETVAL), EINVAL);
    CHECK_ERR(op1(id, 0, 1, 0), EINVAL);
}

static void keys_and_info(void) {
    key_t key = ftok(keyfile, 'M');
    CHECK(key != -1);
    CHECK_ERR(semget(key, 1, 0600), ENOENT);
    int id = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0);
    CHECK_ERR(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK(semget(key, 1, IPC_CREAT | 0600) == id);
    CHECK(semget(key, 0, 0) == id);
    CHECK_ERR(semget(key, 3, 0600), EINVAL);

    struct seminfo si;
    union semun u = {.__buf = &si};
    int max = semctl(0, 0, IPC_INFO, u);
    CHECK(max >= id % 32768);
    CHECK(si.semvmx == 32767);
    CHECK(si.semusz == 20);
    CHECK(semctl(0, 0, SEM_INFO, u) >= id % 32768);
    CHECK(si.semusz >= 1 && si.semaem >= 2);
    struct semid_ds ds;
    u.buf = &ds;
    CHECK(semctl(id % 32768, 0, SEM_STAT, u) == id);
    CHECK(ds.sem_nsems == 2 && ds.sem_perm.__key == key);
    CHECK(semctl(id % 32768, 0, SEM_STAT_ANY, u) == id);
    FILE *f = fopen("/proc/sysvipc/sem", "r");
    CHECK(f != NULL);
    int found = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        int k, i, nsems;
        unsigned mode;
        if (sscanf(line, "%d %d %o %d", &k, &i, &mode, &nsems) == 4 && i == id) {
            found = 1;
            CHECK(k == key && mode == 0600 && nsems == 2);
        }
    }
    if (f) fclose(f);
    CHECK(found);

    /* IPC_SET: owner, group, mode bits; ctime. */
    ds.sem_perm.mode = 0640;
    ds.sem_perm.gid = 4321;
    CHECK_OK(semctl(id, 0, IPC_SET, u));
    CHECK(semctl(id, 0, IPC_STAT, u) == 0);
    CHECK((ds.sem_perm.mode & 0777) == 0640 && ds.sem_perm.gid == 4321);

    if (geteuid() == 0) {
        pid_t c = fork();
        if (c == 0) {
            lt_failures = 0;
            gid_t groups[] = {4321};
            if (setgroups(1, groups) || setgid(1000) || setuid(1000)) _exit(99);
            CHECK(getval(id, 0) == 0);
            union semun v = {.val = 1};
            CHECK_ERR(semctl(id, 0, SETVAL, v), EACCES);
            CHECK_ERR(op1(id, 0, 1, 0), EACCES);
            CHECK_OK(op1(id, 0, 0, IPC_NOWAIT));
            CHECK_ERR(semctl(id, 0, IPC_RMID), EPERM);
            if (setgroups(0, NULL) == 0) _exit(98);
            _exit(lt_failures ? 1 : 0);
        }
        int st;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK_EXIT(st, 0);
        c = fork();
        if (c == 0) {
            lt_failures = 0;
            if (setgroups(0, NULL) || setgid(1000) || setuid(1000)) _exit(99);
            struct semid_ds d;
            union semun v = {.buf = &d};
            CHECK_ERR(semctl(id, 0, GETVAL), EACCES);
            CHECK_ERR(semctl(id, 0, IPC_STAT, v), EACCES);
            CHECK(semctl(id % 32768, 0, SEM_STAT_ANY, v) == id);
            CHECK_ERR(semctl(id % 32768, 0, SEM_STAT, v), EACCES);
            _exit(lt_failures ? 1 : 0);
        }
        CHECK(waitpid(c, &st, 0) == c);
        CHECK_EXIT(st, 0);
    }
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

/* Writes `text` to a /proc/sys file; returns 0 or the errno. */
static int write_sysctl(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? errno : 0;
    close(fd);
    return e;
}

/* The limits files: root may write them (the same values go back, so nothing changes), with
 * EINVAL for text that is not numbers, ERANGE for semmni above 32768; others may not. */
static void limits(void) {
    char cur[128] = {0};
    FILE *f = fopen("/proc/sys/kernel/sem", "r");
    CHECK(f && fgets(cur, sizeof cur, f));
    if (f) fclose(f);
    int msl, mns, opm, mni;
    CHECK(sscanf(cur, "%d\t%d\t%d\t%d\n", &msl, &mns, &opm, &mni) == 4);
    if (geteuid() != 0) return;
    CHECK(write_sysctl("/proc/sys/kernel/sem", cur) == 0);
    CHECK(write_sysctl("/proc/sys/kernel/sem", "abc") == EINVAL);
    char bad[128];
    snprintf(bad, sizeof bad, "%d %d %d 32769", msl, mns, opm);
    CHECK(write_sysctl("/proc/sys/kernel/sem", bad) == ERANGE);
    char again[128] = {0};
    f = fopen("/proc/sys/kernel/sem", "r");
    CHECK(f && fgets(again, sizeof again, f));
    if (f) fclose(f);
    CHECK(strcmp(cur, again) == 0);
    const char *files[] = {"msgmax", "msgmnb", "msgmni", "shmmax", "shmall", "shmmni"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) {
        char path[64], v[64] = {0};
        snprintf(path, sizeof path, "/proc/sys/kernel/%s", files[i]);
        f = fopen(path, "r");
        CHECK(f && fgets(v, sizeof v, f));
        if (f) fclose(f);
        CHECK(write_sysctl(path, v) == 0);
        CHECK(write_sysctl(path, "x") == EINVAL);
    }
    CHECK(write_sysctl("/proc/sys/kernel/shmmni", "32769") == EINVAL);
    pid_t c = fork();
    if (c == 0) {
        if (setgid(1000) || setuid(1000)) _exit(99);
        _exit(write_sysctl("/proc/sys/kernel/sem", cur) == EACCES ? 0 : 1);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
}

static void blocking(void) {
    int id = semget(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    /* A waiter for -2 and one for -1: adding 1 lets only the second through. */
    pid_t a = fork();
    if (a == 0) _exit(op1(id, 0, -2, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, 0, GETNCNT, 1));
    pid_t b = fork();
    if (b == 0) _exit(op1(id, 0, -1, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, 0, GETNCNT, 2));
    /* Set before the zero-waiter starts, or it may find 0 and not wait. */
    union semun u = {.val = 1};
    CHECK_OK(semctl(id, 1, SETVAL, u));
    pid_t z = fork();
    if (z == 0) _exit(op1(id, 1, 0, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, 1, GETZCNT, 1));
    CHECK_OK(op1(id, 0, 1, 0));
    int st;
    CHECK(waitpid(b, &st, 0) == b);
    CHECK_EXIT(st, 0);
    CHECK(semctl(id, 0, GETNCNT) == 1);
    CHECK(semctl(id, 0, GETPID) == b);
    CHECK_OK(op1(id, 0, 2, 0));
    CHECK(waitpid(a, &st, 0) == a);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 0) == 0);
    /* The wait for zero ends when the value gets there. */
    CHECK_OK(op1(id, 1, -1, 0));
    CHECK(waitpid(z, &st, 0) == z);
    CHECK_EXIT(st, 0);
    CHECK(semctl(id, 1, GETZCNT) == 0);

    /* semtimedop: EAGAIN after the timeout, nothing changed. */
    struct sembuf s = {0, -1, 0};
    struct timespec ts = {0, 100 * 1000000};
    long t0 = lt_now_ms();
    CHECK_ERR(semtimedop(id, &s, 1, &ts), EAGAIN);
    CHECK(lt_now_ms() - t0 >= 90);
    CHECK(semctl(id, 0, GETNCNT) == 0);
    ts.tv_nsec = 1000000000;
    CHECK_ERR(semtimedop(id, &s, 1, &ts), EINVAL);
    ts.tv_nsec = 0;
    CHECK_ERR(semtimedop(id, &s, 1, &ts), EAGAIN);
    CHECK_ERR(semtimedop(id, &s, 1, (struct timespec *)1), EFAULT);
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

static void on_alarm(int sig) { (void)sig; }

static void interrupted(void) {
    int id = semget(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    /* A handler interrupts semop with EINTR even with SA_RESTART. */
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    CHECK_ERR(op1(id, 0, -1, 0), EINTR);
    CHECK(semctl(id, 0, GETNCNT) == 0);

    /* Removing the set wakes its waiters with EIDRM. */
    pid_t c = fork();
    if (c == 0) {
        errno = 0;
        int r = op1(id, 0, -1, 0);
        _exit(r == -1 && errno == EIDRM ? 0 : 1);
    }
    CHECK(wait_count(id, 0, GETNCNT, 1));
    CHECK_OK(semctl(id, 0, IPC_RMID));
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);

    /* A waiter killed leaves the queue; the value is not taken. */
    id = semget(IPC_PRIVATE, 1, 0600);
    CHECK(id >= 0);
    c = fork();
    if (c == 0) _exit(op1(id, 0, -1, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, 0, GETNCNT, 1));
    kill(c, SIGKILL);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(semctl(id, 0, GETNCNT) == 0);
    CHECK_OK(op1(id, 0, 1, 0));
    CHECK(getval(id, 0) == 1);
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

static void undo(void) {
    int id = semget(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    pid_t c = fork();
    if (c == 0) {
        if (op1(id, 0, 3, SEM_UNDO) || op1(id, 0, -1, SEM_UNDO) || op1(id, 1, 5, 0)) _exit(1);
        _exit(getval(id, 0) == 2 ? 0 : 2);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 0) == 0);
    CHECK(getval(id, 1) == 5);
    CHECK(semctl(id, 0, GETPID) == c);

    /* Adjustments are clamped at zero; SETVAL forgets them. */
    c = fork();
    if (c == 0) {
        if (op1(id, 1, 2, SEM_UNDO) || op1(id, 0, 4, SEM_UNDO)) _exit(1);
        union semun u = {.val = 1};
        if (semctl(id, 1, SETVAL, u)) _exit(2);
        _exit(0);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 0) == 0);
    CHECK(getval(id, 1) == 1);
    c = fork();
    if (c == 0) {
        if (op1(id, 1, 3, SEM_UNDO)) _exit(1);
        union semun u = {.val = 0};
        if (semctl(id, 1, SETVAL, u)) _exit(2);
        if (op1(id, 1, 1, 0)) _exit(3);
        _exit(0);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 1) == 1);

    /* An exit's adjustment completes a waiter. */
    unsigned short zero[2] = {0, 0};
    union semun u = {.array = zero};
    CHECK_OK(semctl(id, 0, SETALL, u));
    pid_t w = fork();
    if (w == 0) _exit(op1(id, 0, -1, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, 0, GETNCNT, 1));
    c = fork();
    if (c == 0) {
        if (op1(id, 0, -1, SEM_UNDO | IPC_NOWAIT) != -1) _exit(1);
        /* Takes 2, gives 3: the waiter takes 1; at exit the 2 come back. */
        if (op1(id, 1, 2, 0) || op1(id, 1, -2, SEM_UNDO)) _exit(2);
        _exit(0);
    }
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 1) == 2);
    CHECK_OK(op1(id, 0, 1, 0));
    CHECK(waitpid(w, &st, 0) == w);
    CHECK_EXIT(st, 0);
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

/* A semaphore as a mutex around a counter in shared memory: four processes, 200 increments
 * each; one is killed while it may hold the lock, and SEM_UNDO gives the lock back. */
static void mutex(void) {
    int id = semget(IPC_PRIVATE, 1, 0600);
    int shm = shmget(IPC_PRIVATE, sizeof(long), 0600);
    CHECK(id >= 0 && shm >= 0);
    volatile long *counter = shmat(shm, NULL, 0);
    CHECK(counter != (void *)-1);
    CHECK_OK(shmctl(shm, IPC_RMID, NULL));
    CHECK_OK(op1(id, 0, 1, 0));
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int i = 0; i < 200; i++) {
                if (op1(id, 0, -1, SEM_UNDO)) _exit(1);
                long v = *counter;
                if (i % 16 == 0) sched_yield();
                *counter = v + 1;
                if (op1(id, 0, 1, SEM_UNDO)) _exit(2);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int st;
        CHECK(waitpid(kids[k], &st, 0) == kids[k]);
        CHECK_EXIT(st, 0);
    }
    CHECK(*counter == 800);
    /* A holder killed: its adjustment releases the lock. */
    pid_t c = fork();
    if (c == 0) {
        if (op1(id, 0, -1, SEM_UNDO)) _exit(1);
        pause();
        _exit(2);
    }
    CHECK(wait_count(id, 0, GETVAL, 0));
    kill(c, SIGKILL);
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(getval(id, 0) == 1);
    CHECK_OK(shmdt((void *)counter));
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

/* A child that blocks in `op` on semaphore n and exits 0 once it completes; returns when
 * n's GETNCNT (op < 0) or GETZCNT (op == 0) has reached `queued`. */
static pid_t waiter(int id, int n, short op, int queued) {
    pid_t c = fork();
    if (c == 0) _exit(op1(id, n, op, 0) == 0 ? 0 : 1);
    CHECK(wait_count(id, n, op ? GETNCNT : GETZCNT, queued));
    return c;
}

/* A process holding a SEM_UNDO adjustment killed while it waits on another semaphore of the
 * set: it leaves that queue (semncnt drops, the waiters behind it keep their order), its
 * adjustment is applied (which completes a wait-for-zero), and the operation it waited for
 * leaves no adjustment. */
static void killed_waiter(void) {
    int id = semget(IPC_PRIVATE, 2, 0600);
    CHECK(id >= 0);
    pid_t a = fork();
    if (a == 0) {
        if (op1(id, 0, 2, SEM_UNDO)) _exit(1);
        op1(id, 1, -1, SEM_UNDO);
        _exit(2);
    }
    CHECK(wait_count(id, 1, GETNCNT, 1));
    CHECK(getval(id, 0) == 2);
    pid_t z = waiter(id, 0, 0, 1);
    pid_t b = waiter(id, 1, -1, 2);
    pid_t c = waiter(id, 1, -1, 3);

    kill(a, SIGKILL);
    int st;
    CHECK(waitpid(a, &st, 0) == a);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(semctl(id, 1, GETNCNT) == 2);
    CHECK(waitpid(z, &st, 0) == z);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 0) == 0);
    CHECK(semctl(id, 0, GETZCNT) == 0);
    /* The exit set sempid, then the completed wait-for-zero did. */
    CHECK(semctl(id, 0, GETPID) == z);

    /* The first waiter left is served first. */
    CHECK_OK(op1(id, 1, 1, 0));
    CHECK(waitpid(b, &st, 0) == b);
    CHECK_EXIT(st, 0);
    CHECK(semctl(id, 1, GETNCNT) == 1);
    CHECK(waitpid(c, &st, WNOHANG) == 0);
    CHECK_OK(op1(id, 1, 1, 0));
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(getval(id, 1) == 0);
    CHECK(semctl(id, 1, GETNCNT) == 0);
    CHECK_OK(semctl(id, 0, IPC_RMID));
}

int main(void) {
    snprintf(keyfile, sizeof keyfile, "/tmp/ipc_sem.%d", getpid());
    int fd = open(keyfile, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    lt_sub("basics", basics, 10000);
    lt_sub("keys_and_info", keys_and_info, 10000);
    lt_sub("limits", limits, 10000);
    lt_sub("blocking", blocking, 10000);
    lt_sub("interrupted", interrupted, 10000);
    lt_sub("undo", undo, 10000);
    lt_sub("killed_waiter", killed_waiter, 10000);
    lt_sub("mutex", mutex, 20000);
    unlink(keyfile);
    DONE();
}
