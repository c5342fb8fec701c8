/*
 * umem_wire.h - the Umem wire protocol, versions 1 to 3 (docs/protocol.md): message layouts, encoders and one
 * decoder. Pure functions over byte buffers: no I/O, no allocation, no global state, so they can be checked
 * against tests/vectors/protocol.txt byte for byte. Every integer is little-endian on the wire and is
 * read and written a byte at a time, so neither the host's byte order nor its alignment rules matter, and
 * nothing here depends on the size of a pointer (the same code runs in 32- and 64-bit processes).
 *
 * Results: encoders return the message length (> 0) or a negative errno; the decoder returns 0 or a
 * negative errno (-EBADMSG malformed, -EPROTO unknown type, -EPROTONOSUPPORT wrong version).
 */
#ifndef UMEM_WIRE_H
#define UMEM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define UMEM_MAGIC 0x4D454D55u /* "UMEM" in memory order */
#define UMEM_VERSION 3        /* the highest protocol version spoken (HELLO negotiates); 2 adds READ and WRITE, 3 DUP_PREPARE, INHERIT, POLL and EVENT */
#define UMEM_MIN_VERSION 1
#define UMEM_HEADER_VERSION 1 /* the header's layout, in every message of every version so far */
#define UMEM_HEADER_SIZE 16
#define UMEM_REPLY_FLAG 0x8000u
#define UMEM_NOREPLY_FLAG 0x4000u /* on a MUNMAP request: answered only if refused (docs/protocol.md) */
#define UMEM_MAX_MESSAGE 65536
#define UMEM_MAX_FDS 250
#define UMEM_IOCTL_MAX 60000       /* in_len and out_max bound */
#define UMEM_IO_MAX 60000          /* READ and WRITE length bound */
#define UMEM_IO_AT_OFFSET 1u       /* READ/WRITE flags: use offset, not the file offset (pread/pwrite) */
#define UMEM_IO_NONBLOCK 2u        /* FNONBLOCK */
#define UMEM_SEGMENT_SIZE 32
#define UMEM_MMAP_REPLY_FIXED 44   /* header, errno, mapping, length, nseg, reserved */
#define UMEM_MAX_SEGMENTS ((UMEM_MAX_MESSAGE - UMEM_MMAP_REPLY_FIXED) / UMEM_SEGMENT_SIZE) /* 2046 */
#define UMEM_MAX_ERRNO 4095        /* Linux errno values are 1..4095 */

enum umem_type {
    UMEM_HELLO = 1,
    UMEM_OPEN = 2,
    UMEM_CLOSE = 3,
    UMEM_MMAP = 4,
    UMEM_MUNMAP = 5,
    UMEM_IOCTL = 6,
    UMEM_REGISTER = 7,
    UMEM_UNREGISTER = 8,
    UMEM_MMAP_MORE = 9, /* host to client only */
    UMEM_READ = 10,     /* version 2 */
    UMEM_WRITE = 11,    /* version 2 */
    UMEM_DUP_PREPARE = 12, /* version 3 */
    UMEM_INHERIT = 13,     /* version 3 */
    UMEM_POLL = 14,     /* version 3 */
    UMEM_EVENT = 15,    /* version 3, host to client only, unsolicited: framed as a reply (0x800F) */
};

#define UMEM_TOKEN_SIZE 16 /* a DUP_PREPARE token */

#define UMEM_POLL_ARM 1u         /* POLL flags: arm a one-shot EVENT when nothing is ready */
#define UMEM_POLL_EVENT_NOW 2u   /* with ARM: when something is ready now, its EVENT follows the reply at once */
#define UMEM_POLL_EVENTS 0x01C7u /* POLLIN, POLLPRI, POLLOUT, POLLRDNORM, POLLRDBAND, POLLWRBAND */

/* One MMAP reply segment (32 bytes on the wire). */
struct umem_segment {
    uint64_t offset;    /* where it starts inside the mapping */
    uint64_t length;    /* bytes, whole pages */
    uint64_t fd_offset; /* where it starts inside its memfd */
    uint32_t maxprot;   /* PROT_* bits */
    uint32_t fd_index;  /* which fd of the reply, in order of arrival */
};

/*
 * A decoded message. `type` keeps the reply bit and, on a MUNMAP request, UMEM_NOREPLY_FLAG; `error` is the errno of a reply (0 on success). Only the
 * union member for `type` is set, and only on success for replies. Pointers point into the decoded buffer.
 */
struct umem_msg {
    uint16_t version;
    uint16_t type;
    uint32_t length;
    uint32_t seq;
    int32_t error;
    union {
        struct { uint16_t min_version, max_version; } hello;
        struct { uint16_t version; uint32_t page_size, max_message, max_fds; } hello_reply;
        struct { uint32_t oflags; } open;
        struct { uint64_t handle; } open_reply, close;
        struct { uint64_t handle, offset, length; uint32_t prot, flags; } mmap;
        struct { uint64_t mapping, length; uint32_t nseg; const uint8_t *segments; } mmap_reply;
        struct { uint32_t first, count; } mmap_more;
        struct { uint64_t mapping, offset, length; } munmap;
        struct { uint64_t handle; uint32_t cmd, out_max, in_len; const uint8_t *in; } ioctl;
        struct { int32_t rval; uint32_t out_len; const uint8_t *out; } ioctl_reply;
        struct { uint64_t address, length; uint32_t flags; } reg;
        struct { uint64_t buffer; } register_reply, unregister;
        struct { uint64_t handle, offset; uint32_t length, flags; const uint8_t *data; } io; /* READ, WRITE */
        struct { uint32_t count; const uint8_t *data; } io_reply; /* data: a READ reply's count bytes */
        struct { uint64_t mapping; } dup_prepare;
        struct { const uint8_t *token; } dup_prepare_reply; /* UMEM_TOKEN_SIZE bytes */
        struct { uint64_t handle; const uint8_t *token; } inherit;
        struct { uint64_t mapping, length; } inherit_reply;
        struct { uint64_t handle; uint16_t events, flags; } poll;
        struct { uint16_t revents, armed; } poll_reply;
        struct { uint64_t handle; uint16_t revents; } event;
    } u;
};

/* Little-endian access, one byte at a time (no alignment or byte-order assumptions). */
void umem_put16(uint8_t *p, uint16_t v);
void umem_put32(uint8_t *p, uint32_t v);
void umem_put64(uint8_t *p, uint64_t v);
uint16_t umem_get16(const uint8_t *p);
uint32_t umem_get32(const uint8_t *p);
uint64_t umem_get64(const uint8_t *p);

/* Requests (client to host). `cap` is the room in `buf`; -EMSGSIZE if the message does not fit. */
int umem_enc_hello(uint8_t *buf, size_t cap, uint32_t seq, uint16_t min_version, uint16_t max_version);
int umem_enc_open(uint8_t *buf, size_t cap, uint32_t seq, uint32_t oflags);
int umem_enc_close(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle);
int umem_enc_mmap(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint64_t offset, uint64_t length,
                  uint32_t prot, uint32_t flags);
int umem_enc_munmap(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t offset, uint64_t length);
/* The same MUNMAP with UMEM_NOREPLY_FLAG in its type: answered only if the host refuses it, then it closes. */
int umem_enc_munmap_noreply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t offset,
                            uint64_t length);
int umem_enc_ioctl(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint32_t cmd, uint32_t out_max,
                   const void *in, uint32_t in_len);
int umem_enc_register(uint8_t *buf, size_t cap, uint32_t seq, uint64_t address, uint64_t length, uint32_t flags);
int umem_enc_unregister(uint8_t *buf, size_t cap, uint32_t seq, uint64_t buffer);
/* READ (data NULL, length the room) or WRITE (length bytes of data), version 2. */
int umem_enc_io(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint64_t handle, uint64_t offset,
                uint32_t length, uint32_t flags, const void *data);
/* DUP_PREPARE of a mapping and INHERIT of a token through an open handle, version 3. */
int umem_enc_dup_prepare(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping);
int umem_enc_inherit(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, const uint8_t token[UMEM_TOKEN_SIZE]);

/* Replies (host to client). `type` is the request type; the reply bit is added. */
int umem_enc_poll(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint16_t events, uint16_t flags);
int umem_enc_error(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, int32_t error);
int umem_enc_ok(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq); /* CLOSE, MUNMAP, UNREGISTER */
int umem_enc_hello_reply(uint8_t *buf, size_t cap, uint32_t seq, uint16_t version, uint32_t page_size,
                         uint32_t max_message, uint32_t max_fds);
int umem_enc_open_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle);
int umem_enc_mmap_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t length, uint32_t nseg,
                        const struct umem_segment *segments);
int umem_enc_mmap_more(uint8_t *buf, size_t cap, uint32_t seq, uint32_t first, uint32_t count);
int umem_enc_ioctl_reply(uint8_t *buf, size_t cap, uint32_t seq, int32_t rval, const void *out, uint32_t out_len);
int umem_enc_register_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t buffer);
/* READ (count bytes of data follow) or WRITE (data NULL) reply, version 2. */
int umem_enc_poll_reply(uint8_t *buf, size_t cap, uint32_t seq, uint16_t revents, uint16_t armed);
int umem_enc_event(uint8_t *buf, size_t cap, uint32_t seq, uint64_t handle, uint16_t revents);
int umem_enc_io_reply(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq, uint32_t count, const void *data);
int umem_enc_dup_prepare_reply(uint8_t *buf, size_t cap, uint32_t seq, const uint8_t token[UMEM_TOKEN_SIZE]);
int umem_enc_inherit_reply(uint8_t *buf, size_t cap, uint32_t seq, uint64_t mapping, uint64_t length);

/*
 * Decodes and validates one whole message of `len` bytes (a request or a reply): magic, version, type,
 * the header's length against `len`, the exact payload size of the type, reserved fields 0, errno range,
 * UMEM_NOREPLY_FLAG on a request other than MUNMAP (-EPROTO), and for an MMAP reply nseg in 1..UMEM_MAX_SEGMENTS and segments that cover [0, length) in order with
 * non-zero lengths, PROT_* maxprot bits and fd_index < nseg. Page alignment needs the page size and is
 * checked by the caller. Whether the message is the one expected (type, seq) is also the caller's business.
 */
int umem_decode(const uint8_t *buf, size_t len, struct umem_msg *msg);

/* Segment i of a decoded MMAP reply (i < nseg). */
void umem_segment_at(const struct umem_msg *msg, uint32_t i, struct umem_segment *seg);

#endif
