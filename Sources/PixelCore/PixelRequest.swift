/// The parts of a CGI/FastCGI request the handler reads, copied out of the
/// transport's environment.
public struct PixelRequest: Sendable, Equatable {
    public var method: String?
    public var requestURI: String?
    public var scriptName: String?
    public var pathInfo: String?
    /// `QUERY_STRING` as raw bytes: kept undecoded so that bytes that are not
    /// UTF-8 can be refused rather than silently repaired.
    public var queryString: [UInt8]?
    public var remoteAddr: String?
    public var userAgent: String?
    public var forwardedFor: String?
    /// `Sec-Purpose`, `Purpose`, `X-Moz`, `X-Purpose`: what a browser says
    /// when it fetches ahead (prefetch, prerender, preview).
    public var secPurpose: String?
    public var purpose: String?
    public var xMoz: String?
    public var xPurpose: String?
    /// `DNT` and `Sec-GPC`: the visitor asks not to be tracked.
    public var doNotTrack: String?
    public var globalPrivacyControl: String?

    public init(method: String? = "GET", requestURI: String? = nil, scriptName: String? = nil, pathInfo: String? = nil,
                queryString: [UInt8]? = nil, remoteAddr: String? = nil, userAgent: String? = nil, forwardedFor: String? = nil,
                secPurpose: String? = nil, purpose: String? = nil, xMoz: String? = nil, xPurpose: String? = nil,
                doNotTrack: String? = nil, globalPrivacyControl: String? = nil) {
        self.method = method
        self.requestURI = requestURI
        self.scriptName = scriptName
        self.pathInfo = pathInfo
        self.queryString = queryString
        self.remoteAddr = remoteAddr
        self.userAgent = userAgent
        self.forwardedFor = forwardedFor
        self.secPurpose = secPurpose
        self.purpose = purpose
        self.xMoz = xMoz
        self.xPurpose = xPurpose
        self.doNotTrack = doNotTrack
        self.globalPrivacyControl = globalPrivacyControl
    }

    /// Builds a request from CGI variable lookups (`REQUEST_METHOD`, …).
    /// Names are static strings, so a lookup needs no C string made for it.
    public init(cgiVariable: (StaticString) -> UnsafeBufferPointer<UInt8>?) {
        func text(_ name: StaticString) -> String? { cgiVariable(name).map { String(decoding: $0, as: UTF8.self) } }
        let queryString = cgiVariable("QUERY_STRING")
        // With QUERY_STRING present only the URI's path is read: keep just
        // that, rather than make a second copy of a long query.
        var requestURI = cgiVariable("REQUEST_URI")
        if queryString != nil, let uri = requestURI, let q = uri.firstIndex(of: UInt8(ascii: "?")) {
            requestURI = UnsafeBufferPointer(rebasing: uri[..<q])
        }
        self.init(
            method: text("REQUEST_METHOD"), requestURI: requestURI.map { String(decoding: $0, as: UTF8.self) },
            scriptName: text("SCRIPT_NAME"), pathInfo: text("PATH_INFO"), queryString: queryString.map(Array.init),
            remoteAddr: text("REMOTE_ADDR"), userAgent: text("HTTP_USER_AGENT"), forwardedFor: text("HTTP_X_FORWARDED_FOR"),
            secPurpose: text("HTTP_SEC_PURPOSE"), purpose: text("HTTP_PURPOSE"), xMoz: text("HTTP_X_MOZ"),
            xPurpose: text("HTTP_X_PURPOSE"), doNotTrack: text("HTTP_DNT"), globalPrivacyControl: text("HTTP_SEC_GPC"))
    }

    /// A header classification reads (`TrafficClassifier`).
    public func header(_ name: HitHeader) -> String? {
        switch name {
        case .userAgent: return userAgent
        case .secPurpose: return secPurpose
        case .purpose: return purpose
        case .xMoz: return xMoz
        case .xPurpose: return xPurpose
        }
    }

    /// `DNT: 1` or `Sec-GPC: 1`: the visitor's browser asks not to be tracked.
    public var asksNotToBeTracked: Bool {
        [doNotTrack, globalPrivacyControl].contains { $0.map { Substring($0).trimmingSpaces() == "1" } == true }
    }

    /// The path: `REQUEST_URI` up to `?`, else `SCRIPT_NAME` + `PATH_INFO`.
    public var path: Substring {
        if let uri = requestURI, !uri.isEmpty {
            // By bytes: `?` is ASCII, and Character steps are slow on long URIs.
            return uri[..<(uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex)]
        }
        return Substring((scriptName ?? "") + (pathInfo ?? ""))
    }

    /// The query: `QUERY_STRING`, else `REQUEST_URI` after `?`.
    public var query: [UInt8] {
        if let queryString { return queryString }
        if let uri = requestURI, let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) { return Array(uri.utf8[uri.utf8.index(after: q)...]) }
        return []
    }

    /// The route this path ends with, under any prefix.
    public var route: PixelRoute? {
        var p = path
        return p.withUTF8 { bytes in
            if PixelRequest.endsWith(bytes, "/pixel/v1/page") { return .page }
            if PixelRequest.endsWith(bytes, "/pixel/v1/track") { return .track }
            if PixelRequest.endsWith(bytes, "/pixel/v1/click") { return .click }
            return nil
        }
    }

    /// `…/pixel/v1/health`: the answer for load balancers and uptime checks.
    public var isHealthCheck: Bool {
        var p = path
        return p.withUTF8 { PixelRequest.endsWith($0, "/pixel/v1/health") }
    }

    static func endsWith(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        guard bytes.count >= n, let base = bytes.baseAddress else { return false }
        return memoryEqual(base + (bytes.count - n), suffix.utf8Start, n)
    }
}
