/* A lazily unmounted file system goes at the end of its last use (as root, on a private
 * tmpfs, on the host too): a tmpfs detached with umount2(MNT_DETACH) while in use keeps its
 * memory (Shmem in /proc/meminfo) while it is, and gives it back by the time the call that
 * ended the last use returns, as Linux's last mntput runs before the return to user mode:
 * close(2) of its last open file, chdir(2) out of it, munmap(2) of a mapping of its file
 * (the file closed), execve(2) of a process whose old address space mapped its file (before
 * the new program runs), and, for a child working in it, the child's exit (before the
 * parent's wait returns). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1024L * 1024)

/* Shmem in /proc/meminfo, in bytes (-1 when missing). */
static long shmem(void) {
    static char buf[8192];
    read_all("/proc/meminfo", buf, sizeof buf);
    char *p = strstr(buf, "\nShmem:");
    return p ? atol(p + 7) * 1024 : -1;
}

/* Mounts a tmpfs at `dir` (under the scratch mount) with a 16 MB file `dir`/f; returns the
 * file open for reading and writing. */
static int filled(const char *dir) {
    CHECK_OK(mkdir(at(dir), 0755));
    CHECK_OK(mount("none", at(dir), "tmpfs", 0, "size=32m"));
    char path[192];
    snprintf(path, sizeof path, "%s/f", at(dir));
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 16; i++) CHECK(write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    return fd;
}

/* Shmem before the lazy umount of `dir` (in use), after it, and after `end` ended the last
 * use: kept while in use, given back after. */
static void check(const char *what, const char *dir, long before, void (*end)(void)) {
    CHECK(before >= 16 * MB);
    CHECK_OK(umount2(at(dir), MNT_DETACH));
    long held = shmem();
    end();
    long after = shmem();
    int ok = held > before - 4 * MB && after < held - 12 * MB;
    CHECK(ok);
    if (!ok)
        printf("%s: Shmem %ld before, %ld detached, %ld after the last use\n", what, before,
               held, after);
}

static int fd1, fd2;
static void *map;
static int go[2];
static pid_t child;

static void end_close(void) {
    CHECK_OK(close(fd1));
    long held = shmem();
    CHECK_OK(close(fd2));
    /* The first close was not the last. */
    CHECK(shmem() < held - 12 * MB);
}

static void end_chdir(void) {
    CHECK_OK(chdir("/"));
}

static void end_munmap(void) {
    CHECK_OK(munmap(map, 16 * MB));
}

/* The exec test's pipes: the child's go-ahead to exec, the new program's "running", and
 * the one whose close lets it exit. */
static int exec_go[2], exec_up[2], exec_hold[2];

static void end_exec(void) {
    CHECK(write(exec_go[1], "g", 1) == 1);
    char c;
    CHECK(read(exec_up[0], &c, 1) == 1);
}

static void end_exit(void) {
    close(go[1]);
    int st = -1;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 4 && strcmp(argv[1], "exec-wait") == 0) {
        /* The program the exec test's child became: says it runs, waits for EOF. */
        char c;
        if (write(atoi(argv[2]), "u", 1) != 1) return 1;
        while (read(atoi(argv[3]), &c, 1) > 0) {
        }
        return 0;
    }
    scratch_tmpfs("/tmp/lt_detclose_XXXXXX", "size=1m");

    /* The last close: a second open file of it makes the first close not the last. */
    fd1 = filled("m");
    fd2 = open(at("m/f"), O_RDONLY);
    CHECK(fd2 >= 0);
    check("close", "m", shmem(), end_close);

    /* Leaving it as the working directory. */
    CHECK_OK(close(filled("c")));
    CHECK_OK(chdir(at("c")));
    check("chdir", "c", shmem(), end_chdir);

    /* Unmapping its file, closed after mmap. */
    int fd = filled("u");
    map = mmap(NULL, 16 * MB, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);
    CHECK_OK(close(fd));
    check("munmap", "u", shmem(), end_munmap);
    char c;

    /* A child mapping its file (closed) execs: its old address space was the last use. */
    fd = filled("x");
    CHECK_OK(pipe(exec_go));
    CHECK_OK(pipe(exec_up));
    CHECK_OK(pipe(exec_hold));
    int mapped[2];
    CHECK_OK(pipe(mapped));
    child = fork();
    if (child == 0) {
        close(mapped[0]);
        close(exec_go[1]);
        close(exec_up[0]);
        close(exec_hold[1]);
        void *m = mmap(NULL, 16 * MB, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) _exit(1);
        close(fd);
        close(mapped[1]);
        char c;
        if (read(exec_go[0], &c, 1) != 1) _exit(1);
        char up[16], hold[16];
        snprintf(up, sizeof up, "%d", exec_up[1]);
        snprintf(hold, sizeof hold, "%d", exec_hold[0]);
        execl("/proc/self/exe", argv[0], "exec-wait", up, hold, (char *)NULL);
        _exit(1);
    }
    CHECK(child > 0);
    CHECK_OK(close(fd));
    close(mapped[1]);
    close(exec_go[0]);
    close(exec_up[1]);
    close(exec_hold[0]);
    CHECK(read(mapped[0], &c, 1) == 0);
    close(mapped[0]);
    check("exec", "x", shmem(), end_exec);
    close(exec_hold[1]);
    int st = -1;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(exec_go[1]);
    close(exec_up[0]);

    /* A child working in it exits. */
    CHECK_OK(close(filled("e")));
    int ready[2];
    CHECK_OK(pipe(ready));
    CHECK_OK(pipe(go));
    child = fork();
    if (child == 0) {
        close(ready[0]);
        close(go[1]);
        if (chdir(at("e")) != 0) _exit(1);
        close(ready[1]);
        char c;
        (void)!read(go[0], &c, 1);
        _exit(0);
    }
    CHECK(child > 0);
    close(ready[1]);
    close(go[0]);
    CHECK(read(ready[0], &c, 1) == 0);
    close(ready[0]);
    check("exit", "e", shmem(), end_exit);

    scratch_done();
    DONE();
}
