import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

/// `pixelgate sign URL`: for templates that cannot compute HMACs
/// themselves, and for checking those that do.
struct SignCommand: Subcommand {
    static let name = "sign"
    static let synopses = ["sign [--expires DURATION] URL"]
    static let summary = "print URL signed for its write key's secret in PIXELGATE_SIGNING_KEYS (adds &sig=…, replacing any)"
    static let details = """
    &sig=… is appended (every earlier sig removed), covering the route (page or
    track, from the path) and the query as a browser will send it (spaces and
    other bytes a browser escapes are percent-encoded first). A #fragment stays
    at the end.
    """

    static let expires = Option<Int64>("--expires", "DURATION", takes: "a duration such as 30d, 12h, 45m or 3600s",
                                       help: "add exp=<Unix time> that far ahead (30d, 12h, 45m, 3600s, or seconds); hits with the URL after it answer 400 \"signature expired\"") {
        durationSeconds($0).flatMap { $0 > 0 ? $0 : nil }
    }
    static let options = [expires.spec]

    let url: String
    let lifetimeSeconds: Int64?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else { throw UsageError("sign takes one URL") }
        url = arguments.positionals[0]
        lifetimeSeconds = arguments[Self.expires]
    }

    func run() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        if let problem = problems.first(where: \.isFatal) {
            printError("pixelgate sign: configuration: \(problem)\n")
            return Exit.localFailure
        }
        var url = url
        var fragment = ""
        if let hash = url.firstIndex(of: "#") {
            fragment = String(url[hash...])
            url = String(url[..<hash])
        }
        guard let mark = url.firstIndex(of: "?") else {
            printError("pixelgate sign: the URL has no query string\n")
            return Exit.usage
        }
        let path = String(url[..<mark])
        guard let route = ["page", "track"].first(where: { path.hasSuffix("/pixel/v1/" + $0) }) else {
            printError("pixelgate sign: the URL's path must end with /pixel/v1/page or /pixel/v1/track (the signature covers the route)\n")
            return Exit.usage
        }
        var query = PixelSignature.removingPairs(Self.browserEncoded(url[url.index(after: mark)...])[...], named: PixelSignature.parameter)
        if let lifetimeSeconds {
            query = PixelSignature.removingPairs(query[...], named: PixelSignature.expiryParameter)
            query += Array("\(query.isEmpty ? "" : "&")\(PixelSignature.expiryParameter)=\(SystemClock.nowMillis() / 1000 + lifetimeSeconds)".utf8)
        }
        let text = String(decoding: query, as: UTF8.self)
        let writeKey: String
        do {
            guard let key = try QueryString.parse(text).first(where: { $0.name == "writeKey" })?.value, !key.isEmpty else {
                printError("pixelgate sign: the URL has no writeKey\n")
                return Exit.usage
            }
            writeKey = key
        } catch {
            printError("pixelgate sign: the query is not valid: \(error.message)\n")
            return Exit.usage
        }
        guard let secret = configuration.signingKeys[writeKey] else {
            printError("pixelgate sign: PIXELGATE_SIGNING_KEYS has no secret for write key '\(writeKey)'\n")
            return Exit.localFailure
        }
        printOut(path + "?" + text + "&sig=" + PixelSignature.signature(route: route, of: query, secret: secret) + fragment + "\n")
        return Exit.ok
    }

    /// The query as a browser sends it: bytes it percent-encodes in the
    /// query of an http(s) URL (controls, space, `"`, `'`, `<`, `>`, and
    /// everything outside ASCII) are escaped, the rest kept as written, so
    /// the signature covers what pixelgate will be sent.
    static func browserEncoded(_ query: Substring) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in query.utf8 {
            if b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// `30d`, `12h`, `45m`, `3600s` or bare seconds; at most nine digits,
    /// so the product cannot overflow.
    static func durationSeconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let scale = units[last] {
            unit = scale
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        return n * unit
    }
}
