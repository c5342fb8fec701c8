/*
 * table.c - the real libc functions, the lock, the fd table and the life of an open device: its references
 * (fds and mappings), its close, and what a fork does to it.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../umem_internal.h"

struct real_fns real;
_Atomic(struct pdev *) preload_fds[PRELOAD_MAX_FD];
__thread int preload_inside __attribute__((tls_model("initial-exec")));

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pdev *opens; /* every open, through pdev.next */

void *preload_resolve(void **slot, const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        /* Nothing to stand in front of: this libc lacks the call, so no program of it can call it either. */
        static const char msg[] = "libumem-preload: a libc function is missing\n";
        (void)!REAL(write)(2, msg, sizeof msg - 1);
        abort();
    }
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    return f;
}

void preload_lock(void)
{
    pthread_mutex_lock(&lock);
}

void preload_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

struct pdev *preload_get(int fd)
{
    struct pdev *pd = preload_peek(fd);
    struct stat64 st;
    if (pd != NULL && (REAL(fstat64)(fd, &st) != 0 || st.st_dev != pd->st_dev || st.st_ino != pd->st_ino)) {
        preload_set(fd, NULL); /* closed by a call we do not see (a raw syscall): the number is another file's now */
        preload_unref(pd);
        pd = NULL;
    }
    if (pd == NULL)
        errno = EBADF;
    return pd;
}

void preload_set(int fd, struct pdev *pd)
{
    if (pd != NULL)
        pd->refs++;
    atomic_store_explicit(&preload_fds[fd], pd, memory_order_release);
}

void preload_add(int fd, struct pdev *pd)
{
    pd->next = opens;
    opens = pd;
    preload_set(fd, pd);
}

void preload_unref(struct pdev *pd)
{
    if (--pd->refs > 0)
        return;
    for (struct pdev **p = &opens; *p != NULL; p = &(*p)->next) {
        if (*p == pd) {
            *p = pd->next;
            break;
        }
    }
    if (pd->dev != NULL)
        INSIDE(umem_close(pd->dev)); /* close(9E) on the last close, as for a device node */
    free(pd);
}

void preload_closed(int fd)
{
    struct pdev *pd = preload_peek(fd);
    if (pd == NULL)
        return;
    preload_set(fd, NULL);
    preload_unref(pd);
}

int preload_connect(struct pdev *pd, int fd)
{
    if (pd->dev != NULL)
        return 0;
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return INSIDE(umem_open(path, pd->oflags & O_ACCMODE, &pd->dev));
}

int preload_fail(int err)
{
    if (err >= 0)
        return err;
    errno = -err;
    return -1;
}

int preload_open_errno(int err)
{
    switch (-err) {
    case ECONNREFUSED: /* nobody serves the node */
    case EPROTOTYPE:   /* a socket, but not a SEQPACKET one */
    case EPROTO:
    case EPROTONOSUPPORT:
    case EBADMSG:
    case ECONNRESET:
    case EPIPE:
        return ENXIO; /* what open(2) of a node without its driver returns */
    default:
        return -err;
    }
}

/*
 * fork(2): before it, the parent asks the host for a one-time token per device mapping (DUP_PREPARE, under the
 * lock). The child's copy of each connection is the parent's, so the child drops its copies without a word to the
 * host, opens a connection of its own for each open whose mappings it inherited, and redeems the tokens there
 * (INHERIT): the mappings become its own (the driver's devmap_dup(9E) runs, the host charges the child, and they
 * outlive the parent). Its other opens connect when it next uses the device.
 */
static void prepare(void)
{
    pthread_mutex_lock(&lock);
    preload_fork_prepare(opens);
}

static void parent(void)
{
    preload_fork_parent();
    pthread_mutex_unlock(&lock);
}

static void child(void)
{
    pthread_mutex_init(&lock, NULL);
    for (struct pdev *pd = opens; pd != NULL; pd = pd->next) {
        umem_abandon(pd->dev);
        pd->dev = NULL;
        pd->epoll_events = 0; /* an epoll set holds the parent's socket, not one of the child's */
    }
    preload_fork_child();
}

__attribute__((constructor)) static void init(void)
{
    static const char *const names[] = {
        "openat", "openat64", "close", "close_range", "closefrom", "dup", "dup2", "dup3", "fcntl", "fcntl64",
        "ioctl", "fstat", "fstat64", "fstatat", "fstatat64", "mmap", "mmap64", "munmap", "mprotect", "mremap",
        "read", "write", "pread", "pread64", "pwrite", "pwrite64", "execve",
        "poll", "ppoll", "select", "pselect", "epoll_ctl",
    };
    _Static_assert(sizeof names / sizeof names[0] == sizeof real / sizeof(void *), "one name per real function");
    void **slots = (void **)&real;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (slots[i] == NULL) /* one this libc lacks (close_range before 2.34) stays NULL: nobody can call it */
            __atomic_store_n(&slots[i], dlsym(RTLD_NEXT, names[i]), __ATOMIC_RELEASE);
    pthread_atfork(prepare, parent, child);
    const char *inherited = getenv(PRELOAD_ENV);
    if (inherited != NULL)
        preload_adopt(inherited);
}
