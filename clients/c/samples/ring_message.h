/*
 * ring_message.h - the ring samples' messages, byte for byte those of the C# samples
 * (samples/Umem.Samples.RingWriter/RingMessage.cs), so C and C# writers and readers can be mixed: u32 sequence
 * number, u32 payload length, the payload (a pattern of the sequence number), u32 FNV-1a of everything before it;
 * little-endian. Summaries carry the FNV-1a 64 of the whole stream.
 */
#ifndef UMEM_RING_MESSAGE_H
#define UMEM_RING_MESSAGE_H

#include "sample.h"

#include <stddef.h>
#include <stdint.h>

#define RING_OVERHEAD 12            /* sequence, length, checksum */
#define RING_CAPACITY (1 << 20)      /* drivers/Umem.Drivers.Ring: RingDriver.Capacity */
#define RING_HEADER 256              /* SharedRing.HeaderSize */
#define RING_MAX_PAYLOAD (1 << 20)   /* a larger length is a corrupt stream */
#define FNV64_BASIS 14695981039346656037ull

/* The bytes to map of the ring driver's area: header and data, whole pages. */
static inline size_t ring_map_length(void)
{
    size_t ps = page_size();
    return (RING_HEADER + (size_t)RING_CAPACITY + ps - 1) / ps * ps;
}

static inline uint32_t ring_payload_length(uint64_t seq, uint32_t max_payload)
{
    return 1 + (uint32_t)((seq * 37) % max_payload);
}

static inline uint8_t ring_payload_byte(uint64_t seq, uint32_t index)
{
    return (uint8_t)(seq * 31 + (uint64_t)index * 7 + 1);
}

static inline uint32_t fnv32(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static inline uint64_t fnv64(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Writes message `seq` with `length` payload bytes to `dst`; returns its size. */
static inline size_t ring_encode(uint64_t seq, uint32_t length, uint8_t *dst)
{
    put_le(dst, (uint32_t)seq, 4);
    put_le(dst + 4, length, 4);
    for (uint32_t i = 0; i < length; i++)
        dst[8 + i] = ring_payload_byte(seq, i);
    put_le(dst + 8 + length, fnv32(dst, 8 + (size_t)length), 4);
    return RING_OVERHEAD + (size_t)length;
}

#endif
