/*
 * open.c - open(2) and its variants. A device node is a socket, and open(2) of a socket fails with ENXIO; only then
 * does the preload look closer, so opening anything else costs nothing more. The node is opened O_PATH (the fd the
 * application gets, named like the node in /proc/self/fd), and the device is opened through it over the protocol
 * (connect(2) to /proc/self/fd/N reaches the very socket the path named, however long the path).
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The status flags an open keeps for F_GETFL (the access mode and those F_SETFL may change). */
#define KEPT_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_ASYNC)

static int open_device(int dirfd, const char *path, int flags)
{
    int fd = REAL(openat)(dirfd, path, O_PATH | (flags & (O_CLOEXEC | O_NOFOLLOW)));
    if (fd < 0)
        return -ENXIO;
    struct stat64 st;
    if (REAL(fstat64)(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || fd >= PRELOAD_MAX_FD) {
        int err = fd >= PRELOAD_MAX_FD && S_ISSOCK(st.st_mode) ? -EMFILE : -ENXIO;
        REAL(close)(fd);
        return err;
    }
    struct pdev *pd = calloc(1, sizeof *pd);
    if (pd == NULL) {
        REAL(close)(fd);
        return -ENOMEM;
    }
    pd->oflags = flags & KEPT_FLAGS;
    pd->st_dev = st.st_dev;
    pd->st_ino = st.st_ino;
    preload_lock();
    int err = preload_connect(pd, fd); /* HELLO and OPEN: open(9E) runs with our credentials */
    if (err == 0)
        preload_add(fd, pd);
    preload_unlock();
    if (err != 0) {
        free(pd);
        REAL(close)(fd);
        return -preload_open_errno(err);
    }
    return fd;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd = REAL(openat)(dirfd, path, flags, mode);
    if (fd >= 0 || errno != ENXIO || (flags & O_PATH) != 0 || path == NULL)
        return fd;
    return preload_fail(open_device(dirfd, path, flags));
}

/* The mode argument is there only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, last) \
    ((flags) & (O_CREAT | O_TMPFILE) ? (mode_t)({ va_list ap_; va_start(ap_, last); int m_ = va_arg(ap_, int); va_end(ap_); m_; }) : 0)

EXPORT int open(const char *path, int flags, ...)
{
    return do_open(AT_FDCWD, path, flags, MODE_ARG(flags, flags));
}

EXPORT int open64(const char *path, int flags, ...)
{
    return do_open(AT_FDCWD, path, flags | O_LARGEFILE, MODE_ARG(flags, flags));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    return do_open(dirfd, path, flags, MODE_ARG(flags, flags));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    return do_open(dirfd, path, flags | O_LARGEFILE, MODE_ARG(flags, flags));
}

/* _FORTIFY_SOURCE's checked forms (no mode: they are used only when there is none). */
EXPORT int __open_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags | O_LARGEFILE, 0);
}
