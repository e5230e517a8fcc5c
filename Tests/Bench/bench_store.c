/*
** bench_store: what keeping a portfolio costs, beside the floors of issue 12, at each scale.
**
** usage: bench_store DIR [SCALE...]   (DIR holds synthetic-SCALE.json written by synth_portfolio.py)
**
**   put    portfolio.put of the document (as request text) into a new store file, beside
**          floor A: jansson parsing the document, and
**          floor B: a plain program that parses it and inserts the same rows (one per entity, its JSON
**          text, one per observation) into SQLite in one transaction, in WAL mode with synchronous=FULL
**   peak   the memory the put adds at its peak, beside jansson's parse peak of the same document
**   open   twospeed_open of that store (loading every portfolio it holds), beside floor A
**
** Each measurement runs in a fresh process of this program (argv[1] = "-child"), so that one
** measurement's heap does not carry into the next and peaks are the operation's own: the peak is
** VmHWM after the operation less VmRSS before it, with the high-water mark reset first
** (/proc/self/clear_refs). Times are medians of three runs (one at documents over 50 MB).
*/
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "twospeed.h"
#include "bench_util.h"

static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n)) { v = atol(line + n + 1); break; }
    if (f) fclose(f);
    return v;
}

static void reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { fputs("5", f); fclose(f); }
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_store: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void exec_sql(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die(sql, err);
}

/* Floor B: parse, then one row per entity and per observation, in one transaction. */
static double sqlite_floor(const char *text, size_t len, const char *dbpath) {
    double t0 = now_ms();
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (!doc) die("parse", jerr.text);
    sqlite3 *db;
    unlink(dbpath);
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) die("open", dbpath);
    exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE entity (portfolio TEXT, kind TEXT, id TEXT, position INTEGER, body TEXT,"
                 " PRIMARY KEY (portfolio, kind, id)) WITHOUT ROWID;"
                 "CREATE TABLE observation (portfolio TEXT, metric TEXT, seq INTEGER, at TEXT, value REAL, source TEXT,"
                 " PRIMARY KEY (portfolio, metric, seq)) WITHOUT ROWID; BEGIN");
    sqlite3_stmt *ent, *obs;
    sqlite3_prepare_v2(db, "INSERT INTO entity VALUES (?,?,?,?,?)", -1, &ent, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO observation VALUES (?,?,?,?,?,?)", -1, &obs, NULL);
    const char *pid = json_string_value(json_object_get(doc, "id"));
    const char *kinds[] = {"journeys", "products", "managers", "teams", "systems", "metrics", "okrs", "experiments"};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        json_t *arr = json_object_get(doc, kinds[k]);
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            json_t *observations = json_object_get(e, "observations");
            if (observations) {
                json_incref(observations);
                json_object_del(e, "observations");
            }
            char *body = json_dumps(e, JSON_COMPACT);
            sqlite3_bind_text(ent, 1, pid, -1, SQLITE_STATIC);
            sqlite3_bind_text(ent, 2, kinds[k], -1, SQLITE_STATIC);
            sqlite3_bind_text(ent, 3, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ent, 4, (sqlite3_int64)i);
            sqlite3_bind_text(ent, 5, body, -1, free);
            if (sqlite3_step(ent) != SQLITE_DONE) die("insert", sqlite3_errmsg(db));
            sqlite3_reset(ent);
            if (observations) {
                size_t j;
                json_t *o;
                json_array_foreach(observations, j, o) {
                    json_t *src = json_object_get(o, "source");
                    sqlite3_bind_text(obs, 1, pid, -1, SQLITE_STATIC);
                    sqlite3_bind_text(obs, 2, id, -1, SQLITE_STATIC);
                    sqlite3_bind_int64(obs, 3, (sqlite3_int64)j);
                    sqlite3_bind_text(obs, 4, json_string_value(json_object_get(o, "at")), -1, SQLITE_STATIC);
                    sqlite3_bind_double(obs, 5, json_number_value(json_object_get(o, "value")));
                    if (src) sqlite3_bind_text(obs, 6, json_string_value(src), -1, SQLITE_STATIC);
                    else sqlite3_bind_null(obs, 6);
                    if (sqlite3_step(obs) != SQLITE_DONE) die("insert", sqlite3_errmsg(db));
                    sqlite3_reset(obs);
                }
                json_decref(observations);
            }
        }
    }
    exec_sql(db, "COMMIT");
    sqlite3_finalize(ent);
    sqlite3_finalize(obs);
    sqlite3_close(db);
    json_decref(doc);
    return now_ms() - t0;
}

/* One measurement, in this process; prints "ms peak_kib". */
static int child(int argc, char **argv) {
    const char *mode = argv[2];
    if (!strcmp(mode, "open")) {
        twospeed_engine *eng;
        double t0 = now_ms();
        if (twospeed_open(argv[3], &eng) != TWOSPEED_OK) die("twospeed_open", twospeed_open_error());
        printf("%.3f 0\n", now_ms() - t0);
        return 0;
    }
    size_t len;
    char *text = read_file(argv[3], &len);
    if (!text) die("read", argv[3]);
    if (!strcmp(mode, "parse")) {
        long before = status_kib("VmRSS:");
        reset_peak();
        double t0 = now_ms();
        json_error_t err;
        json_t *doc = json_loadb(text, len, 0, &err);
        double t = now_ms() - t0;
        if (!doc) die("parse", err.text);
        printf("%.3f %ld\n", t, status_kib("VmHWM:") - before);
        return 0;
    }
    if (!strcmp(mode, "sqlite")) {
        printf("%.3f 0\n", sqlite_floor(text, len, argv[4]));
        return 0;
    }
    if (!strcmp(mode, "put")) {
        /* The request as a caller sends it: the document inside a JSON-RPC envelope, as text. */
        const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":";
        size_t hl = strlen(head);
        char *req = malloc(hl + len + 3);
        memcpy(req, head, hl);
        memcpy(req + hl, text, len);
        memcpy(req + hl + len, "}}", 3);
        free(text);
        unlink(argv[4]);
        char wal[4200], shm[4200];
        snprintf(wal, sizeof wal, "%s-wal", argv[4]);
        snprintf(shm, sizeof shm, "%s-shm", argv[4]);
        unlink(wal);
        unlink(shm);
        twospeed_engine *eng;
        /* The 10x document is over the default 64 MiB request limit. */
        if (twospeed_open_v2(argv[4], "{\"maxRequestBytes\": 1073741824}", &eng) != TWOSPEED_OK)
            die("twospeed_open_v2", twospeed_open_error());
        long before = status_kib("VmRSS:");
        reset_peak();
        double t0 = now_ms();
        char *out = twospeed_call(eng, req);
        double t = now_ms() - t0;
        if (!out || !strstr(out, "\"result\"")) die("portfolio.put", out);
        printf("%.3f %ld\n", t, status_kib("VmHWM:") - before);
        return 0;
    }
    (void)argc;
    die("unknown mode", mode);
    return 1;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs a child measurement `runs` times; the median time and the median peak. */
static void measure(const char *self, const char *args, int runs, double *ms, double *peak) {
    double t[3], p[3];
    for (int r = 0; r < runs; r++) {
        char cmd[9000];
        snprintf(cmd, sizeof cmd, "'%s' -child %s", self, args);
        FILE *f = popen(cmd, "r");
        if (!f || fscanf(f, "%lf %lf", &t[r], &p[r]) != 2) die("child failed", cmd);
        if (pclose(f) != 0) die("child exited", cmd);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    qsort(p, (size_t)runs, sizeof *p, cmp);
    *ms = t[runs / 2];
    *peak = p[runs / 2];
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "-child")) return child(argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: %s DIR SCALE...\n", argv[0]);
        return 2;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) die("readlink", "/proc/self/exe");
    self[n] = 0;
    char dir[] = "/tmp/bench_store.XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", dir);

    printf("%-6s %10s %10s %8s %10s %8s   %10s %8s   %10s %10s %6s\n", "scale", "parse ms", "sqlite ms", "put ms",
           "put/sqlite", "put/parse", "open ms", "open/parse", "parse MiB", "put MiB", "ratio");
    double prev_open = 0, prev_parse = 0, prev_put = 0, prev_sqlite = 0;
    const char *prev = NULL;
    for (int a = 2; a < argc; a++) {
        char doc[4096], db[4200], floordb[4200], args[9000];
        snprintf(doc, sizeof doc, "%s/synthetic-%s.json", argv[1], argv[a]);
        snprintf(db, sizeof db, "%s/store-%s.db", dir, argv[a]);
        snprintf(floordb, sizeof floordb, "%s/floor-%s.db", dir, argv[a]);
        size_t len = 0;
        char *text = read_file(doc, &len);
        if (!text) die("cannot read", doc);
        free(text);
        int runs = len > 50 * 1000 * 1000 ? 1 : 3;
        double parse, parse_peak, sq, dummy, put, put_peak, open;
        snprintf(args, sizeof args, "parse '%s'", doc);
        measure(self, args, runs, &parse, &parse_peak);
        snprintf(args, sizeof args, "sqlite '%s' '%s'", doc, floordb);
        measure(self, args, runs, &sq, &dummy);
        snprintf(args, sizeof args, "put '%s' '%s'", doc, db);
        measure(self, args, runs, &put, &put_peak);
        snprintf(args, sizeof args, "open '%s'", db);
        measure(self, args, runs, &open, &dummy);
        printf("%-6s %10.1f %10.1f %8.1f %10.2f %8.2f   %10.1f %8.2f   %10.1f %10.1f %6.2f\n", argv[a], parse, sq, put,
               put / sq, put / parse, open, open / parse, parse_peak / 1024, put_peak / 1024, put_peak / parse_peak);
        char figure[256];
        snprintf(figure, sizeof figure, "portfolio.put / SQLite floor, scale %s", argv[a]);
        summary(figure, put / sq, "<= 1.3");
        snprintf(figure, sizeof figure, "portfolio.put peak memory / parse peak, scale %s", argv[a]);
        summary(figure, put_peak / parse_peak, "<= 1.3");
        if (!strcmp(argv[a], "1")) summary("twospeed_open of the 1x store / parse", open / parse, "<= 2");
        if (prev && !strcmp(prev, "1") && !strcmp(argv[a], "10"))
            summary("twospeed_open growth 1x->10x / parse growth", (open / prev_open) / (parse / prev_parse), "<= 1.2");
        if (prev) {
            printf("       from scale %s: open x%.1f, parse x%.1f (open's growth / parse's %.2f); put x%.1f, sqlite x%.1f\n",
                   prev, open / prev_open, parse / prev_parse, (open / prev_open) / (parse / prev_parse), put / prev_put,
                   sq / prev_sqlite);
        }
        prev = argv[a];
        prev_open = open; prev_parse = parse; prev_put = put; prev_sqlite = sq;
        unlink(db);
        unlink(floordb);
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return 0;
}
