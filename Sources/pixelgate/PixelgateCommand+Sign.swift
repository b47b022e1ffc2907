import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

extension PixelgateCommand {
    static let signUsage = """
    Usage: pixelgate sign [--expires DURATION] URL

    Prints URL signed for its write key's secret in PIXELGATE_SIGNING_KEYS:
    &sig=… is appended (every earlier sig removed), covering the route (page or
    track, from the path) and the query as a browser will send it (spaces and
    other bytes a browser escapes are percent-encoded first). A #fragment stays
    at the end. --expires 30d (or 12h, 45m, 3600s, or seconds) adds exp=<Unix
    time>, after which hits with the URL answer 400 "signature expired".

    """

    /// `pixelgate sign URL`: for templates that cannot compute HMACs
    /// themselves, and for checking those that do.
    static func sign(_ arguments: [String]) -> Int32 {
        var url: String?
        var lifetime: Int64?
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--help", "-h":
                printOut(signUsage)
                return 0
            case "--expires":
                i += 1
                guard i < arguments.count, let seconds = durationSeconds(arguments[i]), seconds > 0 else {
                    return usageError("--expires takes a duration such as 30d, 12h, 45m or 3600s")
                }
                lifetime = seconds
            default:
                guard url == nil, !arguments[i].hasPrefix("-") else { return usageError("sign takes one URL (see pixelgate sign --help)") }
                url = arguments[i]
            }
            i += 1
        }
        guard var url else { return usageError("sign takes one URL (see pixelgate sign --help)") }
        let (configuration, problems) = ConfigurationLoader.load()
        if let problem = problems.first(where: \.isFatal) {
            printError("pixelgate sign: configuration: \(problem)\n")
            return 1
        }
        var fragment = ""
        if let hash = url.firstIndex(of: "#") {
            fragment = String(url[hash...])
            url = String(url[..<hash])
        }
        guard let mark = url.firstIndex(of: "?") else {
            printError("pixelgate sign: the URL has no query string\n")
            return 2
        }
        let path = String(url[..<mark])
        guard let route = ["page", "track"].first(where: { path.hasSuffix("/pixel/v1/" + $0) }) else {
            printError("pixelgate sign: the URL's path must end with /pixel/v1/page or /pixel/v1/track (the signature covers the route)\n")
            return 2
        }
        var query = PixelSignature.removingPairs(browserEncoded(url[url.index(after: mark)...])[...], named: PixelSignature.parameter)
        if let lifetime {
            query = PixelSignature.removingPairs(query[...], named: PixelSignature.expiryParameter)
            query += Array("\(query.isEmpty ? "" : "&")\(PixelSignature.expiryParameter)=\(SystemClock.nowMillis() / 1000 + lifetime)".utf8)
        }
        let text = String(decoding: query, as: UTF8.self)
        let writeKey: String
        do {
            guard let key = try QueryString.parse(text).first(where: { $0.name == "writeKey" })?.value, !key.isEmpty else {
                printError("pixelgate sign: the URL has no writeKey\n")
                return 2
            }
            writeKey = key
        } catch {
            printError("pixelgate sign: the query is not valid: \(error.message)\n")
            return 2
        }
        guard let secret = configuration.signingKeys[writeKey] else {
            printError("pixelgate sign: PIXELGATE_SIGNING_KEYS has no secret for write key '\(writeKey)'\n")
            return 1
        }
        printOut(path + "?" + text + "&sig=" + PixelSignature.signature(route: route, of: query, secret: secret) + fragment + "\n")
        return 0
    }

    /// The query as a browser sends it: bytes it percent-encodes in the
    /// query of an http(s) URL (controls, space, `"`, `'`, `<`, `>`, and
    /// everything outside ASCII) are escaped, the rest kept as written.
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

    /// `30d`, `12h`, `45m`, `3600s` or bare seconds.
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
