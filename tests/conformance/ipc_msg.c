/* System V message queues: msgget (IPC_PRIVATE, keys), msgsnd and msgrcv with msgtyp 0, >0,
 * <0 and MSG_EXCEPT, MSG_NOERROR (else E2BIG, the message kept), IPC_NOWAIT (EAGAIN when
 * full, ENOMSG when nothing matches), MSG_COPY, senders blocked while msg_qbytes is used up,
 * receivers blocked until a matching message, EIDRM when the queue is removed under a
 * waiter, EINTR from a handler even with SA_RESTART, the msqid_ds fields, IPC_SET of
 * msg_qbytes, IPC_INFO/MSG_INFO/MSG_STAT/MSG_STAT_ANY, /proc/sysvipc/msg, and permissions for
 * another user. Every queue made here is removed again. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m {
    long mtype;
    char mtext[256];
};

static char keyfile[64];

static int snd(int id, long type, const char *text, int flags) {
    struct m b = {type, {0}};
    size_t n = strlen(text);
    memcpy(b.mtext, text, n);
    return msgsnd(id, &b, n, flags);
}

/* Receives into *out; returns the length or -1. */
static long rcv(int id, long type, int flags, struct m *out) {
    memset(out, 0, sizeof *out);
    return msgrcv(id, out, sizeof out->mtext - 1, type, flags);
}

static long proc_value(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

static struct msqid_ds stat_of(int id) {
    struct msqid_ds ds;
    memset(&ds, 0, sizeof ds);
    CHECK_OK(msgctl(id, IPC_STAT, &ds));
    return ds;
}

/* The process has not ended within `ms` (it is blocked). */
static int still_running(pid_t pid, long ms) {
    lt_sleep_ms(ms);
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

static void selection(void) {
    time_t before = time(NULL);
    int id = msgget(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    CHECK(ds.msg_qnum == 0 && ds.msg_cbytes == 0);
    CHECK((long)ds.msg_qbytes == proc_value("/proc/sys/kernel/msgmnb"));
    CHECK(ds.msg_stime == 0 && ds.msg_rtime == 0);
    CHECK(ds.msg_lspid == 0 && ds.msg_lrpid == 0);
    CHECK(ds.msg_ctime + 1 >= before && ds.msg_ctime <= time(NULL) + 1); /* time() may trail the kernel clock a little */
    CHECK((ds.msg_perm.mode & 0777) == 0600);

    CHECK_OK(snd(id, 5, "five", 0));
    CHECK_OK(snd(id, 3, "three-a", 0));
    CHECK_OK(snd(id, 7, "seven", 0));
    CHECK_OK(snd(id, 3, "three-b", 0));
    CHECK_OK(snd(id, 1, "one", 0));
    ds = stat_of(id);
    CHECK(ds.msg_qnum == 5);
    CHECK(ds.msg_cbytes == 4 + 7 + 5 + 7 + 3);
    CHECK(ds.msg_lspid == getpid());
    CHECK(ds.msg_stime >= before);

    struct m b;
    /* MSG_COPY reads by position without taking. */
    CHECK(rcv(id, 1, MSG_COPY | IPC_NOWAIT, &b) == 7 && b.mtype == 3);
    CHECK_ERR(rcv(id, 9, MSG_COPY | IPC_NOWAIT, &b), ENOMSG);
    CHECK_ERR(rcv(id, -1, MSG_COPY | IPC_NOWAIT, &b), ENOMSG);
    CHECK_ERR(rcv(id, 1, MSG_COPY, &b), EINVAL);
    CHECK_ERR(rcv(id, 1, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT, &b), EINVAL);
    CHECK(stat_of(id).msg_qnum == 5);

    /* Too small a buffer: E2BIG and the message stays, or cut with MSG_NOERROR. */
    CHECK_ERR(msgrcv(id, &b, 2, 0, 0), E2BIG);
    CHECK(stat_of(id).msg_qnum == 5);
    CHECK(rcv(id, -4, 0, &b) == 3 && b.mtype == 1 && strcmp(b.mtext, "one") == 0);
    CHECK(rcv(id, 3, 0, &b) == 7 && strcmp(b.mtext, "three-a") == 0);
    CHECK(rcv(id, 5, MSG_EXCEPT, &b) == 5 && strcmp(b.mtext, "seven") == 0);
    CHECK(rcv(id, -4, IPC_NOWAIT, &b) == 7 && strcmp(b.mtext, "three-b") == 0);
    CHECK_ERR(rcv(id, 4, IPC_NOWAIT, &b), ENOMSG);
    CHECK_ERR(rcv(id, -4, IPC_NOWAIT, &b), ENOMSG);
    memset(&b, 0, sizeof b);
    CHECK(msgrcv(id, &b, 2, 0, MSG_NOERROR) == 2 && b.mtype == 5 && strcmp(b.mtext, "fi") == 0);
    ds = stat_of(id);
    CHECK(ds.msg_qnum == 0 && ds.msg_cbytes == 0);
    CHECK(ds.msg_lrpid == getpid() && ds.msg_rtime >= before);
    CHECK_ERR(rcv(id, 0, IPC_NOWAIT, &b), ENOMSG);

    /* Zero-length messages; bad arguments. */
    CHECK_OK(snd(id, 2, "", 0));
    CHECK(rcv(id, 2, 0, &b) == 0);
    CHECK_ERR(snd(id, 0, "x", 0), EINVAL);
    CHECK_ERR(snd(id, -1, "x", 0), EINVAL);
    CHECK_ERR(msgsnd(id, &b, proc_value("/proc/sys/kernel/msgmax") + 1, 0), EINVAL);
    CHECK_ERR(msgsnd(id, (void *)1, 1, 0), EFAULT);
    CHECK_ERR(msgsnd(-1, &b, 1, 0), EINVAL);
    CHECK_ERR(msgrcv(-1, &b, 1, 0, 0), EINVAL);
    CHECK_ERR(msgrcv(id, &b, -1, 0, 0), EINVAL);
    CHECK_ERR(msgctl(id, 9999, &ds), EINVAL);
    CHECK_ERR(msgctl(id, IPC_STAT, (void *)1), EFAULT);
    CHECK_OK(msgctl(id, IPC_RMID, NULL));
    CHECK_ERR(msgctl(id, IPC_STAT, &ds), EINVAL);
    CHECK_ERR(snd(id, 1, "x", 0), EINVAL);
}

static void keys_info_proc(void) {
    key_t key = ftok(keyfile, 'Q');
    CHECK(key != -1);
    CHECK_ERR(msgget(key, 0600), ENOENT);
    int id = msgget(key, IPC_CREAT | IPC_EXCL | 0640);
    CHECK(id >= 0);
    CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK(msgget(key, 0) == id);
    CHECK(msgget(key, IPC_CREAT | 0600) == id);
    CHECK_OK(snd(id, 4, "abc", 0));

    struct msginfo mi;
    int max = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
    CHECK(max >= id % 32768);
    CHECK(mi.msgmax == proc_value("/proc/sys/kernel/msgmax"));
    CHECK(mi.msgmnb == proc_value("/proc/sys/kernel/msgmnb"));
    CHECK(mi.msgmni == proc_value("/proc/sys/kernel/msgmni"));
    CHECK(mi.msgssz == 16);
    CHECK(msgctl(0, MSG_INFO, (struct msqid_ds *)&mi) >= id % 32768);
    CHECK(mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 3);
    struct msqid_ds ds;
    CHECK(msgctl(id % 32768, MSG_STAT, &ds) == id);
    CHECK(ds.msg_qnum == 1 && ds.msg_perm.__key == key);
    CHECK(msgctl(id % 32768, MSG_STAT_ANY, &ds) == id);

    /* /proc/sysvipc/msg has the queue in Linux's columns. */
    FILE *f = fopen("/proc/sysvipc/msg", "r");
    CHECK(f != NULL);
    int found = 0;
    char line[512];
    if (f) {
        CHECK(fgets(line, sizeof line, f) && strncmp(line, "       key      msqid perms", 27) == 0);
        while (fgets(line, sizeof line, f)) {
            int k, i;
            unsigned mode;
            unsigned long cbytes, qnum;
            int lspid, lrpid;
            if (sscanf(line, "%d %d %o %lu %lu %d %d", &k, &i, &mode, &cbytes, &qnum, &lspid,
                       &lrpid) == 7 &&
                i == id) {
                found = 1;
                CHECK(k == key && mode == 0640 && cbytes == 3 && qnum == 1);
                CHECK(lspid == getpid() && lrpid == 0);
            }
        }
        fclose(f);
    }
    CHECK(found);

    if (geteuid() == 0) {
        pid_t c = fork();
        if (c == 0) {
            lt_failures = 0;
            if (setgroups(0, NULL) || setgid(1000) || setuid(1000)) _exit(99);
            struct m b;
            CHECK_ERR(snd(id, 1, "x", IPC_NOWAIT), EACCES);
            CHECK_ERR(rcv(id, 0, IPC_NOWAIT, &b), EACCES);
            CHECK_ERR(msgget(key, 0600), EACCES);
            CHECK(msgget(key, 0) == id);
            struct msqid_ds d;
            CHECK_ERR(msgctl(id, IPC_STAT, &d), EACCES);
            CHECK_ERR(msgctl(id, IPC_RMID, NULL), EPERM);
            _exit(lt_failures ? 1 : 0);
        }
        int st;
        CHECK(waitpid(c, &st, 0) == c);
        CHECK_EXIT(st, 0);
        /* Owned by the other user: msg_qbytes above msgmnb needs privilege. */
        ds = stat_of(id);
        ds.msg_perm.uid = 1000;
        CHECK_OK(msgctl(id, IPC_SET, &ds));
        c = fork();
        if (c == 0) {
            lt_failures = 0;
            if (setgroups(0, NULL) || setgid(1000) || setuid(1000)) _exit(99);
            struct msqid_ds d;
            CHECK_OK(msgctl(id, IPC_STAT, &d));
            d.msg_qbytes = proc_value("/proc/sys/kernel/msgmnb") + 1;
            CHECK_ERR(msgctl(id, IPC_SET, &d), EPERM);
            d.msg_qbytes = 100;
            CHECK_OK(msgctl(id, IPC_SET, &d));
            _exit(lt_failures ? 1 : 0);
        }
        CHECK(waitpid(c, &st, 0) == c);
        CHECK_EXIT(st, 0);
        CHECK(stat_of(id).msg_qbytes == 100);
    }
    CHECK_OK(msgctl(id, IPC_RMID, NULL));
}

static void on_alarm(int sig) { (void)sig; }

static void blocking(void) {
    int id = msgget(IPC_PRIVATE, 0600);
    CHECK(id >= 0);
    struct msqid_ds ds = stat_of(id);
    ds.msg_qbytes = 10;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    CHECK_OK(snd(id, 1, "12345678", 0));
    CHECK_ERR(snd(id, 1, "abc", IPC_NOWAIT), EAGAIN);
    /* A sender waits for room. */
    pid_t c = fork();
    if (c == 0) _exit(snd(id, 2, "abc", 0) == 0 ? 0 : 1);
    CHECK(still_running(c, 100));
    struct m b;
    CHECK(rcv(id, 1, 0, &b) == 8);
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(stat_of(id).msg_lspid == c);
    CHECK(rcv(id, 2, 0, &b) == 3);

    /* msg_qbytes also bounds the number of messages. */
    ds = stat_of(id);
    ds.msg_qbytes = 2;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    CHECK_OK(snd(id, 1, "", 0));
    CHECK_OK(snd(id, 1, "", 0));
    CHECK_ERR(snd(id, 1, "", IPC_NOWAIT), EAGAIN);
    CHECK(rcv(id, 0, 0, &b) == 0 && rcv(id, 0, 0, &b) == 0);
    ds.msg_qbytes = 100;
    CHECK_OK(msgctl(id, IPC_SET, &ds));

    /* A receiver waits for a message of its type. */
    c = fork();
    if (c == 0) {
        struct m r;
        _exit(rcv(id, 9, 0, &r) == 2 && strcmp(r.mtext, "ok") == 0 ? 0 : 1);
    }
    CHECK(still_running(c, 50));
    CHECK_OK(snd(id, 8, "no", 0));
    CHECK(still_running(c, 50));
    CHECK_OK(snd(id, 9, "ok", 0));
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
    CHECK(stat_of(id).msg_lrpid == c);
    CHECK(rcv(id, 0, IPC_NOWAIT, &b) == 2 && b.mtype == 8);

    /* A handler interrupts with EINTR even with SA_RESTART. */
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    CHECK_ERR(rcv(id, 0, 0, &b), EINTR);

    /* Removing the queue wakes a receiver and a sender with EIDRM. */
    c = fork();
    if (c == 0) {
        struct m r;
        errno = 0;
        long n = rcv(id, 99, 0, &r);
        _exit(n == -1 && errno == EIDRM ? 0 : 1);
    }
    ds.msg_qbytes = 2;
    CHECK_OK(msgctl(id, IPC_SET, &ds));
    CHECK_OK(snd(id, 3, "", 0));
    CHECK_OK(snd(id, 3, "", 0));
    pid_t s = fork();
    if (s == 0) {
        errno = 0;
        int r = snd(id, 3, "", 0);
        _exit(r == -1 && errno == EIDRM ? 0 : 1);
    }
    CHECK(still_running(s, 100));
    CHECK(still_running(c, 0));
    CHECK_OK(msgctl(id, IPC_RMID, NULL));
    CHECK(waitpid(s, &st, 0) == s);
    CHECK_EXIT(st, 0);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK_EXIT(st, 0);
}

int main(void) {
    snprintf(keyfile, sizeof keyfile, "/tmp/ipc_msg.%d", getpid());
    int fd = open(keyfile, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    lt_sub("selection", selection, 10000);
    lt_sub("keys_info_proc", keys_info_proc, 10000);
    lt_sub("blocking", blocking, 10000);
    unlink(keyfile);
    DONE();
}
