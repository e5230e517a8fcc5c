/*
** bench_advice: recommendation.history and recommendation.outcomes of 100 kept runs of the 1x synthetic
** portfolio (issue 23), each beside its floor: one assessment.get of the same portfolio's latest kept run,
** measured in the same process on the same store.
**
** usage: bench_advice DIR [RUNS]   (DIR holds synthetic-1.json written by synth_portfolio.py; RUNS default 100)
**
** Between runs one live product loses its owner and team and gets them back, so that a piece of advice
** is resolved and given again run after run: the history has keys to follow and the outcomes resolved
** advice to estimate (its dimension over the kept runs, the product's metrics).
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"
#include "bench_util.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

static json_t *call(twospeed_engine *eng, json_t *req) {
    json_t *res = twospeed_call_json(eng, req);
    json_decref(req);
    if (!res || !json_object_get(res, "result")) {
        char *e = res ? json_dumps(res, 0) : NULL;
        fprintf(stderr, "call failed: %.2000s\n", e ? e : "(null)");
        exit(1);
    }
    return res;
}

/* The median of 5 timed calls of `text`. */
static double timed(twospeed_engine *eng, const char *text, size_t *bytes) {
    double t[5];
    for (int r = 0; r < 5; r++) {
        double t0 = now_ms();
        char *out = twospeed_call(eng, text);
        t[r] = now_ms() - t0;
        if (!out || !strstr(out, "\"result\"")) { fprintf(stderr, "failed: %.2000s\n", out); exit(1); }
        *bytes = strlen(out);
        twospeed_free(out);
    }
    return median(t, 5);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DIR [RUNS]\n", argv[0]); return 2; }
    int runs = argc > 2 ? atoi(argv[2]) : 100;
    char path[4096];
    snprintf(path, sizeof path, "%s/synthetic-1.json", argv[1]);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (!doc) { fprintf(stderr, "%s: %s\n", path, err.text); return 1; }
    /* The first live product with an owner: the one that comes and goes. */
    json_t *product = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "products"), i, p) {
        if (!strcmp(json_string_value(json_object_get(p, "status")), "live") && json_object_get(p, "owner")) { product = p; break; }
    }
    if (!product) { fprintf(stderr, "no live product with an owner\n"); return 1; }
    json_t *owned = json_deep_copy(product), *orphan = json_deep_copy(product);
    json_object_del(orphan, "owner");
    json_object_del(orphan, "team");

    twospeed_engine *eng;
    if (twospeed_open(":memory:", &eng) != TWOSPEED_OK) return 1;
    json_decref(call(eng, json_pack("{s:s, s:s, s:{s:O}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put",
                                    "params", "portfolio", doc, "id", 1)));
    double t0 = now_ms();
    for (int r = 0; r < runs; r++) {
        /* Orphaned on even runs, owned again on odd ones: the last run resolves the advice. */
        json_t *entity = (r % 2) ? owned : orphan;
        json_decref(call(eng, json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:i}", "jsonrpc", "2.0", "method", "entity.upsert",
                                        "params", "portfolio", "synthetic", "kind", "product", "entity", entity, "id", 2)));
        json_decref(call(eng, json_pack("{s:s, s:s, s:{s:s}, s:i}", "jsonrpc", "2.0", "method", "assessment.run",
                                        "params", "portfolio", "synthetic", "id", 3)));
    }
    printf("%d kept runs of the 1x synthetic portfolio in %.1f s\n", runs, (now_ms() - t0) / 1e3);

    size_t get_bytes = 0, history_bytes = 0, outcome_bytes = 0;
    double floor_t = timed(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"assessment.get\",\"params\":{\"portfolio\":\"synthetic\"},\"id\":4}", &get_bytes);
    double history_t = timed(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"recommendation.history\",\"params\":{\"portfolio\":\"synthetic\"},\"id\":5}", &history_bytes);
    double outcome_t = timed(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"recommendation.outcomes\",\"params\":{\"portfolio\":\"synthetic\"},\"id\":6}", &outcome_bytes);
    /* What was measured: how many pieces of advice, how many resolved, how many outcomes. */
    json_t *h = call(eng, json_pack("{s:s, s:s, s:{s:s}, s:i}", "jsonrpc", "2.0", "method", "recommendation.history",
                                    "params", "portfolio", "synthetic", "id", 7));
    json_t *o = call(eng, json_pack("{s:s, s:s, s:{s:s}, s:i}", "jsonrpc", "2.0", "method", "recommendation.outcomes",
                                    "params", "portfolio", "synthetic", "id", 8));
    json_t *hr = json_object_get(h, "result"), *orr = json_object_get(o, "result");
    printf("%zu pieces of advice over %zu tracked runs, %lld resolved now; %zu outcomes\n",
           json_array_size(json_object_get(hr, "advice")), json_array_size(json_object_get(hr, "runs")),
           (long long)json_integer_value(json_object_get(json_object_get(hr, "counts"), "resolved")),
           json_array_size(json_object_get(orr, "outcomes")));
    json_decref(h);
    json_decref(o);
    printf("%-28s %10s %10s %8s\n", "", "ms", "MB", "ratio");
    printf("%-28s %10.1f %10.2f %8s\n", "assessment.get (floor)", floor_t, get_bytes / 1e6, "1");
    printf("%-28s %10.1f %10.2f %8.2f\n", "recommendation.history", history_t, history_bytes / 1e6, history_t / floor_t);
    printf("%-28s %10.1f %10.2f %8.2f\n", "recommendation.outcomes", outcome_t, outcome_bytes / 1e6, outcome_t / floor_t);
    summary("advice history, 100 runs at 1x / assessment.get", history_t / floor_t, "<= 1");
    summary("advice outcomes, 100 runs at 1x / assessment.get", outcome_t / floor_t, "<= 1");
    json_decref(owned);
    json_decref(orphan);
    json_decref(doc);
    twospeed_close(eng);
    free(text);
    return 0;
}
