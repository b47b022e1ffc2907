import Testing
@testable import PixelCore

@Suite("request_ip and trusted proxies (SPEC §3)")
struct ClientAddressTests {
    static let proxies = ["10.0.0.0/8", "192.168.1.5", "fd00::/8"].compactMap(IPNetwork.init)

    struct Case: CustomTestStringConvertible, Sendable {
        let remote: String
        let xff: String?
        let expected: String
        var testDescription: String { "\(remote) xff=\(xff ?? "-") → \(expected)" }
    }

    @Test(arguments: [
        Case(remote: "203.0.113.7", xff: nil, expected: "203.0.113.7"),
        // An untrusted peer cannot claim another address.
        Case(remote: "203.0.113.7", xff: "1.2.3.4", expected: "203.0.113.7"),
        Case(remote: "10.1.2.3", xff: "198.51.100.9", expected: "198.51.100.9"),
        // The client's own claims left of what the proxy saw are ignored.
        Case(remote: "10.1.2.3", xff: "6.6.6.6, 198.51.100.9", expected: "198.51.100.9"),
        Case(remote: "10.1.2.3", xff: "6.6.6.6, 198.51.100.9, 10.9.9.9", expected: "198.51.100.9"),
        Case(remote: "192.168.1.5", xff: "198.51.100.9,192.168.1.5", expected: "198.51.100.9"),
        Case(remote: "192.168.1.6", xff: "198.51.100.9", expected: "192.168.1.6"),
        Case(remote: "10.1.2.3", xff: "10.2.2.2, 10.3.3.3", expected: "10.2.2.2"),
        Case(remote: "10.1.2.3", xff: "not-an-ip", expected: "10.1.2.3"),
        Case(remote: "10.1.2.3", xff: "", expected: "10.1.2.3"),
        Case(remote: "fd12::1", xff: "2001:db8::5", expected: "2001:db8::5"),
        Case(remote: "2001:db8::1", xff: "1.1.1.1", expected: "2001:db8::1"),
    ])
    func resolves(_ c: Case) {
        #expect(ClientAddress.resolve(remoteAddr: c.remote, forwardedFor: c.xff, trusted: ClientAddressTests.proxies) == c.expected)
    }

    @Test func nothingTrustedByDefault() {
        #expect(ClientAddress.resolve(remoteAddr: "10.1.2.3", forwardedFor: "1.2.3.4", trusted: []) == "10.1.2.3")
    }

    @Test(arguments: ["1.2.3.4", "::1", "::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "fe80::1:2"])
    func parsesAddresses(_ text: String) {
        #expect(IPAddress(text) != nil)
    }

    @Test(arguments: ["1.2.3", "1.2.3.256", "1.2.3.4.5", "01234.1.1.1", "1:2:3:4:5:6:7:8:9", "1::2::3", "::g", "", "abc", "1.2.3.4/8"])
    func refusesNonAddresses(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func cidrMatching() throws {
        let net = try #require(IPNetwork("172.16.0.0/12"))
        #expect(net.contains(try #require(IPAddress("172.31.255.255"))))
        #expect(!net.contains(try #require(IPAddress("172.32.0.0"))))
        #expect(!net.contains(try #require(IPAddress("::1"))))
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::1"))))
        #expect(IPNetwork("10.0.0.0/33") == nil)
        #expect(IPNetwork("10.0.0.0/x") == nil)
    }
}
