#ifndef PIXELGATE_CFASTCGI_SHIM_H
#define PIXELGATE_CFASTCGI_SHIM_H

#include <fcgiapp.h>

/* Only stateless helpers here: a static variable in this header would be
   copied into every object file that inlines it, and a release build then
   reads a copy the writer never touched. */
#include <unistd.h>

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
