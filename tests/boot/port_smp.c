// A port's multiprocessor check (boot.riscv64.smp4 and boot.aarch64.smp4, on QEMU -smp 4):
// the CPUs are reported (sched_getaffinity, /proc/cpuinfo, the getcpu syscall and glibc's
// sched_getcpu, which reads the rseq area's cpu_id), four CPU-bound threads run on several
// CPUs at once, a page replaced under threads that keep reading it on other CPUs is seen replaced
// by all of them (their stale translations were shot down), a page unmapped under a reader on
// another CPU faults there, and membarrier interrupts every CPU. Prints one line per check;
// exit status 0 when all pass.
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned cpu_now(void) {
    unsigned cpu = 99, node;
    syscall(SYS_getcpu, &cpu, &node, NULL);
    return cpu;
}

// Four CPU-bound threads; each records the CPUs it ran on and they all spin until each has
// started, so they are runnable at once.
static atomic_int started;
static unsigned seen[THREADS], rseq_seen[THREADS];
static volatile unsigned long sink;

static void *spin(void *arg) {
    long i = (long)arg;
    atomic_fetch_add(&started, 1);
    double t0 = now();
    while (atomic_load(&started) < THREADS && now() - t0 < 10)
        ;
    unsigned long x = 0;
    for (long k = 0; k < 20; k++) {
        for (long j = 0; j < 1000000; j++)
            x += j ^ k;
        unsigned c = cpu_now();
        if (c < 32)
            seen[i] |= 1u << c;
        int g = sched_getcpu();
        if (g >= 0 && g < 32)
            rseq_seen[i] |= 1u << g;
    }
    sink = x;
    return NULL;
}

// Readers spinning on a page that the main thread replaces (MAP_FIXED) with one holding 2.
static volatile int *page;
static atomic_int readers_in, readers_saw;

static void *reader(void *arg) {
    (void)arg;
    atomic_fetch_add(&readers_in, 1);
    double t0 = now();
    while (*page != 2) {
        if (now() - t0 > 10)
            return NULL;
    }
    atomic_fetch_add(&readers_saw, 1);
    return NULL;
}

// A reader on another CPU when its page is unmapped: SIGSEGV.
static sigjmp_buf jb;
static atomic_int faulted, faulter_in;
static volatile int *gone;

static void on_segv(int sig) {
    (void)sig;
    siglongjmp(jb, 1);
}

static void *faulter(void *arg) {
    (void)arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(jb, 1)) {
        atomic_store(&faulted, 1);
        return NULL;
    }
    atomic_store(&faulter_in, 1);
    double t0 = now();
    while (now() - t0 < 10)
        sink += *gone;
    return NULL;
}

int main(void) {
    int fails = 0;
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    printf("affinity cpus: %d\n", CPU_COUNT(&set));
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    int procs = 0;
    while (f && fgets(line, sizeof line, f))
        procs += strncmp(line, "processor", 9) == 0;
    if (f)
        fclose(f);
    printf("cpuinfo processors: %d\n", procs);

    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, spin, (void *)i);
    unsigned all = 0, rseq_all = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        all |= seen[i];
        rseq_all |= rseq_seen[i];
    }
    int used = __builtin_popcount(all);
    printf("spinning threads used several cpus: %s\n", used >= 2 ? "yes" : "no");
    int rseq_used = __builtin_popcount(rseq_all);
    printf("sched_getcpu saw several cpus: %s\n", rseq_used >= 2 ? "yes" : "no");
    if (used < 2 || rseq_used < 2) {
        fprintf(stderr, "cpus used: %#x, by sched_getcpu %#x\n", all, rseq_all);
        fails++;
    }

    // The old page stays alive in a memfd: a stale translation would keep reading its 1.
    int fd = memfd_create("old", 0);
    ftruncate(fd, 4096);
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    *page = 1;
    pthread_t r[THREADS - 1];
    for (int i = 0; i < THREADS - 1; i++)
        pthread_create(&r[i], NULL, reader, NULL);
    while (atomic_load(&readers_in) < THREADS - 1)
        sched_yield();
    usleep(50000);
    int *fresh = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    *fresh = 2;
    for (int i = 0; i < THREADS - 1; i++)
        pthread_join(r[i], NULL);
    printf("replaced page seen by readers: %d\n", atomic_load(&readers_saw));
    fails += atomic_load(&readers_saw) != THREADS - 1;

    gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *gone = 1;
    pthread_t ft;
    pthread_create(&ft, NULL, faulter, NULL);
    while (!atomic_load(&faulter_in))
        sched_yield();
    usleep(50000);
    munmap((void *)gone, 4096);
    pthread_join(ft, NULL);
    printf("unmapped page faults the reader: %s\n", atomic_load(&faulted) ? "yes" : "no");
    fails += !atomic_load(&faulted);

    long m = syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
    printf("membarrier: %ld\n", m);
    fails += m != 0;
    return fails ? 1 : 0;
}
