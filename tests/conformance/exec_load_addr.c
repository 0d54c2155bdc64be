/* Where execve puts an ET_DYN program, as Linux's load_elf_binary does. A PIE (one with an
 * interpreter) goes to ELF_ET_DYN_BASE (two thirds of the address space, plus the random
 * shift), its base aligned down to the largest p_align of its load segments
 * (maximum_alignment: arm64 toolchains link with 64 KiB), far from the mmap area; its
 * interpreter goes into the mmap area. A loader, an ET_DYN program without an interpreter (a
 * static-pie, or ld.so run directly: this program re-executes itself as `ld.so self loader`
 * when it has an interpreter), goes into the mmap area itself, so that what it maps cannot
 * collide with it; with full randomization its brk starts at ELF_ET_DYN_BASE, out of the
 * mmap area. A non-PIE (ET_EXEC) stays at its link address: nothing to check for it. "Near
 * the mmap area" is within 1 GiB of a fresh anonymous mapping; ELF_ET_DYN_BASE is tens of
 * GiB away from it (Sv39's 256 GiB space included). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/wait.h>

extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

#define GIB (1UL << 30)

static uintptr_t fresh;

static int near_mmap(uintptr_t a) {
    uintptr_t d = a > fresh ? a - fresh : fresh - a;
    return d < GIB;
}

static const ElfW(Phdr) *phdrs(void) {
    return (const ElfW(Phdr) *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
}

/* This program's load bias: where its ELF header is minus the link address of the load
 * segment that holds it. */
static uintptr_t bias(void) {
    const ElfW(Phdr) *p = phdrs();
    for (int i = 0; i < __ehdr_start.e_phnum; i++)
        if (p[i].p_type == PT_LOAD && p[i].p_offset == 0)
            return (uintptr_t)&__ehdr_start - p[i].p_vaddr;
    return (uintptr_t)&__ehdr_start;
}

static const char *interp(void) {
    const ElfW(Phdr) *p = phdrs();
    for (int i = 0; i < __ehdr_start.e_phnum; i++)
        if (p[i].p_type == PT_INTERP) return (const char *)(bias() + p[i].p_vaddr);
    return NULL;
}

static uintptr_t max_align(void) {
    const ElfW(Phdr) *p = phdrs();
    uintptr_t a = 0;
    for (int i = 0; i < __ehdr_start.e_phnum; i++) {
        uintptr_t x = p[i].p_align;
        if (p[i].p_type == PT_LOAD && x && !(x & (x - 1)) && x > a) a = x;
    }
    return a;
}

/* Full randomization (randomize_va_space 2, no ADDR_NO_RANDOMIZE): Linux then moves a
 * loader's brk out of the mmap area. */
static int full_aslr(void) {
    char b[8] = {0};
    if (lt_slurp("/proc/sys/kernel/randomize_va_space", b, sizeof b) <= 0) return 0;
    return b[0] == '2' && !(personality(0xffffffff) & ADDR_NO_RANDOMIZE);
}

/* dl_iterate_phdr: every object but the vDSO (which x86_64 places beside the stack) lies in
 * the mmap area when ld.so runs as the program. */
static int check_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    if (strstr(info->dlpi_name, "vdso")) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        if (!near_mmap(start))
            printf("object '%s' at %lx, mmap at %lx\n", info->dlpi_name, (unsigned long)start,
                   (unsigned long)fresh);
        CHECK(near_mmap(start));
        break;
    }
    return 0;
}

int main(int argc, char **argv) {
    fresh = (uintptr_t)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fresh != (uintptr_t)MAP_FAILED);
    uintptr_t base = bias();
    const char *in = interp();

    if (argc > 1 && !strcmp(argv[1], "loader")) {
        /* Run as `ld.so self loader`: the kernel loaded ld.so as a static-pie, ld.so this
         * program with mmap. */
        CHECK(near_mmap(base));
        dl_iterate_phdr(check_object, NULL);
        DONE();
    }

    if (__ehdr_start.e_type == ET_DYN && in) {
        uintptr_t a = max_align();
        if (a < 4096) a = 4096;
        if (base % a) printf("PIE at %lx, p_align %lx\n", (unsigned long)base, (unsigned long)a);
        CHECK(base % a == 0);
        CHECK(!near_mmap(base));
        CHECK(getauxval(AT_BASE) != 0 && near_mmap(getauxval(AT_BASE)));
        CHECK(getauxval(AT_PHDR) == (uintptr_t)phdrs());

        /* ld.so run directly, as a loader. */
        char self[512];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        CHECK(n > 0);
        if (n > 0) {
            self[n] = 0;
            pid_t pid = fork();
            if (pid == 0) {
                execl(in, in, self, "loader", (char *)NULL);
                _exit(127);
            }
            int st;
            CHECK(waitpid(pid, &st, 0) == pid);
            CHECK_EXIT(st, 0);
        }
    } else if (__ehdr_start.e_type == ET_DYN) {
        /* A static-pie. */
        if (!near_mmap(base))
            printf("static-pie at %lx, mmap at %lx\n", (unsigned long)base,
                   (unsigned long)fresh);
        CHECK(near_mmap(base));
        CHECK(getauxval(AT_BASE) == 0);
        CHECK(getauxval(AT_PHDR) == (uintptr_t)phdrs());
        if (full_aslr()) {
            uintptr_t brk = (uintptr_t)sbrk(0);
            CHECK(brk != (uintptr_t)-1 && !near_mmap(brk));
        }
    } else {
        CHECK(__ehdr_start.e_type == ET_EXEC);
        CHECK(base == 0);
    }
    DONE();
}
