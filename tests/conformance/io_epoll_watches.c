/* /proc/sys/fs/epoll/max_user_watches: EPOLL_CTL_ADD gives ENOSPC once the user (the real uid
 * that created the epoll instance) has that many watches in all its instances, in every
 * process; EEXIST still comes first and EPOLL_CTL_MOD is no new watch; a watch stops counting
 * when it is deleted, when its file's last descriptor is closed (not while a dup holds it) or
 * when its instance is closed; another user, or a process whose effective but not real uid is
 * the full user's, is not refused; and only root writes the file, numbers from 0 to LONG_MAX.
 *
 * Safe on the host: the limit is lowered to LIMIT only between two messages of a root parent
 * and an unprivileged child (uid UID, which nothing else uses) that is already at it, for a
 * few dozen system calls, and put back right after whatever the child does. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX "/proc/sys/fs/epoll/max_user_watches"
#define LIMIT 4
#define UID 46021
#define OTHER 46022

/* The number in the file `path`, 0 when it holds one and a newline. */
static int read_long(const char *path, long *v) {
    char buf[64], *end;
    if (lt_slurp(path, buf, sizeof buf) <= 0) return -1;
    *v = strtol(buf, &end, 10);
    return end != buf && *end == '\n' ? 0 : -1;
}

static int add(int ep, int fd) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void msg_send(int fd) {
    char c = 1;
    if (write(fd, &c, 1) != 1) exit(3);
}

static int msg_wait(int fd) {
    char c;
    return read(fd, &c, 1) == 1 ? 0 : -1;
}

static void become(uid_t r, uid_t e) {
    if (getuid() == r && geteuid() == e) return;
    if (setgroups(0, NULL) || setresgid(UID, UID, UID) || setresuid(r, e, e)) {
        printf("setresuid(%d, %d): %s\n", r, e, strerror(errno));
        exit(2);
    }
}

/* In a new process of real uid r and effective uid e: a new instance takes `n` watches and
 * refuses one more with ENOSPC. */
static void other_process(uid_t r, uid_t e, int n) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        lt_failures = 0;
        become(r, e);
        int ep = epoll_create1(0);
        CHECK(ep >= 0);
        for (int i = 0; i < n; i++) {
            int fd = eventfd(0, 0);
            CHECK_OK(add(ep, fd));
        }
        CHECK_ERR(add(ep, eventfd(0, 0)), ENOSPC);
        fflush(stdout);
        _exit(lt_failures ? 1 : 0);
    }
    int st = -1;
    if (pid > 0) waitpid(pid, &st, 0);
    CHECK_EXIT(st, 0);
}

/* The child, uid UID: fills its share below the limit, then checks what it may do at it. */
static void child(int ready, int go) {
    become(UID, UID);
    CHECK_ERR(open(MAX, O_WRONLY), EACCES);
    int ep = epoll_create1(0), ep2 = epoll_create1(0);
    CHECK(ep >= 0 && ep2 >= 0);
    int f[LIMIT + 2];
    for (int i = 0; i < LIMIT + 2; i++) f[i] = eventfd(0, 0);
    for (int i = 0; i < LIMIT; i++) CHECK_OK(add(ep, f[i]));
    msg_send(ready);
    if (msg_wait(go)) return;

    /* At the limit, in any instance of the user's. */
    CHECK_ERR(add(ep, f[LIMIT]), ENOSPC);
    CHECK_ERR(add(ep2, f[LIMIT]), ENOSPC);
    CHECK_ERR(add(ep, f[0]), EEXIST);
    struct epoll_event ev = {.events = EPOLLOUT, .data.fd = f[0]};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, f[0], &ev));
    /* Deleting one makes room for one, in another instance too. */
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, f[0], NULL));
    CHECK_OK(add(ep2, f[LIMIT]));
    CHECK_ERR(add(ep, f[0]), ENOSPC);
    /* Closing a watched file makes room, but not while a dup keeps it open. */
    int d = dup(f[1]);
    CHECK(d >= 0);
    CHECK_OK(close(f[1]));
    CHECK_ERR(add(ep, f[0]), ENOSPC);
    CHECK_OK(close(d));
    CHECK_OK(add(ep, f[0]));
    CHECK_ERR(add(ep, f[LIMIT + 1]), ENOSPC);
    /* Another process of the same user is refused too. */
    other_process(UID, UID, 0);
    /* Closing an instance lets its watches go (ep2 has one). */
    CHECK_OK(close(ep2));
    CHECK_OK(add(ep, f[LIMIT + 1]));
    CHECK_ERR(add(ep, f[LIMIT]), ENOSPC);
    msg_send(ready);
    msg_wait(go);
}

int main(void) {
    long orig, v;
    CHECK_OK(read_long(MAX, &orig));
    CHECK(orig > 0);
    if (geteuid() != 0) DONE();
    CHECK_ERR(lt_write_file(MAX, "abc"), EINVAL);
    CHECK_ERR(lt_write_file(MAX, "-1"), EINVAL);
    CHECK_ERR(lt_write_file(MAX, "9223372036854775808"), EINVAL);
    CHECK_OK(read_long(MAX, &v));
    CHECK(v == orig);

    int up[2], down[2];
    CHECK_OK(pipe(up));
    CHECK_OK(pipe(down));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        lt_failures = 0;
        close(up[0]);
        close(down[1]);
        child(up[1], down[0]);
        fflush(stdout);
        _exit(lt_failures ? 1 : 0);
    }
    close(up[1]);
    close(down[0]);
    char text[32];
    if (msg_wait(up[0]) == 0) {
        snprintf(text, sizeof text, "%d\n", LIMIT);
        CHECK_OK(lt_write_file(MAX, text));
        msg_send(down[1]);
        if (msg_wait(up[0]) == 0) {
            /* The child's user is full: another user is not, nor is a process whose real
             * uid is another (the watches are the real uid's), but one whose real uid is
             * the full user's is. */
            other_process(OTHER, OTHER, LIMIT);
            other_process(OTHER, UID, LIMIT);
            other_process(UID, OTHER, 0);
        }
    }
    snprintf(text, sizeof text, "%ld", orig);
    CHECK_OK(lt_write_file(MAX, text));
    close(down[1]);
    int st = -1;
    waitpid(pid, &st, 0);
    CHECK_EXIT(st, 0);
    CHECK_OK(read_long(MAX, &v));
    CHECK(v == orig);

    /* Root may set any number up to LONG_MAX. */
    CHECK_OK(lt_write_file(MAX, "9223372036854775807"));
    CHECK_OK(read_long(MAX, &v));
    CHECK(v == 9223372036854775807L);
    CHECK_OK(lt_write_file(MAX, text));
    CHECK_OK(read_long(MAX, &v));
    CHECK(v == orig);
    DONE();
}
