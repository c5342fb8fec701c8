/*
 * The C peer of Umem's doorbell and ring tests: the C client's umem_sync.h (clients/c/umem_sync.c) run in another
 * process against the C# types over the same shared memory. It opens the test's memfds through /proc/<pid>/fd/<n>.
 *
 *   syncpeer doorbell-echo <mem> <spin|-1> <rounds|0>   ping doorbell at 0, pong at 64: wait for each ping, read the
 *            message word at 128, write its answer (echo_answer) at 192, ring pong; prints "spun=.. slept=.. fnv=.."
 *            (FNV-1a of the messages seen)
 *   syncpeer doorbell-ping <mem> <spin|-1> <rounds>     the other side: write message i at 128, ring ping, wait for
 *            pong, check the answer at 192; prints "ns=.. spun=.. slept=.. fnv=.." (exit 3 on a wrong answer)
 *   syncpeer ring-read <ring> <control|-> <flow 0|1> <seed> <max-read> <bytes|-1>
 *            reads (read-only mapping of <ring>) in random sizes, checks every byte against umem_pattern,
 *            prints "ready ..." once it has joined and "bytes=.. fnv=.. overruns=.. lost=.." at the end
 *   syncpeer ring-write <ring> <control> <seed> <max-write> <bytes>
 *            creates the ring (capacity: the ring file's size less the header, rounded down to a power of two) with
 *            the control region, prints "ready", waits for a reader to hold a slot, writes umem_pattern bytes in
 *            random sizes, waits until they are read, completes and prints "bytes=.. fnv=.."
 * A spin of -1 keeps the default (umem_default_spin_count). Exit codes: 0 done, 2 timeout, 3 wrong data, 64 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sync_pattern.h"
#include "umem_sync.h"

#define GUARD_NS (60LL * 1000000000)   /* a peer that hears nothing for this long gives up: a guard, not a measure */

static void *map_file(const char *path, int writable, size_t *length)
{
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(10); }
    struct stat st;
    if (fstat(fd, &st) < 0) { perror("fstat"); exit(10); }
    void *p = mmap(NULL, (size_t)st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(10); }
    close(fd);
    if (length) *length = (size_t)st.st_size;
    return p;
}

/* The answer an echo writes for message m: what a stale or torn read could not produce by chance. */
static uint32_t echo_answer(uint32_t m)
{
    return m * 2654435761u + 1;
}

static uint64_t fnv_word(uint64_t fnv, uint32_t word)
{
    for (int i = 0; i < 4; i++) fnv = (fnv ^ ((word >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    return fnv;
}

/* doorbell-echo and doorbell-ping's arguments: maps <mem> and sets up the ping and pong doorbells in it. */
static char *doorbells(char **argv, long *rounds, umem_doorbell *ping, umem_doorbell *pong)
{
    char *mem = map_file(argv[2], 1, NULL);
    int spin = atoi(argv[3]);
    *rounds = atol(argv[4]);
    umem_doorbell_init(ping, mem, mem + 4);
    umem_doorbell_init(pong, mem + 64, mem + 68);
    if (spin >= 0) ping->spin.spin_count = pong->spin.spin_count = spin;
    return mem;
}

static int doorbell_echo(int argc, char **argv)
{
    if (argc != 5) return 64;
    long rounds;
    umem_doorbell ping, pong;
    char *mem = doorbells(argv, &rounds, &ping, &pong);
    uint32_t *message = (uint32_t *)(mem + 128), *answer = (uint32_t *)(mem + 192);
    uint64_t fnv = 0xcbf29ce484222325ull;
    uint32_t last = 0;   /* a fresh doorbell: the first ping may come before this process gets here */
    for (long i = 0; rounds == 0 || i < rounds; i++) {
        if (umem_doorbell_wait(&ping, last, GUARD_NS, &last) != 0) { printf("timeout after %ld\n", i); return 2; }
        uint32_t m = *message;   /* written before the ping; the wait's acquire load orders this read after it */
        fnv = fnv_word(fnv, m);
        *answer = echo_answer(m);
        umem_doorbell_ring(&pong);
    }
    printf("spun=%" PRIu64 " slept=%" PRIu64 " wakes=%" PRIu64 " fnv=%016" PRIx64 "\n", ping.spin.spun, ping.spin.slept,
           pong.spin.wakes, fnv);
    return 0;
}

static int doorbell_ping(int argc, char **argv)
{
    if (argc != 5) return 64;
    long rounds;
    umem_doorbell ping, pong;
    char *mem = doorbells(argv, &rounds, &ping, &pong);
    uint32_t last = umem_doorbell_sequence(&pong);
    uint32_t *message = (uint32_t *)(mem + 128), *answer = (uint32_t *)(mem + 192);
    uint64_t fnv = 0xcbf29ce484222325ull;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < rounds; i++) {
        uint32_t m = (uint32_t)i * 0x9E3779B9u;
        *message = m;   /* the ring's full fence publishes it */
        fnv = fnv_word(fnv, m);
        umem_doorbell_ring(&ping);
        if (umem_doorbell_wait(&pong, last, GUARD_NS, &last) != 0) { printf("timeout after %ld\n", i); return 2; }
        if (*answer != echo_answer(m)) {
            printf("wrong answer at %ld: %u for message %u\n", i, *answer, m);
            return 3;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)rounds;
    printf("ns=%.0f spun=%" PRIu64 " slept=%" PRIu64 " wakes=%" PRIu64 " fnv=%016" PRIx64 "\n", ns, pong.spin.spun,
           pong.spin.slept, ping.spin.wakes, fnv);
    return 0;
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *state = x;
}

static int ring_read(int argc, char **argv)
{
    if (argc != 8) return 64;
    size_t ring_length, control_length = 0;
    void *ring = map_file(argv[2], 0, &ring_length);
    void *control = strcmp(argv[3], "-") == 0 ? NULL : map_file(argv[3], 1, &control_length);
    int flow = atoi(argv[4]);
    uint64_t rng = strtoull(argv[5], NULL, 10) | 1;
    int64_t max_read = atoll(argv[6]);
    int64_t want = atoll(argv[7]);
    umem_ring_reader r;
    int rc = umem_ring_reader_open(&r, ring, ring_length, control, control_length, flow);
    if (rc != 0) { fprintf(stderr, "open failed: %d\n", rc); return 11; }
    printf("ready slot=%d position=%" PRId64 "\n", r.slot ? (int)((r.slot - (char *)control - UMEM_CTL_SLOTS_OFF) / UMEM_CTL_SLOT_SIZE) : -1, r.position);
    fflush(stdout);
    uint8_t *buf = malloc((size_t)max_read);
    uint64_t fnv = 0xcbf29ce484222325ull;
    int64_t total = 0, overruns = 0, lost = 0;
    while (want < 0 || total < want) {
        int64_t size = 1 + (int64_t)(next_random(&rng) % (uint64_t)max_read);
        if (want >= 0 && size > want - total) size = want - total;
        int64_t start = r.position;
        int64_t n = umem_ring_read(&r, buf, (size_t)size, GUARD_NS);
        if (n == 0) break;
        if (n == -EOVERFLOW) {
            overruns++;
            lost += umem_ring_skip_to_latest(&r);
            continue;
        }
        if (n == -ETIMEDOUT) { printf("timeout at %" PRId64 "\n", r.position); return 2; }
        if (n < 0) { fprintf(stderr, "read failed: %" PRId64 "\n", n); return 12; }
        for (int64_t i = 0; i < n; i++) {
            if (buf[i] != umem_pattern(start + i)) {
                printf("mismatch at %" PRId64 ": got %u expected %u\n", start + i, buf[i], umem_pattern(start + i));
                return 3;
            }
            fnv = (fnv ^ buf[i]) * 0x100000001b3ull;
        }
        total += n;
    }
    umem_ring_reader_close(&r);
    printf("bytes=%" PRId64 " fnv=%016" PRIx64 " overruns=%" PRId64 " lost=%" PRId64 "\n", total, fnv, overruns, lost);
    return 0;
}

static int ring_write(int argc, char **argv)
{
    if (argc != 7) return 64;
    size_t ring_length, control_length;
    void *ring = map_file(argv[2], 1, &ring_length);
    void *control = map_file(argv[3], 1, &control_length);
    uint64_t rng = strtoull(argv[4], NULL, 10) | 1;
    int64_t max_write = atoll(argv[5]), want = atoll(argv[6]);
    int64_t capacity = UMEM_RING_MIN_CAPACITY;
    while ((size_t)UMEM_RING_LENGTH(capacity * 2) <= ring_length && capacity * 2 <= UMEM_RING_MAX_CAPACITY) capacity *= 2;
    if (max_write > capacity) max_write = capacity;
    umem_ring_writer w;
    int rc = umem_ring_writer_create(&w, ring, ring_length, capacity, control, control_length);
    if (rc != 0) { fprintf(stderr, "create failed: %d\n", rc); return 11; }
    printf("ready capacity=%" PRId64 "\n", capacity);
    fflush(stdout);
    const uint32_t *first_state = (const uint32_t *)((char *)control + UMEM_CTL_SLOTS_OFF + UMEM_CTL_SLOT_STATE_OFF);
    for (int i = 0; __atomic_load_n(first_state, __ATOMIC_ACQUIRE) != UMEM_SLOT_ACTIVE; i++) {
        if (i == 60000) { printf("timeout: no reader\n"); return 2; }
        usleep(1000);   /* setup only: wait for the reader process to join */
    }
    uint8_t *buf = malloc((size_t)max_write);
    uint64_t fnv = 0xcbf29ce484222325ull;
    int64_t total = 0;
    while (total < want) {
        int64_t size = 1 + (int64_t)(next_random(&rng) % (uint64_t)max_write);
        if (size > want - total) size = want - total;
        for (int64_t i = 0; i < size; i++) {
            buf[i] = umem_pattern(total + i);
            fnv = (fnv ^ buf[i]) * 0x100000001b3ull;
        }
        if (umem_ring_write(&w, buf, (size_t)size, GUARD_NS) != 0) { printf("timeout at %" PRId64 "\n", total); return 2; }
        total += size;
    }
    if (umem_ring_wait_until_read(&w, GUARD_NS) != 0) { printf("timeout: not read\n"); return 2; }
    umem_ring_complete(&w);
    printf("bytes=%" PRId64 " fnv=%016" PRIx64 " sleeps=%" PRIu64 " wakes=%" PRIu64 "\n", total, fnv, w.spin.slept, w.spin.wakes);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "doorbell-echo") == 0) return doorbell_echo(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "doorbell-ping") == 0) return doorbell_ping(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "ring-read") == 0) return ring_read(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "ring-write") == 0) return ring_write(argc, argv);
    fprintf(stderr, "usage: syncpeer doorbell-echo|doorbell-ping <mem> <spin> <rounds> | ring-read <ring> <control|-> <flow> <seed> <max-read> <bytes|-1> | ring-write <ring> <control> <seed> <max-write> <bytes>\n");
    return 64;
}
