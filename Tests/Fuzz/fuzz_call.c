/*
** fuzz_call -- libFuzzer harness: any bytes, as the request text of twospeed_call.
**
** The contract says bad input of any kind gives a JSON-RPC error response, never a crash; this harness
** holds the engine to it under AddressSanitizer, against an engine holding the example retailer.
** Build and run: make fuzz (README.md, "Fuzzing").
*/
#include "fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_keep_input(data, size);
    /* twospeed_call takes NUL-terminated text: a copy, so that ASan sees reads past the input's end. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *res = twospeed_call(fuzz_engine, text);
    json_t *v = fuzz_check_response(res);
    /* A method name may also arrive spelled with \u escapes, which the byte search cannot see. */
    int changed = v && strstr(res, "\"result\"") && (fuzz_may_mutate(data, size) || memmem(data, size, "\\u", 2));
    json_decref(v);
    twospeed_free(res);
    free(text);
    if (changed) fuzz_open();
    return 0;
}
