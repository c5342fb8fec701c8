/* The byte the doorbell and ring tests write at each stream position, so a reader can check every byte it gets
 * (TestPattern.At in the C# tests; LayoutTests compares the two). */
#ifndef UMEM_SYNC_PATTERN_H
#define UMEM_SYNC_PATTERN_H

#include <stdint.h>

static inline uint8_t umem_pattern(int64_t position)
{
    return (uint8_t)(((uint64_t)position * 0x9E3779B97F4A7C15ull) >> 56);
}

#endif
