/* What the socket benches' clients share: a clock, a blocking Unix-socket connection, a full write and
 * a line reader. Header-only (static functions), included by bench_socket.c and bench_cluster.c. */
#ifndef TWOSPEED_BENCH_SOCKET_CLIENT_H
#define TWOSPEED_BENCH_SOCKET_CLIENT_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror(path); exit(3); }
    return fd;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

/* A line reader over one connection. */
typedef struct { int fd; char *buf; size_t cap, len, start; } reader;

/* The next line (without its "\n", NUL-terminated, valid until the next call), or NULL at EOF. */
static char *read_line(reader *r, size_t *n) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->len - r->start);
        if (nl) {
            char *line = r->buf + r->start;
            *nl = 0;
            *n = (size_t)(nl - line);
            r->start = (size_t)(nl - r->buf) + 1;
            return line;
        }
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->start = 0;
        if (r->len == r->cap) { r->cap *= 2; r->buf = realloc(r->buf, r->cap); }
        ssize_t got = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return NULL;
        r->len += (size_t)got;
    }
}

#endif
