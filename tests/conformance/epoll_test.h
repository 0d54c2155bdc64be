/* Helpers shared by the io_epoll* tests: EPOLL_CTL_ADD and EPOLL_CTL_MOD of one fd with its
 * events and a 64-bit tag. */
#ifndef EPOLL_TEST_H
#define EPOLL_TEST_H
#include "lintel_test.h"
#include <stdint.h>
#include <sys/epoll.h>

static inline int epoll_ctl_tag(int ep, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep, op, fd, &ev);
}

static inline int add(int ep, int fd, uint32_t events, uint64_t data) {
    return epoll_ctl_tag(ep, EPOLL_CTL_ADD, fd, events, data);
}

static inline int mod(int ep, int fd, uint32_t events, uint64_t data) {
    return epoll_ctl_tag(ep, EPOLL_CTL_MOD, fd, events, data);
}
#endif
