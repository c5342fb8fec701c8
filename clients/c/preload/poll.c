/*
 * poll.c - readiness of device fds: poll, ppoll, select, pselect and epoll_ctl (README.md, "Readiness").
 *
 * A device's readiness source is its connection to the host: the preload arms a one-shot POLL (protocol version
 * 3) and waits on the connection's socket, which turns readable when the host's EVENT (pollwakeup(9F)) comes.
 * poll and select swap each device fd for its socket for the one call; epoll_ctl registers the socket itself,
 * with the program's data, so epoll_wait needs no wrapper and costs other fds nothing.
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "../umem_internal.h"
#include "../umem_wire.h"

/* What a device without chpoll(9E) (or a host older than version 3) reports: always ready, as Linux's default. */
#define DEFAULT_MASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define ALWAYS (POLLERR | POLLHUP | POLLNVAL)

/*
 * Under the lock: arms device fd `fd` for `events` (flags: UMEM_POLL_*). Returns the socket to wait on, or -1 when
 * there is none to wait for; *ready gets what is ready now (POLLERR when the device cannot say).
 */
static int arm(struct pdev *pd, int fd, short events, int flags, short *ready)
{
    short now = 0;
    int err = preload_connect(pd, fd);
    if (err == 0)
        err = INSIDE(umem_poll_arm(pd->dev, (short)(events & UMEM_POLL_EVENTS), flags, &now));
    if (err == -ENXIO || err == -ENOTSUP) {
        *ready = (short)(events & DEFAULT_MASK);
        return -1;
    }
    *ready = err != 0 ? POLLERR : now;
    return err != 0 ? -1 : umem_socket(pd->dev);
}

/* Under the lock: the events of `fd`'s armed poll once its socket woke (`sock_revents`). */
static short take(int fd, short events, short sock_revents)
{
    struct pdev *pd = preload_get(fd);
    short ev = 0;
    if (pd == NULL)
        return POLLNVAL;
    if (pd->dev == NULL || INSIDE(umem_poll_take(pd->dev, &ev)) != 0)
        return POLLHUP; /* the host is gone */
    (void)sock_revents;
    return (short)(ev & (events | ALWAYS));
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * poll over fds of which some are devices: each device fd is armed and swapped for its socket; a wake-up that
 * brings no event of its own (an EVENT another call already read) waits again for the rest of the time.
 */
static int device_poll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    struct pollfd small[16];
    struct pollfd *sub = n <= 16 ? small : malloc(n * sizeof *sub);
    if (sub == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int64_t deadline = timeout == NULL ? -1 : now_ns() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec;
    int count;
    for (;;) {
        int ready = 0;
        preload_lock();
        for (nfds_t i = 0; i < n; i++) {
            sub[i] = fds[i];
            fds[i].revents = 0;
            struct pdev *pd = fds[i].fd >= 0 && preload_peek(fds[i].fd) != NULL ? preload_get(fds[i].fd) : NULL;
            if (pd == NULL)
                continue; /* not a device: libc's poll answers */
            short now;
            int sock = arm(pd, fds[i].fd, fds[i].events, UMEM_POLL_ARM, &now);
            fds[i].revents = now;
            ready += now != 0;
            sub[i].fd = sock; /* -1: poll skips it */
            sub[i].events = POLLIN;
        }
        preload_unlock();
        struct timespec left = { 0, 0 };
        if (deadline >= 0 && !ready) {
            int64_t ns = deadline - now_ns();
            if (ns > 0)
                left = (struct timespec){ (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
        }
        int r = REAL(ppoll)(sub, n, deadline < 0 && !ready ? NULL : &left, mask);
        if (r < 0) {
            int e = errno;
            if (sub != small)
                free(sub);
            errno = e;
            return -1;
        }
        count = 0;
        preload_lock();
        for (nfds_t i = 0; i < n; i++) {
            if (preload_peek(fds[i].fd) == NULL || fds[i].fd < 0)
                fds[i].revents = sub[i].revents;
            else if (sub[i].fd >= 0 && sub[i].revents != 0)
                fds[i].revents |= take(fds[i].fd, fds[i].events, sub[i].revents);
            count += fds[i].revents != 0;
        }
        preload_unlock();
        if (count > 0 || ready || (deadline >= 0 && now_ns() >= deadline))
            break;
    }
    if (sub != small)
        free(sub);
    return count;
}

static int any_device(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (preload_peek(fds[i].fd) != NULL)
            return 1;
    return 0;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!any_device(fds, n))
        return REAL(poll)(fds, n, timeout);
    struct timespec t = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
    return device_poll(fds, n, timeout < 0 ? NULL : &t, NULL);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        abort(); /* what glibc's _FORTIFY_SOURCE check does */
    return poll(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    if (!any_device(fds, n))
        return REAL(ppoll)(fds, n, timeout, mask);
    return device_poll(fds, n, timeout, mask);
}

/* select over fds of which some are devices: the sets become a poll and back (a device's readiness as poll's). */
static int device_select(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout, const sigset_t *mask)
{
    struct pollfd *p = malloc((size_t)nfds * sizeof *p);
    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
                           (e && FD_ISSET(fd, e) ? POLLPRI : 0));
        if (ev != 0)
            p[n++] = (struct pollfd){ .fd = fd, .events = ev };
    }
    int rc = device_poll(p, n, timeout, mask);
    if (rc >= 0) {
        rc = 0;
        for (nfds_t i = 0; i < n && rc >= 0; i++)
            if (p[i].revents & POLLNVAL)
                rc = -1;
        if (rc < 0)
            errno = EBADF;
        for (nfds_t i = 0; i < n && rc >= 0; i++) {
            short ev = p[i].revents;
            int fd = p[i].fd;
            if (r && FD_ISSET(fd, r) && !(ev & (POLLIN | POLLHUP | POLLERR)))
                FD_CLR(fd, r);
            if (w && FD_ISSET(fd, w) && !(ev & (POLLOUT | POLLERR)))
                FD_CLR(fd, w);
            if (e && FD_ISSET(fd, e) && !(ev & POLLPRI))
                FD_CLR(fd, e);
            rc += (r && FD_ISSET(fd, r)) + (w && FD_ISSET(fd, w)) + (e && FD_ISSET(fd, e));
        }
    }
    free(p);
    return rc;
}

static int sets_have_device(int nfds, const fd_set *r, const fd_set *w, const fd_set *e)
{
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
        if (preload_peek(fd) != NULL && ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))))
            return 1;
    return 0;
}

EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    if (nfds <= 0 || !sets_have_device(nfds, r, w, e))
        return REAL(select)(nfds, r, w, e, tv);
    struct timespec t = { 0, 0 };
    if (tv != NULL)
        t = (struct timespec){ tv->tv_sec, tv->tv_usec * 1000 };
    return device_select(nfds, r, w, e, tv != NULL ? &t : NULL, NULL);
}

EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *mask)
{
    if (nfds <= 0 || !sets_have_device(nfds, r, w, e))
        return REAL(pselect)(nfds, r, w, e, t, mask);
    return device_select(nfds, r, w, e, t, mask);
}

/*
 * epoll_ctl of a device fd registers its socket, with the program's events' flags (EPOLLET, EPOLLONESHOT...) and
 * data, for EPOLLIN: the socket is readable while an EVENT is queued. The poll is armed with EVENT_NOW, and again
 * after each device call (preload_rearm), so the socket stays readable while the device is ready (level-triggered).
 */
EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (preload_peek(fd) == NULL)
        return REAL(epoll_ctl)(epfd, op, fd, ev);
    preload_lock();
    struct pdev *pd = preload_get(fd);
    int r;
    if (pd == NULL) {
        r = -1;
    } else if (op == EPOLL_CTL_DEL) {
        pd->epoll_events = 0;
        r = pd->dev != NULL ? REAL(epoll_ctl)(epfd, op, umem_socket(pd->dev), ev) : 0;
    } else if (ev == NULL) {
        errno = EFAULT;
        r = -1;
    } else {
        short now;
        int sock = arm(pd, fd, (short)(ev->events & UMEM_POLL_EVENTS), UMEM_POLL_ARM | UMEM_POLL_EVENT_NOW, &now);
        struct epoll_event sev = { .events = EPOLLIN | (ev->events & (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)),
                                   .data = ev->data };
        if (sock < 0) {
            errno = EPERM; /* a device that cannot say when it is ready, as epoll_ctl of a regular file */
            r = -1;
        } else {
            r = REAL(epoll_ctl)(epfd, op, sock, &sev);
            pd->epoll_events = r == 0 ? (short)(ev->events & UMEM_POLL_EVENTS) : pd->epoll_events;
        }
    }
    preload_unlock();
    return r;
}

void preload_rearm(struct pdev *pd)
{
    short now;
    if (pd->epoll_events != 0 && pd->dev != NULL)
        (void)INSIDE(umem_poll_arm(pd->dev, pd->epoll_events, UMEM_POLL_ARM | UMEM_POLL_EVENT_NOW, &now));
}

int preload_wait_readable(struct pdev *pd, int fd)
{
    short now;
    int sock = arm(pd, fd, POLLIN, UMEM_POLL_ARM, &now);
    if (now != 0 || sock < 0)
        return now & POLLERR ? -EIO : 0;
    pd->refs++; /* kept while the lock is let go */
    preload_unlock();
    struct pollfd p = { .fd = sock, .events = POLLIN };
    int r = REAL(ppoll)(&p, 1, NULL, NULL);
    int err = r < 0 ? -errno : 0;
    preload_lock();
    if (err == 0 && pd->dev != NULL)
        err = INSIDE(umem_poll_take(pd->dev, &now));
    preload_unref(pd);
    return err;
}
