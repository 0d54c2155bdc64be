/* A shell script using busybox's file tools on the working directory must print exactly the
 * same bytes in Lintel as on Linux: ls, cat, grep, sed, awk, sort, uniq, find, xargs, tar,
 * gzip, wc, head, tail, cut, tr, md5sum. */
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *script =
    "set -e\n"
    "mkdir -p d/sub d/empty\n"
    "printf 'banana\\napple\\ncherry\\napple\\n' > d/fruit.txt\n"
    "printf 'one two three\\nfour five six\\n' > d/sub/words.txt\n"
    "printf 'x=1\\ny=2\\n' > d/sub/vars.conf\n"
    "ls d d/sub\n"
    "cat d/fruit.txt | sort | uniq -c\n"
    "grep -n apple d/fruit.txt\n"
    "grep -c an d/fruit.txt\n"
    "sed -e 's/a/A/g' -e '/cherry/d' d/fruit.txt\n"
    "awk '{ n += NF; print NR \": \" $2 } END { print \"words\", n }' d/sub/words.txt\n"
    "find d -type f | sort\n"
    "find d -name '*.txt' | sort | xargs wc -l\n"
    "find d -type d | sort | xargs -n1 basename\n"
    "tar cf t.tar d\n"
    "tar tf t.tar | sort\n"
    "mkdir x && tar xf t.tar -C x && cat x/d/sub/vars.conf\n"
    "gzip -c d/fruit.txt > f.gz && gzip -dc f.gz | md5sum\n"
    "md5sum d/fruit.txt | cut -d' ' -f1\n"
    "head -n 2 d/fruit.txt; tail -n 1 d/fruit.txt\n"
    "echo Hello | tr a-z A-Z\n"
    "cut -d= -f2 d/sub/vars.conf | tr '\\n' ','; echo\n"
    "echo done\n";

static const char *expected =
    "d:\nempty\nfruit.txt\nsub\n\nd/sub:\nvars.conf\nwords.txt\n"
    "      2 apple\n      1 banana\n      1 cherry\n"
    "2:apple\n4:apple\n"
    "1\n"
    "bAnAnA\nApple\nApple\n"
    "1: two\n2: five\nwords 6\n"
    "d/fruit.txt\nd/sub/vars.conf\nd/sub/words.txt\n"
    "        4 d/fruit.txt\n        2 d/sub/words.txt\n        6 total\n"
    "d\nempty\nsub\n"
    "d/\nd/empty/\nd/fruit.txt\nd/sub/\nd/sub/vars.conf\nd/sub/words.txt\n"
    "x=1\ny=2\n"
    "763c338aa6f038f8ef266c493c28b213  -\n"
    "763c338aa6f038f8ef266c493c28b213\n"
    "banana\napple\napple\n"
    "HELLO\n"
    "1,2,\n"
    "done\n";

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execl("/bin/busybox", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    static char out[8192];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(p[0], out + n, sizeof out - 1 - n)) > 0) n += r;
    out[n] = 0;
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (strcmp(out, expected) != 0) {
        printf("output differs; got:\n%s\n", out);
        size_t i = 0;
        while (out[i] && out[i] == expected[i]) i++;
        printf("first difference at byte %zu\n", i);
        lt_failures++;
    }
    DONE();
}
