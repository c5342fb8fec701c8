/*
 * exec.c - device fds across execve(2). An fd without close-on-exec survives exec, but the new program's preload
 * starts with an empty table: execve passes the device fds in the environment (PRELOAD_ENV, "fd:oflags:ino,..."),
 * and the new image adopts each one that is still the O_PATH fd of that node, connecting on first use (the old
 * image's connection closed with it, so the host has already run close(9E) for it; the new one is a new open).
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void preload_adopt(const char *list)
{
    for (const char *p = list; *p != '\0';) {
        char *end;
        long fd = strtol(p, &end, 10);
        int oflags = *end == ':' ? (int)strtol(end + 1, &end, 10) : -1;
        unsigned long long ino = *end == ':' ? strtoull(end + 1, &end, 10) : 0;
        struct stat64 st;
        if (oflags >= 0 && fd >= 0 && fd < PRELOAD_MAX_FD && REAL(fstat64)((int)fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
            st.st_ino == ino && (REAL(fcntl)((int)fd, F_GETFL) & O_PATH) != 0 && preload_peek((int)fd) == NULL) {
            struct pdev *pd = calloc(1, sizeof *pd);
            if (pd != NULL) {
                *pd = (struct pdev){ .oflags = oflags, .st_dev = st.st_dev, .st_ino = st.st_ino };
                preload_lock();
                preload_add((int)fd, pd);
                preload_unlock();
            }
        }
        p = strchr(end, ',') != NULL ? strchr(end, ',') + 1 : end + strlen(end);
    }
}

/* "UMEM_PRELOAD_FDS=..." for the device fds that survive exec, or NULL when there are none (or no memory). */
static char *device_fds(void)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    len = (size_t)snprintf(s, cap, "%s=", PRELOAD_ENV);
    size_t empty = len;
    for (int fd = 0; fd < PRELOAD_MAX_FD; fd++) {
        struct pdev *pd = preload_peek(fd);
        int fdflags;
        if (pd == NULL || (fdflags = REAL(fcntl)(fd, F_GETFD)) < 0 || (fdflags & FD_CLOEXEC) != 0)
            continue;
        char item[64];
        size_t n = (size_t)snprintf(item, sizeof item, "%s%d:%d:%llu", len > empty ? "," : "", fd, pd->oflags,
                                    (unsigned long long)pd->st_ino);
        if (len + n + 1 > cap) {
            char *t = realloc(s, cap = (len + n + 1) * 2);
            if (t == NULL) {
                free(s);
                return NULL;
            }
            s = t;
        }
        memcpy(s + len, item, n + 1);
        len += n;
    }
    if (len == empty) {
        free(s);
        return NULL;
    }
    return s;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    char *mine = device_fds();
    if (mine == NULL)
        return REAL(execve)(path, argv, envp);
    size_t n = 0;
    while (envp != NULL && envp[n] != NULL)
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    if (env == NULL) {
        free(mine);
        return REAL(execve)(path, argv, envp);
    }
    size_t k = 0, name = strlen(PRELOAD_ENV);
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], PRELOAD_ENV, name) != 0 || envp[i][name] != '=')
            env[k++] = envp[i];
    env[k++] = mine;
    env[k] = NULL;
    int r = REAL(execve)(path, argv, env);
    int err = errno; /* only a failed exec returns */
    free(env);
    free(mine);
    errno = err;
    return r;
}
