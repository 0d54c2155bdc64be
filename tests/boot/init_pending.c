/* boot.init-pending-default: run as init. A signal that became pending while init had a
 * handler, then found the default action when it was delivered, is dropped, as Linux's
 * get_signal drops it for an unkillable init (SIGNAL_UNKILLABLE). bash's `read -t` leaves
 * exactly this: its SIGALRM can be pending when the handler goes back to SIG_DFL (a fuzz run
 * of issue 19 ended with init killed by SIGALRM, exit 142). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_alarm(int sig) { (void)sig; }

int main(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    sigaddset(&s, SIGTERM);
    signal(SIGALRM, on_alarm);
    signal(SIGTERM, on_alarm);
    sigprocmask(SIG_BLOCK, &s, 0);
    raise(SIGALRM);
    kill(getpid(), SIGTERM);
    signal(SIGALRM, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &s, 0);
    printf("init survived its pending signals\n");
    fflush(stdout);
    return 4;
}
