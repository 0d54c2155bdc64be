/* The vDSO: AT_SYSINFO_EHDR points at an ELF image exporting __vdso_clock_gettime (version
 * LINUX_2.6; riscv64's and aarch64's own names there), /proc/self/maps shows [vdso] and
 * [vvar], and the C library's time calls (served by the vDSO where it can) agree with the
 * system calls: each reading lies between two raw syscall readings of the same clock. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>

static int64_t ns_of(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

/* Finds a dynamic symbol in the vDSO image (SysV hash not needed: walk the table). */
static int vdso_has(const unsigned char *base, const char *want) {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    uintptr_t load = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && load == 0) load = (uintptr_t)base - ph[i].p_vaddr + ph[i].p_offset;
        if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    if (!dyn) return 0;
    const Elf64_Sym *sym = NULL;
    const char *str = NULL;
    const uint32_t *hash = NULL, *gnu = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB) sym = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_STRTAB) str = (const char *)(load + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_HASH) hash = (const uint32_t *)(load + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_GNU_HASH) gnu = (const uint32_t *)(load + dyn->d_un.d_ptr);
    }
    if (!sym || !str || (!hash && !gnu)) return 0;
    /* Without DT_HASH the count is unknown; scan until the string table, which follows. */
    size_t n = hash ? hash[1] : (size_t)((const Elf64_Sym *)str - sym);
    for (size_t i = 0; i < n; i++)
        if (sym[i].st_name && strcmp(str + sym[i].st_name, want) == 0 && sym[i].st_value) return 1;
    return 0;
}

static void check_clock(clockid_t id) {
    for (int i = 0; i < 200; i++) {
        struct timespec a, b, c;
        CHECK(syscall(SYS_clock_gettime, id, &a) == 0);
        CHECK(clock_gettime(id, &b) == 0);
        CHECK(syscall(SYS_clock_gettime, id, &c) == 0);
        if (!(ns_of(&a) <= ns_of(&b) && ns_of(&b) <= ns_of(&c))) {
            printf("clock %d: %lld %lld %lld out of order\n", (int)id, (long long)ns_of(&a),
                   (long long)ns_of(&b), (long long)ns_of(&c));
            lt_failures++;
            return;
        }
        CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
    }
}

int main(void) {
    const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    CHECK(vdso != NULL);
    if (vdso) {
        CHECK(memcmp(vdso, ELFMAG, SELFMAG) == 0);
        /* Each architecture's names, as Linux's vdso.lds exports them. */
#if defined(__aarch64__)
        CHECK(vdso_has(vdso, "__kernel_clock_gettime"));
        CHECK(vdso_has(vdso, "__kernel_gettimeofday"));
        CHECK(vdso_has(vdso, "__kernel_clock_getres"));
        CHECK(vdso_has(vdso, "__kernel_rt_sigreturn"));
#elif defined(__riscv)
        CHECK(vdso_has(vdso, "__vdso_clock_gettime"));
        CHECK(vdso_has(vdso, "__vdso_gettimeofday"));
        CHECK(vdso_has(vdso, "__vdso_clock_getres"));
        CHECK(vdso_has(vdso, "__vdso_getcpu"));
        CHECK(vdso_has(vdso, "__vdso_flush_icache"));
        CHECK(vdso_has(vdso, "__vdso_rt_sigreturn"));
#else
        CHECK(vdso_has(vdso, "__vdso_clock_gettime"));
        CHECK(vdso_has(vdso, "__vdso_gettimeofday"));
        CHECK(vdso_has(vdso, "__vdso_time"));
        CHECK(vdso_has(vdso, "__vdso_getcpu"));
#endif
    }
    FILE *m = fopen("/proc/self/maps", "r");
    CHECK(m != NULL);
    int seen_vdso = 0, seen_vvar = 0;
    char line[512];
    while (m && fgets(line, sizeof line, m)) {
        seen_vdso |= strstr(line, "[vdso]") != NULL;
        seen_vvar |= strstr(line, "[vvar]") != NULL;
    }
    if (m) fclose(m);
    CHECK(seen_vdso && seen_vvar);

    check_clock(CLOCK_MONOTONIC);
    check_clock(CLOCK_REALTIME);
    check_clock(CLOCK_BOOTTIME);
    check_clock(CLOCK_MONOTONIC_RAW);

    /* gettimeofday and time against the realtime syscall. */
    struct timespec a, c;
    struct timeval tv;
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &a) == 0);
    CHECK(gettimeofday(&tv, NULL) == 0);
    time_t t = time(NULL);
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &c) == 0);
    int64_t us = tv.tv_sec * 1000000LL + tv.tv_usec;
    CHECK(ns_of(&a) / 1000 <= us && us <= ns_of(&c) / 1000);
    CHECK(a.tv_sec - 1 <= t && t <= c.tv_sec); /* time() may be coarse (a tick behind) */
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    DONE();
}
