/* fork, vfork and wait: return values, copy-on-write memory, exit statuses (exit codes and
 * SIGKILL), WNOHANG, ECHILD and EINVAL, several children, shared descriptors and offsets,
 * reparenting of an orphan, and vfork sharing memory until the child exits. Children report
 * through their exit status (a bit per failed check). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int wait_for(pid_t pid) {
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int global = 1;
static volatile int vfork_shared;

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();

    /* No children yet. */
    CHECK_ERR(wait(NULL), ECHILD);
    CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
    CHECK_ERR(waitpid(getppid(), NULL, 0), ECHILD);
    CHECK_ERR(waitpid(1, NULL, WNOHANG), ECHILD);
    CHECK_ERR(syscall(SYS_wait4, -1, NULL, 0x01000000, NULL), EINVAL);

    /* Return values and identity. */
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        if (getpid() == me) bad |= 1;
        if (getppid() != me) bad |= 2;
        if (syscall(SYS_gettid) != getpid()) bad |= 4;
        _exit(bad);
    }
    CHECK(pid > 0 && pid != me);
    int st = wait_for(pid);
    CHECK_EXIT(st, 0);
    CHECK_ERR(waitpid(pid, NULL, 0), ECHILD); /* already reaped */

    /* Copy-on-write: the child's writes stay in the child, the parent's in the parent. */
    int local = 2;
    int *heap = malloc(64 * sizeof(int));
    CHECK(heap != NULL);
    for (int i = 0; i < 64; i++) heap[i] = i;
    int *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED);
    anon[0] = 3;
    anon[2047] = 4;
    int go[2], done[2];
    CHECK(pipe(go) == 0 && pipe(done) == 0);
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        if (global != 1 || local != 2 || heap[63] != 63 || anon[0] != 3 || anon[2047] != 4) bad |= 1;
        global = 100;
        local = 200;
        heap[63] = 300;
        anon[0] = 400;
        anon[2047] = 500;
        anon[1024] = 600; /* a page the parent never touched */
        if (write(done[1], "w", 1) != 1) bad |= 2;
        char c;
        if (read(go[0], &c, 1) != 1) bad |= 2; /* the parent has written its copies */
        if (global != 100 || local != 200 || heap[63] != 300 || anon[0] != 400 || anon[2047] != 500) bad |= 4;
        _exit(bad);
    }
    CHECK(pid > 0);
    char c = 0;
    CHECK(read(done[0], &c, 1) == 1);
    CHECK(global == 1 && local == 2 && heap[63] == 63 && anon[0] == 3 && anon[2047] == 4 && anon[1024] == 0);
    global = 7;
    local = 8;
    heap[63] = 9;
    anon[0] = 10;
    CHECK(write(go[1], "g", 1) == 1);
    st = wait_for(pid);
    CHECK_EXIT(st, 0);
    CHECK(global == 7 && local == 8 && heap[63] == 9 && anon[0] == 10 && anon[2047] == 4 && anon[1024] == 0);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    munmap(anon, 8192);
    free(heap);

    /* Exit statuses. */
    pid = fork();
    if (pid == 0) _exit(42);
    CHECK_EXIT(wait_for(pid), 42);
    pid = fork();
    if (pid == 0) exit(0x107); /* only the low 8 bits are kept */
    CHECK_EXIT(wait_for(pid), 7);
    pid = fork();
    if (pid == 0) _exit(255);
    CHECK_EXIT(wait_for(pid), 255);
    pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGKILL);
        _exit(99);
    }
    st = wait_for(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* waitpid with a NULL status, and wait4 with a rusage. */
    pid = fork();
    if (pid == 0) _exit(1);
    CHECK(waitpid(pid, NULL, 0) == pid);
    pid = fork();
    if (pid == 0) _exit(2);
    struct rusage ru;
    st = -1;
    CHECK(wait4(pid, &st, 0, &ru) == pid);
    CHECK_EXIT(st, 2);

    /* WNOHANG: 0 while the child runs, then its status; an exited child stays until reaped. */
    pid = fork();
    if (pid == 0) {
        sleep_ms(100);
        _exit(3);
    }
    st = 12345;
    CHECK(waitpid(pid, &st, WNOHANG) == 0);
    CHECK(waitpid(-1, &st, WNOHANG) == 0);
    CHECK_EXIT(wait_for(pid), 3);
    pid = fork();
    if (pid == 0) _exit(4);
    sleep_ms(50);
    st = -1;
    CHECK(waitpid(pid, &st, WNOHANG) == pid);
    CHECK_EXIT(st, 4);
    CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);

    /* A parent can kill its child. */
    pid = fork();
    if (pid == 0) {
        sleep_ms(3000);
        _exit(5);
    }
    CHECK(kill(pid, SIGKILL) == 0);
    st = wait_for(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* Several children, reaped in any order with wait. */
    pid_t kids[5];
    for (int i = 0; i < 5; i++) {
        kids[i] = fork();
        if (kids[i] == 0) _exit(10 + i);
    }
    int seen = 0;
    for (int n = 0; n < 5; n++) {
        st = -1;
        pid_t w = wait(&st);
        for (int i = 0; i < 5; i++)
            if (w == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 10 + i) seen |= 1 << i;
    }
    CHECK(seen == 31);
    CHECK_ERR(wait(NULL), ECHILD);

    /* Descriptors: inherited, sharing the file offset and status flags; FD_CLOEXEC copied;
     * closing in the child leaves the parent's open. */
    int fd = open("shared", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "abc", 3) == 3);
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0);
    int p[2];
    CHECK(pipe(p) == 0);
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        if (lseek(fd, 0, SEEK_CUR) != 3) bad |= 1;
        if (write(fd, "def", 3) != 3) bad |= 2;
        if (fcntl(fd, F_GETFD) != FD_CLOEXEC) bad |= 4;
        if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0) bad |= 8;
        if (write(p[1], "hello", 5) != 5) bad |= 16;
        close(fd);
        _exit(bad);
    }
    CHECK_EXIT(wait_for(pid), 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 6);
    char buf[16] = {0};
    CHECK(pread(fd, buf, sizeof buf, 0) == 6);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK);
    CHECK(close(p[1]) == 0);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0); /* every write end is closed */
    CHECK(close(p[0]) == 0);
    CHECK(close(fd) == 0);

    /* An orphan is reparented: its parent id changes once the parent exits. */
    CHECK(pipe(p) == 0);
    pid = fork();
    if (pid == 0) {
        pid_t mid = getpid();
        pid_t g = fork();
        if (g == 0) {
            char r = 'n';
            for (int i = 0; i < 200; i++) {
                pid_t pp = getppid();
                if (pp != mid) {
                    r = pp > 0 ? 'y' : 'z';
                    break;
                }
                sleep_ms(5);
            }
            if (write(p[1], &r, 1) != 1) _exit(1);
            _exit(0);
        }
        _exit(g > 0 ? 0 : 1);
    }
    close(p[1]);
    CHECK_EXIT(wait_for(pid), 0);
    c = 0;
    CHECK(read(p[0], &c, 1) == 1);
    CHECK(c == 'y');
    close(p[0]);

    /* vfork: the child runs in the parent's memory until it exits or execs. */
    vfork_shared = 0;
    pid = vfork();
    if (pid == 0) {
        vfork_shared = 1;
        _exit(7);
    }
    CHECK(pid > 0);
#if defined(__GLIBC__) || defined(__x86_64__)
    /* musl's vfork is a real one only where it has an assembly vfork (x86_64 here); on
     * aarch64 and riscv64 it is a plain fork (SIGCHLD only), on Linux as anywhere. */
    CHECK(vfork_shared == 1);
#endif
    CHECK_EXIT(wait_for(pid), 7);
    pid = vfork();
    if (pid == 0) {
        char *av[] = {"true", NULL};
        char *ev[] = {NULL};
        execve("/bin/busybox", av, ev);
        _exit(127);
    }
    CHECK(pid > 0);
    CHECK_EXIT(wait_for(pid), 0);
    CHECK_ERR(wait(NULL), ECHILD);
    DONE();
}
