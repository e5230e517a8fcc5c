/*
** bench_delivery: delivery events and DORA's four keys at issue 13's size, beside a floor measured in
** the same run.
**
** usage: bench_delivery [DEPLOYMENTS [SYSTEMS [BATCH]]]   (default 1,000,000 deployments over 2,000 systems,
**        BATCH deployments a delivery.record call, default 10,000). jansson's parse of the request text is
**        most of what recording costs and grows worse than linearly with a call's size (freeing a tree of
**        300,000 objects fragments the heap): with 100,000 a call the ratio is about 4 on this machine.
**
**   record   delivery.record of the deployments through twospeed_call, twice: changes in the compact form
**            (an object from change id to commit time) into one store, and as a list of {"id", "committed"}
**            objects into another, as request text built beforehand
**            (BATCH deployments a call, 10,000 by default, as a client streaming its deployment log would
**            send them; each call is one transaction; the text's construction is not timed),
**            into a new store file, beside
**   floor    a plain C program inserting the same rows (same table, same values, the changes column
**            encoded as the store encodes it) into SQLite in one transaction, with a prepared statement,
**            in WAL mode with synchronous=FULL as the store runs: what SQLite alone costs.
**   metrics  delivery.metrics of every system (the last 90 days of the data), beside the limit of one
**            second; then assessment.run with the computed figures laid over the speed tiers.
**
** Each deployment carries two changes; every 20th fails; every 50th causes an incident (recorded apart,
** not timed with the deployments). Deployments are 30 s apart, so a 90-day window holds about a quarter.
*/
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "twospeed.h"

static long BATCH = 10000;
#define BASE 1735689600L /* 2025-01-01T00:00:00Z */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_delivery: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void iso(long t, char *out) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Deployment i: its time, system, whether it failed, its two changes' commit times. */
static long dep_time(long i) { return BASE + i * 30; }
static long dep_system(long i, long systems) { return i % systems; }
static int dep_failed(long i) { return i % 20 == 7; }
static long commit_a(long i) { return dep_time(i) - 3600 - (i % 97) * 60; }
static long commit_b(long i) { return dep_time(i) - 86400 - (i % 13) * 3600; }

/* Appends to a growing buffer. */
typedef struct { char *p; size_t n, cap; } buf;
static void put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die("out of memory", NULL);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static char *call(twospeed_engine *e, const char *req, const char *what) {
    char *r = twospeed_call(e, req);
    if (!r || !strstr(r, "\"result\"")) die(what, r ? r : "NULL reply");
    return r;
}

/* The floor: the same rows, one transaction, a prepared statement. */
static double floor_insert(const char *path, long n, long systems) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("sqlite3_open", path);
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL, NULL);
    const char *ddl = "CREATE TABLE deployment (portfolio TEXT NOT NULL, id TEXT NOT NULL, system TEXT NOT NULL,"
                      " at INTEGER NOT NULL, failed INTEGER NOT NULL, changes TEXT NOT NULL,"
                      " PRIMARY KEY (portfolio, id)) WITHOUT ROWID;";
    if (sqlite3_exec(db, ddl, NULL, NULL, NULL) != SQLITE_OK) die("create", sqlite3_errmsg(db));
    double t0 = now_ms();
    sqlite3_stmt *st;
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "INSERT INTO deployment (portfolio, id, system, at, failed, changes) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) die("prepare", sqlite3_errmsg(db));
    char id[32], sys[32], changes[96];
    for (long i = 0; i < n; i++) {
        int idn = snprintf(id, sizeof id, "d%07ld", i);
        int sn = snprintf(sys, sizeof sys, "s%04ld", dep_system(i, systems));
        int cn = snprintf(changes, sizeof changes, "%ld:c%07ld-a,%ld:c%07ld-b", commit_a(i), i, commit_b(i), i);
        sqlite3_bind_text(st, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, idn, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, sys, sn, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, dep_time(i));
        sqlite3_bind_int64(st, 5, dep_failed(i));
        sqlite3_bind_text(st, 6, changes, cn, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) die("insert", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) die("commit", sqlite3_errmsg(db));
    double t = now_ms() - t0;
    sqlite3_close(db);
    return t;
}

/* Records the n deployments through e in calls of BATCH, the request texts built before the clock
   starts: changes as a list of {"id", "committed"} objects, or (compact) as an object from change id to
   commit time. Returns the time the calls took; *parse gets what jansson alone takes to parse and free
   the same texts (not a floor the issue names: what the JSON costs). */
static double record_all(twospeed_engine *e, long n, long systems, int compact, size_t *bytes, double *parse) {
    long calls = (n + BATCH - 1) / BATCH;
    char **reqs = calloc((size_t)calls, sizeof *reqs);
    buf b = {0};
    char t[32], ca[32], cb[32], tmp[512];
    *bytes = 0;
    for (long c = 0; c < calls; c++) {
        b.n = 0;
        const char *h = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"delivery.record\",\"params\":{\"portfolio\":\"bench\",\"deployments\":[";
        put(&b, h, strlen(h));
        for (long i = c * BATCH; i < n && i < (c + 1) * BATCH; i++) {
            iso(dep_time(i), t); iso(commit_a(i), ca); iso(commit_b(i), cb);
            int k = compact
                ? snprintf(tmp, sizeof tmp, "%s{\"id\":\"d%07ld\",\"system\":\"s%04ld\",\"time\":\"%s\",%s\"changes\":{\"c%07ld-a\":\"%s\","
                           "\"c%07ld-b\":\"%s\"}}",
                           i == c * BATCH ? "" : ",", i, dep_system(i, systems), t, dep_failed(i) ? "\"failed\":true," : "", i, ca, i, cb)
                : snprintf(tmp, sizeof tmp, "%s{\"id\":\"d%07ld\",\"system\":\"s%04ld\",\"time\":\"%s\",%s\"changes\":[{\"id\":\"c%07ld-a\",\"committed\":\"%s\"},"
                           "{\"id\":\"c%07ld-b\",\"committed\":\"%s\"}]}",
                           i == c * BATCH ? "" : ",", i, dep_system(i, systems), t, dep_failed(i) ? "\"failed\":true," : "", i, ca, i, cb);
            put(&b, tmp, (size_t)k);
        }
        put(&b, "]}}", 3);
        reqs[c] = strdup(b.p);
        *bytes += b.n;
    }
    free(b.p);
    double jp = now_ms();
    for (long c = 0; c < calls; c++) {
        json_error_t err;
        json_t *v = json_loads(reqs[c], JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!v) die("json_loads", err.text);
        json_decref(v);
    }
    *parse = now_ms() - jp;
    double t0 = now_ms();
    for (long c = 0; c < calls; c++) {
        char *r = call(e, reqs[c], "delivery.record");
        if (!strstr(r, "\"skipped\":0")) die("events skipped", r);
        free(r);
    }
    double rec = now_ms() - t0;
    for (long c = 0; c < calls; c++) free(reqs[c]);
    free(reqs);
    return rec;
}

/* A figure with its target for the table make bench ends with (Tests/Bench/summary.sh). */
static void summary(const char *figure, double value, const char *target) {
    const char *path = getenv("BENCH_SUMMARY");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f) return;
    fprintf(f, "%s\t%.2f\t%s\n", figure, value, target);
    fclose(f);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long systems = argc > 2 ? atol(argv[2]) : 2000;
    if (argc > 3) BATCH = atol(argv[3]);
    if (n <= 0 || systems <= 0 || BATCH <= 0) die("usage", "bench_delivery [DEPLOYMENTS [SYSTEMS [BATCH]]]");
    char dir[] = "/tmp/bench_delivery.XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", dir);
    char db[256], floordb[256];
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(floordb, sizeof floordb, "%s/floor.db", dir);

    buf pb = {0};
    const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":"
                       "{\"id\":\"bench\",\"organization\":{\"name\":\"Bench\"},\"systems\":[";
    put(&pb, head, strlen(head));
    for (long s = 0; s < systems; s++) {
        char one[160];
        int k = snprintf(one, sizeof one, "%s{\"id\":\"s%04ld\",\"name\":\"System %ld\",\"layer\":\"%s\"}", s ? "," : "", s, s,
                         s % 3 == 0 ? "front-end" : s % 3 == 1 ? "platform" : "back-end");
        put(&pb, one, (size_t)k);
    }
    put(&pb, "]}}}", 4);

    double fl = floor_insert(floordb, n, systems);
    /* Each form records in a child process of its own, from a fresh heap as a daemon starts with, so
       that neither inherits the other's heap (the first to grow it would pay for both): the compact
       form into the store the rest of the bench reads, the list form into another. */
    struct { double rec, parse; size_t bytes; } r[2];
    char db2[300];
    snprintf(db2, sizeof db2, "%s/store-list.db", dir);
    for (int form = 0; form < 2; form++) {
        int fds[2];
        if (pipe(fds) != 0) die("pipe", NULL);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) die("fork", NULL);
        if (pid == 0) {
            close(fds[0]);
            twospeed_engine *ce;
            const char *path = form == 0 ? db : db2;
            if (twospeed_open(path, &ce) != 0) die("twospeed_open", path);
            free(call(ce, pb.p, "portfolio.put"));
            r[form].rec = record_all(ce, n, systems, form == 0, &r[form].bytes, &r[form].parse);
            twospeed_close(ce);
            if (write(fds[1], &r[form], sizeof r[form]) != (ssize_t)sizeof r[form]) _exit(1);
            _exit(0);
        }
        close(fds[1]);
        ssize_t got = read(fds[0], &r[form], sizeof r[form]);
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (got != (ssize_t)sizeof r[form] || status != 0) die("a recording child failed", NULL);
    }
    double rec_map = r[0].rec, jp_map = r[0].parse, rec_list = r[1].rec, jp_list = r[1].parse;
    size_t bytes_map = r[0].bytes, bytes_list = r[1].bytes;
    twospeed_engine *e;
    if (twospeed_open(db, &e) != 0) die("twospeed_open", db);
    buf b = {0};
    char tmp[512];

    /* Incidents: every 50th deployment causes one, resolved 30 min to 8 h later. */
    b.n = 0;
    const char *hi = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"delivery.record\",\"params\":{\"portfolio\":\"bench\",\"incidents\":[";
    put(&b, hi, strlen(hi));
    long incidents = 0;
    for (long i = 3; i < n; i += 50, incidents++) {
        char st[32], rs[32];
        iso(dep_time(i) + 600, st); iso(dep_time(i) + 600 + 1800 + (i % 16) * 1800, rs);
        int k = snprintf(tmp, sizeof tmp, "%s{\"id\":\"i%07ld\",\"system\":\"s%04ld\",\"started\":\"%s\",\"resolved\":\"%s\",\"cause\":\"d%07ld\"}",
                         incidents ? "," : "", i, dep_system(i, systems), st, rs, i);
        put(&b, tmp, (size_t)k);
    }
    put(&b, "]}}", 3);
    double ti = now_ms();
    free(call(e, b.p, "delivery.record incidents"));
    ti = now_ms() - ti;

    /* The four keys of every system: the 90 days up to the last deployment. */
    char until[32], req[512];
    iso(dep_time(n - 1) + 1, until);
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"delivery.metrics\",\"params\":{\"portfolio\":\"bench\",\"until\":\"%s\"}}", until);
    double best = 1e18;
    char *m = NULL;
    for (int run = 0; run < 3; run++) {
        double t1 = now_ms();
        char *r = call(e, req, "delivery.metrics");
        double d = now_ms() - t1;
        if (d < best) best = d;
        free(m);
        m = r;
    }
    json_t *mv = json_loads(m, 0, NULL);
    size_t listed = json_array_size(json_object_get(json_array_get(json_object_get(json_object_get(mv, "result"), "windows"), 0), "systems"));
    json_decref(mv);
    free(m);

    char day[16];
    snprintf(day, sizeof day, "%.10s", until);
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"assessment.run\",\"params\":{\"portfolio\":\"bench\",\"asOf\":\"%s\",\"keep\":false}}", day);
    double ta = now_ms();
    free(call(e, req, "assessment.run"));
    ta = now_ms() - ta;

    long calls = (n + BATCH - 1) / BATCH;
    printf("delivery events: %ld deployments (%ld systems, two changes each), %ld calls of at most %ld, %ld incidents\n",
           n, systems, calls, BATCH, incidents);
    printf("  %-52s %8.0f ms\n", "floor: C inserting the same rows, 1 transaction", fl);
    printf("  %-52s %8.0f ms   ratio %.2f (limit 3)  %s\n", "delivery.record, changes as an id -> time object", rec_map,
           rec_map / fl, rec_map / fl <= 3 ? "ok" : "OVER");
    printf("  %-52s %8.0f ms   ratio %.2f (limit 3)  %s\n", "delivery.record, changes as a list of objects", rec_list,
           rec_list / fl, rec_list / fl <= 3 ? "ok" : "OVER");
    printf("  %-52s %8.0f ms   (%.1f MB of request text), %.0f ms (%.1f MB)\n", "jansson alone parsing and freeing: compact; list",
           jp_map, bytes_map / 1e6, jp_list, bytes_list / 1e6);
    printf("  %-52s %8.0f ms\n", "delivery.record of the incidents", ti);
    printf("  %-52s %8.0f ms   %zu systems; ratio to 1 s %.2f (limit 1)  %s\n", "delivery.metrics, all systems (best of 3)", best,
           listed, best / 1000, best < 1000 ? "ok" : "OVER");
    printf("  %-52s %8.0f ms\n", "assessment.run with the computed figures", ta);
    char figure[160];
    snprintf(figure, sizeof figure, "delivery.record of %ld deployments (compact changes) / C inserting the rows", n);
    summary(figure, rec_map / fl, "<= 3");
    snprintf(figure, sizeof figure, "delivery.record of %ld deployments (list of changes) / C inserting the rows", n);
    summary(figure, rec_list / fl, "<= 3");
    snprintf(figure, sizeof figure, "delivery.metrics of %ld systems / 1 s", systems);
    summary(figure, best / 1000, "<= 1");
    twospeed_close(e);
    free(b.p);
    free(pb.p);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
