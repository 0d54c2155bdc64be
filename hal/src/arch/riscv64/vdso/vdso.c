/* Lintel's riscv64 vDSO: the signal-return trampoline, clock_gettime, gettimeofday,
 * clock_getres, getcpu and flush_icache, with Linux's names and version (LINUX_4.15).
 * The kernel maps this object (built by hal/build.rs with the cross compiler) into every
 * process with the data page `vvar` just below it. Times use the kernel's formula (`time` CSR
 * ticks since boot times `mult`, shifted right by 32), so both paths agree. */
#include <stdint.h>

static inline uint64_t read_counter(void) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static inline long sys3(long nr, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

/* The handler's return address (ra) when a signal is delivered: rt_sigreturn (139). */
__asm__(".text\n"
        ".global __vdso_rt_sigreturn\n"
        ".type __vdso_rt_sigreturn, @function\n"
        "__vdso_rt_sigreturn:\n"
        "    li a7, 139\n"
        "    ecall\n"
        ".size __vdso_rt_sigreturn, .-__vdso_rt_sigreturn\n");

#define READ_BARRIER() __asm__ volatile("fence r,r" ::: "memory")
#define VDSO_NAME(x) __vdso_##x
#include "../../dtboard/vdso_clock.c"

/* getcpu asks the kernel: the CPU index is not readable from user mode. */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache) {
    (void)cache;
    return (int)sys3(168, (long)cpu, (long)node, 0);
}

/* riscv_flush_icache (259): the kernel's call makes the other harts' fetches coherent. */
int __vdso_flush_icache(void *start, void *end, unsigned long flags) {
    return (int)sys3(259, (long)start, (long)end, (long)flags);
}
