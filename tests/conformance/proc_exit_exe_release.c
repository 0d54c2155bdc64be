/* A process lets go of its executable when it exits, not when it is reaped: a program file
 * unlinked while it runs keeps its blocks until the last process running it exits, and a
 * zombie (exited, not yet waited for) holds none of them — Linux drops mm->exe_file with
 * the address space in exit_mm. Found when dpkg replaced /bin/sh under the shell that ran
 * it and the machine powered off with the old file still on the orphan list. Checked on a
 * private tmpfs through statvfs's free blocks. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <sys/statvfs.h>

static unsigned long free_blocks(void) {
    struct statvfs s;
    CHECK_OK(statvfs(base, &s));
    return s.f_bfree;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--wait") == 0) {
        /* The exec'd copy: wait for the write end to close, then exit. */
        char c;
        while (read(atoi(argv[2]), &c, 1) > 0) {
        }
        return 0;
    }
    scratch_tmpfs("/tmp/exe_releaseXXXXXX", "size=64m");
    unsigned long empty = free_blocks();
    copy_self(at("prog"), 0755);
    unsigned long with_file = free_blocks();
    CHECK(with_file < empty);

    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[0]);
        execl(at("prog"), "prog", "--wait", fd, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    /* Wait until the child runs the copy: its /proc/PID/exe names it. */
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    long deadline = lt_now_ms() + 10000;
    ssize_t n = -1;
    while (lt_now_ms() < deadline) {
        n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            if (strstr(target, "/prog")) break;
        }
        lt_sleep_ms(10);
    }
    CHECK(n > 0 && strstr(target, "/prog") != NULL);

    CHECK_OK(unlink(at("prog")));
    /* Still running: the blocks stay in use. */
    CHECK(free_blocks() <= with_file);

    close(p[1]);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 0);
    /* A zombie now: the file's blocks are free again. */
    CHECK(free_blocks() == empty);

    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    CHECK(free_blocks() == empty);
    scratch_done();
    DONE();
}
