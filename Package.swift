// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the request path uses only the Swift standard
// library, Glibc, libfcgi and (to forward) libcurl, which keeps CGI start-up cheap.
let package = Package(
    name: "pixelgate",
    products: [
        .executable(name: "pixelgate", targets: ["pixelgate"]),
    ],
    targets: [
        // libfcgi, through pkg-config `fcgi`. Only PixelServer imports it.
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
        .target(name: "PixelCore"),
        // The spool, forwarding and the drain: the only module that writes
        // files or talks HTTP.
        .target(name: "PixelSpool", dependencies: ["PixelCore", "CCurl", "CZlib"]),
        // CGI and FastCGI transports: the only importer of CFastCGI.
        .target(name: "PixelServer", dependencies: ["PixelCore", "PixelSpool", "CFastCGI"]),
        .executableTarget(name: "pixelgate", dependencies: ["PixelCore", "PixelSpool", "PixelServer"]),
        .executableTarget(
            name: "pixelgate-bench",
            dependencies: ["PixelCore", "PixelSpool"],
            path: "bench/Sources/pixelgate-bench"
        ),
        .testTarget(name: "PixelCoreTests", dependencies: ["PixelCore"]),
        .testTarget(name: "PixelSpoolTests", dependencies: ["PixelCore", "PixelSpool"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PixelCore"]),
    ],
    swiftLanguageModes: [.v6]
)
