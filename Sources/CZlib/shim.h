#ifndef PIXELGATE_CZLIB_SHIM_H
#define PIXELGATE_CZLIB_SHIM_H

#include <zlib.h>
#include <dlfcn.h>
#include <string.h>

/* zlib's entry points, found at run time by the code that compresses
   request bodies (the drain, forwarding), so a CGI hit never loads it.
   The caller owns this struct: no state lives in this header. */
typedef struct {
    int (*deflate_init2)(z_streamp, int, int, int, int, int, const char *, int);
    int (*deflate)(z_streamp, int);
    int (*deflate_end)(z_streamp);
} pixelgate_zlib_api;

static inline int pixelgate_zlib_load(pixelgate_zlib_api *api) {
    void *lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return -1;
    api->deflate_init2 = (int (*)(z_streamp, int, int, int, int, int, const char *, int))dlsym(lib, "deflateInit2_");
    api->deflate = (int (*)(z_streamp, int))dlsym(lib, "deflate");
    api->deflate_end = (int (*)(z_streamp))dlsym(lib, "deflateEnd");
    return (api->deflate_init2 && api->deflate && api->deflate_end) ? 0 : -1;
}

/* gzip (RFC 1952) of `in` into `out`; returns the length written, or -1
   when `out` is too small or zlib fails. */
static inline long pixelgate_gzip(const pixelgate_zlib_api *api, const void *in, size_t in_length,
                                  void *out, size_t out_capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
    if (api->deflate_init2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK)
        return -1;
    stream.next_in = (Bytef *)in;
    stream.avail_in = (uInt)in_length;
    stream.next_out = (Bytef *)out;
    stream.avail_out = (uInt)out_capacity;
    int rc = api->deflate(&stream, Z_FINISH);
    long written = rc == Z_STREAM_END ? (long)stream.total_out : -1;
    api->deflate_end(&stream);
    return written;
}

#endif
