/*
 * umem.c - the I/O half of the Umem C client (see umem.h): the SEQPACKET connection, fd passing, and the
 * local side of every mapping. Message bytes are built and checked by umem_wire.c.
 *
 * Failures come in two kinds. An errno the host answered (-ENXIO, -EACCES, ...) leaves the connection as it
 * was. Anything that breaks the request/reply pairing (a malformed or unexpected reply, wrong fds, a lost
 * connection) closes the connection at once (fail()), since no later reply could be trusted, and closes
 * every fd that arrived with the bad message.
 *
 * Two local failures keep the connection: an MMAP whose fds cannot all be received (RLIMIT_NOFILE; fd_room
 * checks first, and the kernel's MSG_CTRUNC is handled too) or cannot be mapped. The rest of the reply is then
 * read and its fds closed, so the stream stays in step, and the host is told to forget the mapping.
 *
 * MUNMAPs that nobody could act on an error of (a mapping's last range, a failed MMAP) go with the no-reply bit
 * (docs/protocol.md): one message instead of a round trip. A refusal is then the host's last message, and it
 * arrives where the reply to a later request was expected; receive() recognises it by its seq and reports the
 * connection lost (-ECONNRESET).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 /* fd_offset is 64-bit; so is off_t in 32-bit builds */

#include "umem.h"
#include "umem_internal.h"
#include "umem_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
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
    uint16_t version; /* negotiated by HELLO */
    uint32_t seq;
    int noreply;           /* no-reply MUNMAPs were sent since the last reply: the first had seq noreply_seq */
    uint32_t noreply_seq;
    uint32_t poll_seq;     /* the POLL whose EVENT is awaited (poll_armed), docs/protocol.md POLL */
    int poll_armed;
    uint16_t poll_revents; /* that EVENT's events, once it came (read while waiting for another reply) */
    size_t page_size;
    struct mapping *maps;
    size_t nmaps, maps_cap;
    struct buffer *bufs;
    size_t nbufs, bufs_cap;
    uint8_t msg[UMEM_MAX_MESSAGE]; /* one request or reply at a time */
    int fds[SCM_MAX_FDS];          /* one message's fds, until the segments that use them are mapped */
    struct umem_segment segs[UMEM_MAX_SEGMENTS]; /* an MMAP reply's segments, copied out of msg */
};

/*
 * Closes fds. A message's fds are usually consecutive numbers (the kernel installs them lowest-free first, in
 * order): then one close_range(2) closes them all, where the kernel has it (5.9; ENOSYS before, and under
 * emulators that lack it), instead of one close per segment.
 */
static void close_fds(const int *fds, size_t n)
{
#ifdef SYS_close_range
    size_t k = 1;
    while (k < n && fds[k] == fds[0] + (int)k)
        k++;
    if (n > 1 && k == n && syscall(SYS_close_range, (unsigned)fds[0], (unsigned)fds[n - 1], 0u) == 0)
        return;
#endif
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

/*
 * A refusal of a no-reply MUNMAP sent before request `seq`: the host's last message on the connection
 * (docs/protocol.md), read where the reply to a later request was expected.
 */
static int is_refused_noreply(const umem_dev *d, const struct umem_msg *m, uint32_t seq)
{
    return d->noreply && m->type == (UMEM_MUNMAP | UMEM_REPLY_FLAG) && m->error != 0 &&
           m->seq - d->noreply_seq < seq - d->noreply_seq; /* in [noreply_seq, seq), modulo 2^32 */
}

/*
 * After a send failed because the host closed the connection: is the reason a refusal of a no-reply MUNMAP,
 * still queued on our side? (Read without waiting; the connection is being closed anyway.)
 */
static int refusal_queued(umem_dev *d)
{
    uint8_t buf[64];
    struct umem_msg m;
    ssize_t n = recv(d->sock, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 && umem_decode(buf, (size_t)n, &m) == 0 && is_refused_noreply(d, &m, d->seq);
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
    if (n < 0) {
        int err = -errno; /* EPIPE: the host had closed; after refusing a no-reply MUNMAP, say so as receive() does */
        return fail(d, d->noreply && (err == -EPIPE || err == -ECONNRESET) && refusal_queued(d) ? -ECONNRESET : err);
    }
    return n == (ssize_t)len ? 0 : fail(d, -EMSGSIZE);
}

/*
 * Receives one message into buf and the fds that came with it into fds (at most max_fds; more is a
 * protocol failure). Returns the message length or a negative errno; on failure no fd is left open.
 * Fds the kernel dropped (MSG_CTRUNC: no room under RLIMIT_NOFILE) set *ctrunc instead of failing: the
 * bytes are whole, so the caller can still read the message and keep the stream in step.
 */
static int recv_msg(umem_dev *d, uint8_t *buf, size_t cap, int *fds, size_t max_fds, size_t *nfds, int *ctrunc)
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
    if (n == 0 || (mh.msg_flags & MSG_TRUNC) || ngot > max_fds) {
        close_fds(got, ngot);
        return fail(d, n == 0 ? -ECONNRESET : -EBADMSG);
    }
    *ctrunc = (mh.msg_flags & MSG_CTRUNC) != 0;
    if (ngot > 0)
        memcpy(fds, got, ngot * sizeof(int));
    *nfds = ngot;
    return (int)n;
}

/* An EVENT arrived: it ends the armed poll it names (by seq); stale ones (replaced polls) are dropped. Returns 1. */
static int note_event(umem_dev *d, const struct umem_msg *m)
{
    if (d->poll_armed && m->seq == d->poll_seq && m->u.event.handle == d->handle) {
        d->poll_revents = m->u.event.revents;
        d->poll_armed = 0;
    }
    return 1;
}

/*
 * Receives the next message, which must be a well-formed reply of `type` to request `seq`. Host errnos
 * come back as -errno (with the connection intact); fds are only accepted when `fds` has room for them,
 * and dropped ones only when `ctrunc` is not NULL (see recv_msg).
 */
static int receive(umem_dev *d, uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, struct umem_msg *m,
                   int *fds, size_t max_fds, size_t *nfds, int *ctrunc)
{
    size_t n_fds = 0;
    int dropped = 0;
    int n, err;
    do { /* EVENTs may come before any reply (never inside one): noted, and the reply is read next */
        n = recv_msg(d, buf, cap, fds, max_fds, &n_fds, &dropped);
        if (n < 0)
            return n;
        err = umem_decode(buf, (size_t)n, m);
    } while (err == 0 && m->type == (UMEM_EVENT | UMEM_REPLY_FLAG) && n_fds == 0 && !dropped && note_event(d, m));
    if (err == 0 && (m->type != (type | UMEM_REPLY_FLAG) || m->seq != seq))
        err = is_refused_noreply(d, m, seq) ? -ECONNRESET : -EPROTO;
    if (err == 0 && m->error != 0 && (n_fds > 0 || dropped))
        err = -EBADMSG; /* a failed reply carries no memory */
    if (err == 0 && dropped && ctrunc == NULL)
        err = -EBADMSG;
    if (err != 0) {
        close_fds(fds, n_fds);
        return fail(d, err);
    }
    d->noreply = 0; /* the host answers in order: every earlier message was done without complaint */
    if (nfds != NULL)
        *nfds = n_fds;
    if (ctrunc != NULL)
        *ctrunc = dropped;
    return -m->error;
}

/* Sends the request in d->msg (len bytes, as encoded: negative is an encoder error) and receives its reply. */
static int call(umem_dev *d, int len, int send_fd, uint16_t type, struct umem_msg *m)
{
    if (d->sock < 0)
        return -ENOTCONN;
    if (len < 0)
        return len;
    int err = send_msg(d, d->msg, (size_t)len, send_fd);
    if (err != 0)
        return err;
    return receive(d, d->msg, sizeof d->msg, type, d->seq, m, NULL, 0, NULL, NULL);
}

/*
 * Tells the host to forget [offset, offset+length) of a mapping, with the no-reply bit: used where the local
 * range is already gone and nobody could act on an error. A lost connection already made the host forget.
 */
static void send_forget(umem_dev *d, uint64_t mapping, uint64_t offset, uint64_t length)
{
    if (d->sock < 0)
        return;
    uint32_t seq = next_seq(d);
    int len = umem_enc_munmap_noreply(d->msg, sizeof d->msg, seq, mapping, offset, length);
    if (len > 0 && send_msg(d, d->msg, (size_t)len, -1) == 0 && !d->noreply) {
        d->noreply = 1;
        d->noreply_seq = seq;
    }
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
    int err = call(d, umem_enc_hello(d->msg, sizeof d->msg, next_seq(d), UMEM_MIN_VERSION, UMEM_VERSION),
                   -1, UMEM_HELLO, &m);
    if (err == 0 && (m.u.hello_reply.version < UMEM_MIN_VERSION || m.u.hello_reply.version > UMEM_VERSION))
        err = fail(d, -EBADMSG); /* the host answered a version we did not offer */
    if (err == 0 && m.u.hello_reply.page_size != d->page_size)
        err = fail(d, -EPROTO); /* segments would not fall on our page boundaries */
    if (err == 0) {
        d->version = m.u.hello_reply.version;
        err = call(d, umem_enc_open(d->msg, sizeof d->msg, next_seq(d), (uint32_t)oflags), -1, UMEM_OPEN, &m);
    }
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
 * Makes room for `need` fds before a reply brings them: the kernel drops the fds of an SCM_RIGHTS message that
 * do not fit under the soft RLIMIT_NOFILE (MSG_CTRUNC). Fds are numbered lowest-free first, so the lowest
 * free one bounds what is open below it; when it plus `need` passes the soft limit, the soft limit is raised
 * to the hard one, and past the hard one the map fails with -EMFILE before anything is asked. (Open fds above
 * the lowest free one still count against the limit: the kernel's MSG_CTRUNC covers that case.)
 */
static int fd_room(umem_dev *d, size_t need)
{
    int low = fcntl(d->sock, F_DUPFD_CLOEXEC, 0);
    if (low < 0)
        return -errno; /* EMFILE: not even one */
    close(low);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    rlim_t want = (rlim_t)low + need;
    if (rl.rlim_cur == RLIM_INFINITY || want <= rl.rlim_cur)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
        return -EMFILE;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY ? rl.rlim_max : want; /* once, as umemd and .NET do at start */
    return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

/* An MMAP being received: where its segments go, and the first local failure, after which nothing is mapped. */
struct grant {
    const struct umem_segment *segs;
    uint32_t nseg;
    size_t length;
    int prot, flags; /* for mmap(2): MAP_SHARED or MAP_PRIVATE, maybe with MAP_POPULATE */
    uint8_t *base;   /* the reserved range; NULL until the first segment is mapped */
    int err;
};

/*
 * Maps the segments whose fds are fds[0..n) (the reply's fds first..first+n-1) and closes those fds: a reply's
 * fds are never all open at once. One segment is mapped where the kernel likes; more go MAP_FIXED into one
 * reserved range. After a failure (g->err) the fds are only closed.
 */
static void map_batch(struct grant *g, uint32_t first, const int *fds, size_t n)
{
    if (g->err == 0 && g->nseg == 1) {
        void *p = mmap(NULL, g->length, g->prot, g->flags, fds[0], (off_t)g->segs[0].fd_offset);
        if (p == MAP_FAILED)
            g->err = -errno;
        else
            g->base = p;
    } else if (g->err == 0 && g->base == NULL) {
        void *p = mmap(NULL, g->length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            g->err = -errno;
        else
            g->base = p;
    }
    for (uint32_t i = 0; i < g->nseg && g->err == 0 && g->nseg > 1; i++) {
        const struct umem_segment *s = &g->segs[i];
        if (s->fd_index < first || s->fd_index - first >= n)
            continue;
        void *at = g->base + s->offset;
        if (mmap(at, (size_t)s->length, g->prot, g->flags | MAP_FIXED, fds[s->fd_index - first],
                 (off_t)s->fd_offset) == MAP_FAILED)
            g->err = -errno;
    }
    close_fds(fds, n); /* the mappings keep the memory */
}

/*
 * The fds of one message arrived (n of them, `dropped` if the kernel could not give us all): map what they
 * carry, or after a local failure just close them.
 */
static void take_batch(struct grant *g, uint32_t first, const int *fds, size_t n, int dropped)
{
    if (dropped && g->err == 0)
        g->err = -EMFILE;
    map_batch(g, first, fds, n);
}

/*
 * Receives the MMAP_MORE continuations until all nseg fds have come (`sent` so far): each carries the next
 * `count` fds, in order, and its segments are mapped as they come. Protocol failures end the connection;
 * local ones (g->err) do not stop the receiving, so the stream stays in step.
 */
static int receive_more(umem_dev *d, uint32_t seq, struct grant *g, size_t sent)
{
    while (sent < g->nseg) {
        uint8_t buf[64];
        struct umem_msg m;
        size_t n = 0, room = g->nseg - sent < UMEM_MAX_FDS ? g->nseg - sent : UMEM_MAX_FDS;
        int dropped = 0;
        int err = receive(d, buf, sizeof buf, UMEM_MMAP_MORE, seq, &m, d->fds, room, &n, &dropped);
        if (err == 0 && (m.u.mmap_more.first != sent || m.u.mmap_more.count == 0 || m.u.mmap_more.count > room ||
                         (dropped ? n >= m.u.mmap_more.count : n != m.u.mmap_more.count))) {
            close_fds(d->fds, n);
            err = fail(d, -EBADMSG);
        }
        if (err != 0)
            return err;
        take_batch(g, (uint32_t)sent, d->fds, n, dropped);
        sent += m.u.mmap_more.count;
    }
    return 0;
}

int umem_mmap(umem_dev *d, uint64_t offset, size_t length, int prot, int flags, void **addrp,
              uint64_t *mappingp)
{
    int kind = flags & ~MAP_POPULATE;
    if (d == NULL || addrp == NULL || length == 0 || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0 ||
        (kind != MAP_SHARED && kind != MAP_PRIVATE))
        return -EINVAL;
    if (d->sock < 0)
        return -ENOTCONN;
    struct range *live = malloc(sizeof *live);
    if (live == NULL || reserve((void **)&d->maps, &d->maps_cap, d->nmaps, sizeof *d->maps) != 0) {
        free(live);
        return -ENOMEM;
    }
    /* The most fds one message of the reply can bring: one per page, UMEM_MAX_FDS at most. (One fd needs
     * no check: without room for it the kernel's MSG_CTRUNC says so, and the map fails with -EMFILE.) */
    size_t pages = length / d->page_size + (length % d->page_size != 0);
    int err = pages > 1 ? fd_room(d, pages < UMEM_MAX_FDS ? pages : UMEM_MAX_FDS) : 0;
    if (err != 0) {
        free(live);
        return err;
    }

    struct umem_msg m;
    size_t nfds = 0;
    int dropped = 0;
    uint32_t seq = next_seq(d);
    int len = umem_enc_mmap(d->msg, sizeof d->msg, seq, d->handle, offset, length, (uint32_t)prot,
                            (uint32_t)kind);
    err = len < 0 ? len : send_msg(d, d->msg, (size_t)len, -1);
    if (err == 0)
        err = receive(d, d->msg, sizeof d->msg, UMEM_MMAP, seq, &m, d->fds, UMEM_MAX_FDS, &nfds, &dropped);
    uint32_t nseg = err == 0 ? m.u.mmap_reply.nseg : 0;
    if (err == 0) {
        err = check_mmap_reply(d, &m, length, prot);
        if (err == 0 && !dropped && (nfds == 0 || nfds > nseg))
            err = -EBADMSG;
        if (err != 0) {
            close_fds(d->fds, nfds);
            err = fail(d, err);
        }
    }
    if (err != 0) {
        free(live);
        return err;
    }

    for (uint32_t i = 0; i < nseg; i++) /* d->msg is reused below; keep the segments */
        umem_segment_at(&m, i, &d->segs[i]);
    uint64_t id = m.u.mmap_reply.mapping;
    struct grant g = { d->segs, nseg, length, prot, flags, NULL, 0 };
    /* With fds dropped, the host still sent the protocol's number: the first UMEM_MAX_FDS. */
    size_t sent = dropped ? (nseg < UMEM_MAX_FDS ? nseg : UMEM_MAX_FDS) : nfds;
    take_batch(&g, 0, d->fds, nfds, dropped);
    err = receive_more(d, seq, &g, sent);
    if (err == 0)
        err = g.err;
    if (err != 0) {
        if (g.base != NULL)
            munmap(g.base, length);
        if (g.err != 0)
            send_forget(d, id, 0, length); /* mapped nothing here: the host must forget it too */
        free(live);
        return err;
    }
    live[0] = (struct range){ 0, length };
    d->maps[d->nmaps++] = (struct mapping){ g.base, length, id, live, 1 };
    *addrp = g.base;
    if (mappingp != NULL)
        *mappingp = id;
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

    if (off <= mp->live[0].start && end >= mp->live[mp->nlive - 1].end) {
        /* Nothing of the mapping is left: the host forgets all of it (skipping the holes), without a reply,
         * since the range is gone here and munmap(2) has nothing to report that the caller could act on. */
        for (size_t i = 0; i < mp->nlive; i++)
            munmap(mp->base + mp->live[i].start, mp->live[i].end - mp->live[i].start);
        send_forget(d, mp->id, 0, mp->length);
        drop_mapping(d, mp);
        return 0;
    }

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
                               UMEM_MUNMAP, &m);
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
                   -1, UMEM_IOCTL, &m);
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

/* READ or WRITE (version 2): at most UMEM_IO_MAX bytes; offset < 0 is the file offset. */
static int transfer(umem_dev *d, uint16_t type, void *buf, size_t len, int64_t offset, int flags, size_t *done)
{
    if (d == NULL || (buf == NULL && len > 0) || (flags & ~UMEM_NONBLOCK) != 0)
        return -EINVAL;
    if (d->sock >= 0 && d->version < 2)
        return -ENOTSUP; /* the host speaks version 1: no READ or WRITE */
    uint32_t n = len < UMEM_IO_MAX ? (uint32_t)len : UMEM_IO_MAX;
    uint32_t wflags = (offset >= 0 ? UMEM_IO_AT_OFFSET : 0) | ((flags & UMEM_NONBLOCK) ? UMEM_IO_NONBLOCK : 0);
    struct umem_msg m;
    int err = call(d, umem_enc_io(d->msg, sizeof d->msg, type, next_seq(d), d->handle, offset >= 0 ? (uint64_t)offset : 0,
                                  n, wflags, buf),
                   -1, type, &m);
    if (err != 0)
        return err;
    if (m.u.io_reply.count > n)
        return fail(d, -EBADMSG);
    if (type == UMEM_READ && m.u.io_reply.count > 0)
        memcpy(buf, m.u.io_reply.data, m.u.io_reply.count);
    if (done != NULL)
        *done = m.u.io_reply.count;
    return 0;
}

int umem_read(umem_dev *d, void *buf, size_t len, int64_t offset, int flags, size_t *done)
{
    return transfer(d, UMEM_READ, buf, len, offset, flags, done);
}

int umem_write(umem_dev *d, const void *buf, size_t len, int64_t offset, int flags, size_t *done)
{
    return transfer(d, UMEM_WRITE, (void *)buf, len, offset, flags, done);
}

int umem_poll_arm(umem_dev *d, short events, int flags, short *revents)
{
    if (d == NULL || revents == NULL || ((uint16_t)events & ~UMEM_POLL_EVENTS) != 0)
        return -EINVAL;
    if (d->sock >= 0 && d->version < 3)
        return -ENOTSUP; /* the host speaks version 1 or 2: no POLL */
    struct umem_msg m;
    uint32_t seq = next_seq(d);
    int err = call(d, umem_enc_poll(d->msg, sizeof d->msg, seq, d->handle, (uint16_t)events, (uint16_t)flags), -1,
                   UMEM_POLL, &m);
    if (err != 0)
        return err;
    d->poll_armed = m.u.poll_reply.armed; /* this POLL replaced any earlier one */
    d->poll_seq = seq;
    d->poll_revents = 0;
    *revents = (short)m.u.poll_reply.revents;
    return 0;
}

int umem_poll_take(umem_dev *d, short *revents)
{
    uint8_t buf[64];
    struct umem_msg m;
    *revents = 0;
    while (d->poll_armed && d->sock >= 0) {
        ssize_t n = recv(d->sock, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0 || umem_decode(buf, (size_t)n, &m) != 0 || m.type != (UMEM_EVENT | UMEM_REPLY_FLAG))
            return fail(d, n < 0 ? -errno : -ECONNRESET); /* only an EVENT comes unasked: anything else ends it */
        note_event(d, &m);
    }
    if (d->sock < 0)
        return -ECONNRESET;
    *revents = (short)d->poll_revents;
    d->poll_revents = 0;
    return 0;
}

int umem_socket(const umem_dev *d)
{
    return d->sock;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int umem_poll(umem_dev *d, short events, int timeout_ms, short *revents)
{
    if (d == NULL || revents == NULL)
        return -EINVAL;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        int err = umem_poll_arm(d, events, timeout_ms != 0 ? UMEM_POLL_ARM : 0, revents);
        if (err != 0 || *revents != 0 || timeout_ms == 0)
            return err;
        int left = deadline < 0 ? -1 : (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0);
        if (left == 0)
            return 0;
        /* Not armed (a driver without a pollhead): nothing will come but the host's end; wait out the timeout. */
        struct pollfd p = { .fd = d->sock, .events = POLLIN };
        int n = poll(&p, 1, left);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0 && (err = umem_poll_take(d, revents)) != 0)
            return err;
        /* Woken (or not): the next POLL asks chpoll(9E) what is ready now, and arms again if nothing is. */
    }
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
                   UMEM_REGISTER, &m);
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
                       &m);
        munmap(d->bufs[i].addr, d->bufs[i].length);
        d->bufs[i] = d->bufs[--d->nbufs];
        return err == -ENOTCONN ? 0 : err;
    }
    return -EBADF;
}

int umem_fork_prepare(umem_dev *d, uint64_t mapping, uint8_t token[UMEM_FORK_TOKEN_SIZE])
{
    if (d == NULL || token == NULL || umem_mapped_bytes(d, mapping) == 0)
        return -EINVAL;
    if (d->version < 3)
        return -ENOTSUP;
    struct umem_msg m;
    int err = call(d, umem_enc_dup_prepare(d->msg, sizeof d->msg, next_seq(d), mapping), -1, UMEM_DUP_PREPARE, &m);
    if (err == 0)
        memcpy(token, m.u.dup_prepare_reply.token, UMEM_FORK_TOKEN_SIZE);
    return err;
}

int umem_inherit(umem_dev *d, const uint8_t token[UMEM_FORK_TOKEN_SIZE], void *addr, size_t length,
                 uint64_t *mappingp)
{
    if (d == NULL || token == NULL || length == 0 || (uintptr_t)addr % d->page_size != 0 ||
        length % d->page_size != 0 || find_mapping(d, (uintptr_t)addr, length) != NULL)
        return -EINVAL;
    if (d->version < 3)
        return -ENOTSUP;
    struct range *live = malloc(sizeof *live);
    if (live == NULL || reserve((void **)&d->maps, &d->maps_cap, d->nmaps + 1, sizeof *d->maps) != 0) {
        free(live);
        return -ENOMEM;
    }
    struct umem_msg m;
    int err = call(d, umem_enc_inherit(d->msg, sizeof d->msg, next_seq(d), d->handle, token), -1, UMEM_INHERIT, &m);
    if (err == 0 && m.u.inherit_reply.length != length)
        err = fail(d, -EBADMSG); /* the host's mapping is not the one at addr */
    if (err != 0) {
        free(live);
        return err;
    }
    live[0] = (struct range){ 0, length };
    d->maps[d->nmaps++] = (struct mapping){ addr, length, m.u.inherit_reply.mapping, live, 1 };
    if (mappingp != NULL)
        *mappingp = m.u.inherit_reply.mapping;
    return 0;
}

int umem_close(umem_dev *d)
{
    if (d == NULL)
        return 0;
    struct umem_msg m;
    int err = call(d, umem_enc_close(d->msg, sizeof d->msg, next_seq(d), d->handle), -1, UMEM_CLOSE, &m);
    for (size_t i = 0; i < d->nmaps; i++)
        for (size_t j = 0; j < d->maps[i].nlive; j++)
            munmap(d->maps[i].base + d->maps[i].live[j].start, d->maps[i].live[j].end - d->maps[i].live[j].start);
    for (size_t i = 0; i < d->nbufs; i++)
        munmap(d->bufs[i].addr, d->bufs[i].length);
    umem_abandon(d); /* what is left: the connection and the records */
    return err == -ENOTCONN ? 0 : err;
}

size_t umem_mapped_bytes(const umem_dev *d, uint64_t mapping)
{
    for (size_t i = 0; d != NULL && i < d->nmaps; i++) {
        if (d->maps[i].id != mapping)
            continue;
        size_t n = 0;
        for (size_t j = 0; j < d->maps[i].nlive; j++)
            n += d->maps[i].live[j].end - d->maps[i].live[j].start;
        return n;
    }
    return 0;
}

void umem_abandon(umem_dev *d)
{
    if (d == NULL)
        return;
    fail(d, 0);
    for (size_t i = 0; i < d->nmaps; i++)
        free(d->maps[i].live);
    free(d->maps);
    free(d->bufs);
    free(d);
}
