/*
 * The shared layouts of Umem's doorbell and byte ring (src/Umem.Client/Sync), and the same algorithms in C,
 * for the C peers the tests and benchmarks run against the C# types, and for the C ring samples
 * (clients/c/samples). Offsets must match the C# ones exactly; tests/Umem.Tests/Sync/LayoutTests.cs compiles this
 * header and compares.
 *
 * Memory order: GCC __atomic builtins; an interlocked read-modify-write in C# is __ATOMIC_SEQ_CST here,
 * Volatile.Read/Write are acquire/release, Interlocked.MemoryBarrier is a seq_cst fence.
 */
#ifndef UMEM_SYNC_H
#define UMEM_SYNC_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- doorbell: a sequence word (the futex word) and a count of sleeping waiters ---- */
#define UMEM_DOORBELL_SIZE 8
#define UMEM_DOORBELL_SEQUENCE 0
#define UMEM_DOORBELL_WAITERS 4

/* ---- ring region (written by the writer only) ---- */
#define UMEM_RING_MAGIC 0x47524D55u   /* "UMRG" */
#define UMEM_RING_CONTROL_MAGIC 0x43524D55u  /* "UMRC" */
#define UMEM_RING_VERSION 1u
#define UMEM_RING_HEADER_SIZE 256
#define UMEM_RING_MAGIC_OFF 0
#define UMEM_RING_VERSION_OFF 4
#define UMEM_RING_CAPACITY_OFF 8
#define UMEM_RING_DATA_OFFSET_OFF 16
#define UMEM_RING_FLAGS_OFF 24
#define UMEM_RING_RESERVED_OFF 64
#define UMEM_RING_COMMITTED_OFF 128
#define UMEM_RING_SIGNAL_OFF 136
#define UMEM_RING_COMPLETED_OFF 140
#define UMEM_RING_FLAG_COUNTS_WAITERS 1u

/* ---- control region (read-write for everyone) ---- */
#define UMEM_CTL_SLOT_COUNT_OFF 8
#define UMEM_CTL_READER_WAITERS_OFF 64
#define UMEM_CTL_SPACE_OFF 128
#define UMEM_CTL_WRITER_WAITING_OFF 132
#define UMEM_CTL_SLOTS_OFF 192
#define UMEM_CTL_SLOT_SIZE 64
#define UMEM_CTL_SLOT_STATE_OFF 0
#define UMEM_CTL_SLOT_CURSOR_OFF 8
#define UMEM_SLOT_FREE 0u
#define UMEM_SLOT_JOINING 1u
#define UMEM_SLOT_ACTIVE 2u

#define U32(base, off) ((uint32_t *)((char *)(base) + (off)))
#define I64(base, off) ((int64_t *)((char *)(base) + (off)))

static inline void umem_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("isb" ::: "memory");
#endif
}

static inline long umem_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, NULL, 0);
}

static inline long umem_futex_wake(uint32_t *word, int count)
{
    return syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

/* Sleeps on *word until it differs from expected; announced in *waiters (may be NULL) first. */
static inline void umem_sleep_on(uint32_t *word, uint32_t *waiters, uint32_t expected)
{
    if (waiters) __atomic_fetch_add(waiters, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == expected) umem_futex_wait(word, expected, NULL);
    if (waiters) __atomic_fetch_sub(waiters, 1, __ATOMIC_SEQ_CST);
}

static inline uint32_t umem_doorbell_ring(void *doorbell)
{
    uint32_t *seq = U32(doorbell, UMEM_DOORBELL_SEQUENCE);
    uint32_t v = __atomic_add_fetch(seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(U32(doorbell, UMEM_DOORBELL_WAITERS), __ATOMIC_ACQUIRE) != 0)
        umem_futex_wake(seq, INT_MAX);
    return v;
}

/* Spin for spin pauses, then sleep; returns the new sequence number. */
static inline uint32_t umem_doorbell_wait(void *doorbell, uint32_t last_seen, int spin, long *spun, long *slept)
{
    uint32_t *seq = U32(doorbell, UMEM_DOORBELL_SEQUENCE);
    uint32_t v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    if (v != last_seen) return v;
    for (int i = 0; i < spin; i++) {
        umem_pause();
        v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (v != last_seen) { if (spun) ++*spun; return v; }
    }
    for (;;) {
        uint32_t *waiters = U32(doorbell, UMEM_DOORBELL_WAITERS);
        __atomic_fetch_add(waiters, 1, __ATOMIC_SEQ_CST);
        v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (v == last_seen) { if (slept) ++*slept; umem_futex_wait(seq, v, NULL); }
        __atomic_fetch_sub(waiters, 1, __ATOMIC_SEQ_CST);
        v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (v != last_seen) return v;
    }
}

/* ---- ring reader (broadcast or flow-controlled), the algorithm of SharedRingReader ---- */
struct umem_ring_reader {
    char *header, *data, *control, *slot;
    int64_t capacity, position;
    int counts_waiters;
};

/* 0 on success, -1 when the header is not a ring, -2 when no slot is free. */
static inline int umem_ring_reader_open(struct umem_ring_reader *r, void *ring, void *control, int flow)
{
    memset(r, 0, sizeof *r);
    r->header = ring;
    if (__atomic_load_n(U32(ring, UMEM_RING_MAGIC_OFF), __ATOMIC_ACQUIRE) != UMEM_RING_MAGIC) return -1;
    r->capacity = *I64(ring, UMEM_RING_CAPACITY_OFF);
    r->data = r->header + *I64(ring, UMEM_RING_DATA_OFFSET_OFF);
    r->counts_waiters = (*U32(ring, UMEM_RING_FLAGS_OFF) & UMEM_RING_FLAG_COUNTS_WAITERS) != 0;
    r->control = control;
    if (control && flow) {
        uint32_t slots = *U32(control, UMEM_CTL_SLOT_COUNT_OFF);
        for (uint32_t i = 0; i < slots && !r->slot; i++) {
            char *s = (char *)control + UMEM_CTL_SLOTS_OFF + (size_t)i * UMEM_CTL_SLOT_SIZE;
            uint32_t expected = UMEM_SLOT_FREE;
            if (__atomic_compare_exchange_n(U32(s, UMEM_CTL_SLOT_STATE_OFF), &expected, UMEM_SLOT_JOINING, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                r->slot = s;
        }
        if (!r->slot) return -2;
        for (;;) {
            int64_t start = __atomic_load_n(I64(ring, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
            __atomic_store_n(I64(r->slot, UMEM_CTL_SLOT_CURSOR_OFF), start, __ATOMIC_RELEASE);
            __atomic_exchange_n(U32(r->slot, UMEM_CTL_SLOT_STATE_OFF), UMEM_SLOT_ACTIVE, __ATOMIC_SEQ_CST);
            int64_t reserved = __atomic_load_n(I64(ring, UMEM_RING_RESERVED_OFF), __ATOMIC_ACQUIRE);
            if (reserved - start <= r->capacity) { r->position = start; break; }
        }
    } else {
        r->position = __atomic_load_n(I64(ring, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
    }
    return 0;
}

static inline void umem_ring_reader_publish(struct umem_ring_reader *r)
{
    if (!r->slot) return;
    __atomic_store_n(I64(r->slot, UMEM_CTL_SLOT_CURSOR_OFF), r->position, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(U32(r->control, UMEM_CTL_WRITER_WAITING_OFF), __ATOMIC_ACQUIRE) != 0) {
        __atomic_fetch_add(U32(r->control, UMEM_CTL_SPACE_OFF), 1, __ATOMIC_SEQ_CST);
        umem_futex_wake(U32(r->control, UMEM_CTL_SPACE_OFF), 1);
    }
}

static inline void umem_ring_reader_close(struct umem_ring_reader *r)
{
    if (!r->slot) return;
    __atomic_exchange_n(U32(r->slot, UMEM_CTL_SLOT_STATE_OFF), UMEM_SLOT_FREE, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(U32(r->control, UMEM_CTL_WRITER_WAITING_OFF), __ATOMIC_ACQUIRE) != 0) {
        __atomic_fetch_add(U32(r->control, UMEM_CTL_SPACE_OFF), 1, __ATOMIC_SEQ_CST);
        umem_futex_wake(U32(r->control, UMEM_CTL_SPACE_OFF), 1);
    }
}

#define UMEM_RING_EMPTY (-1)
#define UMEM_RING_OVERRUN (-2)
#define UMEM_RING_CORRUPT (-3)
#define UMEM_RING_CANNOT_WAIT (-4)   /* the writer wakes only counted readers and this one has no control region */

/* Non-blocking read: bytes read, 0 at the end of the stream, or UMEM_RING_EMPTY/OVERRUN/CORRUPT. */
static inline int64_t umem_ring_try_read(struct umem_ring_reader *r, void *dst, int64_t max)
{
    int64_t committed = __atomic_load_n(I64(r->header, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
    int64_t available = committed - r->position;
    if (available == 0) {
        if (__atomic_load_n(U32(r->header, UMEM_RING_COMPLETED_OFF), __ATOMIC_ACQUIRE) == 0) return UMEM_RING_EMPTY;
        committed = __atomic_load_n(I64(r->header, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
        available = committed - r->position;
        if (available == 0) return 0;
    }
    if (available < 0) return UMEM_RING_CORRUPT;
    if (available > r->capacity) return UMEM_RING_OVERRUN;
    int64_t n = available < max ? available : max;
    int64_t off = r->position & (r->capacity - 1);
    int64_t first = n < r->capacity - off ? n : r->capacity - off;
    memcpy(dst, r->data + off, (size_t)first);
    if (n > first) memcpy((char *)dst + first, r->data, (size_t)(n - first));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    int64_t reserved = __atomic_load_n(I64(r->header, UMEM_RING_RESERVED_OFF), __ATOMIC_ACQUIRE);
    if (reserved - r->position > r->capacity) return UMEM_RING_OVERRUN;
    r->position += n;
    umem_ring_reader_publish(r);
    return n;
}

/* Blocking read: spin, then sleep on the signal word (counted when the reader has the control region). */
static inline int64_t umem_ring_read(struct umem_ring_reader *r, void *dst, int64_t max, int spin)
{
    for (;;) {
        int64_t n = umem_ring_try_read(r, dst, max);
        if (n != UMEM_RING_EMPTY) return n;
        for (int i = 0; i < spin && n == UMEM_RING_EMPTY; i++) {
            umem_pause();
            n = umem_ring_try_read(r, dst, max);
        }
        if (n != UMEM_RING_EMPTY) return n;
        if (!r->control && r->counts_waiters) return UMEM_RING_CANNOT_WAIT;
        uint32_t *signal = U32(r->header, UMEM_RING_SIGNAL_OFF);
        uint32_t *waiters = r->control ? U32(r->control, UMEM_CTL_READER_WAITERS_OFF) : NULL;
        if (waiters) __atomic_fetch_add(waiters, 1, __ATOMIC_SEQ_CST);
        uint32_t expected = __atomic_load_n(signal, __ATOMIC_ACQUIRE);
        int64_t committed = __atomic_load_n(I64(r->header, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
        uint32_t completed = __atomic_load_n(U32(r->header, UMEM_RING_COMPLETED_OFF), __ATOMIC_ACQUIRE);
        if (committed == r->position && !completed) umem_futex_wait(signal, expected, NULL);
        if (waiters) __atomic_fetch_sub(waiters, 1, __ATOMIC_SEQ_CST);
    }
}

/* ---- ring writer, broadcast (no control region): the algorithm of SharedRingWriter.Create(ring, length, capacity) ---- */
struct umem_ring_writer {
    char *header, *data;
    int64_t capacity, position;
};

/* Lays out an empty ring of `capacity` bytes (a power of two) at `ring`, which holds UMEM_RING_HEADER_SIZE + capacity. */
static inline void umem_ring_writer_create(struct umem_ring_writer *w, void *ring, int64_t capacity)
{
    w->header = ring;
    w->data = (char *)ring + UMEM_RING_HEADER_SIZE;
    w->capacity = capacity;
    w->position = 0;
    memset(ring, 0, UMEM_RING_HEADER_SIZE);
    *U32(ring, UMEM_RING_VERSION_OFF) = UMEM_RING_VERSION;
    *I64(ring, UMEM_RING_CAPACITY_OFF) = capacity;
    *I64(ring, UMEM_RING_DATA_OFFSET_OFF) = UMEM_RING_HEADER_SIZE;
    __atomic_store_n(U32(ring, UMEM_RING_MAGIC_OFF), UMEM_RING_MAGIC, __ATOMIC_RELEASE); /* last: the header is complete */
}

/* Claims, copies, commits and signals `n` bytes (at most the capacity; -1 otherwise), waking sleeping readers. */
static inline int umem_ring_write(struct umem_ring_writer *w, const void *src, int64_t n)
{
    if (n < 0 || n > w->capacity) return -1;
    if (n == 0) return 0;
    int64_t end = w->position + n;
    /* The claim before the copy: a reader checks it after copying, so it never returns overwritten bytes. */
    __atomic_exchange_n(I64(w->header, UMEM_RING_RESERVED_OFF), end, __ATOMIC_SEQ_CST);
    int64_t off = w->position & (w->capacity - 1);
    int64_t first = n < w->capacity - off ? n : w->capacity - off;
    memcpy(w->data + off, src, (size_t)first);
    if (n > first) memcpy(w->data, (const char *)src + first, (size_t)(n - first));
    __atomic_store_n(I64(w->header, UMEM_RING_COMMITTED_OFF), end, __ATOMIC_RELEASE);
    __atomic_fetch_add(U32(w->header, UMEM_RING_SIGNAL_OFF), 1, __ATOMIC_SEQ_CST);
    w->position = end;
    umem_futex_wake(U32(w->header, UMEM_RING_SIGNAL_OFF), INT_MAX); /* readers without a control region are not counted */
    return 0;
}

/* Ends the stream: readers read what is left, then their reads return 0. */
static inline void umem_ring_complete(struct umem_ring_writer *w)
{
    __atomic_store_n(U32(w->header, UMEM_RING_COMPLETED_OFF), 1u, __ATOMIC_RELEASE);
    __atomic_fetch_add(U32(w->header, UMEM_RING_SIGNAL_OFF), 1, __ATOMIC_SEQ_CST);
    umem_futex_wake(U32(w->header, UMEM_RING_SIGNAL_OFF), INT_MAX);
}

/* The byte the tests write at each stream position, so a reader can check every byte it gets. */
static inline uint8_t umem_pattern(int64_t position)
{
    return (uint8_t)(((uint64_t)position * 0x9E3779B97F4A7C15ull) >> 56);
}

#endif
