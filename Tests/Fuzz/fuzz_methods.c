/*
** fuzz_methods -- libFuzzer harness: valid JSON-RPC envelopes for every method, with fuzzed params.
**
** Raw bytes rarely get past the JSON parser and the envelope checks; this harness starts where those
** end. Input: the first byte picks a method from the list rpc.discover returns at start-up (modulo its
** length, in its order), the rest are the params: JSON text when it parses (so libFuzzer's mutations of
** the seed params reach each method's validation and its logic), otherwise the bytes as a JSON string.
** Set TWOSPEED_FUZZ_PRINT=1 to print each request, e.g. to turn a crashing input into a request.
*/
#include "fuzz_engine.h"

static int print_requests, allow_internal;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_setup();
    print_requests = getenv("TWOSPEED_FUZZ_PRINT") != NULL;
    allow_internal = getenv("TWOSPEED_FUZZ_ALLOW_INTERNAL") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_keep_input(data, size);
    if (size == 0) return 0;
    size_t m = data[0] % fuzz_method_count;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    json_t *params = NULL;
    if (n > 0) {
        params = json_loadb(rest, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!params) params = json_stringn(rest, n); /* NULL for invalid UTF-8, which fuzz_call covers */
    }
    json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", fuzz_methods[m], "id", 7);
    if (params) json_object_set_new(req, "params", params);
    char *text = json_dumps(req, JSON_COMPACT | JSON_ALLOW_NUL);
    json_decref(req);
    if (!text) return 0;
    if (print_requests) fprintf(stderr, "request: %s\n", text);

    char *res = twospeed_call(fuzz_engine, text);
    json_t *v = fuzz_check_response(res);
    /* One request with an id: one response object with that id, and a result or an error, not both. */
    if (!json_is_object(v)) fuzz_fail("a request got no response object", res);
    json_t *id = json_object_get(v, "id");
    if (!json_is_integer(id) || json_integer_value(id) != 7) fuzz_fail("the response has the wrong id", res);
    json_t *result = json_object_get(v, "result"), *error = json_object_get(v, "error");
    if (!result == !error) fuzz_fail("the response has both or neither of result and error", res);
    if (error && !json_is_integer(json_object_get(error, "code"))) fuzz_fail("an error without an integer code", res);
    /* -32603 is the dispatcher's catch-all for an error no method mapped to a code of its own: a bug to
       look at, though not a crash. TWOSPEED_FUZZ_ALLOW_INTERNAL=1 lets fuzzing go on past a known one. */
    if (error && json_integer_value(json_object_get(error, "code")) == TWOSPEED_RPC_INTERNAL_ERROR && !allow_internal)
        fuzz_fail("internal error: the engine failed where it should answer or refuse", res);
    int changed = result && fuzz_mutates[m];
    json_decref(v);
    twospeed_free(res);
    free(text);
    if (changed) fuzz_open();
    return 0;
}
