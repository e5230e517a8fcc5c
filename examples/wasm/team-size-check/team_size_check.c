/*
** team-size-check as a WebAssembly plugin: the check of examples/plugins/team-size-check, in C for
** wasm32 with no C library (include/twospeed_plugin.h, "WebAssembly plugins", is the guest ABI).
**
** It flags teams above 10 people and the products they carry, with the findings of the in-process C
** plugin (Tests/TwoSpeedTests/WasmPluginTests compares them). Unlike that one it reads no
** TWOSPEED_MAX_TEAM_SIZE: a wasm plugin sees no environment.
**
** Build (make plugins):
**   clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry -o team_size_check.wasm team_size_check.c
**
** Memory: a bump allocator over the linear memory after the data and the stack. The host copies each
** response out before it calls the module again, so the first allocation of the next call starts the
** heap afresh; nothing is ever freed in between.
*/
#include <stddef.h>
#include <stdint.h>

/* Defined beforehand by Tests/Bench/make_big_guest.py, which wraps this check in a larger module. */
#ifndef EXPORT
#define EXPORT(name) __attribute__((export_name(name)))
#endif
#define IMPORT(name) __attribute__((import_module("twospeed"), import_name(name)))

/* Host functions: a log line, kept by the host in plugin.list (at most 1000 bytes are kept). */
IMPORT("log") void ts_log(const char *text, int length);

#define LIMIT 10

/* ---- memory ------------------------------------------------------------------------------------ */

extern unsigned char __heap_base;
static uintptr_t heap, heap_end;
static int call_finished = 1;

/* no_builtin: the compiler must not turn these loops into calls to themselves. */
__attribute__((no_builtin("memcpy"))) void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

__attribute__((no_builtin("memset"))) void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

static void *alloc(size_t n) {
    if (call_finished) {
        heap = heap_end = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
        heap_end = __builtin_wasm_memory_size(0) * 65536;
        call_finished = 0;
    }
    n = (n + 15) & ~(size_t)15;
    if (heap + n > heap_end) {
        size_t pages = (heap + n - heap_end + 65535) / 65536;
        /* Past the manifest's memoryPages the host stops the call here with data.failure "memory". */
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
        heap_end += pages * 65536;
    }
    void *p = (void *)heap;
    heap += n;
    return p;
}

EXPORT("twospeed_alloc") void *twospeed_alloc(int32_t n) { return alloc((size_t)n); }

/* ---- JSON: a tree over the request text; strings keep their escaped form ----------------------- */

enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

typedef struct node {
    int type;
    const char *text; /* the value's text: for a string, between the quotes */
    int length;
    const char *key;  /* for a member of an object: its key, escaped, and its length */
    int key_length;
    struct node *child, *next;
} node;

/* The parser keeps its position in locals and hands it back, rather than through a pointer to a
** struct: with node stores around, a position kept in memory must be stored and loaded again at every
** byte, and in an interpreter those loads and stores are most of the cost (ten times, measured). */

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* A string from its opening quote: its escaped text; returns the position after the closing quote. */
static const char *scan_string(const char *p, const char *end, const char **start, int *length) {
    if (p >= end || *p != '"') return 0;
    const char *s = ++p;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') p++;
        else if (c < 0x20) return 0;
        p++;
    }
    if (p >= end) return 0;
    *start = s;
    *length = (int)(p - s);
    return p + 1;
}

static const char *literal(const char *p, const char *end, const char *word) {
    while (*word) {
        if (p >= end || *p != *word) return 0;
        p++, word++;
    }
    return p;
}

static node *new_node(int type, const char *text) {
    node *n = alloc(sizeof *n);
    n->type = type;
    n->text = text;
    n->length = 0;
    n->key = 0;
    n->key_length = 0;
    n->child = n->next = 0;
    return n;
}

/* One value at p (after any space): its node in *out; returns the position after it, or 0 for text
** that is not JSON or nests deeper than 200. */
static const char *parse_value(const char *p, const char *end, int depth, node **out) {
    p = skip_space(p, end);
    if (p >= end || depth > 200) return 0;
    char c = *p;
    node *n;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        n = new_node(c == '{' ? J_OBJECT : J_ARRAY, p);
        p = skip_space(p + 1, end);
        node **tail = &n->child;
        if (p < end && *p == close) {
            p++;
        } else {
            for (;;) {
                const char *key = 0;
                int key_length = 0;
                if (c == '{') {
                    p = scan_string(skip_space(p, end), end, &key, &key_length);
                    if (!p) return 0;
                    p = skip_space(p, end);
                    if (p >= end || *p++ != ':') return 0;
                }
                node *v;
                p = parse_value(p, end, depth + 1, &v);
                if (!p) return 0;
                v->key = key;
                v->key_length = key_length;
                *tail = v;
                tail = &v->next;
                p = skip_space(p, end);
                if (p >= end) return 0;
                if (*p == ',') { p++; continue; }
                if (*p++ != close) return 0;
                break;
            }
        }
    } else if (c == '"') {
        n = new_node(J_STRING, p);
        p = scan_string(p, end, &n->text, &n->length);
        if (!p) return 0;
        *out = n;
        return p;
    } else if (c == 'n' || c == 't' || c == 'f') {
        n = new_node(c == 'n' ? J_NULL : c == 't' ? J_TRUE : J_FALSE, p);
        p = literal(p, end, c == 'n' ? "null" : c == 't' ? "true" : "false");
        if (!p) return 0;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        n = new_node(J_NUMBER, p);
        while (p < end && (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) p++;
    } else {
        return 0;
    }
    n->length = (int)(p - n->text);
    *out = n;
    return p;
}

static int equals(const char *a, int length, const char *b) {
    int i = 0;
    for (; i < length; i++) if (b[i] != a[i]) return 0;
    return b[i] == 0;
}

static int same(const node *a, const node *b) {
    if (!a || !b || a->length != b->length) return 0;
    for (int i = 0; i < a->length; i++) if (a->text[i] != b->text[i]) return 0;
    return 1;
}

static node *member(const node *object, const char *key) {
    if (!object || object->type != J_OBJECT) return 0;
    for (node *m = object->child; m; m = m->next) if (equals(m->key, m->key_length, key)) return m;
    return 0;
}

/* An integer as jansson's json_integer_value reads it: 0 for anything but an integer. */
static long long integer(const node *n) {
    if (!n || n->type != J_NUMBER) return 0;
    long long v = 0;
    int i = n->text[0] == '-' ? 1 : 0;
    for (int k = i; k < n->length; k++) {
        if (n->text[k] < '0' || n->text[k] > '9') return 0;
        v = v * 10 + (n->text[k] - '0');
    }
    return i ? -v : v;
}

/* ---- output ------------------------------------------------------------------------------------ */

typedef struct { char *data; int length, capacity; } buffer;

static void put(buffer *b, const char *s, int n) {
    if (b->length + n > b->capacity) {
        int capacity = (b->length + n) * 2 + 256;
        char *data = alloc((size_t)capacity);
        memcpy(data, b->data, (size_t)b->length);
        b->data = data;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, s, (size_t)n);
    b->length += n;
}

static void puts_(buffer *b, const char *s) {
    int n = 0;
    while (s[n]) n++;
    put(b, s, n);
}

static void put_int(buffer *b, long long v) {
    char digits[24];
    int n = 0;
    unsigned long long u = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    do digits[n++] = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) put(b, "-", 1);
    while (n) put(b, &digits[--n], 1);
}

/* A string node's text is its escaped form, so it goes back between quotes as it came. */
static void put_string(buffer *b, const node *s) {
    put(b, "\"", 1);
    if (s && s->type == J_STRING) put(b, s->text, s->length);
    put(b, "\"", 1);
}

static int64_t finish(buffer *b) {
    call_finished = 1;
    return (int64_t)(uintptr_t)b->data << 32 | (uint32_t)b->length;
}

static int64_t error(buffer *b, const node *id, int code, const char *message) {
    puts_(b, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":");
    put_int(b, code);
    puts_(b, ",\"message\":\"");
    puts_(b, message);
    puts_(b, "\"},\"id\":");
    if (id) put(b, id->text, id->length); else puts_(b, "null");
    puts_(b, "}");
    return finish(b);
}

/* check.run: one finding listing every oversized team and the products it carries. */
static void check(buffer *b, const node *portfolio) {
    buffer subjects = {0}, evidence = {0};
    int teams = 0, flagged = 0;
    node *list = member(portfolio, "teams");
    for (node *team = list && list->type == J_ARRAY ? list->child : 0; team; team = team->next) {
        teams++;
        long long size = integer(member(team, "size"));
        if (size <= LIMIT) continue;
        node *id = member(team, "id"), *name = member(team, "name");
        int carried = 0;
        node *products = member(portfolio, "products");
        for (node *p = products && products->type == J_ARRAY ? products->child : 0; p; p = p->next) {
            node *owner = member(p, "team");
            if (owner && owner->type == J_STRING && same(owner, id)) carried++;
        }
        if (flagged++) { put(&subjects, ",", 1); put(&evidence, ",", 1); }
        puts_(&subjects, "{\"kind\":\"team\",\"id\":");
        put_string(&subjects, id);
        puts_(&subjects, ",\"name\":");
        put_string(&subjects, name);
        puts_(&subjects, "}");
        put(&evidence, "\"", 1);
        if (name && name->type == J_STRING) put(&evidence, name->text, name->length);
        puts_(&evidence, " has ");
        put_int(&evidence, size);
        puts_(&evidence, " people (limit ");
        put_int(&evidence, LIMIT);
        puts_(&evidence, ") and carries ");
        put_int(&evidence, carried);
        puts_(&evidence, carried == 1 ? " product\"" : " products\"");
    }
    puts_(b, "{\"findings\":[");
    if (flagged) {
        puts_(b, "{\"pitfall\":\"oversized-teams\",\"name\":\"Oversized teams\",\"severity\":\"medium\",\"subjects\":[");
        put(b, subjects.data, subjects.length);
        puts_(b, "],\"evidence\":[");
        put(b, evidence.data, evidence.length);
        puts_(b, "],\"recommendation\":\"Split each oversized team around the experiences it serves, so that product managers "
                 "and engineers can codevelop in small groups.\",\"criteria\":[\"collaboration.small-teams\",\"collaboration.codevelop\"],"
                 "\"source\":\"McKinsey, 'A two-speed IT architecture for the digital enterprise'\"}");
    }
    puts_(b, "]}");

    buffer line = {0};
    puts_(&line, "checked ");
    put_int(&line, teams);
    puts_(&line, " teams, ");
    put_int(&line, flagged);
    puts_(&line, " oversized");
    ts_log(line.data, line.length);
}

/* The entry point: one JSON-RPC request in, one response out (its address << 32 | its length). */
EXPORT("twospeed_call") int64_t twospeed_call(const char *request, int32_t length) {
    buffer b = {0};
    const char *end = request + length;
    node *req = 0;
    const char *p = parse_value(request, end, 0, &req);
    if (!p || skip_space(p, end) != end || req->type != J_OBJECT) return error(&b, 0, -32700, "Parse error");
    node *id = member(req, "id"), *method = member(req, "method"), *params = member(req, "params");
    if (method && method->type == J_STRING && equals(method->text, method->length, "check.run")) {
        node *portfolio = member(params, "portfolio");
        if (!portfolio || portfolio->type != J_OBJECT) return error(&b, id, -32602, "Invalid params: portfolio required");
        puts_(&b, "{\"jsonrpc\":\"2.0\",\"result\":");
        check(&b, portfolio);
    } else if (method && method->type == J_STRING && equals(method->text, method->length, "plugin.ping")) {
        puts_(&b, "{\"jsonrpc\":\"2.0\",\"result\":");
        if (params) put(&b, params->text, params->length); else puts_(&b, "{}");
    } else {
        return error(&b, id, -32601, "Method not found");
    }
    puts_(&b, ",\"id\":");
    if (id) put(&b, id->text, id->length); else puts_(&b, "null");
    puts_(&b, "}");
    return finish(&b);
}
