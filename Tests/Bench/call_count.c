/*
** call_count.c -- a fixed number of twospeed_call runs of one request, for instruction counts. Time on a
** shared machine moves by several percent from run to run; callgrind's instruction count does not, so
** a change to the call path is compared with it (`make callgrind-call`).
**
** Usage: call_count N REQUEST [PORTFOLIO.json]   (default examples/portfolios/retailer.json)
**   Loads the portfolio into a ":memory:" engine, answers REQUEST once (and checks that the answer is a
**   result), then runs run_calls (N twospeed_call + twospeed_free) and run_floor (N json_loads of the
**   request + json_dumps of the same response, bench_call's floor). Under
**   valgrind --tool=callgrind --toggle-collect=run_calls (or run_floor), Ir / N is the cost of one.
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"
#include "bench_util.h"

#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define ENCODE_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static volatile size_t sink;

__attribute__((noinline)) void run_calls(twospeed_engine *eng, const char *request, long n) {
    for (long i = 0; i < n; i++) {
        char *res = twospeed_call(eng, request);
        sink += (size_t)res[0];
        twospeed_free(res);
    }
}

__attribute__((noinline)) void run_floor(const char *request, json_t *response, long n) {
    for (long i = 0; i < n; i++) {
        json_error_t err;
        json_t *req = json_loads(request, DECODE_FLAGS, &err);
        sink += (size_t)json_object_size(req);
        json_decref(req);
        char *text = json_dumps(response, ENCODE_FLAGS);
        sink += (size_t)text[0];
        free(text);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: call_count N REQUEST [PORTFOLIO.json]\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    const char *request = argv[2];
    const char *path = argc > 3 ? argv[3] : "examples/portfolios/retailer.json";
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.column, err.text);
        return 1;
    }
    twospeed_engine *eng = engine_with_portfolio(doc);
    if (!eng) return 1;

    char *text = twospeed_call(eng, request);
    json_t *response = text ? json_loads(text, DECODE_FLAGS, &err) : NULL;
    if (!response || !json_object_get(response, "result")) {
        fprintf(stderr, "the engine did not answer with a result: %s\n", text ? text : "(null)");
        return 1;
    }
    twospeed_free(text);
    run_calls(eng, request, n);
    run_floor(request, response, n);
    json_decref(response);
    twospeed_close(eng);
    return 0;
}
