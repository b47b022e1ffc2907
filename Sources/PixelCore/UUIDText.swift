/// Random (version 4) UUIDs in lowercase text form.
public enum UUIDText {
    /// The UUID made of these 128 random bits, with the version and variant
    /// bits set as RFC 9562 requires.
    public static func v4(_ high: UInt64, _ low: UInt64) -> String {
        let h = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let l = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { out in
            let hex = Hex.digits.utf8Start
            var i = 0
            // 8-4-4-4-12 hex digits: dashes before digits 8, 12 (of the high
            // half) and 0, 4 (of the low half).
            for n in 0..<16 {
                if n == 8 || n == 12 { out[i] = UInt8(ascii: "-"); i += 1 }
                out[i] = hex[Int((h >> UInt64(60 - 4 * n)) & 0xF)]
                i += 1
            }
            for n in 0..<16 {
                if n == 0 || n == 4 { out[i] = UInt8(ascii: "-"); i += 1 }
                out[i] = hex[Int((l >> UInt64(60 - 4 * n)) & 0xF)]
                i += 1
            }
            return i
        }
    }
}
