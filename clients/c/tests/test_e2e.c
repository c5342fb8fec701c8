/*
 * test_e2e.c - the C library's I/O path against a separate fake_host process (fake_host.h): connecting,
 * mapping real sealed memfds passed with SCM_RIGHTS (MMAP_MORE included), sharing writes with the host both
 * ways, read-only grants enforced by the kernel, partial unmaps and the MUNMAPs they send, ioctls,
 * registered buffers, host errors, and every kind of malformed reply (no crash, no fd left open).
 *
 * usage: test_e2e SOCKET_PATH     (a fake_host must be serving SOCKET_PATH)
 */
#define _GNU_SOURCE
#include "../umem.h"
#include "../umem_wire.h"
#include "fake_host.h"
#include "fd_count.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *sock;
static size_t ps;

static const char *name(int r)
{
    return r == 0 ? "0" : umem_errname(r);
}

static sigjmp_buf probe_env;

static void on_fault(int sig)
{
    siglongjmp(probe_env, sig);
}

/* Can this process read the byte at p? (msync/mincore are not reliable under qemu-user; a fault is.) */
static int readable(const void *p)
{
    struct sigaction sa = { .sa_handler = on_fault }, old_segv, old_bus;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    volatile int ok = 0;
    if (sigsetjmp(probe_env, 1) == 0) {
        (void)*(const volatile uint8_t *)p;
        ok = 1;
    }
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return ok;
}

static int ioctl_u64s(umem_dev *d, uint32_t cmd, const uint64_t *in, int nin, uint64_t *o, int nout)
{
    uint8_t ib[32], ob[32];
    size_t olen = 0;
    for (int i = 0; i < nin; i++)
        umem_put64(ib + 8 * i, in[i]);
    int r = umem_ioctl(d, cmd, ib, (size_t)nin * 8, ob, (size_t)nout * 8, &olen, NULL);
    for (int i = 0; r == 0 && i < nout && (size_t)i * 8 < olen; i++)
        o[i] = umem_get64(ob + 8 * i);
    return r;
}

static int ioctl_u32(umem_dev *d, uint32_t cmd, uint32_t v)
{
    uint8_t ib[4];
    umem_put32(ib, v);
    return umem_ioctl(d, cmd, ib, 4, NULL, 0, NULL, NULL);
}

static uint64_t peek(umem_dev *d, uint64_t off)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    ioctl_u64s(d, FH_PEEK, &off, 1, &v, 1);
    return v;
}

static int poke(umem_dev *d, uint64_t off, uint64_t v)
{
    uint64_t in[2] = { off, v };
    return ioctl_u64s(d, FH_POKE, in, 2, NULL, 0);
}

static void last_munmap(umem_dev *d, uint64_t r[4])
{
    memset(r, 0, 4 * sizeof r[0]);
    ioctl_u64s(d, FH_LAST_MUNMAP, NULL, 0, r, 4);
}

/* Live mappings and pages the host holds for this connection. */
static void host_mappings(umem_dev *d, uint32_t *maps, uint32_t *pages)
{
    uint8_t ob[8] = { 0 };
    size_t olen = 0;
    umem_ioctl(d, FH_MAPPINGS, NULL, 0, ob, sizeof ob, &olen, NULL);
    *maps = umem_get32(ob);
    *pages = umem_get32(ob + 4);
}

static volatile uint64_t *u64_at(void *base, size_t page)
{
    return (volatile uint64_t *)((uint8_t *)base + page * ps);
}

static void test_open(void)
{
    umem_dev *d = NULL;
    int r = umem_open("/nonexistent/umem/xx0", O_RDWR, &d);
    tap_check(r == -ENOENT, "open of a missing node: %s", name(r));
    r = umem_open(sock, 7, &d);
    tap_check(r == -EINVAL, "open with bad oflags: host says %s", name(r));
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    r = umem_open(longpath, O_RDWR, &d);
    tap_check(r == -ENAMETOOLONG, "open of a path longer than sun_path: %s", name(r));
}

/* One page, shared with the host both ways, and with a second connection. */
static void test_share(umem_dev *d)
{
    void *a = NULL, *b = NULL;
    uint64_t id = 0;
    int r = umem_mmap(d, 0, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, &id);
    if (!tap_check(r == 0 && a != NULL, "mmap one page: %s, mapping id %#" PRIx64, name(r), id))
        return;
    *u64_at(a, 0) = 0x1122334455667788ull;
    tap_check(peek(d, 0) == 0x1122334455667788ull, "the host sees the client's write through the same memfd");
    poke(d, 8, 0x0102030405060708ull);
    tap_check(*(volatile uint64_t *)((uint8_t *)a + 8) == 0x0102030405060708ull, "the client sees the host's write");

    umem_dev *d2 = NULL;
    r = umem_open(sock, O_RDWR, &d2);
    if (r == 0)
        r = umem_mmap(d2, 0, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &b, NULL);
    if (tap_check(r == 0, "a second connection maps the same page: %s", name(r))) {
        *u64_at(b, 0) = 77;
        tap_check(a != b && *u64_at(a, 0) == 77, "two mappings in one process share the page");
    }
    tap_check(umem_munmap(d, a, ps) == 0, "munmap the page");
    tap_check(umem_close(d2) == 0, "close the second connection");
}

/* 300 pages: 300 fds, so a first reply with 250 and one MMAP_MORE with 50. */
static void test_many_segments(umem_dev *d)
{
    int fds_before = fd_count();
    void *a = NULL;
    size_t n = FH_SINGLE_PAGES;
    int r = umem_mmap(d, 0, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (!tap_check(r == 0, "mmap %zu one-page segments (MMAP_MORE): %s", n, name(r)))
        return;
    tap_check(fd_count() == fds_before, "every segment fd is closed after mapping (%d -> %d)", fds_before,
              fd_count());
    for (size_t i = 0; i < n; i++)
        *u64_at(a, i) = 0xabc0000 + i;
    int all = 1;
    for (size_t i = 0; i < n; i++)
        all &= peek(d, i * ps) == 0xabc0000 + i;
    tap_check(all, "each of the %zu pages is its own memfd page, as the host sees it", n);
    poke(d, 299 * ps + 16, 4242);
    poke(d, 250 * ps + 16, 2525);
    tap_check(*(volatile uint64_t *)((uint8_t *)a + 299 * ps + 16) == 4242 &&
                  *(volatile uint64_t *)((uint8_t *)a + 250 * ps + 16) == 2525,
              "pages whose fds came in MMAP_MORE see the host's writes");
    tap_check(umem_munmap(d, a, n * ps) == 0, "munmap the %zu pages", n);

    /* Small batches: 20 fds as 7 + 7 + 6. */
    tap_check(ioctl_u32(d, FH_BATCH, 7) == 0, "host batches 7 fds per message");
    r = umem_mmap(d, 100 * ps, 20 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (tap_check(r == 0, "mmap 20 pages in three messages: %s", name(r))) {
        all = 1;
        for (size_t i = 0; i < 20; i++) {
            *u64_at(a, i) = 0x5000 + i;
            all &= peek(d, (100 + i) * ps) == 0x5000 + i;
        }
        tap_check(all, "all 20 pages are the host's pages 100..119");
        umem_munmap(d, a, 20 * ps);
    }
    ioctl_u32(d, FH_BATCH, UMEM_MAX_FDS);
}

/* Single-page memfds, then a 16-page memfd entered at a non-zero fd_offset. */
static void test_mixed(umem_dev *d)
{
    void *a = NULL;
    int r = umem_mmap(d, 295 * ps, 15 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (!tap_check(r == 0, "mmap pages 295..309 (5 small memfds + part of a big one): %s", name(r)))
        return;
    int all = 1;
    for (size_t i = 0; i < 15; i++) {
        *u64_at(a, i) = 0x7000 + i;
        all &= peek(d, (295 + i) * ps) == 0x7000 + i;
    }
    tap_check(all, "each page lands where the host has it");
    umem_munmap(d, a, 15 * ps);
    r = umem_mmap(d, 295 * ps, 15 * ps, PROT_READ, MAP_SHARED | MAP_POPULATE, &a, NULL);
    if (tap_check(r == 0, "the same with MAP_POPULATE (not sent: the host takes MAP_SHARED only): %s", name(r))) {
        all = 1;
        for (size_t i = 0; i < 15; i++)
            all &= *u64_at(a, i) == 0x7000 + i;
        tap_check(all, "the pre-faulted pages are the host's");
        umem_munmap(d, a, 15 * ps);
    }
    r = umem_mmap(d, 295 * ps, 15 * ps, PROT_READ, MAP_SHARED | MAP_FIXED, &a, NULL);
    tap_check(r == -EINVAL, "other mmap flags are refused: %s", name(r));
    r = umem_mmap(d, 305 * ps, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (tap_check(r == 0, "mmap inside the big memfd (fd_offset 5 pages): %s", name(r))) {
        poke(d, 306 * ps, 0x306);
        tap_check(*u64_at(a, 0) == 0x7000 + 10 && *u64_at(a, 1) == 0x306, "fd_offset is honoured");
        umem_munmap(d, a, 2 * ps);
    }
}

static void test_read_only(umem_dev *d)
{
    void *a = NULL;
    int r = umem_mmap(d, FH_RO_FIRST * ps, FH_RO_PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    tap_check(r == -EACCES, "a writable mapping of the read-only region: %s", name(r));
    r = umem_mmap(d, FH_RO_FIRST * ps, FH_RO_PAGES * ps, PROT_READ, MAP_SHARED, &a, NULL);
    if (!tap_check(r == 0, "a read-only mapping of it: %s", name(r)))
        return;
    poke(d, (FH_RO_FIRST + 1) * ps, 0x0404);
    tap_check(*u64_at(a, 1) == 0x0404, "the reader sees the host's write");
    errno = 0;
    int m = mprotect(a, ps, PROT_READ | PROT_WRITE);
    int e = errno;
    tap_check(m < 0 && e == EACCES, "the kernel refuses mprotect(PROT_WRITE): the fd is O_RDONLY (%s)",
              m < 0 ? umem_errname(e) : "allowed");
    umem_munmap(d, a, FH_RO_PAGES * ps);
}

static void test_mmap_errors(umem_dev *d)
{
    void *a = NULL;
    int r = umem_mmap(d, FH_PAGES * ps, ps, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == -ENXIO, "mmap beyond the device: host says %s", name(r));
    r = umem_mmap(d, (FH_PAGES - 1) * ps, 2 * ps, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == -ENXIO, "mmap running off the device: %s", name(r));
    r = umem_mmap(d, 1, ps, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == -EINVAL, "mmap at an unaligned offset: host says %s", name(r));
    r = umem_mmap(d, 0, ps + 1, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == -EINVAL, "mmap of an unaligned length: host says %s", name(r));
    r = umem_mmap(d, 0, 0, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == -EINVAL, "mmap of length 0: %s", name(r));
    r = umem_mmap(d, 0, ps, PROT_READ, MAP_SHARED | MAP_PRIVATE, &a, NULL);
    tap_check(r == -EINVAL, "mmap with flags SHARED|PRIVATE: %s", name(r));
    r = umem_mmap(d, 0, ps, PROT_READ | PROT_EXEC, MAP_SHARED, &a, NULL);
    tap_check(r == -EACCES, "PROT_EXEC beyond maxprot: host says %s", name(r));
}

static void test_read_only_open(void)
{
    umem_dev *d = NULL;
    void *a = NULL;
    int r = umem_open(sock, O_RDONLY, &d);
    if (!tap_check(r == 0, "open O_RDONLY: %s", name(r)))
        return;
    r = umem_mmap(d, 3 * ps, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    tap_check(r == -EACCES, "a shared writable mapping through an O_RDONLY open: %s", name(r));
    r = umem_mmap(d, 3 * ps, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, &a, NULL);
    if (tap_check(r == 0, "a private writable mapping through it: %s", name(r))) {
        poke(d, 3 * ps, 33);
        uint64_t before = *u64_at(a, 0);
        *u64_at(a, 0) = 34;
        tap_check(before == 33 && peek(d, 3 * ps) == 33 && *u64_at(a, 0) == 34,
                  "MAP_PRIVATE: the client reads the host's data and its writes stay private");
    }
    tap_check(umem_close(d) == 0, "close unmaps what the device still maps");
    tap_check(r != 0 || !readable(a), "the private mapping is gone after close");
}

static void test_partial_munmap(umem_dev *d)
{
    void *a = NULL;
    uint64_t id = 0, lm[4], count0;
    uint32_t maps0, pages0, maps, pages;
    host_mappings(d, &maps0, &pages0);
    last_munmap(d, lm);
    count0 = lm[3];
    int r = umem_mmap(d, 10 * ps, 8 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, &id);
    if (!tap_check(r == 0, "mmap 8 pages for unmapping: %s", name(r)))
        return;
    uint8_t *p = a;
    r = umem_munmap(d, p + 2 * ps, 2 * ps);
    last_munmap(d, lm);
    tap_check(r == 0 && lm[0] == id && lm[1] == 2 * ps && lm[2] == 2 * ps && lm[3] == count0 + 1,
              "a hole [2,4) sends MUNMAP(mapping, 2 pages, 2 pages): %s", name(r));
    tap_check(!readable(p + 2 * ps) && !readable(p + 3 * ps) && readable(p + ps) && readable(p + 4 * ps),
              "the hole is unmapped locally, its neighbours are not");
    poke(d, 14 * ps, 1414);
    tap_check(*u64_at(a, 4) == 1414, "the pages after the hole are still shared");

    r = umem_munmap(d, p, ps);
    last_munmap(d, lm);
    tap_check(r == 0 && lm[1] == 0 && lm[2] == ps, "the head sends MUNMAP(mapping, 0, 1 page): %s", name(r));
    r = umem_munmap(d, p + 7 * ps, 1); /* rounded up to a page, as munmap(2) does */
    last_munmap(d, lm);
    tap_check(r == 0 && lm[1] == 7 * ps && lm[2] == ps, "the tail (length 1, rounded) sends MUNMAP(7 pages, 1 page)");
    host_mappings(d, &maps, &pages);
    tap_check(maps == maps0 + 1 && pages == pages0 + 4, "the host still holds the 4 live pages (1, 4, 5, 6)");

    r = umem_munmap(d, p, 8 * ps);
    last_munmap(d, lm);
    tap_check(r == 0 && lm[3] == count0 + 4 && lm[1] == 0 && lm[2] == 8 * ps,
              "unmapping all that is left sends one MUNMAP of the whole mapping, holes skipped by the host");
    host_mappings(d, &maps, &pages);
    tap_check(maps == maps0 && pages == pages0, "the host has forgotten the mapping");
    tap_check(!readable(p + ps) && !readable(p + 5 * ps), "nothing of it is mapped locally");
    r = umem_munmap(d, p, 8 * ps);
    tap_check(r == -EINVAL, "unmapping it again: %s", name(r));
    r = umem_munmap(d, &r, ps);
    tap_check(r == -EINVAL, "unmapping memory that is not a device mapping: %s", name(r));
    r = umem_mmap(d, 10 * ps, 2 * ps, PROT_READ, MAP_SHARED, &a, NULL);
    if (r == 0) {
        r = umem_munmap(d, (uint8_t *)a + 1, ps);
        tap_check(r == -EINVAL, "unmapping at an unaligned address: %s", name(r));
        r = umem_munmap(d, a, 3 * ps);
        tap_check(r == -EINVAL, "unmapping past the end of a mapping: %s", name(r));
        umem_munmap(d, a, 2 * ps);
    }
}

/* The raw MUNMAP requests the library sends, seen from the host: which carried the no-reply bit is not visible to
 * it, but a reply that nobody reads would be: the next request would get it and fail with EPROTO. */
static void test_noreply_munmap(umem_dev *d)
{
    void *a = NULL;
    uint64_t id = 0, lm[4];
    uint32_t maps0, pages0, maps, pages;
    host_mappings(d, &maps0, &pages0);
    for (int i = 0; i < 100; i++) {
        int r = umem_mmap(d, (uint64_t)(i % 50) * ps, ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, &id);
        if (r == 0)
            r = umem_munmap(d, a, ps);
        if (r != 0) {
            tap_check(0, "map + unmap %d: %s", i, name(r));
            return;
        }
    }
    host_mappings(d, &maps, &pages);
    last_munmap(d, lm);
    tap_check(maps == maps0 && pages == pages0 && lm[0] == id && lm[1] == 0 && lm[2] == ps,
              "100 map + unmap pairs: every MUNMAP went without a reply and was done before the next request");
}

/*
 * A refused no-reply MUNMAP is the host's last message: the next request reads it instead of its reply, or, when
 * the host has closed before it is sent (`late`), finds it queued after sendmsg's EPIPE.
 */
static void test_noreply_refused(int late)
{
    int fds0 = fd_count();
    umem_dev *d = NULL;
    void *a = NULL, *b = NULL;
    int r = umem_open(sock, O_RDWR, &d);
    if (r == 0)
        r = umem_mmap(d, 0, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (r == 0)
        r = umem_mmap(d, 4 * ps, ps, PROT_READ, MAP_SHARED, &b, NULL);
    if (r == 0)
        r = ioctl_u32(d, FH_REFUSE_MUNMAP, 0);
    if (!tap_check(r == 0, "set up a refusal: %s", name(r))) {
        umem_close(d);
        return;
    }
    r = umem_munmap(d, a, 2 * ps);
    tap_check(r == 0 && !readable(a), "the refused MUNMAP went without a reply: munmap says %s", name(r));
    if (late)
        usleep(100 * 1000);
    char o[4];
    r = umem_ioctl(d, FH_ECHO, "abc", 3, o, sizeof o, NULL, NULL);
    tap_check(r == -ECONNRESET, "the next request%s reads the refusal: connection lost, %s",
              late ? " (sent after the host closed)" : "", name(r));
    r = umem_ioctl(d, FH_ECHO, "abc", 3, o, sizeof o, NULL, NULL);
    tap_check(r == -ENOTCONN, "later requests: %s", name(r));
    r = umem_munmap(d, b, ps);
    tap_check(r == 0 && !readable(b), "a mapping left is still released locally: %s", name(r));
    r = umem_close(d);
    tap_check(r == 0 && fd_count() == fds0, "close: %s; fds %d -> %d", name(r), fds0, fd_count());
}

/* Sets the soft and hard RLIMIT_NOFILE; returns 0 or -errno. */
static int set_nofile(rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };
    return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

/* Occupies every free fd in [from, to) with a dup of stderr; returns how many, their numbers in taken. */
static int fill_fds(int from, int to, int *taken)
{
    int n = 0;
    for (int fd = from; fd < to; fd++)
        if (fcntl(fd, F_GETFD) < 0 && dup2(2, fd) == fd)
            taken[n++] = fd;
    return n;
}

/*
 * A low soft RLIMIT_NOFILE: the library makes room for the fds a reply brings (raising the soft limit towards the
 * hard one), fails the one map with EMFILE when even the hard limit has no room, and when the kernel drops fds
 * anyway (MSG_CTRUNC) drains the reply, tells the host to forget the mapping and keeps the connection.
 * Run last: it lowers the hard limit for good.
 */
static void test_fd_limit(umem_dev *d)
{
    struct rlimit saved;
    getrlimit(RLIMIT_NOFILE, &saved);
    int low = fcntl(0, F_DUPFD_CLOEXEC, 0);
    close(low);
    void *a = NULL;
    uint32_t maps0, pages0, maps, pages;
    host_mappings(d, &maps0, &pages0);
    size_t n = FH_SINGLE_PAGES; /* 300 fds: 250 in the first message, 50 in MMAP_MORE */

    /* Room for 60 more fds, hard limit far above: the soft one is raised just enough. */
    int r = set_nofile((rlim_t)low + 60, saved.rlim_max);
    if (r == 0)
        r = umem_mmap(d, 0, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    struct rlimit now;
    getrlimit(RLIMIT_NOFILE, &now);
    tap_check(r == 0 && now.rlim_cur == saved.rlim_max,
              "soft limit %d fds above the lowest free: map of %zu segments %s, soft limit raised to the hard %llu",
              60, n, name(r), (unsigned long long)now.rlim_cur);
    if (r == 0) {
        *u64_at(a, 299) = 299;
        tap_check(peek(d, 299 * ps) == 299, "the mapping works");
        umem_munmap(d, a, n * ps);
    }

    /* Hard limit 60 above: no room for a message of 250 fds, the map fails before it is asked. */
    r = set_nofile((rlim_t)low + 60, (rlim_t)low + 60);
    if (r == 0)
        r = umem_mmap(d, 0, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    host_mappings(d, &maps, &pages);
    tap_check(r == -EMFILE && maps == maps0 && pages == pages0, "hard limit 60 above: %s, connection kept, host holds nothing new",
              name(r));
    r = umem_mmap(d, 0, 40 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    tap_check(r == 0, "40 segments still fit: %s", name(r));
    if (r == 0)
        umem_munmap(d, a, 40 * ps);

    /* Fds in use above the lowest free one: the check passes, the kernel drops fds (MSG_CTRUNC). */
    static int taken[400];
    int nt = fill_fds(low + 10, low + 60, taken);
    int fds0 = fd_count();
    r = umem_mmap(d, 0, 40 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    int after = fd_count();
    host_mappings(d, &maps, &pages);
    tap_check(r == -EMFILE && after == fds0 && maps == maps0 && pages == pages0,
              "only 10 free fds for 40 (MSG_CTRUNC): %s, fds %d -> %d, the host forgot the mapping", name(r), fds0,
              after);
    tap_check(ioctl_u32(d, FH_BATCH, 7) == 0, "the connection is in step (batches of 7 from now)");
    r = umem_mmap(d, 0, 40 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    tap_check(r == 0, "40 segments in batches of 7 fit in 10 free fds: %s", name(r));
    if (r == 0)
        umem_munmap(d, a, 40 * ps);
    ioctl_u32(d, FH_BATCH, UMEM_MAX_FDS);

    /* No free fd at all: a one-page map (no check beforehand) fails with EMFILE; the connection stays. */
    nt += fill_fds(low, low + 10, taken + nt);
    r = umem_mmap(d, 0, ps, PROT_READ, MAP_SHARED, &a, NULL);
    for (int i = 0; i < nt; i++)
        close(taken[i]);
    host_mappings(d, &maps, &pages);
    tap_check(r == -EMFILE && maps == maps0 && pages == pages0, "no fd free: one page is %s, the host forgot it",
              name(r));
    r = umem_mmap(d, 0, ps, PROT_READ, MAP_SHARED, &a, NULL);
    tap_check(r == 0, "with fds free again it maps: %s", name(r));
    if (r == 0)
        umem_munmap(d, a, ps);
}

static void test_ioctl(umem_dev *d)
{
    char o[16] = { 0 };
    size_t olen = 99;
    int rval = -1;
    int r = umem_ioctl(d, FH_ECHO, "hello", 5, o, sizeof o, &olen, &rval);
    tap_check(r == 0 && olen == 5 && memcmp(o, "hello", 5) == 0 && rval == 5,
              "ioctl ECHO returns the bytes and rval (%s, out_len %zu, rval %d)", name(r), olen, rval);
    r = umem_ioctl(d, FH_ECHO, "hello", 5, o, 2, &olen, &rval);
    tap_check(r == 0 && olen == 2, "out_max bounds the output (%zu)", olen);
    r = umem_ioctl(d, FH_ECHO, NULL, 0, NULL, 0, &olen, &rval);
    tap_check(r == 0 && olen == 0 && rval == 0, "an ioctl with no bytes either way");
    static char big[UMEM_IOCTL_MAX + 1];
    r = umem_ioctl(d, FH_ECHO, big, UMEM_IOCTL_MAX, big, UMEM_IOCTL_MAX, &olen, &rval);
    tap_check(r == 0 && olen == UMEM_IOCTL_MAX, "60000 bytes each way: %s", name(r));
    r = umem_ioctl(d, FH_ECHO, big, UMEM_IOCTL_MAX + 1, NULL, 0, &olen, &rval);
    tap_check(r == -EINVAL, "in_len 60001: %s", name(r));
    r = ioctl_u32(d, FH_FAIL, ENXIO);
    tap_check(r == -ENXIO, "the driver's ENXIO comes back: %s", name(r));
    r = umem_ioctl(d, 999, NULL, 0, NULL, 0, NULL, NULL);
    tap_check(r == -ENOTTY, "an unknown command: %s", name(r));
}

static void test_register(umem_dev *d)
{
    void *a = NULL;
    uint64_t id = 0, v = 0;
    int r = umem_register(d, 2 * ps, &a, &id);
    if (!tap_check(r == 0, "register 2 pages: %s, buffer %#" PRIx64, name(r), id))
        return;
    *u64_at(a, 0) = 0xfeed;
    uint64_t in[3] = { id, 0, 0 };
    r = ioctl_u64s(d, FH_BUF_PEEK, in, 2, &v, 1);
    tap_check(r == 0 && v == 0xfeed, "the host sees the client's write in the registered buffer");
    in[1] = ps + 8;
    in[2] = 0xbeef;
    ioctl_u64s(d, FH_BUF_POKE, in, 3, NULL, 0);
    tap_check(*(volatile uint64_t *)((uint8_t *)a + ps + 8) == 0xbeef, "the client sees the host's write");
    uint8_t sb[4];
    umem_put64((uint8_t *)in, id);
    r = umem_ioctl(d, FH_BUF_SEALS, in, 8, sb, 4, NULL, NULL);
    uint32_t seals = umem_get32(sb);
    tap_check(r == 0 && seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
              "the memfd is sealed SHRINK|GROW|SEAL (%#x)", seals);
    r = umem_unregister(d, id);
    tap_check(r == 0, "unregister: %s", name(r));
    in[0] = id;
    in[1] = 0;
    r = ioctl_u64s(d, FH_BUF_PEEK, in, 2, &v, 1);
    tap_check(r == -EBADF, "the host has forgotten it: %s", name(r));
    tap_check(!readable(a), "the buffer is unmapped locally");
    r = umem_unregister(d, id);
    tap_check(r == -EBADF, "unregister again: %s", name(r));
    r = umem_register(d, ps + 1, &a, &id);
    tap_check(r == -EINVAL, "register of an unaligned length: %s", name(r));
}

/* A malformed reply ends the connection, leaves no fd and no mapping behind, and crashes nothing. */
static void test_faults(void)
{
    static const struct {
        int kind, expect, mmap_only;
        const char *what;
    } faults[] = {
        { FH_FAULT_MAGIC, -EBADMSG, 0, "bad magic" },
        { FH_FAULT_SHORT, -EBADMSG, 0, "a 10-byte reply" },
        { FH_FAULT_LENGTH, -EBADMSG, 0, "a length field beyond the bytes" },
        { FH_FAULT_SEQ, -EPROTO, 0, "another seq" },
        { FH_FAULT_TYPE, -EPROTO, 0, "another reply type" },
        { FH_FAULT_VERSION, -EPROTONOSUPPORT, 0, "version 2" },
        { FH_FAULT_ERROR_PAYLOAD, -EBADMSG, 0, "an errno with a payload" },
        { FH_FAULT_STRAY_FD, -EBADMSG, 0, "one fd too many" },
        { FH_FAULT_OVERSIZE, -EBADMSG, 0, "a 70000-byte reply" },
        { FH_FAULT_HANGUP, -ECONNRESET, 0, "the host hangs up" },
        { FH_FAULT_NSEG_OVERFLOW, -EBADMSG, 1, "nseg that wraps in 32 bits" },
        { FH_FAULT_SEG_GAP, -EBADMSG, 1, "a gap between segments" },
        { FH_FAULT_NO_FDS, -EBADMSG, 1, "a first reply without fds" },
        { FH_FAULT_MORE_FIRST, -EBADMSG, 1, "MMAP_MORE skipping an fd" },
        { FH_FAULT_MORE_COUNT, -EBADMSG, 1, "MMAP_MORE count above its fds" },
        { FH_FAULT_MORE_SEQ, -EPROTO, 1, "MMAP_MORE with another seq" },
        { FH_FAULT_MAXPROT, -EBADMSG, 1, "maxprot below the requested prot" },
        { FH_FAULT_REPLY_LENGTH, -EBADMSG, 1, "a mapping longer than asked" },
        { FH_FAULT_UNALIGNED, -EBADMSG, 1, "an unaligned fd_offset" },
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        for (int via_ioctl = 0; via_ioctl <= !faults[i].mmap_only; via_ioctl++) {
            int fds0 = fd_count();
            umem_dev *d = NULL;
            int r = umem_open(sock, O_RDWR, &d);
            if (r == 0 && !via_ioctl)
                r = ioctl_u32(d, FH_BATCH, 2); /* 5 pages: fds in 3 messages */
            if (r == 0)
                r = ioctl_u32(d, FH_FAULT, (uint32_t)faults[i].kind);
            if (!tap_check(r == 0, "arm fault %d: %s", faults[i].kind, name(r))) {
                umem_close(d);
                continue;
            }
            void *a = NULL;
            char o[8];
            if (via_ioctl)
                r = umem_ioctl(d, FH_ECHO, "abc", 3, o, sizeof o, NULL, NULL);
            else
                r = umem_mmap(d, 20 * ps, 5 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
            int after = fd_count();
            int next = umem_ioctl(d, FH_ECHO, NULL, 0, NULL, 0, NULL, NULL);
            int closed = umem_close(d);
            tap_check(r == faults[i].expect && after == fds0 && next == -ENOTCONN && closed == 0 &&
                          fd_count() == fds0,
                      "%s reply with %s: %s (want %s); fds %d -> %d (socket closed too); next call %s",
                      via_ioctl ? "ioctl" : "mmap", faults[i].what, name(r), name(faults[i].expect), fds0, after,
                      name(next));
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
        return 2;
    }
    sock = argv[1];
    ps = (size_t)sysconf(_SC_PAGESIZE);
    printf("# sizeof(void *) = %u, page size %zu\n", (unsigned)sizeof(void *), ps);
    int fds0 = fd_count();

    test_open();
    umem_dev *d = NULL;
    int r = umem_open(sock, O_RDWR, &d);
    if (tap_check(r == 0, "open O_RDWR: %s", name(r))) {
        test_share(d);
        test_many_segments(d);
        test_mixed(d);
        test_read_only(d);
        test_mmap_errors(d);
        test_partial_munmap(d);
        test_noreply_munmap(d);
        test_ioctl(d);
        test_register(d);
        void *a = NULL, *b = NULL;
        uint64_t buf = 0;
        umem_mmap(d, 0, 2 * ps, PROT_READ, MAP_SHARED, &a, NULL);
        umem_register(d, ps, &b, &buf);
        tap_check(umem_close(d) == 0, "close");
        tap_check(a != NULL && b != NULL && !readable(a) && !readable(b),
                  "close unmapped the mapping and the registered buffer left open");
    }
    test_read_only_open();
    test_noreply_refused(0);
    test_noreply_refused(1);
    test_faults();
    r = umem_open(sock, O_RDWR, &d);
    if (tap_check(r == 0, "open for the fd limit tests: %s", name(r))) {
        test_fd_limit(d);
        tap_check(umem_close(d) == 0, "close");
    }
    tap_check(fd_count() == fds0, "no fd leaked in all (%d -> %d)", fds0, fd_count());
    return tap_done();
}
