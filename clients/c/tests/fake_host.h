/*
 * fake_host.h - what the C client's test peer (fake_host.c) serves, shared with the tests that talk to it.
 *
 * fake_host is not umemd: it is a small, strict, real implementation of the host side of docs/protocol.md
 * for one made-up device, written to exercise the C library's socket, fd and continuation logic, and to
 * misbehave on request. Its device is FH_PAGES pages of sealed memfds:
 *   pages [0, 300)   one memfd per page (a 300-page mapping needs 300 fds: MMAP_MORE)
 *   pages [300, 316) one 16-page memfd (segments with a non-zero fd_offset)
 *   pages [316, 320) one 4-page memfd handed out as an O_RDONLY fd with maxprot PROT_READ
 * Offsets beyond are ENXIO. The host maps all of it itself, so its ioctls can read and write what clients
 * map. Each connection is served by its own forked child; all children share the device memory.
 */
#ifndef UMEM_FAKE_HOST_H
#define UMEM_FAKE_HOST_H

#define FH_SINGLE_PAGES 300
#define FH_BIG_FIRST 300
#define FH_BIG_PAGES 16
#define FH_RO_FIRST 316
#define FH_RO_PAGES 4
#define FH_PAGES 320

/* ioctl commands; integers in the in/out bytes are little-endian u64 unless noted. */
#define FH_ECHO 1        /* out = in (up to out_max), rval = in_len */
#define FH_PEEK 2        /* in: device offset -> out: the u64 there, as the host sees it */
#define FH_POKE 3        /* in: device offset, value: the host writes it */
#define FH_LAST_MUNMAP 4 /* out: mapping, offset, length of the last MUNMAP, and how many were received */
#define FH_FAIL 5        /* in: u32 errno -> that error reply */
#define FH_FAULT 6       /* in: u32 fault kind: the reply to the next request is malformed that way */
#define FH_BATCH 7       /* in: u32 n: MMAP replies carry at most n fds per message from now on */
#define FH_BUF_PEEK 8    /* in: buffer id, offset -> out: the u64 there in the host's mapping of it */
#define FH_BUF_POKE 9    /* in: buffer id, offset, value */
#define FH_BUF_SEALS 10  /* in: buffer id -> out: u32 F_GET_SEALS of the memfd the client sent */
#define FH_MAPPINGS 11   /* out: u32 live mappings, u32 live pages in all, on this connection */
#define FH_REFUSE_MUNMAP 12 /* the next MUNMAP is refused with EINVAL (a no-reply one: answered, then closed) */

/* Fault kinds for FH_FAULT. The generic ones apply to any reply, the MMAP ones to an MMAP reply. */
enum fh_fault {
    FH_FAULT_NONE,
    FH_FAULT_MAGIC,         /* magic "UMEN" */
    FH_FAULT_SHORT,         /* only 10 bytes */
    FH_FAULT_LENGTH,        /* header length 4 more than sent */
    FH_FAULT_SEQ,           /* seq + 1 */
    FH_FAULT_TYPE,          /* another reply type */
    FH_FAULT_VERSION,       /* version 2 */
    FH_FAULT_ERROR_PAYLOAD, /* errno ENXIO followed by 8 bytes */
    FH_FAULT_STRAY_FD,      /* one more fd than the reply should carry */
    FH_FAULT_OVERSIZE,      /* a 70000-byte reply */
    FH_FAULT_HANGUP,        /* the connection closes instead of a reply */
    FH_FAULT_NSEG_OVERFLOW, /* MMAP: nseg 0x08000001 (wraps to the real size in 32-bit arithmetic) */
    FH_FAULT_SEG_GAP,       /* MMAP: the second segment starts one page late */
    FH_FAULT_NO_FDS,        /* MMAP: the first reply carries no fd */
    FH_FAULT_MORE_FIRST,    /* MMAP: a MMAP_MORE whose first skips one fd */
    FH_FAULT_MORE_COUNT,    /* MMAP: a MMAP_MORE whose count is one more than its fds */
    FH_FAULT_MORE_SEQ,      /* MMAP: a MMAP_MORE with another seq */
    FH_FAULT_MAXPROT,       /* MMAP: maxprot below the requested prot */
    FH_FAULT_REPLY_LENGTH,  /* MMAP: a reply length other than the requested one */
    FH_FAULT_UNALIGNED,     /* MMAP: a fd_offset that is not page-aligned */
    FH_FAULT_COUNT
};

#endif
