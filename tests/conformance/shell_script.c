/* Runs POSIX shell scripts with /bin/sh (dash natively, busybox ash in Lintel) through
 * fork + execve, capturing stdout and stderr through a pipe, and compares the output and exit
 * status with what they must be. The scripts use subshells, command substitution, pipelines,
 * background jobs with & and wait (including wait $! statuses), loops, arithmetic, parameter
 * expansion, functions, here-documents, redirections to files in the working directory, and
 * trap '' INT (an ignored signal; no handlers run). Only features whose output is identical in
 * dash and busybox ash are used. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char *envp[] = {"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "HOME=/", "LC_ALL=C", NULL};

/* Runs argv with stdin from /dev/null and stdout+stderr into `out`; returns the wait status. */
static int run(char *const argv[], char *out, size_t cap) {
    int fds[2];
    out[0] = 0;
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        close(in);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], out + len, cap - 1 - len)) > 0) {
        len += n;
        if (len == cap - 1) break;
    }
    out[len] = 0;
    close(fds[0]);
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

/* Prints expected and actual output, marking the first line that differs. */
static void show_diff(const char *want, const char *got) {
    const char *w = want, *g = got;
    int line = 1;
    while (*w && *g) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        if (wl != gl || memcmp(w, g, wl) != 0) break;
        w += wl + (we ? 1 : 0);
        g += gl + (ge ? 1 : 0);
        line++;
    }
    printf("output differs from line %d\n--- expected from there:\n%.400s\n--- got from there:\n%.400s\n---\n", line, w, g);
}

static const char script1[] =
    "echo start\n"
    /* subshells */
    "x=outer\n"
    "(x=inner; echo \"sub:$x\")\n"
    "echo \"after:$x\"\n"
    "(cd / && pwd)\n"
    "here=$(pwd); (cd /); [ \"$(pwd)\" = \"$here\" ] && echo cwd-kept\n"
    "(exit 3); echo \"status:$?\"\n"
    "[ \"$(echo $$)\" = \"$$\" ] && echo pid-same\n"
    "sh -c 'echo $$' > childpid.txt; [ \"$(cat childpid.txt)\" != \"$$\" ] && echo child-pid-differs\n"
    /* command substitution */
    "y=$(echo hello | tr a-z A-Z)\n"
    "echo \"upper:$y\"\n"
    "n=$(printf 'a\\nb\\nc\\n' | wc -l); echo \"lines:$((n))\"\n"
    "nested=$(echo $(echo in)ner)\n"
    "echo \"nested:$nested\"\n"
    "echo \"bq:`echo tick`\"\n"
    "t=$(printf 'x\\n\\n\\n'); echo \"[$t]\"\n"
    "st=$(exit 9); echo \"subst-status:$?\"\n"
    /* pipelines */
    "printf '3\\n1\\n2\\n' | sort | head -n 2 | tr '\\n' ' '; echo\n"
    "echo a b c | { read p q r; echo \"$r$q$p\"; }\n"
    "false | true; echo \"pipe:$?\"\n"
    "true | false; echo \"pipe:$?\"\n"
    "! false; echo \"neg:$?\"\n"
    "printf 'l1\\nl2\\nl3\\n' | while read l; do echo \"got-$l\"; done\n"
    "echo abcdef | sed 's/cd/XY/' | cat | cat\n"
    /* background jobs and wait */
    "sleep 0.2 & p1=$!\n"
    "(exit 7) & p2=$!\n"
    "wait $p2; echo \"bg2:$?\"\n"
    "wait $p1; echo \"bg1:$?\"\n"
    "sh -c 'exit 5' & wait $!; echo \"bang:$?\"\n"
    "(sleep 0.1; exit 6) & wait $!; echo \"late:$?\"\n"
    "for i in 1 2 3; do (echo \"job$i\" > job$i.txt) & done; wait; echo \"waitall:$?\"\n"
    "cat job1.txt job2.txt job3.txt\n"
    "{ sleep 0.1; echo bg-group; } > bg.txt & wait; cat bg.txt\n"
    /* loops and arithmetic */
    "sum=0\n"
    "for i in 1 2 3 4 5; do sum=$((sum + i * i)); done\n"
    "echo \"sum:$sum\"\n"
    "echo \"arith:$((7 / 2)) $((7 % 3)) $((2 << 3)) $((-5 + 2)) $(( (1+2)*3 )) $((0x10)) $((3 > 2)) $((010))\"\n"
    "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo \"while:$i\"\n"
    "i=5; until [ $i -le 2 ]; do i=$((i-1)); done; echo \"until:$i\"\n"
    "for w in a b c d; do [ $w = b ] && continue; [ $w = d ] && break; printf '%s' $w; done; echo\n"
    "case foo.c in *.h) echo case-h;; *.c) echo case-c;; *) echo case-other;; esac\n"
    /* parameter expansion and positional parameters */
    "set -- one two three; echo \"args:$#:$2\"; shift; echo \"shifted:$1:$#\"\n"
    "v=path/to/file.tar.gz\n"
    "echo \"${v#*/} ${v##*/} ${v%.*} ${v%%.*} ${#v} ${unset_var:-dflt} ${v:+set}\"\n"
    "f() { echo \"f:$1:$#\"; return 4; }\n"
    "f a b; echo \"ret:$?\"\n"
    /* redirections to files in the working directory */
    "echo one > out.txt\n"
    "echo two >> out.txt\n"
    "printf 'three\\n' >> out.txt\n"
    "while read line; do echo \"read:$line\"; done < out.txt\n"
    "c=$(wc -c < out.txt); echo \"bytes:$((c))\"\n"
    "exec 3> fd3.txt; echo via3 >&3; exec 3>&-; cat fd3.txt\n"
    "cat nothere 2> err.txt; echo \"cat:$?\"; [ -s err.txt ] && echo err-captured\n"
    "{ echo g1; echo g2; } > grp.txt; cat < grp.txt\n"
    "echo clobber > out.txt; cat out.txt\n"
    "echo to-stderr 1>&2 2>/dev/null\n"
    "cat <<EOF\n"
    "here $x $((1+1))\n"
    "EOF\n"
    "cat <<'EOF'\n"
    "quoted $x\n"
    "EOF\n"
    /* an ignored SIGINT: the shell and the children it starts survive it */
    "trap '' INT\n"
    "kill -INT $$\n"
    "echo survived-int\n"
    "sh -c 'kill -INT $$; echo child-survived'\n"
    "echo end\n"
    "exit 3\n";

static const char expect1[] =
    "start\n"
    "sub:inner\n"
    "after:outer\n"
    "/\n"
    "cwd-kept\n"
    "status:3\n"
    "pid-same\n"
    "child-pid-differs\n"
    "upper:HELLO\n"
    "lines:3\n"
    "nested:inner\n"
    "bq:tick\n"
    "[x]\n"
    "subst-status:9\n"
    "1 2 \n"
    "cba\n"
    "pipe:0\n"
    "pipe:1\n"
    "neg:0\n"
    "got-l1\n"
    "got-l2\n"
    "got-l3\n"
    "abXYef\n"
    "bg2:7\n"
    "bg1:0\n"
    "bang:5\n"
    "late:6\n"
    "waitall:0\n"
    "job1\n"
    "job2\n"
    "job3\n"
    "bg-group\n"
    "sum:55\n"
    "arith:3 1 16 -3 9 16 1 8\n"
    "while:3\n"
    "until:2\n"
    "ac\n"
    "case-c\n"
    "args:3:two\n"
    "shifted:two:2\n"
    "to/file.tar.gz file.tar.gz path/to/file.tar path/to/file 19 dflt set\n"
    "f:a:2\n"
    "ret:4\n"
    "read:one\n"
    "read:two\n"
    "read:three\n"
    "bytes:14\n"
    "via3\n"
    "cat:1\n"
    "err-captured\n"
    "g1\n"
    "g2\n"
    "clobber\n"
    "to-stderr\n"
    "here outer 2\n"
    "quoted $x\n"
    "survived-int\n"
    "child-survived\n"
    "end\n";

/* A script file run with arguments: $0, $@ and "$@" quoting, and reading stdin (/dev/null). */
static const char script2[] =
    "echo \"name:${0##*/}\"\n"
    "echo \"count:$#\"\n"
    "for a in \"$@\"; do echo \"<$a>\"; done\n"
    "for a in $*; do echo \"[$a]\"; done\n"
    "if read x; then echo read-something; else echo \"eof:$?\"; fi\n"
    "exit $(( $# + 40 ))\n";

static const char expect2[] =
    "name:script.sh\n"
    "count:2\n"
    "<a b>\n"
    "<c>\n"
    "[a]\n"
    "[b]\n"
    "[c]\n"
    "eof:1\n";

static char out[1 << 16];

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    char *argv1[] = {"/bin/sh", "-c", (char *)script1, "sh", NULL};
    int st = run(argv1, out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 3) printf("script 1 status %#x\n", st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    if (strcmp(out, expect1) != 0) show_diff(expect1, out);
    CHECK(strcmp(out, expect1) == 0);
    /* The files it wrote are in the working directory. */
    CHECK(access("out.txt", F_OK) == 0);
    CHECK(access("job3.txt", F_OK) == 0);
    char buf[64] = "";
    int fd = open("fd3.txt", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read(fd, buf, sizeof buf) == 5);
        CHECK(memcmp(buf, "via3\n", 5) == 0);
        close(fd);
    }

    /* A script file with arguments. */
    fd = open("script.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK(fd >= 0);
    CHECK(write(fd, script2, sizeof script2 - 1) == (ssize_t)(sizeof script2 - 1));
    close(fd);
    char *argv2[] = {"/bin/sh", "script.sh", "a b", "c", NULL};
    st = run(argv2, out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 42) printf("script 2 status %#x\n", st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    if (strcmp(out, expect2) != 0) show_diff(expect2, out);
    CHECK(strcmp(out, expect2) == 0);

    /* Executed directly, through its #! line. */
    fd = open("hashbang.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK(fd >= 0);
    const char hb[] = "#!/bin/sh\necho \"hb:$1\"; exit 7\n";
    CHECK(write(fd, hb, sizeof hb - 1) == (ssize_t)(sizeof hb - 1));
    close(fd);
    char *argv3[] = {"./hashbang.sh", "arg", NULL};
    st = run(argv3, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    CHECK(strcmp(out, "hb:arg\n") == 0);

    /* Exit statuses: a missing command is 127, a signal shows as 128+n. (stderr is dropped:
     * dash reports "Terminated" there, ash does not.) */
    char *argv4[] = {"/bin/sh", "-c", "exec 2>/dev/null; no_such_command_xyz; echo \"nf:$?\"; sh -c 'kill -TERM $$'; echo \"sig:$?\"", NULL};
    st = run(argv4, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (strcmp(out, "nf:127\nsig:143\n") != 0) show_diff("nf:127\nsig:143\n", out);
    CHECK(strcmp(out, "nf:127\nsig:143\n") == 0);

    /* The shell itself killed by a signal. */
    char *argv5[] = {"/bin/sh", "-c", "kill -KILL $$; echo not-reached", NULL};
    st = run(argv5, out, sizeof out);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(out[0] == 0);

    DONE();
}
