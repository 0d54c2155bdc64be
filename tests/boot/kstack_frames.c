/* boot.kstack-frames: kernel stacks are page frames, not kernel heap (issue 19). While 200
 * threads live, MemFree drops by about their kernel stacks (64 KiB each) and KernelStack shows
 * them, but the heap (Slab) grows by far less than the stacks' size; after they are joined,
 * KernelStack is back where it was. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 200
#define STACK_KB 64

static long field(const char *name) {
    char buf[8192], key[64];
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    long v = -1, x;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "%63[^:]: %ld", key, &x) == 2 && strcmp(key, name) == 0) {
            v = x;
            break;
        }
    fclose(f);
    return v;
}

static int gate[2];

static void *waiter(void *a) {
    char c;
    read(gate[0], &c, 1);
    return a;
}

int main(void) {
    static pthread_t t[THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    if (pipe(gate)) return 2;
    long free0 = field("MemFree"), slab0 = field("Slab"), ks0 = field("KernelStack");
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], &attr, waiter, 0)) {
            printf("pthread_create %d failed\n", i);
            return 1;
        }
    long free1 = field("MemFree"), slab1 = field("Slab"), ks1 = field("KernelStack");
    char ones[THREADS];
    memset(ones, 1, sizeof ones);
    write(gate[1], ones, sizeof ones);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
    /* A joined thread may still be on its way out of the kernel: give it a second. */
    long ks2 = field("KernelStack");
    for (int i = 0; i < 100 && ks2 != ks0; i++) {
        usleep(10000);
        ks2 = field("KernelStack");
    }
    long stacks = THREADS * STACK_KB;
    printf("with %d threads: MemFree -%ld kB, Slab +%ld kB, KernelStack %ld -> %ld -> %ld kB\n",
           THREADS, free0 - free1, slab1 - slab0, ks0, ks1, ks2);
    int bad = 0;
    if (ks1 - ks0 != stacks) printf("KernelStack grew by %ld kB, not %ld\n", ks1 - ks0, stacks), bad = 1;
    /* Stacks plus each thread's user stack pages and kernel structures. */
    if (free0 - free1 < stacks || free0 - free1 > 2 * stacks)
        printf("MemFree dropped by %ld kB, not about %ld\n", free0 - free1, stacks), bad = 1;
    if (slab1 - slab0 > stacks / 4)
        printf("the heap grew by %ld kB: stacks on the heap?\n", slab1 - slab0), bad = 1;
    if (ks2 != ks0) printf("KernelStack did not come back: %ld kB\n", ks2), bad = 1;
    if (bad) return 1;
    printf("kernel stacks are frames\n");
    return 0;
}
