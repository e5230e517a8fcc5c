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

/* ---- JSON: a tree of the parts the check reads; strings keep their escaped form -------------------
**
** An interpreter pays for every operator, so the parser does as little as it can. It builds nodes only
** for what the check reads (the request's method, id and params; the portfolio's teams and products;
** a team's id, name and size; a product's team) and skips every other value: strings eight bytes at a
** time, containers by counting brackets. A skipped value is not checked: the host sends only JSON it
** has written itself. The position is kept in locals and handed back: kept in memory beside the node
** stores, it would be stored and loaded again at every byte. */

/* J_LATER: a value whose text is kept, to be read only if it is needed (the products: they matter
** only to a team that is too large, and most portfolios have none). */
enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT, J_LATER };

typedef struct node {
    int type;
    const char *text; /* the value's text: for a string, between the quotes */
    int length;
    const char *key;  /* for a member of an object: its key, escaped, and its length */
    int key_length;
    struct node *child, *next;
} node;

/* Where a value sits, which decides what of it is read. */
enum { SKIP, LATER, VALUE, REQUEST, PARAMS, PORTFOLIO, TEAMS, TEAM, PRODUCTS, PRODUCT };

static int is(const char *key, int length, const char *word) {
    int i = 0;
    for (; i < length; i++) if (word[i] != key[i]) return 0;
    return word[i] == 0;
}

/* The place of a member `key` of an object at `place`. */
static int member_place(int place, const char *key, int n) {
    switch (place) {
    case REQUEST: return is(key, n, "params") ? PARAMS : is(key, n, "method") || is(key, n, "id") ? VALUE : SKIP;
    case PARAMS: return is(key, n, "portfolio") ? PORTFOLIO : SKIP;
    case PORTFOLIO: return is(key, n, "teams") ? TEAMS : is(key, n, "products") ? LATER : SKIP;
    case TEAM: return is(key, n, "id") || is(key, n, "name") || is(key, n, "size") ? VALUE : SKIP;
    case PRODUCT: return is(key, n, "team") ? VALUE : SKIP;
    default: return SKIP;
    }
}

/* The place of an element of an array at `place`. */
static int element_place(int place) { return place == TEAMS ? TEAM : place == PRODUCTS ? PRODUCT : SKIP; }

static const char *skip_space(const char *p, const char *end) {
    if (p < end && (unsigned char)*p > ' ') return p; /* the host's compact text has no space */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* The bytes of a word equal to 0 as its high bits: exact for the lowest such byte, which is the one
** taken (a false one can only stand above a true one). */
#define ZEROS(v) (((v) - 0x0101010101010101ull) & ~(v) & 0x8080808080808080ull)

/* From just after a string's opening quote: the position of its closing quote, or 0 if it has none or
** holds a control character. Eight bytes at a time: a word of text has a quote, a backslash or a
** control character when one of its bytes, less 0x22, 0x5c or 0x20, borrows; the lowest such byte is
** exact (a false one can only stand above a true one). */
static const char *string_end(const char *p, const char *end) {
    for (;;) {
        while (end - p >= 8) {
            uint64_t v;
            __builtin_memcpy(&v, p, 8);
            uint64_t m = ZEROS(v ^ 0x2222222222222222ull) | ZEROS(v ^ 0x5c5c5c5c5c5c5c5cull) |
                         ((v - 0x2020202020202020ull) & ~v & 0x8080808080808080ull);
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
        if (p >= end || (unsigned char)*p < 0x20) return 0;
        if (*p == '"') return p;
        p += 2; /* a backslash and the character it escapes */
    }
}

/* Past any value at p, without building it; 0 if it does not end before `end`. Eight bytes at a time
** to the next quote or bracket ('[' and ']' with bit 5 set are '{' and '}'). */
static const char *skip_value(const char *p, const char *end) {
    if (p >= end) return 0;
    if (*p != '"' && *p != '{' && *p != '[') {
        /* A number or a literal on its own: up to what ends it. */
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
        return p;
    }
    int depth = 0;
    for (;;) {
        while (end - p >= 8) {
            uint64_t v, w;
            __builtin_memcpy(&v, p, 8);
            w = v | 0x2020202020202020ull;
            uint64_t m = ZEROS(v ^ 0x2222222222222222ull) | ZEROS(w ^ 0x7b7b7b7b7b7b7b7bull) | ZEROS(w ^ 0x7d7d7d7d7d7d7d7dull);
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
        while (p < end && *p != '"' && *p != '{' && *p != '}' && *p != '[' && *p != ']') p++;
        if (p >= end) return 0;
        char c = *p;
        if (c == '"') {
            p = string_end(p + 1, end);
            if (!p) return 0;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (--depth < 0) {
            return 0;
        }
        p++;
        if (depth == 0) return p;
    }
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

/* One value at p (after any space) at `place`: its node in *out (its children only where the place
** reads them); returns the position after it, or 0 for text that is not JSON or nests deeper than 200. */
static const char *parse_value(const char *p, const char *end, int place, int depth, node **out) {
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
                int key_length = 0, inner;
                if (c == '{') {
                    p = skip_space(p, end);
                    if (p >= end || *p != '"') return 0;
                    key = p + 1;
                    p = string_end(key, end);
                    if (!p) return 0;
                    key_length = (int)(p - key);
                    p = skip_space(p + 1, end);
                    if (p >= end || *p++ != ':') return 0;
                    inner = member_place(place, key, key_length);
                } else {
                    inner = element_place(place);
                }
                if (inner == SKIP || inner == LATER) {
                    const char *start = skip_space(p, end);
                    p = skip_value(start, end);
                    if (!p) return 0;
                    if (inner == LATER) {
                        node *v = new_node(J_LATER, start);
                        v->length = (int)(p - start);
                        v->key = key;
                        v->key_length = key_length;
                        *tail = v;
                        tail = &v->next;
                    }
                } else {
                    node *v;
                    p = parse_value(p, end, inner, depth + 1, &v);
                    if (!p) return 0;
                    v->key = key;
                    v->key_length = key_length;
                    *tail = v;
                    tail = &v->next;
                }
                p = skip_space(p, end);
                if (p >= end) return 0;
                if (*p == ',') { p++; continue; }
                if (*p++ != close) return 0;
                break;
            }
        }
    } else if (c == '"') {
        n = new_node(J_STRING, p + 1);
        p = string_end(p + 1, end);
        if (!p) return 0;
        n->length = (int)(p - n->text);
        *out = n;
        return p + 1;
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

static int same(const node *a, const node *b) {
    if (!a || !b || a->length != b->length) return 0;
    for (int i = 0; i < a->length; i++) if (a->text[i] != b->text[i]) return 0;
    return 1;
}

static node *member(const node *object, const char *key) {
    if (!object || object->type != J_OBJECT) return 0;
    for (node *m = object->child; m; m = m->next) if (is(m->key, m->key_length, key)) return m;
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
        if (products && products->type == J_LATER) {
            /* Read now, once: the node becomes the array, its elements each a product's team. */
            node *read = 0;
            if (!parse_value(products->text, products->text + products->length, PRODUCTS, 0, &read)) read = 0;
            products->type = read ? read->type : J_NULL;
            products->child = read ? read->child : 0;
        }
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
    const char *p = parse_value(request, end, REQUEST, 0, &req);
    if (!p || skip_space(p, end) != end || req->type != J_OBJECT) return error(&b, 0, -32700, "Parse error");
    node *id = member(req, "id"), *method = member(req, "method"), *params = member(req, "params");
    if (method && method->type == J_STRING && is(method->text, method->length, "check.run")) {
        node *portfolio = member(params, "portfolio");
        if (!portfolio || portfolio->type != J_OBJECT) return error(&b, id, -32602, "Invalid params: portfolio required");
        puts_(&b, "{\"jsonrpc\":\"2.0\",\"result\":");
        check(&b, portfolio);
    } else if (method && method->type == J_STRING && is(method->text, method->length, "plugin.ping")) {
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
