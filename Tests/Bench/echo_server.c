/* The floor for the socket bench: a bare C server on a Unix-domain socket with twospeedd's framing
 * (one message per line, replies in order) that answers each line with the line itself. One thread
 * per connection, blocking reads and writes: nothing between the socket and the reply.
 *
 * usage: echo_server SOCKET_PATH      (runs until SIGTERM or SIGINT; removes the socket) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

static void *serve(void *arg) {
    int fd = (int)(long)arg;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len == cap) { cap *= 2; buf = realloc(buf, cap); }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
        /* Every whole line goes back as it came; a partial one waits for the rest. */
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl) break;
            size_t end = (size_t)(nl - buf) + 1;
            if (write_all(fd, buf + start, end - start) != 0) goto done;
            start = end;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static const char *path;
static void stop(int sig) { (void)sig; unlink(path); _exit(0); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]); return 2; }
    path = argv[1];
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) { fprintf(stderr, "path too long\n"); return 2; }
    strcpy(a.sun_path, path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 256) != 0) { perror("bind/listen"); return 1; }
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; perror("accept"); return 1; }
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_create(&t, &at, serve, (void *)(long)c);
        pthread_attr_destroy(&at);
    }
}
