/*
 * umem.c - the I/O half of the Umem C client (see umem.h): the SEQPACKET connection, fd passing, and the
 * local side of every mapping. Message bytes are built and checked by umem_wire.c.
 *
 * Failures come in two kinds. An errno the host answered (-ENXIO, -EACCES, ...) leaves the connection as it
 * was. Anything that breaks the request/reply pairing (a malformed or unexpected reply, wrong fds, a lost
 * connection) closes the connection at once (fail()), since no later reply could be trusted, and closes
 * every fd that arrived with the bad message.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 /* fd_offset is 64-bit; so is off_t in 32-bit builds */

#include "umem.h"
#include "umem_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SCM_MAX_FDS 253 /* the kernel's limit per SCM_RIGHTS: room to see (and close) a host's excess */

struct range { /* a still-mapped part of a mapping, as offsets into it */
    size_t start, end;
};

struct mapping {
    uint8_t *base;
    size_t length;
    uint64_t id;
    struct range *live; /* sorted, disjoint; the record goes when none is left */
    size_t nlive;
};

struct buffer {
    uint64_t id;
    void *addr;
    size_t length;
};

struct umem_dev {
    int sock; /* -1 once the connection is gone */
    uint64_t handle;
    uint32_t seq;
    size_t page_size;
    struct mapping *maps;
    size_t nmaps, maps_cap;
    struct buffer *bufs;
    size_t nbufs, bufs_cap;
    uint8_t msg[UMEM_MAX_MESSAGE]; /* one request or reply at a time */
    int fds[UMEM_MAX_SEGMENTS];    /* an MMAP reply's fds, until its segments are mapped */
    struct umem_segment segs[UMEM_MAX_SEGMENTS]; /* its segments, copied out of msg */
};

static void close_fds(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Ends the connection after a protocol failure; returns `err` for the caller to pass on. */
static int fail(umem_dev *d, int err)
{
    if (d->sock >= 0) {
        close(d->sock);
        d->sock = -1;
    }
    return err;
}

static uint32_t next_seq(umem_dev *d)
{
    return ++d->seq;
}

/* Sends one message, with one fd when fd >= 0. */
static int send_msg(umem_dev *d, const uint8_t *buf, size_t len, int fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof control.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(d->sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail(d, -errno);
    return n == (ssize_t)len ? 0 : fail(d, -EMSGSIZE);
}

/*
 * Receives one message into buf and the fds that came with it into fds (at most max_fds; more is a
 * protocol failure). Returns the message length or a negative errno; on failure no fd is left open.
 */
static int recv_msg(umem_dev *d, uint8_t *buf, size_t cap, int *fds, size_t max_fds, size_t *nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(SCM_MAX_FDS * sizeof(int))];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf };
    ssize_t n;
    do
        n = recvmsg(d->sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail(d, -errno);

    int got[SCM_MAX_FDS];
    size_t ngot = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k && ngot < SCM_MAX_FDS; i++)
            memcpy(&got[ngot++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ngot > max_fds) {
        close_fds(got, ngot);
        return fail(d, n == 0 ? -ECONNRESET : -EBADMSG);
    }
    if (ngot > 0)
        memcpy(fds, got, ngot * sizeof(int));
    *nfds = ngot;
    return (int)n;
}

/*
 * Receives the next message, which must be a well-formed reply of `type` to request `seq`. Host errnos
 * come back as -errno (with the connection intact); fds are only accepted when `fds` has room for them.
 */
static int receive(umem_dev *d, uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, struct umem_msg *m,
                   int *fds, size_t max_fds, size_t *nfds)
{
    size_t n_fds = 0;
    int n = recv_msg(d, buf, cap, fds, max_fds, &n_fds);
    if (n < 0)
        return n;
    int err = umem_decode(buf, (size_t)n, m);
    if (err == 0 && (m->type != (type | UMEM_REPLY_FLAG) || m->seq != seq))
        err = -EPROTO;
    if (err == 0 && m->error != 0 && n_fds > 0)
        err = -EBADMSG; /* a failed reply carries no memory */
    if (err != 0) {
        close_fds(fds, n_fds);
        return fail(d, err);
    }
    if (nfds != NULL)
        *nfds = n_fds;
    return -m->error;
}

/* Sends the request in d->msg (len bytes, as encoded: negative is an encoder error) and receives its reply. */
static int call(umem_dev *d, int len, int send_fd, uint16_t type, struct umem_msg *m, int *fds, size_t max_fds,
                size_t *nfds)
{
    if (d->sock < 0)
        return -ENOTCONN;
    if (len < 0)
        return len;
    int err = send_msg(d, d->msg, (size_t)len, send_fd);
    if (err != 0)
        return err;
    return receive(d, d->msg, sizeof d->msg, type, d->seq, m, fds, max_fds, nfds);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = -errno;
        close(s);
        return err;
    }
    return s;
}

int umem_open(const char *path, int oflags, umem_dev **devp)
{
    if (path == NULL || devp == NULL)
        return -EINVAL;
    long page = sysconf(_SC_PAGESIZE);
    umem_dev *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    d->page_size = (size_t)page;
    d->sock = connect_to(path);
    if (d->sock < 0) {
        int err = d->sock;
        free(d);
        return err;
    }
    struct umem_msg m;
    int err = call(d, umem_enc_hello(d->msg, sizeof d->msg, next_seq(d), UMEM_VERSION, UMEM_VERSION),
                   -1, UMEM_HELLO, &m, NULL, 0, NULL);
    if (err == 0 && m.u.hello_reply.version != UMEM_VERSION)
        err = fail(d, -EBADMSG); /* the host answered a version we did not offer */
    if (err == 0 && m.u.hello_reply.page_size != d->page_size)
        err = fail(d, -EPROTO); /* segments would not fall on our page boundaries */
    if (err == 0)
        err = call(d, umem_enc_open(d->msg, sizeof d->msg, next_seq(d), (uint32_t)oflags), -1, UMEM_OPEN, &m,
                   NULL, 0, NULL);
    if (err != 0) {
        fail(d, err);
        free(d);
        return err;
    }
    d->handle = m.u.open_reply.handle;
    *devp = d;
    return 0;
}

/*
 * The mapping whose extent holds [addr, addr+len) and which still maps part of it. Checking the live
 * ranges matters: a later mapping may have been placed in a hole of an earlier one.
 */
static struct mapping *find_mapping(umem_dev *d, uintptr_t addr, size_t len)
{
    for (size_t i = 0; i < d->nmaps; i++) {
        struct mapping *mp = &d->maps[i];
        uintptr_t base = (uintptr_t)mp->base;
        if (addr < base || addr - base >= mp->length || len > mp->length - (addr - base))
            continue;
        size_t off = addr - base;
        for (size_t j = 0; j < mp->nlive; j++)
            if (mp->live[j].start < off + len && off < mp->live[j].end)
                return mp;
    }
    return NULL;
}

static void drop_mapping(umem_dev *d, struct mapping *mp)
{
    free(mp->live);
    *mp = d->maps[--d->nmaps];
}

/* Makes room for one more record in an array, so that nothing can fail after the host said yes. */
static int reserve(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * size);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* The MMAP reply must describe what was asked for, on our page boundaries, within every maxprot. */
static int check_mmap_reply(const umem_dev *d, const struct umem_msg *m, size_t length, int prot)
{
    if (m->u.mmap_reply.length != length)
        return -EBADMSG;
    for (uint32_t i = 0; i < m->u.mmap_reply.nseg; i++) {
        struct umem_segment s;
        umem_segment_at(m, i, &s);
        if (s.length % d->page_size != 0 || s.fd_offset % d->page_size != 0 || s.fd_offset > INT64_MAX)
            return -EBADMSG;
        if (((uint32_t)prot & ~s.maxprot) != 0)
            return -EBADMSG;
    }
    return 0;
}

/*
 * Collects the fds of MMAP_MORE continuations until all nseg have arrived: each message carries the next
 * `count` fds, in order. On failure every fd received so far is closed.
 */
static int receive_more(umem_dev *d, uint32_t seq, int *fds, size_t have, size_t nseg)
{
    while (have < nseg) {
        uint8_t buf[64];
        struct umem_msg m;
        size_t n = 0, room = nseg - have < UMEM_MAX_FDS ? nseg - have : UMEM_MAX_FDS;
        int err = receive(d, buf, sizeof buf, UMEM_MMAP_MORE, seq, &m, fds + have, room, &n);
        if (err == 0 && (m.u.mmap_more.first != have || m.u.mmap_more.count != n || n == 0)) {
            close_fds(fds + have, n);
            err = fail(d, -EBADMSG);
        }
        if (err != 0) {
            close_fds(fds, have);
            return err;
        }
        have += n;
    }
    return 0;
}

/* Reserves the address range, then maps every segment over it at base + offset from its own fd. */
static int map_segments(const struct umem_msg *m, const struct umem_segment *segs, const int *fds, int prot,
                        int flags, size_t length, uint8_t **basep)
{
    void *base = mmap(NULL, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return -errno;
    for (uint32_t i = 0; i < m->u.mmap_reply.nseg; i++) {
        const struct umem_segment *s = &segs[i];
        void *at = (uint8_t *)base + s->offset;
        if (mmap(at, (size_t)s->length, prot, flags | MAP_FIXED, fds[s->fd_index], (off_t)s->fd_offset) ==
            MAP_FAILED) {
            int err = -errno;
            munmap(base, length);
            return err;
        }
    }
    *basep = base;
    return 0;
}

int umem_mmap(umem_dev *d, uint64_t offset, size_t length, int prot, int flags, void **addrp,
              uint64_t *mappingp)
{
    if (d == NULL || addrp == NULL || length == 0 || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0 ||
        (flags != MAP_SHARED && flags != MAP_PRIVATE))
        return -EINVAL;
    if (d->sock < 0)
        return -ENOTCONN;
    struct range *live = malloc(sizeof *live);
    if (live == NULL || reserve((void **)&d->maps, &d->maps_cap, d->nmaps, sizeof *d->maps) != 0) {
        free(live);
        return -ENOMEM;
    }

    int *fds = d->fds;
    struct umem_msg m;
    size_t nfds = 0;
    uint32_t seq = next_seq(d);
    int len = umem_enc_mmap(d->msg, sizeof d->msg, seq, d->handle, offset, length, (uint32_t)prot,
                            (uint32_t)flags);
    int err = call(d, len, -1, UMEM_MMAP, &m, fds, UMEM_MAX_FDS, &nfds);
    if (err == 0) {
        uint32_t nseg = m.u.mmap_reply.nseg;
        err = check_mmap_reply(d, &m, length, prot);
        if (err == 0 && (nfds == 0 || nfds > nseg))
            err = -EBADMSG;
        if (err != 0) {
            close_fds(fds, nfds);
            err = fail(d, err);
        } else {
            for (uint32_t i = 0; i < nseg; i++) /* d->msg is reused below; keep the segments */
                umem_segment_at(&m, i, &d->segs[i]);
            err = receive_more(d, seq, fds, nfds, nseg);
        }
    }
    if (err != 0) {
        free(live);
        return err;
    }

    uint8_t *base = NULL;
    err = map_segments(&m, d->segs, fds, prot, flags, length, &base);
    close_fds(fds, m.u.mmap_reply.nseg); /* the mappings keep the memory */
    if (err != 0) {
        /* Tell the host the mapping is gone; if even that fails the connection ends and it forgets anyway. */
        struct umem_msg r;
        call(d, umem_enc_munmap(d->msg, sizeof d->msg, next_seq(d), m.u.mmap_reply.mapping, 0, length), -1,
             UMEM_MUNMAP, &r, NULL, 0, NULL);
        free(live);
        return err;
    }
    live[0] = (struct range){ 0, length };
    d->maps[d->nmaps++] = (struct mapping){ base, length, m.u.mmap_reply.mapping, live, 1 };
    *addrp = base;
    if (mappingp != NULL)
        *mappingp = m.u.mmap_reply.mapping;
    return 0;
}

int umem_munmap(umem_dev *d, void *addr, size_t length)
{
    uintptr_t a = (uintptr_t)addr;
    if (d == NULL || length == 0 || a % d->page_size != 0 || length > SIZE_MAX - d->page_size)
        return -EINVAL;
    length = (length + d->page_size - 1) / d->page_size * d->page_size;
    struct mapping *mp = find_mapping(d, a, length);
    if (mp == NULL)
        return -EINVAL;
    size_t off = a - (uintptr_t)mp->base, end = off + length;

    /* Subtracting [off, end) splits at most one range in two. */
    struct range *next = malloc((mp->nlive + 1) * sizeof *next);
    if (next == NULL)
        return -ENOMEM;
    size_t nnext = 0;
    int result = 0;
    for (size_t i = 0; i < mp->nlive; i++) {
        struct range r = mp->live[i];
        size_t s = r.start > off ? r.start : off, e = r.end < end ? r.end : end;
        if (s < e) {
            if (d->sock >= 0) {
                struct umem_msg m;
                int err = call(d, umem_enc_munmap(d->msg, sizeof d->msg, next_seq(d), mp->id, s, e - s), -1,
                               UMEM_MUNMAP, &m, NULL, 0, NULL);
                if (result == 0)
                    result = err;
            }
            munmap(mp->base + s, e - s);
        }
        if (r.start < off)
            next[nnext++] = (struct range){ r.start, r.end < off ? r.end : off };
        if (r.end > end)
            next[nnext++] = (struct range){ r.start > end ? r.start : end, r.end };
    }
    free(mp->live);
    mp->live = next;
    mp->nlive = nnext;
    if (nnext == 0)
        drop_mapping(d, mp);
    return result == -ENOTCONN ? 0 : result; /* a lost connection already took the host's side away */
}

int umem_ioctl(umem_dev *d, uint32_t cmd, const void *in, size_t in_len, void *out, size_t out_max,
               size_t *out_len, int *rval)
{
    if (d == NULL || in_len > UMEM_IOCTL_MAX || out_max > UMEM_IOCTL_MAX || (in == NULL && in_len > 0) ||
        (out == NULL && out_max > 0))
        return -EINVAL;
    struct umem_msg m;
    int err = call(d, umem_enc_ioctl(d->msg, sizeof d->msg, next_seq(d), d->handle, cmd, (uint32_t)out_max, in,
                                     (uint32_t)in_len),
                   -1, UMEM_IOCTL, &m, NULL, 0, NULL);
    if (err != 0)
        return err;
    if (m.u.ioctl_reply.out_len > out_max)
        return fail(d, -EBADMSG);
    if (m.u.ioctl_reply.out_len > 0)
        memcpy(out, m.u.ioctl_reply.out, m.u.ioctl_reply.out_len);
    if (out_len != NULL)
        *out_len = m.u.ioctl_reply.out_len;
    if (rval != NULL)
        *rval = m.u.ioctl_reply.rval;
    return 0;
}

/* A memfd of `length` bytes that nobody can shrink, grow or seal further (linux-mechanisms.md: seals). */
static int sealed_memfd(size_t length)
{
    int fd = memfd_create("umem-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)length) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int umem_register(umem_dev *d, size_t length, void **addrp, uint64_t *bufferp)
{
    if (d == NULL || addrp == NULL || bufferp == NULL || length == 0 || length % d->page_size != 0)
        return -EINVAL;
    if (d->sock < 0)
        return -ENOTCONN;
    if (reserve((void **)&d->bufs, &d->bufs_cap, d->nbufs, sizeof *d->bufs) != 0)
        return -ENOMEM;
    int fd = sealed_memfd(length);
    if (fd < 0)
        return fd;
    void *addr = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct umem_msg m;
    int err = call(d, umem_enc_register(d->msg, sizeof d->msg, next_seq(d), (uintptr_t)addr, length, 0), fd,
                   UMEM_REGISTER, &m, NULL, 0, NULL);
    close(fd); /* the host holds its own copy; our mapping keeps the memory */
    if (err != 0) {
        munmap(addr, length);
        return err;
    }
    d->bufs[d->nbufs++] = (struct buffer){ m.u.register_reply.buffer, addr, length };
    *addrp = addr;
    *bufferp = m.u.register_reply.buffer;
    return 0;
}

int umem_unregister(umem_dev *d, uint64_t buffer)
{
    if (d == NULL)
        return -EINVAL;
    for (size_t i = 0; i < d->nbufs; i++) {
        if (d->bufs[i].id != buffer)
            continue;
        struct umem_msg m;
        int err = call(d, umem_enc_unregister(d->msg, sizeof d->msg, next_seq(d), buffer), -1, UMEM_UNREGISTER,
                       &m, NULL, 0, NULL);
        munmap(d->bufs[i].addr, d->bufs[i].length);
        d->bufs[i] = d->bufs[--d->nbufs];
        return err == -ENOTCONN ? 0 : err;
    }
    return -EBADF;
}

int umem_close(umem_dev *d)
{
    if (d == NULL)
        return 0;
    struct umem_msg m;
    int err = call(d, umem_enc_close(d->msg, sizeof d->msg, next_seq(d), d->handle), -1, UMEM_CLOSE, &m, NULL, 0,
                   NULL);
    fail(d, 0);
    for (size_t i = 0; i < d->nmaps; i++) {
        for (size_t j = 0; j < d->maps[i].nlive; j++)
            munmap(d->maps[i].base + d->maps[i].live[j].start, d->maps[i].live[j].end - d->maps[i].live[j].start);
        free(d->maps[i].live);
    }
    for (size_t i = 0; i < d->nbufs; i++)
        munmap(d->bufs[i].addr, d->bufs[i].length);
    free(d->maps);
    free(d->bufs);
    free(d);
    return err == -ENOTCONN ? 0 : err;
}
