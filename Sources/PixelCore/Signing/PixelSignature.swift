/// Signed pixel URLs: a write key with a secret in `PIXELGATE_SIGNING_KEYS`
/// accepts only hits whose last parameter is `sig`, the HMAC-SHA256
/// (lowercase hex) under that secret of the route, `?`, and every byte of
/// the query before `&sig=` (`track?writeKey=wk&anonymousId=u1`), so a URL
/// signed for one route is refused on another. An `exp` parameter (Unix
/// seconds) in the signed part makes the URL expire.
public enum PixelSignature {
    public static let parameter = "sig"
    public static let expiryParameter = "exp"
    /// When a click link was signed (Unix seconds), which `sign --target`
    /// adds: a click that comes sooner after it than a person could read
    /// the mail is a scanner's (`click-before-read`).
    public static let signedAtParameter = "st"
    static let marker = Array("&sig=".utf8)

    /// Splits a raw query into the signed part and the signature, when its
    /// last parameter is `sig` and no other is.
    public static func split(_ query: [UInt8]) -> (signed: ArraySlice<UInt8>, signature: ArraySlice<UInt8>)? {
        guard let amp = query.lastIndex(of: UInt8(ascii: "&")), query[amp...].starts(with: marker) else { return nil }
        let signed = query[..<amp]
        // A second `sig` would be signed data that reads like a signature.
        if pairValue(signed, named: parameter) != nil { return nil }
        return (signed, query[(amp + marker.count)...])
    }

    /// What is signed: the route, `?`, and the query before `&sig=`.
    public static func message<Signed: Collection<UInt8>>(route: String, signed: Signed) -> [UInt8] {
        Array(route.utf8) + [UInt8(ascii: "?")] + Array(signed)
    }

    /// The signature of `signed` on `route` under `secret`, as sent in `sig`.
    public static func signature<Signed: Collection<UInt8>>(route: String, of signed: Signed, secret: String) -> String {
        SHA256.hex(SHA256.hmac(key: Array(secret.utf8), message: message(route: route, signed: signed)))
    }

    public static func isValid(route: String, signed: ArraySlice<UInt8>, signature: ArraySlice<UInt8>, secret: String) -> Bool {
        SHA256.constantTimeEqual(Array(self.signature(route: route, of: signed, secret: secret).utf8), signature)
    }

    /// The raw value of the first top-level pair `name=…` in `query`.
    public static func pairValue(_ query: ArraySlice<UInt8>, named name: String) -> ArraySlice<UInt8>? {
        let key = Array(name.utf8) + [UInt8(ascii: "=")]
        var start = query.startIndex
        while start <= query.endIndex {
            let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            if query[start..<end].starts(with: key) { return query[(start + key.count)..<end] }
            start = end + 1
        }
        return nil
    }

    /// `query` without its top-level `name=…` pairs.
    public static func removingPairs(_ query: ArraySlice<UInt8>, named name: String) -> [UInt8] {
        let key = Array(name.utf8) + [UInt8(ascii: "=")]
        var kept: [ArraySlice<UInt8>] = []
        for pair in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
        where !pair.starts(with: key) && pair.elementsEqual(name.utf8) == false {
            kept.append(pair)
        }
        return Array(kept.joined(separator: [UInt8(ascii: "&")]))
    }

    /// When the query says it was signed (`st`, Unix seconds); nil without
    /// one or for one that is no number of seconds.
    public static func signedAt(_ signed: ArraySlice<UInt8>) -> Int64? {
        guard let value = pairValue(signed, named: signedAtParameter),
              !value.isEmpty, value.count <= 12, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(String(decoding: value, as: UTF8.self))
    }

    /// The expiry of a signed query in Unix seconds: nil without `exp`,
    /// `.some(nil)` when `exp` is not a number of seconds.
    public static func expiry(_ signed: ArraySlice<UInt8>) -> Int64?? {
        guard let value = pairValue(signed, named: expiryParameter) else { return nil }
        guard !value.isEmpty, value.count <= 12, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .some(nil) }
        return .some(Int64(String(decoding: value, as: UTF8.self)))
    }
}
