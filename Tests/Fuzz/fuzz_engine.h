/*
** fuzz_engine.h -- what both libFuzzer harnesses share: an in-memory engine holding the example
** retailer, the method table from rpc.discover, and checks of every response against the contract.
**
** Determinism: every input starts from the same engine state, or a crash would depend on the inputs
** before it and not reproduce alone. Reopening costs tens of milliseconds (the put and the assessment),
** so the engine is reset only after an input that may have changed it: one that names a method
** rpc.discover marks x-mutates and got a result.
*/
#ifndef TWOSPEED_FUZZ_ENGINE_H
#define TWOSPEED_FUZZ_ENGINE_H

#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "twospeed.h"

#ifndef TWOSPEED_FUZZ_PORTFOLIO
#define TWOSPEED_FUZZ_PORTFOLIO "examples/portfolios/retailer.json"
#endif

static twospeed_engine *fuzz_engine;
static char *fuzz_put_request;  /* portfolio.put of the example portfolio */
static char *fuzz_run_request;  /* assessment.run of it, kept: run 1, for assessment.get and report.render */

#define FUZZ_MAX_METHODS 256
static char *fuzz_methods[FUZZ_MAX_METHODS];
static int fuzz_mutates[FUZZ_MAX_METHODS];
static size_t fuzz_method_count;

/* A broken promise of the contract: print what was seen and abort, which libFuzzer reports with the input. */
static void fuzz_fail(const char *what, const char *detail) {
    fprintf(stderr, "\nTWOSPEED FUZZ: %s\n  %.2000s\n", what, detail ? detail : "(null)");
    abort();
}

static void fuzz_open(void) {
    if (fuzz_engine) twospeed_close(fuzz_engine);
    fuzz_engine = NULL;
    int rc = twospeed_open(NULL, &fuzz_engine);
    if (rc != TWOSPEED_OK) fuzz_fail("cannot open an in-memory engine", twospeed_open_error());
    char *res = twospeed_call(fuzz_engine, fuzz_put_request);
    if (!res || !strstr(res, "\"result\"")) fuzz_fail("portfolio.put of the example portfolio failed", res);
    twospeed_free(res);
    res = twospeed_call(fuzz_engine, fuzz_run_request);
    if (!res || !strstr(res, "\"result\"")) fuzz_fail("assessment.run of the example portfolio failed", res);
    twospeed_free(res);
}

/* Reads the example portfolio and the method table; opens the engine. For LLVMFuzzerInitialize. */
static void fuzz_setup(void) {
    const char *path = getenv("TWOSPEED_FUZZ_PORTFOLIO");
    if (!path) path = TWOSPEED_FUZZ_PORTFOLIO;
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        fprintf(stderr, "fuzz: cannot read the portfolio %s: %s (set TWOSPEED_FUZZ_PORTFOLIO)\n", path, err.text);
        exit(2);
    }
    json_t *req = json_pack("{s:s, s:s, s:{s:s, s:b}, s:i}", "jsonrpc", "2.0", "method", "assessment.run", "params",
                            "portfolio", json_string_value(json_object_get(doc, "id")), "keep", 1, "id", 1);
    fuzz_run_request = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    req = json_pack("{s:s, s:s, s:{s:o}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params",
                    "portfolio", doc, "id", 1);
    fuzz_put_request = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    fuzz_open();

    char *text = twospeed_call(fuzz_engine, "{\"jsonrpc\":\"2.0\",\"method\":\"rpc.discover\",\"id\":1}");
    json_t *doc2 = text ? json_loads(text, 0, &err) : NULL;
    json_t *methods = json_object_get(json_object_get(doc2, "result"), "methods");
    size_t i;
    json_t *m;
    json_array_foreach(methods, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (!name || fuzz_method_count == FUZZ_MAX_METHODS) continue;
        fuzz_mutates[fuzz_method_count] = json_is_true(json_object_get(m, "x-mutates"));
        fuzz_methods[fuzz_method_count++] = strdup(name);
    }
    if (fuzz_method_count == 0) fuzz_fail("rpc.discover lists no methods", text);
    json_decref(doc2);
    twospeed_free(text);

    /* For make_corpus.py: the methods in the order fuzz_methods' first byte indexes them, and the kept
       assessment result, which report.render's seeds embed. */
    if (getenv("TWOSPEED_FUZZ_DESCRIBE")) {
        json_t *get = json_loads(fuzz_run_request, 0, NULL);
        json_object_set_new(get, "method", json_string("assessment.get"));
        json_object_del(json_object_get(get, "params"), "keep");
        json_object_set_new(json_object_get(get, "params"), "run", json_integer(1));
        char *get_text = json_dumps(get, JSON_COMPACT);
        text = twospeed_call(fuzz_engine, get_text);
        json_t *res = text ? json_loads(text, 0, NULL) : NULL;
        json_t *names = json_array();
        for (size_t k = 0; k < fuzz_method_count; k++) json_array_append_new(names, json_string(fuzz_methods[k]));
        json_t *out = json_pack("{s:o, s:O}", "methods", names, "assessment",
                                json_object_get(res, "result") ? json_object_get(res, "result") : json_null());
        json_dumpf(out, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(out);
        json_decref(res);
        json_decref(get);
        free(get_text);
        twospeed_free(text);
        exit(0);
    }
}

/*
** TWOSPEED_FUZZ_LAST_INPUT=path keeps each input in that file before it runs. libFuzzer saves the input
** of a crash that the sanitizer reports, but not when the process dies harder than that (a fault inside
** the sanitizer's own report, the kernel's OOM killer); run.sh then points at this file.
*/
static int fuzz_last_fd = -1;

static void fuzz_keep_input(const uint8_t *data, size_t size) {
    static int opened;
    if (!opened) {
        opened = 1;
        const char *path = getenv("TWOSPEED_FUZZ_LAST_INPUT");
        if (path) fuzz_last_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (fuzz_last_fd < 0) return;
    if (ftruncate(fuzz_last_fd, 0) != 0 || pwrite(fuzz_last_fd, data, size, 0) != (ssize_t)size) {
        close(fuzz_last_fd);
        fuzz_last_fd = -1;
    }
}

/* Whether the input names a method that may change the store (conservatively: anywhere in its bytes). */
static int fuzz_may_mutate(const uint8_t *data, size_t size) {
    for (size_t i = 0; i < fuzz_method_count; i++)
        if (fuzz_mutates[i] && memmem(data, size, fuzz_methods[i], strlen(fuzz_methods[i]))) return 1;
    return 0;
}

/*
** The contract of twospeed_call for any input: a response (NULL only when out of memory), on one line,
** that is JSON ("" only for notifications). Returns the parsed response (NULL for ""), or aborts.
*/
static json_t *fuzz_check_response(const char *res) {
    if (!res) fuzz_fail("twospeed_call returned NULL", NULL);
    if (strchr(res, '\n')) fuzz_fail("the response is not on one line", res);
    if (!*res) return NULL;
    json_error_t err;
    json_t *v = json_loads(res, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
    if (!v) fuzz_fail("the response is not JSON", res);
    if (!json_is_object(v) && !json_is_array(v)) fuzz_fail("the response is neither an object nor a batch", res);
    return v;
}

#endif
