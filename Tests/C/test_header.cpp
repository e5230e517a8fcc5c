/*
** test_header.cpp -- twospeed.h from C++11 (-Wall -Wextra -Werror): the header compiles as C++, its
** extern "C" block gives the functions C linkage (this links against libtwospeed.so), and an engine
** answers a call. jansson.h is included after it, as a caller of twospeed_call_json would. Prints "N passed, M failed" like test_abi.c.
*/
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "twospeed.h"
/* After twospeed.h: its forward declaration of struct json_t agrees with jansson's typedef. */
#include <jansson.h>

static int passed = 0, failed = 0;

static void check_at(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
    }
}
#define CHECK(c) check_at(static_cast<bool>(c), #c, __FILE__, __LINE__)

/* The declarations have the types the header documents. */
static_assert(std::is_same<decltype(&twospeed_open), int (*)(const char *, twospeed_engine **)>::value, "twospeed_open");
static_assert(std::is_same<decltype(&twospeed_call), char *(*)(twospeed_engine *, const char *)>::value, "twospeed_call");
static_assert(std::is_same<decltype(&twospeed_call_json), json_t *(*)(twospeed_engine *, json_t *)>::value,
              "twospeed_call_json");
static_assert(std::is_same<decltype(&twospeed_free), void (*)(void *)>::value, "twospeed_free");
static_assert(std::is_same<decltype(&twospeed_close), void (*)(twospeed_engine *)>::value, "twospeed_close");
static_assert(std::is_same<decltype(&twospeed_version), const char *(*)()>::value, "twospeed_version");
static_assert(std::is_same<decltype(&twospeed_abi_version), int (*)()>::value, "twospeed_abi_version");
static_assert(std::is_same<decltype(&twospeed_errstr), const char *(*)(int)>::value, "twospeed_errstr");
static_assert(std::is_same<decltype(&twospeed_open_v2), int (*)(const char *, const char *, twospeed_engine **)>::value,
              "twospeed_open_v2");
static_assert(std::is_same<decltype(&twospeed_open_error), const char *(*)()>::value, "twospeed_open_error");
static_assert(TWOSPEED_ABI_VERSION == 1, "ABI version");
static_assert(TWOSPEED_RPC_PARSE_ERROR == -32700 && TWOSPEED_RPC_REVISION_MISMATCH == -32005, "RPC codes");

int main() {
    CHECK(std::strcmp(twospeed_version(), TWOSPEED_VERSION) == 0);
    CHECK(twospeed_abi_version() == TWOSPEED_ABI_VERSION);
    CHECK(twospeed_errstr(TWOSPEED_ENOTSTORE) != nullptr);

    twospeed_engine *eng = nullptr;
    CHECK(twospeed_open(":memory:", &eng) == TWOSPEED_OK);
    CHECK(eng != nullptr);
    if (eng) {
        char *res = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":1}");
        CHECK(res != nullptr);
        CHECK(res && std::strstr(res, "\"version\"") != nullptr);
        CHECK(res && std::strstr(res, "\"result\"") != nullptr);
        twospeed_free(res);
        CHECK(twospeed_call(eng, nullptr) == nullptr);
        CHECK(twospeed_call_json(eng, nullptr) == nullptr);
        twospeed_close(eng);
    }
    twospeed_free(nullptr);
    twospeed_close(nullptr);
    CHECK(twospeed_open(nullptr, nullptr) == TWOSPEED_EINVAL);
    CHECK(twospeed_open_error() != nullptr);

    std::printf("%d passed, %d failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
