// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the request path uses only the Swift standard
// library, Glibc, libfcgi and (to forward) libcurl, which keeps CGI start-up cheap.

// Release builds make concrete generic types' metadata with direct calls
// rather than by demangling their names at run time: a CGI start paid about
// a fifth of its instructions to `swift_getTypeByMangledName` (BENCHMARKS.md,
// "A hit's budget").
let directMetadata: [String] = ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]
// ... and leave out the two modules every file imports unless told not to,
// which pixelgate does not use (no async code, no regular expressions):
// their code, metadata and relocations went into the binary all the same.
// Each function gets a section of its own, so that scripts/build can lay
// out the ones a CGI hit runs together (scripts/hot-functions.txt) and drop
// those nothing calls.
let fastStart: [SwiftSetting] = [
    .unsafeFlags(directMetadata + ["-Xfrontend", "-disable-implicit-concurrency-module-import",
                                   "-Xfrontend", "-disable-implicit-string-processing-module-import",
                                   "-Xfrontend", "-function-sections"],
                 .when(configuration: .release)),
]
// The benchmark's top-level code keeps its globals on the main actor, which
// needs the concurrency module.
let fastBench: [SwiftSetting] = [.unsafeFlags(directMetadata, .when(configuration: .release))]

let package = Package(
    name: "pixelgate",
    products: [
        .executable(name: "pixelgate", targets: ["pixelgate"]),
    ],
    targets: [
        // The kernel and libc calls Swift's Glibc module leaves out (fork,
        // prctl, environ, getrandom, epoll). Only PixelSystem imports it.
        .systemLibrary(name: "CSystem"),
        // libfcgi, through pkg-config `fcgi`. Only PixelServer's FastCGI
        // request adapter imports it.
        .systemLibrary(
            name: "CFastCGI",
            pkgConfig: "fcgi",
            providers: [.apt(["libfcgi-dev"])]
        ),
        // libcurl's header only: the library is dlopen()ed by the code that
        // forwards or drains, so CGI hits in spool mode never load it.
        // Only PixelSpool imports it.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // zlib's header only, likewise dlopen()ed, for gzip request bodies.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Pure: query string → event → answer. No I/O, no clock, no C.
        .target(name: "PixelCore", swiftSettings: fastStart),
        // The platform: every libc and kernel call (files, clocks, threads,
        // signals, processes, sockets, randomness) behind one wrapper with
        // errno in its errors. Depends on nothing of pixelgate's.
        .target(name: "PixelSystem", dependencies: ["CSystem"], swiftSettings: fastStart),
        // The spool, forwarding and the drain: the only module that writes
        // files or talks HTTP.
        .target(name: "PixelSpool", dependencies: ["PixelCore", "PixelSystem", "CCurl", "CZlib"], swiftSettings: fastStart),
        // CGI and FastCGI transports, the connection pool, the supervisor:
        // the only importer of CFastCGI.
        .target(name: "PixelServer", dependencies: ["PixelCore", "PixelSpool", "PixelSystem", "CFastCGI"], swiftSettings: fastStart),
        .executableTarget(name: "pixelgate", dependencies: ["PixelCore", "PixelSpool", "PixelServer", "PixelSystem"], swiftSettings: fastStart),
        .executableTarget(
            name: "pixelgate-bench",
            dependencies: ["PixelCore", "PixelSpool", "PixelSystem"],
            path: "bench/Sources/pixelgate-bench",
            swiftSettings: fastBench
        ),
        .testTarget(name: "PixelCoreTests", dependencies: ["PixelCore"]),
        .testTarget(name: "PixelSystemTests", dependencies: ["PixelSystem"]),
        .testTarget(name: "PixelSpoolTests", dependencies: ["PixelCore", "PixelSpool", "PixelSystem"]),
        .testTarget(name: "PixelServerTests", dependencies: ["PixelCore", "PixelSpool", "PixelServer", "PixelSystem"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PixelCore"]),
    ],
    swiftLanguageModes: [.v6]
)
