/*
** test_abi.c -- tests of the C ABI in include/twospeed.h, from C, with no framework.
**
** `make test-c` builds and runs it. Every CHECK counts a pass or a failure and prints each failure with
** its file:line; the last line is "N passed, M failed" and the exit status is non-zero when M > 0.
**
** Responses are parsed with jansson (JSON_ALLOW_NUL, since a stored string may hold U+0000) and checked
** by value: error code, data.pointer, id, and that the store is unchanged after every bad input.
*/
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "twospeed.h"

/* MARK: checks */

static int passed, failed;

static int check_at(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        passed++;
        return 1;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

/* CHECK(cond) prints the condition; CHECKF(cond, fmt, ...) prints a message with context. */
#define CHECK(c) check_at(!!(c), __FILE__, __LINE__, "%s", #c)
#define CHECKF(c, ...) check_at(!!(c), __FILE__, __LINE__, __VA_ARGS__)

/* Shortens a text for failure messages. */
static const char *clip(const char *s) {
    static char buf[600];
    if (!s) return "(null)";
    size_t n = strlen(s);
    if (n < sizeof buf) return s;
    memcpy(buf, s, 560);
    snprintf(buf + 560, sizeof buf - 560, "... (%zu bytes)", n);
    return buf;
}

/* MARK: calling the engine */

#define PARSE_FLAGS (JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES)

/* Calls with text and parses the response; NULL (after a failed check) when there is none or it is not JSON. */
static json_t *call_at(twospeed_engine *eng, const char *req, const char *file, int line) {
    char *text = twospeed_call(eng, req);
    if (!check_at(text != NULL, file, line, "twospeed_call returned NULL for %s", clip(req))) return NULL;
    check_at(strchr(text, '\n') == NULL, file, line, "response is not on one line: %s", clip(text));
    json_error_t err;
    json_t *res = json_loads(text, PARSE_FLAGS, &err);
    check_at(res != NULL, file, line, "response is not JSON (%s): %s", err.text, clip(text));
    twospeed_free(text);
    return res;
}
#define CALL(eng, req) call_at((eng), (req), __FILE__, __LINE__)

/* Calls a method with params (stolen; NULL for none) and returns a new reference to the result, or
   NULL after a failed check. */
static json_t *result_at(twospeed_engine *eng, const char *method, json_t *params, const char *file, int line) {
    json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id", 1);
    if (params) json_object_set_new(req, "params", params);
    char *text = json_dumps(req, JSON_COMPACT | JSON_ALLOW_NUL);
    json_decref(req);
    json_t *res = call_at(eng, text, file, line);
    json_t *result = json_object_get(res, "result");
    if (!check_at(result != NULL, file, line, "%s failed: %s", method, clip(text))) {
        char *e = json_dumps(res, JSON_COMPACT);
        fprintf(stderr, "    response: %s\n", clip(e));
        free(e);
    }
    free(text);
    json_incref(result);
    json_decref(res);
    return result;
}
#define RESULT(eng, method, params) result_at((eng), (method), (params), __FILE__, __LINE__)

static json_int_t int_at(json_t *v, const char *path) {
    /* A tiny dotted path: "counts.products". */
    char buf[200];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) v = json_object_get(v, k);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* What must not change after a bad input: the engine's counts and every portfolio's revision. */
static json_t *store_state(twospeed_engine *eng) {
    json_t *info = RESULT(eng, "engine.info", NULL);
    json_t *list = RESULT(eng, "portfolio.list", NULL);
    json_t *state = json_pack("{s:O, s:O, s:O}", "portfolios", json_object_get(info, "portfolios"),
                              "counts", json_object_get(info, "counts"), "list", list ? list : json_null());
    json_decref(info);
    json_decref(list);
    return state;
}

/*
** Sends a bad request and checks the error response: the code, data.pointer (when pointer is not
** NULL), the id (when id is not NULL: the expected id as JSON text), and that the store is unchanged.
** Returns the response (new reference) for further checks.
*/
static json_t *expect_error_at(twospeed_engine *eng, const char *req, int code, const char *pointer, const char *id,
                               const char *file, int line) {
    json_t *before = store_state(eng);
    json_t *res = call_at(eng, req, file, line);
    /* A batch of one bad request: its one answer, in an array. */
    const char *first = req + strspn(req, " \t\r\n");
    if (*first == '[' && json_is_array(res)) {
        check_at(json_array_size(res) == 1, file, line, "a batch of one has %zu answers", json_array_size(res));
        json_t *one = json_incref(json_array_get(res, 0));
        json_decref(res);
        res = one;
    }
    json_t *error = json_object_get(res, "error");
    char *text = json_dumps(res, JSON_COMPACT);
    if (check_at(json_is_object(error), file, line, "expected error %d, got %s", code, clip(text))) {
        json_int_t got = json_integer_value(json_object_get(error, "code"));
        check_at(got == code, file, line, "expected error %d, got %lld: %s", code, (long long)got, clip(text));
        check_at(json_is_string(json_object_get(error, "message")), file, line, "error without message: %s", clip(text));
        check_at(json_object_get(res, "result") == NULL, file, line, "both result and error: %s", clip(text));
        const char *v = json_string_value(json_object_get(res, "jsonrpc"));
        check_at(v && strcmp(v, "2.0") == 0, file, line, "jsonrpc is not \"2.0\": %s", clip(text));
        if (pointer) {
            const char *p = json_string_value(json_object_get(json_object_get(error, "data"), "pointer"));
            check_at(p && strcmp(p, pointer) == 0, file, line, "expected data.pointer \"%s\", got \"%s\": %s", pointer,
                     p ? p : "(none)", clip(text));
        }
        if (id) {
            json_t *want = json_loads(id, JSON_DECODE_ANY, NULL);
            check_at(json_equal(json_object_get(res, "id"), want), file, line, "expected id %s: %s", id, clip(text));
            json_decref(want);
        }
    }
    json_t *after = store_state(eng);
    check_at(json_equal(before, after), file, line, "the store changed after a bad input: %s", clip(req));
    json_decref(before);
    json_decref(after);
    free(text);
    return res;
}
#define EXPECT_ERROR(eng, req, code, pointer, id) \
    json_decref(expect_error_at((eng), (req), (code), (pointer), (id), __FILE__, __LINE__))

/*
** JSON equality by value, as JSON Schema sees it: 40 and 40.0 are the same number, and a list member
** that is absent is the same as an empty list. The engine holds numbers as doubles and gives every list
** member back (empty when it was absent), so a document comes back equal by value but not always
** json_equal: compare() counts those representation changes separately and the test prints them.
*/
struct comparison {
    int mismatches, number_kinds, empty_lists;
    char mismatch_at[300], number_at[300], empty_at[300];
};

static void compare(json_t *a, json_t *b, const char *path, struct comparison *c) {
    char sub[300];
    if (json_is_number(a) && json_is_number(b)) {
        if (json_number_value(a) != json_number_value(b)) {
            if (!c->mismatches++) snprintf(c->mismatch_at, sizeof c->mismatch_at, "%s", path);
        } else if (json_typeof(a) != json_typeof(b)) {
            if (!c->number_kinds++) snprintf(c->number_at, sizeof c->number_at, "%s", path);
        }
        return;
    }
    if (json_typeof(a) != json_typeof(b)) {
        if (!c->mismatches++) snprintf(c->mismatch_at, sizeof c->mismatch_at, "%s", path);
        return;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        for (int side = 0; side < 2; side++) {
            json_t *x = side ? b : a, *y = side ? a : b;
            json_object_foreach(x, k, v) {
                snprintf(sub, sizeof sub, "%s/%s", path, k);
                json_t *w = json_object_get(y, k);
                if (!w) {
                    if (json_is_array(v) && json_array_size(v) == 0) {
                        if (!c->empty_lists++) snprintf(c->empty_at, sizeof c->empty_at, "%s", sub);
                    } else if (!c->mismatches++) {
                        snprintf(c->mismatch_at, sizeof c->mismatch_at, "%s", sub);
                    }
                } else if (!side) {
                    compare(v, w, sub, c);
                }
            }
        }
        return;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            if (!c->mismatches++) snprintf(c->mismatch_at, sizeof c->mismatch_at, "%s (length)", path);
            return;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(sub, sizeof sub, "%s/%zu", path, i);
            compare(json_array_get(a, i), json_array_get(b, i), sub, c);
        }
        return;
    }
    if (!json_equal(a, b) && !c->mismatches++) snprintf(c->mismatch_at, sizeof c->mismatch_at, "%s", path);
}

/* Checks that got equals want by value; prints a NOTE for representation changes. */
static int same_document_at(json_t *want, json_t *got, const char *what, int note, const char *file, int line) {
    struct comparison c;
    memset(&c, 0, sizeof c);
    compare(want, got, "", &c);
    int ok = check_at(got != NULL && c.mismatches == 0, file, line, "%s differs from what was sent: %d difference(s), first at %s",
                      what, c.mismatches, c.mismatch_at);
    if (note && (c.number_kinds || c.empty_lists)) {
        fprintf(stderr, "NOTE %s:%d: %s is equal by value but not json_equal:\n", file, line, what);
        if (c.number_kinds)
            fprintf(stderr, "    %d integer(s) came back as real(s), first at %s\n", c.number_kinds, c.number_at);
        if (c.empty_lists)
            fprintf(stderr, "    %d absent list(s) came back as [], first at %s\n", c.empty_lists, c.empty_at);
    }
    return ok;
}
#define SAME_DOCUMENT(want, got, what) same_document_at((want), (got), (what), 0, __FILE__, __LINE__)
#define SAME_DOCUMENT_NOTE(want, got, what) same_document_at((want), (got), (what), 1, __FILE__, __LINE__)

static json_t *load_retailer(void) {
    json_error_t err;
    json_t *doc = json_load_file("examples/portfolios/retailer.json", 0, &err);
    if (!doc) doc = json_load_file("../examples/portfolios/retailer.json", 0, &err);
    CHECKF(doc != NULL, "cannot load examples/portfolios/retailer.json: %s (run from the repository root)", err.text);
    return doc;
}

/* portfolio.put as text, the way a C host that holds a document would send it. Returns the result. */
static json_t *put_portfolio(twospeed_engine *eng, json_t *doc) {
    json_t *req = json_pack("{s:s, s:s, s:{s:O}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params",
                            "portfolio", doc, "id", 10);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *res = CALL(eng, text);
    free(text);
    json_t *result = json_incref(json_object_get(res, "result"));
    CHECKF(result != NULL, "portfolio.put failed");
    CHECK(json_integer_value(json_object_get(res, "id")) == 10);
    json_decref(res);
    return result;
}

/* MARK: temporary directory */

static char tmpdir[64];

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* MARK: version, errstr */

static void test_version_and_errstr(void) {
    CHECK(twospeed_version() != NULL);
    CHECKF(twospeed_version() && strcmp(twospeed_version(), TWOSPEED_VERSION) == 0, "twospeed_version() is \"%s\"",
           twospeed_version() ? twospeed_version() : "(null)");
    CHECK(twospeed_abi_version() == TWOSPEED_ABI_VERSION);
    CHECK(twospeed_version() == twospeed_version()); /* static */

    /* TWOSPEED_VERSION_NUMBER is the header's string and the library's version as one number. */
    unsigned major = 0, minor = 0, patch = 0;
    CHECK(sscanf(TWOSPEED_VERSION, "%u.%u.%u", &major, &minor, &patch) == 3);
    CHECKF(TWOSPEED_VERSION_NUMBER == (long)major * 1000000 + (long)minor * 1000 + (long)patch,
           "TWOSPEED_VERSION_NUMBER %d is not TWOSPEED_VERSION %s", TWOSPEED_VERSION_NUMBER, TWOSPEED_VERSION);
    CHECK(twospeed_version() && sscanf(twospeed_version(), "%u.%u.%u", &major, &minor, &patch) == 3);
    CHECKF(TWOSPEED_VERSION_NUMBER == (long)major * 1000000 + (long)minor * 1000 + (long)patch,
           "TWOSPEED_VERSION_NUMBER %d, the library is %s", TWOSPEED_VERSION_NUMBER, twospeed_version());
#if TWOSPEED_VERSION_NUMBER < 1000
#error "TWOSPEED_VERSION_NUMBER is usable in #if"
#endif

    const int codes[] = {TWOSPEED_OK, TWOSPEED_EINVAL, TWOSPEED_ECANTOPEN, TWOSPEED_ENOTSTORE,
                         TWOSPEED_ESCHEMA, TWOSPEED_EIO, TWOSPEED_ENOMEM, TWOSPEED_EOPTIONS, TWOSPEED_NOREPLY};
    const int ncodes = (int)(sizeof codes / sizeof codes[0]);
    CHECK(TWOSPEED_OK == 0 && TWOSPEED_EINVAL == 1 && TWOSPEED_ECANTOPEN == 2 && TWOSPEED_ENOTSTORE == 3 &&
          TWOSPEED_ESCHEMA == 4 && TWOSPEED_EIO == 5 && TWOSPEED_ENOMEM == 6 && TWOSPEED_EOPTIONS == 7 &&
          TWOSPEED_NOREPLY == 8);
    const char *unknown = twospeed_errstr(12345);
    CHECK(unknown != NULL && strlen(unknown) > 0);
    for (int i = 0; i < ncodes; i++) {
        const char *s = twospeed_errstr(codes[i]);
        CHECKF(s != NULL && strlen(s) > 0, "twospeed_errstr(%d) is empty", codes[i]);
        if (!s) continue;
        CHECKF(!unknown || strcmp(s, unknown) != 0, "twospeed_errstr(%d) is the unknown-code text \"%s\"", codes[i], s);
        for (int j = 0; j < i; j++) {
            const char *t = twospeed_errstr(codes[j]);
            CHECKF(!t || strcmp(s, t) != 0, "twospeed_errstr(%d) == twospeed_errstr(%d): \"%s\"", codes[i], codes[j], s);
        }
    }
    const int bad[] = {-1, 9, 100, -32700, 0x7fffffff, (int)0x80000000u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = twospeed_errstr(bad[i]);
        CHECKF(s != NULL && unknown && strcmp(s, unknown) == 0, "twospeed_errstr(%d) is \"%s\"", bad[i], s ? s : "(null)");
    }
}

/* MARK: open */

static void test_open(void) {
    twospeed_engine *eng = (twospeed_engine *)&eng; /* not NULL, to see that failures reset it */

    CHECK(twospeed_open(NULL, &eng) == TWOSPEED_OK);
    CHECK(eng != NULL);
    json_t *info = RESULT(eng, "engine.info", NULL);
    CHECK(json_is_true(json_object_get(json_object_get(info, "store"), "inMemory")));
    CHECK(int_at(info, "portfolios") == 0);
    json_decref(info);
    twospeed_close(eng);

    eng = (twospeed_engine *)&eng;
    CHECK(twospeed_open(":memory:", &eng) == TWOSPEED_OK);
    CHECK(eng != NULL);
    info = RESULT(eng, "engine.info", NULL);
    CHECK(json_is_true(json_object_get(json_object_get(info, "store"), "inMemory")));
    json_decref(info);
    twospeed_close(eng);

    /* out NULL */
    CHECK(twospeed_open(":memory:", NULL) == TWOSPEED_EINVAL);
    CHECK(twospeed_open(NULL, NULL) == TWOSPEED_EINVAL);

    /* A directory that does not exist. */
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/store.db", tmpdir);
    eng = (twospeed_engine *)&eng;
    int rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_ECANTOPEN, "open %s: %d (%s)", path, rc, twospeed_errstr(rc));
    CHECK(eng == NULL);
    if (rc == TWOSPEED_OK) twospeed_close(eng);
    struct stat st;
    CHECK(stat(path, &st) != 0);

    /* A directory is not a store file. */
    eng = (twospeed_engine *)&eng;
    rc = twospeed_open(tmpdir, &eng);
    CHECKF(rc == TWOSPEED_ECANTOPEN || rc == TWOSPEED_ENOTSTORE, "open a directory: %d (%s)", rc, twospeed_errstr(rc));
    CHECK(eng == NULL);
    if (rc == TWOSPEED_OK) twospeed_close(eng);

    /* A file that is not a SQLite database. */
    snprintf(path, sizeof path, "%s/garbage.db", tmpdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 8192; i++) fputc((i * 131 + 7) & 0xff, f);
        fclose(f);
    }
    eng = (twospeed_engine *)&eng;
    rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_ENOTSTORE, "open garbage: %d (%s)", rc, twospeed_errstr(rc));
    CHECK(eng == NULL);
    if (rc == TWOSPEED_OK) twospeed_close(eng);

    /* A text file. */
    snprintf(path, sizeof path, "%s/text.db", tmpdir);
    f = fopen(path, "w");
    if (f) {
        fputs("this is not a database, just some text that happens to be longer than a SQLite header......\n", f);
        fclose(f);
    }
    eng = (twospeed_engine *)&eng;
    rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_ENOTSTORE, "open a text file: %d (%s)", rc, twospeed_errstr(rc));
    CHECK(eng == NULL);
    if (rc == TWOSPEED_OK) twospeed_close(eng);

    /* A real file: created, written, closed, reopened, found. */
    snprintf(path, sizeof path, "%s/store.db", tmpdir);
    eng = NULL;
    rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_OK, "open %s: %d (%s)", path, rc, twospeed_errstr(rc));
    if (rc != TWOSPEED_OK) return;
    CHECK(stat(path, &st) == 0);
    info = RESULT(eng, "engine.info", NULL);
    CHECK(json_is_false(json_object_get(json_object_get(info, "store"), "inMemory")));
    json_decref(info);
    json_t *doc = load_retailer();
    json_t *put = put_portfolio(eng, doc);
    CHECK(int_at(put, "revision") == 1);
    json_decref(put);
    json_t *obs = RESULT(eng, "metric.observe",
                         json_pack("{s:s, s:s, s:[{s:s, s:f}]}", "portfolio", "retailer", "metric", "nps", "observations",
                                   "at", "2026-12-31", "value", 26.5));
    CHECK(int_at(obs, "total") == 2 && int_at(obs, "revision") == 2);
    json_decref(obs);
    json_t *got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "retailer"));
    json_t *before = json_deep_copy(got);
    json_decref(got);
    twospeed_close(eng);

    eng = NULL;
    rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_OK, "reopen %s: %d (%s)", path, rc, twospeed_errstr(rc));
    if (rc == TWOSPEED_OK) {
        got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "retailer"));
        CHECK(got != NULL);
        CHECK(int_at(got, "revision") == 2);
        CHECKF(json_equal(got, before), "the reopened portfolio differs from the one written");
        json_t *nps = RESULT(eng, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "retailer", "kind", "metric", "id", "nps"));
        CHECK(json_array_size(json_object_get(json_object_get(nps, "entity"), "observations")) == 2);
        json_decref(nps);
        json_decref(got);
        info = RESULT(eng, "engine.info", NULL);
        CHECK(int_at(info, "portfolios") == 1);
        CHECK(int_at(info, "counts.products") == (json_int_t)json_array_size(json_object_get(doc, "products")));
        json_decref(info);
        twospeed_close(eng);
    }
    json_decref(before);
    json_decref(doc);

    /* The same store with a newer schema version (SQLite's user_version, bytes 60..63 of the header). */
    char newer[256], truncated[256];
    snprintf(newer, sizeof newer, "%s/newer.db", tmpdir);
    snprintf(truncated, sizeof truncated, "%s/truncated.db", tmpdir);
    unsigned char *bytes = NULL;
    long size = 0;
    f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        bytes = malloc((size_t)size);
        CHECK(bytes && fread(bytes, 1, (size_t)size, f) == (size_t)size);
        fclose(f);
    }
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECKF(stat(wal, &st) != 0 || st.st_size == 0, "the WAL is left behind after close (%lld bytes)", (long long)st.st_size);
    if (bytes && size > 4096 && memcmp(bytes, "SQLite format 3", 16) == 0) {
        unsigned char v[4] = {bytes[60], bytes[61], bytes[62], bytes[63]};
        CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] > 0); /* a small schema version */
        bytes[60] = 0;
        bytes[61] = 0;
        bytes[62] = 0x03;
        bytes[63] = 0xe7; /* 999 */
        f = fopen(newer, "wb");
        if (f) {
            fwrite(bytes, 1, (size_t)size, f);
            fclose(f);
        }
        eng = (twospeed_engine *)&eng;
        rc = twospeed_open(newer, &eng);
        CHECKF(rc == TWOSPEED_ESCHEMA, "open a store of schema version 999: %d (%s)", rc, twospeed_errstr(rc));
        CHECK(eng == NULL);
        if (rc == TWOSPEED_OK) twospeed_close(eng);

        /* Only the first page of a store: its tables' pages are missing. */
        memcpy(bytes + 60, v, 4);
        f = fopen(truncated, "wb");
        if (f) {
            fwrite(bytes, 1, 4096, f);
            fclose(f);
        }
        eng = (twospeed_engine *)&eng;
        rc = twospeed_open(truncated, &eng);
        CHECKF(rc == TWOSPEED_ENOTSTORE, "open a truncated store: %d (%s)", rc, twospeed_errstr(rc));
        CHECK(eng == NULL);
        if (rc == TWOSPEED_OK) twospeed_close(eng);
    } else {
        CHECKF(0, "%s is not a SQLite file of more than one page (%ld bytes)", path, size);
    }
    free(bytes);
}

/* MARK: twospeed_open_error */

/*
** Opens with path and options (options NULL: twospeed_open) and checks the code, that *out is NULL,
** and that twospeed_open_error() contains every one of the NULL-terminated fragments. Returns the
** message (valid until the next open on this thread) or NULL.
*/
static const char *expect_open_error_at(const char *path, const char *options, int code, const char *file, int line,
                                        ...) {
    twospeed_engine *eng = (twospeed_engine *)&eng;
    int rc = options ? twospeed_open_v2(path, options, &eng) : twospeed_open(path, &eng);
    const char *msg = twospeed_open_error();
    check_at(rc == code, file, line, "open %s with %s: expected %d (%s), got %d (%s); twospeed_open_error: %s",
             path ? path : "(memory)", options ? options : "(no options)", code, twospeed_errstr(code), rc,
             twospeed_errstr(rc), msg ? msg : "(null)");
    check_at(eng == NULL, file, line, "a failed open left *out set");
    if (rc == TWOSPEED_OK && eng) twospeed_close(eng);
    if (!check_at(msg != NULL && *msg != '\0', file, line, "no twospeed_open_error after a failed open (%d)", rc))
        return NULL;
    va_list ap;
    va_start(ap, line);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *))
        check_at(strstr(msg, want) != NULL, file, line, "twospeed_open_error does not mention \"%s\": %s", want, msg);
    va_end(ap);
    return msg;
}
#define EXPECT_OPEN_ERROR(path, options, code, ...) \
    expect_open_error_at((path), (options), (code), __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

/* Runs SQL on a SQLite file with SQLite itself, as another program would have left it. */
static int sqlite_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) fprintf(stderr, "    sqlite3 %s: %s: %s\n", path, sql, db ? sqlite3_errmsg(db) : "(no handle)");
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

struct open_error_thread {
    const char *options;  /* the failing options this thread opens with */
    char before[300];     /* twospeed_open_error() before this thread opened anything */
    char own[300];        /* after its own failed open */
    char after_other[300]; /* after the main thread failed again meanwhile */
    int before_null, rc;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *stage;
};

static void copy_message(char *dst, size_t n, const char *msg) { snprintf(dst, n, "%s", msg ? msg : "(null)"); }

static void *open_error_worker(void *arg) {
    struct open_error_thread *t = arg;
    const char *m = twospeed_open_error();
    t->before_null = m == NULL;
    copy_message(t->before, sizeof t->before, m);
    twospeed_engine *eng = NULL;
    t->rc = twospeed_open_v2(NULL, t->options, &eng);
    copy_message(t->own, sizeof t->own, twospeed_open_error());
    /* Let the main thread fail an open of its own, then look again. */
    pthread_mutex_lock(t->mu);
    *t->stage = 1;
    pthread_cond_broadcast(t->cv);
    while (*t->stage != 2) pthread_cond_wait(t->cv, t->mu);
    pthread_mutex_unlock(t->mu);
    copy_message(t->after_other, sizeof t->after_other, twospeed_open_error());
    return NULL;
}

static void test_open_error(void) {
    char path[256], msg[300];
    twospeed_engine *eng = NULL;

    /* A success clears the message of an earlier failure. */
    EXPECT_OPEN_ERROR(NULL, "{\"plugin\":\"x\"}", TWOSPEED_EOPTIONS, "/plugin");
    CHECK(twospeed_open(NULL, &eng) == TWOSPEED_OK);
    const char *m = twospeed_open_error();
    CHECKF(m == NULL, "twospeed_open_error after a successful open: %s", m);
    twospeed_close(eng);

    /* Options: the unknown option with its JSON pointer and the ones there are; a wrong type; not an object. */
    EXPECT_OPEN_ERROR(NULL, "{\"plugin\":\"/etc/twospeed\"}", TWOSPEED_EOPTIONS, "/plugin", "unknown", "plugins",
                      "maxRequestBytes");
    EXPECT_OPEN_ERROR(NULL, "{\"maxRequestBytes\":\"big\"}", TWOSPEED_EOPTIONS, "/maxRequestBytes", "integer");
    EXPECT_OPEN_ERROR(NULL, "{\"maxRequestBytes\":12}", TWOSPEED_EOPTIONS, "/maxRequestBytes", "1024");
    EXPECT_OPEN_ERROR(NULL, "[\"plugins\"]", TWOSPEED_EOPTIONS, "object");
    EXPECT_OPEN_ERROR(NULL, "{\"fileMode\":\"0999\"}", TWOSPEED_EOPTIONS, "/fileMode", "octal");
    EXPECT_OPEN_ERROR(NULL, "{\"fileMode\":\"4755\"}", TWOSPEED_EOPTIONS, "/fileMode");
    EXPECT_OPEN_ERROR(NULL, "{\"fileMode\":640}", TWOSPEED_EOPTIONS, "/fileMode", "string");

    /* A new store file and its -wal and -shm are the owner's alone, or what fileMode asks for. */
    {
        mode_t old = umask(022);
        const char *modes[] = {NULL, "{\"fileMode\":\"0640\"}", "{\"fileMode\":\"600\"}"};
        const mode_t want[] = {0600, 0640, 0600};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/mode-%d.db", tmpdir, i);
            if (!CHECK(twospeed_open_v2(path, modes[i], &eng) == TWOSPEED_OK)) continue;
            twospeed_free(twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"id\":1,\"params\":"
                                             "{\"portfolio\":{\"id\":\"m\",\"organization\":{\"name\":\"M\"}}}}"));
            const char *suffix[] = {"", "-wal", "-shm"};
            for (int k = 0; k < 3; k++) {
                char file[300];
                struct stat st;
                snprintf(file, sizeof file, "%s%s", path, suffix[k]);
                CHECKF(stat(file, &st) == 0 && (st.st_mode & 0777) == want[i], "%s: mode %o, expected %o (options %s)", file,
                       (unsigned)(st.st_mode & 0777), (unsigned)want[i], modes[i] ? modes[i] : "none");
            }
            twospeed_close(eng);
        }
        umask(old);
    }
    /* Many unknown options: the first few, and how many more, not a text of unbounded length. */
    char many[4096] = "{";
    for (int i = 0; i < 200; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"option%d\":%d", i ? "," : "", i, i);
    strcat(many, "}");
    m = EXPECT_OPEN_ERROR(NULL, many, TWOSPEED_EOPTIONS, "/option0", "more");
    CHECKF(m == NULL || strlen(m) < 1000, "the message for 200 unknown options is %zu bytes", m ? strlen(m) : 0);

    /* Not JSON: jansson's reason with the line and column. */
    EXPECT_OPEN_ERROR(NULL, "{\"plugins\": \"p\",\n  \"maxRequestBytes\": }", TWOSPEED_EOPTIONS, "not JSON", "line 2",
                      "column");
    EXPECT_OPEN_ERROR(NULL, "{\"plugins\":\"a\",\"plugins\":\"b\"}", TWOSPEED_EOPTIONS, "duplicate");

    /* out NULL */
    CHECK(twospeed_open(NULL, NULL) == TWOSPEED_EINVAL);
    m = twospeed_open_error();
    CHECKF(m && strstr(m, "out"), "twospeed_open_error after twospeed_open(NULL, NULL): %s", m ? m : "(null)");

    /* A path no one can create, not even root: its parent is a regular file. SQLite's own words. */
    snprintf(path, sizeof path, "%s/plain-file", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/plain-file/store.db", tmpdir);
    EXPECT_OPEN_ERROR(path, NULL, TWOSPEED_ECANTOPEN, path, sqlite3_errstr(SQLITE_CANTOPEN));
    EXPECT_OPEN_ERROR(path, "{}", TWOSPEED_ECANTOPEN, path, sqlite3_errstr(SQLITE_CANTOPEN));
    if (geteuid() != 0) {
        /* A folder this user may not write to (root may write anywhere, so only when not root). */
        char ro[128];
        snprintf(ro, sizeof ro, "%s/read-only", tmpdir);
        CHECK(mkdir(ro, 0555) == 0);
        snprintf(path, sizeof path, "%s/store.db", ro);
        EXPECT_OPEN_ERROR(path, NULL, TWOSPEED_ECANTOPEN, path, sqlite3_errstr(SQLITE_CANTOPEN));
    }

    /* A file that is not SQLite at all: the file's name and SQLite's verdict. */
    snprintf(path, sizeof path, "%s/not-sqlite.db", tmpdir);
    f = fopen(path, "wb");
    if (f) {
        for (int i = 0; i < 4096; i++) fputc((i * 37 + 11) & 0xff, f);
        fclose(f);
    }
    EXPECT_OPEN_ERROR(path, NULL, TWOSPEED_ENOTSTORE, path, sqlite3_errstr(SQLITE_NOTADB));

    /* Another program's SQLite database. */
    snprintf(path, sizeof path, "%s/foreign.db", tmpdir);
    if (CHECK(sqlite_exec(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); "
                                "INSERT INTO invoices (total) VALUES (12.5);")))
        EXPECT_OPEN_ERROR(path, NULL, TWOSPEED_ENOTSTORE, path);

    /* A store from a newer TwoSpeed: the schema version found. */
    snprintf(path, sizeof path, "%s/newer-99.db", tmpdir);
    eng = NULL;
    CHECK(twospeed_open(path, &eng) == TWOSPEED_OK);
    twospeed_close(eng);
    if (CHECK(sqlite_exec(path, "PRAGMA user_version = 99;")))
        EXPECT_OPEN_ERROR(path, NULL, TWOSPEED_ESCHEMA, path, "99");

    /* The message is the thread's own: a new thread starts with none, sees its own failure, and neither
       thread's later failure changes the other's. */
    m = EXPECT_OPEN_ERROR(NULL, "{\"mainThreadOption\":1}", TWOSPEED_EOPTIONS, "/mainThreadOption");
    const char *main_ptr = m;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int stage = 0;
    struct open_error_thread t = {.options = "{\"workerOption\":2}", .mu = &mu, .cv = &cv, .stage = &stage};
    pthread_t tid;
    if (CHECK(pthread_create(&tid, NULL, open_error_worker, &t) == 0)) {
        pthread_mutex_lock(&mu);
        while (stage != 1) pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        /* The worker has failed; the main thread's message is what it was, at the same address. */
        m = twospeed_open_error();
        CHECKF(m == main_ptr && m && strstr(m, "/mainThreadOption") && !strstr(m, "workerOption"),
               "the main thread's message after the worker's failed open: %s", m ? m : "(null)");
        EXPECT_OPEN_ERROR(NULL, "{\"mainAgain\":3}", TWOSPEED_EOPTIONS, "/mainAgain");
        pthread_mutex_lock(&mu);
        stage = 2;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        pthread_join(tid, NULL);
        CHECKF(t.before_null, "a new thread's twospeed_open_error is not NULL but: %s", t.before);
        CHECK(t.rc == TWOSPEED_EOPTIONS);
        CHECKF(strstr(t.own, "/workerOption") != NULL, "the worker's own message: %s", t.own);
        CHECKF(strcmp(t.after_other, t.own) == 0, "the worker's message changed with the main thread's open: %s",
               t.after_other);
        m = twospeed_open_error();
        copy_message(msg, sizeof msg, m);
        CHECKF(strstr(msg, "/mainAgain") != NULL, "the main thread's message after the worker exited: %s", msg);
    }
}

/* MARK: NULL arguments */

static void test_null_arguments(void) {
    twospeed_engine *eng = NULL;
    CHECK(twospeed_open(NULL, &eng) == TWOSPEED_OK);
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}";
    CHECK(twospeed_call(NULL, req) == NULL);
    CHECK(twospeed_call(eng, NULL) == NULL);
    CHECK(twospeed_call(NULL, NULL) == NULL);
    json_t *jreq = json_loads(req, 0, NULL);
    CHECK(twospeed_call_json(NULL, jreq) == NULL);
    CHECK(twospeed_call_json(eng, NULL) == NULL);
    CHECK(twospeed_call_json(NULL, NULL) == NULL);
    CHECK(jreq->refcount == 1);
    json_decref(jreq);
    twospeed_free(NULL);
    twospeed_close(NULL);
    CHECK(1); /* reached: the no-ops did not crash */
    twospeed_close(eng);
}

/* MARK: twospeed_call_rc */

/* twospeed_call_rc's code for one request, with its reply checked against what the code says. */
static int call_rc(twospeed_engine *eng, const char *req, char **out) {
    char *res = (char *)0x1; /* must be overwritten, even on failure */
    int rc = twospeed_call_rc(eng, req, &res);
    *out = res;
    return rc;
}

static void test_call_rc(void) {
    twospeed_engine *eng = NULL;
    CHECK(twospeed_open(NULL, &eng) == TWOSPEED_OK);
    char *res = NULL;

    /* An organization named "error": the reply holds "error", and the call succeeded. A strstr on the
       text (as docs once suggested) says otherwise; the code does not. */
    const char *put = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":{"
                      "\"id\":\"shop\",\"organization\":{\"name\":\"error\"}}}}";
    CHECK(call_rc(eng, put, &res) == TWOSPEED_OK);
    CHECKF(res && strstr(res, "\"result\""), "put: %s", res ? res : "(null)");
    twospeed_free(res);

    /* The same text as twospeed_call gives. */
    const char *get = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"portfolio.get\",\"params\":{\"id\":\"shop\"}}";
    char *plain = twospeed_call(eng, get);
    CHECK(call_rc(eng, get, &res) == TWOSPEED_OK);
    CHECKF(res && strstr(res, "\"error\"") && strstr(res, "\"result\""), "get: %s", res ? res : "(null)");
    CHECKF(res && plain && strcmp(res, plain) == 0, "call_rc: %s; call: %s", res ? res : "(null)", plain ? plain : "(null)");
    twospeed_free(res);
    twospeed_free(plain);

    /* Errors: the code is the reply's error.code, and the reply is still all there. */
    CHECK(call_rc(eng, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"portfolio.get\",\"params\":{\"id\":\"nope\"}}", &res)
          == TWOSPEED_RPC_NOT_FOUND);
    CHECKF(res && strstr(res, "\"pointer\":\"/id\""), "not found: %s", res ? res : "(null)");
    twospeed_free(res);
    CHECK(call_rc(eng, "{\"jsonrpc\":", &res) == TWOSPEED_RPC_PARSE_ERROR);
    CHECK(res && strstr(res, "\"code\":-32700"));
    twospeed_free(res);
    CHECK(call_rc(eng, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"no.such\"}", &res) == TWOSPEED_RPC_METHOD_NOT_FOUND);
    twospeed_free(res);
    CHECK(call_rc(eng, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"portfolio.get\",\"params\":{\"id\":7}}", &res)
          == TWOSPEED_RPC_INVALID_PARAMS);
    twospeed_free(res);
    CHECK(call_rc(eng, "[]", &res) == TWOSPEED_RPC_INVALID_REQUEST);
    twospeed_free(res);

    /* A batch: 0 when every member is a result, else the first error's code. */
    CHECK(call_rc(eng, "[{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"portfolio.list\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"engine.info\"}]", &res) == TWOSPEED_OK);
    CHECK(res && res[0] == '[');
    twospeed_free(res);
    CHECK(call_rc(eng, "[{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"portfolio.list\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"no.such\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"portfolio.get\",\"params\":{\"id\":\"nope\"}}]", &res)
          == TWOSPEED_RPC_METHOD_NOT_FOUND);
    twospeed_free(res);

    /* A notification runs, and nothing answers it: NOREPLY and no text, even when it failed. */
    CHECK(call_rc(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.delete\",\"params\":{\"id\":\"shop\"}}", &res)
          == TWOSPEED_NOREPLY);
    CHECK(res == NULL);
    CHECK(call_rc(eng, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"portfolio.get\",\"params\":{\"id\":\"shop\"}}", &res)
          == TWOSPEED_RPC_NOT_FOUND); /* the notification deleted it */
    twospeed_free(res);
    CHECK(call_rc(eng, "[{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"},{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"}]", &res)
          == TWOSPEED_NOREPLY);
    CHECK(res == NULL);

    /* NULL arguments. */
    CHECK(call_rc(NULL, get, &res) == TWOSPEED_EINVAL && res == NULL);
    CHECK(call_rc(eng, NULL, &res) == TWOSPEED_EINVAL && res == NULL);
    CHECK(twospeed_call_rc(eng, get, NULL) == TWOSPEED_EINVAL);
    twospeed_close(eng);
}

/* MARK: twospeed_call_json */

static void test_call_json(void) {
    twospeed_engine *eng = NULL;
    CHECK(twospeed_open(NULL, &eng) == TWOSPEED_OK);

    json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", "engine.info", "id", 5);
    CHECK(req->refcount == 1);
    json_t *res = twospeed_call_json(eng, req);
    CHECK(res != NULL);
    CHECKF(req->refcount == 1, "the request's refcount is %zu after the call", (size_t)req->refcount);
    CHECK(res != req);
    if (res) {
        CHECKF(res->refcount == 1, "the response's refcount is %zu", (size_t)res->refcount);
        CHECK(json_integer_value(json_object_get(res, "id")) == 5);
        const char *v = json_string_value(json_object_get(json_object_get(res, "result"), "version"));
        CHECK(v && strcmp(v, TWOSPEED_VERSION) == 0);
    }
    json_decref(res);
    /* The request is still the caller's and still usable. */
    json_t *res2 = twospeed_call_json(eng, req);
    CHECK(res2 != NULL && json_integer_value(json_object_get(res2, "id")) == 5);
    CHECK(req->refcount == 1);
    json_decref(res2);
    json_decref(req);

    /* A notification: NULL, and the request is still borrowed. */
    req = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "engine.info");
    CHECK(twospeed_call_json(eng, req) == NULL);
    CHECK(req->refcount == 1);
    json_decref(req);

    /* A batch of notifications only: NULL. A mixed batch: the requests' answers. */
    req = json_pack("[{s:s, s:s}, {s:s, s:s}]", "jsonrpc", "2.0", "method", "engine.info", "jsonrpc", "2.0", "method",
                    "portfolio.list");
    CHECK(twospeed_call_json(eng, req) == NULL);
    json_decref(req);
    req = json_pack("[{s:s, s:s}, {s:s, s:s, s:s}]", "jsonrpc", "2.0", "method", "engine.info", "jsonrpc", "2.0",
                    "method", "portfolio.list", "id", "b");
    res = twospeed_call_json(eng, req);
    CHECK(json_is_array(res) && json_array_size(res) == 1);
    const char *bid = json_string_value(json_object_get(json_array_get(res, 0), "id"));
    CHECK(bid && strcmp(bid, "b") == 0);
    CHECK(req->refcount == 1);
    json_decref(res);
    json_decref(req);

    /* Not a request: an Invalid Request response, not NULL. */
    req = json_integer(42);
    res = twospeed_call_json(eng, req);
    CHECK(res != NULL && json_integer_value(json_object_get(json_object_get(res, "error"), "code")) == TWOSPEED_RPC_INVALID_REQUEST);
    CHECK(req->refcount == 1);
    json_decref(res);
    json_decref(req);

    /* A request value the caller shares with something else keeps its other reference. */
    json_t *params = json_pack("{s:s}", "id", "nope");
    req = json_pack("{s:s, s:s, s:O, s:i}", "jsonrpc", "2.0", "method", "portfolio.get", "params", params, "id", 6);
    CHECK(params->refcount == 2);
    res = twospeed_call_json(eng, req);
    CHECK(json_integer_value(json_object_get(json_object_get(res, "error"), "code")) == TWOSPEED_RPC_NOT_FOUND);
    CHECK(params->refcount == 2 && req->refcount == 1);
    json_decref(res);
    json_decref(req);
    CHECK(params->refcount == 1);
    json_decref(params);

    twospeed_close(eng);
}

/* MARK: requests that work */

static void test_calls(twospeed_engine *eng, json_t *doc) {
    /* engine.info */
    json_t *res = CALL(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}");
    json_t *info = json_object_get(res, "result");
    CHECK(json_is_object(info));
    CHECK(json_integer_value(json_object_get(res, "id")) == 1);
    const char *ver = json_string_value(json_object_get(info, "version"));
    CHECK(ver && strcmp(ver, TWOSPEED_VERSION) == 0);
    CHECK(int_at(info, "abiVersion") == TWOSPEED_ABI_VERSION);
    CHECK(int_at(info, "portfolios") == 0);
    CHECK(int_at(info, "counts.products") == 0);
    json_decref(res);

    /* The id comes back as it was sent. */
    res = CALL(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":\"a-string-id\"}");
    CHECK(json_is_string(json_object_get(res, "id")) && strcmp(json_string_value(json_object_get(res, "id")), "a-string-id") == 0);
    json_decref(res);
    res = CALL(eng, "{\"id\":-7.5,\"method\":\"engine.info\",\"jsonrpc\":\"2.0\",\"params\":{}}");
    CHECK(json_is_real(json_object_get(res, "id")) && json_real_value(json_object_get(res, "id")) == -7.5);
    CHECK(json_object_get(res, "result") != NULL);
    json_decref(res);

    /* portfolio.put of the retailer, sent as text. */
    json_t *put = put_portfolio(eng, doc);
    CHECK(put != NULL);
    const char *pid = json_string_value(json_object_get(put, "id"));
    CHECK(pid && strcmp(pid, "retailer") == 0);
    CHECK(json_is_true(json_object_get(put, "created")));
    CHECK(int_at(put, "revision") == 1);
    CHECK(int_at(put, "counts.products") == (json_int_t)json_array_size(json_object_get(doc, "products")));
    CHECK(int_at(put, "counts.managers") == (json_int_t)json_array_size(json_object_get(doc, "managers")));
    CHECK(int_at(put, "counts.observations") == 11);
    json_decref(put);

    /* portfolio.get: the document comes back as it went in. */
    json_t *got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "retailer"));
    json_t *p = json_object_get(got, "portfolio");
    CHECK(int_at(got, "revision") == 1);
    CHECK(json_is_string(json_object_get(got, "updated")));
    const char *members[] = {"id", "organization", "journeys", "products", "managers", "teams",
                             "systems", "metrics", "okrs", "experiments"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        char what[100];
        snprintf(what, sizeof what, "portfolio.get: \"%s\"", members[i]);
        SAME_DOCUMENT(json_object_get(doc, members[i]), json_object_get(p, members[i]), what);
    }
    /* Members made only of strings, integers-as-integers and non-empty lists are json_equal as well. */
    CHECK(json_equal(json_object_get(p, "organization"), json_object_get(doc, "organization")));
    CHECK(json_equal(json_object_get(p, "journeys"), json_object_get(doc, "journeys")));
    CHECK(json_equal(json_object_get(p, "teams"), json_object_get(doc, "teams")));
    /* Experiments hold the rollout share 1.0, which comes back as the JSON integer 1 (whole numbers are
       written as integers): equal by value, checked above, not by json_equal. */
    /* The whole document. */
    SAME_DOCUMENT_NOTE(doc, p, "portfolio.get of the retailer");
    json_decref(got);

    /* entity.get and entity.list */
    json_t *e = RESULT(eng, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "retailer", "kind", "product", "id", "front-page"));
    SAME_DOCUMENT(json_array_get(json_object_get(doc, "products"), 1), json_object_get(e, "entity"), "entity.get front-page");
    json_decref(e);
    e = RESULT(eng, "entity.list", json_pack("{s:s, s:s}", "portfolio", "retailer", "kind", "system"));
    SAME_DOCUMENT(json_object_get(doc, "systems"), json_object_get(e, "entities"), "entity.list system");
    json_decref(e);

    /* Params by position. */
    res = CALL(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":[\"retailer\",\"manager\",\"pm-front\"],\"id\":2}");
    const char *mname = json_string_value(json_object_get(json_object_get(json_object_get(res, "result"), "entity"), "name"));
    CHECK(mname && strcmp(mname, "Aisha Rahman") == 0);
    json_decref(res);

    /* A batch of requests and notifications: only the requests are answered, in order. */
    res = CALL(eng,
               "[{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.list\",\"id\":\"two\"},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"no.such.method\"},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"retailer\"}},"
               "42,"
               "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"team\",\"id\":\"team-front\"},\"id\":3},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"no.such.method\",\"id\":4}]");
    CHECKF(json_is_array(res) && json_array_size(res) == 5, "batch: %zu responses", json_array_size(res));
    if (json_array_size(res) == 5) {
        json_t *r0 = json_array_get(res, 0), *r1 = json_array_get(res, 1), *r2 = json_array_get(res, 2),
               *r3 = json_array_get(res, 3), *r4 = json_array_get(res, 4);
        CHECK(json_integer_value(json_object_get(r0, "id")) == 1 && json_object_get(r0, "result"));
        CHECK(json_is_string(json_object_get(r1, "id")) && strcmp(json_string_value(json_object_get(r1, "id")), "two") == 0);
        CHECK(json_array_size(json_object_get(json_object_get(r1, "result"), "portfolios")) == 1);
        CHECK(json_is_null(json_object_get(r2, "id")));
        CHECK(int_at(r2, "error.code") == TWOSPEED_RPC_INVALID_REQUEST);
        CHECK(json_integer_value(json_object_get(r3, "id")) == 3);
        CHECK(int_at(r3, "result.entity.size") == 8);
        CHECK(json_integer_value(json_object_get(r4, "id")) == 4);
        CHECK(int_at(r4, "error.code") == TWOSPEED_RPC_METHOD_NOT_FOUND);
    }
    json_decref(res);

    /* A lone notification: "". It still runs: a notification that writes is applied. */
    char *text = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"}");
    CHECK(text != NULL && strcmp(text, "") == 0);
    twospeed_free(text);
    text = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such.method\",\"params\":[1,2]}");
    CHECKF(text != NULL && strcmp(text, "") == 0, "an erroneous notification answered %s", clip(text));
    twospeed_free(text);
    text = twospeed_call(eng,
                         "{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"retailer\","
                         "\"metric\":\"nps\",\"observations\":[{\"at\":\"2026-12-31\",\"value\":27}]}}");
    CHECK(text != NULL && strcmp(text, "") == 0);
    twospeed_free(text);
    e = RESULT(eng, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "retailer", "kind", "metric", "id", "nps"));
    CHECKF(json_array_size(json_object_get(json_object_get(e, "entity"), "observations")) == 2,
           "the metric.observe notification was not applied");
    json_decref(e);

    /* A batch of notifications only: "". */
    text = twospeed_call(eng,
                         "[{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\"},"
                         "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.list\",\"params\":{}},"
                         "{\"jsonrpc\":\"2.0\",\"method\":\"no.such.method\"}]");
    CHECKF(text != NULL && strcmp(text, "") == 0, "a batch of notifications answered %s", clip(text));
    twospeed_free(text);

    /* portfolio.put again: same id, revision up, created false. */
    json_t *info_before = RESULT(eng, "engine.info", NULL);
    put = put_portfolio(eng, doc);
    CHECK(json_is_false(json_object_get(put, "created")));
    CHECK(int_at(put, "revision") == 3);
    json_decref(put);
    json_t *info_after = RESULT(eng, "engine.info", NULL);
    CHECK(int_at(info_after, "portfolios") == 1);
    CHECK(int_at(info_after, "counts.observations") == int_at(info_before, "counts.observations") - 1);
    json_decref(info_before);
    json_decref(info_after);
}

/* MARK: errors */

static char *repeat(const char *head, char c, size_t n, const char *tail) {
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + n + t + 1);
    if (!s) return NULL;
    memcpy(s, head, h);
    memset(s + h, c, n);
    memcpy(s + h + n, tail, t + 1);
    return s;
}

static void check_parse_data(json_t *res) {
    json_t *data = json_object_get(json_object_get(res, "error"), "data");
    CHECK(json_is_string(json_object_get(data, "reason")));
    CHECK(json_is_integer(json_object_get(data, "line")));
    CHECK(json_is_integer(json_object_get(data, "column")));
    CHECK(json_is_integer(json_object_get(data, "position")));
}

#define UPSERT_PRODUCT(entity) \
    "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\",\"entity\":" \
    entity "},\"id\":9}"

static void test_errors(twospeed_engine *eng) {
    json_t *res;

    /* -32700 Parse error: the id is null, data has reason, line, column, position. */
    res = expect_error_at(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1", TWOSPEED_RPC_PARSE_ERROR, NULL, "null",
                          __FILE__, __LINE__);
    check_parse_data(res);
    json_decref(res);
    EXPECT_ERROR(eng, "", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "   ", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "not json", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1} trailing", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "[{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1},]", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "{'jsonrpc':'2.0'}", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    /* invalid UTF-8 */
    EXPECT_ERROR(eng, "\xff", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"utf8\",\"name\":\"bad \xff byte\",\"status\":\"idea\"}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"utf8\",\"name\":\"overlong \xc0\xaf\",\"status\":\"idea\"}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"utf8\",\"name\":\"surrogate \xed\xa0\x80\",\"status\":\"idea\"}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"utf8\",\"name\":\"lone \\ud800 escape\",\"status\":\"idea\"}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    /* nesting 100000 deep */
    char *deep = repeat("", '[', 100000, "");
    res = expect_error_at(eng, deep, TWOSPEED_RPC_PARSE_ERROR, NULL, "null", __FILE__, __LINE__);
    check_parse_data(res);
    json_decref(res);
    free(deep);
    deep = malloc(200001);
    if (deep) {
        memset(deep, '[', 100000);
        memset(deep + 100000, ']', 100000);
        deep[200000] = 0;
        EXPECT_ERROR(eng, deep, TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
        free(deep);
    }
    deep = repeat(UPSERT_PRODUCT("{\"id\":\"deep\",\"name\":\"Deep\",\"status\":\"idea\",\"problem\":"), '[', 100000, "");
    EXPECT_ERROR(eng, deep, TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    free(deep);
    /* Nesting of 2049 is refused, while 2000 parses (and then fails as a request). */
    {
        char *s = malloc(2 * 2049 + 1);
        memset(s, '[', 2049);
        memset(s + 2049, ']', 2049);
        s[2 * 2049] = 0;
        EXPECT_ERROR(eng, s, TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
        free(s);
        /* 2000 deep inside params parses, then fails validation (engine.info takes no params) without
           the validator following the nesting. */
        char *p = repeat("{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":8,\"params\":", '[', 2000, "");
        char *q = repeat(p, ']', 2000, "}");
        EXPECT_ERROR(eng, q, TWOSPEED_RPC_INVALID_PARAMS, "/0", "8");
        free(p);
        free(q);
    }
    /* duplicate keys */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1,\"id\":2}", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"dup\",\"name\":\"One\",\"name\":\"Two\",\"status\":\"idea\"}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    /* numbers out of range */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1e400}", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":123456789012345678901234567890}",
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"big\",\"name\":\"Big\",\"status\":\"idea\",\"value\":1e400}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"big\",\"name\":\"Big\",\"status\":\"idea\",\"value\":123456789012345678901234567890}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"nan\",\"name\":\"NaN\",\"status\":\"idea\",\"value\":NaN}"),
                 TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    /* A raw NUL byte: the C string ends there, and what is left is not JSON. */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\0\"id\":1}", TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"nul\",\"name\":\"A\0B\",\"status\":\"idea\"}"), TWOSPEED_RPC_PARSE_ERROR, NULL, "null");
    /* ... and text after a NUL that ends a whole request is never read. */
    res = CALL(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}\0garbage");
    CHECK(json_object_get(res, "result") != NULL);
    json_decref(res);

    /* -32600 Invalid Request */
    EXPECT_ERROR(eng, "[]", TWOSPEED_RPC_INVALID_REQUEST, "", "null");
    EXPECT_ERROR(eng, " [ ] ", TWOSPEED_RPC_INVALID_REQUEST, "", "null");
    EXPECT_ERROR(eng, "42", TWOSPEED_RPC_INVALID_REQUEST, "", "null");
    EXPECT_ERROR(eng, "\"engine.info\"", TWOSPEED_RPC_INVALID_REQUEST, "", "null");
    EXPECT_ERROR(eng, "null", TWOSPEED_RPC_INVALID_REQUEST, "", "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":{}}", TWOSPEED_RPC_INVALID_REQUEST, "/id", "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":{\"a\":1}}", TWOSPEED_RPC_INVALID_REQUEST, "/id", "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":[1]}", TWOSPEED_RPC_INVALID_REQUEST, "/id", "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":true}", TWOSPEED_RPC_INVALID_REQUEST, "/id", "null");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"1.0\",\"method\":\"engine.info\",\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST, "/jsonrpc", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":2.0,\"method\":\"engine.info\",\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST, "/jsonrpc", "1");
    EXPECT_ERROR(eng, "{\"method\":\"engine.info\",\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST, "/jsonrpc", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":42,\"id\":\"x\"}", TWOSPEED_RPC_INVALID_REQUEST, "/method", "\"x\"");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST, "/method", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST, "/method", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"params\":\"x\",\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST,
                 "/params", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"params\":null,\"id\":1}", TWOSPEED_RPC_INVALID_REQUEST,
                 "/params", "1");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"params\":{},\"id\":1,\"extra\":true}",
                 TWOSPEED_RPC_INVALID_REQUEST, "/extra", "1");
    EXPECT_ERROR(eng, "[{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1,\"extra\":true}]", TWOSPEED_RPC_INVALID_REQUEST,
                 "/extra", "1");

    /* -32601 Method not found: data.method names it. */
    res = expect_error_at(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.destroy\",\"params\":{\"id\":\"retailer\"},\"id\":11}",
                          TWOSPEED_RPC_METHOD_NOT_FOUND, "/method", "11", __FILE__, __LINE__);
    const char *m = json_string_value(json_object_get(json_object_get(json_object_get(res, "error"), "data"), "method"));
    CHECK(m && strcmp(m, "portfolio.destroy") == 0);
    json_decref(res);
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":12}", TWOSPEED_RPC_METHOD_NOT_FOUND, "/method", "12");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"ENGINE.INFO\",\"id\":13}", TWOSPEED_RPC_METHOD_NOT_FOUND, "/method", "13");

    /* -32602 Invalid params, data.pointer at the first failure, data.errors listing all. */
    /* wrong type */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":5},\"id\":20}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/id", "20");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"typed\",\"name\":\"Typed\",\"status\":\"idea\",\"resources\":\"many\"}"),
                 TWOSPEED_RPC_INVALID_PARAMS, "/entity/resources", "9");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("[\"not\",\"an\",\"object\"]"), TWOSPEED_RPC_INVALID_PARAMS, "/entity", "9");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"typed\",\"name\":\"Typed\",\"status\":\"finished\"}"), TWOSPEED_RPC_INVALID_PARAMS,
                 "/entity/status", "9");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"bad id!\",\"name\":\"Typed\",\"status\":\"idea\"}"), TWOSPEED_RPC_INVALID_PARAMS,
                 "/entity/id", "9");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"gadget\",\"id\":\"x\"},\"id\":21}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/kind", "21");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"retailer\",\"metric\":\"nps\","
                      "\"observations\":[{\"at\":\"2026-13-45\",\"value\":1}]},\"id\":22}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/observations/0/at", "22");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"retailer\",\"metric\":\"nps\","
                      "\"observations\":[]},\"id\":23}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/observations", "23");
    /* by position: the pointer names the position */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":[5],\"id\":24}", TWOSPEED_RPC_INVALID_PARAMS, "/0",
                 "24");
    /* unknown field */
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"extra\",\"name\":\"Extra\",\"status\":\"idea\",\"colour\":\"red\"}"),
                 TWOSPEED_RPC_INVALID_PARAMS, "/entity/colour", "9");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"retailer\",\"verbose\":true},\"id\":25}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/verbose", "25");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"params\":{\"x\":1},\"id\":26}", TWOSPEED_RPC_INVALID_PARAMS,
                 "/x", "26");
    /* missing required field */
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"nostatus\",\"name\":\"No status\"}"), TWOSPEED_RPC_INVALID_PARAMS, "/entity/status",
                 "9");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{},\"id\":27}", TWOSPEED_RPC_INVALID_PARAMS, "/id",
                 "27");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"id\":28}", TWOSPEED_RPC_INVALID_PARAMS, "/id", "28");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":{\"id\":\"x\"}},\"id\":29}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/portfolio/organization", "29");
    /* unresolved reference */
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"orphan\",\"name\":\"Orphan\",\"status\":\"idea\",\"owner\":\"nobody\"}"),
                 TWOSPEED_RPC_INVALID_PARAMS, "/entity/owner", "9");
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"orphan\",\"name\":\"Orphan\",\"status\":\"idea\",\"stages\":[\"online-shopping/nowhere\"]}"),
                 TWOSPEED_RPC_INVALID_PARAMS, "/entity/stages/0", "9");
    EXPECT_ERROR(eng,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":{\"id\":\"other\",\"organization\":{\"name\":\"O\"},"
                 "\"products\":[{\"id\":\"p\",\"name\":\"P\",\"status\":\"idea\",\"owner\":\"ghost\"}]}},\"id\":30}",
                 TWOSPEED_RPC_INVALID_PARAMS, "/portfolio/products/0/owner", "30");
    /* several failures: data.errors lists each */
    res = expect_error_at(eng, UPSERT_PRODUCT("{\"id\":\"many\",\"name\":\"\",\"status\":\"nope\",\"value\":-1,\"extra\":0}"),
                          TWOSPEED_RPC_INVALID_PARAMS, NULL, "9", __FILE__, __LINE__);
    CHECKF(json_array_size(json_object_get(json_object_get(json_object_get(res, "error"), "data"), "errors")) == 4,
           "data.errors has %zu entries",
           json_array_size(json_object_get(json_object_get(json_object_get(res, "error"), "data"), "errors")));
    json_decref(res);

    /* -32000 Not found */
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"no-such-portfolio\"},\"id\":40}",
                 TWOSPEED_RPC_NOT_FOUND, "/id", "40");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\",\"id\":\"nope\"},\"id\":41}",
                 TWOSPEED_RPC_NOT_FOUND, "/id", "41");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.delete\",\"params\":{\"id\":\"no-such-portfolio\"},\"id\":42}",
                 TWOSPEED_RPC_NOT_FOUND, "/id", "42");
    EXPECT_ERROR(eng,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"nowhere\",\"kind\":\"product\","
                 "\"entity\":{\"id\":\"x\",\"name\":\"X\",\"status\":\"idea\"}},\"id\":43}",
                 TWOSPEED_RPC_NOT_FOUND, "/portfolio", "43");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"retailer\",\"metric\":\"nope\","
                      "\"observations\":[{\"at\":\"2026-01-01\",\"value\":1}]},\"id\":44}",
                 TWOSPEED_RPC_NOT_FOUND, "/metric", "44");
    EXPECT_ERROR(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.remove\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"team\",\"id\":\"nope\"},\"id\":45}",
                 TWOSPEED_RPC_NOT_FOUND, "/id", "45");

    /* -32001 Conflict: removing a manager that products, teams and systems still reference */
    res = expect_error_at(eng,
                          "{\"jsonrpc\":\"2.0\",\"method\":\"entity.remove\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"manager\","
                          "\"id\":\"pm-checkout\"},\"id\":50}",
                          TWOSPEED_RPC_CONFLICT, "/id", "50", __FILE__, __LINE__);
    CHECK(json_array_size(json_object_get(json_object_get(json_object_get(res, "error"), "data"), "errors")) >= 1);
    json_decref(res);
    EXPECT_ERROR(eng,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"entity.remove\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"system\","
                 "\"id\":\"erp\"},\"id\":51}",
                 TWOSPEED_RPC_CONFLICT, "/id", "51");

    /* -32003 Too large: a ~100 MiB string value inside a request, refused unread (so the id is null). */
    {
        const char *head = "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\","
                           "\"entity\":{\"id\":\"huge\",\"status\":\"idea\",\"name\":\"";
        const char *tail = "\"}},\"id\":60}";
        char *huge = repeat(head, 'x', (size_t)100 << 20, tail);
        CHECK(huge != NULL);
        if (huge) {
            res = expect_error_at(eng, huge, TWOSPEED_RPC_TOO_LARGE, NULL, "null", __FILE__, __LINE__);
            json_t *limit = json_object_get(json_object_get(json_object_get(res, "error"), "data"), "limit");
            CHECKF(json_integer_value(limit) == 64 << 20, "data.limit is %lld", (long long)json_integer_value(limit));
            json_decref(res);
            /* Just over the limit, and just under it (then it fails validation: a name is up to 500 characters). */
            size_t over = ((size_t)64 << 20) + 1 - strlen(head) - strlen(tail);
            memcpy(huge + strlen(head) + over, tail, strlen(tail) + 1);
            CHECK(strlen(huge) == ((size_t)64 << 20) + 1);
            EXPECT_ERROR(eng, huge, TWOSPEED_RPC_TOO_LARGE, NULL, "null");
            memcpy(huge + strlen(head) + over - 1, tail, strlen(tail) + 1);
            CHECK(strlen(huge) == (size_t)64 << 20);
            EXPECT_ERROR(eng, huge, TWOSPEED_RPC_INVALID_PARAMS, "/entity/name", "60");
            free(huge);
        }
    }

    /* -32005 Revision mismatch: data.revision is the current one. */
    json_t *got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "retailer"));
    json_int_t rev = int_at(got, "revision");
    char req[1024];
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\","
             "\"entity\":{\"id\":\"late\",\"name\":\"Late\",\"status\":\"idea\"},\"ifRevision\":%lld},\"id\":70}",
             (long long)(rev - 1));
    res = expect_error_at(eng, req, TWOSPEED_RPC_REVISION_MISMATCH, "/ifRevision", "70", __FILE__, __LINE__);
    CHECK(int_at(res, "error.data.revision") == rev);
    json_decref(res);
    json_t *put = json_pack("{s:s, s:s, s:{s:O, s:I}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params", "portfolio",
                            json_object_get(got, "portfolio"), "ifRevision", (json_int_t)(rev + 5), "id", 71);
    char *text = json_dumps(put, JSON_COMPACT);
    EXPECT_ERROR(eng, text, TWOSPEED_RPC_REVISION_MISMATCH, "/ifRevision", "71");
    free(text);
    json_decref(put);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.delete\",\"params\":{\"id\":\"retailer\",\"ifRevision\":0},\"id\":72}");
    EXPECT_ERROR(eng, req, TWOSPEED_RPC_REVISION_MISMATCH, "/ifRevision", "72");
    /* ... and the matching revision works. */
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"retailer\",\"kind\":\"product\","
             "\"entity\":{\"id\":\"on-time\",\"name\":\"On time\",\"status\":\"idea\"},\"ifRevision\":%lld},\"id\":73}",
             (long long)rev);
    res = CALL(eng, req);
    CHECK(int_at(res, "result.revision") == rev + 1);
    CHECK(json_is_true(json_object_get(json_object_get(res, "result"), "created")));
    json_decref(res);
    json_decref(got);

    /* An error inside a batch is answered in its place; the other requests still run. */
    res = CALL(eng,
               "[{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"nope\"},\"id\":1},"
               "{\"jsonrpc\":\"1.0\",\"method\":\"engine.info\",\"id\":2},"
               "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":3}]");
    CHECK(json_array_size(res) == 3);
    CHECK(int_at(json_array_get(res, 0), "error.code") == TWOSPEED_RPC_NOT_FOUND);
    CHECK(int_at(json_array_get(res, 1), "error.code") == TWOSPEED_RPC_INVALID_REQUEST);
    CHECK(json_object_get(json_array_get(res, 2), "result") != NULL);
    json_decref(res);
}

/* MARK: U+0000 inside a string */

static void test_nul_escape(twospeed_engine *eng) {
    json_t *info0 = RESULT(eng, "engine.info", NULL);
    json_t *res = CALL(eng, UPSERT_PRODUCT("{\"id\":\"nul-name\",\"name\":\"A\\u0000B\",\"status\":\"idea\"}"));
    CHECKF(json_object_get(res, "result") != NULL, "a \\u0000 escape in a name was refused");
    CHECK(json_is_true(json_object_get(json_object_get(res, "result"), "created")));
    json_decref(res);
    json_t *info1 = RESULT(eng, "engine.info", NULL);
    CHECK(int_at(info1, "counts.products") == int_at(info0, "counts.products") + 1);
    json_decref(info0);
    json_decref(info1);

    /* Read back as text: the response must carry the escape, and jansson (with JSON_ALLOW_NUL) reads 3 bytes. */
    char *text = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"retailer\","
                                    "\"kind\":\"product\",\"id\":\"nul-name\"},\"id\":1}");
    CHECK(text != NULL && strstr(text, "A\\u0000B") != NULL);
    json_t *r = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
    json_t *name = json_object_get(json_object_get(json_object_get(r, "result"), "entity"), "name");
    CHECKF(json_is_string(name) && json_string_length(name) == 3, "name length %zu", json_string_length(name));
    CHECK(json_is_string(name) && memcmp(json_string_value(name), "A\0B", 3) == 0);
    json_decref(r);
    twospeed_free(text);

    /* Read back as values through twospeed_call_json too, and in the whole portfolio. */
    json_t *req = json_pack("{s:s, s:s, s:{s:s}, s:i}", "jsonrpc", "2.0", "method", "portfolio.get", "params", "id", "retailer", "id", 2);
    r = twospeed_call_json(eng, req);
    json_t *products = json_object_get(json_object_get(json_object_get(r, "result"), "portfolio"), "products");
    json_t *last = json_array_get(products, json_array_size(products) - 1);
    CHECK(json_string_length(json_object_get(last, "name")) == 3);
    json_decref(r);
    json_decref(req);

    /* A name given as a jansson value with an embedded NUL is the same. */
    json_t *ent = json_pack("{s:s, s:s#, s:s}", "id", "nul-name-2", "name", "X\0Y\0Z", (size_t)5, "status", "idea");
    req = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:i}", "jsonrpc", "2.0", "method", "entity.upsert", "params", "portfolio",
                    "retailer", "kind", "product", "entity", ent, "id", 3);
    r = twospeed_call_json(eng, req);
    CHECK(json_object_get(r, "result") != NULL);
    json_decref(r);
    json_decref(req);
    json_t *e = RESULT(eng, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "retailer", "kind", "product", "id", "nul-name-2"));
    name = json_object_get(json_object_get(e, "entity"), "name");
    CHECK(json_string_length(name) == 5 && memcmp(json_string_value(name), "X\0Y\0Z", 5) == 0);
    json_decref(e);

    /* A \u0000 in an identifier is not an identifier. */
    EXPECT_ERROR(eng, UPSERT_PRODUCT("{\"id\":\"a\\u0000b\",\"name\":\"N\",\"status\":\"idea\"}"), TWOSPEED_RPC_INVALID_PARAMS,
                 "/entity/id", "9");
}

/* MARK: threads */

#define NTHREADS 8
#define NCALLS 200

struct worker {
    twospeed_engine *eng;
    int index;
    int calls, errors, bad_results;
    char first_error[512];
};

static void note_error(struct worker *w, const char *req, const char *res) {
    w->errors++;
    if (!w->first_error[0]) snprintf(w->first_error, sizeof w->first_error, "%.200s -> %.280s", req, res ? res : "(null)");
}

static void *work(void *arg) {
    struct worker *w = arg;
    char req[1024];
    for (int i = 0; i < NCALLS; i++) {
        int k = i / 4;
        switch (i % 4) {
        case 0:
            snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"shared\",\"kind\":\"product\","
                     "\"entity\":{\"id\":\"t%d-p%d\",\"name\":\"Product %d of thread %d\",\"status\":\"idea\",\"owner\":\"boss\"}},\"id\":%d}",
                     w->index, k, k, w->index, i);
            break;
        case 1:
            snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"shared\",\"kind\":\"product\","
                     "\"id\":\"t%d-p%d\"},\"id\":%d}",
                     w->index, k, i);
            break;
        case 2:
            snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":%d}", i);
            break;
        default:
            snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"shared\",\"metric\":\"m\","
                     "\"observations\":[{\"at\":\"2026-01-01T00:00:00Z\",\"value\":%d,\"source\":\"thread %d\"}]},\"id\":%d}",
                     w->index * 1000 + k, w->index, i);
            break;
        }
        char *text = twospeed_call(w->eng, req);
        w->calls++;
        json_t *res = text ? json_loads(text, PARSE_FLAGS, NULL) : NULL;
        json_t *result = json_object_get(res, "result");
        if (!result || json_integer_value(json_object_get(res, "id")) != i) {
            note_error(w, req, text);
        } else if (i % 4 == 1) {
            /* This thread's own write is visible to its next read. */
            const char *name = json_string_value(json_object_get(json_object_get(result, "entity"), "name"));
            char want[100];
            snprintf(want, sizeof want, "Product %d of thread %d", k, w->index);
            if (!name || strcmp(name, want) != 0) w->bad_results++;
        } else if (i % 4 == 3) {
            if (int_at(result, "appended") != 1 || int_at(result, "total") < k + 1) w->bad_results++;
        }
        json_decref(res);
        twospeed_free(text);
    }
    return NULL;
}

static void test_threads(const char *path) {
    twospeed_engine *eng = NULL;
    int rc = twospeed_open(path, &eng);
    CHECKF(rc == TWOSPEED_OK, "open %s: %d", path ? path : "(memory)", rc);
    if (rc != TWOSPEED_OK) return;
    json_t *res = CALL(eng,
                       "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.put\",\"params\":{\"portfolio\":{\"id\":\"shared\","
                       "\"organization\":{\"name\":\"Shared Co\"},\"managers\":[{\"id\":\"boss\",\"name\":\"The Boss\"}],"
                       "\"metrics\":[{\"id\":\"m\",\"name\":\"Throughput\",\"category\":\"other\"}]}},\"id\":1}");
    CHECK(int_at(res, "result.revision") == 1);
    json_decref(res);

    pthread_t tid[NTHREADS];
    struct worker w[NTHREADS];
    int started[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].eng = eng;
        w[t].index = t;
        started[t] = pthread_create(&tid[t], NULL, work, &w[t]) == 0;
        CHECK(started[t]);
    }
    int calls = 0, errors = 0, bad = 0;
    for (int t = 0; t < NTHREADS; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        calls += w[t].calls;
        errors += w[t].errors;
        bad += w[t].bad_results;
        if (w[t].errors) fprintf(stderr, "    thread %d, first error: %s\n", t, w[t].first_error);
    }
    CHECK(calls == NTHREADS * NCALLS);
    CHECKF(errors == 0, "%d of %d concurrent calls failed", errors, calls);
    CHECKF(bad == 0, "%d concurrent calls returned a wrong result", bad);

    /* Every write is there, exactly once. */
    const int per = NCALLS / 4;
    json_t *list = RESULT(eng, "entity.list", json_pack("{s:s, s:s}", "portfolio", "shared", "kind", "product"));
    json_t *ents = json_object_get(list, "entities");
    CHECKF(json_array_size(ents) == (size_t)(NTHREADS * per), "%zu products, expected %d", json_array_size(ents), NTHREADS * per);
    int found = 0;
    for (int t = 0; t < NTHREADS; t++) {
        for (int k = 0; k < per; k++) {
            char id[40];
            snprintf(id, sizeof id, "t%d-p%d", t, k);
            size_t i;
            json_t *e;
            json_array_foreach(ents, i, e) {
                const char *eid = json_string_value(json_object_get(e, "id"));
                if (eid && strcmp(eid, id) == 0) {
                    found++;
                    break;
                }
            }
        }
    }
    CHECKF(found == NTHREADS * per, "found %d of %d products", found, NTHREADS * per);
    json_decref(list);
    json_t *m = RESULT(eng, "entity.get", json_pack("{s:s, s:s, s:s}", "portfolio", "shared", "kind", "metric", "id", "m"));
    json_t *obs = json_object_get(json_object_get(m, "entity"), "observations");
    CHECKF(json_array_size(obs) == (size_t)(NTHREADS * per), "%zu observations, expected %d", json_array_size(obs), NTHREADS * per);
    /* Each thread's observations appear in the order it sent them. */
    int last[NTHREADS], ordered = 1;
    for (int t = 0; t < NTHREADS; t++) last[t] = -1;
    size_t i;
    json_t *o;
    json_array_foreach(obs, i, o) {
        int v = (int)json_number_value(json_object_get(o, "value"));
        int t = v / 1000, k = v % 1000;
        if (t < 0 || t >= NTHREADS || k != last[t] + 1) ordered = 0;
        else last[t] = k;
    }
    CHECK(ordered);
    json_decref(m);
    json_t *got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "shared"));
    CHECKF(int_at(got, "revision") == 1 + 2 * NTHREADS * per, "revision %lld", (long long)int_at(got, "revision"));
    json_decref(got);
    json_t *info = RESULT(eng, "engine.info", NULL);
    CHECK(int_at(info, "counts.products") == NTHREADS * per);
    CHECK(int_at(info, "counts.observations") == NTHREADS * per);
    json_decref(info);
    twospeed_close(eng);

    if (path) {
        /* What the threads wrote is in the file. */
        eng = NULL;
        CHECK(twospeed_open(path, &eng) == TWOSPEED_OK);
        info = RESULT(eng, "engine.info", NULL);
        CHECK(int_at(info, "counts.products") == NTHREADS * per);
        CHECK(int_at(info, "counts.observations") == NTHREADS * per);
        json_decref(info);
        got = RESULT(eng, "portfolio.get", json_pack("{s:s}", "id", "shared"));
        CHECK(int_at(got, "revision") == 1 + 2 * NTHREADS * per);
        json_decref(got);
        twospeed_close(eng);
    }
}

/* MARK: main */

/* MARK: deep nesting on a small stack */

struct deep_call {
    twospeed_engine *eng;
    const char *request;
    char *response;
};

static void *deep_worker(void *arg) {
    struct deep_call *c = arg;
    c->response = twospeed_call(c->eng, c->request);
    return NULL;
}

/*
** Nesting up to the parser's limit (2048), in every param of every method, answered with an error and
** no crash on a thread with the stack the header asks for (256 KiB), not only on glibc's 8 MiB.
*/
static void test_deep_nesting_on_a_small_stack(twospeed_engine *eng) {
    char *discover = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"rpc.discover\",\"id\":1}");
    json_t *d = discover ? json_loads(discover, 0, NULL) : NULL;
    twospeed_free(discover);
    json_t *methods = json_object_get(json_object_get(d, "result"), "methods");
    if (!CHECK(json_array_size(methods) > 20)) { json_decref(d); return; }
    enum { DEPTH = 2040 };
    size_t calls = 0;
    for (size_t i = 0; i < json_array_size(methods); i++) {
        json_t *m = json_array_get(methods, i);
        const char *name = json_string_value(json_object_get(m, "name"));
        json_t *params = json_object_get(m, "params");
        /* Each param in turn nested DEEP levels (arrays, then objects), the others absent. */
        for (size_t k = 0; k < json_array_size(params) + 1; k++) {
            for (int shape = 0; shape < 2; shape++) {
                const char *param = k < json_array_size(params) ? json_string_value(json_object_get(json_array_get(params, k), "name")) : "unknown";
                size_t n = strlen(name) + strlen(param) + (size_t)DEPTH * 8 + 100;
                char *req = malloc(n), *p = req;
                p += sprintf(p, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":{\"%s\":", name, param);
                for (int j = 0; j < DEPTH; j++) p += sprintf(p, shape ? "{\"a\":" : "[");
                if (shape) *p++ = '0';
                for (int j = 0; j < DEPTH; j++) *p++ = shape ? '}' : ']';
                strcpy(p, "}}");
                struct deep_call c = {eng, req, NULL};
                pthread_attr_t attr;
                pthread_t t;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                if (CHECK(pthread_create(&t, &attr, deep_worker, &c) == 0)) pthread_join(t, NULL);
                pthread_attr_destroy(&attr);
                json_t *r = c.response ? json_loads(c.response, 0, NULL) : NULL;
                CHECKF(r && json_object_get(r, "error") && json_integer_value(json_object_get(r, "id")) == 7,
                       "%s with %s nested %d deep: %.200s", name, param, DEPTH, c.response ? c.response : "(null)");
                json_decref(r);
                twospeed_free(c.response);
                free(req);
                calls++;
            }
        }
    }
    CHECKF(calls > 100, "only %zu deep calls", calls);
    json_decref(d);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/twospeed-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }

    test_version_and_errstr();
    test_open();
    test_open_error();
    test_null_arguments();
    test_call_rc();
    test_call_json();

    twospeed_engine *eng = NULL;
    CHECK(twospeed_open(":memory:", &eng) == TWOSPEED_OK);
    json_t *doc = load_retailer();
    if (eng && doc) {
        test_calls(eng, doc);
        test_errors(eng);
        test_nul_escape(eng);
        test_deep_nesting_on_a_small_stack(eng);
    }
    json_decref(doc);
    twospeed_close(eng);

    test_threads(NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/threads.db", tmpdir);
    test_threads(path);

    remove_tree(tmpdir);
    struct stat st;
    CHECK(stat(tmpdir, &st) != 0);

    printf("%d passed, %d failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
