/* The two-daemon bench's client (issue 22): threads, each on one connection to one of the daemons'
 * Unix sockets (client i to socket i mod n), blocking round trips, and the CPU the daemons and
 * PostgreSQL spent meanwhile, read from /proc before and after.
 *
 * usage: bench_cluster MODE SECONDS CLIENTS PORTFOLIOS SOCKETS DAEMON_PIDS POSTMASTER_PID
 *   MODE mix: 80% entity.get, 10% portfolio.get, 10% entity.upsert (a team), each on a portfolio
 *             p0..p<PORTFOLIOS-1> drawn at random; an upsert answered -32005 (the daemon's copy was
 *             behind the store) is counted as a conflict, not retried;
 *        one: all writes to p0, each a portfolio.get for the revision then an entity.upsert with that
 *             ifRevision; a -32005 answer is counted as a conflict and NOT retried (the client goes on
 *             to its next read-then-write), so the conflict rate is per write attempt.
 *   SOCKETS and DAEMON_PIDS comma-separated; POSTMASTER_PID 0 when there is no PostgreSQL.
 * prints one line:
 *   mode clients requests seconds req/s p50_us p99_us writes conflicts
 *   daemon_cpu_us/req pg_cpu_us/req client_cpu_us/req
 * CPU is utime+stime (and, for the postmaster, its reaped children's) from /proc/PID/stat of each
 * daemon, the postmaster and every live child of it. The client's own CPU (getrusage) is printed so
 * a reader can see whether the client, not the daemons, was the bottleneck. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "socket_client.h"

/* Clock ticks of utime+stime of one process (plus cutime+cstime when `reaped`), or 0 if gone. */
static long long ticks_of(long pid, int reaped) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');  /* the command may hold spaces */
    if (!p) return 0;
    long long v[20] = {0};
    /* fields from 3 (state) on; utime is field 14, stime 15, cutime 16, cstime 17 */
    int field = 3;
    char *tok = strtok(p + 2, " ");
    while (tok && field <= 17) {
        if (field >= 14) v[field - 14] = atoll(tok);
        tok = strtok(NULL, " ");
        field++;
    }
    return v[0] + v[1] + (reaped ? v[2] + v[3] : 0);
}

static long ppid_of(long pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    char state;
    long ppid;
    return sscanf(p + 2, "%c %ld", &state, &ppid) == 2 ? ppid : -1;
}

/* The postmaster with its reaped children, and every live child of it. */
static long long pg_ticks(long postmaster) {
    if (postmaster <= 0) return 0;
    long long t = ticks_of(postmaster, 1);
    DIR *d = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        if (ppid_of(pid) == postmaster) t += ticks_of(pid, 0);
    }
    closedir(d);
    return t;
}

typedef struct {
    const char *path;
    int mode_one, portfolios, index;
    double seconds;
    double *lat;
    size_t n, cap, writes, conflicts;
    int failed, want_revision;
    pthread_barrier_t *start;
} job;

static void record(job *j, double dt) {
    if (j->n == j->cap) { j->cap = j->cap ? j->cap * 2 : 65536; j->lat = realloc(j->lat, j->cap * sizeof(double)); }
    j->lat[j->n++] = dt;
}

/* One round trip; the reply parsed, or NULL (and j->failed) on a broken connection or bad JSON. */
static json_t *call(job *j, int fd, reader *r, const char *req) {
    double t0 = now();
    if (write_all(fd, req, strlen(req)) != 0) { j->failed = 1; return NULL; }
    size_t n;
    char *reply = read_line(r, &n);
    double t1 = now();
    if (!reply || n == 0) { j->failed = 1; return NULL; }
    record(j, t1 - t0);
    /* Most replies are results, written "jsonrpc" first: those skip the parse, so that the client's own
     * CPU stays small beside the daemons' (it shares the cores with them). Anything else is parsed. */
    if (!j->want_revision && strncmp(reply, "{\"jsonrpc\":\"2.0\",\"result\"", 25) == 0) return json_true();
    if (j->want_revision) {
        char *at = strstr(reply, "\"revision\":");
        if (at && !strstr(at + 1, "\"revision\":")) {
            long long rev = atoll(at + 11);
            if (rev > 0) return json_pack("{s:{s:I}}", "result", "revision", (json_int_t)rev);
        }
    }
    json_error_t err;
    json_t *v = json_loadb(reply, n, 0, &err);
    if (!v) { fprintf(stderr, "bad reply: %s\n", err.text); j->failed = 1; }
    return v;
}

static int is_result(json_t *v) { return json_is_true(v) || json_object_get(v, "result") != NULL; }
static long long error_code(json_t *v) {
    return json_integer_value(json_object_get(json_object_get(v, "error"), "code"));
}

static void *run(void *arg) {
    job *j = arg;
    int fd = connect_to(j->path);
    reader r = { fd, malloc(1 << 16), 1 << 16, 0, 0 };
    unsigned seed = (unsigned)j->index * 2654435761u + 1;
    char req[512];
    pthread_barrier_wait(j->start);
    double end = now() + j->seconds;
    long k = 0;
    while (!j->failed && now() < end) {
        k++;
        if (!j->mode_one) {
            int p = (int)(rand_r(&seed) % (unsigned)j->portfolios), dice = (int)(rand_r(&seed) % 10);
            if (dice < 8)
                snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.get\",\"params\":{\"portfolio\":\"p%d\","
                         "\"kind\":\"product\",\"id\":\"checkout\"},\"id\":%ld}\n", p, k);
            else if (dice < 9)
                snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"p%d\"},\"id\":%ld}\n", p, k);
            else
                snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"p%d\","
                         "\"kind\":\"team\",\"entity\":{\"id\":\"bench-%d\",\"name\":\"Bench %ld\",\"size\":%d}},\"id\":%ld}\n",
                         p, j->index % 8, k, 3 + (int)(k % 5), k);
            json_t *v = call(j, fd, &r, req);
            if (!v) break;
            if (dice == 9) j->writes++;
            /* An upsert without ifRevision still answers -32005 when this daemon's copy is older than the
             * store (the other daemon wrote and its notice is not in yet): counted, not retried. */
            if (dice == 9 && !is_result(v) && error_code(v) == -32005) j->conflicts++;
            else if (!is_result(v)) { char *s = json_dumps(v, JSON_COMPACT); fprintf(stderr, "error reply: %s\n", s); free(s); j->failed = 1; }
            json_decref(v);
        } else {
            snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"p0\"},\"id\":%ld}\n", k);
            j->want_revision = 1;
            json_t *v = call(j, fd, &r, req);
            j->want_revision = 0;
            if (!v) break;
            json_t *rev = json_object_get(json_object_get(v, "result"), "revision");
            if (!json_is_integer(rev)) { fprintf(stderr, "portfolio.get without a revision\n"); j->failed = 1; json_decref(v); break; }
            long long revision = json_integer_value(rev);
            json_decref(v);
            snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"entity.upsert\",\"params\":{\"portfolio\":\"p0\","
                     "\"kind\":\"team\",\"entity\":{\"id\":\"bench-%d\",\"name\":\"Bench %ld\",\"size\":%d},\"ifRevision\":%lld},\"id\":%ld}\n",
                     j->index % 8, k, 3 + (int)(k % 5), revision, k);
            v = call(j, fd, &r, req);
            if (!v) break;
            j->writes++;
            if (!is_result(v)) {
                if (error_code(v) == -32005) j->conflicts++;
                else { char *s = json_dumps(v, JSON_COMPACT); fprintf(stderr, "error reply: %s\n", s); free(s); j->failed = 1; }
            }
            json_decref(v);
        }
    }
    free(r.buf);
    close(fd);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int split(char *s, char **out, int max) {
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = t;
    return n;
}

static double cpu_self(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: bench_cluster mix|one SECONDS CLIENTS PORTFOLIOS SOCKETS DAEMON_PIDS POSTMASTER_PID\n");
        return 2;
    }
    int mode_one = strcmp(argv[1], "one") == 0;
    if (!mode_one && strcmp(argv[1], "mix") != 0) { fprintf(stderr, "bench_cluster: mode is mix or one\n"); return 2; }
    double seconds = atof(argv[2]);
    int clients = atoi(argv[3]), portfolios = atoi(argv[4]);
    char *sockets[16], *pidtext[16];
    int nsock = split(argv[5], sockets, 16), npid = split(argv[6], pidtext, 16);
    long postmaster = atol(argv[7]);
    if (seconds <= 0 || clients <= 0 || portfolios <= 0 || nsock == 0 || npid == 0) { fprintf(stderr, "bench_cluster: bad arguments\n"); return 2; }
    long pids[16];
    for (int i = 0; i < npid; i++) pids[i] = atol(pidtext[i]);

    job *jobs = calloc((size_t)clients, sizeof(job));
    pthread_t *threads = calloc((size_t)clients, sizeof(pthread_t));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
    for (int i = 0; i < clients; i++) {
        jobs[i] = (job){ .path = sockets[i % nsock], .mode_one = mode_one, .portfolios = portfolios, .index = i,
                         .seconds = seconds, .start = &start };
        pthread_create(&threads[i], NULL, run, &jobs[i]);
    }
    long long d0 = 0, p0 = pg_ticks(postmaster);
    for (int i = 0; i < npid; i++) d0 += ticks_of(pids[i], 0);
    double c0 = cpu_self();
    pthread_barrier_wait(&start);
    double t0 = now();
    size_t total = 0, writes = 0, conflicts = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(threads[i], NULL);
        total += jobs[i].n;
        writes += jobs[i].writes;
        conflicts += jobs[i].conflicts;
        failed |= jobs[i].failed;
    }
    double elapsed = now() - t0;
    long long d1 = 0, p1 = pg_ticks(postmaster);
    for (int i = 0; i < npid; i++) d1 += ticks_of(pids[i], 0);
    double c1 = cpu_self();
    if (total == 0 || failed) { fprintf(stderr, "bench_cluster: a client failed\n"); return 1; }
    double *all = malloc(total * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        for (size_t m = 0; m < jobs[i].n; m++) all[k++] = jobs[i].lat[m];
        free(jobs[i].lat);
    }
    qsort(all, total, sizeof(double), cmp);
    double tick = (double)sysconf(_SC_CLK_TCK);
    printf("%s %d %zu %.3f %.0f %.1f %.1f %zu %zu %.1f %.1f %.1f\n", argv[1], clients, total, elapsed, (double)total / elapsed,
           all[total / 2] * 1e6, all[(size_t)((double)total * 0.99)] * 1e6, writes, conflicts,
           (double)(d1 - d0) / tick / (double)total * 1e6, (double)(p1 - p0) / tick / (double)total * 1e6,
           (c1 - c0) / (double)total * 1e6);
    free(all);
    return 0;
}
