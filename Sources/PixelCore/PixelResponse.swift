/// One HTTP answer, rendered as CGI output (`Status:` line, headers, body).
public struct PixelResponse: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var status: Int
    public var headers: [Header]
    public var body: [UInt8]
    /// False for HEAD: headers describe the body but it is not sent.
    public var sendsBody: Bool = true

    /// Every answer carries these so that each view or open reaches the server.
    static let noCacheHeaders = [
        Header(name: "Cache-Control", value: "no-store, no-cache, must-revalidate, max-age=0"),
        Header(name: "Pragma", value: "no-cache"),
        Header(name: "Expires", value: "0"),
    ]

    /// The 43-byte transparent 1×1 GIF89a.
    public static let transparentGIF: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    /// A text/plain answer; bodies carry no trailing newline.
    public static func text(_ status: Int, _ body: String, extraHeaders: [Header] = []) -> PixelResponse {
        PixelResponse(
            status: status,
            headers: [Header(name: "Content-Type", value: "text/plain; charset=utf-8")] + extraHeaders + noCacheHeaders,
            body: Array(body.utf8))
    }

    public static func gif() -> PixelResponse {
        PixelResponse(status: 200, headers: [Header(name: "Content-Type", value: "image/gif")] + noCacheHeaders, body: transparentGIF)
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 414: return "URI Too Long"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    /// The bytes a CGI or FastCGI responder writes: `Status:`, the headers
    /// with `Content-Length`, a blank line, then the body unless HEAD.
    public func cgiBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        out.append(contentsOf: "Status: \(status) \(PixelResponse.reason(status))\r\n".utf8)
        for h in headers {
            out.append(contentsOf: h.name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: h.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Content-Length: \(body.count)\r\n\r\n".utf8)
        if sendsBody { out.append(contentsOf: body) }
        return out
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
