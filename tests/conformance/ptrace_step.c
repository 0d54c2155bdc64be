/* Breakpoints and stepping under ptrace: int3 stops the tracee with SIGTRAP (si_code
 * SI_KERNEL, rip after the int3); PTRACE_SINGLESTEP advances one instruction at a time
 * (SIGTRAP, si_code TRAP_TRACE) and leaves no trace flag behind; a breakpoint the tracer
 * writes into read-only program text with POKETEXT stops the tracee there while the
 * tracer's own copy of the text stays unchanged; hardware watchpoints and instruction
 * breakpoints through the debug registers of `struct user` (TRAP_HWBKPT, DR6). A signal
 * delivered by PTRACE_SINGLESTEP to a handler stops the tracee again with SIGTRAP (si_code
 * SIGTRAP) before the handler's first instruction, as gdb's stepi over a signal expects, and
 * the trace flag is in neither the handler's registers nor its saved context. */
#define _GNU_SOURCE
#include "ptrace_test.h"
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/ucontext.h>
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

/* Resumes with `req` and expects a SIGTRAP stop with `code` at `rip` (0: anywhere). */
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
    if (rip != 0 && r.rip != rip) {
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

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4
#endif
#define DR(n) (offsetof(struct user, u_debugreg) + 8 * (n))

static volatile int watched;

static void body_watch(void) {
    watched = 1;
    watched = 2;
    _exit(watched == 2 ? 0 : 1);
}

/* A write watchpoint (DR0, 4 bytes): the tracee stops right after the store. */
static void t_watchpoint(void) {
    pid_t pid = pt_traced_child(body_watch);
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(0), (void *)&watched));
    long dr7 = 1 | (1L << 16) | (3L << 18); /* L0, write, 4 bytes */
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(7), (void *)dr7));
    CHECK(ptrace(PTRACE_PEEKUSER, pid, (void *)DR(0), 0) == (long)&watched);
    CHECK(ptrace(PTRACE_PEEKUSER, pid, (void *)DR(7), 0) == dr7);
    expect_trap(pid, PTRACE_CONT, TRAP_HWBKPT, 0);
    CHECK(ptrace(PTRACE_PEEKUSER, pid, (void *)DR(6), 0) & 1);
    CHECK(ptrace(PTRACE_PEEKDATA, pid, (void *)&watched, 0) == 1);
    /* The second store fires it again; then disarm it. */
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(6), 0));
    expect_trap(pid, PTRACE_CONT, TRAP_HWBKPT, 0);
    CHECK(ptrace(PTRACE_PEEKUSER, pid, (void *)DR(6), 0) & 1);
    CHECK(ptrace(PTRACE_PEEKDATA, pid, (void *)&watched, 0) == 2);
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(7), 0));
    pt_finish(pid, 0);
}

/* An instruction breakpoint (DR1): the tracee stops before the instruction and runs it on
 * the next resume. */
static void t_hw_breakpoint(void) {
    pid_t pid = pt_traced_child(code);
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(1), (void *)patched));
    CHECK_OK(ptrace(PTRACE_POKEUSER, pid, (void *)DR(7), (void *)(1L << 2)));
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)after_bp);
    expect_trap(pid, PTRACE_CONT, SI_KERNEL, (uintptr_t)nops_end + 1);
    expect_trap(pid, PTRACE_CONT, TRAP_HWBKPT, (uintptr_t)patched);
    CHECK(ptrace(PTRACE_PEEKUSER, pid, (void *)DR(6), 0) & 2);
    pt_finish(pid, 0);
}

static volatile int handled, frame_tf;

static void on_usr1(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)si;
    frame_tf = (((ucontext_t *)uc)->uc_mcontext.gregs[REG_EFL] & 0x100) != 0;
    handled = 1;
}

static void body_signal(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    _exit(handled && !frame_tf ? 0 : 1);
}

static void t_step_into_handler(void) {
    pid_t pid = pt_traced_child(body_signal);
    int st = 0;
    CHECK_OK(ptrace(PTRACE_CONT, pid, 0, 0));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1);
    /* Step with the signal: the stop comes at the handler's entry, nothing of it run. */
    CHECK_OK(ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)SIGUSR1));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP);
    int signo = 0;
    CHECK(pt_si_code(pid, &signo) == SIGTRAP && signo == SIGTRAP);
    struct user_regs_struct r;
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK(r.rip == (uintptr_t)on_usr1 && (r.eflags & 0x100) == 0);
    /* This resume's signal is dropped. */
    st = 0;
    CHECK_OK(ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)SIGUSR2));
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP);
    CHECK(pt_si_code(pid, NULL) == TRAP_TRACE);
    CHECK_OK(ptrace(PTRACE_GETREGS, pid, 0, &r));
    CHECK(r.rip > (uintptr_t)on_usr1 && r.rip < (uintptr_t)on_usr1 + 16);
    pt_finish(pid, 0);
}

int main(void) {
    lt_sub("int3", t_int3, 5000);
    lt_sub("step", t_step, 5000);
    lt_sub("poketext", t_poketext, 5000);
    lt_sub("watchpoint", t_watchpoint, 5000);
    lt_sub("hw_breakpoint", t_hw_breakpoint, 5000);
    lt_sub("step_into_handler", t_step_into_handler, 5000);
    DONE();
}
