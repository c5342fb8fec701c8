/*
 * test_touch.c - one mapping of a large device range through a real device host, touched only where told: maps
 * LENGTH bytes at device OFFSET read-write, prints the VMAs and memfds the mapping is made of (from
 * /proc/self/maps), and at every POS prints the byte found there ("seen POS BYTE") and then writes VALUE there;
 * unmaps and closes, and checks no fd is left open. The caller checks the writes from the driver's side.
 *
 * usage: test_touch SOCKET_PATH OFFSET LENGTH VALUE POS...
 */
#define _GNU_SOURCE
#include "../umem.h"
#include "fd_count.h"
#include "tap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* VMAs of /proc/self/maps inside [start, end), and how many distinct inodes (memfds) they map. */
static void count_maps(uintptr_t start, uintptr_t end, int *vmas, int *files)
{
    enum { MAX_FILES = 4096 };
    static unsigned long inodes[MAX_FILES];
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    *vmas = 0;
    *files = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        uintptr_t lo, hi;
        unsigned long inode;
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %lu", &lo, &hi, &inode) != 3 || lo < start || hi > end)
            continue;
        (*vmas)++;
        int known = 0;
        for (int i = 0; i < *files; i++)
            known |= inodes[i] == inode;
        if (!known && *files < MAX_FILES)
            inodes[(*files)++] = inode;
    }
    if (f != NULL)
        fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s SOCKET_PATH OFFSET LENGTH VALUE POS...\n", argv[0]);
        return 2;
    }
    uint64_t offset = strtoull(argv[2], NULL, 10);
    size_t length = (size_t)strtoull(argv[3], NULL, 10);
    uint8_t value = (uint8_t)strtoul(argv[4], NULL, 10);
    int fds0 = fd_count();
    umem_dev *d = NULL;
    int r = umem_open(argv[1], O_RDWR, &d);
    if (!tap_check(r == 0, "open %s: %s", argv[1], r == 0 ? "ok" : umem_errname(r)))
        return tap_done();

    void *a = NULL;
    r = umem_mmap(d, offset, length, PROT_READ | PROT_WRITE, MAP_SHARED, &a, NULL);
    if (tap_check(r == 0, "map of %zu bytes at %" PRIu64 ": %s", length, offset, r == 0 ? "ok" : umem_errname(r))) {
        int vmas, files;
        count_maps((uintptr_t)a, (uintptr_t)a + length, &vmas, &files);
        printf("# mapping: %d VMAs, %d memfds\n", vmas, files);
        for (int i = 5; i < argc; i++) {
            size_t pos = (size_t)strtoull(argv[i], NULL, 10);
            if (!tap_check(pos < length, "position %zu is inside the mapping", pos))
                continue;
            volatile uint8_t *p = (volatile uint8_t *)a + pos;
            printf("seen %zu %u\n", pos, (unsigned)*p);
            *p = value;
        }
        tap_check(umem_munmap(d, a, length) == 0, "unmap");
    }
    tap_check(umem_close(d) == 0, "close");
    tap_check(fd_count() == fds0, "no fd left open (%d -> %d)", fds0, fd_count());
    return tap_done();
}
