#if canImport(Glibc)
import Glibc
#endif
import PixelCore

/// Plain CGI: one request from the process environment, answered on stdout.
public enum CGITransport {
    public static func serveOne(_ responder: Responder) {
        let request = PixelRequest(cgiVariable: { name in
            let value = name.withUTF8Buffer { getenv(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) }
            guard let value else { return nil }
            return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: strlen(value))
        })
        writeAll(1, responder.respond(to: request))
    }

    /// Writes every byte to `fd`, resuming after partial writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
