/* The system-wide open-file limit: /proc/sys/fs/file-nr counts open file descriptions (not
 * descriptors: dup adds none), /proc/sys/fs/file-max bounds them (ENFILE from open, pipe,
 * socket, eventfd; a refused O_CREAT creates nothing), root (CAP_SYS_ADMIN) goes past it,
 * and bad values are refused (EINVAL).
 *
 * Safe on the host: the limit is lowered only for a few system calls, by a root parent that
 * puts it back right after, whatever the unprivileged child checking it does; root's own
 * processes are never refused. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX "/proc/sys/fs/file-max"
#define NR "/proc/sys/fs/file-nr"

static int read_text(const char *path, char *buf, size_t n) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t r = read(fd, buf, n - 1);
    close(fd);
    if (r < 0) return -1;
    buf[r] = 0;
    return 0;
}

/* file-nr's three fields. */
static int file_nr(long *nr, long *free_, long *max) {
    char buf[128];
    if (read_text(NR, buf, sizeof buf) != 0) return -1;
    return sscanf(buf, "%ld\t%ld\t%ld", nr, free_, max) == 3 ? 0 : -1;
}

static char created[64];
static int listener = -1;

static void refused(void) {
    CHECK_OK(setgid(65534));
    CHECK_OK(setuid(65534));
    int p[2];
    CHECK_ERR(open("/dev/null", O_RDONLY), ENFILE);
    CHECK_ERR(open(created, O_WRONLY | O_CREAT, 0644), ENFILE);
    struct stat sb;
    CHECK_ERR(stat(created, &sb), ENOENT);
    CHECK_ERR(pipe(p), ENFILE);
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 0), ENFILE);
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, p), ENFILE);
    CHECK_ERR(eventfd(0, 0), ENFILE);
    /* accept makes its file before it takes the connection, which stays queued. */
    CHECK_ERR(accept(listener, NULL, NULL), ENFILE);
    /* A new descriptor for an open file is not a new file. */
    int d = dup(1);
    CHECK(d >= 0);
    close(d);
}

int main(void) {
    long nr, fr, max;
    CHECK_OK(file_nr(&nr, &fr, &max));
    char buf[64];
    CHECK_OK(read_text(MAX, buf, sizeof buf));
    CHECK(atol(buf) == max);
    CHECK(nr > 0 && fr == 0 && max >= 8192);

    /* Open files are counted once each; dup'ed descriptors are not. */
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    int n = rl.rlim_cur > 1100 ? 1000 : (int)rl.rlim_cur - 100;
    int *fds = calloc(n, sizeof *fds);
    long before, after, dups;
    CHECK_OK(file_nr(&before, &fr, &max));
    for (int i = 0; i < n; i++) fds[i] = open("/dev/null", O_RDONLY);
    CHECK_OK(file_nr(&after, &fr, &max));
    for (int i = 0; i < n / 2; i++) fds[i] = dup(fds[i]);
    CHECK_OK(file_nr(&dups, &fr, &max));
    long grew = after - before, slack = n / 5 + 64;
    if (grew < n - slack || grew > n + slack || dups - after > slack) {
        printf("file-nr: %ld before, %ld after %d opens, %ld after dups\n", before, after, n,
               dups);
        lt_failures++;
    }
    for (int i = 0; i < n; i++) close(fds[i]);
    free(fds);

    if (geteuid() != 0) DONE();
    CHECK_ERR(lt_write_file(MAX, "abc"), EINVAL);
    CHECK_ERR(lt_write_file(MAX, "-1"), EINVAL);
    CHECK_ERR(lt_write_file(MAX, "9223372036854775808"), EINVAL);
    CHECK_OK(read_text(MAX, buf, sizeof buf));
    CHECK(atol(buf) == max);

    snprintf(created, sizeof created, "/tmp/file_max.%d", getpid());
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/file_max.%d.sock", getpid());
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(listener >= 0 && client >= 0);
    CHECK_OK(bind(listener, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(listener, 4));
    CHECK_OK(connect(client, (struct sockaddr *)&sa, sizeof sa));
    /* Below what is open already: only root may open more. */
    CHECK_OK(file_nr(&nr, &fr, &max));
    char low[32];
    snprintf(low, sizeof low, "%ld", nr / 2);
    fflush(stdout);
    CHECK_OK(lt_write_file(MAX, low));
    int root_fd = open("/dev/null", O_RDONLY);
    int root_errno = errno;
    pid_t pid = fork();
    if (pid == 0) {
        lt_failures = 0;
        refused();
        fflush(stdout);
        _exit(lt_failures ? 1 : 0);
    }
    int st = -1;
    if (pid > 0) waitpid(pid, &st, 0);
    snprintf(low, sizeof low, "%ld", max);
    CHECK_OK(lt_write_file(MAX, low));

    CHECK_EXIT(st, 0);
    if (root_fd < 0) printf("root's open: %s\n", strerror(root_errno));
    CHECK(root_fd >= 0);
    close(root_fd);
    CHECK_OK(file_nr(&nr, &fr, &max));
    CHECK(max == atol(low));
    int conn = accept(listener, NULL, NULL);
    CHECK(conn >= 0);
    close(conn);
    close(client);
    close(listener);
    unlink(sa.sun_path);
    unlink(created);
    DONE();
}
