/// The one JSON writer: compact JSON (no spaces) into memory it owns and
/// grows. Events on the request path, `JSONValue`s and any record written
/// off it go through here, so every JSON byte pixelgate writes is escaped
/// the same way: strings keep their UTF-8 bytes and only `"`, `\` and
/// control characters are escaped (`\n`, `\r`, `\t`, else `\u00XX`),
/// which is valid JSON on one line for any input.
///
/// Every append makes its own room, so nothing a caller writes can run
/// past the memory; the engine's encoder reserves once for a member and
/// then writes it with the `reserved…` forms, which skip the check. The
/// memory keeps `slack` bytes past the capacity because strings are copied
/// eight bytes at a time. Noncopyable because it owns that memory: a copy
/// would share it. A serving thread keeps one in its `EventWorkspace`, so
/// after the first hits it no longer grows.
public struct JSONWriter: ~Copyable {
    /// Spare bytes past `capacity` for the 8-byte stores of `string`.
    @usableFromInline static let slack = 8

    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var length = 0

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity + JSONWriter.slack)
    }

    deinit {
        base.deallocate()
    }

    /// The bytes written so far.
    public var count: Int { length }

    /// A copy of the bytes written.
    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: length))
    }

    /// Forgets what was written and keeps the memory for the next use.
    public mutating func removeAll() {
        length = 0
    }

    /// Makes room for `n` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ n: Int) {
        if length &+ n > capacity { grow(toHold: length &+ n) }
    }

    /// Doubles the memory, or more when `needed` asks for more. Rare: the
    /// first hits of a thread, or an event larger than any before.
    @usableFromInline
    mutating func grow(toHold needed: Int) {
        let grown = max(needed, 2 &* capacity)
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: grown &+ JSONWriter.slack)
        memory.initialize(from: base, count: length)
        base.deallocate()
        base = memory
        capacity = grown
    }

    // MARK: Bytes as they are

    /// One byte, as it is (punctuation: `{`, `,`, `:`, …).
    @inlinable @inline(__always)
    public mutating func byte(_ b: UInt8) {
        reserve(1)
        reservedByte(b)
    }

    /// Bytes as they are: JSON the caller vouches for (a literal, a number,
    /// a fixed piece of a record).
    @inlinable @inline(__always)
    public mutating func raw(_ source: UnsafePointer<UInt8>, count n: Int) {
        reserve(n)
        reservedRaw(source, count: n)
    }

    @inlinable @inline(__always)
    public mutating func raw(_ text: StaticString) {
        raw(text.utf8Start, count: text.utf8CodeUnitCount)
    }

    @inlinable
    public mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { if let b = $0.baseAddress { raw(b, count: $0.count) } }
    }

    // MARK: Values

    @inlinable
    public mutating func null() {
        raw("null")
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// A whole number, in decimal (counts for tools: `stats --json`).
    public mutating func integer(_ value: Int) {
        raw(Array(String(value).utf8))
    }

    /// A JSON string literal of `text`.
    @inlinable
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string($0) }
    }

    /// A JSON string literal of the UTF-8 `bytes`; at most `2 + 6n` bytes.
    /// Reads nothing past `bytes` (the engine's `string(padded:count:)`
    /// does, for speed, where its text has slack).
    public mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        let n = bytes.count
        reserve(2 &+ 6 &* n)
        reservedByte(UInt8(ascii: "\""))
        guard let s = bytes.baseAddress else {
            reservedByte(UInt8(ascii: "\""))
            return
        }
        var i = 0
        // Whole blocks as in `reservedString(padded:count:)`, then the
        // last few bytes one at a time.
        while i &+ 8 <= n {
            let x = UnsafeRawPointer(s + i).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(base + length).storeBytes(of: x, as: UInt64.self)
            let special = JSONWriter.escapeBytes(x)
            if special == 0 {
                length &+= 8
                i &+= 8
                continue
            }
            let plain = special.trailingZeroBitCount &>> 3
            length &+= plain
            i &+= plain
            reservedEscapedByte(s[i])
            i &+= 1
        }
        while i < n {
            reservedEscapedByte(s[i])
            i &+= 1
        }
        reservedByte(UInt8(ascii: "\""))
    }

    /// A JSON string literal of the `n` bytes at `s`, which may be read up
    /// to 8 bytes past `n` (an event's text has slack after it; those
    /// bytes are never counted). The request path's form.
    @inline(__always)
    mutating func string(padded s: UnsafePointer<UInt8>, count n: Int) {
        reserve(2 &+ 6 &* n)
        reservedString(padded: s, count: n)
    }

    // MARK: Without the room check

    /// `byte` into room the caller reserved.
    @inlinable @inline(__always)
    mutating func reservedByte(_ b: UInt8) {
        base[length] = b
        length &+= 1
    }

    @inlinable @inline(__always)
    mutating func reservedRaw(_ source: UnsafePointer<UInt8>, count n: Int) {
        (base + length).update(from: source, count: n)
        length &+= n
    }

    /// `string(padded:count:)` into room the caller reserved: `2 + 6n`.
    ///
    /// Eight bytes at a time: each block is stored as it is and the output
    /// moves past its bytes up to the first that needs escaping (a byte
    /// < 0x20, `"` or `\\`), which alone takes the slow path.
    @inline(__always)
    mutating func reservedString(padded s: UnsafePointer<UInt8>, count n: Int) {
        reservedByte(UInt8(ascii: "\""))
        var i = 0
        while true {
            let x = UnsafeRawPointer(s + i).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(base + length).storeBytes(of: x, as: UInt64.self)
            let special = JSONWriter.escapeBytes(x)
            let plain = special == 0 ? 8 : special.trailingZeroBitCount &>> 3
            if i &+ plain >= n {
                length &+= n &- i
                break
            }
            length &+= plain
            i &+= plain
            if plain < 8 {
                reservedEscapedByte(s[i])
                i &+= 1
            }
        }
        reservedByte(UInt8(ascii: "\""))
    }

    /// The high bit of each byte of `x` that is < 0x20, `"` or `\\`. Bytes
    /// after the first flagged one may be flagged too (borrows run upward);
    /// the lowest flag is always exact. `JSONSyntax` skips plain runs with it.
    @inlinable @inline(__always)
    static func escapeBytes(_ x: UInt64) -> UInt64 {
        let quote = x ^ 0x2222_2222_2222_2222
        let backslash = x ^ 0x5C5C_5C5C_5C5C_5C5C
        let special = ((x &- 0x2020_2020_2020_2020) & ~x)
            | ((quote &- 0x0101_0101_0101_0101) & ~quote)
            | ((backslash &- 0x0101_0101_0101_0101) & ~backslash)
        return special & 0x8080_8080_8080_8080
    }

    /// One string byte, escaped when JSON requires it; at most 6 bytes.
    @usableFromInline @inline(__always)
    mutating func reservedEscapedByte(_ b: UInt8) {
        guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else {
            reservedByte(b)
            return
        }
        reservedByte(UInt8(ascii: "\\"))
        switch b {
        case UInt8(ascii: "\""): reservedByte(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): reservedByte(UInt8(ascii: "\\"))
        case 0x0A: reservedByte(UInt8(ascii: "n"))
        case 0x0D: reservedByte(UInt8(ascii: "r"))
        case 0x09: reservedByte(UInt8(ascii: "t"))
        default:
            reservedByte(UInt8(ascii: "u"))
            reservedByte(UInt8(ascii: "0"))
            reservedByte(UInt8(ascii: "0"))
            reservedByte(Hex.digits.utf8Start[Int(b >> 4)])
            reservedByte(Hex.digits.utf8Start[Int(b & 0xF)])
        }
    }
}
