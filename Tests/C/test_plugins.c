/*
** test_plugins: the example plugins loaded and used through the C ABI (twospeed_open_v2 with a
** plugins folder): the C check in-process, the Python metrics source and the shell check as processes;
** the wasm example (make plugins) and, in the release library, a module that loops for ever stopped by
** the default fuel within a bound on its time.
** usage: test_plugins REPO_ROOT
*/
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

    /* The wasm example checks the bank like the C plugin. */
    char manifest[4300];
    snprintf(manifest, sizeof manifest, "%s/examples/wasm/team-size-check/plugin.json", argv[1]);
    json_t *loaded = call(eng, "plugin.load", json_pack("{s:s}", "manifest", manifest));
    CHECK(json_object_get(loaded, "result") != NULL);
    json_decref(loaded);
    run = call(eng, "assessment.run", json_pack("{s:s, s:b}", "portfolio", "state-bank", "keep", 0));
    size_t n = 0;
    json_array_foreach(json_object_get(json_object_get(run, "result"), "pitfalls"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "pitfall")), "oversized-teams") == 0) n++;
    }
    CHECK(n == 2);
    json_decref(run);

    /* A module whose twospeed_call loops for ever (hand-assembled: twospeed_alloc returns 1024;
    ** twospeed_call is loop br 0 end), under the default fuel: stopped, and soon. */
    static const unsigned char spin[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x0c, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e,
        0x03, 0x03, 0x02, 0x00, 0x01,
        0x05, 0x03, 0x01, 0x00, 0x01,
        0x07, 0x2b, 0x03, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
        0x0e, 't', 'w', 'o', 's', 'p', 'e', 'e', 'd', '_', 'a', 'l', 'l', 'o', 'c', 0x00, 0x00,
        0x0d, 't', 'w', 'o', 's', 'p', 'e', 'e', 'd', '_', 'c', 'a', 'l', 'l', 0x00, 0x01,
        0x0a, 0x11, 0x02, 0x05, 0x00, 0x41, 0x80, 0x08, 0x0b, 0x09, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b};
    char dir[] = "/tmp/twospeed-spin-XXXXXX", path[200];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/spin.wasm", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(spin, 1, sizeof spin, f) == sizeof spin);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/plugin.json", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"name\": \"spin\", \"version\": \"1\", \"kind\": \"wasm\", \"path\": \"spin.wasm\", \"extensionPoints\": [\"check\"]}", f);
        fclose(f);
    }
    loaded = call(eng, "plugin.load", json_pack("{s:s}", "manifest", path));
    CHECK(json_object_get(loaded, "result") != NULL);
    json_decref(loaded);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *spun = call(eng, "plugin.call", json_pack("{s:s, s:s}", "plugin", "spin", "method", "check.run"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    json_t *data = json_object_get(json_object_get(spun, "error"), "data");
    CHECK(json_integer_value(json_object_get(json_object_get(spun, "error"), "code")) == -32006);
    CHECK(json_string_value(json_object_get(data, "failure")) && strcmp(json_string_value(json_object_get(data, "failure")), "fuel") == 0);
    printf("an endless loop under the default fuel (100000000) stopped after %.0f ms\n", seconds * 1e3);
    CHECK(seconds < 3);
    json_decref(spun);
    json_t *info = call(eng, "engine.info", NULL);
    CHECK(json_object_get(info, "result") != NULL);
    json_decref(info);
    unlink(path);
    snprintf(path, sizeof path, "%s/spin.wasm", dir);
    unlink(path);
    rmdir(dir);

    twospeed_close(eng);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
