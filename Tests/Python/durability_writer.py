"""Child process of test_durability.py: writes to a file-backed engine until it is killed.

    python3 durability_writer.py STORE ROUND

Write number s (0, 1, 2, ...) is a metric.observe on metric "durability" (value ROUND*1000000 + s)
when s is even and an entity.upsert of product "rROUND-pS" when s is odd. After each response has
come back without error, i.e. the write is acknowledged and, by the header's promise, on disk, it
prints "ack S" and flushes. Any error response is printed as "error S <response>" and ends the
process with status 1. Uses plain ctypes; the library is $TWOSPEED_LIBRARY.
"""
import ctypes
import json
import os
import sys


def main():
    store, rnd = sys.argv[1], int(sys.argv[2])
    lib = ctypes.CDLL(os.environ["TWOSPEED_LIBRARY"])
    lib.twospeed_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.twospeed_open.restype = ctypes.c_int
    lib.twospeed_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.twospeed_call.restype = ctypes.c_void_p
    lib.twospeed_free.argtypes = [ctypes.c_void_p]
    lib.twospeed_free.restype = None

    engine = ctypes.c_void_p()
    rc = lib.twospeed_open(os.fsencode(store), ctypes.byref(engine))
    if rc != 0:
        print("open-failed %d" % rc, flush=True)
        return 1
    print("ready", flush=True)

    s = 0
    while True:
        if s % 2 == 0:
            req = {"jsonrpc": "2.0", "id": s, "method": "metric.observe",
                   "params": {"portfolio": "retailer", "metric": "durability",
                              "observations": [{"at": "2026-11-24T10:00:00Z", "value": rnd * 1000000 + s,
                                                "source": "round %d" % rnd}]}}
        else:
            req = {"jsonrpc": "2.0", "id": s, "method": "entity.upsert",
                   "params": {"portfolio": "retailer", "kind": "product",
                              "entity": {"id": "r%d-p%d" % (rnd, s), "name": "Written by round %d, write %d" % (rnd, s),
                                         "status": "idea"}}}
        ptr = lib.twospeed_call(engine, json.dumps(req).encode())
        if not ptr:
            print("error %d NULL" % s, flush=True)
            return 1
        text = ctypes.string_at(ptr).decode()
        lib.twospeed_free(ptr)
        resp = json.loads(text)
        if "result" not in resp or resp.get("id") != s:
            print("error %d %s" % (s, text), flush=True)
            return 1
        print("ack %d" % s, flush=True)
        s += 1


if __name__ == "__main__":
    sys.exit(main())
