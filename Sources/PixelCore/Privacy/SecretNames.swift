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

    /// The words as one automaton (Aho and Corasick's): a name is read a
    /// byte at a time, each byte one table step, and a word is found
    /// wherever it ends, whatever came before. Bytes go by class: a
    /// separator (which leaves the state as it is), a byte of some word
    /// (ASCII case folded), or any other. A check reads the tables through
    /// buffer pointers, one retain a call: it runs for every parameter of
    /// every hit.
    final class Table: Sendable {
        /// Each byte's class: 0 for a byte in no word, 1 for a separator,
        /// 2... for the (folded) bytes the words use.
        let classOf: [UInt8]
        let classCount: Int
        /// `next[state * classCount + class]`: the state after a byte, or
        /// `found` when a word ends there. State 0 is the start.
        let next: [Int32]
        static let found: Int32 = -1
        /// No words: `matches` looks at no table (`count` is 0). Every hit's
        /// facts start with it, and building a table for it cost a CGI
        /// start 11,000 instructions.
        static let noWords = Table(classOf: [], classCount: 0, next: [], count: 0)
        /// The words kept (at most `maxWords`, none empty once folded).
        let count: Int

        init(classOf: [UInt8], classCount: Int, next: [Int32], count: Int) {
            self.classOf = classOf
            self.classCount = classCount
            self.next = next
            self.count = count
        }

        /// The default words' table is made by a test and compiled in
        /// (`SecretNames+Default.swift`); this makes any other list's, at
        /// start: about 80,000 instructions for 17 words.
        convenience init(_ words: [String]) {
            var classOf = [UInt8](repeating: 0, count: 256)
            var classes = 2
            var total = 0, count = 0
            for word in words where count < SecretNames.maxWords {
                var length = 0
                for b in word.utf8 where !SecretNames.isSeparator(b) {
                    let f = Int(SecretNames.fold(b))
                    if classOf[f] == 0 { classOf[f] = UInt8(classes); classes += 1 }
                    length += 1
                }
                if length > 0 { total += length; count += 1 }
            }
            for b in 0..<256 {
                let byte = UInt8(b)
                classOf[b] = SecretNames.isSeparator(byte) ? 1 : classOf[Int(SecretNames.fold(byte))]
            }
            // The trie of the words: child[node * classes + class], 0 for none
            // (the start is no one's child).
            var child = [Int32](repeating: 0, count: (total + 1) * classes)
            var ends = [Bool](repeating: false, count: total + 1)
            var made = 1, kept = 0
            for word in words where kept < SecretNames.maxWords {
                var node = 0, length = 0
                for b in word.utf8 where !SecretNames.isSeparator(b) {
                    let slot = node * classes + Int(classOf[Int(b)])
                    if child[slot] == 0 { child[slot] = Int32(made); made += 1 }
                    node = Int(child[slot])
                    length += 1
                }
                if length > 0 { ends[node] = true; kept += 1 }
            }
            // Breadth first: a state's step on a byte is to its child, or
            // else its fallback's step (the fallback: the longest proper
            // suffix of the state's text that begins some word). A state
            // whose fallback ends a word ends one too.
            var next = [Int32](repeating: 0, count: made * classes)
            var fallback = [Int32](repeating: 0, count: made)
            var queue = [0]
            var head = 0
            while head < queue.count {
                let u = queue[head]
                head += 1
                let fu = Int(fallback[u])
                next[u * classes + 1] = Int32(u)
                for c in 0..<classes where c != 1 {
                    let v = Int(child[u * classes + c])
                    if v != 0 {
                        let fv = u == 0 ? 0 : Int(next[fu * classes + c])
                        fallback[v] = Int32(fv)
                        if ends[fv] { ends[v] = true }
                        next[u * classes + c] = Int32(v)
                        queue.append(v)
                    } else {
                        next[u * classes + c] = u == 0 ? 0 : next[fu * classes + c]
                    }
                }
            }
            // A step into a state that ends a word is the answer itself.
            for i in 0..<next.count where ends[Int(next[i])] { next[i] = Table.found }
            self.init(classOf: classOf, classCount: classes, next: next, count: count)
        }
    }

    /// At most this many words (a setting's list; the automaton's states
    /// grow with their letters).
    public static let maxWords = 64
    /// Shortest word: one of one or two letters would match nearly every
    /// name.
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
    public static let `default` = SecretNames(listed: defaultList, table: .defaultWords)
    /// Scrubs nothing.
    public static let none = SecretNames(listed: [], table: .noWords)

    /// Takes the first `maxWords` words; the setting refuses more.
    public init(_ list: [String]) {
        listed = list
        table = list.isEmpty ? .noWords : list == SecretNames.defaultList ? .defaultWords : Table(list)
    }

    init(listed: [String], table: Table) {
        self.listed = listed
        self.table = table
    }

    public var isEmpty: Bool { table.count == 0 }

    public static func == (a: SecretNames, b: SecretNames) -> Bool { a.listed == b.listed }

    /// Lowercase, without `_`, `-`, `.` and `\`.
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

    /// Whether the (decoded) name looks like a secret's: one table step a
    /// byte.
    public func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let table = self.table
        if table.count == 0 { return false }
        let classes = table.classCount
        return table.next.withUnsafeBufferPointer { next in
            table.classOf.withUnsafeBufferPointer { classOf in
                var state = 0
                for b in name {
                    let step = next[state &* classes &+ Int(classOf[Int(b)])]
                    if step == Table.found { return true }
                    state = Int(step)
                }
                return false
            }
        }
    }
}
