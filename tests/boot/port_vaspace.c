/* boot.riscv64.sv48, boot.riscv64.sv39 and boot.aarch64.va48: the virtual address space a
 * port of Lintel gives a program, as Linux does. riscv64 for the paging mode it picked (Sv48
 * when the CPU offers it, Sv39 otherwise), aarch64 for 48-bit VAs: /proc/cpuinfo's mmu line
 * (riscv64), the stack's top half (TASK_SIZE 1 << 47 or 1 << 38 on riscv64, 1 << 48 on
 * aarch64), mmap hints above Sv39's user half (granted only under Sv48 and on aarch64) and
 * at 1 << 47 (granted only on aarch64), MAP_FIXED just below, on the last page below (neither
 * Linux keeps a guard page there, unlike x86_64) and just above each TASK_SIZE, and a page
 * written and read back up there. Prints one line each. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void fixed_at(const char *what, unsigned long a)
{
    void *p = mmap((void *)a, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        printf("fixed %s: %s\n", what, errno == ENOMEM ? "ENOMEM" : strerror(errno));
        return;
    }
    *(volatile int *)p = 41;
    printf("fixed %s: %s %d\n", what, p == (void *)a ? "at hint" : "elsewhere",
           *(volatile int *)p + 1);
    munmap(p, 4096);
}

int main(void)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "mmu", 3) == 0) {
            char *v = strchr(line, ':');
            printf("cpuinfo mmu: %s", v ? v + 2 : line);
            break;
        }
    }
    if (f)
        fclose(f);

    int local;
    unsigned long sp = (unsigned long)&local;
    printf("stack above 1<<46: %s\n", sp >= (1UL << 46) ? "yes" : "no");
    printf("stack below 1<<38: %s\n", sp < (1UL << 38) ? "yes" : "no");
    printf("stack above 1<<47: %s\n", sp >= (1UL << 47) ? "yes" : "no");

    void *hint = (void *)(1UL << 40);
    void *p = mmap(hint, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("hint 1<<40: %s\n", p == MAP_FAILED ? "failed" : p == hint ? "granted" : "elsewhere");
    if (p != MAP_FAILED)
        munmap(p, 4096);
    hint = (void *)(1UL << 47);
    p = mmap(hint, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("hint 1<<47: %s\n", p == MAP_FAILED ? "failed" : p == hint ? "granted" : "elsewhere");
    if (p != MAP_FAILED)
        munmap(p, 4096);
    p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap without hint above 1<<46: %s\n",
           p != MAP_FAILED && (unsigned long)p >= (1UL << 46) ? "yes" : "no");
    printf("mmap without hint above 1<<47: %s\n",
           p != MAP_FAILED && (unsigned long)p >= (1UL << 47) ? "yes" : "no");

    fixed_at("below 1<<38", (1UL << 38) - 8192);
    fixed_at("last page below 1<<38", (1UL << 38) - 4096);
    fixed_at("at 1<<38", 1UL << 38);
    fixed_at("below 1<<47", (1UL << 47) - 8192);
    fixed_at("last page below 1<<47", (1UL << 47) - 4096);
    fixed_at("at 1<<47", 1UL << 47);
    fixed_at("last page below 1<<48", (1UL << 48) - 4096);
    fixed_at("at 1<<48", 1UL << 48);
    return 0;
}
