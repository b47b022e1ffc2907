/* The CGI baseline: a C program that answers "OK" and exits, for the
 * per-request cost of plain CGI in bench/cgi.sh. */
#include <unistd.h>

static const char answer[] =
    "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nOK";

int main(void) {
    return write(1, answer, sizeof answer - 1) == (ssize_t)(sizeof answer - 1) ? 0 : 1;
}
