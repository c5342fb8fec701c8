/* umem_errname.c - errno names for messages, without relying on a libc extension (strerrorname_np). */
#include "umem.h"

#include <errno.h>

#define NAME(e) { e, #e }

static const struct {
    int value;
    const char *name;
} names[] = {
    NAME(EPERM), NAME(ENOENT), NAME(ESRCH), NAME(EINTR), NAME(EIO), NAME(ENXIO), NAME(E2BIG),
    NAME(ENOEXEC), NAME(EBADF), NAME(ECHILD), NAME(EAGAIN), NAME(ENOMEM), NAME(EACCES), NAME(EFAULT),
    NAME(EBUSY), NAME(EEXIST), NAME(ENODEV), NAME(ENOTDIR), NAME(EISDIR), NAME(EINVAL), NAME(ENFILE),
    NAME(EMFILE), NAME(ENOTTY), NAME(EFBIG), NAME(ENOSPC), NAME(ESPIPE), NAME(EROFS), NAME(EPIPE),
    NAME(ERANGE), NAME(EDEADLK), NAME(ENAMETOOLONG), NAME(ENOSYS), NAME(ENOTSUP), NAME(EOVERFLOW),
    NAME(EBADMSG), NAME(EPROTO), NAME(EPROTONOSUPPORT), NAME(EMSGSIZE), NAME(ENOTSOCK), NAME(ECONNREFUSED),
    NAME(ECONNRESET), NAME(ENOTCONN), NAME(ETIMEDOUT), NAME(EADDRINUSE), NAME(ENOBUFS), NAME(ECANCELED),
};

const char *umem_errname(int err)
{
    if (err < 0)
        err = -err;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].value == err)
            return names[i].name;
    return "E?";
}
