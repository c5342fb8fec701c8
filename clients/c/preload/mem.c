/*
 * mem.c - mmap(2), munmap(2), mprotect(2) and mremap(2) of device memory. A map of a device fd is the
 * protocol's MMAP (the driver's segmap(9E)/devmap(9E) decide, and their errno is mmap's); the preload keeps a
 * record of each device mapping, so that munmap of any part of one tells the host (segdev_unmap, the driver's
 * unmap callback). While no device mapping is live, munmap, mprotect and mremap pass straight to libc.
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../umem_internal.h"

struct record {
    uintptr_t base;
    size_t length;
    struct pdev *pd; /* a reference, dropped with the record */
    uint64_t id;
    int no_write; /* MAP_SHARED of an open without write access: mprotect may not add PROT_WRITE */
};

static struct record *records;
static size_t nrecords, cap;
static atomic_int live; /* nrecords, readable without the lock */

static size_t page_size(void)
{
    static size_t page;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

static size_t round_up(size_t n)
{
    return (n + page_size() - 1) & ~(page_size() - 1);
}

static void drop_record(size_t i)
{
    struct pdev *pd = records[i].pd;
    records[i] = records[--nrecords];
    atomic_store(&live, (int)nrecords);
    preload_unref(pd);
}

/* mmap(2) of a device fd, under the lock. The checks are mmap(2)'s for a file opened with pd's access mode. */
static void *map_device(struct pdev *pd, int fd, void *addr, size_t len, int prot, int flags, uint64_t off)
{
    int type = flags & MAP_TYPE, acc = pd->oflags & O_ACCMODE;
    int shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
    if (len == 0 || off % page_size() != 0 || (!shared && type != MAP_PRIVATE))
        return (void *)(intptr_t)preload_fail(-EINVAL);
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0 && addr != NULL)
        return (void *)(intptr_t)preload_fail(-EINVAL); /* the host's segments are placed where the kernel likes */
    if (acc == O_WRONLY || (shared && (prot & PROT_WRITE) != 0 && acc != O_RDWR))
        return (void *)(intptr_t)preload_fail(-EACCES);
    if (nrecords == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        struct record *r = realloc(records, ncap * sizeof *r);
        if (r == NULL)
            return (void *)(intptr_t)preload_fail(-ENOMEM);
        records = r;
        cap = ncap;
    }
    int err = preload_connect(pd, fd);
    void *p = NULL;
    uint64_t id = 0;
    size_t length = round_up(len);
    if (err == 0)
        err = INSIDE(umem_mmap(pd->dev, off, length, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | (flags & MAP_POPULATE),
                               &p, &id));
    if (err != 0)
        return (void *)(intptr_t)preload_fail(err);
    pd->refs++;
    records[nrecords++] = (struct record){ (uintptr_t)p, length, pd, id, shared && acc != O_RDWR };
    atomic_store(&live, (int)nrecords);
    return p;
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, uint64_t off)
{
    preload_lock();
    struct pdev *pd = preload_get(fd);
    void *p = pd != NULL ? map_device(pd, fd, addr, len, prot, flags, off) : NULL;
    preload_unlock();
    return pd != NULL ? p : REAL(mmap64)(addr, len, prot, flags, fd, (off64_t)off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (preload_peek(fd) == NULL)
        return REAL(mmap)(addr, len, prot, flags, fd, off);
    return do_mmap(addr, len, prot, flags, fd, (uint64_t)off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    if (preload_peek(fd) == NULL)
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    return do_mmap(addr, len, prot, flags, fd, (uint64_t)off);
}

/*
 * Tells the host about every device mapping [addr, addr+len) overlaps (the driver's unmap callback runs for each
 * still-mapped piece) and forgets the mappings nothing is left of. A forked child's inherited records only go:
 * its host side is the parent's. Under the lock.
 */
static void unmap_devices(uintptr_t a, size_t len)
{
    for (size_t i = 0; i < nrecords;) {
        struct record *r = &records[i];
        uintptr_t s = a > r->base ? a : r->base, e = a + len < r->base + r->length ? a + len : r->base + r->length;
        if (s >= e) {
            i++;
            continue;
        }
        if (r->pd->dev != NULL) {
            INSIDE(umem_munmap(r->pd->dev, (void *)s, e - s)); /* EINVAL: nothing of it was mapped any more */
            if (umem_mapped_bytes(r->pd->dev, r->id) > 0) {
                i++;
                continue;
            }
        }
        drop_record(i);
    }
}

EXPORT int munmap(void *addr, size_t len)
{
    if (preload_inside || atomic_load_explicit(&live, memory_order_relaxed) == 0 || len == 0 ||
        (uintptr_t)addr % page_size() != 0 || len > SIZE_MAX - page_size())
        return REAL(munmap)(addr, len);
    preload_lock();
    unmap_devices((uintptr_t)addr, round_up(len));
    preload_unlock();
    return REAL(munmap)(addr, len); /* the rest of the range, if any, and munmap(2)'s own checks */
}

/* Is a device mapping of [a, a+len) one that may not become writable? Under the lock. */
static int write_denied(uintptr_t a, size_t len)
{
    for (size_t i = 0; i < nrecords; i++)
        if (records[i].no_write && a < records[i].base + records[i].length && records[i].base < a + len)
            return 1;
    return 0;
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
    if ((prot & PROT_WRITE) == 0 || atomic_load_explicit(&live, memory_order_relaxed) == 0)
        return REAL(mprotect)(addr, len, prot);
    preload_lock();
    int denied = write_denied((uintptr_t)addr, len);
    preload_unlock();
    /* A shared mapping of a device opened without write access never becomes writable (mmap(2): EACCES). */
    return denied ? preload_fail(-EACCES) : REAL(mprotect)(addr, len, prot);
}

/* The device mapping whose extent holds a, or -1. Under the lock. */
static long record_at(uintptr_t a)
{
    for (size_t i = 0; i < nrecords; i++)
        if (a >= records[i].base && a - records[i].base < records[i].length)
            return (long)i;
    return -1;
}

/*
 * mremap(2) of a device mapping: shrinking in place unmaps the tail (as munmap of it); growing or moving fails as
 * for a device mapping the kernel may not expand (VM_DONTEXPAND: EFAULT) or move here (EINVAL).
 */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = (flags & MREMAP_FIXED) != 0 ? (void *)VA_ARG_LONG(flags) : NULL;
    if (atomic_load_explicit(&live, memory_order_relaxed) != 0) {
        preload_lock();
        long i = record_at((uintptr_t)old);
        preload_unlock();
        if (i >= 0 && (flags & MREMAP_FIXED) == 0 && round_up(new_len) <= round_up(old_len) && new_len > 0) {
            size_t keep = round_up(new_len);
            if (keep < round_up(old_len) && munmap((char *)old + keep, round_up(old_len) - keep) != 0)
                return MAP_FAILED;
            return old;
        }
        if (i >= 0)
            return (void *)(intptr_t)preload_fail((flags & MREMAP_FIXED) != 0 ? -EINVAL : -EFAULT);
    }
    return REAL(mremap)(old, old_len, new_len, flags, new_addr);
}
