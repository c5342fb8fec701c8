/*
 * fdops.c - the calls on a device fd other than open and mmap: close (the last close of an open is close(9E)),
 * dup and F_DUPFD (one more fd of the same open), fcntl's status flags, fstat (a character device), ioctl(2) (the
 * driver's ioctl(9E)), and read/write (read(9E)/write(9E); a driver without them refuses: nodev(9F), ENXIO).
 * Each first looks at the fd's slot; an fd that is not a device's passes straight to libc.
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <unistd.h>

EXPORT int close(int fd)
{
    if (preload_peek(fd) == NULL)
        return REAL(close)(fd);
    preload_lock();
    struct pdev *pd = preload_get(fd);
    if (pd != NULL)
        preload_set(fd, NULL);
    int r = REAL(close)(fd);
    if (pd != NULL)
        preload_unref(pd);
    preload_unlock();
    return r;
}

/* After libc closed [first, last]: the device fds among them are gone. Under the lock. */
static void closed_range(unsigned first, unsigned last)
{
    for (unsigned fd = first; fd <= last && fd < PRELOAD_MAX_FD; fd++)
        preload_closed((int)fd);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if ((flags & CLOSE_RANGE_CLOEXEC) != 0)
        return REAL(close_range)(first, last, flags);
    preload_lock();
    int r = REAL(close_range)(first, last, flags);
    if (r == 0)
        closed_range(first, last);
    preload_unlock();
    return r;
}

EXPORT void closefrom(int low)
{
    preload_lock();
    REAL(closefrom)(low);
    closed_range(low < 0 ? 0 : (unsigned)low, ~0u);
    preload_unlock();
}

/* After a dup of device fd `old` to `fd` (a new fd of the same open), or a failure (fd < 0). Under the lock. */
static int duped(struct pdev *pd, int fd)
{
    if (fd < 0 || pd == NULL)
        return fd;
    if (fd >= PRELOAD_MAX_FD) {
        REAL(close)(fd);
        return preload_fail(-EMFILE);
    }
    preload_closed(fd); /* dup2/dup3 onto a device fd closed that one first */
    preload_set(fd, pd);
    return fd;
}

EXPORT int dup(int old)
{
    if (preload_peek(old) == NULL)
        return REAL(dup)(old);
    preload_lock();
    int fd = duped(preload_get(old), REAL(dup)(old));
    preload_unlock();
    return fd;
}

static int dup_to(int old, int new, int flags, int three)
{
    preload_lock();
    struct pdev *pd = preload_get(old);
    int fd = three ? REAL(dup3)(old, new, flags) : REAL(dup2)(old, new);
    if (fd >= 0 && old != new) {
        if (pd == NULL)
            preload_closed(fd); /* an ordinary fd now where a device fd was */
        else
            fd = duped(pd, fd);
    }
    preload_unlock();
    return fd;
}

EXPORT int dup2(int old, int new)
{
    if (preload_peek(old) == NULL && preload_peek(new) == NULL)
        return REAL(dup2)(old, new);
    return dup_to(old, new, 0, 0);
}

EXPORT int dup3(int old, int new, int flags)
{
    if (preload_peek(old) == NULL && preload_peek(new) == NULL)
        return REAL(dup3)(old, new, flags);
    return dup_to(old, new, flags, 1);
}

/* fcntl(2) of a device fd: F_DUPFD*, and F_GETFL/F_SETFL on the open's own flags (the O_PATH fd's are not). */
static int device_fcntl(int (*f)(int, int, ...), int fd, int cmd, long arg)
{
    preload_lock();
    struct pdev *pd = preload_get(fd);
    int r;
    if (pd != NULL && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
        r = duped(pd, f(fd, cmd, arg));
    } else if (pd != NULL && cmd == F_GETFL) {
        r = pd->oflags;
    } else if (pd != NULL && cmd == F_SETFL) {
        const int settable = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC;
        pd->oflags = (pd->oflags & ~settable) | ((int)arg & settable);
        r = 0;
    } else {
        r = f(fd, cmd, arg);
    }
    preload_unlock();
    return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    long arg = VA_ARG_LONG(cmd);
    if (preload_peek(fd) == NULL)
        return REAL(fcntl)(fd, cmd, arg);
    return device_fcntl(REAL(fcntl), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    long arg = VA_ARG_LONG(cmd);
    if (preload_peek(fd) == NULL)
        return REAL(fcntl64)(fd, cmd, arg);
    return device_fcntl(REAL(fcntl64), fd, cmd, arg);
}

/* fstat(2) of a device fd: the node as a character device with the node's permission bits, size 0. */
#define AS_DEVICE(fd, call, st)                                                                                  \
    ({                                                                                                           \
        preload_lock();                                                                                          \
        int dev_ = preload_get(fd) != NULL;                                                                      \
        preload_unlock();                                                                                        \
        int r_ = (call);                                                                                         \
        if (r_ == 0 && dev_) {                                                                                   \
            (st)->st_mode = S_IFCHR | ((st)->st_mode & 07777);                                                   \
            (st)->st_size = 0;                                                                                   \
        }                                                                                                        \
        r_;                                                                                                      \
    })

EXPORT int fstat(int fd, struct stat *st)
{
    return preload_peek(fd) == NULL ? REAL(fstat)(fd, st) : AS_DEVICE(fd, REAL(fstat)(fd, st), st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
    return preload_peek(fd) == NULL ? REAL(fstat64)(fd, st) : AS_DEVICE(fd, REAL(fstat64)(fd, st), st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    if (preload_peek(dirfd) == NULL || path[0] != '\0' || (flags & AT_EMPTY_PATH) == 0)
        return REAL(fstatat)(dirfd, path, st, flags);
    return AS_DEVICE(dirfd, REAL(fstatat)(dirfd, path, st, flags), st);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    if (preload_peek(dirfd) == NULL || path[0] != '\0' || (flags & AT_EMPTY_PATH) == 0)
        return REAL(fstatat64)(dirfd, path, st, flags);
    return AS_DEVICE(dirfd, REAL(fstatat64)(dirfd, path, st, flags), st);
}

/*
 * ioctl(2) of a device fd: the driver's ioctl(9E). The request's _IOC bits say what its argument is: _IOC_WRITE
 * sends _IOC_SIZE bytes from it, _IOC_READ receives up to _IOC_SIZE bytes into it, and a request without a size
 * sends the argument's value itself (8 bytes, little-endian) as a number. FIOCLEX, FIONCLEX and FIONBIO act on the
 * fd, as for every file.
 */
static int device_ioctl(struct pdev *pd, int fd, unsigned long req, long arg)
{
    if (req == FIOCLEX || req == FIONCLEX)
        return REAL(fcntl)(fd, F_SETFD, req == FIOCLEX ? FD_CLOEXEC : 0);
    if (req == FIONBIO) {
        pd->oflags = *(const int *)arg ? pd->oflags | O_NONBLOCK : pd->oflags & ~O_NONBLOCK;
        return 0;
    }
    size_t size = _IOC_SIZE(req);
    unsigned dir = _IOC_DIR(req);
    uint64_t value = (uint64_t)arg;
    uint8_t number[8];
    for (int i = 0; i < 8; i++)
        number[i] = (uint8_t)(value >> (8 * i));
    const void *in = size == 0 ? number : (dir & _IOC_WRITE) != 0 ? (const void *)arg : NULL;
    size_t in_len = size == 0 ? sizeof number : (dir & _IOC_WRITE) != 0 ? size : 0;
    size_t out_max = size != 0 && (dir & _IOC_READ) != 0 ? size : 0;
    int rval = 0;
    int err = preload_connect(pd, fd);
    if (err == 0)
        err = INSIDE(umem_ioctl(pd->dev, (uint32_t)req, in, in_len, out_max ? (void *)arg : NULL, out_max, NULL, &rval));
    preload_rearm(pd);
    return err != 0 ? preload_fail(err) : rval;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    long arg = VA_ARG_LONG(req);
    if (preload_peek(fd) == NULL)
        return REAL(ioctl)(fd, req, arg);
    preload_lock();
    struct pdev *pd = preload_get(fd);
    int r = pd != NULL ? device_ioctl(pd, fd, req, arg) : 0;
    preload_unlock();
    return pd != NULL ? r : REAL(ioctl)(fd, req, arg);
}

/*
 * read/write/pread/pwrite on a device fd: the driver's read(9E)/write(9E) (protocol version 2), at most 60000 bytes
 * a call (a short count, as read(2) and write(2) may return). An open without the access is EBADF, as for a file.
 * Returns 1 with *r set when fd is a device fd, else 0 (pass the call to libc).
 */
static int device_io(int fd, void *buf, size_t n, int64_t off, int positional, int writing, ssize_t *r)
{
    preload_lock();
    struct pdev *pd = preload_get(fd);
    if (pd != NULL) {
        int acc = pd->oflags & O_ACCMODE, flags = (pd->oflags & O_NONBLOCK) != 0 ? UMEM_NONBLOCK : 0;
        size_t done = 0;
        int err = (writing ? acc == O_RDONLY : acc == O_WRONLY) ? -EBADF
                  : positional && off < 0                       ? -EINVAL /* pread(2)'s; -1 is "no offset" below */
                                                                : preload_connect(pd, fd);
        for (;;) {
            if (err == 0)
                err = INSIDE(writing ? umem_write(pd->dev, buf, n, positional ? off : -1, flags, &done)
                                     : umem_read(pd->dev, buf, n, positional ? off : -1, flags, &done));
            /* A driver that would wait answers EAGAIN (the host holds no thread): a blocking read waits for POLLIN. */
            if (err != -EAGAIN || writing || flags != 0 || (err = preload_wait_readable(pd, fd)) != 0)
                break;
        }
        preload_rearm(pd);
        *r = err != 0 ? preload_fail(err) : (ssize_t)done;
    }
    preload_unlock();
    return pd != NULL;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, buf, n, -1, 0, 0, &r) ? r : REAL(read)(fd, buf, n);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, (void *)buf, n, -1, 0, 1, &r) ? r : REAL(write)(fd, buf, n);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, buf, n, off, 1, 0, &r) ? r : REAL(pread)(fd, buf, n, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, buf, n, off, 1, 0, &r) ? r : REAL(pread64)(fd, buf, n, off);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, (void *)buf, n, off, 1, 1, &r) ? r : REAL(pwrite)(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    ssize_t r;
    return preload_peek(fd) != NULL && device_io(fd, (void *)buf, n, off, 1, 1, &r) ? r : REAL(pwrite64)(fd, buf, n, off);
}
