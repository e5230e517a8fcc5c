/*
** portfolio_summary: loads a portfolio file into an in-memory TwoSpeed engine, prints what it holds
** and its assessment, and with a second argument writes the assessment as an HTML report there.
** `make demo` runs it on examples/portfolios/retailer.json.
**
** It shows the two ways of calling the engine from C: JSON text (twospeed_call) and jansson values
** (twospeed_call_json).
*/
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"

/* Calls a method with params (stolen) and returns the result, or prints the error and exits. */
static json_t *call(twospeed_engine *eng, const char *method, json_t *params) {
    json_t *req = json_pack("{s:s, s:s, s:o, s:i}", "jsonrpc", "2.0", "method", method, "params", params, "id", 1);
    json_t *res = twospeed_call_json(eng, req);
    json_decref(req);
    json_t *result = json_object_get(res, "result");
    if (!result) {
        char *text = json_dumps(json_object_get(res, "error"), JSON_INDENT(2));
        fprintf(stderr, "%s failed: %s\n", method, text);
        free(text);
        exit(1);
    }
    json_incref(result);
    json_decref(res);
    return result;
}

static const char *str(json_t *obj, const char *key, const char *fallback) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

/* The manager's name for an id, or the id. */
static const char *manager_name(json_t *portfolio, const char *id) {
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(portfolio, "managers"), i, m) {
        if (strcmp(str(m, "id", ""), id) == 0) return str(m, "name", id);
    }
    return id;
}

/* Writes text to path whole; 0 on success. */
static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s PORTFOLIO.json [REPORT.html]\n", argv[0]);
        return 2;
    }
    json_error_t err;
    json_t *doc = json_load_file(argv[1], 0, &err);
    if (!doc) {
        fprintf(stderr, "%s:%d:%d: %s\n", argv[1], err.line, err.column, err.text);
        return 1;
    }

    twospeed_engine *eng = NULL;
    int rc = twospeed_open(":memory:", &eng);
    if (rc != TWOSPEED_OK) {
        fprintf(stderr, "twospeed_open: %s\n", twospeed_errstr(rc));
        return 1;
    }

    json_t *put = call(eng, "portfolio.put", json_pack("{s:o}", "portfolio", doc));
    const char *id = str(put, "id", "?");
    printf("TwoSpeed %s: loaded portfolio \"%s\" (revision %lld) into an in-memory store\n\n",
           twospeed_version(), id, (long long)json_integer_value(json_object_get(put, "revision")));

    json_t *got = call(eng, "portfolio.get", json_pack("{s:s}", "id", id));
    json_t *p = json_object_get(got, "portfolio");
    json_t *org = json_object_get(p, "organization");
    printf("%s (%s)\n", str(org, "name", "?"), str(org, "industry", "industry not given"));

    json_t *counts = json_object_get(put, "counts");
    const char *key;
    json_t *value;
    printf("  holds:");
    json_object_foreach(counts, key, value) printf(" %lld %s", (long long)json_integer_value(value), key);
    printf("\n\n");

    /* Each journey stage with the products that cover it and their owners. */
    size_t i, j, k;
    json_t *journey, *stage, *product;
    json_array_foreach(json_object_get(p, "journeys"), i, journey) {
        printf("Journey: %s\n", str(journey, "name", "?"));
        json_array_foreach(json_object_get(journey, "stages"), j, stage) {
            char ref[300];
            snprintf(ref, sizeof ref, "%s/%s", str(journey, "id", ""), str(stage, "id", ""));
            printf("  %-22s", str(stage, "name", "?"));
            int covered = 0;
            json_array_foreach(json_object_get(p, "products"), k, product) {
                size_t s;
                json_t *sr;
                json_array_foreach(json_object_get(product, "stages"), s, sr) {
                    if (strcmp(json_string_value(sr), ref) != 0) continue;
                    const char *owner = str(product, "owner", NULL);
                    printf("%s%s [%s, %s]", covered ? "; " : "", str(product, "name", "?"),
                           str(product, "status", "?"), owner ? manager_name(p, owner) : "no owner");
                    covered = 1;
                }
            }
            printf("%s\n", covered ? "" : "(no product)");
        }
    }

    printf("\nExperiments:\n");
    json_t *ex;
    json_array_foreach(json_object_get(p, "experiments"), i, ex) {
        json_t *rollout = json_object_get(ex, "rollout");
        json_int_t st = json_integer_value(json_object_get(ex, "stage"));
        printf("  %s: %s\n    stage %lld at %.0f%% of traffic, decision %s\n", str(ex, "id", "?"),
               str(ex, "hypothesis", "?"), (long long)st + 1,
               100 * json_number_value(json_array_get(rollout, (size_t)st)), str(ex, "decision", "?"));
    }

    /* The assessment: kept in the store by assessment.run, rendered for a terminal by report.render. */
    json_t *run = call(eng, "assessment.run", json_pack("{s:s}", "portfolio", id));
    json_t *text = call(eng, "report.render", json_pack("{s:s, s:s}", "format", "text", "portfolio", id));
    printf("\n%s", str(text, "content", ""));
    json_decref(text);
    json_decref(run);

    /* The same engine answers plain JSON text too. */
    char *info = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":2}");
    printf("\nengine.info: %s\n", info);
    twospeed_free(info);

    /* The same assessment as one self-contained HTML page with charts, for people who would rather look. */
    if (argc == 3) {
        json_t *html = call(eng, "report.render", json_pack("{s:s, s:s}", "format", "html", "portfolio", id));
        if (write_file(argv[2], str(html, "content", "")) != 0) {
            fprintf(stderr, "cannot write %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        char full[PATH_MAX];
        printf("\nHTML report: %s\n", realpath(argv[2], full) ? full : argv[2]);
        json_decref(html);
    }

    json_decref(got);
    json_decref(put);
    twospeed_close(eng);
    return 0;
}
