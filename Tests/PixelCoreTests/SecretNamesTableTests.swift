import Testing
@testable import PixelCore

/// The default secret words' automaton reaches the binary as literal
/// tables (`Sources/PixelCore/Privacy/SecretNames+Default.swift`), which
/// this test writes from `SecretNames.defaultList`: the two cannot drift
/// apart, and a CGI start does not build them.
struct SecretNamesTableTests {
    static let file = SettingsTableTests.repositoryRoot + "/Sources/PixelCore/Privacy/SecretNames+Default.swift"

    /// After a change to the default words,
    /// `PIXELGATE_REGENERATE=1 swift test --filter SecretNamesTableTests`
    /// writes the file anew.
    @Test func theCompiledTableIsTheDefaultWords() throws {
        let made = SecretNames.Table(SecretNames.defaultList)
        guard GeneratedSource.check(Self.file, is: Self.source(made), testName: "SecretNamesTableTests") else { return }
        let compiled = SecretNames.Table.defaultWords
        #expect(compiled.classOf == made.classOf && compiled.next == made.next)
        #expect(compiled.classCount == made.classCount && compiled.count == made.count)
        // The default list is given the compiled table, as `.default` is.
        #expect(SecretNames(SecretNames.defaultList).table === compiled)
    }

    static func source(_ t: SecretNames.Table) -> String {
        func list<T>(_ values: [T], perLine: Int) -> String {
            var lines: [String] = []
            var i = 0
            while i < values.count {
                lines.append("            " + values[i..<min(i + perLine, values.count)].map { "\($0)" }.joined(separator: ", ") + ",")
                i += perLine
            }
            return "[\n" + lines.joined(separator: "\n") + "\n        ]"
        }
        return """
        // Generated from SecretNames.defaultList by SecretNamesTableTests; do not edit.
        // After a change to the words: PIXELGATE_REGENERATE=1 swift test --filter SecretNamesTableTests

        extension SecretNames.Table {
            static let defaultWords = SecretNames.Table(
                classOf: \(list(t.classOf, perLine: 32)),
                classCount: \(t.classCount),
                next: \(list(t.next, perLine: t.classCount)),
                count: \(t.count))
        }

        """
    }
}
