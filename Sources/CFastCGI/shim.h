#ifndef PIXELGATE_CFASTCGI_SHIM_H
#define PIXELGATE_CFASTCGI_SHIM_H

#include <fcgiapp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Set by SIGTERM/SIGINT; read by the accept loop and the supervisor. */
static volatile sig_atomic_t pixelgate_stop_requested = 0;

static void pixelgate_on_stop_signal(int signo) {
    (void)signo;
    pixelgate_stop_requested = 1;
    /* Makes FCGX_Accept_r return instead of waiting for the next request. */
    FCGX_ShutdownPending();
}

/* Installs the SIGTERM/SIGINT handler without SA_RESTART, so a blocking
   accept() or waitpid() returns EINTR and the loop can look at the flag
   (the way fcgiwrap stops), and unblocks both: a parent may have started
   us with them blocked, and then SIGTERM would never arrive. SIGPIPE is
   ignored: a client that went away must not kill the worker.
   Returns 0 or -1 with errno set. */
static inline int pixelgate_install_stop_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pixelgate_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGTERM, &sa, NULL) != 0) return -1;
    if (sigaction(SIGINT, &sa, NULL) != 0) return -1;
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    if (sigprocmask(SIG_UNBLOCK, &stops, NULL) != 0) return -1;
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    return sigaction(SIGPIPE, &ign, NULL);
}

static inline int pixelgate_stop_was_requested(void) {
    return pixelgate_stop_requested != 0;
}

/* Swift marks fork() unavailable; the pre-forking supervisor needs it
   before any thread exists. */
static inline pid_t pixelgate_fork(void) {
    return fork();
}

/* The process environment; Swift 6 refuses the `environ` global itself. */
extern char **environ;
static inline char **pixelgate_environment(void) {
    return environ;
}

#endif
