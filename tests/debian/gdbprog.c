/* The program of debian.gdb: gdb breaks in compute, steps through it, watches counter, calls
 * square, stops at a signal and steps into its handler, stops at a system call and in a
 * thread, and lets a fork go. With GDBPROG_WAIT set it sleeps in pause() until a gdb
 * attached to it lets it go; with GDBPROG_CRASH set it dies of SIGSEGV (gdb reads its core). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int counter;
int slot = 7;
volatile int released;
static const char greeting[] = "hello from gdbprog";

static int square(int v)
{
	return v * v;
}

static int compute(int n)
{
	int total = n * 10;
	total += square(n);
	counter = total;
	return total;
}

/* A system call by the syscall instruction itself, so that gdb's stops in one (a syscall
 * catchpoint, an attach during pause) land in this file: the host may have the C library's
 * debug information, the Debian root has not. */
static long raw_syscall(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void on_usr2(int sig)
{
	(void)sig;
}

/* Sleeps until gdb, attached, sets released and SIGUSR2 interrupts the pause. The file
 * "waiting" tells the shell that nothing but the pause is left to sleep in. */
static int wait_for_gdb(void)
{
	signal(SIGUSR2, on_usr2);
	FILE *f = fopen("waiting", "w");
	if (!f)
		return 1;
	fclose(f);
	while (!released)
		raw_syscall(SYS_pause, 0, 0, 0);
	return 5;
}

/* Without a parameter: at the handler's first instruction gdb would show the stack slot of
 * one, not yet written. */
static void on_usr1(void)
{
	counter += SIGUSR1;
}

/* tgkill by the syscall instruction, so the signal arrives in this file too. */
static void raise_usr1(void)
{
	long pid = getpid(), tid = gettid(), r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)SYS_tgkill), "D"(pid), "S"(tid), "d"((long)SIGUSR1)
			 : "rcx", "r11", "memory");
}

static int crash(volatile int *p)
{
	counter = 41;
	return *p;
}

static void *worker(void *arg)
{
	int *v = arg;
	*v = square(*v);
	return NULL;
}

int main(void)
{
	if (getenv("GDBPROG_WAIT"))
		return wait_for_gdb();
	if (getenv("GDBPROG_CRASH"))
		return crash(NULL);
	int r = compute(3);
	counter += 1;
	printf("result %d counter %d\n", r, counter);
	signal(SIGUSR1, (void (*)(int))on_usr1);
	raise_usr1();
	long ppid = raw_syscall(SYS_getppid, 0, 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, worker, &slot);
	pthread_join(t, NULL);
	/* gdb reports the worker's exit when it gets to it; give it the time before the next
	 * event (the fork), so the order of its lines does not depend on the scheduler. */
	usleep(300000);
	pid_t child = fork();
	if (child == 0)
		_exit(square(2));
	int status;
	waitpid(child, &status, 0);
	printf("%s: counter %d thread %d child %d parent %d\n", greeting, counter, slot,
	       WEXITSTATUS(status), ppid == getppid());
	return 0;
}
