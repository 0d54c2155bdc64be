/* The guest test runner: runs each program named in a list file as a child process, one at a
 * time, and prints one line per test for `cargo xtask test` to read:
 *   RUN <id>            before the test starts (names the culprit if the kernel dies)
 *   TEST <id> PASS      exit status 0
 *   TEST <id> FAIL why  anything else, with the end of the test's output
 *   RUNNER DONE         after the last test
 * A test gets its own empty working directory and a time limit; its output goes to a file. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIME_LIMIT_MS 60000

extern char **environ;

static void output_tail(const char *path, char *out, size_t cap) {
    char buf[4096];
    int fd = open(path, O_RDONLY);
    out[0] = 0;
    if (fd < 0) return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, start);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    /* Keep the last ~300 characters, one line. */
    char *p = buf;
    if (n > 300) p = buf + n - 300;
    size_t j = 0;
    for (; *p && j + 4 < cap; p++) {
        if (*p == '\n') {
            if (p[1]) { memcpy(out + j, " | ", 3); j += 3; }
        } else if ((unsigned char)*p >= 32) {
            out[j++] = *p;
        }
    }
    out[j] = 0;
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void run_one(const char *path, int n) {
    char dir[64], out[64], why[512], tailbuf[400];
    const char *id = base(path);
    snprintf(dir, sizeof dir, "/tmp/t%d", n);
    snprintf(out, sizeof out, "/tmp/t%d.out", n);
    mkdir(dir, 0755);
    dprintf(1, "RUN %s\n", id);
    pid_t pid = fork();
    if (pid < 0) {
        dprintf(1, "TEST %s FAIL runner: fork: %s\n", id, strerror(errno));
        return;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || fd < 0 || chdir(dir) < 0) _exit(120);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(in);
        close(fd);
        char *argv[] = {(char *)path, NULL};
        execve(path, argv, environ);
        dprintf(2, "runner: execve %s: %s\n", path, strerror(errno));
        _exit(121);
    }
    int status = 0, waited_ms = 0, step = 1;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            dprintf(1, "TEST %s FAIL runner: waitpid: %s\n", id, strerror(errno));
            return;
        }
        if (waited_ms >= TIME_LIMIT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            output_tail(out, tailbuf, sizeof tailbuf);
            dprintf(1, "TEST %s FAIL timed out after %d s: %s\n", id, TIME_LIMIT_MS / 1000, tailbuf);
            return;
        }
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        waited_ms += step;
        if (step < 20) step++;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        dprintf(1, "TEST %s PASS\n", id);
        unlink(out);
        return;
    }
    if (WIFEXITED(status))
        snprintf(why, sizeof why, "exit=%d", WEXITSTATUS(status));
    else
        snprintf(why, sizeof why, "signal=%d", WTERMSIG(status));
    output_tail(out, tailbuf, sizeof tailbuf);
    dprintf(1, "TEST %s FAIL %s: %s\n", id, why, tailbuf);
}

int main(int argc, char **argv) {
    FILE *list = fopen(argc > 1 ? argv[1] : "/tests/list", "r");
    if (!list) {
        dprintf(1, "runner: cannot open the test list: %s\n", strerror(errno));
        return 1;
    }
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0]) run_one(line, n++);
    }
    dprintf(1, "RUNNER DONE\n");
    return 0;
}
