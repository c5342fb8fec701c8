/*
 * plain_threads.c - an ordinary threaded program (no Umem header or library) that opens, maps, writes, unmaps,
 * dups and closes a character device from several threads at once, interleaved with calls on ordinary fds, to
 * check that the preload keeps every thread's fds and mappings apart. Run with LD_PRELOAD=libumem-preload.so.
 *   usage: plain_threads NODE THREADS ROUNDS
 * Each thread owns one 8-byte cell of page 0 (its index times 64): every round it opens the node, maps page 0,
 * writes its round number into its cell, checks it reads back, unmaps, dups and closes; and stats /dev/null and
 * a pipe in between. Prints "# T threads x R rounds: F failures" and exits 0 only without failures; 2 on a
 * usage mistake.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *node;
static long rounds;
static size_t page;
static int failures;

static void failed(long thread, long round, const char *what)
{
    fprintf(stderr, "thread %ld round %ld: %s: %s\n", thread, round, what, strerror(errno));
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
    long t = (long)(intptr_t)arg;
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        failed(t, -1, "pipe");
        return NULL;
    }
    for (long r = 0; r < rounds; r++) {
        int fd = open(node, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            failed(t, r, "open");
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode))
            failed(t, r, "fstat of the device");
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || fstat(null, &st) != 0 || !S_ISCHR(st.st_mode) || close(null) != 0)
            failed(t, r, "/dev/null");
        volatile uint64_t *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if ((void *)p == MAP_FAILED) {
            failed(t, r, "mmap");
        } else {
            p[t * 8] = (uint64_t)r;
            if (p[t * 8] != (uint64_t)r)
                failed(t, r, "the cell reads back");
            if (munmap((void *)p, page) != 0)
                failed(t, r, "munmap");
        }
        char c = 'x';
        if (write(pipefd[1], &c, 1) != 1 || read(pipefd[0], &c, 1) != 1)
            failed(t, r, "pipe round trip");
        int d = dup(fd);
        if (d < 0 || fstat(d, &st) != 0 || !S_ISCHR(st.st_mode) || close(d) != 0)
            failed(t, r, "dup");
        if (close(fd) != 0)
            failed(t, r, "close");
    }
    close(pipefd[0]);
    close(pipefd[1]);
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc == 4 ? strtol(argv[2], NULL, 10) : 0;
    rounds = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
    if (threads < 1 || threads > 64 || rounds < 1) {
        fprintf(stderr, "usage: plain_threads NODE THREADS(1-64) ROUNDS\n");
        return 2;
    }
    node = argv[1];
    page = (size_t)sysconf(_SC_PAGESIZE);
    pthread_t tid[64];
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)(intptr_t)t) != 0)
            return 1;
    for (long t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    printf("# %ld threads x %ld rounds: %d failures\n", threads, rounds, failures);
    return failures == 0 ? 0 : 1;
}
