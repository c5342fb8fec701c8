/* umem_wire.c - encoders and the decoder of the Umem wire protocol v1 (docs/protocol.md). */
#include "umem_wire.h"

#include <errno.h>
#include <string.h>

#define PROT_BITS 7u /* PROT_READ | PROT_WRITE | PROT_EXEC */

void umem_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void umem_put32(uint8_t *p, uint32_t v)
{
    umem_put16(p, (uint16_t)v);
    umem_put16(p + 2, (uint16_t)(v >> 16));
}

void umem_put64(uint8_t *p, uint64_t v)
{
    umem_put32(p, (uint32_t)v);
    umem_put32(p + 4, (uint32_t)(v >> 32));
}

uint16_t umem_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t umem_get32(const uint8_t *p)
{
    return (uint32_t)umem_get16(p) | ((uint32_t)umem_get16(p + 2) << 16);
}

uint64_t umem_get64(const uint8_t *p)
{
    return (uint64_t)umem_get32(p) | ((uint64_t)umem_get32(p + 4) << 32);
}

/* Writes the header of a `len`-byte message; -EMSGSIZE if it does not fit in `cap` or in the protocol. */
static int header(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, size_t len)
{
    if (len > cap || len > UMEM_MAX_MESSAGE)
        return -EMSGSIZE;
    umem_put32(buf, UMEM_MAGIC);
    umem_put16(buf + 4, UMEM_HEADER_VERSION);
    umem_put16(buf + 6, type);
    umem_put32(buf + 8, (uint32_t)len);
    umem_put32(buf + 12, seq);
    memset(buf + UMEM_HEADER_SIZE, 0, len - UMEM_HEADER_SIZE); /* reserved fields are 0 */
    return (int)len;
}

/* A reply header followed by errno; payload bytes after it. */
static int reply(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, size_t payload, int32_t error)
{
    int n = header(buf, cap, (uint16_t)(type | UMEM_REPLY_FLAG), seq, UMEM_HEADER_SIZE + 4 + payload);
    if (n > 0)
        umem_put32(buf + 16, (uint32_t)error);
    return n;
}

int umem_enc_hello(uint8_t *buf, size_t cap, uint32_t seq, uint16_t min_version, uint16_t max_version)
{
    int n = header(buf, cap, UMEM_HELLO, seq, 24);
    if (n > 0) {
        umem_put16(buf + 16, min_version);
        umem_put16(buf + 18, max_version);
    }
    return n;
}

int umem_enc_open(uint8_t *buf, size_t cap, uint32_t seq, uint32_t oflags)
{
    int n = header(buf, cap, UMEM_OPEN, seq, 24);
    if (n > 0)
        umem_put32(buf + 16, oflags);
    return n;
}

/* A request whose payload is one u64 (CLOSE, UNREGISTER). */
static int enc_u64(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint64_t v)
{
    int n = header(buf, cap, type, seq, 24);
    if (n > 0)
        umem_put64(buf + 16, v);
    return n;
}

int umem_enc_close(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle)
{
    return enc_u64(buf, cap, UMEM_CLOSE, seq, handle);
}

int umem_enc_dup_prepare(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping)
{
    return enc_u64(buf, cap, UMEM_DUP_PREPARE, seq, mapping);
}

int umem_enc_inherit(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, const uint8_t token[UMEM_TOKEN_SIZE])
{
    int n = header(buf, cap, UMEM_INHERIT, seq, 16 + 8 + UMEM_TOKEN_SIZE);
    if (n > 0) {
        umem_put64(buf + 16, handle);
        memcpy(buf + 24, token, UMEM_TOKEN_SIZE);
    }
    return n;
}

int umem_enc_mmap(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint64_t offset, uint64_t length,
                  uint32_t prot, uint32_t flags)
{
    int n = header(buf, cap, UMEM_MMAP, seq, 48);
    if (n > 0) {
        umem_put64(buf + 16, handle);
        umem_put64(buf + 24, offset);
        umem_put64(buf + 32, length);
        umem_put32(buf + 40, prot);
        umem_put32(buf + 44, flags);
    }
    return n;
}

static int enc_munmap(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint64_t mapping, uint64_t offset,
                      uint64_t length)
{
    int n = header(buf, cap, type, seq, 40);
    if (n > 0) {
        umem_put64(buf + 16, mapping);
        umem_put64(buf + 24, offset);
        umem_put64(buf + 32, length);
    }
    return n;
}

int umem_enc_munmap(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t offset, uint64_t length)
{
    return enc_munmap(buf, cap, UMEM_MUNMAP, seq, mapping, offset, length);
}

int umem_enc_munmap_noreply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t offset,
                            uint64_t length)
{
    return enc_munmap(buf, cap, UMEM_MUNMAP | UMEM_NOREPLY_FLAG, seq, mapping, offset, length);
}

int umem_enc_ioctl(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint32_t cmd, uint32_t out_max,
                   const void *in, uint32_t in_len)
{
    if (in_len > UMEM_IOCTL_MAX || out_max > UMEM_IOCTL_MAX)
        return -EINVAL;
    int n = header(buf, cap, UMEM_IOCTL, seq, 40 + (size_t)in_len);
    if (n > 0) {
        umem_put64(buf + 16, handle);
        umem_put32(buf + 24, cmd);
        umem_put32(buf + 28, out_max);
        umem_put32(buf + 32, in_len);
        if (in_len > 0)
            memcpy(buf + 40, in, in_len);
    }
    return n;
}

int umem_enc_io(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint64_t handle, uint64_t offset,
                uint32_t length, uint32_t flags, const void *data)
{
    if ((type != UMEM_READ && type != UMEM_WRITE) || length > UMEM_IO_MAX || (type == UMEM_WRITE && data == NULL && length > 0))
        return -EINVAL;
    int n = header(buf, cap, type, seq, 40 + (type == UMEM_WRITE ? (size_t)length : 0));
    if (n > 0) {
        umem_put64(buf + 16, handle);
        umem_put64(buf + 24, offset);
        umem_put32(buf + 32, length);
        umem_put32(buf + 36, flags);
        if (type == UMEM_WRITE && length > 0)
            memcpy(buf + 40, data, length);
    }
    return n;
}

int umem_enc_poll(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint16_t events, uint16_t flags)
{
    int n = header(buf, cap, UMEM_POLL, seq, 32);
    if (n > 0) {
        umem_put64(buf + 16, handle);
        umem_put16(buf + 24, events);
        umem_put16(buf + 26, flags);
    }
    return n;
}

int umem_enc_register(uint8_t *buf, size_t cap, uint32_t seq, uint64_t address, uint64_t length, uint32_t flags)
{
    int n = header(buf, cap, UMEM_REGISTER, seq, 40);
    if (n > 0) {
        umem_put64(buf + 16, address);
        umem_put64(buf + 24, length);
        umem_put32(buf + 32, flags);
    }
    return n;
}

int umem_enc_unregister(uint8_t *buf, size_t cap, uint32_t seq, uint64_t buffer)
{
    return enc_u64(buf, cap, UMEM_UNREGISTER, seq, buffer);
}

int umem_enc_error(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, int32_t error)
{
    if (error <= 0 || error > UMEM_MAX_ERRNO)
        return -EINVAL;
    return reply(buf, cap, type, seq, 0, error);
}

int umem_enc_ok(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq)
{
    return reply(buf, cap, type, seq, 0, 0);
}

int umem_enc_hello_reply(uint8_t *buf, size_t cap, uint32_t seq, uint16_t version, uint32_t page_size,
                         uint32_t max_message, uint32_t max_fds)
{
    int n = reply(buf, cap, UMEM_HELLO, seq, 16, 0);
    if (n > 0) {
        umem_put16(buf + 20, version);
        umem_put32(buf + 24, page_size);
        umem_put32(buf + 28, max_message);
        umem_put32(buf + 32, max_fds);
    }
    return n;
}

int umem_enc_dup_prepare_reply(uint8_t *buf, size_t cap, uint32_t seq, const uint8_t token[UMEM_TOKEN_SIZE])
{
    int n = reply(buf, cap, UMEM_DUP_PREPARE, seq, UMEM_TOKEN_SIZE, 0);
    if (n > 0)
        memcpy(buf + 20, token, UMEM_TOKEN_SIZE);
    return n;
}

int umem_enc_inherit_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t length)
{
    int n = reply(buf, cap, UMEM_INHERIT, seq, 16, 0);
    if (n > 0) {
        umem_put64(buf + 20, mapping);
        umem_put64(buf + 28, length);
    }
    return n;
}

int umem_enc_open_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle)
{
    int n = reply(buf, cap, UMEM_OPEN, seq, 8, 0);
    if (n > 0)
        umem_put64(buf + 20, handle);
    return n;
}

int umem_enc_mmap_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t length, uint32_t nseg,
                        const struct umem_segment *segments)
{
    if (nseg > UMEM_MAX_SEGMENTS)
        return -EMSGSIZE;
    int n = reply(buf, cap, UMEM_MMAP, seq, 24 + (size_t)nseg * UMEM_SEGMENT_SIZE, 0);
    if (n > 0) {
        umem_put64(buf + 20, mapping);
        umem_put64(buf + 28, length);
        umem_put32(buf + 36, nseg);
        for (uint32_t i = 0; i < nseg; i++) {
            uint8_t *s = buf + UMEM_MMAP_REPLY_FIXED + (size_t)i * UMEM_SEGMENT_SIZE;
            umem_put64(s, segments[i].offset);
            umem_put64(s + 8, segments[i].length);
            umem_put64(s + 16, segments[i].fd_offset);
            umem_put32(s + 24, segments[i].maxprot);
            umem_put32(s + 28, segments[i].fd_index);
        }
    }
    return n;
}

int umem_enc_mmap_more(uint8_t *buf, size_t cap, uint32_t seq, uint32_t first, uint32_t count)
{
    int n = reply(buf, cap, UMEM_MMAP_MORE, seq, 8, 0);
    if (n > 0) {
        umem_put32(buf + 20, first);
        umem_put32(buf + 24, count);
    }
    return n;
}

int umem_enc_ioctl_reply(uint8_t *buf, size_t cap, uint32_t seq, int32_t rval, const void *out, uint32_t out_len)
{
    if (out_len > UMEM_IOCTL_MAX)
        return -EINVAL;
    int n = reply(buf, cap, UMEM_IOCTL, seq, 8 + (size_t)out_len, 0);
    if (n > 0) {
        umem_put32(buf + 20, (uint32_t)rval);
        umem_put32(buf + 24, out_len);
        if (out_len > 0)
            memcpy(buf + 28, out, out_len);
    }
    return n;
}

int umem_enc_register_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t buffer)
{
    int n = reply(buf, cap, UMEM_REGISTER, seq, 8, 0);
    if (n > 0)
        umem_put64(buf + 20, buffer);
    return n;
}

int umem_enc_poll_reply(uint8_t *buf, size_t cap, uint32_t seq, uint16_t revents, uint16_t armed)
{
    int n = reply(buf, cap, UMEM_POLL, seq, 8, 0);
    if (n > 0) {
        umem_put16(buf + 20, revents);
        umem_put16(buf + 22, armed);
    }
    return n;
}

int umem_enc_event(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint16_t revents)
{
    int n = reply(buf, cap, UMEM_EVENT, seq, 16, 0);
    if (n > 0) {
        umem_put64(buf + 20, handle);
        umem_put16(buf + 28, revents);
    }
    return n;
}

int umem_enc_io_reply(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint32_t count, const void *data)
{
    if ((type != UMEM_READ && type != UMEM_WRITE) || count > UMEM_IO_MAX || (type == UMEM_READ && data == NULL && count > 0))
        return -EINVAL;
    int n = reply(buf, cap, type, seq, 8 + (type == UMEM_READ ? (size_t)count : 0), 0);
    if (n > 0) {
        umem_put32(buf + 20, count);
        if (type == UMEM_READ && count > 0)
            memcpy(buf + 28, data, count);
    }
    return n;
}

void umem_segment_at(const struct umem_msg *msg, uint32_t i, struct umem_segment *seg)
{
    const uint8_t *s = msg->u.mmap_reply.segments + (size_t)i * UMEM_SEGMENT_SIZE;
    seg->offset = umem_get64(s);
    seg->length = umem_get64(s + 8);
    seg->fd_offset = umem_get64(s + 16);
    seg->maxprot = umem_get32(s + 24);
    seg->fd_index = umem_get32(s + 28);
}

/* The segments of an MMAP reply must cover [0, length) in order, each at least one byte long. */
static int check_segments(const struct umem_msg *m)
{
    uint64_t covered = 0;
    for (uint32_t i = 0; i < m->u.mmap_reply.nseg; i++) {
        struct umem_segment s;
        umem_segment_at(m, i, &s);
        if (s.offset != covered || s.length == 0 || s.length > UINT64_MAX - covered)
            return -EBADMSG;
        if ((s.maxprot & ~PROT_BITS) != 0 || s.fd_index >= m->u.mmap_reply.nseg)
            return -EBADMSG;
        covered += s.length;
    }
    return covered == m->u.mmap_reply.length ? 0 : -EBADMSG;
}

static int decode_request(const uint8_t *b, size_t len, struct umem_msg *m)
{
    size_t want;
    uint16_t type = m->type;
    if (type == (UMEM_MUNMAP | UMEM_NOREPLY_FLAG))
        type = UMEM_MUNMAP; /* the only request that may ask for no reply */
    switch (type) { /* every case checks the length before it reads a field */
    case UMEM_HELLO:
        if (len != 24 || umem_get32(b + 20) != 0)
            return -EBADMSG;
        m->u.hello.min_version = umem_get16(b + 16);
        m->u.hello.max_version = umem_get16(b + 18);
        return 0;
    case UMEM_OPEN:
        if (len != 24 || umem_get32(b + 20) != 0)
            return -EBADMSG;
        m->u.open.oflags = umem_get32(b + 16);
        return 0;
    case UMEM_CLOSE:
    case UMEM_UNREGISTER:
    case UMEM_DUP_PREPARE:
        if (len != 24)
            return -EBADMSG;
        m->u.close.handle = umem_get64(b + 16); /* same place as unregister.buffer and dup_prepare.mapping */
        m->u.unregister.buffer = m->u.close.handle;
        m->u.dup_prepare.mapping = m->u.close.handle;
        return 0;
    case UMEM_INHERIT:
        if (len != 24 + UMEM_TOKEN_SIZE)
            return -EBADMSG;
        m->u.inherit.handle = umem_get64(b + 16);
        m->u.inherit.token = b + 24;
        return 0;
    case UMEM_MMAP:
        if (len != 48)
            return -EBADMSG;
        m->u.mmap.handle = umem_get64(b + 16);
        m->u.mmap.offset = umem_get64(b + 24);
        m->u.mmap.length = umem_get64(b + 32);
        m->u.mmap.prot = umem_get32(b + 40);
        m->u.mmap.flags = umem_get32(b + 44);
        return 0;
    case UMEM_MUNMAP:
        if (len != 40)
            return -EBADMSG;
        m->u.munmap.mapping = umem_get64(b + 16);
        m->u.munmap.offset = umem_get64(b + 24);
        m->u.munmap.length = umem_get64(b + 32);
        return 0;
    case UMEM_IOCTL:
        if (len < 40 || umem_get32(b + 36) != 0)
            return -EBADMSG;
        m->u.ioctl.handle = umem_get64(b + 16);
        m->u.ioctl.cmd = umem_get32(b + 24);
        m->u.ioctl.out_max = umem_get32(b + 28);
        m->u.ioctl.in_len = umem_get32(b + 32);
        m->u.ioctl.in = b + 40;
        want = 40 + (size_t)m->u.ioctl.in_len;
        return len == want ? 0 : -EBADMSG;
    case UMEM_READ:
    case UMEM_WRITE:
        if (len < 40)
            return -EBADMSG;
        m->u.io.handle = umem_get64(b + 16);
        m->u.io.offset = umem_get64(b + 24);
        m->u.io.length = umem_get32(b + 32);
        m->u.io.flags = umem_get32(b + 36);
        m->u.io.data = b + 40;
        want = 40 + (type == UMEM_WRITE ? (size_t)m->u.io.length : 0);
        return len == want ? 0 : -EBADMSG;
    case UMEM_POLL:
        if (len != 32 || umem_get32(b + 28) != 0)
            return -EBADMSG;
        m->u.poll.handle = umem_get64(b + 16);
        m->u.poll.events = umem_get16(b + 24);
        m->u.poll.flags = umem_get16(b + 26);
        return 0;
    case UMEM_REGISTER:
        if (len != 40 || umem_get32(b + 36) != 0)
            return -EBADMSG;
        m->u.reg.address = umem_get64(b + 16);
        m->u.reg.length = umem_get64(b + 24);
        m->u.reg.flags = umem_get32(b + 32);
        return 0;
    default:
        return -EPROTO;
    }
}

static int decode_reply(const uint8_t *b, size_t len, struct umem_msg *m)
{
    uint16_t type = (uint16_t)(m->type & ~UMEM_REPLY_FLAG);
    if (type < UMEM_HELLO || type > UMEM_EVENT)
        return -EPROTO;
    if (len < 20)
        return -EBADMSG;
    m->error = (int32_t)umem_get32(b + 16);
    if (m->error < 0 || m->error > UMEM_MAX_ERRNO)
        return -EBADMSG;
    if (m->error != 0) /* a failed reply carries the errno only; MMAP_MORE and EVENT never fail */
        return len == 20 && type != UMEM_MMAP_MORE && type != UMEM_EVENT ? 0 : -EBADMSG;
    switch (type) {
    case UMEM_HELLO:
        if (len != 36 || umem_get16(b + 22) != 0)
            return -EBADMSG;
        m->u.hello_reply.version = umem_get16(b + 20);
        m->u.hello_reply.page_size = umem_get32(b + 24);
        m->u.hello_reply.max_message = umem_get32(b + 28);
        m->u.hello_reply.max_fds = umem_get32(b + 32);
        return 0;
    case UMEM_OPEN:
    case UMEM_REGISTER:
        if (len != 28)
            return -EBADMSG;
        m->u.open_reply.handle = umem_get64(b + 20); /* same place as register_reply.buffer */
        m->u.register_reply.buffer = m->u.open_reply.handle;
        return 0;
    case UMEM_CLOSE:
    case UMEM_MUNMAP:
    case UMEM_UNREGISTER:
        return len == 20 ? 0 : -EBADMSG;
    case UMEM_MMAP:
        if (len < UMEM_MMAP_REPLY_FIXED || umem_get32(b + 40) != 0)
            return -EBADMSG;
        m->u.mmap_reply.mapping = umem_get64(b + 20);
        m->u.mmap_reply.length = umem_get64(b + 28);
        m->u.mmap_reply.nseg = umem_get32(b + 36);
        m->u.mmap_reply.segments = b + UMEM_MMAP_REPLY_FIXED;
        /* Sizes in 64 bits: nseg * 32 must not wrap into a plausible length. */
        if (m->u.mmap_reply.nseg == 0 || m->u.mmap_reply.nseg > UMEM_MAX_SEGMENTS ||
            (uint64_t)len != UMEM_MMAP_REPLY_FIXED + (uint64_t)m->u.mmap_reply.nseg * UMEM_SEGMENT_SIZE)
            return -EBADMSG;
        return check_segments(m);
    case UMEM_MMAP_MORE:
        if (len != 28)
            return -EBADMSG;
        m->u.mmap_more.first = umem_get32(b + 20);
        m->u.mmap_more.count = umem_get32(b + 24);
        return 0;
    case UMEM_IOCTL:
        if (len < 28)
            return -EBADMSG;
        m->u.ioctl_reply.rval = (int32_t)umem_get32(b + 20);
        m->u.ioctl_reply.out_len = umem_get32(b + 24);
        m->u.ioctl_reply.out = b + 28;
        return m->u.ioctl_reply.out_len <= UMEM_IOCTL_MAX && len == 28 + (size_t)m->u.ioctl_reply.out_len
                   ? 0
                   : -EBADMSG;
    case UMEM_READ:
    case UMEM_WRITE:
        if (len < 28 || umem_get32(b + 24) != 0)
            return -EBADMSG;
        m->u.io_reply.count = umem_get32(b + 20);
        m->u.io_reply.data = b + 28;
        return m->u.io_reply.count <= UMEM_IO_MAX &&
                       len == 28 + (type == UMEM_READ ? (size_t)m->u.io_reply.count : 0)
                   ? 0
                   : -EBADMSG;
    case UMEM_DUP_PREPARE:
        if (len != 20 + UMEM_TOKEN_SIZE)
            return -EBADMSG;
        m->u.dup_prepare_reply.token = b + 20;
        return 0;
    case UMEM_INHERIT:
        if (len != 36)
            return -EBADMSG;
        m->u.inherit_reply.mapping = umem_get64(b + 20);
        m->u.inherit_reply.length = umem_get64(b + 28);
        return 0;
    case UMEM_POLL:
        if (len != 28 || umem_get16(b + 22) > 1 || umem_get32(b + 24) != 0)
            return -EBADMSG;
        m->u.poll_reply.revents = umem_get16(b + 20);
        m->u.poll_reply.armed = umem_get16(b + 22);
        return 0;
    case UMEM_EVENT:
        if (len != 36 || umem_get16(b + 30) != 0 || umem_get32(b + 32) != 0)
            return -EBADMSG;
        m->u.event.handle = umem_get64(b + 20);
        m->u.event.revents = umem_get16(b + 28);
        return 0;
    default:
        return -EPROTO;
    }
}

int umem_decode(const uint8_t *buf, size_t len, struct umem_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    if (len < UMEM_HEADER_SIZE || umem_get32(buf) != UMEM_MAGIC)
        return -EBADMSG;
    msg->version = umem_get16(buf + 4);
    msg->type = umem_get16(buf + 6);
    msg->length = umem_get32(buf + 8);
    msg->seq = umem_get32(buf + 12);
    if (len > UMEM_MAX_MESSAGE)
        return -EMSGSIZE;
    if (msg->length != len)
        return -EBADMSG;
    if (msg->version != UMEM_HEADER_VERSION)
        return -EPROTONOSUPPORT;
    return (msg->type & UMEM_REPLY_FLAG) ? decode_reply(buf, len, msg) : decode_request(buf, len, msg);
}
