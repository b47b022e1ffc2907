/*
 * Linked into the release binary by scripts/build so that it needs nothing
 * newer than glibc 2.28 (RHEL/Alma/CloudLinux 8, Debian 10, Ubuntu 20.04).
 *
 * The Swift runtime, libstdc++ and libgcc's unwinder come as archives built
 * against a newer glibc, and reference three symbols that 2.28 lacks. Each
 * is defined here with glibc's own behaviour, built on calls 2.28 has; the
 * binary's own definition is the one its code uses, on old and new hosts
 * alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <unistd.h>

/* glibc 2.36. Kernel randomness, as glibc's own is: getrandom(2) (glibc
 * 2.25), which blocks only until the pool is first initialised; where the
 * system call is missing or filtered (an old kernel, a seccomp policy),
 * /dev/urandom, as glibc falls back to. */
uint32_t arc4random(void) {
    uint32_t value;
    for (;;) {
        ssize_t n = getrandom(&value, sizeof value, 0);
        if (n == (ssize_t)sizeof value) return value;
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) break;
    }
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        size_t got = 0;
        while (got < sizeof value) {
            ssize_t n = read(fd, (char *)&value + got, sizeof value - got);
            if (n > 0) got += (size_t)n;
            else if (n < 0 && errno == EINTR) continue;
            else break;
        }
        close(fd);
        if (got == sizeof value) return value;
    }
    /* No source of randomness at all: stop rather than hand out weak values. */
    __builtin_trap();
}

/* glibc 2.32. libstdc++ skips atomic reference counting when this is
 * non-zero; zero ("not known to be single-threaded") is always safe. */
char __libc_single_threaded = 0;

/* glibc 2.35. libgcc's unwinder (GCC 12 and later) asks this for the
 * object holding a code address and its unwind table, with no fallback of
 * its own: so it is answered here as glibc does, from the loaded objects'
 * program headers (dl_iterate_phdr, glibc 2.2.5), into <dlfcn.h>'s
 * struct dl_find_object. */
struct find_state {
    uintptr_t address;
    struct dl_find_object *result;
    int found;
};

static int find_in_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct find_state *state = data;
    uintptr_t start = UINTPTR_MAX, end = 0, eh_frame = 0;
    int holds = 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        uintptr_t from = info->dlpi_addr + header->p_vaddr;
        if (header->p_type == PT_LOAD) {
            uintptr_t to = from + header->p_memsz;
            if (from < start) start = from;
            if (to > end) end = to;
            if (state->address >= from && state->address < to) holds = 1;
        } else if (header->p_type == PT_GNU_EH_FRAME) {
            eh_frame = from;
        }
    }
    if (!holds) return 0;
    state->result->dlfo_flags = 0;
    state->result->dlfo_map_start = (void *)start;
    state->result->dlfo_map_end = (void *)end;
    state->result->dlfo_link_map = NULL;
    state->result->dlfo_eh_frame = (void *)eh_frame;
    state->found = 1;
    return 1;
}

int _dl_find_object(void *address, struct dl_find_object *result) {
    struct find_state state = { (uintptr_t)address, result, 0 };
    dl_iterate_phdr(find_in_object, &state);
    return state.found ? 0 : -1;
}
