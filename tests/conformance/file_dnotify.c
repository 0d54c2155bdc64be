/* Directory notification (fcntl F_NOTIFY, dnotify): the directory's owner-to-be (the caller)
 * gets SIGIO, or the F_SETSIG signal with si_fd and POLL_MSG, when an entry is created,
 * deleted, renamed, changed or read; one-shot unless DN_MULTISHOT; a second F_NOTIFY adds to
 * the mask, 0 removes it, closing the descriptor ends it; ENOTDIR off directories. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char name[128];

/* Takes every queued `sig` (one change may raise several events, and RT signals queue). */
static void drain(int sig) {
    siginfo_t si;
    while (lt_wait_sig(sig, 50, &si) == sig) {
    }
}

static const char *in_dir(const char *n) {
    snprintf(name, sizeof name, "%s/%s", dir, n);
    return name;
}

static void touch(const char *n) {
    int fd = open(in_dir(n), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
}

static void events(void) {
    snprintf(dir, sizeof dir, "/tmp/lt-dnotify-%d", getpid());
    CHECK(mkdir(dir, 0755) == 0);
    int sig = SIGRTMIN + 2;
    lt_block_sig(sig);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(fcntl(dfd, F_SETSIG, sig));
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    CHECK(fcntl(dfd, F_GETOWN) == getpid());
    siginfo_t si;
    touch("a");
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    CHECK(si.si_fd == dfd);
    CHECK(si.si_code == POLL_MSG);
    CHECK(si.si_band == (POLLIN | POLLRDNORM | POLLMSG));
    touch("b");
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    /* Not asked for: a change of a file's contents, a deletion. */
    int fd = open(in_dir("a"), O_WRONLY);
    CHECK(write(fd, "x", 1) == 1);
    close(fd);
    CHECK(unlink(in_dir("b")) == 0);
    CHECK(lt_wait_sig(sig, 200, &si) == 0);
    /* A second F_NOTIFY adds to the mask. */
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_DELETE | DN_MULTISHOT));
    CHECK(unlink(in_dir("a")) == 0);
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    touch("c");
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    /* Modify, attrib, rename, access. */
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_MODIFY | DN_ATTRIB | DN_RENAME | DN_MULTISHOT));
    fd = open(in_dir("c"), O_WRONLY);
    CHECK(write(fd, "x", 1) == 1);
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    close(fd);
    CHECK(chmod(in_dir("c"), 0600) == 0);
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    char to[128];
    snprintf(to, sizeof to, "%s/d", dir);
    CHECK(rename(in_dir("c"), to) == 0);
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    /* 0 removes the request. */
    drain(sig);
    CHECK_OK(fcntl(dfd, F_NOTIFY, 0));
    touch("e");
    CHECK(lt_wait_sig(sig, 200, &si) == 0);
    /* One-shot: the first event only. */
    drain(sig);
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_CREATE));
    touch("f");
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    touch("g");
    CHECK(lt_wait_sig(sig, 200, &si) == 0);
    /* Reading the file counts as access. */
    drain(sig);
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_ACCESS | DN_MULTISHOT));
    fd = open(in_dir("d"), O_RDONLY);
    char b[4];
    CHECK(read(fd, b, sizeof b) == 1);
    CHECK(lt_wait_sig(sig, 2000, &si) == sig);
    close(fd);
    /* Closing the descriptor ends it. */
    drain(sig);
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    close(dfd);
    touch("h");
    CHECK(lt_wait_sig(sig, 200, &si) == 0);
    /* Without F_SETSIG: SIGIO. */
    lt_block_sig(SIGIO);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK_OK(fcntl(dfd, F_NOTIFY, DN_DELETE));
    CHECK(unlink(in_dir("h")) == 0);
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    CHECK(si.si_code == SI_KERNEL);
    close(dfd);
    /* Only directories. */
    fd = open(in_dir("f"), O_RDONLY);
    CHECK_ERR(fcntl(fd, F_NOTIFY, DN_CREATE), ENOTDIR);
    close(fd);
    const char *left[] = {"d", "e", "f", "g"};
    for (unsigned i = 0; i < sizeof left / sizeof *left; i++) unlink(in_dir(left[i]));
    CHECK(rmdir(dir) == 0);
}

int main(void) {
    lt_sub("events", events, 20000);
    DONE();
}
