/*
 * C-to-C floors for the doorbell and ring benchmarks: two C processes (this one and a fork) do the work, the
 * benchmark process (C#) only starts each batch and learns when it is done, through a control memfd:
 *
 *   floors <mode> <control>      mode: spin | futex | socket | ring | doorbell | doorbell-sleep | umem-ring
 *   floors <mode> - <batch>      standalone: runs 5 batches itself and prints ns per round trip (or per 64 KiB)
 *
 * control (opened through /proc/<pid>/fd/<n>): command doorbell at 0, done doorbell at 64 (umem_sync.h layout),
 * the batch size at 128 (round trips, or bytes for the rings; negative: exit). Both processes sleep on the
 * command doorbell between batches, so they take no CPU while the benchmark process does its own bookkeeping.
 *
 * The classic floors, the mechanisms alone:
 *   spin:   ping-pong by spinning on two words in a shared page (no system call, never sleeps)
 *   futex:  ping-pong with FUTEX_WAKE / FUTEX_WAIT on every message
 *   socket: ping-pong of one byte over an AF_UNIX stream socketpair
 *   ring:   a classic SPSC byte ring (1 MiB, 64 KiB writes, head/tail cursors, spinning, never sleeping)
 * The same-policy floors, measured as the C# side is (the C client's umem_sync.c: the same layout, spin budget
 * and sleeping, so a ratio compares the C# code with C doing the same work):
 *   doorbell:       ping-pong with two umem_doorbells at the default spin count
 *   doorbell-sleep: the same with spin count 0 (every wait sleeps in FUTEX_WAIT, as the C# "sleeping" run)
 *   umem-ring:      a umem_ring_writer (1 MiB, control region, 64 KiB writes) and a flow-controlled reader
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "umem_sync.h"

#define U32(base, off) ((uint32_t *)((char *)(base) + (off)))
#define I64(base, off) ((int64_t *)((char *)(base) + (off)))
#define RING_OFF 4096   /* the umem-ring's ring region, then its control region */
#define CONTROL_OFF (RING_OFF + UMEM_RING_HEADER_SIZE + RING_CAPACITY)
#define SHARED_SIZE (CONTROL_OFF + 4096)

static inline void pause_once(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static long futex_wait(uint32_t *word, uint32_t expected)
{
    return syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static long futex_wake(uint32_t *word, int count)
{
    return syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

#define RING_CAPACITY (1 << 20)
#define RING_CHUNK (64 << 10)

static char *shared;          /* anonymous shared memory, mapped before the fork */
static int sockets[2];

static void spin_side(int initiator, int64_t rounds, uint32_t *seq)
{
    uint32_t *ping = U32(shared, 0), *pong = U32(shared, 64);
    for (int64_t i = 0; i < rounds; i++) {
        uint32_t s = ++*seq;
        /* A seq_cst store (xchg on x86-64) drains the store buffer at once; measured a few per cent faster here
         * than a plain release store, so it is the floor. */
        if (initiator) {
            __atomic_store_n(ping, s, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(pong, __ATOMIC_ACQUIRE) != s) pause_once();
        } else {
            while (__atomic_load_n(ping, __ATOMIC_ACQUIRE) != s) pause_once();
            __atomic_store_n(pong, s, __ATOMIC_SEQ_CST);
        }
    }
}

static void futex_side(int initiator, int64_t rounds, uint32_t *seq)
{
    uint32_t *ping = U32(shared, 0), *pong = U32(shared, 64);
    uint32_t *mine = initiator ? ping : pong, *theirs = initiator ? pong : ping;
    for (int64_t i = 0; i < rounds; i++) {
        uint32_t s = ++*seq, v;
        if (initiator) {
            __atomic_store_n(mine, s, __ATOMIC_SEQ_CST);
            futex_wake(mine, 1);
        }
        while ((v = __atomic_load_n(theirs, __ATOMIC_ACQUIRE)) != s) futex_wait(theirs, v);
        if (!initiator) {
            __atomic_store_n(mine, s, __ATOMIC_SEQ_CST);
            futex_wake(mine, 1);
        }
    }
}

static void socket_side(int initiator, int64_t rounds)
{
    int fd = sockets[initiator ? 0 : 1];
    char b = 1;
    for (int64_t i = 0; i < rounds; i++) {
        if (initiator && write(fd, &b, 1) != 1) exit(20);
        if (read(fd, &b, 1) != 1) exit(21);
        if (!initiator && write(fd, &b, 1) != 1) exit(22);
    }
}

/* The 64 KiB both rings copy in and out: real pages with data (an untouched static buffer would be 16 mappings of
 * the one zero page). */
static uint8_t *ring_chunk(void)
{
    static uint8_t chunk[RING_CHUNK];
    static int filled;
    if (!filled) {
        for (int i = 0; i < RING_CHUNK; i++) chunk[i] = (uint8_t)(i * 131 + 7);
        filled = 1;
    }
    return chunk;
}

static void ring_side(int producer, int64_t bytes)
{
    uint8_t *chunk = ring_chunk();
    /* head and tail 256 bytes apart: not even the adjacent-line prefetcher pairs their cache lines */
    int64_t *head = I64(shared, 0), *tail = I64(shared, 256);
    char *data = shared + 4096;
    int64_t done = 0;
    while (done < bytes) {
        if (producer) {
            int64_t h = *head;
            while (h + RING_CHUNK - __atomic_load_n(tail, __ATOMIC_ACQUIRE) > RING_CAPACITY) pause_once();
            memcpy(data + (h & (RING_CAPACITY - 1)), chunk, RING_CHUNK);   /* 64 KiB never wraps a 1 MiB ring */
            __atomic_store_n(head, h + RING_CHUNK, __ATOMIC_RELEASE);
            done += RING_CHUNK;
        } else {
            int64_t t = *tail, h;
            while ((h = __atomic_load_n(head, __ATOMIC_ACQUIRE)) == t) pause_once();
            int64_t n = h - t < RING_CHUNK ? h - t : RING_CHUNK;
            int64_t off = t & (RING_CAPACITY - 1), first = n < RING_CAPACITY - off ? n : RING_CAPACITY - off;
            memcpy(chunk, data + off, (size_t)first);
            if (n > first) memcpy(chunk + first, data, (size_t)(n - first));
            __atomic_store_n(tail, t + n, __ATOMIC_RELEASE);
            done += n;
        }
    }
}

/* Ping-pong with the C client's doorbells (ping at 0, pong at 64), at the default spin count or none. */
static void doorbell_side(int initiator, int64_t rounds, int sleeping)
{
    static umem_doorbell ping, pong;
    static uint32_t last;
    if (!ping.sequence) {
        umem_doorbell_init(&ping, U32(shared, 0), U32(shared, 4));
        umem_doorbell_init(&pong, U32(shared, 64), U32(shared, 68));
        if (sleeping) ping.spin.spin_count = pong.spin.spin_count = 0;
    }
    for (int64_t i = 0; i < rounds; i++) {
        if (initiator) {
            umem_doorbell_ring(&ping);
            umem_doorbell_wait(&pong, last, -1, &last);
        } else {
            umem_doorbell_wait(&ping, last, -1, &last);
            umem_doorbell_ring(&pong);
        }
    }
}

/* The C client's ring: created, and joined by a flow-controlled reader, before the forks; the parent writes, the
 * child reads. */
static umem_ring_writer ring_writer;
static umem_ring_reader ring_reader;

static void umem_ring_side(int producer, int64_t bytes)
{
    uint8_t *chunk = ring_chunk();
    for (int64_t done = 0; done < bytes;) {
        int64_t n = producer ? (umem_ring_write(&ring_writer, chunk, RING_CHUNK, -1) == 0 ? RING_CHUNK : -1)
                             : umem_ring_read(&ring_reader, chunk, RING_CHUNK, -1);
        if (n <= 0) { fprintf(stderr, "umem-ring: %s failed: %lld\n", producer ? "write" : "read", (long long)n); exit(23); }
        done += n;
    }
    if (producer) umem_ring_wait_until_read(&ring_writer, -1);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: floors spin|futex|socket|ring|doorbell|doorbell-sleep|umem-ring <control> | floors <mode> - <batch>\n");
        return 64;
    }
    const char *mode = argv[1];
    int standalone = strcmp(argv[2], "-") == 0;
    char *control;
    if (standalone) {
        control = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    } else {
        int fd = open(argv[2], O_RDWR | O_CLOEXEC);
        if (fd < 0) { perror(argv[2]); return 10; }
        control = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
    }
    if (control == MAP_FAILED) { perror("mmap control"); return 10; }
    shared = mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (shared == MAP_FAILED) { perror("mmap shared"); return 10; }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) < 0) { perror("socketpair"); return 10; }

    if (strcmp(mode, "umem-ring") == 0
        && umem_ring_writer_create(&ring_writer, shared + RING_OFF, UMEM_RING_LENGTH(RING_CAPACITY), RING_CAPACITY,
                                   shared + CONTROL_OFF, UMEM_RING_CONTROL_LENGTH(1)) != 0) {
        fprintf(stderr, "umem_ring_writer_create failed\n");
        return 10;
    }
    /* The reader joins before any batch starts (only the consumer, a fork, uses it): joining later would start it
     * in the middle of the stream. */
    if (strcmp(mode, "umem-ring") == 0
        && umem_ring_reader_open(&ring_reader, shared + RING_OFF, UMEM_RING_LENGTH(RING_CAPACITY), shared + CONTROL_OFF,
                                 UMEM_RING_CONTROL_LENGTH(1), 1) != 0) {
        fprintf(stderr, "umem_ring_reader_open failed\n");
        return 10;
    }
    umem_doorbell command, done;
    umem_doorbell_init(&command, control, control + 4);
    umem_doorbell_init(&done, control + 64, control + 68);
    command.spin.spin_count = done.spin.spin_count = 0;
    int ring_mode = strcmp(mode, "ring") == 0 || strcmp(mode, "umem-ring") == 0;

    pid_t driver = standalone ? fork() : 1;
    if (driver == 0) {
        /* The standalone driver: what the benchmark process does, timed with CLOCK_MONOTONIC. */
        int64_t batch = argc == 4 ? atoll(argv[3]) : 10000;
        uint32_t done_seen = 0;
        for (int i = 0; i <= 5; i++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            __atomic_store_n(I64(control, 128), i < 5 ? batch : -1, __ATOMIC_RELEASE);
            umem_doorbell_ring(&command);
            if (i == 5) break;
            umem_doorbell_wait(&done, done_seen, -1, &done_seen);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
            int64_t ops = ring_mode ? batch / RING_CHUNK : batch;
            printf("%s: %.1f ns per %s\n", mode, ns / (double)ops, ring_mode ? "64 KiB" : "round trip");
        }
        return 0;
    }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 10; }
    if (child == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
    int initiator = child != 0;   /* the parent pings (or produces); the child echoes (or consumes) */
    uint32_t last = 0, seq = 0;
    for (;;) {
        umem_doorbell_wait(&command, last, -1, &last);
        int64_t n = __atomic_load_n(I64(control, 128), __ATOMIC_ACQUIRE);
        if (n < 0) break;
        if (strcmp(mode, "spin") == 0) spin_side(initiator, n, &seq);
        else if (strcmp(mode, "futex") == 0) futex_side(initiator, n, &seq);
        else if (strcmp(mode, "socket") == 0) socket_side(initiator, n);
        else if (strcmp(mode, "ring") == 0) ring_side(initiator, n);
        else if (strcmp(mode, "doorbell") == 0) doorbell_side(initiator, n, 0);
        else if (strcmp(mode, "doorbell-sleep") == 0) doorbell_side(initiator, n, 1);
        else if (strcmp(mode, "umem-ring") == 0) umem_ring_side(initiator, n);
        else { fprintf(stderr, "unknown mode %s\n", mode); return 64; }
        /* The side that finishes last rings: the initiator of a ping-pong, the consumer of the classic ring, the
         * producer of umem-ring (it waited until everything was read, as the C# benchmark's writer does). */
        if (strcmp(mode, "ring") == 0 ? !initiator : initiator) umem_doorbell_ring(&done);
    }
    if (child != 0) waitpid(child, NULL, 0);
    if (standalone && child != 0) waitpid(driver, NULL, 0);
    return 0;
}
