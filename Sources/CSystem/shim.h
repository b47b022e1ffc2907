#ifndef PIXELGATE_CSYSTEM_SHIM_H
#define PIXELGATE_CSYSTEM_SHIM_H

/* The few kernel and libc entry points Swift's Glibc module leaves out or
   marks unavailable. Only PixelSystem imports this module.

   Only stateless helpers here: a static variable in this header would be
   copied into every object file that inlines it, and a release build then
   reads a copy the writer never touched. */
#include <unistd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
/* epoll, which Swift's Glibc module leaves out: the pool threads watch the
   listening socket and the connections still delivering their requests. */
#include <sys/epoll.h>

/* Swift marks fork() unavailable; the pre-forking supervisor needs it
   before any thread exists. */
static inline pid_t pixelgate_fork(void) {
    return fork();
}

/* Asks the kernel to send SIGTERM to this process when its parent dies,
   so workers never outlive a supervisor that was killed outright.
   prctl() is variadic, which Swift cannot call. */
static inline int pixelgate_terminate_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* The process environment; Swift 6 refuses the `environ` global itself. */
extern char **environ;
static inline char **pixelgate_environment(void) {
    return environ;
}

/* The kernel CSPRNG; Swift's Glibc module does not export getrandom(). */
static inline ssize_t pixelgate_getrandom(void *buffer, size_t length) {
    return getrandom(buffer, length, 0);
}

#endif
