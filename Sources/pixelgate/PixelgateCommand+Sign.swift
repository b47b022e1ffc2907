import PixelCore
import PixelServer

extension PixelgateCommand {
    /// `pixelgate sign URL`: the URL with `&sig=` appended (an old one
    /// replaced), signed with the secret PIXELGATE_SIGNING_KEYS gives its
    /// write key. For templates that cannot compute HMACs themselves, and
    /// for checking those that do.
    static func sign(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1, let url = arguments.first else { return usageError("sign takes one URL") }
        let (configuration, problems) = ConfigurationLoader.load()
        if let problem = problems.first(where: \.isFatal) {
            printError("pixelgate sign: configuration: \(problem)\n")
            return 1
        }
        guard let mark = url.utf8.firstIndex(of: UInt8(ascii: "?")) else {
            printError("pixelgate sign: the URL has no query string\n")
            return 2
        }
        var query = Array(url.utf8[url.utf8.index(after: mark)...])
        if let parts = PixelSignature.split(query) { query = Array(parts.signed) }
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
        printOut(String(url[..<mark]) + "?" + text + "&sig=" + PixelSignature.signature(of: query, secret: secret) + "\n")
        return 0
    }
}
