/*
** twospeed.h -- the C interface of the TwoSpeed engine, ABI version 1.
**
** TwoSpeed holds a company's two-speed operating model (journeys, products, managers, teams, systems,
** metrics, OKRs, experiments) as data in a SQLite store and answers JSON-RPC 2.0 requests about it.
** Every call takes a request as JSON text and returns a response as JSON text; rpc.discover returns
** the OpenRPC document listing every method with the JSON Schemas of its params and result.
**
** Link with -ltwospeed (pkg-config: twospeed). The library carries its own Swift runtime; it needs
** only libc, libstdc++, libm, libgcc_s, libjansson and libsqlite3.
**
** Conventions, as in sqlite3.h:
**   - Every symbol starts with twospeed_, every constant with TWOSPEED_.
**   - Handles are opaque. Strings are UTF-8 and NUL-terminated.
**   - Every function tolerates NULL arguments: it returns an error code, NULL, or does nothing.
**   - Error codes are stable: a code keeps its number and meaning in every later version.
**
** Example:
**
**     twospeed_engine *eng;
**     if (twospeed_open("portfolios.db", &eng) != TWOSPEED_OK) { ... }
**     char *res = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}");
**     puts(res);
**     twospeed_free(res);
**     twospeed_close(eng);
*/
#ifndef TWOSPEED_H
#define TWOSPEED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** The version of the library this header belongs to, and of its C ABI. The ABI version changes only
** when an existing function or constant changes in a way old callers would notice; new functions are
** added within the same ABI version (twospeed_open_v2, twospeed_open_error), so a caller that needs
** one looks it up with dlsym or requires a library at least as new as this header's TWOSPEED_VERSION.
*/
#define TWOSPEED_VERSION      "0.1.0"
#define TWOSPEED_ABI_VERSION  1
/*
** TWOSPEED_VERSION as one integer, MAJOR * 1000000 + MINOR * 1000 + PATCH (0.1.0 is 1000, 1.2.3 would
** be 1002003), as SQLITE_VERSION_NUMBER does, for #if: `#if TWOSPEED_VERSION_NUMBER >= 1000`. The
** library's own is twospeed_version(); test_abi checks that the two agree.
*/
#define TWOSPEED_VERSION_NUMBER 1000

/*
** Result codes of twospeed_open. Zero is success; the others never change their number.
*/
#define TWOSPEED_OK          0   /* Success. */
#define TWOSPEED_EINVAL      1   /* A required argument is NULL (out). */
#define TWOSPEED_ECANTOPEN   2   /* The store file cannot be opened or created (path, permissions). */
#define TWOSPEED_ENOTSTORE   3   /* The file exists but is not a TwoSpeed store, or is corrupt. */
#define TWOSPEED_ESCHEMA     4   /* The store was written by a newer version of TwoSpeed. */
#define TWOSPEED_EIO         5   /* The store could not be read or migrated. */
#define TWOSPEED_ENOMEM      6   /* Out of memory. */
#define TWOSPEED_EOPTIONS    7   /* twospeed_open_v2: the options are not JSON, or name an unknown option. */
#define TWOSPEED_NOREPLY     8   /* twospeed_call_rc: the request was a notification (no id); nothing answers it. */

/*
** JSON-RPC error codes in responses. -32700..-32603 are JSON-RPC 2.0's own; the engine's own errors
** count down from -32000. Each error's "data" object carries "pointer" (a JSON pointer into the
** request's params, where there is one), "reason", and for validation "errors": every failure.
*/
#define TWOSPEED_RPC_PARSE_ERROR        (-32700) /* Not JSON: data has reason, line, column, position. */
#define TWOSPEED_RPC_INVALID_REQUEST    (-32600) /* Not a JSON-RPC 2.0 request; from twospeedd also a
                                                    message left unfinished past --message-timeout. */
#define TWOSPEED_RPC_METHOD_NOT_FOUND   (-32601)
#define TWOSPEED_RPC_INVALID_PARAMS     (-32602) /* data.errors lists every failure with its pointer. */
#define TWOSPEED_RPC_INTERNAL_ERROR     (-32603)
#define TWOSPEED_RPC_NOT_FOUND          (-32000) /* A named portfolio or entity does not exist. */
#define TWOSPEED_RPC_CONFLICT           (-32001) /* The change would leave references dangling. */
#define TWOSPEED_RPC_STORE_ERROR        (-32002) /* The store failed; nothing was changed. */
#define TWOSPEED_RPC_TOO_LARGE          (-32003) /* The request exceeds 64 MiB (data.limit). */
#define TWOSPEED_RPC_READ_ONLY          (-32004) /* The caller may not: it may only read, or the method is an administrator's. */
#define TWOSPEED_RPC_REVISION_MISMATCH  (-32005) /* ifRevision did not match (data.revision). */
#define TWOSPEED_RPC_PLUGIN_ERROR       (-32006) /* A plugin failed or answered an error (data.plugin). */
#define TWOSPEED_RPC_PEER_REFUSED       (-32010) /* twospeedd: the peer may not connect. */
#define TWOSPEED_RPC_TOO_MANY_CLIENTS   (-32011) /* twospeedd: --max-clients or --max-clients-per-uid
                                                    reached; data.option names which. */

/* An engine: one store and its method table. Opaque. */
typedef struct twospeed_engine twospeed_engine;

/* jansson's value type, for twospeed_call_json. Include <jansson.h> to use it. */
struct json_t;

/*
** Opens an engine on the store at path, creating the file if it does not exist and migrating an
** older store forward. path NULL or ":memory:" keeps everything in memory, lost on close.
**
** A new store file, and the -wal and -shm files beside it, is created with mode 0600 (less the umask):
** readable by its owner only, unless twospeed_open_v2's "fileMode" says otherwise; an existing file
** keeps its mode. A file that is not a TwoSpeed store, or a store of a newer schema version, is refused
** before anything is written to it: it is left byte for byte as it was.
**
** A path that is a libpq URI ("postgresql://..." or "postgres://...") opens a PostgreSQL store instead,
** shared by every engine and daemon that opens it (docs/deployment.md). libpq (libpq.so.5) is loaded on
** that first open only; without it the open fails with TWOSPEED_ECANTOPEN, naming the package. Give the
** password through ~/.pgpass or PGPASSWORD; one in the URI is shown as *** in every message.
**
** Returns TWOSPEED_OK and sets *out to a new engine, which the caller closes with twospeed_close.
** Otherwise returns a TWOSPEED_E* code and sets *out to NULL (out NULL: TWOSPEED_EINVAL), and
** twospeed_open_error() says why.
**
** Thread safety: may be called from any thread. Opening the same file from two engines at once is
** safe for the file but each engine sees only its own writes until reopened; give one store one engine.
*/
int twospeed_open(const char *path, twospeed_engine **out);

/*
** Opens an engine as twospeed_open does, with options given as a JSON object (NULL for none):
**
**     {"plugins": "/etc/twospeed/plugins",   a folder of plugin manifests to load (see twospeed_plugin.h)
**      "maxRequestBytes": 67108864,          the largest request twospeed_call accepts
**      "fileMode": "0640"}                   the mode of a new store file, in octal (default "0600")
**
** Returns TWOSPEED_EOPTIONS when options_json is not such an object; twospeed_open_error() then names
** the option. Plugins do not stop the engine: a plugins folder that cannot be read gives an engine with
** no plugins, and a manifest that does not load is left out, with plugin.list reporting its reasons.
*/
int twospeed_open_v2(const char *path, const char *options_json, twospeed_engine **out);

/*
** Why the last twospeed_open or twospeed_open_v2 on the calling thread failed, in English, in the
** manner of dlerror(); NULL when that call succeeded or when this thread has not called either.
** For example:
**
**     options: /plugin: unknown field; expected one of: plugins, maxRequestBytes, fileMode
**     options are not JSON: invalid token near 'nope' (line 1, column 4)
**     cannot open store "/no/such/dir/s.db": unable to open database file
**     store "/etc/passwd": prepare: file is not a database
**     store "/tmp/s.db" has schema version 99; this library reads up to 4
**
** The text is for people (logs, error messages); its wording may change, so a program decides by the
** TWOSPEED_E* code. The message is the thread's own: a failed open on another thread does not change it.
** The library owns the string: do not free it. It stays valid until the next twospeed_open or
** twospeed_open_v2 on the same thread, or until the thread exits.
*/
const char *twospeed_open_error(void);

/*
** Answers one JSON-RPC 2.0 request, or a batch, given as UTF-8 JSON text.
**
** Returns a NUL-terminated JSON-RPC 2.0 response (or batch response) on one line. A request without an
** "id" is a notification: the method runs but nothing answers it, so for a lone notification, or a
** batch of notifications only, this returns an empty string "" (twospeed_call_rc returns
** TWOSPEED_NOREPLY instead). The caller owns the result and frees it with twospeed_free.
**
** Bad input of any kind (not JSON, invalid UTF-8, nesting deeper than 2048, duplicate keys, wrong
** types, unknown fields, dangling references, more than 64 MiB) gives a JSON-RPC error response, never
** a crash, and changes nothing.
**
** Returns NULL only when out of memory or when engine or request_json is NULL.
**
** Durability: when a response to a request that changes data arrives, the change is on disk.
**
** Thread safety: one engine may be called from several threads at once; reads run in parallel,
** writes one at a time. A read answers from the last committed state of its portfolio and never
** waits for a write's commit; writes to one portfolio queue on that portfolio alone (the SQLite store
** still commits one transaction at a time). The store never shares an SQLite connection between
** threads: writes go through one connection, reads of a file store through reader connections of
** their own.
**
** Stack: the request is parsed and checked on the calling thread, and JSON nested up to the 2048
** levels accepted needs about 200 KiB of that thread's stack. Call from threads with at least 256 KiB
** (glibc's default is 8 MiB; musl's default of 128 KiB is too small).
*/
char *twospeed_call(twospeed_engine *engine, const char *request_json);

/*
** Answers a request as twospeed_call does and says how it ended, in the manner of sqlite3's result
** codes, so that telling success from failure needs no JSON parser. Sets *response to the whole reply,
** the same text twospeed_call returns (free it with twospeed_free), or to NULL when there is none, and
** returns:
**   TWOSPEED_OK         the reply is a result (for a batch: every member is);
**   TWOSPEED_RPC_*      a negative JSON-RPC error code: the reply is an error response, and this is its
**                       error.code (for a batch: the first error's), its data in *response;
**   TWOSPEED_NOREPLY    the request was a notification (it has no "id"), or a batch of them: the method
**                       ran but nothing answers it, and *response is NULL. A request meant to be
**                       answered needs an id;
**   TWOSPEED_EINVAL     engine, request_json or response is NULL (*response is NULL if it can be set);
**   TWOSPEED_ENOMEM     out of memory.
** Positive codes are the library's own, negative ones the reply's; the rest is as for twospeed_call.
*/
int twospeed_call_rc(twospeed_engine *engine, const char *request_json, char **response);

/*
** The same with jansson values. Borrows request (the caller keeps its reference) and returns a new
** reference that the caller releases with json_decref, or NULL for notifications only and when
** engine or request is NULL.
*/
struct json_t *twospeed_call_json(twospeed_engine *engine, struct json_t *request);

/* Frees a string returned by twospeed_call. NULL is a no-op. */
void twospeed_free(void *p);

/*
** Closes the engine and its store. NULL is a no-op. No call may be running on the engine, and the
** handle is invalid afterwards.
*/
void twospeed_close(twospeed_engine *engine);

/* The library's semantic version, e.g. "0.1.0". A static string: do not free it. */
const char *twospeed_version(void);

/* The ABI version the library implements (TWOSPEED_ABI_VERSION of its header). */
int twospeed_abi_version(void);

/* An English description of a TWOSPEED_E* code. A static string: do not free it. */
const char *twospeed_errstr(int code);

#ifdef __cplusplus
}
#endif

#endif /* TWOSPEED_H */
