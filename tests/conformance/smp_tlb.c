/* No CPU keeps a stale translation: a reader thread loops over a page (pinned to another CPU
 * when there is one) while the main thread unmaps the page, or takes its access away with
 * mprotect, or replaces it with MAP_FIXED. The reader must fault (SIGSEGV) or see the new
 * page's contents at once, never the old page's bytes after the change returned: a CPU that
 * kept the old translation would read the freed frame forever and never fault. Also getcpu,
 * sched_getaffinity and sysconf agree on the CPUs that exist, and sched_setaffinity moves a
 * thread that is running on another CPU at once. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 50
#define PATIENCE_MS 10000
#define OLD 0x5a5a5a5a
#define NEW 0x3c3c3c3c

static volatile int *page;
static atomic_int gen;        /* the round the page belongs to */
static atomic_int after = -1; /* the round whose change has returned */
static atomic_int seen = -1;  /* the last round the reader read the page in */
static atomic_int outcome = -1; /* the last round where the reader faulted or saw new bytes */
static atomic_int stale;      /* reads of OLD after the change returned */
static atomic_int pause_req, paused, stop;
static sigjmp_buf jb;

static void on_segv(int sig) {
    (void)sig;
    atomic_store(&outcome, atomic_load(&gen));
    siglongjmp(jb, 1);
}

static int ncpus(void) {
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) != 0) return 1;
    return CPU_COUNT(&s);
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

static void *reader(void *arg) {
    (void)arg;
    if (ncpus() > 1) pin(1);
    struct sigaction sa = {0};
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    sigsetjmp(jb, 1);
    while (!atomic_load(&stop)) {
        if (atomic_load(&pause_req)) {
            atomic_store(&paused, 1);
            while (atomic_load(&pause_req)) {
            }
            atomic_store(&paused, 0);
            continue;
        }
        int g = atomic_load(&gen);
        int a = atomic_load(&after);
        int v = *page;
        atomic_store(&seen, g);
        if (a == g) {
            if (v == OLD)
                atomic_fetch_add(&stale, 1);
            else
                atomic_store(&outcome, g);
        }
    }
    return 0;
}

static int wait_for(atomic_int *v, int want) {
    long start = lt_now_ms();
    while (atomic_load(v) != want) {
        if (lt_now_ms() - start > PATIENCE_MS) return 0;
    }
    return 1;
}

/* One kind of change, ROUNDS times: returns the rounds where the reader neither faulted nor
 * saw the new contents within PATIENCE_MS. */
static int run(int how) {
    atomic_store(&stop, 0);
    atomic_store(&stale, 0);
    atomic_store(&gen, 0);
    atomic_store(&after, -1);
    atomic_store(&seen, -1);
    atomic_store(&outcome, -1);
    int missed = 0;
    volatile int *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    *p = OLD;
    page = p;
    pthread_t t;
    pthread_create(&t, 0, reader, 0);
    for (int r = 0; r < ROUNDS; r++) {
        wait_for(&seen, r);
        if (how == 0) {
            CHECK_OK(munmap((void *)page, 4096));
        } else if (how == 1) {
            CHECK_OK(mprotect((void *)page, 4096, PROT_NONE));
        } else {
            /* A new page at the same address: the reader sees its bytes or faults. */
            void *q = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            CHECK(q == (void *)page);
        }
        atomic_store(&after, r);
        if (!wait_for(&outcome, r)) missed++;
        /* Park the reader, then give the next round a fresh page holding OLD. */
        atomic_store(&pause_req, 1);
        wait_for(&paused, 1);
        if (how == 1) {
            CHECK_OK(mprotect((void *)page, 4096, PROT_READ | PROT_WRITE));
        } else {
            p = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            CHECK(p == page);
        }
        *page = OLD;
        atomic_store(&gen, r + 1);
        atomic_store(&pause_req, 0);
    }
    atomic_store(&stop, 1);
    pthread_join(t, 0);
    munmap((void *)page, 4096);
    return missed;
}

/* sched_setaffinity on another, running thread moves it at once. */
static atomic_int spin_cpu = -1, spin_stop;
static atomic_int spin_tid;
static void *spinner(void *arg) {
    (void)arg;
    atomic_store(&spin_tid, (int)syscall(SYS_gettid));
    while (!atomic_load(&spin_stop)) atomic_store(&spin_cpu, sched_getcpu());
    return 0;
}
static void move_running_thread(int online) {
    pthread_t t;
    pthread_create(&t, 0, spinner, 0);
    while (atomic_load(&spin_cpu) < 0) {
    }
    for (int round = 0; round < 4; round++) {
        int target = (atomic_load(&spin_cpu) + 1) % online;
        cpu_set_t s;
        CPU_ZERO(&s);
        CPU_SET(target, &s);
        CHECK_OK(sched_setaffinity(atomic_load(&spin_tid), sizeof s, &s));
        long start = lt_now_ms();
        while (atomic_load(&spin_cpu) != target && lt_now_ms() - start < PATIENCE_MS) {
        }
        if (atomic_load(&spin_cpu) != target)
            printf("the spinning thread stayed on CPU %d, not %d\n", atomic_load(&spin_cpu), target);
        CHECK(atomic_load(&spin_cpu) == target);
    }
    atomic_store(&spin_stop, 1);
    pthread_join(t, 0);
}

int main(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(online >= 1);
    CHECK(ncpus() == online);
    unsigned cpu = 99, node = 99;
    CHECK_OK(syscall(SYS_getcpu, &cpu, &node, 0));
    CHECK(cpu < (unsigned)online && node == 0);
    CHECK(sched_getcpu() >= 0 && sched_getcpu() < online);
    if (online > 1) {
        pin(1);
        CHECK(sched_getcpu() == 1);
        CHECK_OK(syscall(SYS_getcpu, &cpu, 0, 0));
        CHECK(cpu == 1);
        cpu_set_t all;
        CPU_ZERO(&all);
        for (int i = 0; i < online; i++) CPU_SET(i, &all);
        CHECK_OK(sched_setaffinity(0, sizeof all, &all));
        move_running_thread(online);
    }
    const char *names[] = {"munmap", "mprotect", "MAP_FIXED"};
    for (int how = 0; how < 3; how++) {
        int missed = run(how);
        if (missed || atomic_load(&stale)) {
            printf("%s: %d rounds where the reader kept the old page, %d stale reads\n",
                   names[how], missed, atomic_load(&stale));
            lt_failures++;
        }
    }
    DONE();
}
