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

    /// The words folded (lowercase, without `_`, `-` or `.`) and three
    /// lookup tables, in memory that is never moved or shared with Swift's
    /// arrays, so a check takes no reference counts: it runs for every
    /// parameter of every hit.
    final class Table: @unchecked Sendable {
        /// Each byte folded to lowercase, or `skip` for a separator.
        let folded: UnsafeMutablePointer<UInt8>
        /// What `folded` gives a separator: an uppercase letter, which no
        /// byte folds to.
        static let skip = UInt8(ascii: "A")
        /// For each folded byte, a bit per word that starts with it.
        let starts: UnsafeMutablePointer<UInt64>
        /// A bit for each pair of folded bytes that begins a word: a name's
        /// pair that begins none (nearly all) is passed over on one lookup.
        let pairs: UnsafeMutablePointer<UInt64>
        /// Word `w` is `bytes[offsets[w]..<offsets[w + 1]]`.
        let bytes: UnsafeMutablePointer<UInt8>
        let offsets: UnsafeMutablePointer<Int>
        let count: Int

        /// The first `maxWords` words that are not empty once folded.
        /// Made without arrays of arrays: a CGI process makes the default
        /// table at start, and each array type costs it its metadata.
        init(_ words: [String]) {
            folded = .allocate(capacity: 256)
            for b in 0..<256 {
                let byte = UInt8(b)
                folded[b] = SecretNames.isSeparator(byte) ? Table.skip : SecretNames.fold(byte)
            }
            starts = .allocate(capacity: 256)
            starts.initialize(repeating: 0, count: 256)
            pairs = .allocate(capacity: 1024)
            pairs.initialize(repeating: 0, count: 1024)
            var capacity = 0
            for word in words { capacity += word.utf8.count }
            bytes = .allocate(capacity: max(1, capacity))
            offsets = .allocate(capacity: min(words.count, SecretNames.maxWords) + 1)
            var count = 0, offset = 0
            for word in words where count < SecretNames.maxWords {
                let begin = offset
                for b in word.utf8 where !SecretNames.isSeparator(b) {
                    bytes[offset] = SecretNames.fold(b)
                    offset += 1
                }
                if offset == begin { continue }
                offsets[count] = begin
                let first = Int(bytes[begin])
                starts[first] |= 1 << UInt64(count)
                if offset - begin >= 2 {
                    let pair = first << 8 | Int(bytes[begin + 1])
                    pairs[pair >> 6] |= 1 << UInt64(pair & 63)
                }
                count += 1
            }
            offsets[count] = offset
            self.count = count
        }

        deinit {
            folded.deallocate()
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
        table = Table(list)
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

    /// Whether the (decoded) name looks like a secret's. Each byte that is
    /// no separator is folded once, and with the one before it makes a
    /// pair; only a pair that begins a word has its words tried there.
    public func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let table = self.table
        if table.count == 0 { return false }
        guard let base = name.baseAddress else { return false }
        let n = name.count
        let folded = table.folded, pairs = table.pairs
        var previous = -1, previousAt = 0
        var i = 0
        while i < n {
            let c = folded[Int(base[i])]
            if c != Table.skip {
                if previous >= 0 {
                    let pair = previous << 8 | Int(c)
                    if pairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 {
                        var candidates = table.starts[previous]
                        while candidates != 0 {
                            let w = candidates.trailingZeroBitCount
                            candidates &= candidates &- 1
                            let from = table.offsets[w]
                            if SecretNames.matchesWord(table.bytes + from, table.offsets[w &+ 1] &- from, in: base, n, at: previousAt, folded) {
                                return true
                            }
                        }
                    }
                }
                previous = Int(c)
                previousAt = i
            }
            i &+= 1
        }
        return false
    }

    /// Whether the folded word of `length` bytes at `word` (its first byte
    /// already matched) continues at `start` in the name, skipping
    /// separators there.
    @inline(__always)
    static func matchesWord(_ word: UnsafePointer<UInt8>, _ length: Int, in name: UnsafePointer<UInt8>, _ n: Int, at start: Int,
                            _ folded: UnsafeMutablePointer<UInt8>) -> Bool {
        var j = start &+ 1, k = 1
        while k < length {
            guard j < n else { return false }
            let c = folded[Int(name[j])]
            j &+= 1
            if c == Table.skip { continue }
            if c != word[k] { return false }
            k &+= 1
        }
        return true
    }
}
