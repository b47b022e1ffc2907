import PixelCore
import PixelSystem

/// Plain CGI: one request from the process environment, answered on stdout.
public enum CGITransport {
    public static func serveOne(_ responder: Responder) {
        let request = PixelRequest(cgiVariable: ProcessControl.variableBytes)
        StandardStream.output.write(responder.respond(to: request))
    }
}
