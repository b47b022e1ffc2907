import Glibc
import Testing

/// Sources a test writes from the data they are made of (the classifier's
/// tables, the default secret words' automaton): the file in the
/// repository must be exactly what the test makes. With
/// `PIXELGATE_REGENERATE=1` the test writes it instead, after a change to
/// the data. Returns whether the file is as made (or was just written).
enum GeneratedSource {
    @discardableResult
    static func check(_ path: String, is text: String, testName: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let current = SettingsTableTests.readFile(path)
        if current == text { return true }
        if getenv("PIXELGATE_REGENERATE").map({ String(cString: $0) }) == "1", let out = fopen(path, "w") {
            fputs(text, out)
            fclose(out)
            return true
        }
        Issue.record("\(path) is not what its data make: run PIXELGATE_REGENERATE=1 swift test --filter \(testName)", sourceLocation: sourceLocation)
        return false
    }
}
