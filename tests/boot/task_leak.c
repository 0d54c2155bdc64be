/* boot.task-memory: tasks give back all their kernel memory. Rounds of 20 processes of 8
 * threads each (and 20 without threads), all exited and reaped, must leave MemFree (after
 * drop_caches) where it was: every task used to leave its first closure (its thread and
 * user registers, ~200 bytes) on the kernel heap, 37 kB a round (issue 19's fuzz leak). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long memfree(void) {
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd >= 0) {
        write(fd, "3", 1);
        close(fd);
    }
    char buf[4096];
    fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    long v = -1;
    for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (sscanf(l, "MemFree: %ld", &v) == 1) break;
    return v;
}

static void *quick(void *a) { return a; }

static void round_of_tasks(int threads) {
    for (int i = 0; i < 20; i++) {
        pid_t p = fork();
        if (p == 0) {
            pthread_t t[8];
            for (int j = 0; j < threads; j++) pthread_create(&t[j], 0, quick, 0);
            for (int j = 0; j < threads; j++) pthread_join(t[j], 0);
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
    }
}

int main(void) {
    /* The first round fills tables that stay (pid maps, caches of the allocator). */
    round_of_tasks(8);
    round_of_tasks(0);
    long before = memfree();
    for (int r = 0; r < 3; r++) {
        round_of_tasks(8);
        round_of_tasks(0);
    }
    long after = memfree();
    long lost = before - after;
    printf("task memory: MemFree %ld -> %ld kB over 540 tasks\n", before, after);
    if (before < 0 || lost > 16) {
        printf("task memory lost: %ld kB\n", lost);
        return 1;
    }
    printf("no task memory lost\n");
    return 0;
}
