/* File leases (fcntl F_SETLEASE/F_GETLEASE): who may take which lease (EAGAIN while the file
 * is open in a conflicting way, EINVAL off regular files, EACCES for a non-owner without
 * CAP_LEASE), and lease breaking: an open for writing (or truncate) breaks a read lease, any
 * open breaks a write lease; the holder gets SIGIO or its F_SETSIG signal with si_fd,
 * F_GETLEASE shows the target type meanwhile, the opener blocks until the holder releases or
 * downgrades (or closes), and a non-blocking opener gets EWOULDBLOCK. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[64];

static void make_file(void) {
    snprintf(path, sizeof path, "/tmp/lt-lease-%d", getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "data", 4) == 4);
    close(fd);
}

/* Whether the pipe has something to read within `ms`. */
static int readable(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void rules(void) {
    make_file();
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETLEASE) == F_UNLCK);
    /* Releasing a lease one does not hold. */
    CHECK_ERR(fcntl(fd, F_SETLEASE, F_UNLCK), EAGAIN);
    CHECK_ERR(fcntl(fd, F_SETLEASE, 42), EINVAL);
    CHECK_OK(fcntl(fd, F_SETLEASE, F_RDLCK));
    CHECK(fcntl(fd, F_GETLEASE) == F_RDLCK);
    /* Taking a lease makes the caller the file's owner. */
    CHECK(fcntl(fd, F_GETOWN) == getpid());
    /* Another reader neither breaks a read lease nor allows a write lease. */
    int r2 = open(path, O_RDONLY);
    CHECK(r2 >= 0);
    CHECK(fcntl(fd, F_GETLEASE) == F_RDLCK);
    CHECK_OK(fcntl(r2, F_SETLEASE, F_RDLCK));
    CHECK_ERR(fcntl(fd, F_SETLEASE, F_WRLCK), EAGAIN);
    close(r2);
    /* Alone: the read lease becomes a write lease, and back. */
    CHECK_OK(fcntl(fd, F_SETLEASE, F_WRLCK));
    CHECK(fcntl(fd, F_GETLEASE) == F_WRLCK);
    CHECK_OK(fcntl(fd, F_SETLEASE, F_RDLCK));
    CHECK(fcntl(fd, F_GETLEASE) == F_RDLCK);
    CHECK_OK(fcntl(fd, F_SETLEASE, F_UNLCK));
    CHECK(fcntl(fd, F_GETLEASE) == F_UNLCK);
    /* A read lease needs the file open for writing nowhere, itself included. */
    int w = open(path, O_RDWR);
    CHECK(w >= 0);
    CHECK_ERR(fcntl(w, F_SETLEASE, F_RDLCK), EAGAIN);
    CHECK_ERR(fcntl(fd, F_SETLEASE, F_RDLCK), EAGAIN);
    close(w);
    /* A write lease through a writable descriptor, when it is the only open. */
    close(fd);
    w = open(path, O_RDWR);
    CHECK_OK(fcntl(w, F_SETLEASE, F_WRLCK));
    CHECK(fcntl(w, F_GETLEASE) == F_WRLCK);
    close(w);
    /* Only regular files. */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_ERR(fcntl(p[0], F_SETLEASE, F_RDLCK), EINVAL);
    close(p[0]);
    close(p[1]);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK_ERR(fcntl(d, F_SETLEASE, F_RDLCK), EINVAL);
    close(d);
    /* Someone else's file without CAP_LEASE. */
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0) _exit(2);
        int r = open(path, O_RDONLY);
        if (r < 0) _exit(3);
        if (fcntl(r, F_SETLEASE, F_RDLCK) != -1 || errno != EACCES) _exit(4);
        if (fcntl(r, F_GETLEASE) != F_UNLCK) _exit(5);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    unlink(path);
}

/* A child opens the file with `flags` and reports on the pipe how it went (errno or 0). */
static pid_t opener(int flags, int out) {
    pid_t pid = fork();
    if (pid == 0) {
        int r = open(path, flags);
        int e = r < 0 ? errno : 0;
        CHECK(write(out, &e, sizeof e) == sizeof e);
        _exit(0);
    }
    return pid;
}

static void read_lease_break(void) {
    make_file();
    lt_block_sig(SIGIO);
    int fd = open(path, O_RDONLY);
    CHECK_OK(fcntl(fd, F_SETLEASE, F_RDLCK));
    int p[2];
    CHECK(pipe(p) == 0);
    /* Readers do not break it. */
    pid_t c = opener(O_RDONLY, p[1]);
    int e = -1;
    CHECK(readable(p[0], 5000));
    CHECK(read(p[0], &e, sizeof e) == sizeof e && e == 0);
    CHECK(waitpid(c, NULL, 0) == c);
    siginfo_t si;
    CHECK(lt_wait_sig(SIGIO, 100, &si) == 0);
    /* A non-blocking writer: EWOULDBLOCK, and the break starts. */
    c = opener(O_WRONLY | O_NONBLOCK, p[1]);
    CHECK(readable(p[0], 5000));
    CHECK(read(p[0], &e, sizeof e) == sizeof e && e == EWOULDBLOCK);
    CHECK(waitpid(c, NULL, 0) == c);
    CHECK(lt_wait_sig(SIGIO, 5000, &si) == SIGIO);
    CHECK(si.si_code == SI_KERNEL);
    CHECK(fcntl(fd, F_GETLEASE) == F_UNLCK);
    /* A blocking writer waits until the holder lets go. */
    c = opener(O_WRONLY, p[1]);
    CHECK(!readable(p[0], 300));
    CHECK(fcntl(fd, F_GETLEASE) == F_UNLCK);
    CHECK_OK(fcntl(fd, F_SETLEASE, F_UNLCK));
    CHECK(readable(p[0], 5000));
    CHECK(read(p[0], &e, sizeof e) == sizeof e && e == 0);
    CHECK(waitpid(c, NULL, 0) == c);
    close(fd);
    close(p[0]);
    close(p[1]);
    unlink(path);
}

static void write_lease_break(void) {
    make_file();
    int sig = SIGRTMIN + 1;
    lt_block_sig(sig);
    /* Read-only: a write lease may be held through it, and downgraded (a read lease on a
     * writable descriptor is EAGAIN). */
    int fd = open(path, O_RDONLY);
    CHECK_OK(fcntl(fd, F_SETSIG, sig));
    CHECK_OK(fcntl(fd, F_SETLEASE, F_WRLCK));
    int p[2];
    CHECK(pipe(p) == 0);
    /* A reader breaks a write lease down to a read lease. */
    pid_t c = opener(O_RDONLY, p[1]);
    siginfo_t si;
    CHECK(lt_wait_sig(sig, 5000, &si) == sig);
    CHECK(si.si_fd == fd);
    CHECK(si.si_code == POLL_MSG);
    CHECK(fcntl(fd, F_GETLEASE) == F_RDLCK);
    CHECK(!readable(p[0], 300));
    CHECK_OK(fcntl(fd, F_SETLEASE, F_RDLCK));
    int e = -1;
    CHECK(readable(p[0], 5000));
    CHECK(read(p[0], &e, sizeof e) == sizeof e && e == 0);
    CHECK(waitpid(c, NULL, 0) == c);
    CHECK(fcntl(fd, F_GETLEASE) == F_RDLCK);
    close(fd);
    /* Closing the holder's descriptor ends the lease, and the opener goes on. */
    fd = open(path, O_RDONLY);
    CHECK_OK(fcntl(fd, F_SETSIG, sig));
    CHECK_OK(fcntl(fd, F_SETLEASE, F_RDLCK));
    c = fork();
    if (c == 0) {
        /* truncate(2) breaks a read lease as a writer does. (The inherited descriptor
         * would keep the lease's open file alive.) */
        close(fd);
        int r = truncate(path, 1);
        int err = r < 0 ? errno : 0;
        CHECK(write(p[1], &err, sizeof err) == sizeof err);
        _exit(0);
    }
    CHECK(lt_wait_sig(sig, 5000, &si) == sig);
    CHECK(!readable(p[0], 300));
    close(fd);
    CHECK(readable(p[0], 5000));
    CHECK(read(p[0], &e, sizeof e) == sizeof e && e == 0);
    CHECK(waitpid(c, NULL, 0) == c);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 1);
    close(p[0]);
    close(p[1]);
    unlink(path);
}

int main(void) {
    lt_sub("rules", rules, 10000);
    lt_sub("read_lease_break", read_lease_break, 20000);
    lt_sub("write_lease_break", write_lease_break, 20000);
    DONE();
}
