import Testing
@testable import PixelCore

@Suite("Signed pixel URLs")
struct SignatureTests {
    static let secret = "s3cret-for-wk-0123456789"

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesFIPSVectors(_ message: String, _ digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func sha256OfAMillionAs() {
        let digest = SHA256.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
        #expect(digest == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hmacMatchesRFC4231() {
        #expect(SHA256.hex(SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(SHA256.hex(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than the block is hashed first (test case 6).
        #expect(SHA256.hex(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                       message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func theSignatureIsTheLastParameter() {
        let parts = PixelSignature.split(Array("writeKey=wk&anonymousId=a&sig=abc".utf8))
        #expect(parts.map { String(decoding: $0.signed, as: UTF8.self) } == "writeKey=wk&anonymousId=a")
        #expect(parts.map { String(decoding: $0.signature, as: UTF8.self) } == "abc")
        #expect(PixelSignature.split(Array("writeKey=wk&sig=abc&anonymousId=a".utf8)) == nil)
        #expect(PixelSignature.split(Array("sig=abc".utf8)) == nil)
        #expect(PixelSignature.split(Array("writeKey=wk&xsig=abc".utf8)) == nil)
        // A second `sig` is not signed data.
        #expect(PixelSignature.split(Array("writeKey=wk&sig=old&anonymousId=a&sig=abc".utf8)) == nil)
    }

    func handle(_ query: String, route: String = "page", keys: [String: String] = ["wk": SignatureTests.secret],
                sink: InMemorySink) -> HandlerOutcome {
        var config = PixelConfiguration()
        config.signingKeys = keys
        return PixelHandler(configuration: config).handle(
            PixelRequest(method: "GET", requestURI: "/pixel/v1/\(route)?" + query, remoteAddr: "203.0.113.7"),
            sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
    }

    func signed(_ query: String, route: String = "page", secret: String = SignatureTests.secret) -> String {
        query + "&sig=" + PixelSignature.signature(route: route, of: Array(query.utf8), secret: secret)
    }

    /// The signature covers `route?query`, so it can be checked by hand
    /// (docs/email.md's shell, Python, PHP and Node lines compute exactly this).
    @Test func theSignedMessageIsTheRouteAndTheQuery() {
        let query = "writeKey=wk&anonymousId=u1&event=Open"
        #expect(PixelSignature.signature(route: "track", of: Array(query.utf8), secret: SignatureTests.secret)
            == SHA256.hex(SHA256.hmac(key: Array(SignatureTests.secret.utf8), message: Array(("track?" + query).utf8))))
    }

    /// Each way to reuse a signed URL for something it was not signed for.
    @Test(arguments: [
        ("route swap: signed for track, sent to page", "page", "track", ""),
        ("expiry moved", "track", "track", "exp-moved"),
        ("pairs reordered", "track", "track", "reordered"),
        ("a second sig", "track", "track", "second-sig"),
        ("expired", "track", "track", "expired"),
    ])
    func tamperedSignedURLsAreRefused(_ c: (name: String, sentTo: String, signedFor: String, change: String)) {
        let expiresLater = fixedMillis / 1000 + 3600
        let query = "writeKey=wk&anonymousId=a1&event=Open&exp=\(c.change == "expired" ? fixedMillis / 1000 - 1 : expiresLater)"
        var url = signed(query, route: c.signedFor)
        switch c.change {
        case "exp-moved": url = url.replacing("exp=\(expiresLater)", with: "exp=\(expiresLater + 86_400)")
        case "reordered": url = url.replacing("writeKey=wk&anonymousId=a1", with: "anonymousId=a1&writeKey=wk")
        case "second-sig": url = "sig=0&" + url
        default: break
        }
        let sink = InMemorySink()
        let outcome = handle(url, route: c.sentTo, sink: sink)
        #expect(outcome.response.status == 400, "\(c.name)")
        #expect(String(decoding: outcome.response.body, as: UTF8.self) == (c.change == "expired" ? "signature expired" : "invalid signature"),
                "\(c.name)")
        #expect(sink.events.isEmpty)
        // Untouched and in time, the same URL is accepted, without exp in the event.
        if c.change != "expired" {
            let good = InMemorySink()
            #expect(handle(signed(query, route: c.sentTo), route: c.sentTo, sink: good).response.status == 200)
            #expect(good.events.count == 1 && !(good.events.first?.eventText.contains("exp") ?? true))
        }
    }

    @Test func aGoodSignatureIsAcceptedAndNotRecorded() {
        let sink = InMemorySink()
        #expect(handle(signed("writeKey=wk&anonymousId=a1&properties.plan=pro"), sink: sink).response.status == 200)
        #expect(sink.events.count == 1)
        #expect(!(sink.events.first?.eventText.contains("sig") ?? true))
        #expect(sink.events.first?.eventText.contains(#""properties":{"plan":"pro"}"#) == true)
    }

    @Test(arguments: [
        "writeKey=wk&anonymousId=a1",  // no signature
        "writeKey=wk&anonymousId=a1&sig=",  // empty
        "writeKey=wk&anonymousId=a1&sig=0000000000000000000000000000000000000000000000000000000000000000",
    ])
    func aMissingOrWrongSignatureIsRefused(_ query: String) {
        let sink = InMemorySink()
        let outcome = handle(query, sink: sink)
        #expect(outcome.response.status == 400)
        #expect(String(decoding: outcome.response.body, as: UTF8.self) == "invalid signature")
        #expect(sink.events.isEmpty && sink.rejected.first?.code == "invalid_signature")
    }

    @Test func anyChangeToASignedQueryIsRefused() {
        let good = signed("writeKey=wk&anonymousId=a1&properties.price=10")
        for tampered in [good.replacing("price=10", with: "price=99"),
                         good.replacing("anonymousId=a1", with: "anonymousId=a2"),
                         "properties.extra=x&" + good,
                         signed("writeKey=wk&anonymousId=a1&properties.price=10", secret: "another-secret-0123456789")] {
            let sink = InMemorySink()
            #expect(handle(tampered, sink: sink).response.status == 400, "\(tampered)")
            #expect(sink.events.isEmpty)
        }
    }

    @Test func keysWithoutASecretNeedNoSignature() {
        let sink = InMemorySink()
        #expect(handle("writeKey=other&anonymousId=a1", sink: sink).response.status == 200)
        #expect(sink.events.count == 1)
    }

    @Test func theWriteKeyAllowListStillComesFirst() {
        var config = PixelConfiguration()
        config.signingKeys = ["wk": SignatureTests.secret]
        config.writeKeys = ["other"]
        let outcome = PixelHandler(configuration: config).handle(
            PixelRequest(method: "GET", requestURI: "/pixel/v1/page?" + signed("writeKey=wk&anonymousId=a1"), remoteAddr: "203.0.113.7"),
            sink: InMemorySink(), nowMillis: fixedMillis, newMessageId: { fixedMessageId })
        #expect(String(decoding: outcome.response.body, as: UTF8.self) == "invalid write key")
    }

    @Test func signingKeysAreParsed() {
        let (config, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_SIGNING_KEYS": "wk:\(SignatureTests.secret), k2:a:b:c-0123456789abcdef"])
        #expect(problems.isEmpty)
        #expect(config.signingKeys == ["wk": SignatureTests.secret, "k2": "a:b:c-0123456789abcdef"])
        for bad in ["wk", ":secret-0123456789abcdef", "wk:", "wk:short"] {
            let (_, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_SIGNING_KEYS": bad])
            #expect(problems.contains { $0.setting == "PIXELGATE_SIGNING_KEYS" && $0.isFatal }, "\(bad)")
        }
    }
}
