/*
 * umem_lock_demo NODE [--length BYTES] [--locks N] [--longterm] [--hold]
 *
 * The C twin of samples/Umem.Samples.LockDemo, against drivers/Umem.Drivers.Lockmem: registers a buffer of its own
 * memory with the node (umem_register), asks the driver to lock all of it N times (ddi_umem_lock(9F) from the
 * driver's ioctl(9E); overlapping locks are each charged in full), prints the project's locked memory, unlocks and
 * prints it again. With --hold it stops after locking, prints "holding", and unlocks only when a line (or EOF)
 * arrives on stdin. Every report is "stage=S usage=U limit=L". Exit codes (docs/operating.md): 0 done, 1 failure,
 * 2 usage.
 */
#include "sample.h"
#include "umem.h"

#include <fcntl.h>
#include <string.h>

/* The lockmem driver's ioctls (drivers/Umem.Drivers.Lockmem/LockmemIoctl.cs). */
#define LOCKMEM_LOCK (('L' << 8) | 1)   /* in: u64 address, u64 length, u32 flags; rval: the lock's index */
#define LOCKMEM_UNLOCK (('L' << 8) | 2) /* in: u32 index */
#define LOCKMEM_USAGE (('L' << 8) | 3)  /* out: u64 usage, u64 limit of the caller's project.max-locked-memory */
#define DDI_UMEMLOCK_READ 0x1
#define DDI_UMEMLOCK_WRITE 0x2
#define DDI_UMEMLOCK_LONGTERM 0x4

#define PROG "umem_lock_demo"

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: umem_lock_demo NODE [--length BYTES] [--locks N] [--longterm] [--hold]\n"
                "       BYTES: a positive multiple of the page size (%zu)\n",
            page_size());
    return code;
}

static int report(umem_dev *dev, const char *stage)
{
    uint8_t out[16];
    size_t out_len;
    int rc = umem_ioctl(dev, LOCKMEM_USAGE, NULL, 0, out, sizeof out, &out_len, NULL);
    if (rc < 0 || out_len != sizeof out) {
        fprintf(stderr, "umem_lock_demo: usage ioctl: %s\n", rc < 0 ? umem_errname(rc) : "short answer");
        return -1;
    }
    printf("stage=%s usage=%" PRIu64 " limit=%" PRIu64 "\n", stage, get_le(out, 8), get_le(out + 8, 8));
    fflush(stdout);
    return 0;
}

/* Registers, locks `locks` times, (holds,) unlocks; 0 or EXIT_FAILED with the reason on stderr. */
static int demo(umem_dev *dev, size_t length, uint32_t locks, int longterm, int hold)
{
    void *addr;
    uint64_t buffer;
    int rc = umem_register(dev, length, &addr, &buffer);
    if (rc < 0) {
        fprintf(stderr, "umem_lock_demo: register %zu bytes: %s\n", length, umem_errname(rc));
        return EXIT_FAILED;
    }
    memset(addr, 0x5a, length); /* the application's own data, which the "device" may now access */
    if (report(dev, "registered") < 0)
        return EXIT_FAILED;

    uint8_t in[20];
    put_le(in, (uint64_t)(uintptr_t)addr, 8);
    put_le(in + 8, length, 8);
    put_le(in + 16, DDI_UMEMLOCK_READ | DDI_UMEMLOCK_WRITE | (longterm ? DDI_UMEMLOCK_LONGTERM : 0), 4);
    int *indexes = calloc(locks, sizeof *indexes);
    if (indexes == NULL) {
        fprintf(stderr, "umem_lock_demo: out of memory\n");
        return EXIT_FAILED;
    }
    uint32_t locked = 0;
    for (; locked < locks; locked++) {
        if ((rc = umem_ioctl(dev, LOCKMEM_LOCK, in, sizeof in, NULL, 0, NULL, &indexes[locked])) < 0) {
            fprintf(stderr, "umem_lock_demo: lock %" PRIu32 " of %zu bytes: %s\n", locked + 1, length, umem_errname(rc));
            break;
        }
    }
    if (rc == 0 && report(dev, "locked") < 0)
        rc = -1;
    if (rc == 0 && hold) {
        char line[64];
        printf("holding\n");
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL)
            clearerr(stdin); /* EOF: unlock as for a line */
    }
    int unlock_rc = 0;
    for (uint32_t i = 0; i < locked; i++) {
        uint8_t index[4];
        put_le(index, (uint32_t)indexes[i], 4);
        int r = umem_ioctl(dev, LOCKMEM_UNLOCK, index, sizeof index, NULL, 0, NULL, NULL);
        if (r < 0 && unlock_rc == 0) {
            fprintf(stderr, "umem_lock_demo: unlock %d: %s\n", indexes[i], umem_errname(r));
            unlock_rc = r;
        }
    }
    free(indexes);
    if (rc < 0 || unlock_rc < 0 || report(dev, "unlocked") < 0)
        return EXIT_FAILED;
    return 0;
}

int main(int argc, char **argv)
{
    const char *node = NULL;
    uint64_t length = 1 << 20, locks = 1;
    int longterm = 0, hold = 0;
    for (int i = 1; i < argc; i++) {
        int bad;
        if (is_help(argv[i]))
            return usage(stdout, 0);
        else if (strcmp(argv[i], "--length") == 0) {
            bad = option_u64(PROG, argc, argv, &i, 1, SIZE_MAX, &length);
            if (!bad && length % page_size() != 0) {
                fprintf(stderr, PROG ": --length %" PRIu64 ": not a multiple of the page size (%zu)\n", length, page_size());
                bad = -1;
            }
        } else if (strcmp(argv[i], "--locks") == 0)
            bad = option_u64(PROG, argc, argv, &i, 1, 1 << 20, &locks);
        else if (strcmp(argv[i], "--longterm") == 0) {
            longterm = 1;
            bad = 0;
        } else if (strcmp(argv[i], "--hold") == 0) {
            hold = 1;
            bad = 0;
        } else
            bad = node_argument(PROG, argv[i], &node);
        if (bad)
            return usage(stderr, EXIT_USAGE);
    }
    if (node_given(PROG, node) != 0)
        return usage(stderr, EXIT_USAGE);
    umem_dev *dev;
    int rc = umem_open(node, O_RDWR, &dev);
    if (rc < 0) {
        fprintf(stderr, "umem_lock_demo: open %s: %s\n", node, umem_errname(rc));
        return EXIT_FAILED;
    }
    int code = demo(dev, (size_t)length, (uint32_t)locks, longterm, hold);
    umem_close(dev);
    return code;
}
