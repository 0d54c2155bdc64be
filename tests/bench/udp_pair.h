/* Two UDP sockets on 127.0.0.1, each bound to an ephemeral port and connected to the other,
 * receives bounded by *rcvtimeo unless it is NULL: the pair of bench.c's udp_lat and of
 * blocks.c's udp_send_recv. The includer provides <arpa/inet.h>, <netinet/in.h>, <string.h>,
 * <sys/socket.h> and <sys/time.h>. */
static int udp_pair_on_lo(int fd[2], const struct timeval *rcvtimeo) {
    struct sockaddr_in sa[2];
    for (int i = 0; i < 2; i++) {
        socklen_t len = sizeof sa[i];
        memset(&sa[i], 0, sizeof sa[i]);
        sa[i].sin_family = AF_INET;
        sa[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd[i] < 0 || bind(fd[i], (struct sockaddr *)&sa[i], sizeof sa[i]) ||
            getsockname(fd[i], (struct sockaddr *)&sa[i], &len))
            return -1;
        if (rcvtimeo && setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, rcvtimeo, sizeof *rcvtimeo))
            return -1;
    }
    for (int i = 0; i < 2; i++)
        if (connect(fd[i], (struct sockaddr *)&sa[1 - i], sizeof sa[1 - i])) return -1;
    return 0;
}
