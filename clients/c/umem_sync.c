/*
 * umem_sync.c - the doorbell and ring of umem_sync.h: the algorithms of src/Umem.Client/Sync (AdaptiveWait,
 * SharedDoorbell, SharedRingWriter, SharedRingReader) with the same memory orders. A C# interlocked
 * read-modify-write is __ATOMIC_SEQ_CST here, Volatile.Read/Write are acquire/release, Volatile.ReadBarrier is an
 * acquire fence, Interlocked.MemoryBarrier a seq_cst fence.
 */
#define _GNU_SOURCE
#include "umem_sync.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define U32(base, off) ((uint32_t *)((char *)(base) + (off)))
#define I64(base, off) ((int64_t *)((char *)(base) + (off)))
#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* ---- spinning and sleeping ---- */

static inline void pause_once(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Never FUTEX_PRIVATE_FLAG: waiters in every process that maps the page share one queue. */
static void futex_wait(const uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec t = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
    syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout_ns < 0 ? NULL : &t, NULL, 0);
}

static void futex_wake(uint32_t *word, int count)
{
    syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

static double pause_ns;   /* 0: not measured yet (racy first use is harmless: every thread measures alike) */
static int default_spin = -1;

static double measure_pause(void)
{
    double best = 1e9;
    for (int run = 0; run < 5; run++) {
        int64_t start = now_ns();
        for (int i = 0; i < 512; i++) pause_once();
        double each = (double)(now_ns() - start) / 512;
        if (each < best) best = each;
    }
    return best < 0.5 ? 0.5 : best;
}

static int spins_for(double ns)
{
    if (pause_ns == 0) pause_ns = measure_pause();
    double n = ns / pause_ns;
    return n < 16 ? 16 : n > 1000000 ? 1000000 : (int)n;
}

int umem_default_spin_count(void)
{
    int spin = __atomic_load_n(&default_spin, __ATOMIC_RELAXED);
    if (spin >= 0) return spin;
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    spin = cpus > 1 ? spins_for(10000) : 0;
    __atomic_store_n(&default_spin, spin, __ATOMIC_RELAXED);
    return spin;
}

static void spin_init(umem_spin *s)
{
    memset(s, 0, sizeof *s);
    s->spin_count = umem_default_spin_count();
}

/* What a wait waits for: reads the futex word first (acquire), hands it back, then decides. */
struct condition {
    int (*satisfied)(const struct condition *c, uint32_t *futex_value);
    const void *a;
    uint32_t slots;
    int64_t target;
};

/* AdaptiveWait.Wait: spin within the adaptive budget, then count itself in *waiters (may be NULL) and sleep.
 * 0 when the condition holds, -ETIMEDOUT. */
static int wait_for(const struct condition *c, const uint32_t *word, uint32_t *waiters, umem_spin *s,
                    int64_t timeout_ns)
{
    uint32_t value;
    if (c->satisfied(c, &value)) return 0;
    if (timeout_ns == 0) return -ETIMEDOUT;
    int64_t deadline = timeout_ns < 0 ? 0 : now_ns() + timeout_ns;
    int spin = s->spin_count;
    int budget = s->budget > 0 && (++s->spinning_waits & 15) != 0 ? (s->budget < spin ? s->budget : spin) : spin;
    for (int i = 1; i <= budget; i++) {
        pause_once();
        if (c->satisfied(c, &value)) {
            long twice = 2L * (budget > i ? budget : i);
            s->spun++;
            s->budget = twice < spin ? (int)twice : spin;
            return 0;
        }
    }
    if (spin > 0) {
        int least = spins_for(500), half = budget / 2;
        if (least < 8) least = 8;
        s->budget = half > least ? (half < spin ? half : spin) : (least < spin ? least : spin);
    }
    for (;;) {
        int64_t remaining = -1;
        if (deadline != 0) {
            remaining = deadline - now_ns();
            if (remaining <= 0) return c->satisfied(c, &value) ? 0 : -ETIMEDOUT;
        }
        /* Announced (a full fence) before the last look: a signaller that changes the word and then reads
         * the announcement either is seen here or sees this waiter and wakes it. */
        if (waiters) __atomic_fetch_add(waiters, 1, __ATOMIC_SEQ_CST);
        int done = c->satisfied(c, &value);
        if (!done) {
            s->slept++;
            futex_wait(word, value, remaining);
        }
        if (waiters) __atomic_fetch_sub(waiters, 1, __ATOMIC_SEQ_CST);
        if (done || c->satisfied(c, &value)) return 0;
    }
}

/* ---- doorbell ---- */

int umem_doorbell_init(umem_doorbell *d, void *sequence, void *waiters)
{
    if (!sequence || ((uintptr_t)sequence & 3) || ((uintptr_t)waiters & 3)) return -EINVAL;
    d->sequence = sequence;
    d->waiters = waiters;
    spin_init(&d->spin);
    return 0;
}

void umem_doorbell_reset(umem_doorbell *d)
{
    STORE(d->sequence, 0u);
    if (d->waiters) STORE(d->waiters, 0u);
}

uint32_t umem_doorbell_sequence(const umem_doorbell *d)
{
    return LOAD(d->sequence);
}

uint32_t umem_doorbell_ring(umem_doorbell *d)
{
    /* A full fence: the new number is visible before the waiters word is read (the waiter mirrors it). */
    uint32_t v = __atomic_add_fetch(d->sequence, 1, __ATOMIC_SEQ_CST);
    if (!d->waiters || LOAD(d->waiters) != 0) {
        d->spin.wakes++;
        futex_wake(d->sequence, INT_MAX);
    }
    return v;
}

static int sequence_changed(const struct condition *c, uint32_t *value)
{
    *value = LOAD((const uint32_t *)c->a);
    return *value != (uint32_t)c->target;
}

int umem_doorbell_wait(umem_doorbell *d, uint32_t last_seen, int64_t timeout_ns, uint32_t *current)
{
    struct condition c = { sequence_changed, d->sequence, 0, last_seen };
    int rc = wait_for(&c, d->sequence, d->waiters, &d->spin, timeout_ns);
    if (current) *current = LOAD(d->sequence);
    return rc;
}

/* ---- ring writer ---- */

static int valid_capacity(int64_t capacity)
{
    return capacity >= UMEM_RING_MIN_CAPACITY && capacity <= UMEM_RING_MAX_CAPACITY && (capacity & (capacity - 1)) == 0;
}

int umem_ring_writer_create(umem_ring_writer *w, void *ring, size_t ring_length, int64_t capacity, void *control,
                            size_t control_length)
{
    if (!ring || ((uintptr_t)ring & 7) || !valid_capacity(capacity) || ring_length < UMEM_RING_LENGTH(capacity))
        return -EINVAL;
    if (control && (((uintptr_t)control & 7) || control_length < UMEM_CTL_SLOTS_OFF)) return -EINVAL;
    memset(w, 0, sizeof *w);
    w->header = ring;
    w->data = (char *)ring + UMEM_RING_HEADER_SIZE;
    w->capacity = capacity;
    w->control = control;
    spin_init(&w->spin);
    if (control) {
        size_t slots = (control_length - UMEM_CTL_SLOTS_OFF) / UMEM_CTL_SLOT_SIZE;
        w->slots = (uint32_t)(slots < UMEM_RING_MAX_READER_SLOTS ? slots : UMEM_RING_MAX_READER_SLOTS);
        /* The control region first: a reader that sees the ring's magic may open it at once. */
        memset(control, 0, UMEM_RING_CONTROL_LENGTH(w->slots));
        *U32(control, UMEM_RING_VERSION_OFF) = UMEM_RING_VERSION;
        *U32(control, UMEM_CTL_SLOT_COUNT_OFF) = w->slots;
        STORE(U32(control, UMEM_RING_MAGIC_OFF), UMEM_RING_CONTROL_MAGIC);
    }
    memset(ring, 0, UMEM_RING_HEADER_SIZE);
    *U32(ring, UMEM_RING_VERSION_OFF) = UMEM_RING_VERSION;
    *I64(ring, UMEM_RING_CAPACITY_OFF) = capacity;
    *I64(ring, UMEM_RING_DATA_OFFSET_OFF) = UMEM_RING_HEADER_SIZE;
    *U32(ring, UMEM_RING_FLAGS_OFF) = control ? UMEM_RING_FLAG_COUNTS_WAITERS : 0;
    STORE(U32(ring, UMEM_RING_MAGIC_OFF), UMEM_RING_MAGIC);   /* last: the header is complete once seen */
    return 0;
}

/* Every active slot's cursor is at or past the target (joining slots are not waited for). */
static int readers_reached(const struct condition *c, uint32_t *value)
{
    const char *control = c->a;
    *value = LOAD(U32(control, UMEM_CTL_SPACE_OFF));
    const char *slot = control + UMEM_CTL_SLOTS_OFF;
    for (uint32_t i = 0; i < c->slots; i++, slot += UMEM_CTL_SLOT_SIZE) {
        if (LOAD(U32(slot, UMEM_CTL_SLOT_STATE_OFF)) == UMEM_SLOT_ACTIVE
            && LOAD(I64(slot, UMEM_CTL_SLOT_CURSOR_OFF)) - c->target < 0)
            return 0;
    }
    return 1;
}

static int wait_for_readers(umem_ring_writer *w, int64_t target, int64_t timeout_ns)
{
    struct condition c = { readers_reached, w->control, w->slots, target };
    return wait_for(&c, U32(w->control, UMEM_CTL_SPACE_OFF), U32(w->control, UMEM_CTL_WRITER_WAITING_OFF), &w->spin,
                    timeout_ns);
}

int umem_ring_write(umem_ring_writer *w, const void *src, size_t n, int64_t timeout_ns)
{
    if (w->completed || n > (size_t)w->capacity) return -EINVAL;
    if (n == 0) return 0;
    int64_t end = w->position + (int64_t)n;
    if (w->control) {
        int64_t start = timeout_ns < 0 ? 0 : now_ns();
        if (wait_for_readers(w, end - w->capacity, timeout_ns) != 0) return -ETIMEDOUT;
        /* Claim (a full fence), then look again: a reader joining meanwhile is seen, or sees the claim. */
        __atomic_exchange_n(I64(w->header, UMEM_RING_RESERVED_OFF), end, __ATOMIC_SEQ_CST);
        int64_t left = timeout_ns < 0 ? -1 : timeout_ns - (now_ns() - start);
        if (wait_for_readers(w, end - w->capacity, left < -1 ? 0 : left) != 0) return -ETIMEDOUT;
    } else {
        /* Broadcast: readers check the claim after copying, so nothing is overwritten before it is given up. */
        __atomic_exchange_n(I64(w->header, UMEM_RING_RESERVED_OFF), end, __ATOMIC_SEQ_CST);
    }
    int64_t off = w->position & (w->capacity - 1);
    int64_t first = (int64_t)n < w->capacity - off ? (int64_t)n : w->capacity - off;
    memcpy(w->data + off, src, (size_t)first);
    if ((int64_t)n > first) memcpy(w->data, (const char *)src + first, n - (size_t)first);
    STORE(I64(w->header, UMEM_RING_COMMITTED_OFF), end);
    /* The signal is the readers' futex word; the increment is also the full fence before the waiters count. */
    __atomic_fetch_add(U32(w->header, UMEM_RING_SIGNAL_OFF), 1, __ATOMIC_SEQ_CST);
    w->position = end;
    if (!w->control || LOAD(U32(w->control, UMEM_CTL_READER_WAITERS_OFF)) != 0) {
        w->spin.wakes++;
        futex_wake(U32(w->header, UMEM_RING_SIGNAL_OFF), INT_MAX);
    }
    return 0;
}

int umem_ring_wait_until_read(umem_ring_writer *w, int64_t timeout_ns)
{
    return w->control ? wait_for_readers(w, w->position, timeout_ns) : 0;
}

void umem_ring_complete(umem_ring_writer *w)
{
    if (w->completed) return;
    w->completed = 1;
    STORE(U32(w->header, UMEM_RING_COMPLETED_OFF), 1u);
    __atomic_fetch_add(U32(w->header, UMEM_RING_SIGNAL_OFF), 1, __ATOMIC_SEQ_CST);
    futex_wake(U32(w->header, UMEM_RING_SIGNAL_OFF), INT_MAX);
}

/* ---- ring reader ---- */

int umem_ring_reader_open(umem_ring_reader *r, const void *ring, size_t ring_length, void *control,
                          size_t control_length, int flow_controlled)
{
    if (!ring || ((uintptr_t)ring & 7) || ring_length < UMEM_RING_HEADER_SIZE) return -EINVAL;
    if (LOAD(U32(ring, UMEM_RING_MAGIC_OFF)) != UMEM_RING_MAGIC || *U32(ring, UMEM_RING_VERSION_OFF) != UMEM_RING_VERSION)
        return -EINVAL;
    int64_t capacity = *I64(ring, UMEM_RING_CAPACITY_OFF);
    if (!valid_capacity(capacity) || *I64(ring, UMEM_RING_DATA_OFFSET_OFF) != UMEM_RING_HEADER_SIZE
        || ring_length < UMEM_RING_LENGTH(capacity))
        return -EINVAL;
    memset(r, 0, sizeof *r);
    r->header = ring;
    r->data = (const char *)ring + UMEM_RING_HEADER_SIZE;
    r->capacity = capacity;   /* kept: a corrupted header cannot make this reader leave the region */
    r->can_sleep = control != NULL || (*U32(ring, UMEM_RING_FLAGS_OFF) & UMEM_RING_FLAG_COUNTS_WAITERS) == 0;
    spin_init(&r->spin);
    if (!control) {
        r->position = LOAD(I64(ring, UMEM_RING_COMMITTED_OFF));
        return 0;
    }
    if (((uintptr_t)control & 7) || control_length < UMEM_CTL_SLOTS_OFF
        || LOAD(U32(control, UMEM_RING_MAGIC_OFF)) != UMEM_RING_CONTROL_MAGIC
        || *U32(control, UMEM_RING_VERSION_OFF) != UMEM_RING_VERSION)
        return -EINVAL;
    uint32_t slots = *U32(control, UMEM_CTL_SLOT_COUNT_OFF);
    if (slots > UMEM_RING_MAX_READER_SLOTS || UMEM_RING_CONTROL_LENGTH(slots) > control_length) return -EINVAL;
    r->control = control;
    if (!flow_controlled) {
        r->position = LOAD(I64(ring, UMEM_RING_COMMITTED_OFF));
        return 0;
    }
    for (uint32_t i = 0; i < slots && !r->slot; i++) {
        char *s = (char *)control + UMEM_CTL_SLOTS_OFF + (size_t)i * UMEM_CTL_SLOT_SIZE;
        uint32_t expected = UMEM_SLOT_FREE;
        if (__atomic_compare_exchange_n(U32(s, UMEM_CTL_SLOT_STATE_OFF), &expected, UMEM_SLOT_JOINING, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            r->slot = s;
    }
    if (!r->slot) return -EBUSY;
    /* Join: publish a start, go active (a full fence), then check that no claim already passed the start. */
    for (;;) {
        int64_t start = LOAD(I64(ring, UMEM_RING_COMMITTED_OFF));
        STORE(I64(r->slot, UMEM_CTL_SLOT_CURSOR_OFF), start);
        __atomic_exchange_n(U32(r->slot, UMEM_CTL_SLOT_STATE_OFF), UMEM_SLOT_ACTIVE, __ATOMIC_SEQ_CST);
        if (LOAD(I64(ring, UMEM_RING_RESERVED_OFF)) - start <= capacity) {
            r->position = start;
            return 0;
        }
    }
}

static void wake_writer_if_waiting(umem_ring_reader *r)
{
    uint32_t *waiting = U32(r->control, UMEM_CTL_WRITER_WAITING_OFF);
    if (LOAD(waiting) == 0) return;
    __atomic_fetch_add(U32(r->control, UMEM_CTL_SPACE_OFF), 1, __ATOMIC_SEQ_CST);
    r->spin.wakes++;
    futex_wake(U32(r->control, UMEM_CTL_SPACE_OFF), 1);
}

static void publish(umem_ring_reader *r)
{
    if (!r->slot) return;
    STORE(I64(r->slot, UMEM_CTL_SLOT_CURSOR_OFF), r->position);   /* release: after the copy's loads */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);                      /* before the writer-waiting count is read */
    wake_writer_if_waiting(r);
}

/* -EAGAIN: nothing yet; 0: end of stream; otherwise bytes read or another negative errno. */
static int64_t try_read(umem_ring_reader *r, void *dst, size_t max)
{
    int64_t committed = LOAD(I64(r->header, UMEM_RING_COMMITTED_OFF));
    int64_t available = committed - r->position;
    if (available == 0) {
        /* Completed is set after the last commit: once it is seen, the committed cursor is final. */
        if (LOAD(U32(r->header, UMEM_RING_COMPLETED_OFF)) == 0) return -EAGAIN;
        available = LOAD(I64(r->header, UMEM_RING_COMMITTED_OFF)) - r->position;
        if (available == 0) return 0;
    }
    if (available < 0) return -EIO;
    if (available > r->capacity) return -EOVERFLOW;
    int64_t n = available < (int64_t)max ? available : (int64_t)max;
    int64_t off = r->position & (r->capacity - 1);
    int64_t first = n < r->capacity - off ? n : r->capacity - off;
    memcpy(dst, r->data + off, (size_t)first);
    if (n > first) memcpy((char *)dst + first, r->data, (size_t)(n - first));
    /* The copy's loads before the claim is read: a claim over the copied bytes is seen, the copy discarded. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (LOAD(I64(r->header, UMEM_RING_RESERVED_OFF)) - r->position > r->capacity) return -EOVERFLOW;
    r->position += n;
    publish(r);
    return n;
}

static int data_arrived(const struct condition *c, uint32_t *value)
{
    const char *header = c->a;
    *value = LOAD(U32(header, UMEM_RING_SIGNAL_OFF));
    return LOAD(I64(header, UMEM_RING_COMMITTED_OFF)) != c->target || LOAD(U32(header, UMEM_RING_COMPLETED_OFF)) != 0;
}

int64_t umem_ring_read(umem_ring_reader *r, void *dst, size_t max, int64_t timeout_ns)
{
    if (max == 0) return -EINVAL;
    int64_t deadline = timeout_ns < 0 ? 0 : now_ns() + timeout_ns;
    for (;;) {
        int64_t n = try_read(r, dst, max);
        if (n != -EAGAIN) return n;
        if (timeout_ns == 0) return -EAGAIN;
        if (!r->can_sleep) return -EOPNOTSUPP;
        int64_t left = deadline == 0 ? -1 : deadline - now_ns();
        if (deadline != 0 && left <= 0) return -ETIMEDOUT;
        struct condition c = { data_arrived, r->header, 0, r->position };
        uint32_t *waiters = r->control ? U32(r->control, UMEM_CTL_READER_WAITERS_OFF) : NULL;
        if (wait_for(&c, U32(r->header, UMEM_RING_SIGNAL_OFF), waiters, &r->spin, left) != 0) return -ETIMEDOUT;
    }
}

int64_t umem_ring_skip_to_latest(umem_ring_reader *r)
{
    int64_t committed = LOAD(I64(r->header, UMEM_RING_COMMITTED_OFF));
    int64_t skipped = committed - r->position;
    r->position = committed;
    publish(r);
    return skipped;
}

void umem_ring_reader_close(umem_ring_reader *r)
{
    if (!r->slot) return;
    __atomic_exchange_n(U32(r->slot, UMEM_CTL_SLOT_STATE_OFF), UMEM_SLOT_FREE, __ATOMIC_SEQ_CST);
    wake_writer_if_waiting(r);
    r->slot = NULL;
}
