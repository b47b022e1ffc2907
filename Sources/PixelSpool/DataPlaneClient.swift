import CCurl
import CZlib
import PixelCore

/// POSTs batches to a RudderStack data plane's `/v1/batch` with libcurl.
///
/// One client per process; its libcurl handle keeps the connection open
/// between batches.
public final class DataPlaneClient: DataPlane {
    public let batchURL: String
    /// `batchURL` with any `user:password@` masked, for messages.
    let shownURL: String
    public let timeoutMillis: Int
    /// Write keys the operator listed (`PIXELGATE_WRITE_KEYS`): a 401 or
    /// 403 for one of these means the data plane does not know a key we
    /// were told is good, which is for the operator to fix.
    let listedWriteKeys: Set<String>
    let userAgent: String
    private var api = pixelgate_curl_api()
    private let curl: UnsafeMutableRawPointer
    /// Set when bodies are sent gzipped (`Content-Encoding: gzip`).
    private var zlib: pixelgate_zlib_api?

    /// Loads libcurl (at most once per process is enough: create one client),
    /// and zlib when `gzip`. Throws when libcurl cannot be loaded; without
    /// zlib, bodies go uncompressed.
    public init(dataPlaneURL: String, timeoutMillis: Int, gzip: Bool = false, listedWriteKeys: Set<String> = [],
                userAgent: String = "pixelgate") throws(SinkError) {
        self.listedWriteKeys = listedWriteKeys
        self.userAgent = userAgent
        if gzip {
            var z = pixelgate_zlib_api()
            if pixelgate_zlib_load(&z) == 0 { zlib = z }
        }
        var error: UnsafePointer<CChar>? = nil
        guard pixelgate_curl_load(&api, &error) == 0 else {
            throw SinkError("cannot load libcurl.so.4: \(error.map { String(cString: $0) } ?? "unknown error")")
        }
        guard let handle = api.easy_init() else { throw SinkError("curl_easy_init failed") }
        curl = handle
        batchURL = (dataPlaneURL.hasSuffix("/") ? String(dataPlaneURL.dropLast()) : dataPlaneURL) + "/v1/batch"
        shownURL = URLRedaction.redacted(batchURL)
        self.timeoutMillis = timeoutMillis
    }

    deinit { api.easy_cleanup(curl) }

    /// `{"batch":[…]}` from already-encoded event objects.
    public static func batchBody(_ events: [ArraySlice<UInt8>]) -> [UInt8] {
        var body = Array(#"{"batch":["#.utf8)
        body.reserveCapacity(events.reduce(16) { $0 + $1.count + 1 })
        for (i, event) in events.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: event)
        }
        body.append(contentsOf: "]}".utf8)
        return body
    }

    /// The gzip of `body`, or nil when zlib is not in use or fails.
    func gzipped(_ body: [UInt8]) -> [UInt8]? {
        guard var z = zlib else { return nil }
        var out = [UInt8](repeating: 0, count: body.count + body.count / 100 + 1024)
        let n = out.withUnsafeMutableBytes { o in body.withUnsafeBytes { i in pixelgate_gzip(&z, i.baseAddress, i.count, o.baseAddress, o.count) } }
        guard n > 0 else { return nil }
        return Array(out[0..<n])
    }

    /// Compresses `body` if gzip is on. Safe to call from another thread
    /// while this client sends: it only reads the loaded zlib functions.
    public func prepare(_ body: [UInt8]) -> PreparedBody {
        if let compressed = gzipped(body) { return PreparedBody(bytes: compressed, gzipped: true) }
        return PreparedBody(bytes: body, gzipped: false)
    }


    /// The data plane's answer as it came, before it means anything.
    public struct Answer: Sendable {
        /// The HTTP status; 0 when there was none.
        public var status = 0
        public var body = ""
        public var location: String?
        public var retryAfter: Int?
        /// libcurl's error code when no answer came (0 otherwise), and its words.
        public var transportError = 0
        public var transportMessage = ""
    }

    /// libcurl's errors that no retry mends: certificates (an untrusted or
    /// wrong one), a URL or TLS setting it cannot use (libcurl's `CURLE_*`
    /// numbers).
    static let configurationTransportErrors: Set<Int> = [1, 3, 51, 53, 54, 58, 59, 60, 64, 66, 77, 82, 83, 90, 91]

    /// Whether libcurl's error is the URL's fault rather than a moment's.
    /// A failed TLS handshake (35) is either: a connection reset by a
    /// restarting load balancer, worth a retry, or TLS spoken to a port
    /// that answers plain HTTP (`https://` for `http://`), which OpenSSL
    /// calls a wrong version number and GnuTLS an unexpected packet.
    public static func isConfigurationError(_ code: Int, _ message: String) -> Bool {
        if configurationTransportErrors.contains(code) { return true }
        guard code == 35 else { return false }
        let words = message.lowercased()
        return ["wrong version number", "unexpected tls packet", "packet length too long", "unexpected packet"]
            .contains { words.containsOccurrence(of: $0) }
    }

    public func send(writeKey: String, prepared: PreparedBody) -> DeliveryResult {
        let answer = post(writeKey: writeKey, prepared: prepared)
        if answer.transportError != 0 {
            // TLS spoken to a plain-HTTP port, an untrusted certificate, a
            // URL libcurl cannot use: no retry mends these, and `check
            // --connect` calls them configuration too.
            if Self.isConfigurationError(answer.transportError, answer.transportMessage) {
                return .misdirected(status: 0, reason: "\(shownURL) not reached: \(answer.transportMessage): "
                    + "check PIXELGATE_DATA_PLANE_URL's scheme, host and port, and its certificate")
            }
            return .retry(reason: answer.transportMessage, retryAfterSeconds: nil, transportError: answer.transportError)
        }
        return classify(status: answer.status, answer: answer.body, writeKey: writeKey, location: answer.location, retryAfter: answer.retryAfter)
    }

    /// POSTs `prepared` to `/v1/batch` for `writeKey` and returns the answer
    /// (its first 2 KB).
    public func post(writeKey: String, prepared: PreparedBody) -> Answer {
        var lines = ["Content-Type: application/json", "Authorization: Basic " + Base64.encode(Array((writeKey + ":").utf8)),
                     "User-Agent: " + userAgent, "Expect:"]
        let body = prepared.bytes
        if prepared.gzipped { lines.append("Content-Encoding: gzip") }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for line in lines {
            headers = api.slist_append(headers, line)
        }
        defer { api.slist_free_all(headers) }
        var status = 0, retryAfter = 0
        var location: UnsafePointer<CChar>? = nil
        let capacity = 2048
        let answerBytes = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        defer { answerBytes.deallocate() }
        var answer = pixelgate_answer(data: answerBytes, capacity: capacity, length: 0)
        let errors = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        defer { errors.deallocate() }
        let code = body.withUnsafeBytes { raw in
            pixelgate_curl_post(&api, curl, batchURL, headers, raw.baseAddress, raw.count, timeoutMillis, &status, &retryAfter,
                                &location, &answer, errors)
        }
        var result = Answer()
        if code != 0 {
            result.transportError = Int(code)
            result.transportMessage = api.easy_strerror(CURLcode(UInt32(code))).map { String(cString: $0) } ?? "curl error \(code)"
            errors[Int(CURL_ERROR_SIZE) - 1] = 0
            if errors[0] != 0 { result.transportMessage += ": " + String(cString: errors) }
            return result
        }
        result.status = status
        result.body = String(decoding: UnsafeRawBufferPointer(start: answerBytes, count: answer.length), as: UTF8.self)
        result.location = location.map { String(cString: $0) }
        result.retryAfter = retryAfter >= 0 ? retryAfter : nil
        return result
    }

    /// The first 200 characters of an answer on one line, for messages.
    public static func words(_ answer: String) -> String {
        answer.prefix(200).split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// What an HTTP answer means for the batch (SPEC §6).
    func classify(status: Int, answer: String, writeKey: String, location: String?, retryAfter: Int?) -> DeliveryResult {
        let said = DataPlaneClient.words(answer)
        switch status {
        case 200..<300:
            return .delivered
        case 408, 429, 500...599:
            return .retry(reason: "HTTP \(status) \(said)", retryAfterSeconds: retryAfter, status: status)
        case 300..<400:
            return .misdirected(status: status, reason: "\(shownURL) answered HTTP \(status), redirecting to \(location.map(URLRedaction.redacted) ?? "nowhere"): "
                + "set PIXELGATE_DATA_PLANE_URL to the data plane's own address (pixelgate does not follow redirects)")
        case 404, 405:
            return .misdirected(status: status, reason: "\(shownURL) answered HTTP \(status) \(said): "
                + "check PIXELGATE_DATA_PLANE_URL (the address of the data plane, without /v1/batch) and that the source is enabled")
        case 400..<500 where answer.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" }).hasPrefix("<"):
            // The gateway answers in plain words; an HTML page is a proxy, a
            // firewall or a web server in front (nginx's "plain HTTP request
            // was sent to HTTPS port"): not a verdict on the events.
            return .misdirected(status: status, reason: "\(shownURL) answered HTTP \(status) with an HTML page, not the data plane's answer: "
                + "check PIXELGATE_DATA_PLANE_URL (scheme, host and port of the data plane)")
        case 401 where listedWriteKeys.contains(writeKey), 403 where listedWriteKeys.contains(writeKey):
            return .misdirected(status: status, reason: "the data plane refused write key '\(writeKey)' (HTTP \(status) \(said)), "
                + "which PIXELGATE_WRITE_KEYS lists: check the key and its source in RudderStack")
        default:
            return .refused(status: status, answer: String(answer.prefix(1000)))
        }
    }
}
