/*
** twospeed_plugin.h -- the contract of an in-process TwoSpeed plugin, plugin ABI version 1.
**
** A plugin extends the engine at one or more extension points:
**   "check"    receives the portfolio and returns findings that join the assessment's own;
**   "model"    provides an assessment model;
**   "metrics"  collects metric observations from an outside system;
**   "render"   turns an assessment result into another format.
**
** Every exchange is JSON-RPC 2.0 text, the same protocol as the engine's own and as out-of-process
** plugins speak on their stdin and stdout; only the transport differs. The methods a plugin answers:
**   check.run        params {"portfolio": {...}}            result {"findings": [Finding...]}
**                    (each subject's kind is an entity kind, or "stage" with the id "journey/stage", and
**                    names what the portfolio holds; anything else is a contract break, -32006)
**   model.get        params {}                               result {"model": {...}}
**   metrics.collect  params {"portfolio": "id", "metrics": [{"id", "name", "unit"}...], "since": "date"?}
**                                                             result {"observations": [{"metric", "at", "value", "source"?}...]}
**   report.render    params {"format": "name", "result": {...}} result {"format": "name", "content": "text", "mediaType": "..."?}
** A plugin answers -32601 for methods of extension points it does not serve.
**
** An in-process plugin is a shared library that exports TWOSPEED_PLUGIN_ENTRY ("twospeed_plugin_init"):
**
**     int twospeed_plugin_init(twospeed_plugin *plugin, uint32_t host_abi_version, uint32_t host_struct_size);
**
** The host zero-fills the struct, sets nothing else, and calls the entry point once. The plugin fills
** every field it knows and returns 0, or a nonzero value to refuse (for example when the host's ABI is
** too old). abi_version and struct_size come first, so that later versions can grow the struct: the
** host refuses a plugin whose abi_version differs from its own or whose struct_size is smaller than
** the version-1 struct.
**
** Ownership: name, version and extension_points are static strings of the plugin. call() returns a
** NUL-terminated response that the host releases with the plugin's release(); it may return NULL only
** when out of memory. The host serializes calls to one plugin (never two at once), so call() need not
** be thread-safe. The host never unloads the library (dlclose) once loaded.
**
** ---- WebAssembly plugins ("kind": "wasm") --------------------------------------------------------------
**
** A wasm plugin is a WebAssembly module (plugin.json "path": "check.wasm") that the engine runs in its own
** process with WasmKit's interpreter: it reaches nothing but its own linear memory and what the host
** offers below, and every call is bounded. It answers the same JSON-RPC methods as above. Guest ABI
** version 1 (in the manner of Extism's), all integers little-endian wasm32:
**
**   export "memory"                                 the module's linear memory (memory 0)
**   export "twospeed_alloc"  (i32 size) -> i32      the address of `size` free bytes for the host to write into
**   export "twospeed_call"   (i32 ptr, i32 len) -> i64
**       handles the request at ptr (len bytes of UTF-8 JSON-RPC text, no NUL) and returns where its
**       response lies: address << 32 | length.
**
**   import "twospeed" "log"          (i32 ptr, i32 len)            a line the host keeps for plugin.list
**                                                                  (wasm.usage.log: the last 10, up to 1000 bytes each)
**   import "twospeed" "engine_call"  (i32 ptr, i32 len) -> i64     one JSON-RPC request to the engine, read-only:
**       a method that changes data answers -32004. Only with "grants": ["engine"] in plugin.json. The
**       answer is placed with the module's twospeed_alloc and returned as address << 32 | length. A
**       plugin that the engine calls while serving an engine call gets -32603 instead (no endless loops).
**
** With "grants": ["wasi"] the module may also import WASI preview 1 (wasi_snapshot_preview1), as far as
** a plugin may use it: no arguments, no environment, no preopened directory (so no file can be opened,
** and there are no sockets), fd_write to stdout and stderr into the log, proc_exit ending the call as a
** "trap". clock_time_get answers only with "clock" granted too, random_get only with "random";
** without them they answer ENOTCAPABLE (76), and any other WASI function ENOSYS (52). Nothing else may
** be imported: a module importing anything else, or an import it is not granted, is refused at load.
**
** Per call the host calls twospeed_alloc(len) once, writes the request there, calls twospeed_call, and
** copies the response out before it calls into that instance again; memory handed out during one call
** may be reused from the next call's first twospeed_alloc on. The host's request is compact JSON with
** its members in the order jsonrpc, method, params, id, and id is an integer.
**
** Instances: the module is compiled once, at load. An instance (made at load, running any start
** function then) serves one call at a time and goes back to a pool for the next; its globals and memory
** carry over. An instance whose call failed in any way below is dropped, and a fresh one made when
** needed; calls from several threads run in separate instances side by side.
**
** Limits, plugin.json "limits", each optional:
**   "fuel"           units per call, about one per WebAssembly operator executed (default 100000000)
**   "memoryPages"    the most 64 KiB pages of linear memory (default 256, 16 MiB; at most 65536); the
**                    budget of linear memory and tables together: each table entry counts 8 bytes, and
**                    a module has at most 4 tables
**   "responseBytes"  the largest response (default 4194304)
** "timeout" does not apply: fuel bounds the time. A call that fails answers -32006 with data.plugin,
** data.reason (a sentence beginning with the failure) and data.failure, one of:
**   "trap"       the module trapped: unreachable, an access outside its memory, a division by zero,
**                the call stack exhausted (endless recursion), WASI's proc_exit...
**   "fuel"       the call used all its fuel: an endless loop, or work beyond limits.fuel
**   "memory"     memory.grow or table.grow past limits.memoryPages
**   "garbage"    the response, or twospeed_alloc's address, lies outside the memory; the response is
**                not UTF-8, not JSON, or not a response to the request
**   "too-large"  the response is longer than limits.responseBytes
** The engine, its other plugins and its other threads go on. At load (plugin.load: -32602, the reason at
** /path): a file that is not a module, a missing export, an import not offered or not granted, a start
** function that traps or runs out of fuel, an initial memory and tables over limits.memoryPages, more
** than 4 tables.
**
** A minimal guest in C, which finds no problems (build it with the Swift toolchain's clang:
** clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry guest.c -o guest.wasm); a full one is
** examples/wasm/team-size-check/team_size_check.c:
**
** BEGIN GUEST
**  static char heap[1 << 20], out[256];
**  __attribute__((export_name("twospeed_alloc"))) char *twospeed_alloc(int n) {
**      return n <= (int)sizeof heap ? heap : 0;
**  }
**  __attribute__((export_name("twospeed_call"))) long long twospeed_call(const char *req, int len) {
**      static const char head[] = "{\"jsonrpc\":\"2.0\",\"result\":{\"findings\":[]},\"id\":";
**      int n = 0, i = len;
**      while (i > 0 && req[i - 1] != ':') i--;       // the id is the request's last member
**      for (const char *s = head; *s; s++) out[n++] = *s;
**      while (i < len && n < (int)sizeof out) out[n++] = req[i++];
**      return (long long)(unsigned)out << 32 | (unsigned)n;
**  }
** END GUEST
*/
#ifndef TWOSPEED_PLUGIN_H
#define TWOSPEED_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TWOSPEED_PLUGIN_ABI_VERSION 1
#define TWOSPEED_PLUGIN_ENTRY "twospeed_plugin_init"

typedef struct twospeed_plugin {
    uint32_t abi_version;           /* TWOSPEED_PLUGIN_ABI_VERSION the plugin was built for */
    uint32_t struct_size;           /* sizeof(twospeed_plugin) as the plugin knows it */
    const char *name;               /* e.g. "team-size-check" */
    const char *version;            /* semantic version of the plugin */
    const char *extension_points;   /* comma-separated: "check", "model", "metrics", "render" */
    /* Answers one JSON-RPC 2.0 request given as UTF-8 text. */
    char *(*call)(void *state, const char *request_json);
    /* Releases a response returned by call. */
    void (*release)(void *state, char *response);
    void *state;                    /* passed back to call and release */
} twospeed_plugin;

typedef int (*twospeed_plugin_init_fn)(twospeed_plugin *plugin, uint32_t host_abi_version, uint32_t host_struct_size);

#ifdef __cplusplus
}
#endif

#endif /* TWOSPEED_PLUGIN_H */
