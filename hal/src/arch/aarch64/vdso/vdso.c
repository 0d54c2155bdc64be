/* Lintel's aarch64 vDSO: the signal-return trampoline, clock_gettime, gettimeofday and
 * clock_getres, with Linux's arm64 names and version (__kernel_*, LINUX_2.6.39).
 * The kernel maps this object (built by hal/build.rs with the cross compiler) into every
 * process with the data page `vvar` just below it. Times use the kernel's formula (virtual
 * counter ticks since boot times `mult`, shifted right by 32), so both paths agree. */
#include <stdint.h>

static inline uint64_t read_counter(void) {
    uint64_t t;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(t) :: "memory");
    return t;
}

static inline long sys3(long nr, long a, long b, long c) {
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x8 __asm__("x8") = nr;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
    return x0;
}

/* The handler's return address (x30) when a signal is delivered without SA_RESTORER:
 * rt_sigreturn (139). */
__asm__(".text\n"
        ".global __kernel_rt_sigreturn\n"
        ".type __kernel_rt_sigreturn, @function\n"
        "__kernel_rt_sigreturn:\n"
        "    mov x8, #139\n"
        "    svc #0\n"
        ".size __kernel_rt_sigreturn, .-__kernel_rt_sigreturn\n");

#define READ_BARRIER() __asm__ volatile("dmb ishld" ::: "memory")
#define VDSO_NAME(x) __kernel_##x
#include "../../dtboard/vdso_clock.c"
