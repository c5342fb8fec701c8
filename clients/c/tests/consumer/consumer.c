/*
 * consumer NODE - an application built against an installed copy of the C client (pkg-config or CMake), as the
 * install tests build it: it includes <umem.h> from the install, checks that the library it runs with has the
 * header's major version, names the file the library was loaded from, and uses the device: maps page 0 read-write,
 * writes "consumer-PID-BITS" there, and has the test driver echo it back (ioctl 1, tests/Umem.TestDrivers).
 * Prints "version=V number=N library=PATH bits=B" and "wrote=TEXT echo=TEXT". Exit codes: 0 done, 1 failure.
 */
#define _GNU_SOURCE /* dladdr */
#include <umem.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ECHO 1

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer NODE\n");
        return 64;
    }
    Dl_info where;
    const char *library = dladdr((void *)umem_version, &where) && where.dli_fname ? where.dli_fname : "-"; /* "-": linked statically */
    uint32_t runtime = umem_version();
    printf("version=%s number=%u library=%s bits=%zu\n", UMEM_VERSION_STRING, (unsigned)runtime, library,
           8 * sizeof(void *));
    if (runtime / 1000000u != UMEM_VERSION_MAJOR) {
        fprintf(stderr, "consumer: built for libumem %s, running with %u\n", UMEM_VERSION_STRING, (unsigned)runtime);
        return 1;
    }

    umem_dev *dev;
    void *page;
    int rc = umem_open(argv[1], O_RDWR, &dev);
    if (rc == 0 && (rc = umem_mmap(dev, 0, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, &page,
                                   NULL)) < 0)
        umem_close(dev);
    if (rc < 0) {
        fprintf(stderr, "consumer: %s: %s\n", argv[1], umem_errname(rc));
        return 1;
    }
    char text[64], echo[64];
    int n = snprintf(text, sizeof text, "consumer-%d-%zu", (int)getpid(), 8 * sizeof(void *));
    memcpy(page, text, (size_t)n + 1);
    size_t echo_len = 0;
    rc = umem_ioctl(dev, ECHO, page, (size_t)n + 1, echo, sizeof echo, &echo_len, NULL);
    printf("wrote=%s echo=%s\n", text, rc == 0 && echo_len == (size_t)n + 1 ? echo : umem_errname(rc));
    umem_close(dev);
    return rc == 0 ? 0 : 1;
}
