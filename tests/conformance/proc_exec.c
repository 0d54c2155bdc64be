/* execve from a forked child: the errors Linux gives for missing files, directories, files
 * without execute permission, malformed and empty executables, bad paths; "#!" scripts (exit
 * status, interpreter argument, $0, missing interpreter); argv and envp passed through; and
 * what survives exec (pid, ignored signals, the signal mask, descriptors without FD_CLOEXEC),
 * checked by re-executing this program. Each child reports through its exit status: an exec
 * that fails exits with 100 + errno. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAILED(e) (100 + (e))

extern char **environ;

/* Forks, execs path with the raw system call, returns the wait status. */
static int spawn(const char *path, char *const argv[], char *const envp[], int quiet) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (quiet) {
            int n = open("/dev/null", O_WRONLY);
            dup2(n, 2);
            close(n);
        }
        syscall(SYS_execve, path, argv, envp);
        _exit(FAILED(errno));
    }
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

static void make_file(const char *name, const void *data, size_t len, mode_t mode) {
    unlink(name);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (len) CHECK(write(fd, data, len) == (ssize_t)len);
    CHECK(close(fd) == 0);
    CHECK(chmod(name, mode) == 0);
}

/* The re-executed image: checks what exec kept and reset; exits with a bit per mismatch. */
static int after_exec(int argc, char **argv) {
    int bad = 0;
    if (argc != 5 || strcmp(argv[2], "two words") != 0 || strcmp(argv[3], "") != 0) bad |= 1;
    if (argc >= 5 && getpid() != atoi(argv[4])) bad |= 2;
    const char *e = getenv("LT_EXEC");
    if (!e || strcmp(e, "yes") != 0 || getenv("LT_PARENT_ONLY") != NULL) bad |= 4;
    struct sigaction sa;
    if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN) bad |= 8;  /* kept */
    /* ...but without its flags and mask (flush_signal_handlers). */
    if ((sa.sa_flags & SA_RESTART) || sigismember(&sa.sa_mask, SIGTERM)) bad |= 256;
    if (sigaction(SIGUSR2, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL) bad |= 16; /* reset */
    sigset_t m;
    if (sigprocmask(SIG_BLOCK, NULL, &m) != 0 || sigismember(&m, SIGHUP) != 1) bad |= 32;
    if (fcntl(6, F_GETFD) != 0) bad |= 64;                              /* kept */
    if (fcntl(5, F_GETFD) != -1 || errno != EBADF) bad |= 128;          /* closed on exec */
    return bad;
}

static void ignore(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) return after_exec(argc, argv);
    setvbuf(stdout, NULL, _IONBF, 0);
    char *none[] = {"prog", NULL};
    char *env0[] = {NULL};

    /* Files that cannot be executed. */
    CHECK_EXIT(spawn("./missing", none, env0, 0), FAILED(ENOENT));
    CHECK_EXIT(spawn("/nonexistent/dir/prog", none, env0, 0), FAILED(ENOENT));
    CHECK_EXIT(spawn("", none, env0, 0), FAILED(ENOENT));
    CHECK_EXIT(spawn(".", none, env0, 0), FAILED(EACCES));
    CHECK_EXIT(spawn("/tmp", none, env0, 0), FAILED(EACCES));
    CHECK_EXIT(spawn("/dev/null", none, env0, 0), FAILED(EACCES));
    static const char sh_exit0[] = "#!/bin/sh\nexit 0\n";
    make_file("noexec", sh_exit0, sizeof sh_exit0 - 1, 0644);
    CHECK_EXIT(spawn("./noexec", none, env0, 0), FAILED(EACCES));
    CHECK_EXIT(spawn("./noexec/x", none, env0, 0), FAILED(ENOTDIR));
    unsigned char elf[128];
    memcpy(elf, "\x7f" "ELF", 4);
    for (size_t i = 4; i < sizeof elf; i++) elf[i] = (unsigned char)("garbage!"[i % 8]);
    make_file("badelf", elf, sizeof elf, 0755);
    CHECK_EXIT(spawn("./badelf", none, env0, 0), FAILED(ENOEXEC));
    make_file("empty", "", 0, 0755);
    CHECK_EXIT(spawn("./empty", none, env0, 0), FAILED(ENOEXEC));
    static char longpath[5000];
    memset(longpath, 'a', sizeof longpath - 1);
    CHECK_EXIT(spawn(longpath, none, env0, 0), FAILED(ENAMETOOLONG));
    char longname[300];
    memset(longname, 'b', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_EXIT(spawn(longname, none, env0, 0), FAILED(ENAMETOOLONG));
    CHECK_EXIT(spawn((const char *)1, none, env0, 0), FAILED(EFAULT));
    CHECK_EXIT(spawn("/bin/sh", (char *const *)1, env0, 0), FAILED(EFAULT));

    /* "#!" scripts. */
    static const char exit5[] = "#!/bin/sh\nexit 5\n";
    make_file("script", exit5, sizeof exit5 - 1, 0755);
    CHECK_EXIT(spawn("./script", none, env0, 0), 5);
    CHECK(symlink("script", "link") == 0);
    CHECK_EXIT(spawn("./link", none, env0, 0), 5);
    /* The kernel passes the script's path as $0 and the caller's argv[1..] after it. */
    static const char args[] = "#!/bin/sh\n[ \"$0\" = ./args.sh ] && [ $# = 2 ] && [ \"$1\" = a ] && "
                               "[ \"$2\" = 'b c' ] && exit 7\nexit 1\n";
    make_file("args.sh", args, sizeof args - 1, 0755);
    char *args_argv[] = {"ignored", "a", "b c", NULL};
    CHECK_EXIT(spawn("./args.sh", args_argv, env0, 0), 7);
    /* An interpreter argument: runs "/bin/busybox sh ./bb.sh". */
    static const char bb[] = "#!/bin/busybox sh\nexit 9\n";
    make_file("bb.sh", bb, sizeof bb - 1, 0755);
    CHECK_EXIT(spawn("./bb.sh", none, env0, 0), 9);
    static const char nointerp[] = "#!/nonexistent/interp\nexit 0\n";
    make_file("nointerp", nointerp, sizeof nointerp - 1, 0755);
    CHECK_EXIT(spawn("./nointerp", none, env0, 0), FAILED(ENOENT));

    /* Real programs, argv and envp. */
    char *bb_true[] = {"true", NULL};
    char *bb_false[] = {"false", NULL};
    CHECK_EXIT(spawn("/bin/busybox", bb_true, env0, 0), 0);
    CHECK_EXIT(spawn("/bin/busybox", bb_false, env0, 0), 1);
    CHECK(setenv("LT_PARENT_ONLY", "1", 1) == 0);
    char *sh_x[] = {"sh", "-c", "test \"$X\" = y && test -z \"$LT_PARENT_ONLY\"", NULL};
    char *env_y[] = {"X=y", NULL};
    char *env_n[] = {"X=n", NULL};
    CHECK_EXIT(spawn("/bin/sh", sh_x, env_y, 0), 0);
    CHECK_EXIT(spawn("/bin/sh", sh_x, env_n, 0), 1);
    char *sh_args[] = {"sh", "-c", "test $# = 2 && test \"$0\" = zero && test \"$1\" = one && test \"$2\" = 'two 2'",
                       "zero", "one", "two 2", NULL};
    CHECK_EXIT(spawn("/bin/sh", sh_args, env0, 0), 0);
    char *sh_exit[] = {"sh", "-c", "exit 42", NULL};
    CHECK_EXIT(spawn("/bin/sh", sh_exit, NULL, 0), 42); /* a NULL envp means an empty one */

    /* Descriptors: FD_CLOEXEC ones are closed, others stay open. */
    CHECK(dup2(1, 5) == 5);
    CHECK(fcntl(5, F_SETFD, FD_CLOEXEC) == 0);
    CHECK(dup2(1, 6) == 6);
    char *sh_fd6[] = {"sh", "-c", ": >&6", NULL};
    char *sh_fd5[] = {"sh", "-c", ": >&5", NULL};
    CHECK_EXIT(spawn("/bin/sh", sh_fd6, env0, 0), 0);
    int st = spawn("/bin/sh", sh_fd5, env0, 1);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);

    /* Re-execute this program: same pid, SIG_IGN kept, handlers reset, mask kept, argv with
     * empty and multi-word strings, envp replaced. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sa.sa_flags = SA_RESTART;
        sigaddset(&sa.sa_mask, SIGTERM);
        sigaction(SIGUSR1, &sa, NULL);
        sa.sa_flags = 0;
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = ignore;
        sigaction(SIGUSR2, &sa, NULL);
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGHUP);
        sigprocmask(SIG_BLOCK, &m, NULL);
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
        char *av[] = {argv[0], "--after-exec", "two words", "", pidbuf, NULL};
        char *ev[] = {"LT_EXEC=yes", NULL};
        syscall(SYS_execve, argv[0], av, ev);
        _exit(FAILED(errno));
    }
    CHECK(pid > 0);
    st = -1;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) < 100)
        printf("after exec: mismatch bits %d (1 argv, 2 pid, 4 envp, 8 SIG_IGN not kept, 16 handler not reset, "
               "32 mask not kept, 64 fd closed, 128 FD_CLOEXEC fd open, 256 SIG_IGN flags kept)\n",
               WEXITSTATUS(st));
    close(5);
    close(6);
    DONE();
}
