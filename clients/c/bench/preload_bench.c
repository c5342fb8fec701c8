/*
 * preload_bench.c - what libumem-preload.so costs, beside raw-syscall baselines in the same run, rounds interleaved
 * so every operation sees the same load (bench/preload.sh runs it with and without the preload; bench/README.md).
 *
 * usage: preload_bench DEVICE ROUNDS N
 * Each round runs N of every operation in turn:
 *   fstat_libc     fstat(2) of /dev/null through libc (and, under LD_PRELOAD, through the preload's check)
 *   fstat_raw      the same as syscall(SYS_fstat): the floor no wrapper can go below
 *   close_libc     close(dup(fd)) of /dev/null through libc (two wrapped calls)
 *   close_raw      the same as two raw syscalls
 *   poll_libc      poll(2) of /dev/null for POLLIN, timeout 0, through libc (under LD_PRELOAD: the preload's scan)
 *   poll_raw       the same as syscall(SYS_ppoll) with a zero timeout
 *   map_preload    mmap(2) of one page of DEVICE on a plain open(2) fd, touch, munmap(2): the preload's way
 *                  (only under LD_PRELOAD)
 *   map_libumem    umem_mmap of one page of DEVICE, touch, umem_munmap: the C client's way
 * and prints per operation the best and median round in ns (fstat, close) or µs (maps) per operation, and the
 * ratios wrapped/raw and map_preload/map_libumem.
 */
#define _GNU_SOURCE
#include "../umem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { FSTAT_LIBC, FSTAT_RAW, CLOSE_LIBC, CLOSE_RAW, POLL_LIBC, POLL_RAW, MAP_PRELOAD, MAP_LIBUMEM, OPS };
static const char *const op_names[OPS] = { "fstat_libc", "fstat_raw", "close_libc", "close_raw", "poll_libc",
                                           "poll_raw", "map_preload", "map_libumem" };

static int null_fd, dev_fd = -1;
static umem_dev *dev;
static size_t ps;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "preload_bench: %s: %s\n", what, umem_errname(err));
    exit(1);
}

static void run(int op, long n)
{
    struct stat st;
    struct pollfd p = { .fd = null_fd, .events = POLLIN };
    struct timespec zero = { 0, 0 };
    for (long i = 0; i < n; i++) {
        switch (op) {
        case FSTAT_LIBC:
            if (fstat(null_fd, &st) != 0)
                die("fstat", -errno);
            break;
        case FSTAT_RAW:
            if (syscall(SYS_fstat, null_fd, &st) != 0)
                die("SYS_fstat", -errno);
            break;
        case CLOSE_LIBC:
            if (close(dup(null_fd)) != 0)
                die("close(dup)", -errno);
            break;
        case CLOSE_RAW:
            if (syscall(SYS_close, syscall(SYS_dup, null_fd)) != 0)
                die("SYS_close(SYS_dup)", -errno);
            break;
        case POLL_LIBC:
            if (poll(&p, 1, 0) != 1)
                die("poll", -errno);
            break;
        case POLL_RAW:
            if (syscall(SYS_ppoll, &p, 1, &zero, NULL, 0) != 1)
                die("SYS_ppoll", -errno);
            break;
        case MAP_PRELOAD: {
            volatile char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
            if (p == MAP_FAILED)
                die("mmap", -errno);
            p[0]++;
            if (munmap((void *)p, ps) != 0)
                die("munmap", -errno);
            break;
        }
        case MAP_LIBUMEM: {
            void *a;
            int err = umem_mmap(dev, 0, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
            if (err != 0)
                die("umem_mmap", err);
            ((volatile char *)a)[0]++;
            if ((err = umem_munmap(dev, a, ps)) != 0)
                die("umem_munmap", err);
            break;
        }
        }
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: preload_bench DEVICE ROUNDS N\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    long n = atol(argv[3]);
    if (rounds <= 0 || rounds > 1000 || n <= 0) {
        fprintf(stderr, "preload_bench: ROUNDS must be 1..1000 and N positive\n");
        return 2;
    }
    ps = (size_t)sysconf(_SC_PAGESIZE);
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int err = umem_open(argv[1], O_RDWR, &dev);
    if (null_fd < 0 || err != 0)
        die(argv[1], null_fd < 0 ? -errno : err);
    dev_fd = open(argv[1], O_RDWR | O_CLOEXEC); /* a device fd only under the preload (ENXIO without it) */
    int preloaded = dev_fd >= 0;
    printf("# preload: %s\n", preloaded ? "yes" : "no (map_preload skipped)");

    static double t[OPS][1000];
    for (int r = 0; r < rounds; r++) {
        for (int op = 0; op < OPS; op++) {
            if (op == MAP_PRELOAD && !preloaded)
                continue;
            long k = op >= MAP_PRELOAD ? n / 100 + 1 : n; /* maps are ~10^4 times slower than fstat */
            double t0 = now_ns();
            run(op, k);
            t[op][r] = (now_ns() - t0) / (double)k;
        }
    }
    double med[OPS];
    for (int op = 0; op < OPS; op++) {
        if (op == MAP_PRELOAD && !preloaded)
            continue;
        qsort(t[op], (size_t)rounds, sizeof t[op][0], by_value);
        med[op] = t[op][rounds / 2];
        double scale = op >= MAP_PRELOAD ? 1e3 : 1;
        printf("%-12s best %10.2f median %10.2f %s/op\n", op_names[op], t[op][0] / scale, med[op] / scale,
               op >= MAP_PRELOAD ? "us" : "ns");
    }
    printf("ratio fstat_libc/fstat_raw %.3f (median)\n", med[FSTAT_LIBC] / med[FSTAT_RAW]);
    printf("ratio close_libc/close_raw %.3f (median)\n", med[CLOSE_LIBC] / med[CLOSE_RAW]);
    printf("ratio poll_libc/poll_raw %.3f (median)\n", med[POLL_LIBC] / med[POLL_RAW]);
    if (preloaded)
        printf("ratio map_preload/map_libumem %.3f (median)\n", med[MAP_PRELOAD] / med[MAP_LIBUMEM]);
    if (preloaded)
        close(dev_fd);
    umem_close(dev);
    close(null_fd);
    return 0;
}
