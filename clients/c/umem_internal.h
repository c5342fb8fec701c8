/*
 * umem_internal.h - hidden helpers of umem.c for the preload library (preload/), not part of the API: they are
 * compiled with -fvisibility=hidden and never exported from libumem.so.
 */
#ifndef UMEM_INTERNAL_H
#define UMEM_INTERNAL_H

#include "umem.h"

/* Bytes still mapped of mapping `mapping` (its live ranges); 0 once the whole of it is unmapped or unknown. */
size_t umem_mapped_bytes(const umem_dev *dev, uint64_t mapping);

/*
 * Frees `dev` and closes its connection without any message and without unmapping: the memory stays mapped as
 * plain shared memory. For a forked child, whose copy of the connection is the parent's (the host never hears of
 * it from the child).
 */
void umem_abandon(umem_dev *dev);

/*
 * POLL (version 3) with `flags` (UMEM_POLL_ARM, UMEM_POLL_EVENT_NOW, umem_wire.h): *revents is what is ready now.
 * When armed, the connection's socket (umem_socket) turns readable when the EVENT comes; umem_poll_take reads it.
 */
int umem_poll_arm(umem_dev *dev, short events, int flags, short *revents);

/* Without waiting: the events of the armed poll's EVENT if it came (read now or earlier), else 0. */
int umem_poll_take(umem_dev *dev, short *revents);

/* The connection's socket (-1 once it is gone): readable when an EVENT is queued. */
int umem_socket(const umem_dev *dev);

#endif
