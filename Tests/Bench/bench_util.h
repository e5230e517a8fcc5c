/*
** What the C benches share: a clock, reading a file whole, writing a line of make bench's closing
** table (Tests/Bench/summary.sh reads BENCH_SUMMARY), and an engine holding a portfolio.
*/
#ifndef TWOSPEED_BENCH_UTIL_H
#define TWOSPEED_BENCH_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "twospeed.h"

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

/* A ":memory:" engine holding the portfolio doc (the reference is taken), or NULL after saying why. */
static inline twospeed_engine *engine_with_portfolio(json_t *doc) {
    twospeed_engine *eng = NULL;
    int rc = twospeed_open(":memory:", &eng);
    if (rc != TWOSPEED_OK) {
        fprintf(stderr, "twospeed_open: %s\n", twospeed_errstr(rc));
        json_decref(doc);
        return NULL;
    }
    json_t *put = json_pack("{s:s, s:s, s:{s:o}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params", "portfolio",
                            doc, "id", 1);
    json_t *res = twospeed_call_json(eng, put);
    json_decref(put);
    if (!res || !json_object_get(res, "result")) {
        char *t = res ? json_dumps(res, JSON_COMPACT) : NULL;
        fprintf(stderr, "portfolio.put failed: %s\n", t ? t : "(no reply)");
        free(t);
        json_decref(res);
        twospeed_close(eng);
        return NULL;
    }
    json_decref(res);
    return eng;
}

#endif
