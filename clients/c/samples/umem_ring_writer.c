/*
 * umem_ring_writer NODE [--messages N] [--max-payload BYTES] [--wait]
 *
 * The C twin of samples/Umem.Samples.RingWriter: opens the ring driver's node O_RDWR, maps its area read-write,
 * (re)creates the ring in it (the layout of docs/sync.md, broadcast: no control region) and writes N checksummed
 * messages (ring_message.h), then completes the ring. Prints "ready capacity=C" once the ring exists; with --wait it
 * then starts writing only when a line arrives on stdin, so readers can attach first. Ends with
 * "messages=N bytes=B fnv=H". Exit codes (docs/operating.md): 0 done, 1 failure, 2 usage (a stream longer than the
 * ring included).
 */
#include "ring_message.h"
#include "umem.h"
#include "umem_sync.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#define PROG "umem_ring_writer"

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: umem_ring_writer NODE [--messages N] [--max-payload BYTES] [--wait]\n");
    return code;
}

int main(int argc, char **argv)
{
    const char *node = NULL;
    uint64_t messages = 1000, max_payload = 1000;
    int wait = 0;
    for (int i = 1; i < argc; i++) {
        int bad;
        if (is_help(argv[i]))
            return usage(stdout, 0);
        else if (strcmp(argv[i], "--messages") == 0)
            bad = option_u64(PROG, argc, argv, &i, 0, UINT32_MAX, &messages);
        else if (strcmp(argv[i], "--max-payload") == 0)
            bad = option_u64(PROG, argc, argv, &i, 1, RING_MAX_PAYLOAD, &max_payload);
        else if (strcmp(argv[i], "--wait") == 0) {
            wait = 1;
            bad = 0;
        } else
            bad = node_argument(PROG, argv[i], &node);
        if (bad)
            return usage(stderr, EXIT_USAGE);
    }
    if (node_given(PROG, node) != 0)
        return usage(stderr, EXIT_USAGE);

    uint64_t total = 0;
    for (uint64_t s = 0; s < messages && total <= RING_CAPACITY; s++) /* past the ring, the rest need not be counted */
        total += RING_OVERHEAD + ring_payload_length(s, (uint32_t)max_payload);
    if (total > RING_CAPACITY) {
        /* Readers map the ring read-only and cannot say how far they have read: a longer stream would overwrite
         * bytes a slow reader has not seen yet. */
        fprintf(stderr,
                "umem_ring_writer: --messages %" PRIu64 " with --max-payload %" PRIu64
                ": more than the ring's %d bytes; readers are read-only and cannot hold the writer back\n",
                messages, max_payload, RING_CAPACITY);
        return EXIT_USAGE;
    }

    umem_dev *dev;
    void *area;
    size_t length = ring_map_length();
    int rc = umem_open(node, O_RDWR, &dev);
    if (rc < 0) {
        fprintf(stderr, "umem_ring_writer: open %s: %s\n", node, umem_errname(rc));
        return EXIT_FAILED;
    }
    rc = umem_mmap(dev, 0, length, PROT_READ | PROT_WRITE, MAP_SHARED, &area, NULL);
    if (rc < 0) {
        fprintf(stderr, "umem_ring_writer: mmap %zu bytes of %s: %s\n", length, node, umem_errname(rc));
        umem_close(dev);
        return EXIT_FAILED;
    }

    umem_ring_writer writer;
    rc = umem_ring_writer_create(&writer, area, length, RING_CAPACITY, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "umem_ring_writer: create a ring of %d bytes in %zu mapped bytes: %s\n", RING_CAPACITY, length,
                umem_errname(rc));
        umem_close(dev);
        return EXIT_FAILED;
    }
    printf("ready capacity=%d\n", RING_CAPACITY);
    fflush(stdout);
    char line[64];
    if (wait && fgets(line, sizeof line, stdin) == NULL) {
        umem_close(dev); /* stdin closed: nothing to do */
        return 0;
    }

    uint8_t *buffer = malloc(RING_OVERHEAD + (size_t)max_payload);
    if (buffer == NULL) {
        fprintf(stderr, "umem_ring_writer: out of memory\n");
        umem_close(dev);
        return EXIT_FAILED;
    }
    uint64_t fnv = FNV64_BASIS, bytes = 0;
    for (uint64_t seq = 0; seq < messages; seq++) {
        size_t n = ring_encode(seq, ring_payload_length(seq, (uint32_t)max_payload), buffer);
        umem_ring_write(&writer, buffer, n, -1); /* fits: the total was checked above */
        fnv = fnv64(fnv, buffer, n);
        bytes += n;
    }
    umem_ring_complete(&writer);
    free(buffer);
    printf("messages=%" PRIu64 " bytes=%" PRIu64 " fnv=%016" PRIx64 "\n", messages, bytes, fnv);
    umem_close(dev);
    return 0;
}
