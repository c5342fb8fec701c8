/*
 * The C peer of Umem's doorbell and ring tests: the same shared layout (umem_sync.h), run in another process.
 * It opens the test's memfds through /proc/<pid>/fd/<n>.
 *
 *   syncpeer doorbell-echo <mem> <spin> <rounds>      ping doorbell at 0, pong at 64: wait for each ping, ring pong
 *   syncpeer ring-read <ring> <control|-> <flow 0|1> <seed> <max-read> <bytes|-1>
 *            reads (read-only mapping of <ring>) in random sizes, checks every byte against umem_pattern,
 *            prints "ready ..." once it has joined and "bytes=.. fnv=.. overruns=.. lost=.." at the end
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "umem_sync.h"

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

static int doorbell_echo(int argc, char **argv)
{
    if (argc != 5) return 64;
    char *mem = map_file(argv[2], 1, NULL);
    int spin = atoi(argv[3]);
    long rounds = atol(argv[4]);
    long spun = 0, slept = 0;
    void *ping = mem, *pong = mem + 64;
    uint32_t last = 0;   /* a fresh doorbell: the first ping may come before this process gets here */
    for (long i = 0; rounds == 0 || i < rounds; i++) {
        last = umem_doorbell_wait(ping, last, spin, &spun, &slept);
        umem_doorbell_ring(pong);
    }
    printf("spun=%ld slept=%ld\n", spun, slept);
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
    void *ring = map_file(argv[2], 0, NULL);
    void *control = strcmp(argv[3], "-") == 0 ? NULL : map_file(argv[3], 1, NULL);
    int flow = atoi(argv[4]);
    uint64_t rng = strtoull(argv[5], NULL, 10) | 1;
    int64_t max_read = atoll(argv[6]);
    int64_t want = atoll(argv[7]);
    struct umem_ring_reader r;
    int rc = umem_ring_reader_open(&r, ring, control, flow);
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
        int64_t n = umem_ring_read(&r, buf, size, 200);
        if (n == 0) break;
        if (n == UMEM_RING_OVERRUN) {
            int64_t committed = __atomic_load_n(I64(ring, UMEM_RING_COMMITTED_OFF), __ATOMIC_ACQUIRE);
            overruns++;
            lost += committed - r.position;
            r.position = committed;
            umem_ring_reader_publish(&r);
            continue;
        }
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

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "doorbell-echo") == 0) return doorbell_echo(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "ring-read") == 0) return ring_read(argc, argv);
    fprintf(stderr, "usage: syncpeer doorbell-echo <mem> <spin> <rounds> | ring-read <ring> <control|-> <flow> <seed> <max-read> <bytes|-1>\n");
    return 64;
}
