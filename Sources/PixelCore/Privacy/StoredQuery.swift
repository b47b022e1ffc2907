/// A refused hit's query as `rejected/` keeps it: the same privacy rules
/// as an event's (`PixelHandler`). Pairs whose names look like secrets are
/// left out (never `writeKey`, `anonymousId` or `event`); so are
/// `context.ip` and `context.userAgent`, and names under them, when the
/// visitor's address and agent are not kept; when addresses are shortened,
/// a `context.ip` is shortened and names under it are left out. The query may be malformed (that may be why it was
/// refused), so names are decoded leniently: a bad escape stays as it is.
enum StoredQuery {
    static func cleaned(_ query: [UInt8], secretNames: SecretNames, keepsClientData: Bool, anonymizesAddresses: Bool) -> [UInt8] {
        if secretNames.isEmpty && keepsClientData && !anonymizesAddresses { return query }
        var out: [UInt8] = []
        out.reserveCapacity(query.count)
        for pair in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = lenientlyDecoded(pair[..<(equals ?? pair.endIndex)])
            let isIdentity = ["writeKey", "anonymousId", "event"].contains { name.elementsEqual($0.utf8) }
            if !isIdentity && name.withUnsafeBufferPointer({ secretNames.matches($0) }) { continue }
            let isIP = name.elementsEqual("context.ip".utf8)
            // Deeper names under them (`context.ip.0`) are theirs too.
            let underIP = isIP || name.starts(with: "context.ip.".utf8)
            let underAgent = name.elementsEqual("context.userAgent".utf8) || name.starts(with: "context.userAgent.".utf8)
            if !keepsClientData && (underIP || underAgent) { continue }
            if anonymizesAddresses && underIP && !isIP { continue }
            var kept = Array(pair)
            if anonymizesAddresses && isIP {
                let value = equals.map { String(decoding: lenientlyDecoded(pair[pair.index(after: $0)...]), as: UTF8.self) } ?? ""
                kept = Array("context.ip=".utf8) + Array((AddressAnonymizer.anonymized(value) ?? "").utf8)
            }
            if !out.isEmpty { out.append(UInt8(ascii: "&")) }
            out += kept
        }
        return out
    }

    /// `+` as a space and each good `%XX` as its byte; anything else as is.
    static func lenientlyDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let high = QueryDecoder.hexValue(bytes[i + 1]),
               let low = QueryDecoder.hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            }
            out.append(b == UInt8(ascii: "+") ? 0x20 : b)
            i += 1
        }
        return out
    }
}
