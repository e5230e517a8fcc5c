/*
** bench_cascade: deleting a portfolio with 1M delivery events from an SQLite store, beside its floor.
**
** usage: bench_cascade [RETAILER.json [EVENTS]]   (default examples/portfolios/retailer.json, 1,000,000)
**
** A store file is made once: the retailer put through the engine (its entities and observations), a
** second portfolio beside it, and EVENTS delivery events of the retailer written straight into the
** store's tables with SQLite (four deployments to one incident; the engine's delivery.record is not
** what is measured here, bench_delivery measures it). Each run deletes the retailer from a fresh copy:
**
**   delete   portfolio.delete through twospeed_call on an engine opened on the copy (the open not timed)
**   floor    sqlite3 on the copy with foreign keys off, as the store runs (WAL, synchronous=FULL): in one
**            transaction, DELETE the portfolio row and DELETE FROM each table that references it WHERE
**            portfolio = ? (the tables read from the schema): what SQLite alone costs
**   cascade  sqlite3 with foreign keys on, the one DELETE of the portfolio row and its ON DELETE CASCADE:
**            what schema 7's delete did before SQLiteStore deleted table by table (SQLite deletes a table
**            taking part in a foreign key in two passes). Printed, not a target.
**
** Runs take turns (so that a slow spell of the machine falls on all three); figures are medians of RUNS.
** The target: delete at most 1.5 times its floor.
*/
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "twospeed.h"
#include "bench_util.h"

#define RUNS 3

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_cascade: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void exec_ok(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die(sql, err);
}

static char *call_ok(twospeed_engine *eng, const char *request) {
    char *reply = twospeed_call(eng, request);
    if (!reply || !strstr(reply, "\"result\"")) die(request, reply);
    return reply;
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) die("copy", to);
    static char buf[1 << 20];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) die("copy", to);
    fclose(in);
    if (fclose(out) != 0) die("copy", to);
}

static sqlite3 *open_db(const char *path, int foreign_keys) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("open", path);
    exec_ok(db, "PRAGMA journal_mode = WAL");
    exec_ok(db, "PRAGMA synchronous = FULL");
    exec_ok(db, foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
    return db;
}

/* The store file with the retailer, another portfolio and `events` delivery events of the retailer. */
static void make_store(const char *path, const char *retailer_path, long events) {
    size_t len;
    char *doc = read_file(retailer_path, &len);
    if (!doc) die("read", retailer_path);
    twospeed_engine *eng;
    if (twospeed_open(path, &eng) != TWOSPEED_OK) die("twospeed_open", twospeed_open_error());
    const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":";
    char *req = malloc(strlen(head) + len + 3);
    sprintf(req, "%s%s}}", head, doc);
    twospeed_free(call_ok(eng, req));
    twospeed_free(call_ok(eng, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":"
                               "{\"id\":\"other\",\"organization\":{\"name\":\"Other\"}}}}"));
    twospeed_close(eng);
    free(req);
    free(doc);

    sqlite3 *db = open_db(path, 1);
    exec_ok(db, "BEGIN");
    sqlite3_stmt *dep, *inc;
    if (sqlite3_prepare_v2(db, "INSERT INTO deployment (portfolio, id, system, at, failed, changes) VALUES (?, ?, ?, ?, ?, ?)", -1, &dep, NULL)
        || sqlite3_prepare_v2(db, "INSERT INTO incident (portfolio, id, system, started, resolved, cause) VALUES (?, ?, ?, ?, ?, ?)", -1, &inc, NULL))
        die("prepare", sqlite3_errmsg(db));
    char id[48], sys[48], changes[160], cause[48];
    for (long i = 0; i < events; i++) {
        const char *p = i % 1000 == 999 ? "other" : "retailer"; /* a few of the other's, which must stay */
        snprintf(sys, sizeof sys, "system-%ld", i % 200);
        sqlite3_stmt *s = i % 5 == 4 ? inc : dep;
        if (s == dep) {
            snprintf(id, sizeof id, "deploy-%ld", i);
            snprintf(changes, sizeof changes, "%ld:c%ld,%ld:c%ld", 1735689600L + 30 * i - 600, 2 * i, 1735689600L + 30 * i - 300, 2 * i + 1);
            sqlite3_bind_text(s, 3, sys, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(s, 4, 1735689600L + 30 * i);
            sqlite3_bind_int(s, 5, i % 20 == 0);
            sqlite3_bind_text(s, 6, changes, -1, SQLITE_TRANSIENT);
        } else {
            snprintf(id, sizeof id, "incident-%ld", i);
            snprintf(cause, sizeof cause, "deploy-%ld", i - 1);
            sqlite3_bind_text(s, 3, sys, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(s, 4, 1735689600L + 30 * i);
            sqlite3_bind_int64(s, 5, 1735689600L + 30 * i + 3600);
            sqlite3_bind_text(s, 6, cause, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(s, 1, p, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE) die("insert", sqlite3_errmsg(db));
        sqlite3_reset(s);
    }
    sqlite3_finalize(dep);
    sqlite3_finalize(inc);
    exec_ok(db, "COMMIT");
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)"); /* the file alone holds everything: copies are whole */
    sqlite3_close(db);
}

static long count(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) die(sql, sqlite3_errmsg(db));
    long n = (long)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* After a delete: nothing of the retailer left in any table, the other portfolio's events all there. */
static void check(const char *path, long others) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("open", path);
    long left = count(db, "SELECT (SELECT count(*) FROM portfolio WHERE id = 'retailer') + (SELECT count(*) FROM entity WHERE portfolio = 'retailer') "
                          "+ (SELECT count(*) FROM deployment WHERE portfolio = 'retailer') + (SELECT count(*) FROM incident WHERE portfolio = 'retailer')");
    long kept = count(db, "SELECT (SELECT count(*) FROM deployment WHERE portfolio = 'other') + (SELECT count(*) FROM incident WHERE portfolio = 'other')");
    sqlite3_close(db);
    if (left != 0 || kept != others) {
        char msg[128];
        snprintf(msg, sizeof msg, "%ld rows of the retailer left, %ld of the other's %ld events kept", left, kept, others);
        die(path, msg);
    }
}

static double engine_delete(const char *path) {
    twospeed_engine *eng;
    if (twospeed_open(path, &eng) != TWOSPEED_OK) die("twospeed_open", twospeed_open_error());
    double t0 = now_ms();
    char *reply = call_ok(eng, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.delete\",\"params\":{\"id\":\"retailer\"}}");
    double t = now_ms() - t0;
    twospeed_free(reply);
    twospeed_close(eng);
    return t;
}

static double sqlite_delete(const char *path, int cascade) {
    sqlite3 *db = open_db(path, cascade);
    char *tables[32];
    int n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS k "
                               "WHERE m.type = 'table' AND k.\"table\" = 'portfolio' ORDER BY m.name", -1, &s, NULL) != SQLITE_OK)
        die("tables", sqlite3_errmsg(db));
    while (sqlite3_step(s) == SQLITE_ROW && n < 32) tables[n++] = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    double t0 = now_ms();
    exec_ok(db, "BEGIN IMMEDIATE");
    exec_ok(db, "DELETE FROM portfolio WHERE id = 'retailer'");
    for (int i = 0; i < n && !cascade; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE portfolio = 'retailer'", tables[i]);
        exec_ok(db, sql);
    }
    exec_ok(db, "COMMIT");
    double t = now_ms() - t0;
    for (int i = 0; i < n; i++) free(tables[i]);
    sqlite3_close(db);
    return t;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *retailer = argc > 1 ? argv[1] : "examples/portfolios/retailer.json";
    long events = argc > 2 ? atol(argv[2]) : 1000000;
    char dir[] = "/tmp/twospeed-cascade-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", dir);
    char base[256], copy[256];
    snprintf(base, sizeof base, "%s/base.db", dir);
    snprintf(copy, sizeof copy, "%s/run.db", dir);
    make_store(base, retailer, events);
    long others = events / 1000;
    double del[RUNS], flo[RUNS], cas[RUNS];
    for (int r = 0; r < RUNS; r++) {
        for (int k = 0; k < 3; k++) {
            copy_file(base, copy);
            double t = k == 0 ? engine_delete(copy) : sqlite_delete(copy, k == 2);
            check(copy, others);
            (k == 0 ? del : k == 1 ? flo : cas)[r] = t;
            char wal[300];
            snprintf(wal, sizeof wal, "%s-wal", copy); unlink(wal);
            snprintf(wal, sizeof wal, "%s-shm", copy); unlink(wal);
        }
    }
    qsort(del, RUNS, sizeof *del, cmp);
    qsort(flo, RUNS, sizeof *flo, cmp);
    qsort(cas, RUNS, sizeof *cas, cmp);
    double d = del[RUNS / 2], f = flo[RUNS / 2], c = cas[RUNS / 2];
    printf("portfolio.delete of a portfolio with %ld delivery events (SQLite): %.0f ms; floor (sqlite3, the same DELETEs, keys off): %.0f ms; "
           "ratio %.2f (target <= 1.5); the one DELETE with its ON DELETE CASCADE, keys on: %.0f ms (%.2f x the floor)\n",
           events - others, d, f, d / f, c, c / f);
    summary("portfolio delete with 1M delivery events / sqlite3 floor", d / f, "<= 1.5");
    unlink(base);
    unlink(copy);
    rmdir(dir);
    return 0;
}
