import PixelCore
import PixelSpool

/// One process's request-answering state: the handler, the sink it stores
/// into, and the log. Shared by the CGI and FastCGI transports.
public final class Responder {
    public let handler: PixelHandler
    public let sink: EventSink
    public let logger: Logger
    private var ids = MessageIDSource()

    public init(handler: PixelHandler, sink: EventSink, logger: Logger) {
        self.handler = handler
        self.sink = sink
        self.logger = logger
    }

    /// Answers one request; returns the CGI output bytes.
    public func respond(to request: PixelRequest) -> [UInt8] {
        let outcome = handler.handle(request, sink: sink, nowMillis: SystemClock.nowMillis(), newMessageId: { ids.next() })
        if let level = outcome.logLevel, let message = outcome.logMessage {
            logger.log(level, message)
        }
        return outcome.response.cgiBytes()
    }
}
