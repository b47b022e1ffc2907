/// Parameter names that look like secrets (`PIXELGATE_SECRET_PARAMETERS`):
/// a pixel URL built by a careless template can carry a password or a
/// token, and a spool or a data plane is no place for one. A name matches
/// when, with ASCII case, `_` and `-` ignored, any of its bytes contain a
/// listed word: `password` catches `properties.newPassword`, `api_key`
/// catches `properties.x-api-key` and `properties.apiKey`.
public struct SecretNames: Sendable, Equatable {
    /// The words, lowercased, without `_` or `-`.
    let words: [[UInt8]]
    /// For each byte, a bit per word that starts with it (in either case):
    /// a name is scanned once, and only bytes that start a word are tried.
    let starts: [UInt64]
    /// The words as configured, for `check`.
    public let listed: [String]

    /// At most this many words (one bit each in `starts`).
    public static let maxWords = 64
    public static let defaultList = ["password", "token", "secret", "api_key", "authorization"]
    public static let `default` = SecretNames(defaultList)
    /// Scrubs nothing.
    public static let none = SecretNames([])

    /// Takes the first `maxWords` words; the setting refuses more.
    public init(_ list: [String]) {
        listed = list
        words = Array(list.map { SecretNames.folded($0.utf8) }.filter { !$0.isEmpty }.prefix(SecretNames.maxWords))
        var starts = [UInt64](repeating: 0, count: 256)
        for (i, word) in words.enumerated() {
            let first = Int(word[0])
            starts[first] |= 1 << UInt64(i)
            if first >= 0x61 && first <= 0x7A { starts[first - 0x20] |= 1 << UInt64(i) }
        }
        self.starts = starts
    }

    public var isEmpty: Bool { words.isEmpty }

    public static func == (a: SecretNames, b: SecretNames) -> Bool { a.listed == b.listed }

    /// Lowercase, without `_` and `-`.
    static func folded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes where b != UInt8(ascii: "_") && b != UInt8(ascii: "-") {
            out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
        }
        return out
    }

    /// Whether the (decoded) name looks like a secret's. No allocation: it
    /// runs for every parameter of every hit.
    public func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        if words.isEmpty { return false }
        let n = name.count
        var i = 0
        while i < n {
            var candidates = starts[Int(name[i])]
            while candidates != 0 {
                let w = candidates.trailingZeroBitCount
                candidates &= candidates &- 1
                if SecretNames.matchesWord(words[w], in: name, at: i) { return true }
            }
            i &+= 1
        }
        return false
    }

    /// Whether `word` (folded, its first byte already matched) continues
    /// at `start` in `name`, skipping `_` and `-` there.
    static func matchesWord(_ word: [UInt8], in name: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        var j = start &+ 1, k = 1
        while k < word.count {
            guard j < name.count else { return false }
            var b = name[j]
            j &+= 1
            if b == UInt8(ascii: "_") || b == UInt8(ascii: "-") { continue }
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            if b != word[k] { return false }
            k &+= 1
        }
        return true
    }
}
