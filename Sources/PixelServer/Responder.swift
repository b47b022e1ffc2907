import PixelCore
import PixelSpool
import PixelSystem

/// One process's request-answering state: the handler, the sink it stores
/// into, and the log. Shared by the CGI and FastCGI transports.
public final class Responder {
    public let handler: PixelHandler
    public let sink: EventSink
    public let logger: Logger
    private var ids = MessageIDSource()
    private let workspace = EventWorkspace()
    /// The answer to GET for a stored event, rendered once; HEAD's is the
    /// same without the body (not rendered apart: a CGI process answers one
    /// hit, and seldom a HEAD).
    private let successBytes: [UInt8]
    private let successBodyCount: Int
    /// Answers carry a header of their own (`PIXELGATE_CLASS_HEADER`):
    /// none is the one rendered.
    private let rendersEach: Bool

    public init(handler: PixelHandler, sink: EventSink, logger: Logger) {
        self.handler = handler
        self.sink = sink
        self.logger = logger
        let success = handler.success()
        successBytes = success.cgiBytes()
        successBodyCount = success.body.count
        rendersEach = handler.configuration.classHeader
    }

    /// Answers one request; returns the CGI output bytes.
    public func respond(to request: PixelRequest) -> [UInt8] {
        let outcome = handler.handle(request, sink: sink, nowMillis: SystemClock.nowMillis(), newMessageId: { ids.next() }, workspace: workspace)
        if let level = outcome.logLevel, let message = outcome.logMessage {
            if outcome.isRefusal { logger.logRefusal(level, message) } else { logger.log(level, message) }
        }
        if outcome.isStoredSuccess && !rendersEach {
            return outcome.response.sendsBody ? successBytes : Array(successBytes[..<(successBytes.count - successBodyCount)])
        }
        return outcome.response.cgiBytes()
    }
}
