/*
** bench_plugins: the cost of one call through a plugin, beside the engine's own call of the same size.
**
** The engine's own call is engine.info. The plugin calls are plugin.call ... plugin.ping with the
** engine.info result as params, so that each plugin echoes a message of the same size back: through
** the in-process C plugin (team-size-check), and through the out-of-process Python (csv-metrics) and
** shell (unowned-systems, which starts jq for each message) plugins.
**
** usage: bench_plugins REPO_ROOT
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "twospeed.h"

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

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s REPO_ROOT\n", argv[0]); return 2; }
    char options[4200];
    snprintf(options, sizeof options, "{\"plugins\":\"%s/examples/plugins\"}", argv[1]);
    twospeed_engine *eng;
    if (twospeed_open_v2(":memory:", options, &eng) != TWOSPEED_OK) { fprintf(stderr, "cannot open\n"); return 1; }

    const char *own = "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}";
    char *info = twospeed_call(eng, own);
    json_t *r = json_loads(info, 0, NULL);
    char *payload = json_dumps(json_object_get(r, "result"), JSON_COMPACT);
    twospeed_free(info);
    json_decref(r);

    const char *plugins[][2] = {{"team-size-check", "in-process (C)"},
                                {"csv-metrics", "out-of-process (Python)"},
                                {"unowned-systems", "out-of-process (shell + jq)"}};
    size_t bytes = 0;
    double base = time_call(eng, own, 1.0, &bytes);
    printf("TwoSpeed %s, bench_plugins: one call through a plugin vs. the engine's own call of the same size\n", twospeed_version());
    printf("%-40s %12.1f us   (response %zu B)\n", "engine's own call (engine.info)", base / 1e3, bytes);
    for (int i = 0; i < 3; i++) {
        char request[8192];
        snprintf(request, sizeof request,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"plugin.call\",\"params\":{\"plugin\":\"%s\",\"method\":\"plugin.ping\",\"params\":%s},\"id\":1}",
                 plugins[i][0], payload);
        double seconds = i == 2 ? 3.0 : 1.5;
        double t = time_call(eng, request, seconds, &bytes);
        char label[100];
        snprintf(label, sizeof label, "through %s", plugins[i][1]);
        printf("%-40s %12.1f us   ratio %7.1f   (response %zu B)\n", label, t / 1e3, t / base, bytes);
    }
    free(payload);
    twospeed_close(eng);
    return 0;
}
