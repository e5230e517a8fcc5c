/* The socket bench's client: C, blocking, one thread per connection, each sending a small request
 * line and waiting for its reply line before the next (round trips, not pipelined).
 *
 * usage: bench_socket rt SOCKET CLIENTS SECONDS REQUEST_JSON [--expect-result]
 *          prints: clients requests seconds req/s p50_us p99_us mean_us
 *        bench_socket rss SOCKET PRODUCTS
 *          puts a synthetic portfolio with PRODUCTS products (encoded with jansson) and prints the
 *          daemon's resident memory (the peer found with SO_PEERCRED, VmRSS from /proc) before and after. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "socket_client.h"

typedef struct {
    const char *path, *request;
    double seconds;
    int expect_result;
    double *lat;           /* seconds per round trip */
    size_t n, cap;
    int failed;
    pthread_barrier_t *start;
} job;

static void *run(void *arg) {
    job *j = arg;
    int fd = connect_to(j->path);
    reader r = { fd, malloc(1 << 16), 1 << 16, 0, 0 };
    size_t reqlen = strlen(j->request);
    char *line = malloc(reqlen + 2);
    memcpy(line, j->request, reqlen);
    line[reqlen] = '\n';
    pthread_barrier_wait(j->start);
    double end = now() + j->seconds;
    while (now() < end) {
        double t0 = now();
        if (write_all(fd, line, reqlen + 1) != 0) { j->failed = 1; break; }
        size_t n;
        char *reply = read_line(&r, &n);
        double t1 = now();
        if (!reply || n == 0) { j->failed = 1; break; }
        if (j->expect_result && !strstr(reply, "\"result\"")) { fprintf(stderr, "error reply: %s\n", reply); j->failed = 1; break; }
        if (j->n == j->cap) { j->cap = j->cap ? j->cap * 2 : 65536; j->lat = realloc(j->lat, j->cap * sizeof(double)); }
        j->lat[j->n++] = t1 - t0;
    }
    free(line);
    free(r.buf);
    close(fd);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int round_trips(const char *path, int clients, double seconds, const char *request, int expect_result) {
    job *jobs = calloc((size_t)clients, sizeof(job));
    pthread_t *threads = calloc((size_t)clients, sizeof(pthread_t));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
    for (int i = 0; i < clients; i++) {
        jobs[i] = (job){ .path = path, .request = request, .seconds = seconds, .expect_result = expect_result, .start = &start };
        pthread_create(&threads[i], NULL, run, &jobs[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(threads[i], NULL);
        total += jobs[i].n;
        failed |= jobs[i].failed;
    }
    double elapsed = now() - t0;
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    double sum = 0;
    for (int i = 0; i < clients; i++) {
        for (size_t m = 0; m < jobs[i].n; m++) { all[k++] = jobs[i].lat[m]; sum += jobs[i].lat[m]; }
        free(jobs[i].lat);
    }
    qsort(all, total, sizeof(double), cmp);
    if (total == 0 || failed) { fprintf(stderr, "bench_socket: a client failed\n"); return 1; }
    printf("%d %zu %.3f %.0f %.1f %.1f %.1f\n", clients, total, elapsed, (double)total / elapsed,
           all[total / 2] * 1e6, all[(size_t)((double)total * 0.99)] * 1e6, sum / (double)total * 1e6);
    free(all);
    free(jobs);
    free(threads);
    return 0;
}

/* A portfolio with `products` products over 100 journeys of 10 stages, 1,000 managers owning nine in
 * ten of them, and one metric per hundred products. */
static json_t *synthetic_portfolio(int products) {
    json_t *p = json_pack("{s:s, s:{s:s, s:s}}", "id", "synthetic", "organization", "name", "Synthetic Co", "industry", "retail");
    json_t *journeys = json_array(), *managers = json_array(), *prods = json_array(), *metrics = json_array();
    char id[64], name[64], ref[64];
    for (int j = 0; j < 100; j++) {
        json_t *stages = json_array();
        for (int s = 0; s < 10; s++) {
            snprintf(id, sizeof id, "s%d", s);
            snprintf(name, sizeof name, "Stage %d", s);
            json_array_append_new(stages, json_pack("{s:s, s:s}", "id", id, "name", name));
        }
        snprintf(id, sizeof id, "j%d", j);
        snprintf(name, sizeof name, "Journey %d", j);
        json_array_append_new(journeys, json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "stages", stages));
    }
    for (int m = 0; m < 1000; m++) {
        snprintf(id, sizeof id, "pm%d", m);
        snprintf(name, sizeof name, "Manager %d", m);
        json_array_append_new(managers, json_pack("{s:s, s:s}", "id", id, "name", name));
    }
    static const char *statuses[] = { "idea", "mvp", "rollout", "live" };
    for (int i = 0; i < products; i++) {
        snprintf(id, sizeof id, "p%d", i);
        snprintf(name, sizeof name, "Product number %d", i);
        snprintf(ref, sizeof ref, "j%d/s%d", i % 100, (i / 100) % 10);
        json_t *prod = json_pack("{s:s, s:s, s:s, s:[s], s:f, s:f}", "id", id, "name", name, "status", statuses[i % 4],
                                 "stages", ref, "resources", 4.5 + i % 7, "value", 10000.0 * (1 + i % 13));
        if (i % 10) {
            snprintf(ref, sizeof ref, "pm%d", i % 1000);
            json_object_set_new(prod, "owner", json_string(ref));
        }
        json_array_append_new(prods, prod);
        if (i % 100 == 0) {
            snprintf(ref, sizeof ref, "m%d", i / 100);
            json_array_append_new(metrics, json_pack("{s:s, s:s, s:s, s:[s], s:[{s:s, s:f}]}", "id", ref, "name", "A metric",
                                                     "category", "customer-behavior", "products", id,
                                                     "observations", "at", "2026-10-31", "value", 1.5));
        }
    }
    json_object_set_new(p, "journeys", journeys);
    json_object_set_new(p, "managers", managers);
    json_object_set_new(p, "products", prods);
    json_object_set_new(p, "metrics", metrics);
    return p;
}

static long rss_kib(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
    }
    fclose(f);
    return kib;
}

static int resident_memory(const char *path, int products) {
    int fd = connect_to(path);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) { perror("SO_PEERCRED"); return 1; }
    long before = rss_kib(cred.pid);
    json_t *req = json_pack("{s:s, s:s, s:{s:o}, s:i}", "jsonrpc", "2.0", "method", "portfolio.put", "params",
                            "portfolio", synthetic_portfolio(products), "id", 1);
    char *text = json_dumps(req, JSON_COMPACT);
    size_t n = strlen(text);
    text = realloc(text, n + 2);
    text[n] = '\n';
    double t0 = now();
    if (write_all(fd, text, n + 1) != 0) { perror("send"); return 1; }
    reader r = { fd, malloc(1 << 16), 1 << 16, 0, 0 };
    size_t got;
    char *reply = read_line(&r, &got);
    double put = now() - t0;
    if (!reply || !strstr(reply, "\"result\"")) { fprintf(stderr, "portfolio.put failed: %.300s\n", reply ? reply : "(no reply)"); return 1; }
    /* One full read of it back, as a client would. */
    const char *get = "{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.get\",\"params\":{\"id\":\"synthetic\"},\"id\":2}\n";
    t0 = now();
    write_all(fd, get, strlen(get));
    reply = read_line(&r, &got);
    double getTime = now() - t0;
    if (!reply || !strstr(reply, "\"result\"")) { fprintf(stderr, "portfolio.get failed\n"); return 1; }
    long after = rss_kib(cred.pid);
    printf("%d %zu %ld %ld %.1f %.1f %zu\n", products, n, before, after, put * 1e3, getTime * 1e3, got);
    free(text);
    free(r.buf);
    json_decref(req);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && strcmp(argv[1], "rt") == 0) {
        int expect = argc > 6 && strcmp(argv[6], "--expect-result") == 0;
        return round_trips(argv[2], atoi(argv[3]), atof(argv[4]), argv[5], expect);
    }
    if (argc == 4 && strcmp(argv[1], "rss") == 0) return resident_memory(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: %s rt SOCKET CLIENTS SECONDS REQUEST_JSON [--expect-result]\n"
                    "       %s rss SOCKET PRODUCTS\n", argv[0], argv[0]);
    return 2;
}
