/*
 * fake_host.c - the C client's test peer: a real process serving a real SEQPACKET socket with real sealed
 * memfds, following docs/protocol.md, for the device described in fake_host.h. It is not umemd and has no
 * drivers; its ioctls let a test look at the memory from the host's side and make the next reply malformed.
 *
 * usage: fake_host SOCKET_PATH [MAX_SECONDS]
 * Prints "ready" once it listens; serves each connection in a forked child; exits after MAX_SECONDS
 * (default 300) so a forgotten instance cannot linger.
 */
#define _GNU_SOURCE
#include "../umem_wire.h"
#include "fake_host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_HANDLES 16
#define MAX_MAPPINGS 64
#define MAX_BUFFERS 16
#define SCM_MAX 253

static size_t ps;              /* page size */
static uint8_t *dev;           /* the host's own mapping of the whole device */
static int page_fd[FH_SINGLE_PAGES];
static int big_fd, ro_fd;      /* ro_fd: an O_RDONLY reopen of the read-only region's memfd */

struct mapping {
    uint64_t id;
    uint64_t first;  /* first device page */
    uint32_t npages;
    uint8_t *live;   /* one byte per page */
};

struct buffer {
    uint64_t id;
    uint8_t *addr;
    size_t length;
    int fd;
};

static struct conn {
    int sock;
    int hello;
    uint32_t fault;
    uint32_t batch;
    uint64_t next_id;
    struct { uint64_t id; uint32_t oflags; } handles[MAX_HANDLES];
    int nhandles;
    struct mapping maps[MAX_MAPPINGS];
    int nmaps;
    struct buffer bufs[MAX_BUFFERS];
    int nbufs;
    uint64_t last_munmap[3], munmaps;
    int refuse_munmap;
} c;

static uint8_t out[UMEM_MAX_MESSAGE + 8192]; /* room for the oversized fault */
static uint32_t arm_fault;                    /* set by FH_FAULT */

static void die(const char *what)
{
    fprintf(stderr, "fake_host: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int sealed_memfd(size_t size)
{
    int fd = memfd_create("fake-host", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        die("memfd");
    return fd;
}

static void map_at(size_t page, size_t npages, int fd)
{
    if (mmap(dev + page * ps, npages * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
        die("mmap");
}

static void make_device(void)
{
    dev = mmap(NULL, FH_PAGES * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (dev == MAP_FAILED)
        die("reserve");
    for (int i = 0; i < FH_SINGLE_PAGES; i++) {
        page_fd[i] = sealed_memfd(ps);
        map_at((size_t)i, 1, page_fd[i]);
    }
    big_fd = sealed_memfd(FH_BIG_PAGES * ps);
    map_at(FH_BIG_FIRST, FH_BIG_PAGES, big_fd);
    int rw = sealed_memfd(FH_RO_PAGES * ps);
    map_at(FH_RO_FIRST, FH_RO_PAGES, rw);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", rw);
    ro_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ro_fd < 0)
        die("reopen read-only");
    close(rw);
}

/* Sends one message with fds, applying a pending generic fault. */
static void send_fds(uint8_t *buf, size_t len, const int *fds, size_t nfds)
{
    int all[SCM_MAX + 1];
    if (nfds > 0)
        memcpy(all, fds, nfds * sizeof(int));
    uint32_t f = c.fault;
    if (f != FH_FAULT_NONE && f < FH_FAULT_NSEG_OVERFLOW)
        c.fault = FH_FAULT_NONE;
    switch (f) {
    case FH_FAULT_MAGIC: buf[3] = 'N'; break;
    case FH_FAULT_SHORT: len = 10; break;
    case FH_FAULT_LENGTH: umem_put32(buf + 8, (uint32_t)len + 4); break;
    case FH_FAULT_SEQ: umem_put32(buf + 12, umem_get32(buf + 12) + 1); break;
    case FH_FAULT_TYPE: /* a well-formed reply of another type: a bare MUNMAP (or CLOSE) success */
        umem_put16(buf + 6, umem_get16(buf + 6) == (UMEM_MUNMAP | UMEM_REPLY_FLAG) ? UMEM_CLOSE | UMEM_REPLY_FLAG
                                                                              : UMEM_MUNMAP | UMEM_REPLY_FLAG);
        len = 20;
        umem_put32(buf + 8, 20);
        umem_put32(buf + 16, 0);
        break;
    case FH_FAULT_VERSION: umem_put16(buf + 4, 2); break;
    case FH_FAULT_ERROR_PAYLOAD:
        umem_put32(buf + 16, ENXIO);
        if (len < 28) {
            memset(buf + len, 0, 28 - len);
            len = 28;
        }
        umem_put32(buf + 8, (uint32_t)len);
        break;
    case FH_FAULT_STRAY_FD: all[nfds++] = page_fd[0]; break;
    case FH_FAULT_OVERSIZE:
        memset(buf + len, 0, 70000 - len);
        len = 70000;
        umem_put32(buf + 8, (uint32_t)len);
        break;
    case FH_FAULT_HANGUP: exit(0);
    default: break;
    }
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE((SCM_MAX + 1) * sizeof(int))];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), all, nfds * sizeof(int));
    }
    if (sendmsg(c.sock, &mh, MSG_NOSIGNAL) < 0)
        exit(0); /* the client went away (it closes the connection after a bad reply) */
}

static void send_reply(int len)
{
    if (len < 0) {
        fprintf(stderr, "fake_host: encoding a reply failed: %d\n", len);
        exit(1);
    }
    send_fds(out, (size_t)len, NULL, 0);
}

static void fail_reply(uint16_t type, uint32_t seq, int err)
{
    send_reply(umem_enc_error(out, sizeof out, type, seq, err));
}

static int find_handle(uint64_t id)
{
    for (int i = 0; i < c.nhandles; i++)
        if (c.handles[i].id == id)
            return i;
    return -1;
}

static struct mapping *find_mapping(uint64_t id)
{
    for (int i = 0; i < c.nmaps; i++)
        if (c.maps[i].id == id)
            return &c.maps[i];
    return NULL;
}

static struct buffer *find_buffer(uint64_t id)
{
    for (int i = 0; i < c.nbufs; i++)
        if (c.bufs[i].id == id)
            return &c.bufs[i];
    return NULL;
}

/* The segments for device pages [first, first+n): one per memfd the range touches. */
static uint32_t build_segments(uint64_t first, uint64_t n, struct umem_segment *segs, int *fds)
{
    uint32_t nseg = 0;
    for (uint64_t p = first; p < first + n;) {
        struct umem_segment *s = &segs[nseg];
        uint64_t end;
        s->offset = (p - first) * ps;
        s->fd_index = nseg;
        if (p < FH_SINGLE_PAGES) {
            end = p + 1;
            s->fd_offset = 0;
            s->maxprot = PROT_READ | PROT_WRITE;
            fds[nseg] = page_fd[p];
        } else if (p < FH_RO_FIRST) {
            end = first + n < FH_RO_FIRST ? first + n : FH_RO_FIRST;
            s->fd_offset = (p - FH_BIG_FIRST) * ps;
            s->maxprot = PROT_READ | PROT_WRITE;
            fds[nseg] = big_fd;
        } else {
            end = first + n;
            s->fd_offset = (p - FH_RO_FIRST) * ps;
            s->maxprot = PROT_READ;
            fds[nseg] = ro_fd;
        }
        s->length = (end - p) * ps;
        nseg++;
        p = end;
    }
    return nseg;
}

static void do_mmap(const struct umem_msg *m)
{
    static struct umem_segment segs[FH_PAGES];
    static int fds[FH_PAGES];
    uint64_t off = m->u.mmap.offset, len = m->u.mmap.length;
    uint32_t prot = m->u.mmap.prot, flags = m->u.mmap.flags;
    int h = find_handle(m->u.mmap.handle);
    if (h < 0)
        return fail_reply(UMEM_MMAP, m->seq, EBADF);
    if (len == 0 || off % ps || len % ps || (prot & ~7u) || (flags != MAP_SHARED && flags != MAP_PRIVATE))
        return fail_reply(UMEM_MMAP, m->seq, EINVAL);
    if (off / ps >= FH_PAGES || len / ps > FH_PAGES - off / ps)
        return fail_reply(UMEM_MMAP, m->seq, ENXIO); /* devmap(9E) finds no memory there */
    if (flags == MAP_SHARED && (prot & PROT_WRITE) && (c.handles[h].oflags & O_ACCMODE) == O_RDONLY)
        return fail_reply(UMEM_MMAP, m->seq, EACCES);
    uint32_t nseg = build_segments(off / ps, len / ps, segs, fds);
    for (uint32_t i = 0; i < nseg; i++)
        if (prot & ~segs[i].maxprot)
            return fail_reply(UMEM_MMAP, m->seq, EACCES);
    if (c.nmaps == MAX_MAPPINGS)
        return fail_reply(UMEM_MMAP, m->seq, ENOMEM);

    struct mapping *mp = &c.maps[c.nmaps++];
    mp->id = c.next_id++;
    mp->first = off / ps;
    mp->npages = (uint32_t)(len / ps);
    mp->live = malloc(mp->npages);
    if (mp->live == NULL)
        die("malloc");
    memset(mp->live, 1, mp->npages);

    uint32_t fault = c.fault >= FH_FAULT_NSEG_OVERFLOW ? c.fault : FH_FAULT_NONE;
    if (fault != FH_FAULT_NONE)
        c.fault = FH_FAULT_NONE;
    uint64_t reply_len = len;
    if (fault == FH_FAULT_SEG_GAP && nseg > 1)
        segs[1].offset += ps;
    if (fault == FH_FAULT_MAXPROT)
        segs[0].maxprot = 0;
    if (fault == FH_FAULT_REPLY_LENGTH) {
        reply_len += ps;
        segs[nseg - 1].length += ps;
    }
    if (fault == FH_FAULT_UNALIGNED)
        segs[0].fd_offset += 8;
    int n = umem_enc_mmap_reply(out, sizeof out, m->seq, mp->id, reply_len, nseg, segs);
    if (n < 0)
        return fail_reply(UMEM_MMAP, m->seq, ENOMEM); /* more than UMEM_MAX_SEGMENTS */
    if (fault == FH_FAULT_NSEG_OVERFLOW)
        umem_put32(out + 36, nseg + 0x08000000u);

    uint32_t sent = nseg < c.batch ? nseg : c.batch;
    send_fds(out, (size_t)n, fds, fault == FH_FAULT_NO_FDS ? 0 : sent);
    for (int more = 0; sent < nseg; more++) {
        uint32_t k = nseg - sent < c.batch ? nseg - sent : c.batch;
        uint32_t first = sent, count = k, seq = m->seq;
        if (more == 0 && fault == FH_FAULT_MORE_FIRST)
            first++;
        if (more == 0 && fault == FH_FAULT_MORE_COUNT)
            count++;
        if (more == 0 && fault == FH_FAULT_MORE_SEQ)
            seq++;
        send_fds(out, (size_t)umem_enc_mmap_more(out, sizeof out, seq, first, count), fds + sent, k);
        sent += k;
    }
}

/* MUNMAP; with the no-reply bit, a success sends nothing and a refusal is answered and closes (returns -1). */
static int do_munmap(const struct umem_msg *m)
{
    int noreply = (m->type & UMEM_NOREPLY_FLAG) != 0;
    struct mapping *mp = find_mapping(m->u.munmap.mapping);
    uint64_t off = m->u.munmap.offset, len = m->u.munmap.length;
    int err = 0;
    if (mp == NULL)
        err = EBADF;
    else if (len == 0 || off % ps || len % ps || off / ps >= mp->npages || len / ps > mp->npages - off / ps ||
             c.refuse_munmap)
        err = EINVAL;
    c.refuse_munmap = 0;
    if (err != 0) {
        fail_reply(UMEM_MUNMAP, m->seq, err);
        return noreply ? -1 : 0;
    }
    int alive = 0; /* pages of the range that are no longer mapped are skipped, as munmap(2) does */
    for (uint64_t p = 0; p < mp->npages; p++) {
        if (p >= off / ps && p < (off + len) / ps)
            mp->live[p] = 0;
        alive |= mp->live[p];
    }
    c.last_munmap[0] = mp->id;
    c.last_munmap[1] = off;
    c.last_munmap[2] = len;
    c.munmaps++;
    if (!alive) {
        free(mp->live);
        *mp = c.maps[--c.nmaps];
    }
    if (!noreply)
        send_reply(umem_enc_ok(out, sizeof out, UMEM_MUNMAP, m->seq));
    return 0;
}

/* The ioctls of fake_host.h. Returns an errno, or 0 with *out_len and *rval set. */
static int ioctl_cmd(uint32_t cmd, const uint8_t *in, uint32_t in_len, uint8_t *o, uint32_t out_max,
                     uint32_t *out_len, int32_t *rval)
{
    static const uint32_t need_in[FH_REFUSE_MUNMAP + 1] = { [FH_PEEK] = 8, [FH_POKE] = 16, [FH_FAIL] = 4, [FH_FAULT] = 4,
                                        [FH_BATCH] = 4, [FH_BUF_PEEK] = 16, [FH_BUF_POKE] = 24, [FH_BUF_SEALS] = 8 };
    static const uint32_t need_out[FH_REFUSE_MUNMAP + 1] = { [FH_PEEK] = 8, [FH_LAST_MUNMAP] = 32, [FH_BUF_PEEK] = 8,
                                         [FH_BUF_SEALS] = 4, [FH_MAPPINGS] = 8 };
    if (cmd < FH_ECHO || cmd > FH_REFUSE_MUNMAP)
        return ENOTTY;
    if (in_len < need_in[cmd] || out_max < need_out[cmd])
        return EINVAL;
    *out_len = need_out[cmd];
    *rval = 0;
    uint64_t a = in_len >= 8 ? umem_get64(in) : 0, b = in_len >= 16 ? umem_get64(in + 8) : 0;
    struct buffer *buf = find_buffer(a);
    switch (cmd) {
    case FH_ECHO:
        *out_len = in_len < out_max ? in_len : out_max;
        memcpy(o, in, *out_len);
        *rval = (int32_t)in_len;
        return 0;
    case FH_PEEK:
    case FH_POKE:
        if (a > FH_PAGES * ps - 8 || a % 8)
            return EINVAL;
        if (cmd == FH_PEEK)
            umem_put64(o, __atomic_load_n((uint64_t *)(dev + a), __ATOMIC_SEQ_CST));
        else
            __atomic_store_n((uint64_t *)(dev + a), b, __ATOMIC_SEQ_CST);
        return 0;
    case FH_LAST_MUNMAP:
        umem_put64(o, c.last_munmap[0]);
        umem_put64(o + 8, c.last_munmap[1]);
        umem_put64(o + 16, c.last_munmap[2]);
        umem_put64(o + 24, c.munmaps);
        return 0;
    case FH_FAIL:
        return (int)umem_get32(in);
    case FH_FAULT:
        if (umem_get32(in) >= FH_FAULT_COUNT)
            return EINVAL;
        arm_fault = umem_get32(in); /* armed once this reply is sent: it spoils the next one */
        return 0;
    case FH_BATCH:
        if (umem_get32(in) < 1 || umem_get32(in) > UMEM_MAX_FDS)
            return EINVAL;
        c.batch = umem_get32(in);
        return 0;
    case FH_BUF_PEEK:
    case FH_BUF_POKE:
        if (buf == NULL)
            return EBADF;
        if (b > buf->length - 8 || b % 8)
            return EINVAL;
        if (cmd == FH_BUF_PEEK)
            umem_put64(o, __atomic_load_n((uint64_t *)(buf->addr + b), __ATOMIC_SEQ_CST));
        else
            __atomic_store_n((uint64_t *)(buf->addr + b), umem_get64(in + 16), __ATOMIC_SEQ_CST);
        return 0;
    case FH_BUF_SEALS:
        if (buf == NULL)
            return EBADF;
        umem_put32(o, (uint32_t)fcntl(buf->fd, F_GET_SEALS));
        return 0;
    case FH_MAPPINGS: {
        uint32_t pages = 0;
        for (int i = 0; i < c.nmaps; i++)
            for (uint32_t p = 0; p < c.maps[i].npages; p++)
                pages += c.maps[i].live[p];
        umem_put32(o, (uint32_t)c.nmaps);
        umem_put32(o + 4, pages);
        return 0;
    }
    case FH_REFUSE_MUNMAP:
        c.refuse_munmap = 1;
        return 0;
    default:
        return ENOTTY;
    }
}

static void do_ioctl(const struct umem_msg *m)
{
    static uint8_t o[UMEM_IOCTL_MAX];
    uint32_t out_len = 0;
    int32_t rval = 0;
    if (find_handle(m->u.ioctl.handle) < 0)
        return fail_reply(UMEM_IOCTL, m->seq, EBADF);
    if (m->u.ioctl.in_len > UMEM_IOCTL_MAX || m->u.ioctl.out_max > UMEM_IOCTL_MAX)
        return fail_reply(UMEM_IOCTL, m->seq, EINVAL);
    arm_fault = FH_FAULT_NONE;
    int err = ioctl_cmd(m->u.ioctl.cmd, m->u.ioctl.in, m->u.ioctl.in_len, o, m->u.ioctl.out_max, &out_len, &rval);
    if (err < 0 || err > UMEM_MAX_ERRNO)
        err = EINVAL;
    if (err != 0)
        fail_reply(UMEM_IOCTL, m->seq, err);
    else
        send_reply(umem_enc_ioctl_reply(out, sizeof out, m->seq, rval, o, out_len));
    if (arm_fault != FH_FAULT_NONE)
        c.fault = arm_fault;
}

static void do_register(const struct umem_msg *m, int fd)
{
    uint64_t len = m->u.reg.length;
    if (m->u.reg.flags != 0 || len == 0 || len % ps || m->u.reg.address % ps)
        return fail_reply(UMEM_REGISTER, m->seq, EINVAL);
    int seals = fcntl(fd, F_GET_SEALS);
    off_t size = lseek(fd, 0, SEEK_END);
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || size < 0 || (uint64_t)size < len)
        return fail_reply(UMEM_REGISTER, m->seq, EINVAL); /* a buffer that could shrink under a lock */
    if (c.nbufs == MAX_BUFFERS)
        return fail_reply(UMEM_REGISTER, m->seq, ENOMEM);
    void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED)
        return fail_reply(UMEM_REGISTER, m->seq, errno);
    struct buffer *b = &c.bufs[c.nbufs++];
    *b = (struct buffer){ c.next_id++, addr, len, dup(fd) };
    send_reply(umem_enc_register_reply(out, sizeof out, m->seq, b->id));
}

static void do_unregister(const struct umem_msg *m)
{
    struct buffer *b = find_buffer(m->u.unregister.buffer);
    if (b == NULL)
        return fail_reply(UMEM_UNREGISTER, m->seq, EBADF);
    munmap(b->addr, b->length);
    close(b->fd);
    *b = c.bufs[--c.nbufs];
    send_reply(umem_enc_ok(out, sizeof out, UMEM_UNREGISTER, m->seq));
}

/* One request; returns 0 to go on, -1 to close the connection. */
static int serve_one(const uint8_t *buf, size_t n, int *fds, size_t nfds)
{
    struct umem_msg m;
    int err = umem_decode(buf, n, &m);
    uint16_t type = n >= 8 ? (uint16_t)(umem_get16(buf + 6) & ~UMEM_REPLY_FLAG) : 0;
    uint32_t seq = n >= 16 ? umem_get32(buf + 12) : 0;
    if (err == 0 && (m.type & UMEM_REPLY_FLAG))
        err = -EPROTO;
    if (err == 0 && !c.hello && m.type != UMEM_HELLO)
        err = -EPROTO;
    int fd = -1;
    if (err == 0 && m.type == UMEM_REGISTER) {
        if (nfds != 1)
            err = -EBADMSG;
        else
            fd = fds[0];
    }
    if (err != 0) {
        fail_reply(type, seq, -err);
        return -1;
    }
    switch (m.type) {
    case UMEM_HELLO:
        if (m.u.hello.min_version > UMEM_VERSION || m.u.hello.max_version < UMEM_VERSION) {
            fail_reply(UMEM_HELLO, m.seq, EPROTONOSUPPORT);
            return -1;
        }
        c.hello = 1;
        send_reply(umem_enc_hello_reply(out, sizeof out, m.seq, UMEM_VERSION, (uint32_t)ps, UMEM_MAX_MESSAGE,
                                        UMEM_MAX_FDS));
        break;
    case UMEM_OPEN:
        if (m.u.open.oflags > O_RDWR)
            fail_reply(UMEM_OPEN, m.seq, EINVAL);
        else if (c.nhandles == MAX_HANDLES)
            fail_reply(UMEM_OPEN, m.seq, EMFILE);
        else {
            c.handles[c.nhandles].id = c.next_id++;
            c.handles[c.nhandles].oflags = m.u.open.oflags;
            send_reply(umem_enc_open_reply(out, sizeof out, m.seq, c.handles[c.nhandles++].id));
        }
        break;
    case UMEM_CLOSE: {
        int h = find_handle(m.u.close.handle);
        if (h < 0) {
            fail_reply(UMEM_CLOSE, m.seq, EBADF);
            break;
        }
        c.handles[h] = c.handles[--c.nhandles];
        send_reply(umem_enc_ok(out, sizeof out, UMEM_CLOSE, m.seq));
        break;
    }
    case UMEM_MMAP: do_mmap(&m); break;
    case UMEM_MUNMAP:
    case UMEM_MUNMAP | UMEM_NOREPLY_FLAG: return do_munmap(&m);
    case UMEM_IOCTL: do_ioctl(&m); break;
    case UMEM_REGISTER: do_register(&m, fd); break;
    case UMEM_UNREGISTER: do_unregister(&m); break;
    default: break;
    }
    return 0;
}

static void serve(int sock)
{
    static uint8_t buf[UMEM_MAX_MESSAGE];
    c = (struct conn){ .sock = sock, .batch = UMEM_MAX_FDS, .next_id = 0x1000 };
    for (;;) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(SCM_MAX * sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
            return;
        int fds[SCM_MAX];
        size_t nfds = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfds < SCM_MAX; i++)
                    memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        int go_on;
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            fail_reply(n >= 8 ? (uint16_t)(umem_get16(buf + 6) & ~UMEM_REPLY_FLAG) : 0,
                       n >= 16 ? umem_get32(buf + 12) : 0, EMSGSIZE);
            go_on = -1;
        } else {
            go_on = serve_one(buf, (size_t)n, fds, nfds);
        }
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]); /* unexpected fds, and REGISTER's (the host keeps a dup) */
        if (go_on < 0)
            return;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: fake_host SOCKET_PATH [MAX_SECONDS]\n");
        return 2;
    }
    ps = (size_t)sysconf(_SC_PAGESIZE);
    make_device();
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof sa.sun_path) {
        fprintf(stderr, "fake_host: socket path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    int ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 64) < 0)
        die("listen");
    struct sigaction sa_chld = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
    sigaction(SIGCHLD, &sa_chld, NULL); /* children reap themselves */
    alarm(argc == 3 ? (unsigned)atoi(argv[2]) : 300);
    pid_t parent = getpid();
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0) {
            if (errno == EINTR)
                continue;
            die("accept");
        }
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            close(ls);
            serve(s);
            _exit(0);
        }
        close(s);
    }
}
