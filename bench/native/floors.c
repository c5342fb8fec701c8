/*
 * C-to-C floors for the doorbell and ring benchmarks: two C processes (this one and a fork) do the work, the
 * benchmark process (C#) only starts each batch and learns when it is done, through a control memfd:
 *
 *   floors <mode> <control>      mode: spin | futex | socket | ring
 *   floors <mode> - <batch>      standalone: runs 5 batches itself and prints ns per round trip (or per 64 KiB)
 *
 * control (opened through /proc/<pid>/fd/<n>): command doorbell at 0, done doorbell at 64 (umem_sync.h layout),
 * the batch size at 128 (round trips, or bytes for ring; negative: exit). Both processes sleep on the command
 * doorbell between batches, so they take no CPU while the benchmark process does its own bookkeeping.
 *
 *   spin:   ping-pong by spinning on two words in a shared page (no system call): the spinning floor
 *   futex:  ping-pong with FUTEX_WAKE / FUTEX_WAIT on every message: the sleeping floor
 *   socket: ping-pong of one byte over an AF_UNIX stream socketpair
 *   ring:   a classic SPSC byte ring (1 MiB, 64 KiB writes, head/tail cursors, spinning) between two processes
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
#include "umem_sync.h"

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
            while (__atomic_load_n(pong, __ATOMIC_ACQUIRE) != s) umem_pause();
        } else {
            while (__atomic_load_n(ping, __ATOMIC_ACQUIRE) != s) umem_pause();
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
            umem_futex_wake(mine, 1);
        }
        while ((v = __atomic_load_n(theirs, __ATOMIC_ACQUIRE)) != s) umem_futex_wait(theirs, v, NULL);
        if (!initiator) {
            __atomic_store_n(mine, s, __ATOMIC_SEQ_CST);
            umem_futex_wake(mine, 1);
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

static void ring_side(int producer, int64_t bytes)
{
    static uint8_t chunk[RING_CHUNK];
    static int filled;
    if (!filled) {
        /* Real pages with data: an untouched static buffer would be 16 mappings of the one zero page. */
        for (int i = 0; i < RING_CHUNK; i++) chunk[i] = (uint8_t)(i * 131 + 7);
        filled = 1;
    }
    /* head and tail 256 bytes apart: not even the adjacent-line prefetcher pairs their cache lines */
    int64_t *head = I64(shared, 0), *tail = I64(shared, 256);
    char *data = shared + 4096;
    int64_t done = 0;
    while (done < bytes) {
        if (producer) {
            int64_t h = *head;
            while (h + RING_CHUNK - __atomic_load_n(tail, __ATOMIC_ACQUIRE) > RING_CAPACITY) umem_pause();
            memcpy(data + (h & (RING_CAPACITY - 1)), chunk, RING_CHUNK);   /* 64 KiB never wraps a 1 MiB ring */
            __atomic_store_n(head, h + RING_CHUNK, __ATOMIC_RELEASE);
            done += RING_CHUNK;
        } else {
            int64_t t = *tail, h;
            while ((h = __atomic_load_n(head, __ATOMIC_ACQUIRE)) == t) umem_pause();
            int64_t n = h - t < RING_CHUNK ? h - t : RING_CHUNK;
            int64_t off = t & (RING_CAPACITY - 1), first = n < RING_CAPACITY - off ? n : RING_CAPACITY - off;
            memcpy(chunk, data + off, (size_t)first);
            if (n > first) memcpy(chunk + first, data, (size_t)(n - first));
            __atomic_store_n(tail, t + n, __ATOMIC_RELEASE);
            done += n;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: floors spin|futex|socket|ring <control> | floors <mode> - <batch>\n");
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
    shared = mmap(NULL, 4096 + RING_CAPACITY, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (shared == MAP_FAILED) { perror("mmap shared"); return 10; }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) < 0) { perror("socketpair"); return 10; }

    pid_t driver = standalone ? fork() : 1;
    if (driver == 0) {
        /* The standalone driver: what the benchmark process does, timed with CLOCK_MONOTONIC. */
        int64_t batch = argc == 4 ? atoll(argv[3]) : 10000;
        uint32_t done_seen = 0;
        for (int i = 0; i <= 5; i++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            __atomic_store_n(I64(control, 128), i < 5 ? batch : -1, __ATOMIC_RELEASE);
            umem_doorbell_ring(control);
            if (i == 5) break;
            done_seen = umem_doorbell_wait(control + 64, done_seen, 0, NULL, NULL);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
            int64_t ops = strcmp(mode, "ring") == 0 ? batch / RING_CHUNK : batch;
            printf("%s: %.1f ns per %s\n", mode, ns / (double)ops, strcmp(mode, "ring") == 0 ? "64 KiB" : "round trip");
        }
        return 0;
    }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 10; }
    if (child == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
    int initiator = child != 0;   /* the parent pings (or produces); the child echoes (or consumes) */
    void *command = control, *done = control + 64;
    uint32_t last = 0, seq = 0;
    for (;;) {
        last = umem_doorbell_wait(command, last, 0, NULL, NULL);
        int64_t n = __atomic_load_n(I64(control, 128), __ATOMIC_ACQUIRE);
        if (n < 0) break;
        if (strcmp(mode, "spin") == 0) spin_side(initiator, n, &seq);
        else if (strcmp(mode, "futex") == 0) futex_side(initiator, n, &seq);
        else if (strcmp(mode, "socket") == 0) socket_side(initiator, n);
        else if (strcmp(mode, "ring") == 0) ring_side(initiator, n);
        else { fprintf(stderr, "unknown mode %s\n", mode); return 64; }
        /* The side that finishes last rings: the initiator of a ping-pong, the consumer of the ring. */
        if (strcmp(mode, "ring") == 0 ? !initiator : initiator) umem_doorbell_ring(done);
    }
    if (child != 0) waitpid(child, NULL, 0);
    if (standalone && child != 0) waitpid(driver, NULL, 0);
    return 0;
}
