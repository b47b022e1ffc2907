/*
 * Checks scripts/glibc-2.28.c and scripts/start.c as the release binary
 * uses them (DistTests): linked the same way, against glibc 2.28, with
 * gcc's unwinder. Prints "frames N" (frames _Unwind_Backtrace walked
 * through _dl_find_object), "random A B" (two arc4random values) and
 * "arguments N FIRST LAST" as the Swift standard library would get them
 * from start.c, which must be main's.
 */
#include <stdint.h>
#include <stdio.h>
#include <unwind.h>

uint32_t arc4random(void);
__attribute__((swiftcall)) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen);

static _Unwind_Reason_Code count(struct _Unwind_Context *context, void *frames) {
    (void)context;
    ++*(int *)frames;
    return _URC_NO_REASON;
}

__attribute__((noinline)) static int inner(void) {
    int frames = 0;
    _Unwind_Backtrace(count, &frames);
    return frames;
}

__attribute__((noinline)) static int outer(void) { return inner() + 0; }

int pixelgate_main(int argc, char **argv) {
    printf("frames %d\n", outer());
    printf("random %u %u\n", arc4random(), arc4random());
    int count = -1;
    char **given = _swift_stdlib_getUnsafeArgvArgc(&count);
    printf("arguments %d %s %s\n", count, given == argv && count == argc ? "same" : "different", given[count - 1]);
    return 0;
}
