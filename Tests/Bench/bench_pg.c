/*
** bench_pg: portfolio.put over PostgreSQL, and reading one entity that is not cached, each beside its
** floor (issue 22).
**
** usage: bench_pg SOCKET_DIR DOCUMENT   (a PostgreSQL server listening in SOCKET_DIR, trust for postgres)
**
**   floor  a plain libpq program that parses the document with jansson and runs the statements
**          PostgresStore runs for a put of a new portfolio: BEGIN; INSERT the portfolio row; DELETE its
**          entities and observations; COPY one row per entity (its JSON text) and one per observation;
**          pg_notify; COMMIT
**   put    twospeed_call of portfolio.put (the request as text) on an engine opened on the same server
**   read   what an engine that has never read the portfolio does for one entity.get: twospeed_open_v2 on a
**          database holding the document (put beforehand, not timed) and the entity.get of one product
**   read floor  a plain libpq program running the statements that engine runs (read from the server's
**          log with log_statement=all): connect and set the session; the schema version check; a second
**          connection that LISTENs for change notices; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY,
**          the portfolio, entity and observation rows, COMMIT; the same for the assessment models; then
**          jansson parses each entity's JSON text (the engine holds the whole portfolio, and so would any
**          program answering from those rows) and the product asked for is written out as the reply
**
** Each run writes into a database of its own, created beforehand and migrated by twospeed_open (not
** timed); times are medians of five runs. Prints both and their ratio, and adds the ratio to make
** bench's closing table. The reads share one database; the issue gives no target of their own, so they
** are held to the put's (at most 1.5 times the floor).
*/
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed.h"
#include "bench_util.h"

#define RUNS 5

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_pg: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void exec_ok(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) die(sql, PQerrorMessage(c));
    PQclear(r);
}

/* Appends text escaped for COPY's text format. */
static void field(char **buf, size_t *len, size_t *cap, const char *text, int first) {
    size_t n = text ? strlen(text) : 2;
    if (*len + 2 * n + 4 > *cap) { *cap = (*cap + 2 * n + 4) * 2; *buf = realloc(*buf, *cap); }
    if (!first) (*buf)[(*len)++] = '\t';
    if (!text) { memcpy(*buf + *len, "\\N", 2); *len += 2; return; }
    for (const char *p = text; *p; p++) {
        char ch = *p;
        if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
            (*buf)[(*len)++] = '\\';
            ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
        }
        (*buf)[(*len)++] = ch;
    }
}

static void copy_end(PGconn *c, char *buf, size_t len) {
    if (PQputCopyData(c, buf, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1) die("copy", PQerrorMessage(c));
    PGresult *r;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die("copy", PQerrorMessage(c));
        PQclear(r);
    }
}

static void copy_begin(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) die(sql, PQerrorMessage(c));
    PQclear(r);
}

static double floor_put(const char *conninfo, const char *text, size_t len) {
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) die("connect", PQerrorMessage(c));
    double t0 = now_ms();
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (!doc) die("parse", jerr.text);
    const char *pid = json_string_value(json_object_get(doc, "id"));
    char *org = json_dumps(json_object_get(doc, "organization"), JSON_COMPACT);
    const char *params[6] = {pid, "1", "2026-12-06T00:00:00Z", org, "[]", "[]"};
    exec_ok(c, "BEGIN");
    PGresult *r = PQexecParams(c, "INSERT INTO portfolio (id, revision, updated, organization, answers, unresolved) "
                                  "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING", 6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("insert", PQerrorMessage(c));
    PQclear(r);
    r = PQexecParams(c, "DELETE FROM entity WHERE portfolio = $1", 1, NULL, &pid, NULL, NULL, 0);
    PQclear(r);
    r = PQexecParams(c, "DELETE FROM observation WHERE portfolio = $1", 1, NULL, &pid, NULL, NULL, 0);
    PQclear(r);
    const char *kinds[] = {"journeys", "products", "managers", "teams", "systems", "metrics", "okrs", "experiments"};
    const char *kindNames[] = {"journey", "product", "manager", "team", "system", "metric", "okr", "experiment"};
    size_t cap = 1 << 20, n = 0, ocap = 1 << 16, on = 0;
    char *buf = malloc(cap), *obuf = malloc(ocap);
    json_t *departments = json_object_get(json_object_get(doc, "organization"), "departments");
    size_t i;
    json_t *e;
    char num[32];
    json_array_foreach(departments, i, e) {
        char *body = json_dumps(e, JSON_COMPACT);
        snprintf(num, sizeof num, "%zu", i);
        field(&buf, &n, &cap, pid, 1); field(&buf, &n, &cap, "department", 0);
        field(&buf, &n, &cap, json_string_value(json_object_get(e, "id")), 0); field(&buf, &n, &cap, num, 0);
        field(&buf, &n, &cap, body, 0); buf[n++] = '\n';
        free(body);
    }
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        json_array_foreach(json_object_get(doc, kinds[k]), i, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            json_t *observations = json_object_get(e, "observations");
            if (observations) { json_incref(observations); json_object_del(e, "observations"); }
            char *body = json_dumps(e, JSON_COMPACT);
            snprintf(num, sizeof num, "%zu", i);
            field(&buf, &n, &cap, pid, 1); field(&buf, &n, &cap, kindNames[k], 0); field(&buf, &n, &cap, id, 0);
            field(&buf, &n, &cap, num, 0); field(&buf, &n, &cap, body, 0); buf[n++] = '\n';
            free(body);
            if (observations) {
                size_t j;
                json_t *o;
                json_array_foreach(observations, j, o) {
                    char v[64], seq[32];
                    snprintf(v, sizeof v, "%.17g", json_number_value(json_object_get(o, "value")));
                    snprintf(seq, sizeof seq, "%zu", j);
                    field(&obuf, &on, &ocap, pid, 1); field(&obuf, &on, &ocap, id, 0); field(&obuf, &on, &ocap, seq, 0);
                    field(&obuf, &on, &ocap, json_string_value(json_object_get(o, "at")), 0); field(&obuf, &on, &ocap, v, 0);
                    field(&obuf, &on, &ocap, json_string_value(json_object_get(o, "source")), 0); obuf[on++] = '\n';
                }
                json_decref(observations);
            }
        }
    }
    copy_begin(c, "COPY entity (portfolio, kind, id, position, body) FROM STDIN");
    copy_end(c, buf, n);
    if (on > 0) {
        copy_begin(c, "COPY observation (portfolio, metric, seq, at, value, source) FROM STDIN");
        copy_end(c, obuf, on);
    }
    const char *notify[2] = {"twospeed", pid};
    r = PQexecParams(c, "SELECT pg_notify($1, $2)", 2, NULL, notify, NULL, NULL, 0);
    PQclear(r);
    exec_ok(c, "COMMIT");
    double t = now_ms() - t0;
    free(buf); free(obuf); free(org);
    json_decref(doc);
    PQfinish(c);
    return t;
}

static double engine_put(const char *uri, const char *text, size_t len) {
    const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"portfolio.put\",\"params\":{\"portfolio\":";
    size_t hl = strlen(head);
    char *req = malloc(hl + len + 3);
    memcpy(req, head, hl);
    memcpy(req + hl, text, len);
    memcpy(req + hl + len, "}}", 3);
    twospeed_engine *eng;
    if (twospeed_open_v2(uri, "{\"maxRequestBytes\": 1073741824}", &eng) != TWOSPEED_OK) die("twospeed_open_v2", twospeed_open_error());
    double t0 = now_ms();
    char *out = twospeed_call(eng, req);
    double t = now_ms() - t0;
    if (!out || !strstr(out, "\"result\"")) die("portfolio.put", out);
    twospeed_free(out);
    twospeed_close(eng);
    free(req);
    return t;
}

static PGresult *query(PGconn *c, const char *sql) {
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) die(sql, PQerrorMessage(c));
    return r;
}

static PGconn *session(const char *conninfo) {
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) die("connect", PQerrorMessage(c));
    exec_ok(c, "SET client_min_messages = warning; SET synchronous_commit = on; SET TIME ZONE 'UTC'");
    return c;
}

/* The floor of an uncached entity.get: the engine's statements (see the head of this file), the
   entities parsed, the one asked for written out. */
static double floor_read(const char *conninfo, const char *kind, const char *id, size_t *reply_len) {
    double t0 = now_ms();
    PGconn *c = session(conninfo);
    PQclear(query(c, "SELECT count(*) FILTER (WHERE tablename = 'twospeed_schema'), count(*) FROM pg_tables WHERE schemaname = current_schema()"));
    PQclear(query(c, "SELECT max(version) FROM twospeed_schema"));
    PGconn *listener = session(conninfo);
    exec_ok(listener, "LISTEN twospeed");
    exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    PGresult *ps = query(c, "SELECT id, revision, updated, organization, answers, unresolved FROM portfolio ORDER BY id");
    PGresult *es = query(c, "SELECT portfolio, kind, body FROM entity ORDER BY portfolio, kind, position");
    PGresult *os = query(c, "SELECT portfolio, metric, at, value, source FROM observation ORDER BY portfolio, metric, seq");
    exec_ok(c, "COMMIT");
    exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    PGresult *ms = query(c, "SELECT id, updated, body FROM assessment_model ORDER BY id");
    exec_ok(c, "COMMIT");
    json_t *found = NULL;
    int rows = PQntuples(es);
    json_t **entities = malloc(sizeof *entities * (size_t)(rows + 1));
    for (int r = 0; r < rows; r++) {
        json_error_t e;
        entities[r] = json_loadb(PQgetvalue(es, r, 2), (size_t)PQgetlength(es, r, 2), 0, &e);
        if (!entities[r]) die("entity", e.text);
        if (!found && strcmp(PQgetvalue(es, r, 1), kind) == 0 && strcmp(json_string_value(json_object_get(entities[r], "id")), id) == 0)
            found = entities[r];
    }
    if (!found) die("floor read", id);
    json_t *reply = json_pack("{s:s, s:{s:s, s:O}, s:i}", "jsonrpc", "2.0", "result", "kind", kind, "entity", found, "id", 1);
    char *text = json_dumps(reply, JSON_COMPACT);
    double t = now_ms() - t0;
    *reply_len = strlen(text);
    free(text);
    json_decref(reply);
    for (int r = 0; r < rows; r++) json_decref(entities[r]);
    free(entities);
    PQclear(ps); PQclear(es); PQclear(os); PQclear(ms);
    PQfinish(listener);
    PQfinish(c);
    return t;
}

/* An uncached entity.get: an engine opened for it, its first read. */
static double engine_read(const char *uri, const char *kind, const char *id, size_t *reply_len, double *open_ms) {
    char req[512];
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"entity.get\",\"params\":{\"portfolio\":\"synthetic\","
             "\"kind\":\"%s\",\"id\":\"%s\"}}", kind, id);
    double t0 = now_ms();
    twospeed_engine *eng;
    if (twospeed_open_v2(uri, "{\"maxRequestBytes\": 1073741824}", &eng) != TWOSPEED_OK) die("twospeed_open_v2", twospeed_open_error());
    *open_ms = now_ms() - t0;
    char *out = twospeed_call(eng, req);
    double t = now_ms() - t0;
    if (!out || !strstr(out, "\"result\"")) die("entity.get", out);
    *reply_len = strlen(out);
    twospeed_free(out);
    twospeed_close(eng);
    return t;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 3) die("usage", "bench_pg SOCKET_DIR DOCUMENT");
    size_t len;
    char *text = read_file(argv[2], &len);
    if (!text) die("read", argv[2]);
    char admin[4200];
    snprintf(admin, sizeof admin, "host=%s user=postgres dbname=postgres", argv[1]);
    PGconn *a = PQconnectdb(admin);
    if (PQstatus(a) != CONNECTION_OK) die("connect", PQerrorMessage(a));
    exec_ok(a, "SET client_min_messages = warning");
    double floors[RUNS], puts[RUNS];
    for (int r = 0; r < 2 * RUNS; r++) {
        char sql[256], uri[4400], conninfo[4400];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS bench_pg_%d", r);
        exec_ok(a, sql);
        snprintf(sql, sizeof sql, "CREATE DATABASE bench_pg_%d", r);
        exec_ok(a, sql);
        snprintf(uri, sizeof uri, "postgresql:///bench_pg_%d?host=%s&user=postgres", r, argv[1]);
        snprintf(conninfo, sizeof conninfo, "host=%s user=postgres dbname=bench_pg_%d", argv[1], r);
        /* The tables, as the store creates them (not timed). */
        twospeed_engine *eng;
        if (twospeed_open(uri, &eng) != TWOSPEED_OK) die("twospeed_open", twospeed_open_error());
        twospeed_close(eng);
        /* Alternate, so that a slow spell of the machine falls on both. */
        if (r % 2 == 0) floors[r / 2] = floor_put(conninfo, text, len);
        else puts[r / 2] = engine_put(uri, text, len);
    }
    for (int r = 0; r < 2 * RUNS; r++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS bench_pg_%d", r);
        exec_ok(a, sql);
    }

    /* Reading one entity that is not cached: the document put once (not timed), then engines opened
       on it and the floor, taking turns. The entity: the document's first product. */
    exec_ok(a, "DROP DATABASE IF EXISTS bench_pg_read");
    exec_ok(a, "CREATE DATABASE bench_pg_read");
    char uri[4400], conninfo[4400];
    snprintf(uri, sizeof uri, "postgresql:///bench_pg_read?host=%s&user=postgres", argv[1]);
    snprintf(conninfo, sizeof conninfo, "host=%s user=postgres dbname=bench_pg_read", argv[1]);
    engine_put(uri, text, len);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (!doc) die("parse", jerr.text);
    const char *product = json_string_value(json_object_get(json_array_get(json_object_get(doc, "products"), 0), "id"));
    if (!product) die("read", "the document has no product");
    double reads[RUNS], read_floors[RUNS], opens[RUNS];
    size_t engine_reply = 0, floor_reply = 0;
    for (int r = 0; r < 2 * RUNS; r++) {
        if (r % 2 == 0) read_floors[r / 2] = floor_read(conninfo, "product", product, &floor_reply);
        else reads[r / 2] = engine_read(uri, "product", product, &engine_reply, &opens[r / 2]);
    }
    json_decref(doc);
    exec_ok(a, "DROP DATABASE IF EXISTS bench_pg_read");
    PQfinish(a);
    qsort(floors, RUNS, sizeof *floors, cmp);
    qsort(puts, RUNS, sizeof *puts, cmp);
    double f = floors[RUNS / 2], p = puts[RUNS / 2];
    printf("portfolio.put over PostgreSQL (%s, %.0f KB): %.1f ms; floor (jansson + libpq, the same statements): %.1f ms; ratio %.2f (target <= 1.5)\n",
           argv[2], len / 1024.0, p, f, p / f);
    summary("portfolio.put over PostgreSQL / libpq floor (1x)", p / f, "<= 1.5");
    qsort(reads, RUNS, sizeof *reads, cmp);
    qsort(read_floors, RUNS, sizeof *read_floors, cmp);
    qsort(opens, RUNS, sizeof *opens, cmp);
    double rd = reads[RUNS / 2], rf = read_floors[RUNS / 2];
    printf("entity.get not cached over PostgreSQL (an engine opened, its first read, of the same portfolio): %.1f ms "
           "(of which twospeed_open_v2 %.1f ms, median of its own); "
           "floor (libpq, the engine's statements, jansson parsing the entities): %.1f ms; ratio %.2f (target <= 1.5, the put's); "
           "replies of %zu and %zu bytes\n", rd, opens[RUNS / 2], rf, rd / rf, engine_reply, floor_reply);
    summary("entity.get not cached over PostgreSQL / libpq floor (1x)", rd / rf, "<= 1.5");
    free(text);
    return 0;
}
