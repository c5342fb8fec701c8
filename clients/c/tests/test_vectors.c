/*
 * test_vectors.c - checks umem_wire against tests/vectors/protocol.txt: every req.* and rep.* message is
 * encoded from its fields and compared byte for byte, decoded and compared field for field (both ways: no
 * field missing, none extra), every bad.* message is refused with its `expect` errno, and no prefix or
 * corruption of a valid message crashes the decoder or slips through unnoticed.
 *
 * usage: test_vectors PATH/TO/protocol.txt
 */
#define _GNU_SOURCE
#include "../umem.h"
#include "../umem_wire.h"
#include "tap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 48
#define MAX_BYTES 4096

struct field {
    char key[32];
    char value[160];
};

struct fields {
    struct field f[MAX_FIELDS];
    int n;
};

/* One decoded value, as text: integers in decimal (signed ones sign-extended), byte strings in hex. */
static void add(struct fields *fs, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct fields *fs, const char *key, const char *fmt, ...)
{
    if (fs->n == MAX_FIELDS)
        return;
    struct field *f = &fs->f[fs->n++];
    snprintf(f->key, sizeof f->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->value, sizeof f->value, fmt, ap);
    va_end(ap);
}

static const char *get(const struct fields *fs, const char *key)
{
    for (int i = 0; i < fs->n; i++)
        if (strcmp(fs->f[i].key, key) == 0)
            return fs->f[i].value;
    return NULL;
}

/* A file value as a number: decimal (maybe negative) or 0x hex, kept as the u64 of its two's complement. */
static int num(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = s[0] == '-' ? (uint64_t)strtoll(s, &end, 10) : strtoull(s, &end, 0);
    return errno == 0 && end != s && *end == '\0';
}

static uint64_t need(const struct fields *fs, const char *key, int *ok)
{
    uint64_t v = 0;
    const char *s = get(fs, key);
    if (s == NULL || !num(s, &v))
        *ok = 0;
    return v;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static size_t unhex(const char *s, uint8_t *out, size_t cap, int *ok)
{
    size_t n = strlen(s) / 2;
    if (strlen(s) % 2 != 0 || n > cap) {
        *ok = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            *ok = 0;
        out[i] = (uint8_t)v;
    }
    return n;
}

/* The fields a decoded message holds, named as in the vector file. */
static void fields_of(const struct umem_msg *m, struct fields *fs)
{
    char buf[2 * UMEM_IOCTL_MAX + 1];
    fs->n = 0;
    add(fs, "type", "%u", m->type);
    add(fs, "seq", "%" PRIu32, m->seq);
    if (m->type & UMEM_REPLY_FLAG) {
        add(fs, "errno", "%" PRId32, m->error);
        if (m->error != 0)
            return;
    }
    switch (m->type) {
    case UMEM_HELLO:
        add(fs, "min_version", "%u", m->u.hello.min_version);
        add(fs, "max_version", "%u", m->u.hello.max_version);
        break;
    case UMEM_OPEN:
        add(fs, "oflags", "%" PRIu32, m->u.open.oflags);
        break;
    case UMEM_CLOSE:
        add(fs, "handle", "%" PRIu64, m->u.close.handle);
        break;
    case UMEM_MMAP:
        add(fs, "handle", "%" PRIu64, m->u.mmap.handle);
        add(fs, "offset", "%" PRIu64, m->u.mmap.offset);
        add(fs, "length", "%" PRIu64, m->u.mmap.length);
        add(fs, "prot", "%" PRIu32, m->u.mmap.prot);
        add(fs, "flags", "%" PRIu32, m->u.mmap.flags);
        break;
    case UMEM_MUNMAP:
    case UMEM_MUNMAP | UMEM_NOREPLY_FLAG:
        add(fs, "mapping", "%" PRIu64, m->u.munmap.mapping);
        add(fs, "offset", "%" PRIu64, m->u.munmap.offset);
        add(fs, "length", "%" PRIu64, m->u.munmap.length);
        break;
    case UMEM_IOCTL:
        add(fs, "handle", "%" PRIu64, m->u.ioctl.handle);
        add(fs, "cmd", "%" PRIu32, m->u.ioctl.cmd);
        add(fs, "out_max", "%" PRIu32, m->u.ioctl.out_max);
        add(fs, "in_len", "%" PRIu32, m->u.ioctl.in_len);
        if (m->u.ioctl.in_len > 0) {
            hex(m->u.ioctl.in, m->u.ioctl.in_len, buf);
            add(fs, "in", "%.150s", buf);
        }
        break;
    case UMEM_REGISTER:
        add(fs, "address", "%" PRIu64, m->u.reg.address);
        add(fs, "length", "%" PRIu64, m->u.reg.length);
        add(fs, "flags", "%" PRIu32, m->u.reg.flags);
        break;
    case UMEM_UNREGISTER:
        add(fs, "buffer", "%" PRIu64, m->u.unregister.buffer);
        break;
    case UMEM_HELLO | UMEM_REPLY_FLAG:
        add(fs, "version", "%u", m->u.hello_reply.version);
        add(fs, "page_size", "%" PRIu32, m->u.hello_reply.page_size);
        add(fs, "max_message", "%" PRIu32, m->u.hello_reply.max_message);
        add(fs, "max_fds", "%" PRIu32, m->u.hello_reply.max_fds);
        break;
    case UMEM_OPEN | UMEM_REPLY_FLAG:
        add(fs, "handle", "%" PRIu64, m->u.open_reply.handle);
        break;
    case UMEM_MMAP | UMEM_REPLY_FLAG:
        add(fs, "mapping", "%" PRIu64, m->u.mmap_reply.mapping);
        add(fs, "length", "%" PRIu64, m->u.mmap_reply.length);
        add(fs, "nseg", "%" PRIu32, m->u.mmap_reply.nseg);
        for (uint32_t i = 0; i < m->u.mmap_reply.nseg && fs->n + 5 <= MAX_FIELDS; i++) {
            struct umem_segment s;
            char key[32];
            umem_segment_at(m, i, &s);
            snprintf(key, sizeof key, "seg%" PRIu32 ".offset", i);
            add(fs, key, "%" PRIu64, s.offset);
            snprintf(key, sizeof key, "seg%" PRIu32 ".length", i);
            add(fs, key, "%" PRIu64, s.length);
            snprintf(key, sizeof key, "seg%" PRIu32 ".fd_offset", i);
            add(fs, key, "%" PRIu64, s.fd_offset);
            snprintf(key, sizeof key, "seg%" PRIu32 ".maxprot", i);
            add(fs, key, "%" PRIu32, s.maxprot);
            snprintf(key, sizeof key, "seg%" PRIu32 ".fd_index", i);
            add(fs, key, "%" PRIu32, s.fd_index);
        }
        break;
    case UMEM_MMAP_MORE | UMEM_REPLY_FLAG:
        add(fs, "first", "%" PRIu32, m->u.mmap_more.first);
        add(fs, "count", "%" PRIu32, m->u.mmap_more.count);
        break;
    case UMEM_IOCTL | UMEM_REPLY_FLAG:
        add(fs, "rval", "%" PRId32, m->u.ioctl_reply.rval);
        add(fs, "out_len", "%" PRIu32, m->u.ioctl_reply.out_len);
        if (m->u.ioctl_reply.out_len > 0) {
            hex(m->u.ioctl_reply.out, m->u.ioctl_reply.out_len, buf);
            add(fs, "out", "%.150s", buf);
        }
        break;
    case UMEM_REGISTER | UMEM_REPLY_FLAG:
        add(fs, "buffer", "%" PRIu64, m->u.register_reply.buffer);
        break;
    case UMEM_READ:
    case UMEM_WRITE:
        add(fs, "handle", "%" PRIu64, m->u.io.handle);
        add(fs, "offset", "%" PRIu64, m->u.io.offset);
        add(fs, "length", "%" PRIu32, m->u.io.length);
        add(fs, "flags", "%" PRIu32, m->u.io.flags);
        if (m->type == UMEM_WRITE && m->u.io.length > 0) {
            hex(m->u.io.data, m->u.io.length, buf);
            add(fs, "data", "%.150s", buf);
        }
        break;
    case UMEM_READ | UMEM_REPLY_FLAG:
    case UMEM_WRITE | UMEM_REPLY_FLAG:
        add(fs, "count", "%" PRIu32, m->u.io_reply.count);
        if (m->type == (UMEM_READ | UMEM_REPLY_FLAG) && m->u.io_reply.count > 0) {
            hex(m->u.io_reply.data, m->u.io_reply.count, buf);
            add(fs, "data", "%.150s", buf);
        }
        break;
    case UMEM_DUP_PREPARE:
        add(fs, "mapping", "%" PRIu64, m->u.dup_prepare.mapping);
        break;
    case UMEM_INHERIT:
        add(fs, "handle", "%" PRIu64, m->u.inherit.handle);
        hex(m->u.inherit.token, UMEM_TOKEN_SIZE, buf);
        add(fs, "token", "%s", buf);
        break;
    case UMEM_DUP_PREPARE | UMEM_REPLY_FLAG:
        hex(m->u.dup_prepare_reply.token, UMEM_TOKEN_SIZE, buf);
        add(fs, "token", "%s", buf);
        break;
    case UMEM_INHERIT | UMEM_REPLY_FLAG:
        add(fs, "mapping", "%" PRIu64, m->u.inherit_reply.mapping);
        add(fs, "length", "%" PRIu64, m->u.inherit_reply.length);
        break;
    case UMEM_POLL:
        add(fs, "handle", "%" PRIu64, m->u.poll.handle);
        add(fs, "events", "%u", (unsigned)m->u.poll.events);
        add(fs, "flags", "%u", (unsigned)m->u.poll.flags);
        break;
    case UMEM_POLL | UMEM_REPLY_FLAG:
        add(fs, "revents", "%u", (unsigned)m->u.poll_reply.revents);
        add(fs, "armed", "%u", (unsigned)m->u.poll_reply.armed);
        break;
    case UMEM_EVENT | UMEM_REPLY_FLAG:
        add(fs, "handle", "%" PRIu64, m->u.event.handle);
        add(fs, "revents", "%u", (unsigned)m->u.event.revents);
        break;
    default: /* CLOSE, MUNMAP, UNREGISTER replies: errno only */
        break;
    }
}

/* Same value? Numbers compare as numbers (0x1000 == 4096), byte strings as hex text. */
static int same(const char *key, const char *file, const char *decoded)
{
    if (strcmp(key, "in") == 0 || strcmp(key, "out") == 0 || strcmp(key, "data") == 0 || strcmp(key, "token") == 0)
        return strcmp(file, decoded) == 0;
    uint64_t a, b;
    return num(file, &a) && num(decoded, &b) && a == b;
}

/* Every field of the file is decoded with the same value, and every decoded field is in the file. */
static int compare(const char *name, const struct fields *file, const struct fields *dec)
{
    int ok = 1;
    for (int i = 0; i < file->n; i++) {
        const char *k = file->f[i].key;
        if (strcmp(k, "fds") == 0)
            continue;
        const char *v = get(dec, k);
        if (v == NULL || !same(k, file->f[i].value, v)) {
            printf("# %s: %s is %s in the file, %s decoded\n", name, k, file->f[i].value, v ? v : "(absent)");
            ok = 0;
        }
    }
    for (int i = 0; i < dec->n; i++) {
        if (get(file, dec->f[i].key) == NULL) {
            printf("# %s: decoded %s=%s is not in the file\n", name, dec->f[i].key, dec->f[i].value);
            ok = 0;
        }
    }
    return ok;
}

/* Encodes the message the fields describe; returns its length or a negative errno. */
static int encode(const struct fields *fs, uint8_t *buf, size_t cap, int *ok)
{
    uint8_t bytes[MAX_BYTES];
    uint16_t type = (uint16_t)need(fs, "type", ok);
    uint32_t seq = (uint32_t)need(fs, "seq", ok);
    if (type & UMEM_REPLY_FLAG) {
        int32_t err = (int32_t)need(fs, "errno", ok);
        if (err != 0)
            return umem_enc_error(buf, cap, (uint16_t)(type & ~UMEM_REPLY_FLAG), seq, err);
    }
    switch (type) {
    case UMEM_HELLO:
        return umem_enc_hello(buf, cap, seq, (uint16_t)need(fs, "min_version", ok),
                              (uint16_t)need(fs, "max_version", ok));
    case UMEM_OPEN:
        return umem_enc_open(buf, cap, seq, (uint32_t)need(fs, "oflags", ok));
    case UMEM_CLOSE:
        return umem_enc_close(buf, cap, seq, need(fs, "handle", ok));
    case UMEM_MMAP:
        return umem_enc_mmap(buf, cap, seq, need(fs, "handle", ok), need(fs, "offset", ok), need(fs, "length", ok),
                             (uint32_t)need(fs, "prot", ok), (uint32_t)need(fs, "flags", ok));
    case UMEM_MUNMAP:
        return umem_enc_munmap(buf, cap, seq, need(fs, "mapping", ok), need(fs, "offset", ok),
                               need(fs, "length", ok));
    case UMEM_MUNMAP | UMEM_NOREPLY_FLAG:
        return umem_enc_munmap_noreply(buf, cap, seq, need(fs, "mapping", ok), need(fs, "offset", ok),
                                       need(fs, "length", ok));
    case UMEM_IOCTL: {
        uint32_t in_len = (uint32_t)need(fs, "in_len", ok);
        size_t n = get(fs, "in") ? unhex(get(fs, "in"), bytes, sizeof bytes, ok) : 0;
        if (n != in_len)
            *ok = 0;
        return umem_enc_ioctl(buf, cap, seq, need(fs, "handle", ok), (uint32_t)need(fs, "cmd", ok),
                              (uint32_t)need(fs, "out_max", ok), bytes, (uint32_t)n);
    }
    case UMEM_REGISTER:
        return umem_enc_register(buf, cap, seq, need(fs, "address", ok), need(fs, "length", ok),
                                 (uint32_t)need(fs, "flags", ok));
    case UMEM_UNREGISTER:
        return umem_enc_unregister(buf, cap, seq, need(fs, "buffer", ok));
    case UMEM_HELLO | UMEM_REPLY_FLAG:
        return umem_enc_hello_reply(buf, cap, seq, (uint16_t)need(fs, "version", ok),
                                    (uint32_t)need(fs, "page_size", ok), (uint32_t)need(fs, "max_message", ok),
                                    (uint32_t)need(fs, "max_fds", ok));
    case UMEM_OPEN | UMEM_REPLY_FLAG:
        return umem_enc_open_reply(buf, cap, seq, need(fs, "handle", ok));
    case UMEM_CLOSE | UMEM_REPLY_FLAG:
    case UMEM_MUNMAP | UMEM_REPLY_FLAG:
    case UMEM_UNREGISTER | UMEM_REPLY_FLAG:
        return umem_enc_ok(buf, cap, (uint16_t)(type & ~UMEM_REPLY_FLAG), seq);
    case UMEM_MMAP | UMEM_REPLY_FLAG: {
        struct umem_segment segs[8];
        uint32_t nseg = (uint32_t)need(fs, "nseg", ok);
        if (nseg > 8) {
            *ok = 0;
            return -EINVAL;
        }
        for (uint32_t i = 0; i < nseg; i++) {
            char key[32];
            snprintf(key, sizeof key, "seg%" PRIu32 ".offset", i);
            segs[i].offset = need(fs, key, ok);
            snprintf(key, sizeof key, "seg%" PRIu32 ".length", i);
            segs[i].length = need(fs, key, ok);
            snprintf(key, sizeof key, "seg%" PRIu32 ".fd_offset", i);
            segs[i].fd_offset = need(fs, key, ok);
            snprintf(key, sizeof key, "seg%" PRIu32 ".maxprot", i);
            segs[i].maxprot = (uint32_t)need(fs, key, ok);
            snprintf(key, sizeof key, "seg%" PRIu32 ".fd_index", i);
            segs[i].fd_index = (uint32_t)need(fs, key, ok);
        }
        return umem_enc_mmap_reply(buf, cap, seq, need(fs, "mapping", ok), need(fs, "length", ok), nseg, segs);
    }
    case UMEM_POLL:
        return umem_enc_poll(buf, cap, seq, need(fs, "handle", ok), (uint16_t)need(fs, "events", ok),
                             (uint16_t)need(fs, "flags", ok));
    case UMEM_POLL | UMEM_REPLY_FLAG:
        return umem_enc_poll_reply(buf, cap, seq, (uint16_t)need(fs, "revents", ok), (uint16_t)need(fs, "armed", ok));
    case UMEM_EVENT | UMEM_REPLY_FLAG:
        return umem_enc_event(buf, cap, seq, need(fs, "handle", ok), (uint16_t)need(fs, "revents", ok));
    case UMEM_MMAP_MORE | UMEM_REPLY_FLAG:
        return umem_enc_mmap_more(buf, cap, seq, (uint32_t)need(fs, "first", ok), (uint32_t)need(fs, "count", ok));
    case UMEM_IOCTL | UMEM_REPLY_FLAG: {
        uint32_t out_len = (uint32_t)need(fs, "out_len", ok);
        size_t n = get(fs, "out") ? unhex(get(fs, "out"), bytes, sizeof bytes, ok) : 0;
        if (n != out_len)
            *ok = 0;
        return umem_enc_ioctl_reply(buf, cap, seq, (int32_t)need(fs, "rval", ok), bytes, (uint32_t)n);
    }
    case UMEM_REGISTER | UMEM_REPLY_FLAG:
        return umem_enc_register_reply(buf, cap, seq, need(fs, "buffer", ok));
    case UMEM_READ:
    case UMEM_WRITE: {
        uint32_t length = (uint32_t)need(fs, "length", ok);
        size_t n = get(fs, "data") ? unhex(get(fs, "data"), bytes, sizeof bytes, ok) : 0;
        if (type == UMEM_WRITE && n != length)
            *ok = 0;
        return umem_enc_io(buf, cap, type, seq, need(fs, "handle", ok), need(fs, "offset", ok), length,
                           (uint32_t)need(fs, "flags", ok), bytes);
    }
    case UMEM_READ | UMEM_REPLY_FLAG:
    case UMEM_WRITE | UMEM_REPLY_FLAG: {
        uint32_t count = (uint32_t)need(fs, "count", ok);
        size_t n = get(fs, "data") ? unhex(get(fs, "data"), bytes, sizeof bytes, ok) : 0;
        if (type == (UMEM_READ | UMEM_REPLY_FLAG) && n != count)
            *ok = 0;
        return umem_enc_io_reply(buf, cap, (uint16_t)(type & ~UMEM_REPLY_FLAG), seq, count, bytes);
    }
    case UMEM_DUP_PREPARE:
        return umem_enc_dup_prepare(buf, cap, seq, need(fs, "mapping", ok));
    case UMEM_INHERIT:
    case UMEM_DUP_PREPARE | UMEM_REPLY_FLAG: {
        uint8_t token[UMEM_TOKEN_SIZE];
        if (get(fs, "token") == NULL || unhex(get(fs, "token"), token, sizeof token, ok) != sizeof token)
            *ok = 0;
        return type == UMEM_INHERIT ? umem_enc_inherit(buf, cap, seq, need(fs, "handle", ok), token)
                                    : umem_enc_dup_prepare_reply(buf, cap, seq, token);
    }
    case UMEM_INHERIT | UMEM_REPLY_FLAG:
        return umem_enc_inherit_reply(buf, cap, seq, need(fs, "mapping", ok), need(fs, "length", ok));
    default:
        *ok = 0;
        return -EPROTO;
    }
}

/* How many fds a message must travel with: the protocol's rule, checked against the file's `fds`. */
static uint64_t fds_expected(const struct umem_msg *m)
{
    if (m->error != 0)
        return 0;
    switch (m->type) {
    case UMEM_REGISTER:
        return 1;
    case UMEM_MMAP | UMEM_REPLY_FLAG:
        return m->u.mmap_reply.nseg < UMEM_MAX_FDS ? m->u.mmap_reply.nseg : UMEM_MAX_FDS;
    case UMEM_MMAP_MORE | UMEM_REPLY_FLAG:
        return m->u.mmap_more.count;
    default:
        return 0;
    }
}

static int seen_req[16], seen_rep[16], seen_error, seen_bad, valid_count;
static uint8_t valid[64][MAX_BYTES];
static size_t valid_len[64];

static void check_message(const char *name, const struct fields *fs, const uint8_t *bytes, size_t n)
{
    struct umem_msg m;
    int err = umem_decode(bytes, n, &m);
    if (strncmp(name, "bad.", 4) == 0) {
        const char *expect = get(fs, "expect");
        tap_check(expect != NULL && err < 0 && strcmp(umem_errname(err), expect) == 0,
                  "%s is refused with %s (decoder: %s)", name, expect ? expect : "(no expect field)",
                  err < 0 ? umem_errname(err) : "accepted");
        seen_bad++;
        return;
    }
    if (!tap_check(err == 0, "%s decodes (%s)", name, err < 0 ? umem_errname(err) : "ok"))
        return;
    struct fields dec;
    fields_of(&m, &dec);
    tap_check(compare(name, fs, &dec), "%s decodes to the file's fields", name);

    uint8_t buf[MAX_BYTES];
    int ok = 1;
    int len = encode(fs, buf, sizeof buf, &ok);
    int same_bytes = ok && len == (int)n && memcmp(buf, bytes, n) == 0;
    if (!same_bytes && len > 0) {
        char h[2 * MAX_BYTES + 1];
        hex(buf, (size_t)len, h);
        printf("# %s encodes as %s\n", name, h);
    }
    tap_check(same_bytes, "%s encodes from its fields to the file's bytes", name);

    uint64_t fds = 0;
    const char *f = get(fs, "fds");
    tap_check((f == NULL || num(f, &fds)) && fds == fds_expected(&m), "%s travels with %" PRIu64 " fds", name,
              fds);

    if (m.type & UMEM_REPLY_FLAG) {
        seen_rep[m.type & 15] |= m.error == 0;
        seen_error |= m.error != 0;
    } else {
        seen_req[m.type & 15] = 1;
    }
    if (valid_count < 64) {
        memcpy(valid[valid_count], bytes, n);
        valid_len[valid_count++] = n;
    }
}

/* A prefix of a valid message, or one with a byte changed, must never crash the decoder. */
static void check_robustness(void)
{
    int prefixes_refused = 1;
    long accepted = 0, tried = 0;
    uint32_t rng = 12345;
    for (int i = 0; i < valid_count; i++) {
        struct umem_msg m;
        for (size_t k = 0; k < valid_len[i]; k++)
            if (umem_decode(valid[i], k, &m) == 0)
                prefixes_refused = 0;
        uint8_t copy[MAX_BYTES];
        for (int round = 0; round < 2000; round++) {
            memcpy(copy, valid[i], valid_len[i]);
            rng = rng * 1103515245u + 12345u;
            size_t at = (rng >> 8) % valid_len[i];
            rng = rng * 1103515245u + 12345u;
            copy[at] ^= (uint8_t)(1u << ((rng >> 16) % 8));
            tried++;
            if (umem_decode(copy, valid_len[i], &m) == 0)
                accepted++; /* flipping a value bit may still be valid; it must just not crash */
        }
    }
    tap_check(prefixes_refused, "no proper prefix of a valid message decodes");
    tap_check(tried > 0, "%ld one-bit corruptions decoded without a crash (%ld still well-formed)", tried, accepted);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH/TO/protocol.txt\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], umem_errname(errno));
        return 1;
    }
    static char line[16384], prev[16384];
    prev[0] = '\0';
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '#' && line[0] != '\0') {
            char name[64], hexs[2 * MAX_BYTES + 1], want[80];
            uint8_t bytes[MAX_BYTES];
            struct fields fs = { .n = 0 };
            int ok = sscanf(line, "%63s %8192s", name, hexs) == 2;
            snprintf(want, sizeof want, "# %s: ", name);
            ok = ok && strncmp(prev, want, strlen(want)) == 0;
            for (char *save = NULL, *tok = ok ? strtok_r(prev + strlen(want), " ", &save) : NULL; tok != NULL;
                 tok = strtok_r(NULL, " ", &save)) {
                char *eq = strchr(tok, '=');
                if (eq == NULL || fs.n == MAX_FIELDS) {
                    ok = 0;
                    break;
                }
                *eq = '\0';
                add(&fs, tok, "%s", eq + 1);
            }
            size_t n = ok ? unhex(hexs, bytes, sizeof bytes, &ok) : 0;
            if (tap_check(ok, "%s: field line and hex parse", ok ? name : line))
                check_message(name, &fs, bytes, n);
        }
        memcpy(prev, line, sizeof prev);
    }
    fclose(f);

    const char *req_names[] = { "", "HELLO", "OPEN", "CLOSE", "MMAP", "MUNMAP", "IOCTL", "REGISTER", "UNREGISTER",
                                "MMAP_MORE", "READ", "WRITE", "DUP_PREPARE", "INHERIT" };
    for (int t = UMEM_HELLO; t <= UMEM_INHERIT; t++)
        if (t != UMEM_MMAP_MORE) /* host to client only */
            tap_check(seen_req[t], "the vectors hold a %s request", req_names[t]);
    for (int t = UMEM_HELLO; t <= UMEM_INHERIT; t++)
        tap_check(seen_rep[t], "the vectors hold a successful %s reply", req_names[t]);
    tap_check(seen_error, "the vectors hold an error reply");
    tap_check(seen_bad >= 3, "the vectors hold %d malformed replies", seen_bad);
    check_robustness();
    printf("# sizeof(void *) = %u\n", (unsigned)sizeof(void *));
    return tap_done();
}
