#ifndef PIXELGATE_CCURL_SHIM_H
#define PIXELGATE_CCURL_SHIM_H

#include <curl/curl.h>
#include <dlfcn.h>
#include <string.h>

/* Stateless helpers only (see CFastCGI/shim.h for why). curl_easy_setopt
   and curl_easy_getinfo are variadic, which Swift cannot call. */

typedef struct {
    char *data;        /* caller's buffer for the first bytes of the answer */
    size_t capacity;
    size_t length;
} pixelgate_answer;

static size_t pixelgate_curl_keep_answer(char *ptr, size_t size, size_t nmemb, void *userdata) {
    pixelgate_answer *answer = (pixelgate_answer *)userdata;
    size_t n = size * nmemb;
    size_t room = answer->capacity - answer->length;
    size_t take = n < room ? n : room;
    memcpy(answer->data + answer->length, ptr, take);
    answer->length += take;
    return n; /* the rest is read and dropped, not an error */
}

/* libcurl's entry points, found at run time. pixelgate does not link
   libcurl: loading it and its ~35 dependencies would cost every CGI hit
   about 10 ms, while only forwarding and the drain use it. The caller owns
   this struct (no state lives in this header). */
typedef struct {
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} pixelgate_curl_api;

/* dlopen()s libcurl and fills `api`. Returns 0, or -1 with `error` set. */
static inline int pixelgate_curl_load(pixelgate_curl_api *api, const char **error) {
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { *error = dlerror(); return -1; }
    api->easy_init = (CURL *(*)(void))dlsym(lib, "curl_easy_init");
    api->easy_cleanup = (void (*)(CURL *))dlsym(lib, "curl_easy_cleanup");
    api->easy_reset = (void (*)(CURL *))dlsym(lib, "curl_easy_reset");
    api->easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))dlsym(lib, "curl_easy_setopt");
    api->easy_perform = (CURLcode (*)(CURL *))dlsym(lib, "curl_easy_perform");
    api->easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))dlsym(lib, "curl_easy_getinfo");
    api->easy_strerror = (const char *(*)(CURLcode))dlsym(lib, "curl_easy_strerror");
    api->slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))dlsym(lib, "curl_slist_append");
    api->slist_free_all = (void (*)(struct curl_slist *))dlsym(lib, "curl_slist_free_all");
    if (!api->easy_init || !api->easy_cleanup || !api->easy_reset || !api->easy_setopt || !api->easy_perform ||
        !api->easy_getinfo || !api->easy_strerror || !api->slist_append || !api->slist_free_all) {
        *error = "libcurl lacks an expected function";
        return -1;
    }
    return 0;
}

/* One POST of `body` to `url` with the given header lines, on a reusable
   easy handle (keeps the connection between calls). Proxies from the
   environment are ignored (httpoxy: a CGI process gets HTTP_PROXY from the
   client's "Proxy:" header), and so are redirects: a data plane that
   redirects is misconfigured, and the caller says so. Returns the CURLcode;
   fills the HTTP status, Retry-After in seconds (-1 when absent), where a
   redirect points (NULL when none; valid until the next call on `curl`)
   and the answer's first bytes; on an error, `errors` (CURL_ERROR_SIZE
   bytes) holds libcurl's own words for it, which say more than the
   code's ("wrong version number" for TLS spoken to a plain-HTTP port). */
static inline int pixelgate_curl_post(const pixelgate_curl_api *api, CURL *curl, const char *url, struct curl_slist *headers,
                                      const void *body, long body_length, long timeout_ms,
                                      long *status, long *retry_after, const char **location, pixelgate_answer *answer,
                                      char *errors) {
    api->easy_reset(curl);
    api->easy_setopt(curl, CURLOPT_URL, url);
    api->easy_setopt(curl, CURLOPT_POST, 1L);
    api->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    api->easy_setopt(curl, CURLOPT_POSTFIELDSIZE, body_length);
    api->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    api->easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    api->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    api->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    api->easy_setopt(curl, CURLOPT_PROXY, "");
    api->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    api->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    api->easy_setopt(curl, CURLOPT_WRITEFUNCTION, pixelgate_curl_keep_answer);
    api->easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    errors[0] = 0;
    api->easy_setopt(curl, CURLOPT_ERRORBUFFER, errors);
    CURLcode rc = api->easy_perform(curl);
    /* The buffer is the caller's for this call only. */
    api->easy_setopt(curl, CURLOPT_ERRORBUFFER, (char *)NULL);
    *status = 0;
    api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_off_t after = -1;
    if (api->easy_getinfo(curl, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after <= 0) after = -1;
    *retry_after = (long)after;
    *location = NULL;
    api->easy_getinfo(curl, CURLINFO_REDIRECT_URL, location);
    return (int)rc;
}

#endif
