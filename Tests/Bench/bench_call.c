/*
** bench_call.c -- the cost of one twospeed_call beside its floor. `make bench` runs it.
**
** For each small request it prints, from one run:
**   call   the time of one twospeed_call (and twospeed_free of its answer), in ns;
**   floor  what any engine that speaks JSON text through jansson must spend on the same message: a C
**          loop doing only json_loads of the same request text (then json_decref) and json_dumps
**          (JSON_COMPACT, with the engine's 15-digit reals) of the same response the engine returned
**          (then free); the program checks that this dump is byte for byte the engine's text;
**   ratio  call / floor. The team aims for <= 1.5.
**
** Each figure: a warm-up, then ROUNDS rounds of about ROUND_NS each, timed with
** clock_gettime(CLOCK_MONOTONIC); the median round is reported. The process's resident memory
** (VmRSS) is printed after loading the retailer portfolio into a ":memory:" engine.
**
** Usage: bench_call [PORTFOLIO.json]   (default examples/portfolios/retailer.json)
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "twospeed.h"

#define WARMUP_NS 200000000.0 /* 0.2 s */
#define ROUND_NS 500000000.0  /* 0.5 s; three rounds make about 1.5 s per figure */
#define ROUNDS 3

/* The engine's own flags, so that the floor parses exactly as strictly and prints the very same text:
   compact, with reals to 15 significant digits (plain JSON_COMPACT prints 0.8 as 0.80000000000000004). */
#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define ENCODE_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef void (*op_fn)(void *ctx);

/* Runs op for about ns nanoseconds; returns the number of runs and sets *elapsed. */
static long run_for(op_fn op, void *ctx, double ns, double *elapsed) {
    long n = 0, batch = 1;
    double start = now_ns(), t = start;
    while (t - start < ns) {
        for (long i = 0; i < batch; i++) op(ctx);
        n += batch;
        if (batch < (1L << 16)) batch *= 2;
        t = now_ns();
    }
    *elapsed = t - start;
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns per run: warm up, then the median of ROUNDS timed rounds of a fixed iteration count. */
static double measure(op_fn op, void *ctx) {
    double elapsed;
    long n = run_for(op, ctx, WARMUP_NS, &elapsed);
    long iters = (long)((double)n * (ROUND_NS / elapsed));
    if (iters < 1) iters = 1;
    double per[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double start = now_ns();
        for (long i = 0; i < iters; i++) op(ctx);
        per[r] = (now_ns() - start) / (double)iters;
    }
    qsort(per, ROUNDS, sizeof per[0], cmp_double);
    return per[ROUNDS / 2];
}

/* MARK: the two loops */

struct bench {
    twospeed_engine *eng;
    const char *request;  /* the request text */
    json_t *response;     /* the engine's response, parsed once: what the floor dumps */
    volatile size_t sink; /* keeps the loops' results alive */
};

static void op_call(void *ctx) {
    struct bench *b = ctx;
    char *res = twospeed_call(b->eng, b->request);
    b->sink += (size_t)res[0];
    twospeed_free(res);
}

static void op_floor(void *ctx) {
    struct bench *b = ctx;
    json_error_t err;
    json_t *req = json_loads(b->request, DECODE_FLAGS, &err);
    b->sink += (size_t)json_object_size(req);
    json_decref(req);
    char *text = json_dumps(b->response, ENCODE_FLAGS);
    b->sink += (size_t)text[0];
    free(text);
}

/* MARK: reporting */

static long vm_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Measures one request; returns 0, or 1 when the engine did not answer it with a result. */
static int bench_request(twospeed_engine *eng, const char *label, const char *request) {
    struct bench b;
    memset(&b, 0, sizeof b);
    b.eng = eng;
    b.request = request;

    char *text = twospeed_call(eng, request);
    if (!text) {
        fprintf(stderr, "%s: twospeed_call returned NULL\n", label);
        return 1;
    }
    json_error_t err;
    b.response = json_loads(text, DECODE_FLAGS, &err);
    if (!b.response || !json_object_get(b.response, "result")) {
        fprintf(stderr, "%s: the engine did not answer with a result: %s\n", label, text);
        twospeed_free(text);
        json_decref(b.response);
        return 1;
    }
    /* The floor dumps the same response: check that it is the same text. */
    char *again = json_dumps(b.response, ENCODE_FLAGS);
    if (!again || strcmp(again, text) != 0) {
        fprintf(stderr, "note: %s: json_dumps of the response differs from the engine's text\n"
                        "  engine: %s\n  jansson: %s\n", label, text, again ? again : "(null)");
    }
    size_t response_bytes = strlen(text);
    free(again);
    twospeed_free(text);

    double call = measure(op_call, &b);
    double floor = measure(op_floor, &b);
    printf("call %-20s %7.0f ns   floor (jansson parse+dump) %6.0f ns   ratio %.2f   (request %zu B, response %zu B)\n",
           label, call, floor, call / floor, strlen(request), response_bytes);
    fflush(stdout);
    json_decref(b.response);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "examples/portfolios/retailer.json";
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.column, err.text);
        return 1;
    }
    long rss_before = vm_rss_kib();
    twospeed_engine *eng = engine_with_portfolio(doc);
    if (!eng) return 1;

    printf("TwoSpeed %s, bench_call: one twospeed_call vs. jansson's parse+dump of the same messages\n", twospeed_version());
    printf("VmRSS after loading %s into a \":memory:\" engine: %ld KiB (%ld KiB before opening the engine)\n", path,
           vm_rss_kib(), rss_before);
    fflush(stdout);

    int failures = 0;
    failures += bench_request(eng, "entity.get",
                              "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\","
                              "\"kind\":\"product\",\"id\":\"front-page\"},\"id\":1}");
    failures += bench_request(eng, "engine.info", "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}");
    failures += bench_request(eng, "portfolio.list", "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.list\",\"id\":1}");

    printf("VmRSS after the runs: %ld KiB\n", vm_rss_kib());
    twospeed_close(eng);
    return failures ? 1 : 0;
}
