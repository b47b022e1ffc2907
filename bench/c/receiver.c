/*
 * A stand-in data plane for bench/drain.sh, compiled so that the drain, not
 * the stand-in, is what the benchmark measures. It checks what
 * Tests/DataPlane/receiver.py --count-only checks, and answers the same:
 *
 *   POST /v1/batch only (404 otherwise); Authorization: Basic base64(key:)
 *   with a key from --keys and an empty password (401); a body of at most
 *   4,000 KB (413); Content-Encoding gzip or none, gunzipped whole (400);
 *   the body strict JSON (RFC 8259, UTF-8) whose top level is an object
 *   with a non-empty array "batch" of objects, each with a string "type"
 *   and a truthy "anonymousId" or "userId" (400). Then one empty line per
 *   event is appended to --events and the answer is 200 OK.
 *
 * Members are matched by their bytes as written (no \u escapes in names),
 * a repeated member counts as its last value, as in Python's json.
 * A thread per connection, HTTP/1.1 keep-alive, no chunked bodies. Files
 * are appended whole per request (O_APPEND), so threads never tear a line.
 *
 *   receiver --port N --keys k1,k2 --events FILE
 *
 * FILE gets an empty line per event, FILE.requests one per accepted request.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_BODY (4000 * 1000)
#define MAX_HEADER 65536

/* ---- strict JSON ---- */

typedef struct {
    const unsigned char *p, *end;
    int depth;
} Json;

enum { FAIL = 0, STRING, NUMBER, OBJECT, ARRAY, TRUE_, FALSE_, NULL_ };

static void skip_space(Json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hex(unsigned char c) { return isxdigit(c); }

/* A string at j->p; sets *start and *length to its raw bytes between the quotes. */
static int string(Json *j, const unsigned char **start, size_t *length) {
    if (j->p >= j->end || *j->p != '"') return 0;
    const unsigned char *s = ++j->p;
    while (j->p < j->end) {
        unsigned char c = *j->p;
        if (c == '"') {
            if (start) *start = s;
            if (length) *length = (size_t)(j->p - s);
            j->p++;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (j->end - j->p < 2) return 0;
            unsigned char e = j->p[1];
            if (e == 'u') {
                if (j->end - j->p < 6 || !hex(j->p[2]) || !hex(j->p[3]) || !hex(j->p[4]) || !hex(j->p[5])) return 0;
                j->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                j->p += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (c < 0x80) { j->p++; continue; }
        /* UTF-8, Unicode Table 3-7: no overlong forms, no surrogates. */
        size_t left = (size_t)(j->end - j->p);
        const unsigned char *u = j->p;
        if (c >= 0xC2 && c <= 0xDF) {
            if (left < 2 || (u[1] & 0xC0) != 0x80) return 0;
            j->p += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (left < 3 || u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80) return 0;
            j->p += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (left < 4 || u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80) return 0;
            j->p += 4;
        } else {
            return 0;
        }
    }
    return 0;
}

/* A number; *truthy when its value is not zero. */
static int number(Json *j, int *truthy) {
    const unsigned char *p = j->p;
    int nonzero = 0;
    if (p < j->end && *p == '-') p++;
    if (p >= j->end || !isdigit(*p)) return 0;
    if (*p == '0') p++;
    else while (p < j->end && isdigit(*p)) { nonzero = 1; p++; }
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || !isdigit(*p)) return 0;
        while (p < j->end && isdigit(*p)) { if (*p != '0') nonzero = 1; p++; }
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-')) p++;
        if (p >= j->end || !isdigit(*p)) return 0;
        while (p < j->end && isdigit(*p)) p++;
    }
    j->p = p;
    *truthy = nonzero;
    return 1;
}

static int literal(Json *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return 0;
    j->p += n;
    return 1;
}

static int value(Json *j, int *truthy);

/* An object or array body after its opening bracket; *count its entries. */
static int container(Json *j, int object, int *count) {
    if (++j->depth > 512) return 0;
    *count = 0;
    skip_space(j);
    if (j->p < j->end && *j->p == (object ? '}' : ']')) { j->p++; j->depth--; return 1; }
    for (;;) {
        int truthy;
        skip_space(j);
        if (object) {
            if (!string(j, NULL, NULL)) return 0;
            skip_space(j);
            if (j->p >= j->end || *j->p++ != ':') return 0;
            skip_space(j);
        }
        if (!value(j, &truthy)) return 0;
        (*count)++;
        skip_space(j);
        if (j->p >= j->end) return 0;
        unsigned char c = *j->p++;
        if (c == ',') continue;
        if (c == (object ? '}' : ']')) { j->depth--; return 1; }
        return 0;
    }
}

/* Any value; its kind, and *truthy as Python's bool() would have it. */
static int value(Json *j, int *truthy) {
    int count;
    if (j->p >= j->end) return FAIL;
    switch (*j->p) {
    case '"': {
        size_t n;
        if (!string(j, NULL, &n)) return FAIL;
        *truthy = n > 0;
        return STRING;
    }
    case '{': j->p++; if (!container(j, 1, &count)) return FAIL; *truthy = count > 0; return OBJECT;
    case '[': j->p++; if (!container(j, 0, &count)) return FAIL; *truthy = count > 0; return ARRAY;
    case 't': *truthy = 1; return literal(j, "true") ? TRUE_ : FAIL;
    case 'f': *truthy = 0; return literal(j, "false") ? FALSE_ : FAIL;
    case 'n': *truthy = 0; return literal(j, "null") ? NULL_ : FAIL;
    default: return number(j, truthy) ? NUMBER : FAIL;
    }
}

static int is_name(const unsigned char *s, size_t n, const char *name) {
    return n == strlen(name) && memcmp(s, name, n) == 0;
}

/* One event of the batch: an object with a string "type" and a truthy
   "anonymousId" or "userId". */
static int event(Json *j) {
    if (j->p >= j->end || *j->p++ != '{') return 0;
    int type = 0, anonymous = 0, user = 0;
    skip_space(j);
    if (j->p < j->end && *j->p == '}') { j->p++; return 0; }
    for (;;) {
        const unsigned char *name;
        size_t n;
        int truthy;
        skip_space(j);
        if (!string(j, &name, &n)) return 0;
        skip_space(j);
        if (j->p >= j->end || *j->p++ != ':') return 0;
        skip_space(j);
        int kind = value(j, &truthy);
        if (kind == FAIL) return 0;
        if (is_name(name, n, "type")) type = kind == STRING;
        else if (is_name(name, n, "anonymousId")) anonymous = truthy;
        else if (is_name(name, n, "userId")) user = truthy;
        skip_space(j);
        if (j->p >= j->end) return 0;
        unsigned char c = *j->p++;
        if (c == ',') continue;
        if (c == '}') return type && (anonymous || user);
        return 0;
    }
}

/* The whole body; returns the number of events, or -1. */
static long batch_body(const unsigned char *body, size_t length) {
    Json j = {body, body + length, 1};
    long events = -1;
    skip_space(&j);
    if (j.p >= j.end || *j.p++ != '{') return -1;
    skip_space(&j);
    if (j.p < j.end && *j.p == '}') return -1;
    for (;;) {
        const unsigned char *name;
        size_t n;
        int truthy;
        skip_space(&j);
        if (!string(&j, &name, &n)) return -1;
        skip_space(&j);
        if (j.p >= j.end || *j.p++ != ':') return -1;
        skip_space(&j);
        if (is_name(name, n, "batch")) {
            if (j.p >= j.end || *j.p++ != '[') return -1;
            events = 0;
            skip_space(&j);
            if (j.p < j.end && *j.p == ']') return -1;
            for (;;) {
                skip_space(&j);
                if (!event(&j)) return -1;
                events++;
                skip_space(&j);
                if (j.p >= j.end) return -1;
                unsigned char c = *j.p++;
                if (c == ',') continue;
                if (c == ']') break;
                return -1;
            }
        } else if (value(&j, &truthy) == FAIL) {
            return -1;
        }
        skip_space(&j);
        if (j.p >= j.end) return -1;
        unsigned char c = *j.p++;
        if (c == ',') continue;
        if (c != '}') return -1;
        break;
    }
    skip_space(&j);
    return j.p == j.end ? events : -1;
}

/* ---- HTTP ---- */

static char *keys;
static const char *events_path;
static char requests_path[4096];

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int answer(int fd, int status, const char *text) {
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 401 ? "Unauthorized"
                       : status == 404 ? "Not Found" : "Request Entity Too Large";
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
                     status, reason, strlen(text));
    if (write_all(fd, head, (size_t)n) < 0) return -1;
    return write_all(fd, text, strlen(text));
}

static int key_allowed(const char *authorization) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (strncmp(authorization, "Basic ", 6) != 0) return 0;
    const char *in = authorization + 6;
    char decoded[512];
    size_t n = 0, bits = 0;
    unsigned long acc = 0;
    for (; *in && *in != '=' && *in != '\r'; in++) {
        const char *at = strchr(table, *in);
        if (!at || n >= sizeof decoded - 1) return 0;
        acc = acc << 6 | (unsigned long)(at - table);
        bits += 6;
        if (bits >= 8) { bits -= 8; decoded[n++] = (char)(acc >> bits & 0xFF); }
    }
    decoded[n] = 0;
    char *colon = strchr(decoded, ':');
    if (!colon || colon[1] != 0) return 0;  /* the password must be empty */
    *colon = 0;
    size_t length = strlen(decoded);
    for (const char *k = keys; *k;) {
        const char *comma = strchr(k, ',');
        size_t kn = comma ? (size_t)(comma - k) : strlen(k);
        if (kn == length && memcmp(k, decoded, kn) == 0 && kn > 0) return 1;
        k += kn + (comma ? 1 : 0);
    }
    return 0;
}

static unsigned char *gunzip(const unsigned char *in, size_t n, size_t *out_length) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) return NULL;
    size_t capacity = n * 8 + 4096, length = 0;
    unsigned char *out = malloc(capacity);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int rc;
    do {
        if (length == capacity) { capacity *= 2; out = realloc(out, capacity); }
        z.next_out = out + length;
        z.avail_out = (uInt)(capacity - length);
        rc = inflate(&z, Z_NO_FLUSH);
        length = capacity - z.avail_out;
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && z.avail_out == 0));
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in != 0) { free(out); return NULL; }
    *out_length = length;
    return out;
}

/* Serves one connection's requests; returns when it closes. */
static void serve(int fd) {
    static __thread char buffer[MAX_HEADER];  /* one per connection thread */
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buffer, have, "\r\n\r\n", 4))) {
            if (have == sizeof buffer) return;
            ssize_t r = read(fd, buffer + have, sizeof buffer - have);
            if (r <= 0) return;
            have += (size_t)r;
        }
        *end = 0;
        size_t header_length = (size_t)(end - buffer) + 4;
        char path[256] = "", authorization[600] = "", encoding[64] = "identity";
        long content_length = 0;
        int close_after = 0;
        if (sscanf(buffer, "POST %255s HTTP/1.1", path) != 1) return;
        for (char *line = strstr(buffer, "\r\n"); line; line = strstr(line, "\r\n")) {
            line += 2;
            char *colon = strchr(line, ':'), *next = strstr(line, "\r\n");
            if (!colon || (next && colon > next)) continue;
            char *v = colon + 1;
            while (*v == ' ') v++;
            size_t vn = next ? (size_t)(next - v) : strlen(v);
            size_t name = (size_t)(colon - line);
            if (name == 14 && !strncasecmp(line, "Content-Length", 14)) content_length = atol(v);
            else if (name == 13 && !strncasecmp(line, "Authorization", 13) && vn < sizeof authorization) { memcpy(authorization, v, vn); authorization[vn] = 0; }
            else if (name == 16 && !strncasecmp(line, "Content-Encoding", 16) && vn < sizeof encoding) { memcpy(encoding, v, vn); encoding[vn] = 0; }
            else if (name == 10 && !strncasecmp(line, "Connection", 10) && !strncasecmp(v, "close", 5)) close_after = 1;
        }
        if (content_length < 0 || content_length > 64 * 1024 * 1024) return;
        unsigned char *body = malloc((size_t)content_length + 1);
        size_t got = have - header_length < (size_t)content_length ? have - header_length : (size_t)content_length;
        memcpy(body, buffer + header_length, got);
        size_t rest = have - header_length - got;
        memmove(buffer, buffer + header_length + got, rest);
        have = rest;
        while (got < (size_t)content_length) {
            ssize_t r = read(fd, body + got, (size_t)content_length - got);
            if (r <= 0) { free(body); return; }
            got += (size_t)r;
        }
        int rc;
        if (strcmp(path, "/v1/batch") != 0) rc = answer(fd, 404, "404 page not found");
        else if (!key_allowed(authorization)) rc = answer(fd, 401, "Invalid write key");
        else if (content_length > MAX_BODY) rc = answer(fd, 413, "Request size exceeds max limit");
        else {
            unsigned char *json = body;
            size_t json_length = (size_t)content_length;
            int gzipped = !strcmp(encoding, "gzip");
            if (gzipped) json = gunzip(body, json_length, &json_length);
            if (gzipped && !json) rc = answer(fd, 400, "Invalid gzip body");
            else if (strcmp(encoding, "gzip") && strcmp(encoding, "identity")) rc = answer(fd, 400, "Invalid request body");
            else {
                long events = batch_body(json, json_length);
                if (events < 0) rc = answer(fd, 400, "Invalid request body");
                else {
                    /* Opened for each batch, as receiver.py does: the
                       benchmark removes the file between rounds. */
                    FILE *f = fopen(events_path, "a");
                    if (!f) { perror(events_path); exit(1); }
                    for (long i = 0; i < events; i++) fputc('\n', f);
                    fclose(f);
                    /* One line per accepted request, as receiver.py's
                       FILE.requests: how many requests the drain made. */
                    f = fopen(requests_path, "a");
                    if (!f) { perror(requests_path); exit(1); }
                    fputc('\n', f);
                    fclose(f);
                    rc = answer(fd, 200, "OK");
                }
            }
            if (gzipped && json) free(json);
        }
        free(body);
        if (rc < 0 || close_after) return;
    }
}

/* A connection's thread: the data plane serves many at once, as the drain
   sends several requests at once, each on its own connection. */
static void *connection(void *argument) {
    int fd = (int)(long)argument;
    serve(fd);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int port = 0;
    keys = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--keys")) keys = argv[i + 1];
        else if (!strcmp(argv[i], "--events")) events_path = argv[i + 1];
    }
    if (!port || !events_path) {
        fprintf(stderr, "usage: receiver --port N --keys k1,k2 --events FILE\n");
        return 2;
    }
    snprintf(requests_path, sizeof requests_path, "%s.requests", events_path);
    int s = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&address, sizeof address) < 0 || listen(s, 16) < 0) { perror("listen"); return 1; }
    for (;;) {
        int fd = accept(s, NULL, NULL);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        pthread_t thread;
        if (pthread_create(&thread, NULL, connection, (void *)(long)fd) != 0) { serve(fd); close(fd); continue; }
        pthread_detach(thread);
    }
}
