/*
** bench_assess: the time of a full assessment of a synthetic portfolio beside its floor, jansson
** parsing the same document, at a tenth, one and ten times the size of issue 3 (10,000 products,
** 2,000 systems, 1,000 managers, 200,000 observations at 1).
**
** usage: bench_assess DIR [SCALE...]   (DIR holds synthetic-SCALE.json written by synth_portfolio.py)
**
** "Assessment" is one assessment.run through twospeed_call with keep:false: computing every fact,
** pitfall, recommendation and analysis, encoding the result and printing it as JSON text. Loading
** the portfolio (portfolio.put, validated) is printed beside it for reference.
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DIR SCALE...\n", argv[0]);
        return 2;
    }
    printf("%-6s %9s %12s %12s %12s %7s   %s\n", "scale", "products", "floor ms", "assess ms", "put ms", "ratio",
           "(floor: jansson json_loadb of the same document)");
    double prev_assess = 0, prev_floor = 0, prev_n = 0;
    const char *prev_scale = NULL;
    for (int a = 2; a < argc; a++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/synthetic-%s.json", argv[1], argv[a]);
        size_t len = 0;
        char *text = read_file(path, &len);
        if (!text) { fprintf(stderr, "cannot read %s\n", path); return 1; }
        int runs = len > 50 * 1000 * 1000 ? 1 : 3;

        double floor_t[3], assess_t[3];
        json_t *doc = NULL;
        for (int r = 0; r < runs; r++) {
            double t0 = now_ms();
            json_error_t err;
            json_t *v = json_loadb(text, len, 0, &err);
            floor_t[r] = now_ms() - t0;
            if (!v) { fprintf(stderr, "%s: %s\n", path, err.text); return 1; }
            if (doc) json_decref(doc);
            doc = v;
        }
        size_t products = json_array_size(json_object_get(doc, "products"));

        twospeed_engine *eng;
        if (twospeed_open(":memory:", &eng) != TWOSPEED_OK) return 1;
        json_t *req = json_pack("{s:s, s:s, s:{s:O}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put",
                                "params", "portfolio", doc, "id", 1);
        double t0 = now_ms();
        json_t *res = twospeed_call_json(eng, req);
        double put_t = now_ms() - t0;
        if (!json_object_get(res, "result")) {
            char *e = json_dumps(res, 0);
            fprintf(stderr, "portfolio.put failed: %.2000s\n", e);
            return 1;
        }
        json_decref(res);
        json_decref(req);

        const char *run = "{\"jsonrpc\":\"2.0\",\"method\":\"assessment.run\",\"params\":{\"portfolio\":\"synthetic\",\"keep\":false},\"id\":2}";
        size_t result_bytes = 0;
        for (int r = 0; r < runs; r++) {
            t0 = now_ms();
            char *out = twospeed_call(eng, run);
            assess_t[r] = now_ms() - t0;
            if (!out || !strstr(out, "\"result\"")) { fprintf(stderr, "assessment.run failed: %.2000s\n", out); return 1; }
            result_bytes = strlen(out);
            twospeed_free(out);
        }
        double fl = median(floor_t, runs), as = median(assess_t, runs);
        printf("%-6s %9zu %12.1f %12.1f %12.1f %7.2f   document %.1f MB, result %.1f MB\n", argv[a], products, fl, as, put_t,
               as / fl, len / 1e6, result_bytes / 1e6);
        if (!strcmp(argv[a], "10")) summary("assessment / parse, scale 10", as / fl, "<= 1");
        if (prev_n > 0) {
            double n = (double)products, k = n / prev_n;
            double nlogn = k * log(n) / log(prev_n);
            if (!strcmp(argv[a], "10") && !strcmp(prev_scale, "1"))
                summary("assessment growth 1x->10x / n log n growth", (as / prev_assess) / nlogn, "<= 1");
            printf("       from scale %s: assessment x%.1f, floor x%.1f, for x%.0f the size (n log n: x%.1f)\n", prev_scale,
                   as / prev_assess, fl / prev_floor, k, nlogn);
        }
        prev_n = (double)products;
        prev_assess = as;
        prev_floor = fl;
        prev_scale = argv[a];
        json_decref(doc);
        twospeed_close(eng);
        free(text);
    }
    return 0;
}
