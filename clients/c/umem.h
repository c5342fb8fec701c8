/*
 * umem.h - the Umem C client: open a Umem device node, map its memory, call its ioctls, and register
 * application memory, over the wire protocol of docs/protocol.md (AF_UNIX SOCK_SEQPACKET, memory passed as
 * sealed memfds with SCM_RIGHTS). Works in 64- and 32-bit processes; needs only libc.
 *
 * Every call returns 0 or a negative errno (-ENXIO, -EACCES, ...): the host's answer, a local failure
 * (-ENOMEM, the errno of mmap(2)), or a protocol failure. A malformed or unexpected reply (-EBADMSG,
 * -EPROTO, -EPROTONOSUPPORT) or a lost connection (-ECONNRESET, -EPIPE) ends the connection: the host
 * then forgets every mapping and buffer of the device, and later requests return -ENOTCONN, while
 * umem_munmap, umem_unregister and umem_close still release the local memory.
 *
 * A umem_dev is not thread-safe: use one per thread, or serialise the calls on it.
 */
#ifndef UMEM_H
#define UMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct umem_dev umem_dev;

/*
 * Connects to the device node at `path` (a socket), agrees on protocol version 1 (HELLO) and opens the
 * device (OPEN, as open(2)): `oflags` is O_RDONLY, O_WRONLY or O_RDWR. On success *devp is the device.
 */
int umem_open(const char *path, int oflags, umem_dev **devp);

/*
 * Closes the device (CLOSE) and the connection, and frees `dev`. Unlike close(2), this also unmaps every
 * mapping and registered buffer still held through `dev`: the host forgets them when the connection ends.
 * Returns the host's answer to CLOSE; `dev` is freed whatever it is. NULL is a no-op.
 */
int umem_close(umem_dev *dev);

/*
 * Maps `length` bytes of the device at `offset` (both page-aligned, length non-zero) with `prot`
 * (PROT_READ|PROT_WRITE|PROT_EXEC) and `flags` (MAP_SHARED or MAP_PRIVATE, optionally | MAP_POPULATE to
 * pre-fault the page tables as mmap(2) does). On success *addrp is the address and, when `mappingp` is not
 * NULL, *mappingp the host's id of the mapping.
 *
 * The host sends one fd per segment, at most 250 per message; each message's segments are mapped and its fds
 * closed before the next is read, so a map never holds more than 250 fds, whatever its size. Before asking,
 * a map of more than one page makes room for one message's fds: it raises the soft RLIMIT_NOFILE to the hard
 * limit when needed, and fails with -EMFILE when even that has no room. Fds the kernel drops anyway also fail
 * the map with -EMFILE. Either way the connection is kept and the host forgets the mapping.
 */
int umem_mmap(umem_dev *dev, uint64_t offset, size_t length, int prot, int flags, void **addrp,
              uint64_t *mappingp);

/*
 * Unmaps [addr, addr+length) of one mapping made by umem_mmap (addr page-aligned, length rounded up to
 * whole pages, the range inside that mapping; -EINVAL otherwise). The local range is unmapped first.
 * When the range covers all that is left of the mapping, the host is told with one MUNMAP without a reply
 * (docs/protocol.md) and 0 is returned: the host handles it before the next request on `dev`, and refuses
 * it only if its idea of the mapping is not ours, in which case it closes the connection and the next
 * request returns -ECONNRESET. A head, tail or hole is sent with one MUNMAP per still-mapped
 * piece, waiting for the reply, and the host's error is returned.
 */
int umem_munmap(umem_dev *dev, void *addr, size_t length);

/*
 * Calls the driver's ioctl(9E) with `cmd` and `in_len` input bytes, with room for `out_max` output bytes
 * (both at most 60000). On success *out_len (if not NULL) is the number of bytes written to `out` and
 * *rval (if not NULL) the driver's return value.
 */
int umem_ioctl(umem_dev *dev, uint32_t cmd, const void *in, size_t in_len, void *out, size_t out_max,
               size_t *out_len, int *rval);

/*
 * Creates `length` bytes (page-aligned, non-zero) of application memory the driver may lock with
 * ddi_umem_lock(9F): a memfd sealed against shrinking, growing and further seals, mapped read-write at
 * *addrp and shared with the host (REGISTER). *bufferp is its id for umem_unregister.
 */
int umem_register(umem_dev *dev, size_t length, void **addrp, uint64_t *bufferp);

/* Unregisters a buffer (UNREGISTER) and unmaps it; -EBADF for an unknown id. */
int umem_unregister(umem_dev *dev, uint64_t buffer);

/* The name of an errno value ("ENXIO" for ENXIO or -ENXIO), or "E?" for one it does not know. */
const char *umem_errname(int err);

#ifdef __cplusplus
}
#endif

#endif
