/* Breakpoints and stepping under ptrace: int3 stops the tracee with SIGTRAP (si_code
 * SI_KERNEL, rip after the int3); PTRACE_SINGLESTEP advances one instruction at a time
 * (SIGTRAP, si_code TRAP_TRACE) and leaves no trace flag behind; a breakpoint the tracer
 * writes into read-only program text with POKETEXT stops the tracee there while the
 * tracer's own copy of the text stays unchanged. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif

extern char after_bp[], nops[], nops_end[], patched[];

__attribute__((noinline)) static void code(void) {
    __asm__ volatile(
        "int3\n"
        ".globl after_bp\n"
        "after_bp:\n"
        ".globl nops\n"
        "nops: nop\n"
        "nop\n"
        "xchg %%ax, %%ax\n"
        "nop\n"
        ".globl nops_end\n"
        "nops_end: int3\n"
        ".globl patched\n"
        "patched: nop\n"
        "nop\n"
        "nop\n"
        "nop\n"
        "nop\n"
        "nop\n"
        "nop\n"
        "nop\n" ::: "memory");
}


/* Resumes with `req` and expects a SIGTRAP stop with `code` at `rip`. */
static void expect_trap(pid_t pid, int req, int code, uintptr_t rip) {
    int st;
    CHECK_OK(ptrace(req, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_OK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si));
    CHECK(si.si_signo == SIGTRAP && si.si_code == code);
    struct user_regs_struct r;
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    if (r.rip != rip) {
        printf("rip %#llx, expected %#lx\n", (unsigned long long)r.rip, (unsigned long)rip);
        lt_failures++;
    }
}


static void t_int3(void) {
    pid_t pid = pt_traced_child(code);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)after_bp);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)nops_end + 1);
    pt_finish(pid, 0);
}

static void t_step(void) {
    pid_t pid = pt_traced_child(code);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)after_bp);
    uintptr_t at[] = {(uintptr_t)nops + 1, (uintptr_t)nops + 2, (uintptr_t)nops + 4,
                      (uintptr_t)nops_end};
    for (int i = 0; i < 4; i++) expect_trap(pid, PTRACE_SINGLESTEP, TRAP_TRACE, at[i]);
    struct user_regs_struct r;
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK((r.eflags & 0x100) == 0);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)nops_end + 1);
    pt_finish(pid, 0);
}

static void t_poketext(void) {
    pid_t pid = pt_traced_child(code);
    long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)patched, 0);
    CHECK((orig & 0xff) == 0x90);
    CHECK_OK(ptrace(PTRACE_POKETEXT, pid, (void *)patched, (void *)((orig & ~0xffL) | 0xcc)));
    CHECK((unsigned char)patched[0] == 0x90);
    CHECK((ptrace(PTRACE_PEEKTEXT, pid, (void *)patched, 0) & 0xff) == 0xcc);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)after_bp);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)nops_end + 1);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)patched + 1);
    /* Put the instruction back and run it. */
    CHECK_OK(ptrace(PTRACE_POKETEXT, pid, (void *)patched, (void *)orig));
    struct user_regs_struct r;
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    r.rip = (uintptr_t)patched;
    CHECK_OK(ptrace(PTRACE_SETREGS, pid, 0, &r));
    pt_finish(pid, 0);
}

int main(void) {
    lt_sub("int3", t_int3, 5000);
    lt_sub("step", t_step, 5000);
    lt_sub("poketext", t_poketext, 5000);
    DONE();
}
