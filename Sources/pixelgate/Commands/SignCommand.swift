import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

/// `pixelgate sign URL`: for templates that cannot compute HMACs
/// themselves, and for checking those that do.
struct SignCommand: Subcommand {
    static let name = "sign"
    static let synopses = ["sign [--expires DURATION] URL | -", "sign [--expires DURATION] --target TARGET CLICK-URL"]
    static let summary = "print URL signed for its write key's secret in PIXELGATE_SIGNING_KEYS (adds &sig=…, replacing any)"
    static let details = """
    &sig=… is appended (every earlier sig removed), covering the route (page,
    track or click, from the path) and the query as a browser will send it (spaces and
    other bytes a browser escapes are percent-encoded first). A #fragment stays
    at the end.

    A click link (path ending /pixel/v1/click) records a track event and answers
    302 to its target: --target gives the target, which is percent-encoded
    whole (its query and #fragment included) into url=…, replacing any url=
    the URL had. Only signed click links redirect.

    The URL is checked as a hit with it will be: one pixelgate would refuse (a
    track URL without event, no anonymousId, a write key it does not accept) is
    not signed. With - instead of a URL, each line of standard input is one,
    and each signed URL is a line out (an empty line for one refused, whose
    reason goes to standard error with its line number).

    Exit codes:
      0   the signed URL was printed (with -, every one)
      2   usage: a wrong option, or a URL pixelgate would refuse
      78  configuration wrong: a setting, or no secret for the URL's write key
    """

    static let expires = Option<Int64>("--expires", "DURATION", takes: "a duration such as 30d, 12h, 45m or 3600s",
                                       help: "add exp=<Unix time> that far ahead (30d, 12h, 45m, 3600s, or seconds); hits with the URL after it answer 400 \"signature expired\"") {
        durationSeconds($0).flatMap { $0 > 0 ? $0 : nil }
    }
    static let target = Option<String>("--target", "TARGET", takes: "an absolute http:// or https:// URL",
                                       help: "for a click URL: the page the link leads to, added as url=… (percent-encoded whole)") {
        // Checked as pixelgate will check it, then encoded as written.
        PixelCore.ClickTarget.check($0) == nil ? nil : $0
    }
    static let options = [expires.spec, target.spec]

    let url: String
    let lifetimeSeconds: Int64?
    let clickTarget: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else { throw UsageError("sign takes one URL, or - to sign one a line from standard input") }
        url = arguments.positionals[0]
        lifetimeSeconds = arguments[Self.expires]
        clickTarget = arguments[Self.target]
    }

    /// Why a URL was not signed, and the exit code it deserves.
    struct Refusal: Error {
        let message: String
        let code: Int32
        init(_ message: String, _ code: Int32 = Exit.usage) {
            self.message = message
            self.code = code
        }
    }

    func run() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        if let problem = problems.first(where: \.isFatal) {
            printError("pixelgate sign: configuration: \(problem)\n")
            return Exit.configuration
        }
        // The handler a hit meets, answering in text whatever the site
        // answers: under gif-always a refused hit gets a GIF and 200, and
        // the check must still see the refusal and its words.
        var checked = configuration
        checked.response = .text
        let handler = PixelHandler(configuration: checked)
        guard url == "-" else {
            do throws(Refusal) {
                printOut(try sign(url, configuration, handler) + "\n")
                return Exit.ok
            } catch {
                printError("pixelgate sign: \(error.message)\n")
                return error.code
            }
        }
        // One URL a line from standard input (a template's whole list), a
        // signed URL a line out; a line refused gets an empty line, so the
        // lines still pair up, and its reason with its number.
        var worst = Exit.ok
        var number = 0
        while let line = readLine(strippingNewline: true) {
            number += 1
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : line
            if text.isEmpty {
                printOut("\n")
                continue
            }
            do throws(Refusal) {
                printOut(try sign(text, configuration, handler) + "\n")
            } catch {
                printOut("\n")
                printError("pixelgate sign: line \(number): \(error.message)\n")
                if worst == Exit.ok || error.code == Exit.configuration { worst = error.code }
            }
        }
        return worst
    }

    /// `url` signed, after the checks a hit with it will meet: a URL the
    /// server would refuse (no `event` on a track URL, no `anonymousId`, a
    /// write key it does not accept, a bad value) is refused here, with the
    /// server's own words.
    func sign(_ url: String, _ configuration: PixelConfiguration, _ handler: PixelHandler) throws(Refusal) -> String {
        var url = url
        var fragment = ""
        if let hash = url.firstIndex(of: "#") {
            fragment = String(url[hash...])
            url = String(url[..<hash])
        }
        guard let mark = url.firstIndex(of: "?") else {
            throw Refusal("the URL has no query string")
        }
        let path = String(url[..<mark])
        guard let route = ["page", "track", "click"].first(where: { path.hasSuffix("/pixel/v1/" + $0) }) else {
            throw Refusal("the URL's path must end with /pixel/v1/page, /pixel/v1/track or /pixel/v1/click (the signature covers the route)")
        }
        var query = PixelSignature.removingPairs(Self.browserEncoded(url[url.index(after: mark)...])[...], named: PixelSignature.parameter)
        if let clickTarget {
            guard route == "click" else {
                throw Refusal("--target is for click URLs (/pixel/v1/click)")
            }
            query = PixelSignature.removingPairs(query[...], named: "url")
            query += Array("\(query.isEmpty ? "" : "&")url=".utf8) + Self.componentEncoded(clickTarget)
        }
        if route == "click" {
            // When it was signed, which the server compares with the click's
            // time (PIXELGATE_EARLY_CLICK): a scanner clicks on delivery.
            query = PixelSignature.removingPairs(query[...], named: PixelSignature.signedAtParameter)
            query += Array("\(query.isEmpty ? "" : "&")\(PixelSignature.signedAtParameter)=\(SystemClock.nowMillis() / 1000)".utf8)
        }
        if let lifetimeSeconds {
            query = PixelSignature.removingPairs(query[...], named: PixelSignature.expiryParameter)
            query += Array("\(query.isEmpty ? "" : "&")\(PixelSignature.expiryParameter)=\(SystemClock.nowMillis() / 1000 + lifetimeSeconds)".utf8)
        }
        // An `exp` that is no time would make a link that never works.
        if case .some(nil) = PixelSignature.expiry(query[...]) {
            throw Refusal("exp= must be Unix seconds (or use --expires)")
        }
        let text = String(decoding: query, as: UTF8.self)
        let pairs: [QueryPair]
        do {
            pairs = try QueryString.parse(text)
        } catch {
            throw Refusal("the query is not valid: \(error.message)")
        }
        guard let writeKey = pairs.first(where: { $0.name == "writeKey" })?.value, !writeKey.isEmpty else {
            throw Refusal("the URL has no writeKey")
        }
        if route == "click" {
            guard let target = pairs.first(where: { $0.name == "url" })?.value else {
                throw Refusal("a click URL needs its target: --target URL")
            }
            guard PixelCore.ClickTarget.check(target) != nil else {
                throw Refusal("the click target must be an absolute http:// or https:// URL without spaces or control characters")
            }
        }
        guard let secret = configuration.signingKeys[writeKey] else {
            throw Refusal("PIXELGATE_SIGNING_KEYS has no secret for write key '\(writeKey)'", Exit.configuration)
        }
        let signedQuery = text + "&sig=" + PixelSignature.signature(route: route, of: query, secret: secret)
        // The hit this URL will make, answered as pixelgate answers it.
        let hit = PixelRequest(method: "GET", requestURI: "/pixel/v1/\(route)?" + signedQuery, queryString: Array(signedQuery.utf8),
                               remoteAddr: "192.0.2.1", userAgent: "Mozilla/5.0 (X11; Linux x86_64) pixelgate-sign")
        let answer = handler.handle(hit, sink: InMemorySink(), nowMillis: SystemClock.nowMillis(),
                                    newMessageId: { "00000000-0000-4000-8000-000000000000" }).response
        guard answer.status < 400 else {
            throw Refusal("pixelgate would refuse this URL: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
        return path + "?" + signedQuery + fragment
    }

    /// The query as a browser sends it: bytes it percent-encodes in the
    /// query of an http(s) URL (controls, space, `"`, `'`, `<`, `>`, and
    /// everything outside ASCII) are escaped, the rest kept as written, so
    /// the signature covers what pixelgate will be sent.
    static func browserEncoded(_ query: Substring) -> [UInt8] {
        percentEncoded(query.utf8) { b in
            b > 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "'") && b != UInt8(ascii: "<") && b != UInt8(ascii: ">")
        }
    }

    /// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
    /// percent-encoded: a click target is one parameter's value, whose own
    /// `?`, `&`, `=` and `#` must reach pixelgate as data.
    static func componentEncoded(_ text: String) -> [UInt8] {
        percentEncoded(text.utf8) { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
        }
    }

    /// `bytes` with every byte `keeps` refuses written `%XX` (uppercase hex).
    static func percentEncoded<Bytes: Sequence<UInt8>>(_ bytes: Bytes, keeps: (UInt8) -> Bool) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in bytes {
            if keeps(b) { out.append(b) } else { out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]] }
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
