/*
** bench_contention.c -- entity.get under a steady write load beside entity.get alone. `make bench` runs it.
**
** One engine over a file store (real commits, real fsync) holding the retailer example and a synthetic
** portfolio (Tests/Bench/synth_portfolio.py at scale 0.1). The reader: one thread calling entity.get of a
** retailer product through twospeed_call at a steady 4,000 a second, each read's latency counted from
** when it was due (see round_p99). The load: another thread writing without pause, in turn a
** portfolio.put of the synthetic portfolio, an entity.upsert into it, and an entity.upsert of a manager
** into the retailer (the portfolio read).
**
** A control, in a third kind of round: the other thread only parses and dumps the put's text with
** jansson, as much CPU and allocation as a put's parse without any engine call, so that what the
** machine's cores cost a reader (two cores, and other work on them) shows apart from what the engine's
** writes cost it. Printed beside, not a target.
**
** Alone, loaded and the control take turns in ROUNDS rounds of ROUND_S seconds each (the writer pauses
** in the "alone" rounds; each round starts once the other thread's call in progress has ended), so that
** whatever else the machine does falls on all alike. Per round: the 99th percentile of
** the reads' latencies; the figure of each condition is the median round. The floor is entity.get alone;
** the target (issue 22): under the write load, p99 at most 1.5 times its floor. The engine's readers
** read the last committed snapshot and never wait for a commit; a read that waited for the writer's
** commits shows a p99 of the order of one commit (main before issue 22: some 250 ms, 15 to 100 times
** the control).
**
** Over PostgreSQL (issue 22 asks the same bound "on both backends"): given STORE, a libpq URI of an
** empty database, the engine opens that instead of a file (pg_bench.sh runs it against its throwaway
** server, fsync on); the same load, the same rounds, a summary line of its own.
**
** Usage: bench_contention SYNTHETIC.json [RETAILER.json [STORE]]
*/
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_util.h"
#include "twospeed.h"

#define ROUNDS 9
#define ROUND_S 1.0
#define INTERVAL_US 250 /* 4,000 reads a second */
#define MAX_READS 4000000

static twospeed_engine *eng;
static char *put_request;         /* portfolio.put of the synthetic portfolio */
static atomic_int loading;        /* 1: the writer writes; 2: it only parses and dumps the put's text (the control) */
static atomic_int stopping;
static atomic_int seen = -1;      /* the mode of the writer's iteration under way: what it did before has ended */
static atomic_long writes;
static int write_errors;

static char *call_text(const char *request) {
    char *reply = twospeed_call(eng, request);
    if (!reply || !strstr(reply, "\"result\"")) {
        fprintf(stderr, "bench_contention: no result: %.300s\n  for %.200s\n", reply ? reply : "(null)", request);
        twospeed_free(reply);
        return NULL;
    }
    return reply;
}

static void *writer(void *arg) {
    (void)arg;
    char req[512];
    long n = 0;
    while (!atomic_load(&stopping)) {
        int mode = atomic_load(&loading);
        atomic_store(&seen, mode);
        if (mode == 0) {
            usleep(1000);
            continue;
        }
        if (mode == 2) {
            /* The control: as much CPU and allocation as a put's parse, without the engine. */
            json_error_t e;
            json_t *v = json_loads(put_request, 0, &e);
            char *again = json_dumps(v, JSON_COMPACT);
            free(again);
            json_decref(v);
            n++;
            continue;
        }
        const char *text = put_request;
        switch (n % 3) {
        case 0: break;
        case 1:
            snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"synthetic\","
                     "\"kind\":\"system\",\"entity\":{\"id\":\"bench-%ld\",\"name\":\"Bench %ld\",\"layer\":\"platform\"}},\"id\":1}", n % 50, n);
            text = req;
            break;
        default:
            snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"retailer\","
                     "\"kind\":\"manager\",\"entity\":{\"id\":\"bench-manager\",\"name\":\"Manager %ld\"}},\"id\":1}", n);
            text = req;
        }
        char *reply = call_text(text);
        if (!reply) write_errors++;
        twospeed_free(reply);
        n++;
        atomic_fetch_add(&writes, 1);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *lat;

/* The reads of one round, at a steady rate: read i is due at start + i * INTERVAL_US, and its latency runs
   from when it was due, not from when it was sent. A read that waits for a commit then counts once for
   every read that should have gone out meanwhile; timed only from its own send, a reader stalled for
   100 ms would contribute one slow sample among thousands and the p99 would never show the stall (the
   "coordinated omission" of closed-loop benchmarks). Returns the round's p99 in microseconds. */
static double round_p99(const char *request, long *count) {
    long n = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    double start_ms = start.tv_sec * 1e3 + start.tv_nsec / 1e6;
    while (n < MAX_READS) {
        double due = start_ms + (double)n * INTERVAL_US / 1000;
        if (due - start_ms >= ROUND_S * 1000) break;
        double t = now_ms();
        /* Waited for by spinning: a sleep's wake-up, late by up to milliseconds on a busy machine, would
           be counted as the read's and swamp the figure (tried: ratios from 0.2 to 4 between runs). */
        while (t < due) t = now_ms();
        char *reply = twospeed_call(eng, request);
        lat[n++] = (now_ms() - due) * 1000;
        twospeed_free(reply);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    *count = n;
    return lat[(long)(0.99 * (double)(n - 1))];
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SYNTHETIC.json [RETAILER.json [STORE]]\n", argv[0]);
        return 2;
    }
    const char *retailer_path = argc > 2 ? argv[2] : "examples/portfolios/retailer.json";
    const char *store = argc > 3 ? argv[3] : NULL; /* a PostgreSQL URI; NULL: a file of our own */
    json_error_t err;
    json_t *synth = json_load_file(argv[1], 0, &err), *retailer = json_load_file(retailer_path, 0, &err);
    if (!synth || !retailer) {
        fprintf(stderr, "cannot read %s or %s: %s\n", argv[1], retailer_path, err.text);
        return 2;
    }
    json_object_set_new(synth, "id", json_string("synthetic"));
    json_t *put = json_pack("{s:s, s:s, s:{s:o}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params", "portfolio", synth, "id", 1);
    put_request = json_dumps(put, JSON_COMPACT);
    json_decref(put);
    put = json_pack("{s:s, s:s, s:{s:o}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params", "portfolio", retailer, "id", 1);
    char *put_retailer = json_dumps(put, JSON_COMPACT);
    json_decref(put);

    char dir[] = "/tmp/twospeed-contention-XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    if (store) snprintf(path, sizeof path, "%s", store);
    if (twospeed_open(path, &eng) != TWOSPEED_OK) { fprintf(stderr, "cannot open %s: %s\n", path, twospeed_open_error()); return 2; }
    char *r1 = call_text(put_retailer), *r2 = call_text(put_request);
    if (!r1 || !r2) return 1;
    twospeed_free(r1);
    twospeed_free(r2);

    /* The time of one write of each kind alone, for scale. */
    double t0 = now_ms();
    twospeed_free(call_text(put_request));
    double put_ms = now_ms() - t0;

    const char *get = "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\","
                      "\"id\":\"checkout\"},\"id\":1}";
    char *check = call_text(get);
    if (!check) return 1;
    twospeed_free(check);

    lat = malloc(sizeof *lat * MAX_READS);
    pthread_t w;
    pthread_create(&w, NULL, writer, NULL);
    double alone[ROUNDS], loaded[ROUNDS], control[ROUNDS];
    long reads_alone = 0, reads_loaded = 0, n;
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store(&loading, 0);
        while (atomic_load(&seen) != 0) usleep(100); /* the writer's call in progress has ended */
        alone[r] = round_p99(get, &n);
        reads_alone += n;
        atomic_store(&loading, 1);
        long before = atomic_load(&writes);
        while (atomic_load(&writes) == before) usleep(100); /* writing is under way */
        loaded[r] = round_p99(get, &n);
        reads_loaded += n;
        atomic_store(&loading, 2);
        while (atomic_load(&seen) != 2) usleep(100); /* the engine write in progress has ended */
        control[r] = round_p99(get, &n);
    }
    atomic_store(&stopping, 1);
    pthread_join(w, NULL);
    long total_writes = atomic_load(&writes);
    qsort(alone, ROUNDS, sizeof *alone, cmp_double);
    qsort(loaded, ROUNDS, sizeof *loaded, cmp_double);
    qsort(control, ROUNDS, sizeof *control, cmp_double);
    double a = alone[ROUNDS / 2], l = loaded[ROUNDS / 2], c = control[ROUNDS / 2];
    printf("%s: entity.get p99 alone %8.1f us   under a steady write load %8.1f us   ratio %.2f   (%d rounds of %.0f s each, "
           "a read due every %d us; "
           "%ld reads alone, %ld loaded; %ld writes: puts of a %zu KB portfolio, one %.0f ms alone, and entity upserts into it "
           "and into the portfolio read)\n",
           store ? "PostgreSQL" : "SQLite", a, l, l / a, ROUNDS, ROUND_S, INTERVAL_US, reads_alone, reads_loaded, total_writes, strlen(put_request) / 1024, put_ms);
    printf("entity.get p99 beside a thread that only parses and dumps the put's JSON (the machine's share, no engine write) "
           "%8.1f us   ratio to alone %.2f; under the write load / beside that thread %.2f\n", c, c / a, l / c);
    summary(store ? "entity.get p99 under a steady write load / alone, PostgreSQL" : "entity.get p99 under a steady write load / alone (issue 22)",
            l / a, "<= 1.5");
    /* Beside it, reported: what the writes cost a reader beyond what any busy second thread costs it on
       this machine (on 2 shared cores the control's p99 is often a scheduler slice, hundreds of times alone). */
    summary(store ? "entity.get p99 loaded / beside a parse-only thread, PostgreSQL"
                  : "entity.get p99 loaded / beside a parse-only thread, SQLite", l / c, "-");
    twospeed_close(eng);
    free(lat);
    free(put_request);
    free(put_retailer);
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    if (write_errors) {
        fprintf(stderr, "bench_contention: %d writes failed\n", write_errors);
        return 1;
    }
    return 0;
}
