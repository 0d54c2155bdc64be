/* /proc/meminfo's KernelStack follows the threads: 300 threads alive at once raise it by
 * their kernel stacks (16 KiB each on x86_64 Linux, 64 KiB on Lintel: at least 8 KiB each
 * is asked), and once they are joined it comes back near where it started (Linux caches a
 * couple of stacks per CPU; other programs on the machine move it a little, so the bound is
 * a quarter of the rise). PageTables is there and not 0, and /proc/vmstat's nr_kernel_stack
 * (kB) and nr_page_table_pages agree with the two. (Whether Lintel's kernel stack area gives
 * its page tables back is not checked here: other programs move the host's PageTables by
 * more than those few tables.) */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <unistd.h>

#define THREADS 300

static char buf[65536];
static pthread_barrier_t all_up, may_go;

static long long meminfo(const char *name) {
    if (lt_slurp("/proc/meminfo", buf, sizeof buf) < 0) return -1;
    return lt_field_num(buf, name);
}

/* A /proc/vmstat counter ("name value" lines). */
static long long vmstat(const char *name) {
    if (lt_slurp("/proc/vmstat", buf, sizeof buf) < 0) return -1;
    size_t l = strlen(name);
    for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, name, l) == 0 && p[l] == ' ') return strtoll(p + l + 1, NULL, 10);
    return -1;
}

static void *parked(void *arg) {
    (void)arg;
    pthread_barrier_wait(&all_up);
    pthread_barrier_wait(&may_go);
    return NULL;
}

static void *nothing(void *arg) {
    return arg;
}

/* Polls (up to 3 s: a thread's stack may be freed after its join returns) until `name` is
 * at most `bound`; returns its last value. */
static long long settles(const char *name, long long bound) {
    long long v = meminfo(name);
    for (int i = 0; i < 300 && v > bound; i++) {
        /* A new thread and its end, as other programs' would come. */
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0) pthread_join(t, NULL);
        lt_sleep_ms(10);
        v = meminfo(name);
    }
    return v;
}

int main(void) {
    long long ks0 = meminfo("KernelStack"), pt0 = meminfo("PageTables");
    CHECK(ks0 > 0);
    CHECK(pt0 > 0);
    /* vmstat agrees (read just after: allow a few stacks' and tables' movement). */
    long long vks = vmstat("nr_kernel_stack"), vpt = vmstat("nr_page_table_pages");
    CHECK(vks > 0 && llabs(vks - ks0) <= 1024);
    CHECK(vpt > 0 && llabs(vpt * 4 - pt0) <= 1024);

    pthread_barrier_init(&all_up, NULL, THREADS + 1);
    pthread_barrier_init(&may_go, NULL, THREADS + 1);
    static pthread_t t[THREADS];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (int i = 0; i < THREADS; i++) CHECK_OK(errno = pthread_create(&t[i], &a, parked, NULL));
    pthread_barrier_wait(&all_up);
    long long ks1 = meminfo("KernelStack");
    CHECK(ks1 - ks0 >= THREADS * 8);
    pthread_barrier_wait(&may_go);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    long long rise = ks1 - ks0;
    long long ks2 = settles("KernelStack", ks0 + rise / 4);
    if (!(ks2 <= ks0 + rise / 4))
        printf("KernelStack: %lld kB before, %lld with %d threads, %lld after\n", ks0, ks1,
               THREADS, ks2);
    CHECK(ks2 <= ks0 + rise / 4);
    DONE();
}
