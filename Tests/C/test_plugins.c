/*
** test_plugins: the example plugins loaded and used through the C ABI (twospeed_open_v2 with a
** plugins folder): the C check in-process, the Python metrics source and the shell check as processes.
** usage: test_plugins REPO_ROOT
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"

static int passed, failed;
#define CHECK(cond) do { if (cond) passed++; else { failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)

static json_t *call(twospeed_engine *eng, const char *method, json_t *params) {
    json_t *req = json_pack("{s:s, s:s, s:o, s:i}", "jsonrpc", "2.0", "method", method, "params", params ? params : json_object(), "id", 1);
    json_t *res = twospeed_call_json(eng, req);
    json_decref(req);
    return res;
}

static json_t *finding(json_t *res, const char *pitfall) {
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(res, "result"), "pitfalls"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "pitfall")), pitfall) == 0) return f;
    }
    return NULL;
}

static void put(twospeed_engine *eng, const char *root, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/portfolios/%s.json", root, name);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    CHECK(doc != NULL);
    json_t *r = call(eng, "portfolio.put", json_pack("{s:o}", "portfolio", doc));
    CHECK(json_object_get(r, "result") != NULL);
    json_decref(r);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]); return 2; }
    char options[4200];
    snprintf(options, sizeof options, "{\"plugins\":\"%s/examples/plugins\"}", argv[1]);
    twospeed_engine *eng = NULL;
    CHECK(twospeed_open_v2(":memory:", options, &eng) == TWOSPEED_OK);
    if (!eng) return 1;

    /* Bad options are refused with their own code, and leave *out NULL. */
    twospeed_engine *bad = (twospeed_engine *)1;
    CHECK(twospeed_open_v2(NULL, "{\"plugin\":\"x\"}", &bad) == TWOSPEED_EOPTIONS && bad == NULL);
    CHECK(twospeed_open_v2(NULL, "not json", &bad) == TWOSPEED_EOPTIONS);
    CHECK(twospeed_open_v2(NULL, "{\"maxRequestBytes\":\"big\"}", &bad) == TWOSPEED_EOPTIONS);
    CHECK(twospeed_open_v2(NULL, NULL, &bad) == TWOSPEED_OK && bad != NULL);
    twospeed_close(bad);

    json_t *list = call(eng, "plugin.list", NULL);
    json_t *plugins = json_object_get(json_object_get(list, "result"), "plugins");
    CHECK(json_array_size(plugins) == 3);
    size_t i;
    json_t *p;
    json_array_foreach(plugins, i, p) CHECK(strcmp(json_string_value(json_object_get(p, "status")), "ready") == 0);
    json_decref(list);

    put(eng, argv[1], "bank");
    put(eng, argv[1], "retailer");
    json_t *run = call(eng, "assessment.run", json_pack("{s:s}", "portfolio", "state-bank"));
    json_t *oversized = finding(run, "oversized-teams");
    CHECK(oversized != NULL);
    CHECK(oversized && strcmp(json_string_value(json_object_get(oversized, "plugin")), "team-size-check") == 0);
    json_t *unowned = finding(run, "unowned-systems");
    CHECK(unowned && strcmp(json_string_value(json_object_get(unowned, "plugin")), "unowned-systems") == 0);
    json_decref(run);

    json_t *collected = call(eng, "plugin.collect", json_pack("{s:s, s:s}", "plugin", "csv-metrics", "portfolio", "retailer"));
    CHECK(json_integer_value(json_object_get(json_object_get(collected, "result"), "appended")) == 5);
    json_decref(collected);

    json_t *ping = call(eng, "plugin.call", json_pack("{s:s, s:s, s:{s:s}}", "plugin", "team-size-check", "method", "plugin.ping",
                                                      "params", "hello", "world"));
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(ping, "result"), "hello")), "world") == 0);
    json_decref(ping);

    twospeed_close(eng);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
