/*
 * map_bench.c - the C client's map request beside its floor, interleaved so both see the same load (the C twin of
 * bench/Umem.Bench/Interleaved/MapRequestInterleaved.cs; bench/README.md has the figures).
 *
 * usage: map_bench DEVICE FLOOR ROUNDS N [PAGES]
 *   DEVICE  a device node served by the real host (`Umem.TestApp host DIR noevents`: node test0)
 *   FLOOR   the floor server's socket (`Umem.TestApp fdserver PATH`: 16 bytes back and one memfd, or no memfd
 *           when the request's first byte is 1)
 * Each round runs N of every operation in turn:
 *   map_unmap      umem_mmap of one page (read-write, shared), touch, umem_munmap (the MUNMAP goes without a reply)
 *   floor_fd       16 bytes to FLOOR, 16 bytes + one memfd back, mmap it, touch, munmap, close
 *   ioctl          umem_ioctl echo of one byte (no memory)
 *   floor_plain    a bare 16-byte round trip to FLOOR
 * and prints, per operation, the best and the median round in µs per operation, and the ratios of map_unmap to
 * floor_fd and of ioctl to floor_plain. With PAGES (a device of that many one-page segments: `host DIR noevents
 * pages=N`), one more operation, map_big: umem_mmap of PAGES pages, a write to each, umem_munmap (no floor).
 */
#define _GNU_SOURCE
#include "../umem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { MAP_UNMAP, FLOOR_FD, IOCTL, FLOOR_PLAIN, MAP_BIG, OPS };
static const char *const op_names[OPS] = { "map_unmap", "floor_fd", "ioctl", "floor_plain", "map_big" };

static umem_dev *dev;
static int floor_sock;
static size_t ps, big_pages;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "map_bench: %s: %s\n", what, umem_errname(err));
    exit(1);
}

static int connect_floor(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
        die(path, -errno);
    return s;
}

/* One round trip to the floor; with_fd: receive a memfd, map a page of it, touch, unmap, close. */
static void floor_trip(int with_fd)
{
    uint8_t req[16] = { with_fd ? 0 : 1 }, rep[16];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = { rep, sizeof rep };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf };
    if (send(floor_sock, req, sizeof req, MSG_NOSIGNAL) != sizeof req || recvmsg(floor_sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
        die("floor round trip", -errno);
    if (!with_fd)
        return;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    int fd;
    if (c == NULL || c->cmsg_type != SCM_RIGHTS)
        die("floor sent no fd", -EBADMSG);
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    volatile uint8_t *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap of the floor's memfd", -errno);
    p[0]++;
    munmap((void *)p, ps);
    close(fd);
}

static void run(int op)
{
    void *a;
    int r = 0;
    switch (op) {
    case MAP_UNMAP:
        r = umem_mmap(dev, 0, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
        if (r == 0) {
            (*(volatile uint8_t *)a)++;
            r = umem_munmap(dev, a, ps);
        }
        break;
    case FLOOR_FD:
        floor_trip(1);
        break;
    case MAP_BIG:
        r = umem_mmap(dev, 0, big_pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
        for (size_t i = 0; r == 0 && i < big_pages; i++)
            ((volatile uint8_t *)a)[i * ps]++;
        if (r == 0)
            r = umem_munmap(dev, a, big_pages * ps);
        break;
    case IOCTL: {
        char in = 1, out;
        r = umem_ioctl(dev, 1, &in, 1, &out, 1, NULL, NULL);
        break;
    }
    default:
        floor_trip(0);
        break;
    }
    if (r != 0)
        die(op_names[op], r);
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: map_bench DEVICE FLOOR ROUNDS N [PAGES]\n");
        return 2;
    }
    ps = (size_t)sysconf(_SC_PAGESIZE);
    int rounds = atoi(argv[3]), n = atoi(argv[4]);
    big_pages = argc == 6 ? strtoul(argv[5], NULL, 10) : 0;
    int ops = big_pages > 0 ? OPS : MAP_BIG;
    int r = umem_open(argv[1], O_RDWR, &dev);
    if (r != 0)
        die(argv[1], r);
    floor_sock = connect_floor(argv[2]);
    double *us = calloc((size_t)rounds * OPS, sizeof *us);
    int reps[OPS] = { n, n, n, n, (n + 99) / 100 }; /* a big map costs about as much as 100 small ones */
    for (int op = 0; op < ops; op++) /* warm-up */
        for (int i = 0; i < reps[op]; i++)
            run(op);
    for (int round = 0; round < rounds; round++)
        for (int op = 0; op < ops; op++) {
            double t0 = now_us();
            for (int i = 0; i < reps[op]; i++)
                run(op);
            us[op * rounds + round] = (now_us() - t0) / reps[op];
        }
    double best[OPS], median[OPS];
    for (int op = 0; op < ops; op++) {
        qsort(us + op * rounds, (size_t)rounds, sizeof *us, cmp);
        best[op] = us[op * rounds];
        median[op] = us[op * rounds + rounds / 2];
        printf("%-12s best %6.2f us  median %6.2f us\n", op_names[op], best[op], median[op]);
    }
    printf("map_unmap / floor_fd: best %.2f, median %.2f\n", best[MAP_UNMAP] / best[FLOOR_FD],
           median[MAP_UNMAP] / median[FLOOR_FD]);
    printf("ioctl / floor_plain: best %.2f, median %.2f\n", best[IOCTL] / best[FLOOR_PLAIN],
           median[IOCTL] / median[FLOOR_PLAIN]);
    printf("# sizeof(void *) = %u, %d rounds of %d\n", (unsigned)sizeof(void *), rounds, n);
    free(us);
    close(floor_sock);
    return umem_close(dev) == 0 ? 0 : 1;
}
