/*
 * umem_greet.c - processes meet on one page of a Umem device. Each maps page 0 of DEVICE, claims a free
 * 64-byte slot of it, writes a greeting there, and waits until EXPECT slots are ready: 32- and 64-bit
 * clients, in C or C#, touching the very same physical page through the memfd the host gave each of them.
 *
 * usage: umem_greet DEVICE NAME EXPECT TIMEOUT_MS
 * With UMEM_GREET_HOLD set in the environment it keeps its mapping until a line arrives on stdin.
 * Built with -DUMEM_GREET_PLAIN (the Makefile's plain_greet) it includes no Umem header and calls open(2) and
 * mmap(2) on DEVICE, as an unmodified program does: run it with LD_PRELOAD=libumem-preload.so.
 * prints "seen pid=<pid> bits=<32|64> greeting=<text>" per ready slot, then
 *        "self pid=<pid> bits=<bits> slot=<n> addr=<hex>"
 * exit:  0 when EXPECT slots were ready; 1 on timeout (fewer seen, said on stderr) or error (errno name on
 *        stderr); 2 for bad arguments (named on stderr) - the convention of docs/operating.md, "Exit status"
 */
#define _GNU_SOURCE
#ifndef UMEM_GREET_PLAIN
#include "../umem.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 64

/* The page's layout, the same for every client (no pointer-sized field: 32 and 64 bits agree). */
struct slot {
    uint32_t pid;        /* 0 = free; claimed with a compare-and-swap */
    uint32_t model_bits; /* 32 or 64 */
    uint32_t ready;      /* 1 once greeting is written (release store) */
    uint32_t reserved;
    char greeting[48];
};

_Static_assert(sizeof(struct slot) == 64, "a slot is 64 bytes");

#ifdef UMEM_GREET_PLAIN
/* The device through the system calls alone (the preload makes them reach the host). */
typedef int device;
#define errname(err) strerror((err) < 0 ? -(err) : (err))

static int dev_open(const char *path, device *d)
{
    *d = open(path, O_RDWR | O_CLOEXEC);
    return *d < 0 ? -errno : 0;
}

static int dev_map(device d, size_t page, void **addr)
{
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
    *addr = p;
    return p == MAP_FAILED ? -errno : 0;
}

static void dev_close(device d, void *addr, size_t page)
{
    if (addr != NULL)
        munmap(addr, page);
    close(d);
}
#else
typedef umem_dev *device;
#define errname(err) umem_errname(err)

static int dev_open(const char *path, device *d)
{
    return umem_open(path, O_RDWR, d);
}

static int dev_map(device d, size_t page, void **addr)
{
    return umem_mmap(d, 0, page, PROT_READ | PROT_WRITE, MAP_SHARED, addr, NULL);
}

static void dev_close(device d, void *addr, size_t page)
{
    (void)addr; /* umem_close unmaps what the device still maps */
    (void)page;
    umem_close(d);
}
#endif

static int fail(const char *what, int err)
{
    fprintf(stderr, "umem_greet: %s: %s\n", what, errname(err));
    return 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_ready(struct slot *slots)
{
    int n = 0;
    for (int i = 0; i < SLOTS; i++)
        n += __atomic_load_n(&slots[i].ready, __ATOMIC_ACQUIRE) == 1;
    return n;
}

/* Argument `name` as a whole number in [min, max], or -1 with the reason on stderr. */
static long parse(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v >= min && v <= max)
        return v;
    fprintf(stderr, "umem_greet: %s '%s': not a whole number from %ld to %ld\n", name, s, min, max);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "umem_greet: %d arguments, expected 4\nusage: umem_greet DEVICE NAME EXPECT(1-%d) TIMEOUT_MS\n",
                argc - 1, SLOTS);
        return 2;
    }
    long expect = parse("EXPECT", argv[3], 1, SLOTS);
    long timeout = expect < 0 ? -1 : parse("TIMEOUT_MS", argv[4], 0, 86400000);
    if (expect < 0 || timeout < 0)
        return 2;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    device dev;
    void *addr = NULL;
    int r = dev_open(argv[1], &dev);
    if (r < 0)
        return fail(argv[1], r);
    r = dev_map(dev, page, &addr);
    if (r < 0) {
        dev_close(dev, NULL, page);
        return fail("mmap", r);
    }

    struct slot *slots = addr;
    uint32_t pid = (uint32_t)getpid();
    int mine = -1;
    for (int i = 0; i < SLOTS && mine < 0; i++) {
        uint32_t free_pid = 0;
        if (__atomic_compare_exchange_n(&slots[i].pid, &free_pid, pid, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            mine = i;
    }
    if (mine < 0) {
        dev_close(dev, addr, page);
        return fail("no free slot", ENOSPC);
    }
    struct slot *s = &slots[mine];
    s->model_bits = (uint32_t)(sizeof(void *) * 8);
    snprintf(s->greeting, sizeof s->greeting, "hello from %s", argv[2]);
    __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);

    int64_t deadline = now_ms() + timeout;
    int seen;
    while ((seen = count_ready(slots)) < expect && now_ms() < deadline) {
        struct timespec nap = { 0, 1000000 }; /* 1 ms */
        nanosleep(&nap, NULL);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (__atomic_load_n(&slots[i].ready, __ATOMIC_ACQUIRE) != 1)
            continue;
        char text[sizeof slots[i].greeting + 1];
        memcpy(text, slots[i].greeting, sizeof slots[i].greeting);
        text[sizeof slots[i].greeting] = '\0';
        printf("seen pid=%" PRIu32 " bits=%" PRIu32 " greeting=%s\n", slots[i].pid, slots[i].model_bits, text);
    }
    printf("self pid=%" PRIu32 " bits=%u slot=%d addr=%#" PRIxPTR "\n", pid, (unsigned)(sizeof(void *) * 8), mine,
           (uintptr_t)addr);
    fflush(stdout);
    /* UMEM_GREET_HOLD: keep the mapping until a line (or EOF) on stdin, so an observer can inspect it. */
    if (getenv("UMEM_GREET_HOLD") != NULL) {
        char line[16];
        if (fgets(line, sizeof line, stdin) == NULL) {
            /* EOF: release as well */
        }
    }
    dev_close(dev, addr, page);
    if (seen >= expect)
        return 0;
    fprintf(stderr, "umem_greet: saw %d of %ld greetings in %ld ms\n", seen, expect, timeout);
    return 1;
}
