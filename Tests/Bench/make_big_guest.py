#!/usr/bin/env python3
"""Writes the C source of a wasm plugin of about SIZE KB for bench_plugins' load figure: the example
team-size check, plus generated functions that every call runs through once (through a table, so that
none is inlined or dropped, and so that the first call translates them all).

usage: make_big_guest.py KB OUT.c"""
import random
import sys

kb, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(15)
# About 175 bytes of wasm per function with its name (clang -O2): a little over the size asked.
count = kb * 1024 // 172
lines = ['#define EXPORT(name)',
         '#include "../../examples/wasm/team-size-check/team_size_check.c"',
         '#undef EXPORT',
         '#define EXPORT(name) __attribute__((export_name(name)))', '']
for i in range(count):
    body = []
    for _ in range(18):
        op = rng.choice(['x = x * %d + %d;', 'x ^= x >> %d; x += %d;', 'x = (x << %d) - x + %d;', 'x = x / %d + %d;'])
        a, b = rng.randint(3, 29), rng.randint(1, 1 << 20)
        body.append(op % (a, b))
    lines.append('static int f%d(int x) { %s return x; }' % (i, ' '.join(body)))
lines.append('static int (*const table[])(int) = {%s};' % ', '.join('f%d' % i for i in range(count)))
lines.append('''
volatile int sink;

EXPORT("twospeed_alloc") void *big_alloc(int32_t n) { return twospeed_alloc(n); }

EXPORT("twospeed_call") int64_t big_call(const char *request, int32_t length) {
    int acc = length;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) acc = table[i](acc);
    sink = acc;
    return twospeed_call(request, length);
}''')
with open(out, 'w') as f:
    f.write('\n'.join(lines) + '\n')
