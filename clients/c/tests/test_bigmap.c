/*
 * test_bigmap.c - one large mapping through a real device host, under whatever RLIMIT_NOFILE this process was
 * started with (the test runs it under prlimit): a map of PAGES one-page segments (PAGES fds, in messages of
 * at most 250) must end as EXPECT says, "ok" or an errno name (EMFILE when the hard limit has no room for one
 * message's fds), and either way the connection must stay usable and no fd may be left open.
 *
 * usage: test_bigmap SOCKET_PATH PAGES EXPECT
 * The device must have at least PAGES pages, each its own segment. Each mapped page gets the u64 0x5a000000 + i
 * at its start, so the caller can check them from the host's side.
 */
#define _GNU_SOURCE
#include "../umem.h"
#include "fd_count.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *name(int r)
{
    return r == 0 ? "ok" : umem_errname(r);
}

static void print_limit(const char *when)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("# RLIMIT_NOFILE %s: soft %llu, hard %llu\n", when, (unsigned long long)rl.rlim_cur,
           (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SOCKET_PATH PAGES EXPECT\n", argv[0]);
        return 2;
    }
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), pages = strtoul(argv[2], NULL, 10);
    const char *expect = argv[3];
    print_limit("at start");
    int fds0 = fd_count();
    umem_dev *d = NULL;
    int r = umem_open(argv[1], O_RDWR, &d);
    if (!tap_check(r == 0, "open %s: %s", argv[1], name(r)))
        return tap_done();

    void *a = NULL;
    r = umem_mmap(d, 0, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    tap_check(strcmp(name(r), expect) == 0, "map of %zu one-page segments: %s (want %s)", pages, name(r), expect);
    print_limit("after the map");
    if (r == 0) {
        for (size_t i = 0; i < pages; i++)
            *(volatile uint64_t *)((uint8_t *)a + i * ps) = 0x5a000000u + i;
        tap_check(umem_munmap(d, a, pages * ps) == 0, "unmap the %zu pages", pages);
    }
    tap_check(fd_count() == fds0 + 1, "only the connection's socket is open (%d fds, %d at start)", fd_count(), fds0);

    /* The connection is still in step: a map with MAP_POPULATE, and an ioctl. */
    r = umem_mmap(d, ps, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, &a, NULL);
    if (tap_check(r == 0, "a following one-page map (MAP_POPULATE) works: %s", name(r))) {
        if (pages > 1 && strcmp(expect, "ok") == 0)
            tap_check(*(volatile uint64_t *)a == 0x5a000001u, "it shows the device's page 1 as the big map left it");
        umem_munmap(d, a, ps);
    }
    char o[4];
    size_t olen = 0;
    r = umem_ioctl(d, 1, "abc", 3, o, sizeof o, &olen, NULL);
    tap_check(r == 0 && olen == 3 && memcmp(o, "abc", 3) == 0, "an ioctl after it works: %s", name(r));
    tap_check(umem_close(d) == 0, "close");
    tap_check(fd_count() == fds0, "no fd left open (%d -> %d)", fds0, fd_count());
    printf("# sizeof(void *) = %u\n", (unsigned)sizeof(void *));
    return tap_done();
}
