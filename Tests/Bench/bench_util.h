/*
** What the C benches share: a clock, reading a file whole, and writing a line of make bench's closing
** table (Tests/Bench/summary.sh reads BENCH_SUMMARY).
*/
#ifndef TWOSPEED_BENCH_UTIL_H
#define TWOSPEED_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The whole file, NUL-terminated, its length in *len; NULL if it cannot be read. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; if (len) *len = (size_t)n; }
    return buf;
}

/* One line of the issues' table (make bench prints it last): figure, value, target. */
static inline void summary(const char *figure, double value, const char *target) {
    const char *path = getenv("BENCH_SUMMARY");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f) return;
    fprintf(f, "%s\t%.2f\t%s\n", figure, value, target);
    fclose(f);
}

#endif
