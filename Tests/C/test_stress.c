/*
** Concurrency stress of the C ABI: eight threads on one engine over a file store, each running every
** read method mixed with writes, each answer checked to belong to the portfolio and revision it asked
** about. include/twospeed.h promises that reads run in parallel and writes one at a time; this is the
** test that could break that promise (a crash, a torn read, an answer about another portfolio).
**
** Thread t owns portfolio "stress-t": only it writes there, so it knows that portfolio's revision and
** kept runs exactly. It reads every portfolio: for the others, revisions may only grow.
**
** Every thread also contends for the portfolio "shared": a write there adds the system x<r+1> with
** ifRevision r (r as the thread last read it), so that exactly one write makes each revision and every
** reply shows one revision whole: its systems count and its last system agree with its revision
** (readers read a snapshot of the last commit, whose entity cache is that revision's). And a thread
** creates and deletes its portfolio "churn-t", so that the engine's table of portfolios changes while
** others look portfolios up and list them.
**
** With STRESS_WASM naming a wasm plugin's manifest (the team-size check of examples/wasm), the reads
** also call it, with params and through plugin.check on the stored portfolios (whose text is kept per
** revision): calls from several threads run in instances of their own, side by side.
**
** Usage: test_stress EXAMPLE_PORTFOLIO.json [STORE_DIR]   (STRESS_OPS: operations per thread, default 300;
** the store goes in a new folder under /dev/shm, or /tmp, unless STORE_DIR is given)
*/
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twospeed.h"

#define THREADS 8

static twospeed_engine *engine;
static json_t *example;          /* the example portfolio, read-only after main starts the threads */
static int discover_methods;     /* how many methods rpc.discover lists */
static int ops_per_thread = 300;
static int wasm_loaded;           /* the reads include calls to the wasm plugin */
static int failures;
static int shared_base;           /* systems in "shared" at its first revision */
static int shared_wins;           /* writes that made a revision of "shared" */
static int shared_won[1 << 16];   /* which revisions of "shared" a write made, and how often */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

struct worker {
    int index;
    unsigned seed;
    char own[32];
    int revision;              /* of the own portfolio, exactly */
    int runs;                  /* kept runs of the own portfolio, exactly */
    int seen[THREADS];         /* the highest revision seen of each portfolio */
    int observations;          /* appended to the own portfolio's first metric */
    int calls;
};

static void fail(const char *request, const char *response, const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&failure_lock);
    failures++;
    if (failures <= 10) {
        fprintf(stderr, "FAIL: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n  request:  %.300s\n  response: %.600s\n", request, response ? response : "(null)");
    }
    pthread_mutex_unlock(&failure_lock);
}

/* One call through twospeed_call: the result object, or NULL (the failure already reported). */
static json_t *call(struct worker *w, const char *method, json_t *params) {
    json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id", w ? w->calls + 1 : 0);
    if (params) json_object_set_new(req, "params", params);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (w) w->calls++;
    char *reply = twospeed_call(engine, text);
    json_t *result = NULL;
    if (!reply) {
        fail(text, NULL, "%s: twospeed_call returned NULL", method);
    } else {
        json_error_t err;
        json_t *r = json_loads(reply, 0, &err);
        if (!r) fail(text, reply, "%s: reply is not JSON: %s", method, err.text);
        else if (!json_object_get(r, "result")) fail(text, reply, "%s: an error where a result was due", method);
        else result = json_incref(json_object_get(r, "result"));
        json_decref(r);
        twospeed_free(reply);
    }
    free(text);
    return result;
}

#define CHECK(cond, ...) do { if (!(cond)) { char *_t = json_dumps(result, JSON_COMPACT); \
    fail(method, _t, __VA_ARGS__); free(_t); } } while (0)

static const char *str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}
static int num(json_t *o, const char *key) { return (int)json_integer_value(json_object_get(o, key)); }

static json_t *portfolio_doc(int index, int generation) {
    json_t *doc = json_deep_copy(example);
    char id[32], name[64];
    snprintf(id, sizeof id, "stress-%d", index);
    snprintf(name, sizeof name, "Org %d gen %d", index, generation);
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(json_object_get(doc, "organization"), "name", json_string(name));
    return doc;
}

/* The organization's name must be this portfolio's ("Org N gen ..."). */
static int names_portfolio(const char *org, int index) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "Org %d gen ", index);
    return strncmp(org, prefix, strlen(prefix)) == 0;
}

/* A revision read of portfolio q: exact for the own one, never going back for the others. */
static void saw_revision(struct worker *w, int q, int revision, const char *method, json_t *result) {
    if (q == w->index) CHECK(revision == w->revision, "%s of own portfolio: revision %d, expected %d", method, revision, w->revision);
    else CHECK(revision >= w->seen[q], "%s of stress-%d: revision went back from %d to %d", method, q, w->seen[q], revision);
    if (revision > w->seen[q]) w->seen[q] = revision;
}

/* A reply showing "shared" at `revision` with `systems` systems, the last `last`: all of one revision. */
static void check_shared(int revision, json_t *systems, const char *method, json_t *result) {
    int n = (int)json_array_size(systems);
    CHECK(n == shared_base + revision - 1, "%s: shared has %d systems at revision %d, expected %d", method, n, revision,
          shared_base + revision - 1);
    if (revision > 1 && n > 0) {
        char id[32];
        snprintf(id, sizeof id, "x%d", revision);
        CHECK(strcmp(str(json_array_get(systems, (size_t)n - 1), "id"), id) == 0, "%s: shared's last system at revision %d is %s",
              method, revision, str(json_array_get(systems, (size_t)n - 1), "id"));
    }
}

static void write_op(struct worker *w, int op) {
    json_t *result = NULL;
    const char *method = "";
    switch (op) {
    case 4: {
        /* The shared portfolio, at the revision last read: a mismatch is an answer, not a failure. */
        method = "entity.upsert (shared)";
        json_t *got = call(w, "portfolio.get", json_pack("{s:s}", "id", "shared"));
        if (!got) return;
        int rev = num(got, "revision");
        json_decref(got);
        char id[32];
        snprintf(id, sizeof id, "x%d", rev + 1);
        json_t *req = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s}, s:i}, s:i}", "jsonrpc", "2.0", "method", "entity.upsert",
                                "params", "portfolio", "shared", "kind", "system", "entity", "id", id, "name", id, "layer", "platform",
                                "ifRevision", rev, "id", ++w->calls);
        char *text = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        char *reply = twospeed_call(engine, text);
        json_error_t err;
        json_t *r = reply ? json_loads(reply, 0, &err) : NULL;
        result = json_object_get(r, "result");
        int code = (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
        if (result) {
            int made = num(result, "revision");
            CHECK(made == rev + 1, "shared: upsert at %d made %d", rev, made);
            pthread_mutex_lock(&failure_lock);
            if (made > 0 && made < (1 << 16)) shared_won[made]++;
            shared_wins++;
            pthread_mutex_unlock(&failure_lock);
        } else if (code != -32005) {
            fail(text, reply, "shared: neither a result nor revision-mismatch");
        }
        result = NULL;
        json_decref(r);
        twospeed_free(reply);
        free(text);
        return;
    }
    case 5: {
        /* The own churn portfolio: created, then deleted, while others list and look up portfolios. */
        char churn[32];
        snprintf(churn, sizeof churn, "churn-%d", w->index);
        json_t *doc = portfolio_doc(w->index, w->calls);
        json_object_set_new(doc, "id", json_string(churn));
        method = "portfolio.put (churn)";
        if (!(result = call(w, "portfolio.put", json_pack("{s:o, s:i}", "portfolio", doc, "ifRevision", 0)))) return;
        CHECK(num(result, "revision") == 1, "churn created at revision %d", num(result, "revision"));
        json_decref(result);
        method = "portfolio.delete (churn)";
        if (!(result = call(w, "portfolio.delete", json_pack("{s:s, s:i}", "id", churn, "ifRevision", 1)))) return;
        break;
    }
    case 0: {
        method = "portfolio.put";
        result = call(w, method, json_pack("{s:o, s:i}", "portfolio", portfolio_doc(w->index, w->calls), "ifRevision", w->revision));
        if (!result) return;
        CHECK(strcmp(str(result, "id"), w->own) == 0, "put answered for %s", str(result, "id"));
        CHECK(num(result, "revision") == w->revision + 1, "put: revision %d after %d", num(result, "revision"), w->revision);
        w->revision = num(result, "revision");
        w->observations = 0;
        break;
    }
    case 1: {
        method = "entity.upsert";
        json_t *product = json_deep_copy(json_array_get(json_object_get(example, "products"), 0));
        char name[64];
        snprintf(name, sizeof name, "Checkout %s call %d", w->own, w->calls);
        json_object_set_new(product, "name", json_string(name));
        result = call(w, method, json_pack("{s:s, s:s, s:o, s:i}", "portfolio", w->own, "kind", "product", "entity", product,
                                           "ifRevision", w->revision));
        if (!result) return;
        CHECK(num(result, "revision") == w->revision + 1, "upsert: revision %d after %d", num(result, "revision"), w->revision);
        w->revision = num(result, "revision");
        break;
    }
    case 2: {
        method = "metric.observe";
        const char *metric = str(json_array_get(json_object_get(example, "metrics"), 0), "id");
        result = call(w, method, json_pack("{s:s, s:s, s:[{s:s, s:f}]}", "portfolio", w->own, "metric", metric,
                                           "observations", "at", "2026-10-31", "value", 30.0 + w->calls % 7));
        if (!result) return;
        CHECK(num(result, "revision") == w->revision + 1, "observe: revision %d after %d", num(result, "revision"), w->revision);
        w->revision = num(result, "revision");
        w->observations++;
        break;
    }
    default: {
        method = "assessment.run";
        result = call(w, method, json_pack("{s:s}", "portfolio", w->own));
        if (!result) return;
        CHECK(strcmp(str(result, "portfolio"), w->own) == 0, "run of %s answered for %s", w->own, str(result, "portfolio"));
        CHECK(names_portfolio(str(result, "organization"), w->index), "run of %s names %s", w->own, str(result, "organization"));
        CHECK(num(result, "revision") == w->revision, "run assessed revision %d, the portfolio is at %d", num(result, "revision"), w->revision);
        CHECK(num(result, "run") == w->runs + 1, "run numbered %d after %d", num(result, "run"), w->runs);
        w->runs = num(result, "run");
        break;
    }
    }
    json_decref(result);
}

static const char *analyses[] = {"analysis.coverage", "analysis.prioritize", "analysis.speed", "analysis.okrs",
                                 "analysis.accountability", "analysis.pitfalls"};

static void read_op(struct worker *w, int op, int q) {
    char pid[32];
    snprintf(pid, sizeof pid, "stress-%d", q);
    json_t *result = NULL;
    const char *method = "";
    switch (op) {
    case 0:
        method = "engine.info";
        if (!(result = call(w, method, NULL))) return;
        /* The own portfolios and "shared", and any churn portfolios of the moment. */
        CHECK(num(result, "portfolios") >= THREADS + 1 && num(result, "portfolios") <= 2 * THREADS + 1, "engine.info counts %d portfolios",
              num(result, "portfolios"));
        break;
    case 1: {
        method = "portfolio.list";
        if (!(result = call(w, method, NULL))) return;
        json_t *list = json_object_get(result, "portfolios");
        int own = 0;
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *s = json_array_get(list, i);
            if (strncmp(str(s, "id"), "churn-", 6) == 0) continue;
            if (strcmp(str(s, "id"), "shared") == 0) {
                int rev = num(s, "revision"), n = num(json_object_get(s, "counts"), "systems");
                CHECK(n == shared_base + rev - 1, "portfolio.list: shared has %d systems at revision %d", n, rev);
                continue;
            }
            own++;
            int idx = -1;
            sscanf(str(s, "id"), "stress-%d", &idx);
            CHECK(idx >= 0 && idx < THREADS && names_portfolio(str(s, "name"), idx), "portfolio.list: %s named %s", str(s, "id"), str(s, "name"));
            if (idx >= 0 && idx < THREADS) saw_revision(w, idx, num(s, "revision"), method, result);
        }
        CHECK(own == THREADS, "portfolio.list has %d own portfolios", own);
        break;
    }
    case 2: {
        method = "portfolio.get";
        if (!(result = call(w, method, json_pack("{s:s}", "id", pid)))) return;
        json_t *doc = json_object_get(result, "portfolio");
        CHECK(strcmp(str(doc, "id"), pid) == 0, "portfolio.get %s answered %s", pid, str(doc, "id"));
        CHECK(names_portfolio(str(json_object_get(doc, "organization"), "name"), q), "portfolio.get %s: another organization", pid);
        saw_revision(w, q, num(result, "revision"), method, result);
        if (q == w->index) {
            json_t *obs = json_object_get(json_array_get(json_object_get(doc, "metrics"), 0), "observations");
            size_t base = json_array_size(json_object_get(json_array_get(json_object_get(example, "metrics"), 0), "observations"));
            CHECK(json_array_size(obs) == base + (size_t)w->observations, "own metric has %zu observations, expected %zu",
                  json_array_size(obs), base + (size_t)w->observations);
        }
        break;
    }
    case 3: {
        method = "entity.get";
        const char *product = str(json_array_get(json_object_get(example, "products"), 0), "id");
        if (!(result = call(w, method, json_pack("{s:s, s:s, s:s}", "portfolio", pid, "kind", "product", "id", product)))) return;
        json_t *e = json_object_get(result, "entity");
        CHECK(strcmp(str(e, "id"), product) == 0, "entity.get %s answered %s", product, str(e, "id"));
        const char *name = str(e, "name");
        CHECK(strstr(name, "Checkout stress-") == NULL || (strstr(name, pid) && name[strlen("Checkout ") + strlen(pid)] == ' '),
              "entity.get in %s: the product is named %s", pid, name);
        break;
    }
    case 4: {
        method = "entity.list";
        if (!(result = call(w, method, json_pack("{s:s, s:s}", "portfolio", pid, "kind", "metric")))) return;
        CHECK(json_array_size(json_object_get(result, "entities")) == json_array_size(json_object_get(example, "metrics")),
              "entity.list %s: %zu metrics", pid, json_array_size(json_object_get(result, "entities")));
        break;
    }
    case 5:
        method = "assessment.get";
        if (!(result = call(w, method, json_pack("{s:s, s:i}", "portfolio", pid, "run", 1)))) return;
        CHECK(strcmp(str(result, "portfolio"), pid) == 0, "assessment.get of %s answered %s", pid, str(result, "portfolio"));
        CHECK(names_portfolio(str(result, "organization"), q), "assessment.get of %s names %s", pid, str(result, "organization"));
        CHECK(num(result, "run") == 1, "assessment.get run 1 answered run %d", num(result, "run"));
        break;
    case 6: {
        method = "assessment.history";
        if (!(result = call(w, method, json_pack("{s:s}", "portfolio", pid)))) return;
        json_t *runs = json_object_get(result, "runs");
        CHECK(strcmp(str(result, "portfolio"), pid) == 0, "history of %s answered %s", pid, str(result, "portfolio"));
        if (q == w->index) CHECK((int)json_array_size(runs) == w->runs, "own history has %zu runs, expected %d", json_array_size(runs), w->runs);
        for (size_t i = 0; i < json_array_size(runs); i++)
            CHECK(num(json_array_get(runs, i), "run") == (int)i + 1, "history of %s: run %d at %zu", pid, num(json_array_get(runs, i), "run"), i);
        break;
    }
    case 7:
        method = analyses[(unsigned)rand_r(&w->seed) % (sizeof analyses / sizeof *analyses)];
        if (!(result = call(w, method, json_pack("{s:s}", "portfolio", pid)))) return;
        CHECK(json_object_size(result) > 0, "%s of %s: empty result", method, pid);
        break;
    case 8: {
        method = "report.render";
        if (!(result = call(w, method, json_pack("{s:s, s:s}", "format", "markdown", "portfolio", pid)))) return;
        char heading[32];
        snprintf(heading, sizeof heading, "# Org %d gen ", q);
        CHECK(strncmp(str(result, "content"), heading, strlen(heading)) == 0, "report of %s starts %.40s", pid, str(result, "content"));
        break;
    }
    case 9:
        method = "rpc.discover";
        if (!(result = call(w, method, NULL))) return;
        CHECK((int)json_array_size(json_object_get(result, "methods")) == discover_methods, "rpc.discover lists %zu methods",
              json_array_size(json_object_get(result, "methods")));
        break;
    case 10: {
        method = "experiment.evaluate";
        const char *experiment = str(json_array_get(json_object_get(example, "experiments"), 0), "id");
        if (!(result = call(w, method, json_pack("{s:s, s:s}", "portfolio", pid, "experiment", experiment)))) return;
        CHECK(json_object_get(result, "lift") || json_object_size(result) > 0, "experiment.evaluate of %s: empty", pid);
        break;
    }
    case 12: {
        /* The wasm check on a portfolio of one team of 10 + q people: flagged when q > 0. */
        method = "plugin.call";
        if (!(result = call(w, method, json_pack("{s:s, s:s, s:{s:{s:[{s:s, s:s, s:i}], s:[]}}}", "plugin", "team-size-check-wasm",
                                                 "method", "check.run", "params", "portfolio", "teams", "id", pid, "name", pid,
                                                 "size", 10 + q, "products")))) return;
        json_t *findings = json_object_get(result, "findings");
        CHECK(json_array_size(findings) == (q > 0 ? 1u : 0u), "the wasm check of a team of %d found %zu", 10 + q, json_array_size(findings));
        if (q > 0) {
            json_t *subject = json_array_get(json_object_get(json_array_get(findings, 0), "subjects"), 0);
            CHECK(strcmp(str(subject, "id"), pid) == 0, "the wasm check of %s flagged %s", pid, str(subject, "id"));
        }
        break;
    }
    case 11: {
        /* The shared portfolio: one revision whole, through portfolio.get and entity.get. */
        method = "portfolio.get (shared)";
        if (!(result = call(w, "portfolio.get", json_pack("{s:s}", "id", "shared")))) return;
        int rev = num(result, "revision");
        check_shared(rev, json_object_get(json_object_get(result, "portfolio"), "systems"), method, result);
        json_decref(result);
        if (rev > 1) {
            char id[32];
            snprintf(id, sizeof id, "x%d", rev);
            method = "entity.get (shared)";
            if (!(result = call(w, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "shared", "kind", "system", "id", id)))) return;
            CHECK(strcmp(str(json_object_get(result, "entity"), "name"), id) == 0, "shared: %s is named %s", id,
                  str(json_object_get(result, "entity"), "name"));
        } else {
            return;
        }
        break;
    }
    case 13:
        /* The wasm check on the stored portfolio: the document's text is kept per revision and shared. */
        method = "plugin.check";
        if (!(result = call(w, method, json_pack("{s:s, s:s}", "plugin", "team-size-check-wasm", "portfolio", pid)))) return;
        CHECK(strcmp(str(result, "portfolio"), pid) == 0, "plugin.check of %s answered %s", pid, str(result, "portfolio"));
        CHECK(json_is_array(json_object_get(result, "findings")), "plugin.check of %s: no findings", pid);
        saw_revision(w, q, num(result, "revision"), method, result);
        break;
    default:
        method = "assessment.model.list";
        if (!(result = call(w, method, NULL))) return;
        CHECK(json_array_size(json_object_get(result, "models")) >= 1, "no models listed");
        break;
    }
    json_decref(result);
}

static void *work(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < ops_per_thread; i++) {
        unsigned r = (unsigned)rand_r(&w->seed);
        /* One operation in five writes. */
        if (r % 5 == 0) write_op(w, (int)((r / 5) % 6));
        else {
            int op = (int)((r / 5) % (wasm_loaded ? 15 : 13));
            if (!wasm_loaded && op == 12) op = 14; /* the model list, in place of the wasm calls */
            read_op(w, op, (int)((r / 60) % THREADS));
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s EXAMPLE_PORTFOLIO.json [STORE_DIR]\n", argv[0]);
        return 2;
    }
    if (getenv("STRESS_OPS")) ops_per_thread = atoi(getenv("STRESS_OPS"));
    json_object_seed(0); /* once, before any thread uses jansson */
    json_error_t err;
    example = json_load_file(argv[1], 0, &err);
    if (!example) {
        fprintf(stderr, "%s: %s\n", argv[1], err.text);
        return 2;
    }
    /* The stress is of threads, not of the disk: on tmpfs (/dev/shm) the fsync of every write costs
       nothing, and the same calls run in a fraction of the time. */
    char dir[] = "/dev/shm/twospeed-stress-XXXXXX", fallback[] = "/tmp/twospeed-stress-XXXXXX";
    const char *base = argc > 2 ? argv[2] : access("/dev/shm", W_OK) == 0 ? mkdtemp(dir) : mkdtemp(fallback);
    if (!base) {
        perror("mkdtemp");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/stress.db", base);
    if (twospeed_open(path, &engine) != TWOSPEED_OK) {
        fprintf(stderr, "cannot open %s\n", path);
        return 2;
    }
    struct worker workers[THREADS];
    memset(workers, 0, sizeof workers);
    json_t *result = call(NULL, "rpc.discover", NULL);
    if (!result) return 1;
    discover_methods = (int)json_array_size(json_object_get(result, "methods"));
    json_decref(result);
    if (getenv("STRESS_WASM")) {
        if (!(result = call(NULL, "plugin.load", json_pack("{s:s}", "manifest", getenv("STRESS_WASM"))))) return 1;
        json_decref(result);
        wasm_loaded = 1;
    }
    for (int t = 0; t < THREADS; t++) {
        struct worker *w = &workers[t];
        w->index = t;
        w->seed = 0x5eed + (unsigned)t;
        snprintf(w->own, sizeof w->own, "stress-%d", t);
        if (!(result = call(w, "portfolio.put", json_pack("{s:o}", "portfolio", portfolio_doc(t, 0))))) return 1;
        w->revision = num(result, "revision");
        json_decref(result);
        if (!(result = call(w, "assessment.run", json_pack("{s:s}", "portfolio", w->own)))) return 1;
        w->runs = num(result, "run");
        json_decref(result);
    }
    if (!(result = call(NULL, "portfolio.put", json_pack("{s:{s:s, s:{s:s}, s:[{s:s, s:s, s:s}]}}", "portfolio", "id", "shared",
                                                         "organization", "name", "Shared", "systems", "id", "x1", "name", "x1",
                                                         "layer", "platform")))) return 1;
    json_decref(result);
    shared_base = 1;
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, work, &workers[t]);
    int calls = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        calls += workers[t].calls;
    }
    if (wasm_loaded && (result = call(NULL, "plugin.list", NULL))) {
        json_t *usage = json_object_get(json_object_get(json_array_get(json_object_get(result, "plugins"), 0), "wasm"), "usage");
        printf("stress: %d calls to the wasm plugin in %d instances, %d traps\n", num(usage, "calls"), num(usage, "instances"), num(usage, "traps"));
        const char *method = "plugin.list";
        CHECK(num(usage, "calls") > 0 && num(usage, "traps") == 0, "the wasm plugin: %d calls, %d traps", num(usage, "calls"), num(usage, "traps"));
        json_decref(result);
    }
    /* Every revision of "shared" was made by exactly one write, none skipped, and the last holds every
       system added. */
    for (int v = 2; v <= shared_wins + 1 && v < (1 << 16); v++) {
        if (shared_won[v] != 1) {
            fail("shared", NULL, "revision %d of shared was made by %d writes", v, shared_won[v]);
            break;
        }
    }
    if ((result = call(NULL, "portfolio.get", json_pack("{s:s}", "id", "shared")))) {
        const char *method = "portfolio.get (shared, at the end)";
        CHECK(num(result, "revision") == shared_wins + 1, "shared at revision %d after %d writes", num(result, "revision"), shared_wins);
        check_shared(num(result, "revision"), json_object_get(json_object_get(result, "portfolio"), "systems"), method, result);
        json_decref(result);
    }
    printf("stress: %d writes made the revisions of the shared portfolio, one each\n", shared_wins);
    /* What each thread knows of its own portfolio is what a fresh engine reads from the file. */
    twospeed_close(engine);
    if (twospeed_open(path, &engine) != TWOSPEED_OK) {
        fprintf(stderr, "cannot reopen %s\n", path);
        return 1;
    }
    for (int t = 0; t < THREADS; t++) {
        struct worker *w = &workers[t];
        const char *method = "portfolio.get after reopening";
        if (!(result = call(NULL, "portfolio.get", json_pack("{s:s}", "id", w->own)))) continue;
        CHECK(num(result, "revision") == w->revision, "%s reopened at revision %d, expected %d", w->own, num(result, "revision"), w->revision);
        json_decref(result);
        method = "assessment.history after reopening";
        if (!(result = call(NULL, "assessment.history", json_pack("{s:s}", "portfolio", w->own)))) continue;
        CHECK((int)json_array_size(json_object_get(result, "runs")) == w->runs, "%s reopened with %zu runs, expected %d", w->own,
              json_array_size(json_object_get(result, "runs")), w->runs);
        json_decref(result);
    }
    twospeed_close(engine);
    json_decref(example);
    if (argc <= 2) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    }
    printf("stress: %d threads, %d calls on one engine over a file store: %d failures\n", THREADS, calls, failures);
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
