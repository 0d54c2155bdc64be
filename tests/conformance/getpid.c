/* Process identity: getpid, gettid, getppid and the credential calls. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    pid_t pid = getpid();
    CHECK(pid > 0);
    CHECK(syscall(SYS_gettid) == pid);
    CHECK(getppid() > 0 && getppid() != pid);
    CHECK(getuid() == geteuid());
    CHECK(getgid() == getegid());
    CHECK(getpid() == pid);
    DONE();
}
