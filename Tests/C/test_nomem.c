/*
** test_nomem.c -- the C ABI when memory runs out (issue 25): jansson's Nth allocation fails, through an
** allocator this host sets before it opens the engine (json_set_alloc_funcs, as a host with its own
** allocator does). Each twospeed_call_rc of a sequence (put, get, list, assess, a batch, text that is
** not JSON) returns TWOSPEED_ENOMEM with no response when the failure fell inside it, and answers as
** usual otherwise; never a crash. Afterwards the same engine serves: the put again, the entity read back
** whole.
**
** Usage: test_nomem PORTFOLIO.json   (make test-c runs it on examples/portfolios/retailer.json)
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"

static long allocations, fail_at = -1, failed;

static void *failing_malloc(size_t n) {
    if (fail_at >= 0) {
        allocations++;
        if (allocations == fail_at) { failed++; return NULL; }
    }
    return malloc(n);
}

static void plain_free(void *p) { free(p); }

static int failures, checks, nomem_replies;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    s[n] = 0;
    fclose(f);
    return s;
}

#define NREQ 6
static const char *requests[NREQ];

/* Runs the sequence on a new engine with allocation n failing (-1: none, counting only). */
static void run(long n, char *get_clean, size_t get_size) {
    twospeed_engine *e = NULL;
    fail_at = -1;
    if (twospeed_open(NULL, &e) != TWOSPEED_OK) { fprintf(stderr, "open: %s\n", twospeed_open_error()); exit(2); }
    allocations = 0;
    failed = 0;
    fail_at = n < 0 ? 0x7fffffffL : n;
    for (int i = 0; i < NREQ; i++) {
        long before = failed;
        char *response = NULL;
        int rc = twospeed_call_rc(e, requests[i], &response);
        if (failed != before) {
            CHECK(rc == TWOSPEED_ENOMEM, "allocation %ld failed in request %d, which returned %d: %.200s", n, i, rc, response ? response : "");
            CHECK(response == NULL, "TWOSPEED_ENOMEM with a response");
            if (rc == TWOSPEED_ENOMEM) nomem_replies++;
        } else {
            CHECK(rc != TWOSPEED_ENOMEM, "allocation %ld did not fail in request %d, which returned TWOSPEED_ENOMEM", n, i);
            CHECK(response != NULL, "request %d: no response", i);
        }
        twospeed_free(response);
    }
    fail_at = -1;
    /* The same engine serves once the fault is gone. */
    char *response = NULL;
    CHECK(twospeed_call_rc(e, requests[0], &response) == TWOSPEED_OK, "after allocation %ld failed, the put fails: %.200s", n, response ? response : "");
    twospeed_free(response);
    response = NULL;
    CHECK(twospeed_call_rc(e, requests[1], &response) == TWOSPEED_OK, "after allocation %ld failed, the get fails", n);
    if (get_clean && response) {
        if (get_clean[0] == 0) snprintf(get_clean, get_size, "%s", response);
        else CHECK(strcmp(get_clean, response) == 0, "after allocation %ld failed, the entity reads back as %.200s", n, response);
    }
    twospeed_free(response);
    twospeed_close(e);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_nomem PORTFOLIO.json\n"); return 2; }
    /* Before the first engine opens: the library wraps the allocator it finds, to count failures. */
    json_set_alloc_funcs(failing_malloc, plain_free);
    char *portfolio = read_file(argv[1]);
    char *put = malloc(strlen(portfolio) + 128);
    sprintf(put, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":%s},\"id\":1}", portfolio);
    requests[0] = put;
    requests[1] = "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\",\"id\":\"checkout\"},\"id\":2}";
    requests[2] = "{\"jsonrpc\":\"2.0\",\"method\":\"entity.list\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"team\"},\"id\":3}";
    requests[3] = "{\"jsonrpc\":\"2.0\",\"method\":\"assessment.run\",\"params\":{\"portfolio\":\"retailer\"},\"id\":4}";
    requests[4] = "[{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":5},{\"jsonrpc\":\"2.0\",\"method\":\"no.such\",\"id\":6}]";
    requests[5] = "{\"jsonrpc\":\"2.0\",\"method\":";

    static char get_clean[65536];
    run(-1, get_clean, sizeof get_clean);
    long total = allocations;
    CHECK(total > 1000, "the sequence allocates (%ld)", total);
    CHECK(failed == 0, "nothing failed in the counting run");
    /* Each of the first 150 allocations, then 150 spread over the rest. */
    long step = total > 300 ? (total - 150) / 150 : 1;
    int runs = 0;
    for (long n = 1; n <= total; n += (n < 150 ? 1 : step)) { run(n, get_clean, sizeof get_clean); runs++; }
    /* Not vacuous: most runs' failure lands in a call. The counting run also makes the engine's one-time
       values (built at their first use in the process), so later runs allocate less, and the last points
       can fall past their end. */
    CHECK(nomem_replies > runs / 2, "only %d of %d runs met TWOSPEED_ENOMEM", nomem_replies, runs);
    printf("test_nomem: %d runs over %ld allocations, %d TWOSPEED_ENOMEM, %d checks, %d failures\n", runs, total, nomem_replies, checks, failures);
    free(put);
    free(portfolio);
    return failures ? 1 : 0;
}
