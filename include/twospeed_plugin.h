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
