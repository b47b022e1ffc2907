/// Parameter names that look like secrets (`PIXELGATE_SECRET_PARAMETERS`):
/// a pixel URL built by a careless template can carry a password or a
/// token, and a spool or a data plane is no place for one. A name matches
/// when, with ASCII case, `_`, `-`, `.` and `\` ignored, its bytes contain a
/// listed word: `password` catches `properties.newPassword`, `api_key`
/// catches `properties.x-api-key`, `properties.apiKey` and
/// `properties.api.key`.
public struct SecretNames: Sendable, Equatable {
    /// The words as configured, for `check`.
    public let listed: [String]
    let table: Table

    /// The words folded (lowercase, without `_`, `-` or `.`) and two
    /// lookup tables, in memory that is never moved or shared with Swift's
    /// arrays, so a check takes no reference counts: it runs for every
    /// parameter of every hit.
    final class Table: @unchecked Sendable {
        /// For each byte, a bit per word that starts with it (in either
        /// case): only bytes that start a word are tried.
        let starts: UnsafeMutablePointer<UInt64>
        /// A bit for each pair of folded bytes that begins a word, so that
        /// most bytes that start a word's first letter stop at its second.
        let pairs: UnsafeMutablePointer<UInt64>
        /// Word `w` is `bytes[offsets[w]..<offsets[w + 1]]`.
        let bytes: UnsafeMutablePointer<UInt8>
        let offsets: UnsafeMutablePointer<Int>
        let count: Int

        init(_ words: [[UInt8]]) {
            count = words.count
            starts = .allocate(capacity: 256)
            starts.initialize(repeating: 0, count: 256)
            pairs = .allocate(capacity: 1024)
            pairs.initialize(repeating: 0, count: 1024)
            offsets = .allocate(capacity: words.count + 1)
            bytes = .allocate(capacity: max(1, words.reduce(0) { $0 + $1.count }))
            var offset = 0
            for (w, word) in words.enumerated() {
                offsets[w] = offset
                for b in word { bytes[offset] = b; offset += 1 }
                let first = Int(word[0])
                starts[first] |= 1 << UInt64(w)
                if first >= 0x61 && first <= 0x7A { starts[first - 0x20] |= 1 << UInt64(w) }
                if word.count >= 2 {
                    let pair = first << 8 | Int(word[1])
                    pairs[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            }
            offsets[words.count] = offset
        }

        deinit {
            starts.deallocate()
            pairs.deallocate()
            bytes.deallocate()
            offsets.deallocate()
        }
    }

    /// At most this many words (one bit each in the table of starts).
    public static let maxWords = 64
    /// Shortest word: one of one or two letters would match nearly every
    /// name (and the table of pairs needs two).
    public static let minWordBytes = 3
    /// Words from the default scrubbing lists of tools that keep request
    /// data out of logs (sentry-python's `DEFAULT_DENYLIST` in
    /// `sentry_sdk/scrubber.py`; Rails' generated
    /// `config/initializers/filter_parameter_logging.rb`), as far as they
    /// are safe to match inside a name: `auth`, `session`, `cookie`, `otp`,
    /// `ssn` and `salt` are left out because they sit inside ordinary
    /// analytics names (`author`, `session_count`, `cookie_consent`,
    /// `footprint`, `classname`, `salty`). `credential` covers
    /// `credentials`, `sessionid` `jsessionid`, `sessid` `PHPSESSID`.
    public static let defaultList = ["password", "passwd", "pwd", "passphrase", "secret", "token", "api_key", "access_key",
                                     "private_key", "authorization", "credential", "sessionid", "sessid", "csrf",
                                     "cardnumber", "cvv", "cvc"]
    public static let `default` = SecretNames(defaultList)
    /// Scrubs nothing.
    public static let none = SecretNames([])

    /// Takes the first `maxWords` words; the setting refuses more.
    public init(_ list: [String]) {
        listed = list
        table = Table(Array(list.map { SecretNames.folded($0.utf8) }.filter { !$0.isEmpty }.prefix(SecretNames.maxWords)))
    }

    public var isEmpty: Bool { table.count == 0 }

    public static func == (a: SecretNames, b: SecretNames) -> Bool { a.listed == b.listed }

    /// Lowercase, without `_`, `-` and `.`.
    static func folded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes where !isSeparator(b) { out.append(fold(b)) }
        return out
    }

    @inline(__always)
    static func fold(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    @inline(__always)
    static func isSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "\\")
    }

    /// Whether the (decoded) name looks like a secret's.
    public func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let table = self.table
        if table.count == 0 { return false }
        let n = name.count
        var i = 0
        while i < n {
            var candidates = table.starts[Int(name[i])]
            if candidates != 0 {
                // The next byte that is no separator must go on a word.
                var j = i &+ 1
                while j < n && SecretNames.isSeparator(name[j]) { j &+= 1 }
                if j < n {
                    let pair = Int(SecretNames.fold(name[i])) << 8 | Int(SecretNames.fold(name[j]))
                    if table.pairs[pair >> 6] & (1 << UInt64(pair & 63)) == 0 { candidates = 0 }
                }
                while candidates != 0 {
                    let w = candidates.trailingZeroBitCount
                    candidates &= candidates &- 1
                    if SecretNames.matchesWord(table.bytes + table.offsets[w], table.offsets[w &+ 1] &- table.offsets[w], in: name, at: i) {
                        return true
                    }
                }
            }
            i &+= 1
        }
        return false
    }

    /// Whether the folded word of `length` bytes at `word` (its first byte
    /// already matched) continues at `start` in `name`, skipping `_`, `-`
    /// and `.` there.
    static func matchesWord(_ word: UnsafePointer<UInt8>, _ length: Int, in name: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        var j = start &+ 1, k = 1
        while k < length {
            guard j < name.count else { return false }
            let b = name[j]
            j &+= 1
            if isSeparator(b) { continue }
            if fold(b) != word[k] { return false }
            k &+= 1
        }
        return true
    }
}
