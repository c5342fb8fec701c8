/*
 * sample.h - what the C samples share: argument parsing, little-endian fields and the exit status of `umem` and the
 * C# samples (docs/operating.md, "Exit status"): 0 done, 1 failure (a call refused, a check that did not hold),
 * 2 usage (the line names the option or argument).
 */
#ifndef UMEM_SAMPLE_H
#define UMEM_SAMPLE_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* A whole decimal number in [min, max]; 0 on success, -1 (nothing stored) otherwise. */
static inline int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *value)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

/* The value after option argv[*i], in [min, max]: 0 and *i moved past it, or -1 with the reason on stderr. */
static inline int option_u64(const char *prog, int argc, char **argv, int *i, uint64_t min, uint64_t max, uint64_t *value)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, argv[*i]);
        return -1;
    }
    if (parse_u64(argv[*i + 1], min, max, value) != 0) {
        fprintf(stderr, "%s: %s %s: not a whole number from %" PRIu64 " to %" PRIu64 "\n", prog, argv[*i], argv[*i + 1],
                min, max);
        return -1;
    }
    *i += 1;
    return 0;
}

/* An argument no option of the program takes. */
static inline int unknown_argument(const char *prog, const char *arg)
{
    fprintf(stderr, "%s: unknown %s '%s'\n", prog, arg[0] == '-' ? "option" : "argument", arg);
    return -1;
}

/* Whether argv[i] asks for help (--help, -h, -?), as the C# samples' System.CommandLine does. */
static inline int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "-?") == 0;
}

/* NODE, the one argument that is not an option, wherever it stands: 0 and *node set, or -1 with the reason. */
static inline int node_argument(const char *prog, const char *arg, const char **node)
{
    if (arg[0] == '-' || *node != NULL)
        return unknown_argument(prog, arg);
    *node = arg;
    return 0;
}

/* After the arguments: NODE was given, or -1 with the reason. */
static inline int node_given(const char *prog, const char *node)
{
    if (node != NULL)
        return 0;
    fprintf(stderr, "%s: NODE is missing\n", prog);
    return -1;
}

static inline size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static inline void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif
