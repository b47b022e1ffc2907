/// URLs as they may be shown: a data plane URL can carry `user:password@`
/// (a proxy or a basic-auth gateway in front of the data plane), which must
/// not reach logs, `check` output or anything an operator pastes.
public enum URLRedaction {
    /// `https://user:secret@host/path` → `https://***@host/path`; any other
    /// text unchanged.
    public static func redacted(_ url: String) -> String {
        let u = Array(url.utf8)
        guard let scheme = url.utf8.firstOccurrence(of: "://".utf8) else { return url }
        let start = url.utf8.distance(from: url.utf8.startIndex, to: scheme.upperBound)
        var end = start
        while end < u.count, u[end] != UInt8(ascii: "/"), u[end] != UInt8(ascii: "?"), u[end] != UInt8(ascii: "#") { end += 1 }
        guard let at = u[start..<end].lastIndex(of: UInt8(ascii: "@")) else { return url }
        return String(decoding: u[..<start] + Array("***".utf8) + u[at...], as: UTF8.self)
    }
}
