/*
 * umem_sync.h - the doorbell and byte ring of Umem.Client.Sync (docs/sync.md) in C: the same shared layout and
 * the same algorithms, so C and C# processes ring each other's doorbells and stream bytes through each other's
 * rings over any shared memory (a Umem mapping, a memfd, a tmpfs file mapped MAP_SHARED). Part of libumem; needs
 * only libc and a 64- or 32-bit x86 or arm64 Linux.
 *
 * The objects own no memory: the caller keeps the shared memory mapped while they are used. None is thread-safe
 * (one thread per object), but any number of processes may use one doorbell, and one writer with any number of
 * readers one ring. Calls that can fail return 0 (or a byte count) or a negative errno, as umem.h.
 *
 * Waits spin first (one PAUSE per look, for about 10 µs by default, measured once per process; 0 on one CPU),
 * then sleep in FUTEX_WAIT on a shared futex word. The spin budget adapts as in C#: halved after a wait that
 * slept, doubled after one that spinning satisfied, the whole budget every 16th wait. Timeouts are relative
 * nanoseconds: negative waits forever, 0 only looks.
 *
 * The offsets below are the layout; tests/Umem.Tests/Sync/LayoutTests.cs checks them against the C# types.
 */
#ifndef UMEM_SYNC_H
#define UMEM_SYNC_H

#include <stddef.h>
#include <stdint.h>

#ifndef UMEM_API
#if defined(__GNUC__)
#define UMEM_API __attribute__((visibility("default")))
#else
#define UMEM_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layout: doorbell (a sequence word, the futex word, then a count of sleeping waiters) ---- */
#define UMEM_DOORBELL_SIZE 8
#define UMEM_DOORBELL_SEQUENCE 0
#define UMEM_DOORBELL_WAITERS 4

/* ---- layout: ring region (written by the writer only; readers may map it read-only) ---- */
#define UMEM_RING_MAGIC 0x47524D55u         /* "UMRG" */
#define UMEM_RING_CONTROL_MAGIC 0x43524D55u /* "UMRC" */
#define UMEM_RING_VERSION 1u
#define UMEM_RING_HEADER_SIZE 256
#define UMEM_RING_MIN_CAPACITY 64
#define UMEM_RING_MAX_CAPACITY (1 << 30)
#define UMEM_RING_MAX_READER_SLOTS 1024
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

/* ---- layout: control region (read-write for every participant) ---- */
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

/* Bytes of a ring region for `capacity` data bytes, and of a control region for `slots` readers. */
#define UMEM_RING_LENGTH(capacity) ((size_t)UMEM_RING_HEADER_SIZE + (size_t)(capacity))
#define UMEM_RING_CONTROL_LENGTH(slots) ((size_t)UMEM_CTL_SLOTS_OFF + (size_t)(slots) * UMEM_CTL_SLOT_SIZE)

/* Spin state and statistics of one object (read them; the library updates them). */
typedef struct umem_spin {
    int spin_count;          /* looks before sleeping; set it after init (0: sleep at once) */
    int budget;              /* the adaptive budget (0: start from spin_count) */
    unsigned spinning_waits; /* waits that reached the spin phase */
    uint64_t spun;           /* waits that spinning satisfied (no system call) */
    uint64_t slept;          /* FUTEX_WAIT calls */
    uint64_t wakes;          /* FUTEX_WAKE calls */
} umem_spin;

/* The default spin_count: looks that take about 10 µs here (PAUSE timed once per process), 0 on one CPU. */
UMEM_API int umem_default_spin_count(void);

/* ---- doorbell ---- */
typedef struct umem_doorbell {
    uint32_t *sequence;
    uint32_t *waiters; /* NULL: waiters that can only read; every ring wakes */
    umem_spin spin;
} umem_doorbell;

/* A doorbell over the sequence word at `sequence` and the waiters word at `waiters` (NULL for none); both
 * 4-byte aligned (futex(2)). -EINVAL for a null or misaligned sequence word or a misaligned waiters word. */
UMEM_API int umem_doorbell_init(umem_doorbell *d, void *sequence, void *waiters);

/* Sets both words to zero: only while nobody else uses the doorbell (when creating it). */
UMEM_API void umem_doorbell_reset(umem_doorbell *d);

/* The current sequence number. */
UMEM_API uint32_t umem_doorbell_sequence(const umem_doorbell *d);

/* Increments the sequence number, wakes every sleeping waiter (a system call only when one sleeps); returns the
 * new number. */
UMEM_API uint32_t umem_doorbell_ring(umem_doorbell *d);

/* Waits until the sequence number differs from `last_seen`; stores it in *current (may be NULL). 0, or
 * -ETIMEDOUT (timeout_ns >= 0 passed; *current is still set). */
UMEM_API int umem_doorbell_wait(umem_doorbell *d, uint32_t last_seen, int64_t timeout_ns, uint32_t *current);

/* ---- ring writer ---- */
typedef struct umem_ring_writer {
    char *header, *data, *control;
    int64_t capacity, position;
    uint32_t slots;
    int completed;
    umem_spin spin;
} umem_ring_writer;

/* Lays out an empty ring of `capacity` bytes (a power of two from UMEM_RING_MIN_CAPACITY to
 * UMEM_RING_MAX_CAPACITY) at `ring` (UMEM_RING_LENGTH(capacity) bytes, 8-byte aligned). With a control region
 * (`control` non-NULL, UMEM_RING_CONTROL_LENGTH(slots) bytes) readers can hold slots the writer waits for, and
 * the writer wakes only readers counted asleep; without one it is broadcast only and every write wakes.
 * -EINVAL names no field: the capacity, an alignment or a length is wrong. */
UMEM_API int umem_ring_writer_create(umem_ring_writer *w, void *ring, size_t ring_length, int64_t capacity,
                                     void *control, size_t control_length);

/* Writes and publishes `n` bytes (at most the capacity), first waiting up to timeout_ns for flow-controlled
 * readers to make room. 0; -EINVAL (too large, or completed); -ETIMEDOUT (nothing written). */
UMEM_API int umem_ring_write(umem_ring_writer *w, const void *src, size_t n, int64_t timeout_ns);

/* Waits until every flow-controlled reader has read everything written. 0 or -ETIMEDOUT. */
UMEM_API int umem_ring_wait_until_read(umem_ring_writer *w, int64_t timeout_ns);

/* Ends the stream: readers read what is left, then their reads return 0. Idempotent. */
UMEM_API void umem_ring_complete(umem_ring_writer *w);

/* ---- ring reader ---- */
typedef struct umem_ring_reader {
    const char *header, *data;
    char *control, *slot;
    int64_t capacity, position;
    int can_sleep;
    umem_spin spin;
} umem_ring_reader;

/* Opens a reader at the newest byte of the ring at `ring` (read access suffices). With `control` (read-write)
 * it is counted while it sleeps, and with `flow_controlled` it takes a slot the writer waits for. -EINVAL: no
 * ring or control region there (magic, version, capacity or lengths wrong); -EBUSY: every slot is taken. */
UMEM_API int umem_ring_reader_open(umem_ring_reader *r, const void *ring, size_t ring_length, void *control,
                                   size_t control_length, int flow_controlled);

/* Reads up to `max` bytes, waiting up to timeout_ns for some. Returns the bytes read, 0 at the end of the
 * stream, or: -EAGAIN (timeout 0 and nothing yet), -ETIMEDOUT, -EOVERFLOW (the writer overwrote bytes this
 * broadcast reader had not read; it stays put: umem_ring_skip_to_latest resumes), -EIO (the ring's cursors are
 * corrupt), -EOPNOTSUPP (the writer wakes only counted readers and this reader has no control region), -EINVAL
 * (max is 0). Torn data is never returned. */
UMEM_API int64_t umem_ring_read(umem_ring_reader *r, void *dst, size_t max, int64_t timeout_ns);

/* Moves past everything published so far; returns how many bytes were skipped. */
UMEM_API int64_t umem_ring_skip_to_latest(umem_ring_reader *r);

/* Gives the reader's slot back, so the writer no longer waits for it. */
UMEM_API void umem_ring_reader_close(umem_ring_reader *r);

#ifdef __cplusplus
}
#endif

#endif
