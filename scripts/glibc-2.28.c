/*
 * Linked into the release binary by scripts/build so that it needs nothing
 * newer than glibc 2.28 (RHEL/Alma/CloudLinux 8, Debian 10, Ubuntu 20.04).
 *
 * The Swift runtime, libstdc++ and libgcc's unwinder come as archives built
 * against a newer glibc, and reference three symbols that 2.28 lacks. Each
 * is defined here with behaviour that is correct on any glibc; the binary's
 * own definition is the one its code uses, on old and new hosts alike.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>

/* glibc 2.36. Kernel randomness, as glibc's own does: getrandom(2) (glibc
 * 2.25) blocks only until the pool is first initialised. */
uint32_t arc4random(void) {
    uint32_t value;
    for (;;) {
        ssize_t n = getrandom(&value, sizeof value, 0);
        if (n == (ssize_t)sizeof value) return value;
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            /* No getrandom(2) (a kernel before 3.17): nothing sound to
             * fall back on; stop rather than hand out weak values. */
            __builtin_trap();
        }
    }
}

/* glibc 2.32. libstdc++ skips atomic reference counting when this is
 * non-zero; zero ("not known to be single-threaded") is always safe. */
char __libc_single_threaded = 0;

/* glibc 2.35. libgcc's unwinder asks this first and, on failure, walks the
 * loaded objects with dl_iterate_phdr(3), as it does on older glibc. */
struct dl_find_object;
int _dl_find_object(void *address, struct dl_find_object *result) {
    (void)address;
    (void)result;
    return -1;
}

/* SwiftPM names the executable's entry point pixelgate_main (its own link
 * maps main to it with --defsym, which zig cc does not pass on). */
int pixelgate_main(int argc, char **argv);
int main(int argc, char **argv) { return pixelgate_main(argc, argv); }
