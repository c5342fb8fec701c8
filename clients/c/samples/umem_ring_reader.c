/*
 * umem_ring_reader NODE [--try-write]
 *
 * The C twin of samples/Umem.Samples.RingReader: opens the ring driver's node O_RDONLY and maps its area read-only.
 * Normally it joins the ring the writer created, prints "ready position=P", reads until the writer completes the
 * ring (sleeping on the ring's futex word while it is empty, never polling), checks every message (sequence,
 * payload, checksum; ring_message.h) and prints "messages=N bytes=B fnv=H errors=E". With --try-write it instead
 * asks for write access two ways and prints what was refused: "write mprotect=ERRNO mmap=ERRNO" (the OS's answer
 * on the mapping, then the host's to a writable map).
 * Exit codes (docs/operating.md): 0 done (or writes refused), 1 failure (wrong data, a write allowed), 2 usage.
 */
#include "ring_message.h"
#include "umem.h"
#include "umem_sync.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK (64 << 10)

/* The stream arrives in pieces of any size: whole messages are checked as they complete. */
struct checker {
    uint8_t *pending;
    size_t npending;
    uint64_t next_seq, messages, bytes, errors, fnv;
    char first_error[160];
};

static void fail(struct checker *c, const char *why)
{
    if (c->errors++ == 0)
        snprintf(c->first_error, sizeof c->first_error, "%s", why);
}

static void check_message(struct checker *c, const uint8_t *m, uint32_t length)
{
    char why[160];
    uint32_t seq = (uint32_t)get_le(m, 4);
    if (seq != (uint32_t)c->next_seq) {
        snprintf(why, sizeof why, "message %" PRIu64 ": sequence %" PRIu32 ", expected %" PRIu32, c->messages, seq,
                 (uint32_t)c->next_seq);
        fail(c, why);
    } else if (fnv32(m, 8 + (size_t)length) != (uint32_t)get_le(m + 8 + length, 4)) {
        snprintf(why, sizeof why, "message %" PRIu32 ": checksum mismatch", seq);
        fail(c, why);
    } else {
        for (uint32_t i = 0; i < length; i++) {
            if (m[8 + i] != ring_payload_byte(seq, i)) {
                snprintf(why, sizeof why, "message %" PRIu32 ": payload byte %" PRIu32 " is %u, expected %u", seq, i,
                         m[8 + i], ring_payload_byte(seq, i));
                fail(c, why);
                break;
            }
        }
    }
    c->next_seq++;
    c->messages++;
}

static void check_add(struct checker *c, const uint8_t *data, size_t n)
{
    c->bytes += n;
    c->fnv = fnv64(c->fnv, data, n);
    memcpy(c->pending + c->npending, data, n);
    c->npending += n;
    size_t at = 0;
    while (c->npending - at >= 8) {
        uint32_t length = (uint32_t)get_le(c->pending + at + 4, 4);
        if (length > RING_MAX_PAYLOAD) {
            char why[160];
            snprintf(why, sizeof why, "message at byte %" PRIu64 " claims %" PRIu32 " payload bytes",
                     c->bytes - c->npending + at, length);
            fail(c, why);
            c->npending = 0; /* the stream cannot be resynchronised */
            return;
        }
        if (c->npending - at < RING_OVERHEAD + (size_t)length)
            break;
        check_message(c, c->pending + at, length);
        at += RING_OVERHEAD + (size_t)length;
    }
    memmove(c->pending, c->pending + at, c->npending - at);
    c->npending -= at;
}

/* The header as SharedRingReader.Open checks it: a reader trusts only its own copy of the capacity after this. */
static const char *check_ring(const void *ring, size_t length)
{
    const uint32_t *words = ring;
    const int64_t *longs = ring;
    if (__atomic_load_n(&words[UMEM_RING_MAGIC_OFF / 4], __ATOMIC_ACQUIRE) != UMEM_RING_MAGIC ||
        words[UMEM_RING_VERSION_OFF / 4] != UMEM_RING_VERSION)
        return "no shared ring in the area: has the writer created it?";
    int64_t capacity = longs[UMEM_RING_CAPACITY_OFF / 8];
    if (capacity < UMEM_RING_MIN_CAPACITY || capacity > UMEM_RING_MAX_CAPACITY || (capacity & (capacity - 1)) != 0)
        return "the ring's capacity is not a power of two from 64 bytes to 1 GiB";
    if (longs[UMEM_RING_DATA_OFFSET_OFF / 8] != UMEM_RING_HEADER_SIZE)
        return "the ring's data does not start after its 256-byte header";
    if (UMEM_RING_HEADER_SIZE + capacity > (int64_t)length)
        return "the ring does not fit the mapped area";
    return NULL;
}

static int try_write(umem_dev *dev, void *area, size_t length)
{
    /* The OS's verdict: the memfd behind a read-only grant is an O_RDONLY reopen, so PROT_WRITE is EACCES. */
    const char *mprot = mprotect(area, length, PROT_READ | PROT_WRITE) == 0 ? "allowed" : umem_errname(errno);
    /* The host's verdict: a MAP_SHARED PROT_WRITE mapping of a node opened O_RDONLY is EACCES. */
    void *writable;
    int rc = umem_mmap(dev, 0, length, PROT_READ | PROT_WRITE, MAP_SHARED, &writable, NULL);
    const char *mmap_result = rc == 0 ? "allowed" : umem_errname(rc);
    if (rc == 0)
        umem_munmap(dev, writable, length);
    printf("write mprotect=%s mmap=%s\n", mprot, mmap_result);
    if (strcmp(mprot, "allowed") != 0 && rc != 0)
        return 0;
    fprintf(stderr, "umem_ring_reader: a read-only grant was given write access\n");
    return EXIT_FAILED;
}

static int read_ring(void *area, size_t length)
{
    const char *bad = check_ring(area, length);
    umem_ring_reader reader;
    if (bad == NULL && umem_ring_reader_open(&reader, area, length, NULL, 0, 0) != 0)
        bad = "no shared ring in the area: has the writer created it?";
    if (bad != NULL) {
        fprintf(stderr, "umem_ring_reader: %s\n", bad);
        return EXIT_FAILED;
    }
    printf("ready position=%" PRId64 "\n", reader.position);
    fflush(stdout);

    struct checker check = { .fnv = FNV64_BASIS };
    uint8_t *chunk = malloc(CHUNK);
    check.pending = malloc(RING_OVERHEAD + RING_MAX_PAYLOAD + CHUNK);
    if (chunk == NULL || check.pending == NULL) {
        fprintf(stderr, "umem_ring_reader: out of memory\n");
        return EXIT_FAILED;
    }
    int64_t n;
    while ((n = umem_ring_read(&reader, chunk, CHUNK, -1)) > 0) /* 0: completed and everything read */
        check_add(&check, chunk, (size_t)n);
    free(chunk);
    free(check.pending);
    if (n < 0) {
        const char *why = n == -EOVERFLOW     ? "overrun: the writer overwrote bytes not read yet"
                          : n == -EOPNOTSUPP ? "the writer wakes only counted readers (it has a control region)"
                                             : "the ring's cursors are corrupt";
        fprintf(stderr, "umem_ring_reader: %s at position %" PRId64 "\n", why, reader.position);
        return EXIT_FAILED;
    }
    if (check.npending != 0) {
        char why[160];
        snprintf(why, sizeof why, "the stream ended inside a message (%zu bytes left over)", check.npending);
        fail(&check, why);
    }
    printf("messages=%" PRIu64 " bytes=%" PRIu64 " fnv=%016" PRIx64 " errors=%" PRIu64 "\n", check.messages,
           check.bytes, check.fnv, check.errors);
    if (check.errors != 0)
        fprintf(stderr, "umem_ring_reader: %s\n", check.first_error);
    return check.errors == 0 ? 0 : EXIT_FAILED;
}

#define PROG "umem_ring_reader"

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: umem_ring_reader NODE [--try-write]\n");
    return code;
}

int main(int argc, char **argv)
{
    const char *node = NULL;
    int write_test = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i]))
            return usage(stdout, 0);
        if (strcmp(argv[i], "--try-write") == 0)
            write_test = 1;
        else if (node_argument(PROG, argv[i], &node) != 0)
            return usage(stderr, EXIT_USAGE);
    }
    if (node_given(PROG, node) != 0)
        return usage(stderr, EXIT_USAGE);
    umem_dev *dev;
    void *area;
    size_t length = ring_map_length();
    int rc = umem_open(node, O_RDONLY, &dev);
    if (rc < 0) {
        fprintf(stderr, "umem_ring_reader: open %s: %s\n", node, umem_errname(rc));
        return EXIT_FAILED;
    }
    rc = umem_mmap(dev, 0, length, PROT_READ, MAP_SHARED, &area, NULL);
    if (rc < 0) {
        fprintf(stderr, "umem_ring_reader: mmap %zu bytes of %s: %s\n", length, node, umem_errname(rc));
        umem_close(dev);
        return EXIT_FAILED;
    }
    int code = write_test ? try_write(dev, area, length) : read_ring(area, length);
    umem_close(dev);
    return code;
}
