/*
 * Linked into the release binary by scripts/build: the start of the
 * process, made cheap.
 *
 * The Swift runtime's own answer to "what are argv and argc?" (its
 * CommandLine.cpp) runs a static initializer in every process that reads
 * /proc/self/maps line by line with sscanf to find the stack, then walks
 * it back to argv: about 130,000 instructions and four system calls, an
 * eighth of a CGI hit (BENCHMARKS.md, "A hit's budget"). glibc hands every
 * initializer in .init_array argc, argv and envp, so this file keeps them
 * from there and defines the two functions the standard library asks; the
 * runtime's object is then never linked, nor its initializer run.
 */

static int captured_argc;
static char **captured_argv;
static char *empty_argv[] = { 0 };
static int override_argc;
static char **override_argv;

static void capture(int argc, char **argv, char **envp) {
    (void)envp;
    captured_argc = argc;
    captured_argv = argv;
}
__attribute__((section(".init_array"), used))
static void (*const capture_arguments)(int, char **, char **) = capture;

/* As the runtime's: an override (set by the standard library's
 * CommandLine.arguments setter's callers) wins; with neither, no arguments.
 * Both in Swift's calling convention, as the runtime declares them
 * (SWIFT_CC(swift)). */
__attribute__((swiftcall))
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    if (override_argv) {
        *outArgLen = override_argc;
        return override_argv;
    }
    if (captured_argv) {
        *outArgLen = captured_argc;
        return captured_argv;
    }
    *outArgLen = 0;
    return empty_argv;
}

__attribute__((swiftcall))
void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    override_argv = argv;
    override_argc = argc;
}

/* SwiftPM names the executable's entry point pixelgate_main (its own link
 * maps main to it with --defsym, which zig cc does not pass on). */
int pixelgate_main(int argc, char **argv);
int main(int argc, char **argv) { return pixelgate_main(argc, argv); }
