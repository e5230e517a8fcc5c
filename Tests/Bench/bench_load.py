"""What loading libtwospeed costs a Python process.

    TWOSPEED_LIBRARY=/abs/path/libtwospeed.so.0.1.0 python3 Tests/Bench/bench_load.py [RUNS]

Load time: ctypes.CDLL on the library, timed inside a fresh python3 subprocess per run (so this
process's own mapping of the library does not make the load warm), median of RUNS (default 15).
Resident memory: VmRSS of a python3 that loaded the library, opened an in-memory engine and put the
retailer portfolio, beside the VmRSS of a bare python3 as the floor (medians of 5).
"""
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBRARY = os.environ.get("TWOSPEED_LIBRARY") or os.path.join(ROOT, "build", "lib", "libtwospeed.so.0.1.0")
RETAILER = os.path.join(ROOT, "examples", "portfolios", "retailer.json")

LOAD = r"""
import ctypes, sys, time
t0 = time.perf_counter()
ctypes.CDLL(sys.argv[1])
print((time.perf_counter() - t0) * 1000.0)
"""

VMRSS = r"""
def vmrss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
"""

BARE = VMRSS + "print(vmrss_kib())\n"

ENGINE = VMRSS + r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.twospeed_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.twospeed_open.restype = ctypes.c_int
lib.twospeed_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.twospeed_call.restype = ctypes.c_void_p
lib.twospeed_free.argtypes = [ctypes.c_void_p]
lib.twospeed_free.restype = None
engine = ctypes.c_void_p()
assert lib.twospeed_open(None, ctypes.byref(engine)) == 0
with open(sys.argv[2], encoding="utf-8") as f:
    doc = json.load(f)
for req in ({"jsonrpc": "2.0", "id": 1, "method": "portfolio.put", "params": {"portfolio": doc}},
            {"jsonrpc": "2.0", "id": 2, "method": "portfolio.get", "params": {"id": doc["id"]}}):
    p = lib.twospeed_call(engine, json.dumps(req).encode())
    resp = json.loads(ctypes.string_at(p))
    lib.twospeed_free(p)
    assert "result" in resp, resp
del doc, resp
print(vmrss_kib())
"""


def run(code, *args):
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    if not os.path.exists(LIBRARY):
        sys.exit("no library at %s; run make lib or set TWOSPEED_LIBRARY" % LIBRARY)
    name = os.path.basename(LIBRARY)
    name = name[:name.index(".so") + 3] if ".so" in name else name

    run(LOAD, LIBRARY)  # once unmeasured, so the page cache holds the file as it would in use
    loads = [run(LOAD, LIBRARY) for _ in range(runs)]
    engine_rss = statistics.median(run(ENGINE, LIBRARY, RETAILER) for _ in range(5))
    bare_rss = statistics.median(run(BARE) for _ in range(5))

    print("load %s (ctypes)   %.1f ms   (median of %d fresh processes; min %.1f, max %.1f)"
          % (name, statistics.median(loads), runs, min(loads), max(loads)))
    print("resident memory  python+engine %.1f MiB   floor python %.1f MiB   (engine adds %.1f MiB)"
          % (engine_rss / 1024, bare_rss / 1024, (engine_rss - bare_rss) / 1024))


if __name__ == "__main__":
    main()
