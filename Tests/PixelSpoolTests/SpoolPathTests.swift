import Testing
@testable import PixelSpool

/// How a spool directory's path is read: which spellings are refused
/// before anything is opened, and how the layout tidies slashes. All of it
/// is done by bytes (issue 27), as the kernel reads a path. The versions by
/// `Character` before it said the same for every path but one whose `/`
/// joins a combining mark or a prepended character into one `Character`:
/// they saw no separator there, so `/srv/\u{600}/..` passed as plain and
/// `/srv/a/\u{301}spool`'s parent `/srv/a` went unchecked.
@Suite("The spool's path as written")
struct SpoolPathTests {
    @Test(arguments: ["/", "//", "/srv//spool", "/srv/spool/", "/srv/./spool", "/srv/../spool", "/srv/spool/.",
                      "/srv/spool/..", "/.", "/..", "/srv/spool//",
                      "/srv/\u{600}/..", "/srv//\u{301}x", "/srv/x\u{600}/"])
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
        // A combining mark after the slash: the kernel's separator all the same.
        #expect(SpoolOwnership.chain("/srv/a/\u{301}spool") == ["/srv/a/\u{301}spool", "/srv/a", "/srv", "/"])
    }

    @Test(arguments: [("/srv/spool", "/srv/spool"), ("/srv//spool/", "/srv/spool"), ("/srv/spool///", "/srv/spool"),
                      ("/", "/"), ("//", "/"), ("///srv", "/srv"), ("/srv/ü//x", "/srv/ü/x"), ("relative/", "relative"),
                      ("/srv//\u{301}x", "/srv/\u{301}x"), ("/srv/x\u{600}/", "/srv/x\u{600}")])
    func theLayoutDropsDoubledAndTrailingSlashes(_ given: String, _ expected: String) {
        #expect(SpoolLayout(directory: given).directory == expected)
    }
}
