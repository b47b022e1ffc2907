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

    public init(method: String? = "GET", requestURI: String? = nil, scriptName: String? = nil, pathInfo: String? = nil,
                queryString: [UInt8]? = nil, remoteAddr: String? = nil, userAgent: String? = nil, forwardedFor: String? = nil) {
        self.method = method
        self.requestURI = requestURI
        self.scriptName = scriptName
        self.pathInfo = pathInfo
        self.queryString = queryString
        self.remoteAddr = remoteAddr
        self.userAgent = userAgent
        self.forwardedFor = forwardedFor
    }

    /// Builds a request from CGI variable lookups (`REQUEST_METHOD`, …).
    public init(cgiVariable: (String) -> [UInt8]?) {
        func text(_ name: String) -> String? { cgiVariable(name).map { String(decoding: $0, as: UTF8.self) } }
        self.init(
            method: text("REQUEST_METHOD"), requestURI: text("REQUEST_URI"), scriptName: text("SCRIPT_NAME"),
            pathInfo: text("PATH_INFO"), queryString: cgiVariable("QUERY_STRING"), remoteAddr: text("REMOTE_ADDR"),
            userAgent: text("HTTP_USER_AGENT"), forwardedFor: text("HTTP_X_FORWARDED_FOR"))
    }

    /// The path: `REQUEST_URI` up to `?`, else `SCRIPT_NAME` + `PATH_INFO`.
    public var path: Substring {
        if let uri = requestURI, !uri.isEmpty {
            return uri[..<(uri.firstIndex(of: "?") ?? uri.endIndex)]
        }
        return Substring((scriptName ?? "") + (pathInfo ?? ""))
    }

    /// The query: `QUERY_STRING`, else `REQUEST_URI` after `?`.
    public var query: [UInt8] {
        if let queryString { return queryString }
        if let uri = requestURI, let q = uri.firstIndex(of: "?") { return Array(uri[uri.index(after: q)...].utf8) }
        return []
    }

    /// The event type this path routes to, by its end, under any prefix.
    public var route: EventType? {
        let p = path
        if p.hasSuffix("/pixel/v1/page") { return .page }
        if p.hasSuffix("/pixel/v1/track") { return .track }
        return nil
    }
}
