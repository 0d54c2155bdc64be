/* boot.exhaust.fork-reserve: fork with page frames nearly exhausted (issue 19). A tmpfs file
 * fills memory until a write fails (no frame left), then gives 6 MiB back; children are
 * forked (each waits in pause) until fork fails. Fork must fail with ENOMEM (or EAGAIN) while
 * most of the frame reserve (min_free_kbytes) is still free: the children, which fault their
 * first pages in, and this program live on, nobody is OOM-killed and the kernel does not
 * panic. Then everything is released and fork works again. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 4000
#define CHUNK (1 << 20)

static char chunk[CHUNK];
static pid_t kids[MAX_CHILDREN];

/* A /proc/meminfo field in kB, read without allocating: while memory is full, a page fault
 * of this program would call the OOM killer, and this program is the only candidate. */
static char info[8192];
static long field(const char *name) {
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, info, sizeof info - 1);
    close(fd);
    if (n <= 0) return -1;
    info[n] = 0;
    size_t len = strlen(name);
    for (char *l = info; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : 0)
        if (strncmp(l, name, len) == 0 && l[len] == ':') return strtol(l + len + 1, 0, 10);
    return -1;
}

/* Touches this much stack now, so that later calls fault in nothing. */
static void touch_stack(void) {
    volatile char pad[64 * 1024];
    memset((char *)pad, 1, sizeof pad);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* By hand: `fork_reserve 1` sets min_free_kbytes to 1 first (no reserve) to see what
     * happens without one. */
    if (argc > 1) {
        int m = open("/proc/sys/vm/min_free_kbytes", O_WRONLY);
        if (m < 0 || write(m, argv[1], strlen(argv[1])) < 0) perror("min_free_kbytes");
        if (m >= 0) close(m);
    }
    memset(chunk, 'r', sizeof chunk);
    mkdir("/tmp/r", 0755);
    if (mount("none", "/tmp/r", "tmpfs", 0, "size=4g") != 0) {
        perror("mount");
        return 1;
    }
    int fd = open("/tmp/r/fill", O_CREAT | O_RDWR, 0600);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    touch_stack();
    long written = 0;
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        written += n;
    }
    int werr = errno;
    /* No frame is free now: MemFree is what the kernel heap has left (it counts in MemFree
     * too), and what MemFree gains later over this is (about, less heap used since) frames. */
    long base = field("MemFree");
    if (written < (16 << 20) || ftruncate(fd, written - (6 << 20)) != 0) {
        printf("cannot fill memory: %s\n", strerror(werr));
        return 1;
    }
    printf("filled %ld MiB (%s), 6 MiB given back\n", written >> 20, strerror(werr));
    long before = field("MemFree");
    int n = 0, err = 0;
    while (n < MAX_CHILDREN) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
        kids[n++] = p;
        if (n % 10 == 0) printf("forked %d, MemFree %ld kB\n", n, field("MemFree"));
    }
    long free_kb = field("MemFree");
    long reserve = 0;
    int rf = open("/proc/sys/vm/min_free_kbytes", O_RDONLY);
    if (rf >= 0) {
        ssize_t n = read(rf, info, sizeof info - 1);
        reserve = n > 0 ? (info[n] = 0, strtol(info, 0, 10)) : 0;
        close(rf);
    }
    printf("children %d (MemFree %ld -> %ld kB, min_free_kbytes %ld): %s\n", n, before,
           free_kb, reserve, strerror(err));
    if (n >= MAX_CHILDREN) {
        printf("fork never failed\n");
        return 1;
    }
    if (err == ENOMEM || err == EAGAIN) printf("fork-refused\n");
    printf("frames free at the end: about %ld kB\n", free_kb - base);
    if (n > 0 && free_kb - base >= reserve / 4) printf("reserve-kept\n");
    int killed = 0;
    for (int i = 0; i < n; i++) kill(kids[i], SIGTERM);
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(kids[i], &st, 0) == kids[i] && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
            killed++;
    }
    if (killed == n) printf("children-alive-until-killed\n");
    close(fd);
    unlink("/tmp/r/fill");
    if (umount("/tmp/r") != 0) perror("umount");
    pid_t p = fork();
    if (p == 0) _exit(7);
    int st;
    if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7)
        printf("fork-again\n");
    return 0;
}
