/* /proc/self/status's sizes (VmSize, VmData, VmStk, VmExe + VmLib, VmLck, VmPeak) and statm's
 * size, text and data agree with the mappings /proc/self/maps lists, as Linux's total_vm,
 * data_vm, stack_vm and exec_vm count them (mm/mmap.c vm_stat_account: executable and not
 * writable is exec, the stack is stack, private writable is data), after mmap, mprotect,
 * mlock and munlock, mremap (grown in place, moved, shrunk), munmap, brk, a MAP_GROWSDOWN
 * mapping and its growth, and in a fork's child (which holds no locks). VmPeak keeps the
 * largest VmSize. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

/* Read with plain read(2) into static buffers: no allocation (which could map memory)
 * between reading status and maps. */
static char status[1 << 14], maps[1 << 16], statm[256];

struct sizes {
    long long total, data, stack, exec, locked, peak, exe, lib;
    long long statm_size, statm_text, statm_data;
};

/* The sizes the kernel shows, in kB. */
static struct sizes shown(void) {
    struct sizes s = {0};
    CHECK(lt_slurp("/proc/self/status", status, sizeof status) > 0);
    CHECK(lt_slurp("/proc/self/statm", statm, sizeof statm) > 0);
    s.total = lt_field_num(status, "VmSize");
    s.data = lt_field_num(status, "VmData");
    s.stack = lt_field_num(status, "VmStk");
    s.exe = lt_field_num(status, "VmExe");
    s.lib = lt_field_num(status, "VmLib");
    s.exec = s.exe + s.lib;
    s.locked = lt_field_num(status, "VmLck");
    s.peak = lt_field_num(status, "VmPeak");
    long long res, shared, lib, dt;
    if (sscanf(statm, "%lld %lld %lld %lld %lld %lld %lld", &s.statm_size, &res, &shared,
               &s.statm_text, &lib, &s.statm_data, &dt) != 7)
        printf("statm unreadable: %s\n", statm);
    return s;
}

/* The sizes the mappings add up to, in kB (the [vsyscall] page is no mapping of the process
 * on Linux: not counted). `growsdown` is the size of the MAP_GROWSDOWN mapping at
 * `gd_start`, which maps does not tell apart. */
static struct sizes walked(unsigned long gd_start) {
    struct sizes s = {0};
    CHECK(lt_slurp("/proc/self/maps", maps, sizeof maps) > 0);
    for (char *line = maps; *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        unsigned long lo, hi;
        char perms[8] = "";
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && !strstr(line, "[vsyscall]")) {
            long long kb = (long long)(hi - lo) / 1024;
            int stack = strstr(line, "[stack]") != NULL || lo == gd_start;
            s.total += kb;
            if (perms[2] == 'x' && perms[1] != 'w' && !stack)
                s.exec += kb;
            else if (stack)
                s.stack += kb;
            else if (perms[1] == 'w' && perms[3] == 'p')
                s.data += kb;
        }
        line = next;
    }
    return s;
}

static int agree(const char *when, unsigned long gd_start) {
    struct sizes k = shown(), m = walked(gd_start);
    int ok = k.total == m.total && k.data == m.data && k.stack == m.stack &&
             k.exec == m.exec && k.exe > 0 && k.peak >= k.total &&
             k.statm_size * (PG / 1024) == k.total && k.statm_text * (PG / 1024) == k.exe &&
             k.statm_data * (PG / 1024) == k.data + k.stack;
    if (!ok) {
        printf("%s: status VmSize %lld VmData %lld VmStk %lld VmExe+VmLib %lld (VmExe %lld) "
               "VmPeak %lld; statm size %lld text %lld data %lld pages; maps: size %lld data "
               "%lld stack %lld exec %lld\n",
               when, k.total, k.data, k.stack, k.exec, k.exe, k.peak, k.statm_size,
               k.statm_text, k.statm_data, m.total, m.data, m.stack, m.exec);
        lt_failures++;
    }
    return ok;
}

static long long vm(const char *name) {
    CHECK(lt_slurp("/proc/self/status", status, sizeof status) > 0);
    return lt_field_num(status, name);
}

int main(void) {
    agree("at start", 0);

    /* Private writable (data), executable (exec), shared writable (neither). */
    char *rw = mmap(NULL, 256 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *rx = mmap(NULL, 16 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *sh = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(rw != MAP_FAILED && rx != MAP_FAILED && sh != MAP_FAILED);
    agree("after mmap", 0);

    /* mprotect: part of the data read-only, the executable part writable (data). */
    CHECK_OK(mprotect(rw + 64 * PG, 64 * PG, PROT_READ));
    agree("after mprotect read-only", 0);
    CHECK_OK(mprotect(rw + 64 * PG, 64 * PG, PROT_READ | PROT_WRITE));
    agree("after mprotect back to read-write", 0);
    CHECK_OK(mprotect(rx, 8 * PG, PROT_READ | PROT_WRITE));
    agree("after mprotect rx to rw", 0);
    CHECK_OK(mprotect(rx, 8 * PG, PROT_READ | PROT_EXEC));
    agree("after mprotect back to rx", 0);

    /* mlock: VmLck is the locked pages, munlock gives them back. */
    long long lck0 = vm("VmLck");
    if (mlock(rw, 32 * PG) == 0) {
        CHECK(vm("VmLck") == lck0 + 32 * PG / 1024);
        agree("after mlock", 0);
        CHECK_OK(munlock(rw, 16 * PG));
        CHECK(vm("VmLck") == lck0 + 16 * PG / 1024);
        CHECK_OK(munlock(rw, 32 * PG));
        CHECK(vm("VmLck") == lck0);
    } else {
        printf("mlock: %s (skipped)\n", strerror(errno));
    }

    /* mremap: grown (in place or moved), shrunk. */
    char *big = mremap(rw, 256 * PG, 512 * PG, MREMAP_MAYMOVE);
    CHECK(big != MAP_FAILED);
    if (big == MAP_FAILED)
        DONE();
    agree("after mremap grow", 0);
    long long peak = vm("VmPeak");
    big = mremap(big, 512 * PG, 128 * PG, 0);
    CHECK(big != MAP_FAILED);
    agree("after mremap shrink", 0);
    CHECK(vm("VmPeak") >= peak);
    char *moved = mremap(rx, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, big + 256 * PG);
    CHECK(moved != MAP_FAILED);
    agree("after mremap move", 0);

    /* munmap of a part, and of the rest. */
    CHECK_OK(munmap(big + 32 * PG, 32 * PG));
    agree("after munmap of a part", 0);
    CHECK_OK(munmap(big, 128 * PG));
    CHECK_OK(munmap(moved, 16 * PG));
    agree("after munmap", 0);
    CHECK(vm("VmPeak") >= peak);

    /* brk grows the data. */
    char *b = sbrk(0);
    if (brk(b + 64 * PG) == 0) {
        agree("after brk", 0);
        CHECK_OK(brk(b));
    }
    agree("after brk back", 0);

    /* A MAP_GROWSDOWN mapping is stack (Linux's VM_STACK); touching below it grows it. */
    long long stk0 = vm("VmStk");
    /* Placed with free room below it, more than the guard gap (256 pages) a growing
     * mapping keeps from the mapping under it. */
    char *room = mmap(NULL, 1024 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(room != MAP_FAILED);
    CHECK_OK(munmap(room, 1024 * PG));
    char *gd = mmap(room + 1016 * PG, 8 * PG, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
    CHECK(gd != MAP_FAILED);
    if (gd != MAP_FAILED) {
        CHECK(vm("VmStk") == stk0 + 8 * PG / 1024);
        agree("after MAP_GROWSDOWN", (unsigned long)gd);
        ((volatile char *)gd)[-1] = 1;
        CHECK(vm("VmStk") == stk0 + 9 * PG / 1024);
        agree("after growing down", (unsigned long)gd - PG);
        CHECK_OK(munmap(gd - PG, 9 * PG));
        CHECK(vm("VmStk") == stk0);
    }

    /* A fork's child: the same mappings, no locks. */
    if (mlock(sh, 32 * PG) != 0)
        printf("mlock: %s (child part skipped)\n", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        int bad = !agree("in the child", 0) || vm("VmLck") != 0;
        _exit(bad);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    munlock(sh, 32 * PG);
    CHECK_OK(munmap(sh, 32 * PG));
    agree("at the end", 0);
    DONE();
}
