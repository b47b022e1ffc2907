/// Whether `n` bytes at `a` and `b` are equal; for the short keys of events.
@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// `memoryEqual` for bytes in an event's text, which has slack after it
/// (`EventTree.slack`): up to 7 bytes past `n` may be read, so a short key
/// is one masked 8-byte compare rather than a byte at a time.
@inline(__always)
func paddedEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while n &- i >= 8 {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
            return false
        }
        i &+= 8
    }
    let rest = n &- i
    if rest <= 0 { return true }
    let difference = UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) ^ UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self)
    return difference & ((1 &<< UInt64(8 &* rest)) &- 1) == 0
}
