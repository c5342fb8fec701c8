/*
 * plain_fork.c - an ordinary program that knows nothing of Umem (no Umem header, no Umem library): it opens a
 * character device, maps its first page, forks, and the parent exits at once; the child goes on with the page its
 * parent mapped. Run with LD_PRELOAD=libumem-preload.so on a Umem node.
 *   usage: plain_fork NODE
 * The parent writes "parent PID" at offset 0 of the page, forks, prints "forked CHILD" and exits. The child waits
 * until its parent is gone, writes "child PID" at offset 2048, then waits (at most 60 s) for another process to
 * put a non-zero byte at offset 3000, writes that byte plus one at offset 3001, unmaps, closes, and prints
 * "child saw N" (or "child timed out"), and "child done".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void nap(void)
{
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: plain_fork NODE\n");
        return 2;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    volatile char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid_t parent = getpid();
    snprintf((char *)p, 64, "parent %d", (int)parent);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child > 0) {
        printf("forked %d\n", (int)child);
        return 0; /* exit at once: the child's mapping must outlive this process */
    }

    for (int i = 0; i < 10000 && getppid() == parent; i++)
        nap();
    snprintf((char *)p + 2048, 64, "child %d", (int)getpid());
    int seen = 0;
    for (int i = 0; i < 60000 && (seen = (unsigned char)p[3000]) == 0; i++)
        nap();
    if (seen != 0) {
        p[3001] = (char)(seen + 1);
        printf("child saw %d\n", seen);
    } else {
        printf("child timed out\n");
    }
    if (munmap((void *)p, page) != 0 || close(fd) != 0)
        perror("child: munmap/close");
    printf("child done\n");
    return 0;
}
