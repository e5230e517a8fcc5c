/*
** team-size-check: an in-process TwoSpeed plugin in C (see include/twospeed_plugin.h).
**
** Born-digital firms keep application teams small (McKinsey, "A two-speed IT architecture for the
** digital enterprise"). This check flags teams above a size limit and the products they carry, as a
** finding that joins the assessment's own. The limit is 10 people, or TWOSPEED_MAX_TEAM_SIZE in the
** host's environment when a company draws the line elsewhere.
**
** Build: cc -std=c99 -shared -fPIC -Iinclude team_size_check.c -o libteam_size_check.so -ljansson
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twospeed_plugin.h"

static char *reply(json_t *id, json_t *result, int code, const char *message) {
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    if (result) json_object_set_new(r, "result", result);
    else json_object_set_new(r, "error", json_pack("{s:i, s:s}", "code", code, "message", message));
    json_object_set(r, "id", id ? id : json_null());
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return text;
}

static long size_limit(void) {
    const char *s = getenv("TWOSPEED_MAX_TEAM_SIZE");
    long v = s ? strtol(s, NULL, 10) : 0;
    return v > 0 ? v : 10;
}

/* check.run: one finding listing every oversized team and the products it carries. */
static json_t *check(json_t *portfolio) {
    long limit = size_limit();
    json_t *subjects = json_array(), *evidence = json_array();
    size_t i, j;
    json_t *team, *product;
    json_array_foreach(json_object_get(portfolio, "teams"), i, team) {
        json_int_t size = json_integer_value(json_object_get(team, "size"));
        if (size <= limit) continue;
        const char *tid = json_string_value(json_object_get(team, "id"));
        const char *tname = json_string_value(json_object_get(team, "name"));
        json_array_append_new(subjects, json_pack("{s:s, s:s, s:s}", "kind", "team", "id", tid, "name", tname));
        char line[600];
        int carried = 0;
        json_array_foreach(json_object_get(portfolio, "products"), j, product) {
            const char *pt = json_string_value(json_object_get(product, "team"));
            if (pt && strcmp(pt, tid) == 0) carried++;
        }
        snprintf(line, sizeof line, "%s has %lld people (limit %ld) and carries %d product%s", tname, (long long)size, limit,
                 carried, carried == 1 ? "" : "s");
        json_array_append_new(evidence, json_string(line));
    }
    json_t *findings = json_array();
    if (json_array_size(subjects) > 0) {
        json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:[s, s], s:s}",
            "pitfall", "oversized-teams", "name", "Oversized teams", "severity", "medium",
            "subjects", subjects, "evidence", evidence,
            "recommendation", "Split each oversized team around the experiences it serves, so that product managers and engineers can codevelop in small groups.",
            "criteria", "collaboration.small-teams", "collaboration.codevelop",
            "source", "McKinsey, 'A two-speed IT architecture for the digital enterprise'"));
    } else {
        json_decref(subjects);
        json_decref(evidence);
    }
    return json_pack("{s:o}", "findings", findings);
}

static char *call(void *state, const char *request_json) {
    (void)state;
    json_error_t err;
    json_t *req = json_loads(request_json, 0, &err);
    if (!req) return reply(NULL, NULL, -32700, "Parse error");
    json_t *id = json_object_get(req, "id");
    const char *method = json_string_value(json_object_get(req, "method"));
    json_t *params = json_object_get(req, "params");
    char *out;
    if (method && strcmp(method, "check.run") == 0 && json_is_object(json_object_get(params, "portfolio")))
        out = reply(id, check(json_object_get(params, "portfolio")), 0, NULL);
    else if (method && strcmp(method, "check.run") == 0)
        out = reply(id, NULL, -32602, "Invalid params: portfolio required");
    else if (method && strcmp(method, "plugin.ping") == 0)
        out = reply(id, params ? json_incref(params) : json_object(), 0, NULL);
    else
        out = reply(id, NULL, -32601, "Method not found");
    json_decref(req);
    return out;
}

static void release(void *state, char *response) {
    (void)state;
    free(response);
}

int twospeed_plugin_init(twospeed_plugin *plugin, uint32_t host_abi_version, uint32_t host_struct_size) {
    if (host_abi_version != TWOSPEED_PLUGIN_ABI_VERSION || host_struct_size < sizeof *plugin) return 1;
    plugin->abi_version = TWOSPEED_PLUGIN_ABI_VERSION;
    plugin->struct_size = sizeof *plugin;
    plugin->name = "team-size-check";
    plugin->version = "1.0.0";
    plugin->extension_points = "check";
    plugin->call = call;
    plugin->release = release;
    plugin->state = NULL;
    return 0;
}
