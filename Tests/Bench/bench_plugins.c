/*
** bench_plugins: the cost of one call through a plugin, beside the engine's own call of the same size.
**
** The engine's own call is engine.info. The plugin calls are plugin.call ... plugin.ping with the
** engine.info result as params, so that each plugin echoes a message of the same size back: through
** the in-process C plugin (team-size-check), the WebAssembly plugin (team-size-check-wasm), and through
** the out-of-process Python (csv-metrics) and shell (unowned-systems, which starts jq for each message)
** plugins.
**
** Then the same check on the retailer through the team-size check in C in-process, compiled to wasm,
** and in Python as a process, with issue 15's floors on the whole call: wasm at most 3x the C plugin,
** Python at least 5x the wasm plugin. The check runs as the engine runs it, through plugin.check on the
** stored retailer: the engine hands each plugin the document's text, kept once per revision, so the
** call is the plugin's work and the engine's framing. Beside it, the plugin's share of the call
** (plugin.list's callMicroseconds per call: from the request written to the response read), and
** plugin.call with the 16 KB document in its params, where the engine's parsing, validating and
** writing the document out again (the same for every kind) is most of the call. Last, loading a wasm
** plugin of 100 KB or more (compile + first call, the median of five loads), against its floor of 50 ms.
**
** usage: bench_plugins REPO_ROOT BIG_GUEST_MANIFEST
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "twospeed.h"
#include "bench_util.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Median over rounds of the mean time of one call, each round about `seconds` long. */
static double time_call(twospeed_engine *eng, const char *request, double seconds, size_t *response_bytes) {
    double rounds[5];
    for (int r = 0; r < 5; r++) {
        int n = 0;
        double start = now_ns(), t = start;
        while (t - start < seconds * 1e9 / 5) {
            char *out = twospeed_call(eng, request);
            if (!out || strstr(out, "\"error\"")) { fprintf(stderr, "failed: %s\n", out ? out : "(null)"); exit(1); }
            *response_bytes = strlen(out);
            twospeed_free(out);
            n++;
            t = now_ns();
        }
        rounds[r] = (t - start) / n;
    }
    for (int i = 1; i < 5; i++) for (int j = i; j > 0 && rounds[j] < rounds[j - 1]; j--) {
        double x = rounds[j]; rounds[j] = rounds[j - 1]; rounds[j - 1] = x;
    }
    return rounds[2];
}

static char *call_text(twospeed_engine *eng, const char *request) {
    char *out = twospeed_call(eng, request);
    if (!out || strstr(out, "\"error\"")) { fprintf(stderr, "failed: %s\n", out ? out : "(null)"); exit(1); }
    return out;
}

static void load(twospeed_engine *eng, const char *manifest) {
    char request[4400];
    snprintf(request, sizeof request, "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.load\",\"params\":{\"manifest\":\"%s\"},\"id\":1}", manifest);
    twospeed_free(call_text(eng, request));
}

/* A plugin's use so far, from plugin.list: microseconds in its calls and the number of calls. */
static void plugin_use(twospeed_engine *eng, const char *name, double *us, double *calls) {
    char *out = call_text(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.list\",\"id\":1}");
    json_t *r = json_loads(out, 0, NULL);
    twospeed_free(out);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(r, "result"), "plugins"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "name")), name) != 0) continue;
        *us = (double)json_integer_value(json_object_get(p, "callMicroseconds"));
        *calls = (double)json_integer_value(json_object_get(p, "calls"));
    }
    json_decref(r);
}

/* The whole call's time, and the plugin's share of it (microseconds per call, from plugin.list). */
static double time_plugin_call(twospeed_engine *eng, const char *plugin, const char *request, double *share, size_t *bytes) {
    double us0 = 0, calls0 = 0, us1 = 0, calls1 = 0;
    plugin_use(eng, plugin, &us0, &calls0);
    double t = time_call(eng, request, 1.5, bytes);
    plugin_use(eng, plugin, &us1, &calls1);
    *share = (us1 - us0) / (calls1 - calls0);
    return t;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s REPO_ROOT BIG_GUEST_MANIFEST\n", argv[0]); return 2; }
    char options[4200];
    snprintf(options, sizeof options, "{\"plugins\":\"%s/examples/plugins\"}", argv[1]);
    twospeed_engine *eng;
    if (twospeed_open_v2(":memory:", options, &eng) != TWOSPEED_OK) { fprintf(stderr, "cannot open\n"); return 1; }

    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/examples/wasm/team-size-check/plugin.json", argv[1]);
    load(eng, manifest);
    snprintf(manifest, sizeof manifest, "%s/Tests/Plugins/team-size-check-py/plugin.json", argv[1]);
    load(eng, manifest);

    const char *own = "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}";
    char *info = twospeed_call(eng, own);
    json_t *r = json_loads(info, 0, NULL);
    char *payload = json_dumps(json_object_get(r, "result"), JSON_COMPACT);
    twospeed_free(info);
    json_decref(r);

    const char *plugins[][2] = {{"team-size-check", "in-process (C)"},
                                {"team-size-check-wasm", "wasm (C, in WasmKit)"},
                                {"csv-metrics", "out-of-process (Python)"},
                                {"unowned-systems", "out-of-process (shell + jq)"}};
    size_t bytes = 0;
    double base = time_call(eng, own, 1.0, &bytes);
    printf("TwoSpeed %s, bench_plugins: one call through a plugin vs. the engine's own call of the same size\n", twospeed_version());
    printf("%-40s %12.1f us   (response %zu B)\n", "engine's own call (engine.info)", base / 1e3, bytes);
    for (int i = 0; i < 4; i++) {
        char request[8192];
        snprintf(request, sizeof request,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.call\",\"params\":{\"plugin\":\"%s\",\"method\":\"plugin.ping\",\"params\":%s},\"id\":1}",
                 plugins[i][0], payload);
        double seconds = i == 3 ? 3.0 : 1.5;
        double t = time_call(eng, request, seconds, &bytes);
        char label[100];
        snprintf(label, sizeof label, "through %s", plugins[i][1]);
        printf("%-40s %12.1f us   ratio %7.1f   (response %zu B)\n", label, t / 1e3, t / base, bytes);
    }
    free(payload);

    /* The same check on the retailer through three kinds: as the engine runs it on the stored document
       (plugin.check), and through plugin.call with the document in the params. */
    char path[4200];
    snprintf(path, sizeof path, "%s/examples/portfolios/retailer.json", argv[1]);
    char *retailer = read_file(path, NULL);
    if (!retailer) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    size_t request_size = strlen(retailer) + 200;
    char *request = malloc(request_size);
    snprintf(request, request_size, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":%s},\"id\":1}", retailer);
    twospeed_free(call_text(eng, request));
    const char *checks[][2] = {{"team-size-check", "in-process (C)"}, {"team-size-check-wasm", "wasm (C, in WasmKit)"},
                               {"team-size-check-py", "process (Python)"}};
    double check[3], share[3], passed[3], passed_share[3];
    printf("\ncheck on the stored retailer (plugin.check; the team-size check in each kind, document %zu B)\n", request_size - 200);
    for (int i = 0; i < 3; i++) {
        char small[300];
        snprintf(small, sizeof small, "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.check\",\"params\":{\"plugin\":\"%s\",\"portfolio\":\"retailer\"},\"id\":1}",
                 checks[i][0]);
        check[i] = time_plugin_call(eng, checks[i][0], small, &share[i], &bytes);
        char label[100];
        snprintf(label, sizeof label, "through %s", checks[i][1]);
        printf("%-40s %9.1f us the whole call   %9.1f us in the plugin   (response %zu B)\n", label, check[i] / 1e3, share[i], bytes);
    }
    printf("%-40s %9.2f   floor <= 3   %s   (in the plugin: %.2f)\n", "wasm / in-process C", check[1] / check[0],
           check[1] / check[0] <= 3 ? "ok" : "MISSED", share[1] / share[0]);
    printf("%-40s %9.2f   floor >= 5   %s   (in the plugin: %.2f)\n", "Python process / wasm", check[2] / check[1],
           check[2] / check[1] >= 5 ? "ok" : "MISSED", share[2] / share[1]);
    summary("wasm check / in-process C check (plugin.check on the retailer)", check[1] / check[0], "<= 3");
    summary("Python process check / wasm check (plugin.check on the retailer)", check[2] / check[1], ">= 5");

    printf("\nthe same check through plugin.call with the document in the params (request %zu B)\n", request_size - 200);
    for (int i = 0; i < 3; i++) {
        snprintf(request, request_size,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.call\",\"params\":{\"plugin\":\"%s\",\"method\":\"check.run\",\"params\":{\"portfolio\":%s}},\"id\":1}",
                 checks[i][0], retailer);
        passed[i] = time_plugin_call(eng, checks[i][0], request, &passed_share[i], &bytes);
        char label[100];
        snprintf(label, sizeof label, "through %s", checks[i][1]);
        printf("%-40s %9.1f us the whole call   %9.1f us in the plugin\n", label, passed[i] / 1e3, passed_share[i]);
    }
    printf("%-40s %9.2f   (in the plugin: %.2f)\n", "wasm / in-process C", passed[1] / passed[0], passed_share[1] / passed_share[0]);
    printf("%-40s %9.2f   (in the plugin: %.2f)\n", "Python process / wasm", passed[2] / passed[1], passed_share[2] / passed_share[1]);
    free(request);
    free(retailer);

    /* Loading a module of 100 KB or more: compile, the first instance, the first call. */
    FILE *f = fopen(argv[2], "rb");
    char wasm_path[4300];
    snprintf(wasm_path, sizeof wasm_path, "%.*s/big_guest.wasm", (int)(strrchr(argv[2], '/') - argv[2]), argv[2]);
    FILE *w = fopen(wasm_path, "rb");
    if (!f || !w) { fprintf(stderr, "no %s or %s\n", argv[2], wasm_path); return 1; }
    fseek(w, 0, SEEK_END);
    long module_bytes = ftell(w);
    fclose(w);
    fclose(f);
    if (module_bytes < 100 * 1024) { fprintf(stderr, "%s is %ld bytes, under 100 KB\n", wasm_path, module_bytes); return 1; }
    double loads[5];
    for (int i = 0; i < 5; i++) {
        double start = now_ns();
        load(eng, argv[2]);
        twospeed_free(call_text(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.call\",\"params\":{\"plugin\":\"big-guest\",\"method\":\"plugin.ping\"},\"id\":1}"));
        loads[i] = now_ns() - start;
        twospeed_free(call_text(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.unload\",\"params\":{\"name\":\"big-guest\"},\"id\":1}"));
    }
    for (int i = 1; i < 5; i++) for (int j = i; j > 0 && loads[j] < loads[j - 1]; j--) {
        double x = loads[j]; loads[j] = loads[j - 1]; loads[j - 1] = x;
    }
    printf("\nload a %ld B wasm plugin (compile + first call), median of 5: %.1f ms   floor < 50 ms   ratio %.2f   %s\n",
           module_bytes, loads[2] / 1e6, loads[2] / 50e6, loads[2] < 50e6 ? "ok" : "MISSED");
    summary("load of a 100 KB wasm plugin (compile + first call) / 50 ms", loads[2] / 50e6, "<= 1");
    twospeed_close(eng);
    return 0;
}
