/*
 * preload.h - the internals shared by the files of libumem-preload.so (README.md in this folder): the real libc
 * functions, the open devices and their fds, and the device mappings.
 *
 * A device fd is an O_PATH fd of the node (a real fd number of the process, whose /proc/self/fd link names the
 * node) that the fd table marks as a device; the device's connection to the host is a separate, close-on-exec
 * socket of the preload's. Every call on an fd first looks at its slot in the table (one atomic load): an empty
 * slot passes the call straight to libc.
 */
#ifndef UMEM_PRELOAD_H
#define UMEM_PRELOAD_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../umem.h"

#define EXPORT __attribute__((visibility("default")))

/* Device fds are below this; a device open that would get a higher fd fails with EMFILE. */
#define PRELOAD_MAX_FD 65536

/* The libc functions the wrappers stand in front of (RTLD_NEXT), resolved at load time or on first use. */
struct real_fns {
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    void (*closefrom)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    int (*fstat)(int, struct stat *);
    int (*fstat64)(int, struct stat64 *);
    int (*fstatat)(int, const char *, struct stat *, int);
    int (*fstatat64)(int, const char *, struct stat64 *, int);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    void *(*mmap64)(void *, size_t, int, int, int, off64_t);
    int (*munmap)(void *, size_t);
    int (*mprotect)(void *, size_t, int);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pread64)(int, void *, size_t, off64_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
};

extern struct real_fns real;

/* Resolves real.<name> if it is not yet (a wrapper called before the constructor ran). */
void *preload_resolve(void **slot, const char *name);
#define REAL(name) ((__typeof__(real.name))(real.name != NULL ? (void *)real.name : preload_resolve((void **)&real.name, #name)))

/* One open of a device node (an open file description): shared by the fds dup'd from it and its mappings. */
struct pdev {
    struct pdev *next; /* every open of the process, for fork */
    umem_dev *dev;    /* NULL in a forked child until it reconnects */
    int oflags;       /* the open's access mode and status flags (F_GETFL) */
    int refs;         /* fds + mappings; the device is closed when none is left */
    int fork_fd;      /* during a fork: a device fd of this open, through which the child reconnects (-1: none) */
    short epoll_events; /* the events an epoll set waits for (poll.c): re-armed after each device call */
    dev_t st_dev;     /* the node's identity, to tell a stale slot from its fd (closed behind our back) */
    ino_t st_ino;
};

/* The fd table: a device fd's slot holds its open; every other slot is NULL. */
extern _Atomic(struct pdev *) preload_fds[PRELOAD_MAX_FD];

/* The one check of every call on an fd: is it (possibly) a device? */
static inline struct pdev *preload_peek(int fd)
{
    return (unsigned)fd < PRELOAD_MAX_FD ? atomic_load_explicit(&preload_fds[fd], memory_order_acquire) : NULL;
}

/* Non-zero while the preload itself calls libc (its own munmaps must not be taken for the application's). */
extern __thread int preload_inside __attribute__((tls_model("initial-exec")));

/* The lock of every device call (table changes, mappings, the connection): device calls are serialised. */
void preload_lock(void);
void preload_unlock(void);

/*
 * Under the lock: the open of device fd `fd`, or NULL (errno EBADF) when the slot is empty or stale (the fd was
 * closed by a call the preload does not see and now names another file: the slot is cleared).
 */
struct pdev *preload_get(int fd);

/* Under the lock: makes `fd` a device fd of `pd` (one more reference), or drops its slot when pd is NULL. */
void preload_set(int fd, struct pdev *pd);

/* Under the lock: one reference fewer; the last one closes the device (CLOSE to the host). */
void preload_unref(struct pdev *pd);

/* Under the lock: the connection of `pd`, reconnected through device fd `fd` in a forked child. */
int preload_connect(struct pdev *pd, int fd);

/* Under the lock: the device fd `fd` is closed by libc (close, dup2 onto it...): drop its slot and reference. */
void preload_closed(int fd);

/* fork(2), under the lock (mem.c): before it, a token per device mapping (DUP_PREPARE); after it, the parent
 * forgets them and the child redeems them on connections of its own (INHERIT), its opens already abandoned. */
void preload_fork_prepare(struct pdev *opens);
void preload_fork_parent(void);
void preload_fork_child(void);
/* Under the lock: arms the EVENT an epoll set waits for again after a device call read the last one (poll.c). */
void preload_rearm(struct pdev *pd);

/*
 * Under the lock, which it lets go while it waits: waits until device fd `fd` is readable (chpoll(9E) POLLIN), for
 * a blocking read(2) whose driver answered EAGAIN (it holds no thread of the host while it waits).
 */
int preload_wait_readable(struct pdev *pd, int fd);

/* The environment variable that carries device fds across execve(2) (exec.c): "fd:oflags:ino,...". */
#define PRELOAD_ENV "UMEM_PRELOAD_FDS"

/* At load: the device fds an execve left us (PRELOAD_ENV), each checked and connected on first use. */
void preload_adopt(const char *list);

/* Sets errno from a negative result and returns -1; passes a non-negative one. */
int preload_fail(int err);

/* The host's errno for a failed device open, or ENXIO when the socket is not a Umem device at all. */
int preload_open_errno(int err);

/* Under the lock: a new open of a device node, at placeholder fd `fd`, with its connection. */
void preload_add(int fd, struct pdev *pd);

/* Runs `call` (a umem_* call) with preload_inside set: its own munmaps go straight to libc. */
#define INSIDE(call) ({ preload_inside = 1; __typeof__(call) r_ = (call); preload_inside = 0; r_; })

/* Calls that take a variadic int or pointer argument read it as this (glibc passes it in a register). */
#define VA_ARG_LONG(last) ({ va_list ap_; va_start(ap_, last); long v_ = va_arg(ap_, long); va_end(ap_); v_; })

#endif
