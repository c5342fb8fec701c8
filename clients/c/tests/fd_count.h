/* fd_count.h - the open fds of this process, for the C tests' leak checks. */
#ifndef UMEM_FD_COUNT_H
#define UMEM_FD_COUNT_H

#include <dirent.h>

/* Open fds of this process (under qemu-i386 the emulator's own are counted too, a constant). */
static inline int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own fd */
}

#endif
