import Testing
@testable import PixelSpool

/// How a spool directory's path is read: which spellings are refused
/// before anything is opened, and how the layout tidies slashes. Both are
/// now done by bytes on every CGI start (issue 27), and must say what the
/// `Character` versions said.
@Suite("The spool's path as written")
struct SpoolPathTests {
    @Test(arguments: ["/", "//", "/srv//spool", "/srv/spool/", "/srv/./spool", "/srv/../spool", "/srv/spool/.",
                      "/srv/spool/..", "/.", "/..", "/srv/spool//"])
    func aPathWithAnEmptyDotOrDotDotPartIsRefused(_ path: String) {
        #expect(!SpoolOwnership.isPlainAbsolute(path))
        let error = #expect(throws: SpoolError.self) { try SpoolOwnership.checkSpelling(path) }
        #expect(error?.unsafeBecause?.contains("plain absolute path") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["/srv", "/srv/spool", "/srv/.spool", "/srv/spool./x", "/srv/.../spool", "/srv/..x", "/a/b/c/d/e",
                      "/var/spool/pixelgate-é"])
    func aPlainAbsolutePathIsTaken(_ path: String) throws {
        #expect(SpoolOwnership.isPlainAbsolute(path))
        try SpoolOwnership.checkSpelling(path)
    }

    @Test(arguments: ["", "srv/spool", "./spool"])
    func aRelativePathIsRefused(_ path: String) {
        let error = #expect(throws: SpoolError.self) { try SpoolOwnership.checkSpelling(path) }
        #expect(error?.unsafeBecause?.contains("must name an absolute path") == true, "\(String(describing: error))")
    }

    @Test func theParentsOfAPathAreEachDirectoryUpToTheRoot() {
        #expect(SpoolOwnership.chain("/var/spool/pixelgate") == ["/var/spool/pixelgate", "/var/spool", "/var", "/"])
        #expect(SpoolOwnership.chain("/srv") == ["/srv", "/"])
        #expect(SpoolOwnership.chain("/") == ["/"])
        #expect(SpoolOwnership.chain("/héé/ü") == ["/héé/ü", "/héé", "/"])
    }

    @Test(arguments: [("/srv/spool", "/srv/spool"), ("/srv//spool/", "/srv/spool"), ("/srv/spool///", "/srv/spool"),
                      ("/", "/"), ("//", "/"), ("///srv", "/srv"), ("/srv/ü//x", "/srv/ü/x"), ("relative/", "relative")])
    func theLayoutDropsDoubledAndTrailingSlashes(_ given: String, _ expected: String) {
        #expect(SpoolLayout(directory: given).directory == expected)
    }
}
