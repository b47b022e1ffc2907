import Testing
@testable import PixelCore

/// The deepest name the settings allow must give a spool line the drain can
/// read back: an event answered 200 that the drain then sets aside as "not a
/// spool record" never reaches RudderStack.
@Suite struct DeepNamesTests {
    @Test(arguments: [PixelLimits.maxDepthBounds.upperBound, 16, 1])
    func theDeepestNameAllowedIsReadBackFromTheSpool(depth: Int) throws {
        var config = PixelConfiguration()
        config.limits.maxDepth = depth
        config.limits.maxKeyBytes = 4096
        // `properties.` is one segment; the rest make up the depth allowed.
        let name = (["properties"] + (1..<depth).map { "s\($0)" }).joined(separator: ".")
        let sink = InMemorySink()
        let request = PixelRequest(method: "GET", requestURI: "/pixel/v1/track?writeKey=wk&anonymousId=a&event=e&\(name)=v",
                                   remoteAddr: "203.0.113.7", userAgent: "test")
        let outcome = PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: 0, newMessageId: { "m" })
        #expect(outcome.response.status == 200)
        let line = try #require(sink.lines.first)
        let parsed = SpoolLine.parse(line.dropLast()[...])
        #expect(parsed != nil, "the spool line of a \(depth)-segment name does not read back")
        #expect(parsed?.writeKey == "wk")
        // One segment deeper is refused at the door, not spoiled later.
        let deeper = PixelRequest(method: "GET", requestURI: "/pixel/v1/track?writeKey=wk&anonymousId=a&event=e&\(name).x=v",
                                  remoteAddr: "203.0.113.7", userAgent: "test")
        #expect(PixelHandler(configuration: config).handle(deeper, sink: sink, nowMillis: 0, newMessageId: { "m" }).response.status == 400)
    }
}
