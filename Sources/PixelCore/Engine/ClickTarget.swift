/// Where a click link sends the browser: the decoded `url` parameter,
/// which must be an absolute `http` or `https` URL with a host, whose
/// `Location` is at most `maxBytes`. It is passed on byte for byte (its own query and fragment
/// included), except that bytes past ASCII are percent-encoded, as a
/// browser would send them (the event's `properties.url` keeps them as
/// UTF-8); control bytes and spaces are refused, so nothing can be added
/// to the answer's headers. Only signed links get this far: the signature,
/// not this check, is what keeps pixelgate from being an open redirect.
public enum ClickTarget {
    /// Longest target: a `Location` header must fit the web server's
    /// buffer for a FastCGI or CGI answer's headers (nginx's
    /// `fastcgi_buffer_size` is one 4 KiB page by default), or the visitor
    /// gets a 502 after the click was stored.
    public static let maxBytes = 2000

    public static func location(_ target: UnsafeBufferPointer<UInt8>) -> String? {
        let bytes = Array(target)
        let schemeEnd: Int
        if hasPrefix(bytes, "http://") { schemeEnd = 7 } else if hasPrefix(bytes, "https://") { schemeEnd = 8 } else { return nil }
        // A host must follow: `https:///x` or `https://\x` is not a URL a
        // person wrote, and browsers read them in surprising ways.
        guard bytes.count > schemeEnd, ![UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains(bytes[schemeEnd]) else {
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if b <= 0x20 || b == 0x7F { return nil }
            if b < 0x80 {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(Hex.upper(b >> 4))
                out.append(Hex.upper(b & 0xF))
            }
        }
        // Measured as sent: a byte past ASCII is three in the header.
        guard out.count <= maxBytes else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    static func hasPrefix(_ bytes: [UInt8], _ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        guard bytes.count >= p.count else { return false }
        for i in p.indices where (bytes[i] >= 0x41 && bytes[i] <= 0x5A ? bytes[i] | 0x20 : bytes[i]) != p[i] { return false }
        return true
    }
}

extension ClickTarget {
    /// `location` for a target held as text (`pixelgate sign --target`).
    public static func check(_ target: String) -> String? {
        var target = target
        return target.withUTF8 { location($0) }
    }
}
