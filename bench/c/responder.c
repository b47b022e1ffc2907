/* The FastCGI baseline: the least a libfcgi responder can do per request
 * (accept, read the parameters, answer "OK"), for bench/fastcgi.sh. Started
 * by spawn-fcgi, which hands it the listening socket on stdin. */
#include <fcgiapp.h>

static const char answer[] =
    "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nOK";

int main(void) {
    FCGX_Request request;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&request, 0, 0) != 0) return 1;
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(answer, sizeof answer - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
