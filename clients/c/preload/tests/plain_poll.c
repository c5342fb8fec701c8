/*
 * plain_poll.c - an ordinary program that knows nothing of Umem (no Umem header, no Umem library): it waits for a
 * character device to become readable with poll(2), select(2) or epoll(7), reads what arrived, and checks the
 * readiness a FIFO-like device gives. Run with LD_PRELOAD=libumem-preload.so on a MessageDriver node, empty at start.
 *   usage: plain_poll NODE poll|select|epoll|pollout
 * poll, select, epoll: checks nothing is readable yet, prints "# waiting", waits (at most 60 s) until something is,
 * reads it and prints "got: TEXT". pollout: checks the device is writable (POLLOUT) and not readable.
 * Prints one line per check ("ok"/"not ok") and "# P passed, F failed"; exits 0 only if every check held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#define WAIT_MS 60000

static int passed, failed;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (cond)
        passed++;
    else
        failed++;
}

static void got(int fd)
{
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    check(n > 0, "read after the wait returns bytes");
    buf[n > 0 ? n : 0] = '\0';
    printf("got: %s\n", buf);
}

static void waiting(void)
{
    printf("# waiting\n");
    fflush(stdout);
}

static void with_poll(int fd)
{
    int pipefd[2];
    check(pipe(pipefd) == 0, "pipe");
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pipefd[0], .events = POLLIN } };
    check(poll(p, 2, 0) == 0 && p[0].revents == 0, "poll: nothing readable yet");
    waiting();
    int n = poll(p, 2, WAIT_MS);
    check(n == 1 && (p[0].revents & POLLIN) && p[1].revents == 0, "poll wakes with POLLIN on the device only");
    got(fd);
    struct pollfd q = { .fd = fd, .events = POLLIN | POLLOUT };
    check(poll(&q, 1, 0) == 1 && q.revents == POLLOUT, "poll after the read: POLLOUT, no POLLIN (drained)");
    close(pipefd[0]);
    close(pipefd[1]);
}

static void with_select(int fd)
{
    fd_set r;
    struct timeval zero = { 0, 0 }, wait = { WAIT_MS / 1000, 0 };
    FD_ZERO(&r);
    FD_SET(fd, &r);
    check(select(fd + 1, &r, NULL, NULL, &zero) == 0, "select: nothing readable yet");
    waiting();
    FD_SET(fd, &r);
    check(select(fd + 1, &r, NULL, NULL, &wait) == 1 && FD_ISSET(fd, &r), "select wakes with the device readable");
    got(fd);
}

static void with_epoll(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), pipefd[2];
    check(ep >= 0 && pipe(pipefd) == 0, "epoll_create1 and pipe");
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 }, pev = { .events = EPOLLIN, .data.u64 = 7 };
    check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl adds the device fd");
    check(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &pev) == 0, "epoll_ctl adds a pipe");
    struct epoll_event out[4];
    check(epoll_wait(ep, out, 4, 0) == 0, "epoll_wait: nothing readable yet");
    waiting();
    int n = epoll_wait(ep, out, 4, WAIT_MS);
    check(n == 1 && out[0].data.u64 == 0x1234 && (out[0].events & EPOLLIN), "epoll_wait wakes with the device's data");
    got(fd);
    check(epoll_wait(ep, out, 4, 0) == 0, "epoll_wait after the read: nothing (level-triggered, drained)");
    check(write(pipefd[1], "p", 1) == 1, "write to the pipe");
    n = epoll_wait(ep, out, 4, 0);
    check(n == 1 && out[0].data.u64 == 7, "epoll_wait still sees the pipe");
    check(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0, "epoll_ctl removes the device fd");
    close(pipefd[0]);
    close(pipefd[1]);
    close(ep);
}

static void with_pollout(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
    check(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "poll: POLLOUT (room in the queue), no POLLIN (empty)");
    fd_set w;
    struct timeval zero = { 0, 0 };
    FD_ZERO(&w);
    FD_SET(fd, &w);
    check(select(fd + 1, NULL, &w, NULL, &zero) == 1 && FD_ISSET(fd, &w), "select: writable");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: plain_poll NODE poll|select|epoll|pollout\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    check(fd >= 0, "open the node");
    if (fd < 0) {
        printf("# open: %s\n", strerror(errno));
        return 1;
    }
    if (strcmp(argv[2], "poll") == 0)
        with_poll(fd);
    else if (strcmp(argv[2], "select") == 0)
        with_select(fd);
    else if (strcmp(argv[2], "epoll") == 0)
        with_epoll(fd);
    else if (strcmp(argv[2], "pollout") == 0)
        with_pollout(fd);
    else
        return 2;
    check(close(fd) == 0, "close");
    struct pollfd p = { .fd = fd, .events = POLLIN };
    check(poll(&p, 1, 0) == 1 && p.revents == POLLNVAL, "poll on the closed fd: POLLNVAL");
    printf("# %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
