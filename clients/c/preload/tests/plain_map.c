/*
 * plain_map.c - an ordinary program that knows nothing of Umem (no Umem header, no Umem library): it opens a
 * character device, checks it is one, maps its first page, writes a message there and prints what else it sees,
 * and checks the errors a device node gives. Run with LD_PRELOAD=libumem-preload.so on a Umem node.
 *   usage: plain_map NODE SIZE MESSAGE    SIZE: the device's bytes (a map there is beyond it)
 * Prints one line per check ("ok"/"not ok"), "seen: TEXT" (the NUL-terminated text at offset 1024 of page 0),
 * and "# P passed, F failed"; exits 0 only if every check held, 2 on a usage mistake.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int passed, failed;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (cond)
        passed++;
    else
        failed++;
}

/* Open fds of this process (the entries of /proc/self/fd, less the one listing them). */
static int open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;)
        n += e->d_name[0] != '.';
    if (dir != NULL)
        closedir(dir);
    return n - 1;
}

/* A call that must fail with `want`. */
static void fails(int failed_call, int want, const char *what)
{
    int got = errno;
    char line[200];
    snprintf(line, sizeof line, "%s: %s (want %s)", what, failed_call ? strerror(got) : "succeeded", strerror(want));
    check(failed_call && got == want, line);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: plain_map NODE SIZE MESSAGE\n");
        return 2;
    }
    const char *node = argv[1], *message = argv[3];
    long size = strtol(argv[2], NULL, 0);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    printf("# sizeof(void *) = %zu\n", sizeof(void *));
    int fds_before = open_fds();

    int fd = open(node, O_RDWR | O_CLOEXEC);
    check(fd >= 0, "open O_RDWR");
    if (fd < 0) {
        printf("# open: %s\n", strerror(errno));
        return 1;
    }
    struct stat st;
    check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "fstat: a character device");
    printf("# mode %04o\n", (unsigned)(st.st_mode & 07777));
    check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL: O_RDWR");

    char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(p != MAP_FAILED, "mmap page 0 read-write shared");
    if (p != MAP_FAILED) {
        printf("seen: %.100s\n", p + 1024);
        strcpy(p, message);
        check(strcmp(p, message) == 0, "the message reads back");
    }
    fails(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, (off_t)size) == MAP_FAILED, ENXIO, "mmap beyond the device");
    fails(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 1) == MAP_FAILED, EINVAL, "mmap at an unaligned offset");

    int ro = open(node, O_RDONLY);
    check(ro >= 0, "open O_RDONLY");
    fails(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED, EACCES,
          "read-only open, mmap read-write shared");
    char *r = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
    check(r != MAP_FAILED && p != MAP_FAILED && strcmp(r, message) == 0, "read-only map sees the message");
    if (r != MAP_FAILED) {
        fails(mprotect(r, page, PROT_READ | PROT_WRITE) != 0, EACCES, "mprotect of the read-only map to writable");
        check(munmap(r, page) == 0, "munmap of the read-only map");
    }
    fails(write(ro, "x", 1) < 0, EBADF, "write on a read-only open");
    char c;
    fails(read(fd, &c, 1) < 0, ENXIO, "read of a driver without read(9E) (nodev)");
    check(close(ro) == 0, "close O_RDONLY");

    int d = dup(fd);
    check(d >= 0 && d != fd, "dup");
    check(close(fd) == 0, "close the first fd");
    char *q = mmap(NULL, page, PROT_READ, MAP_SHARED, d, 0);
    check(q != MAP_FAILED && p != MAP_FAILED && strcmp(q, message) == 0, "the dup maps the same page after close");
    if (q != MAP_FAILED)
        munmap(q, page);
    int hi = fcntl(d, F_DUPFD_CLOEXEC, 100);
    check(hi >= 100 && fstat(hi, &st) == 0 && S_ISCHR(st.st_mode), "F_DUPFD_CLOEXEC is a device fd too");
    check(close(hi) == 0 && close(d) == 0, "close both");
    fails(close(d) != 0, EBADF, "close of a closed fd");
    fails(mmap(NULL, page, PROT_READ, MAP_SHARED, d, 0) == MAP_FAILED, EBADF, "mmap of a closed fd");
    fails(fstat(d, &st) != 0, EBADF, "fstat of a closed fd");
    if (p != MAP_FAILED)
        check(strcmp(p, message) == 0 && munmap(p, page) == 0, "the map outlives its fd, then munmap");

    int null = open("/dev/null", O_RDONLY);
    check(null >= 0 && fstat(null, &st) == 0 && S_ISCHR(st.st_mode) && read(null, &st, 1) == 0 && close(null) == 0,
          "an ordinary fd passes through");
    check(open_fds() == fds_before, "no fd left open");
    printf("1..%d\n# %d passed, %d failed\n", passed + failed, passed, failed);
    return failed == 0 ? 0 : 1;
}
