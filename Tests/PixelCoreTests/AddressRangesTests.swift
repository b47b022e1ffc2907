import Testing
@testable import PixelCore

/// The address lists of the traffic rules (issue 29): reading an address
/// in place, the list file, the look-up at the edges of each range, and the
/// published files `pixelgate ranges import` reads.
struct AddressRangesTests {
    static func read(_ text: String) -> Address128? {
        var address = Address128(hi: 0, lo: 0)
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { address.read($0) } ? address : nil
    }

    /// The 128 bits `IPAddress` (the trusted-proxy parser) gives.
    static func reference(_ text: String) -> Address128? {
        guard let ip = IPAddress(text) else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<8 { hi = hi << 8 | UInt64(ip.bytes[i]) }
        for i in 8..<16 { lo = lo << 8 | UInt64(ip.bytes[i]) }
        return Address128(hi: hi, lo: lo)
    }

    @Test(arguments: [
        ("203.0.113.9", Address128(hi: 0, lo: 0xFFFF_CB00_7109)),
        ("::ffff:203.0.113.9", Address128(hi: 0, lo: 0xFFFF_CB00_7109)),
        ("::FFFF:cb00:7109", Address128(hi: 0, lo: 0xFFFF_CB00_7109)),
        ("2a01:111:f403:c201::7", Address128(hi: 0x2A01_0111_F403_C201, lo: 7)),
        ("2001:db8::", Address128(hi: 0x2001_0DB8_0000_0000, lo: 0)),
        ("::", Address128(hi: 0, lo: 0)),
        ("::1", Address128(hi: 0, lo: 1)),
        ("1:2:3:4:5:6:7:8", Address128(hi: 0x0001_0002_0003_0004, lo: 0x0005_0006_0007_0008)),
        ("1:2:3:4:5:6:1.2.3.4", Address128(hi: 0x0001_0002_0003_0004, lo: 0x0005_0006_0102_0304)),
    ])
    func addressesAreRead(_ text: String, _ expected: Address128) {
        #expect(Self.read(text) == expected, "\(text)")
    }

    @Test(arguments: ["", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.0004", "1..2.3", "[::1]", "fe80::1%eth0",
                      "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", ":1::", "1::2:", "12345::", "g::", "1.2.3.4:80", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
                      "unknown", "-"])
    func notAddressesAreRefused(_ text: String) {
        #expect(Self.read(text) == nil, "\(text)")
    }

    /// Against the trusted-proxy parser over many texts, formed and not:
    /// the two agree on what is an address and on its bits.
    @Test func theInPlaceReaderAgreesWithTheReferenceParser() {
        var generator = SplitMix64(state: 29)
        let alphabet = Array("0123456789abcdefABCDEF:.")
        var tried = 0, addresses = 0
        for round in 0..<60_000 {
            let text: String
            switch round % 3 {
            case 0:
                // A well-formed IPv6, some groups zeroed and compressed.
                var groups = (0..<8).map { _ in generator.next() % 3 == 0 ? "0" : String(generator.next() % 65_536, radix: 16) }
                if generator.next() % 2 == 0 { groups = groups.map { $0.uppercased() } }
                // The first run of zero groups (if any) written as `::`.
                if let zero = groups.firstIndex(of: "0"), generator.next() % 2 == 0 {
                    var end = zero
                    while end < 8 && groups[end] == "0" { end += 1 }
                    text = groups[..<zero].joined(separator: ":") + "::" + groups[end...].joined(separator: ":")
                } else {
                    text = groups.joined(separator: ":")
                }
            case 1:
                let parts = (0..<4).map { _ in String(generator.next() % (generator.next() % 5 == 0 ? 300 : 256)) }
                text = (generator.next() % 4 == 0 ? "::ffff:" : "") + parts.joined(separator: ".")
            default:
                text = String((0..<Int(generator.next() % 24)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            }
            let mine = Self.read(text), theirs = Self.reference(text)
            #expect(mine == theirs, "\(text)")
            if mine != theirs { break }
            tried += 1
            if mine != nil { addresses += 1 }
        }
        #expect(tried == 60_000 && addresses > 30_000)
    }

    /// The first and last address of each range are in it, the ones just
    /// outside are not, through the classifier's own tables.
    @Test func rangesHoldTheirEdgesAndNothingPast() throws {
        let lists = try AddressRanges.parse("""
        # a comment
        list test-list
        source a test
        version 1
        10.0.0.0/8
        192.0.2.128/25
        192.0.2.0/25
        2001:db8::/32
        198.51.100.7
        ::/128
        """)
        let rules = [TrafficRule("test-rule", .bot, .addressIn("test-list"), source: "a test")]
        let classifier = TrafficClassifier(rules: rules, lists: lists)
        // 192.0.2.0/25 and 192.0.2.128/25 touch: one range of five.
        #expect(classifier.addressLists.first?.first.count == 5)
        let inside = ["10.0.0.0", "10.255.255.255", "192.0.2.0", "192.0.2.255", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                      "198.51.100.7", "::ffff:10.1.2.3", "::"]
        let outside = ["9.255.255.255", "11.0.0.0", "192.0.1.255", "192.0.3.0", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::",
                       "198.51.100.6", "198.51.100.8", "::1", "not an address", ""]
        for address in inside {
            #expect(classifier.classify(address: address, header: { _ in "Mozilla/5.0 (X11) Firefox/128.0" }).ruleID == "test-rule", "\(address)")
        }
        for address in outside {
            #expect(classifier.classify(address: address, header: { _ in "Mozilla/5.0 (X11) Firefox/128.0" }).ruleID == "", "\(address)")
        }
    }

    /// A list of many ranges, searched through its summary and then one
    /// block: every range's first and last address is found, whatever block
    /// it is in, and the gaps between them are not.
    @Test func aLongListIsSearchedAcrossItsBlocks() throws {
        // 200 ranges with gaps between them, IPv4 and IPv6 both.
        var text = "list long\n"
        for i in 0..<100 { text += "10.0.\(i).0/28\n2001:db8:\(String(2 * i, radix: 16))::/48\n" }
        // A short list before it: the long one's summary starts past the short one's.
        text += "list short\n172.16.0.0/12\n192.168.0.0/16\n"
        let lists = try AddressRanges.parse(text)
        let classifier = TrafficClassifier(rules: [TrafficRule("short", .bot, .addressIn("short"), source: "a test"),
                                                   TrafficRule("long", .bot, .addressIn("long"), source: "a test")], lists: lists)
        #expect(classifier.addressLists.map(\.first.count) == [2, 200])
        func rule(_ address: String) -> String { classifier.classify(address: address, header: { _ in "Mozilla/5.0 (X11) Firefox/128.0" }).ruleID }
        for i in 0..<100 {
            let hex = String(2 * i, radix: 16)
            for inside in ["10.0.\(i).0", "10.0.\(i).15", "2001:db8:\(hex)::", "2001:db8:\(hex):ffff:ffff:ffff:ffff:ffff"] {
                #expect(rule(inside) == "long", "\(inside)")
            }
            for outside in ["10.0.\(i).16", "10.0.\(i).255", "2001:db8:\(String(2 * i + 1, radix: 16))::1"] {
                #expect(rule(outside) == "", "\(outside)")
            }
        }
        #expect(rule("9.255.255.255") == "" && rule("10.0.100.0") == "" && rule("2001:db7::") == "" && rule("2001:db9::") == "")
        #expect(rule("172.31.255.255") == "short" && rule("192.168.7.7") == "short" && rule("172.32.0.0") == "")
    }

    @Test(arguments: [
        ("10.0.0.0/8\n", "line 1: a range before any 'list' line"),
        ("list a\nlist a\n", "line 2: list 'a' is named twice"),
        ("list A\n", "line 1: a list's name is lowercase letters, digits and '-', not 'A'"),
        ("list a\n\n10.0.0.1/8\n", "line 3: '10.0.0.1/8' is not an address range (CIDR, like 40.92.0.0/15 or 2a01:111:f400::/48)"),
        ("list a\n10.0.0.0/8 extra\n", "line 2: '10.0.0.0/8 extra' is not an address range (CIDR, like 40.92.0.0/15 or 2a01:111:f400::/48)"),
        ("list a\n2001:db8::/129\n", "line 2: '2001:db8::/129' is not an address range (CIDR, like 40.92.0.0/15 or 2a01:111:f400::/48)"),
        ("source x\n", "line 1: 'source' before any 'list' line"),
        ("list a\n::/0\n", "line 2: '::/0' reaches into the IPv4 addresses (::ffff:0:0/96); write IPv4 ranges as such, like 40.92.0.0/15"),
        ("list a\n::ffff:0:0/96\n", "line 2: '::ffff:0:0/96' reaches into the IPv4 addresses (::ffff:0:0/96); write IPv4 ranges as such, like 40.92.0.0/15"),
        ("list a\n::ffff:8000:0/97\n", "line 2: '::ffff:8000:0/97' reaches into the IPv4 addresses (::ffff:0:0/96); write IPv4 ranges as such, like 40.92.0.0/15"),
        ("list a\n::ffff:198.51.100.7\n", "line 2: '::ffff:198.51.100.7' reaches into the IPv4 addresses (::ffff:0:0/96); write IPv4 ranges as such, like 40.92.0.0/15"),
    ])
    func aWrongLineIsNamed(_ text: String, _ message: String) {
        #expect(throws: AddressRangesProblem.self) { try AddressRanges.parse(text) }
        do { _ = try AddressRanges.parse(text) } catch { #expect(error.description == message) }
    }

    /// The compiled-in lists are the shipped file's, each with its source
    /// and version, and every list a rule names is there and not empty.
    @Test func theShippedListsAreCompiledInWithTheirSources() throws {
        let shipped = try TrafficTablesTests.shippedLists()
        let compiled = AddressLists.standard
        #expect(Set(compiled.map(\.name)) == Set(shipped.map(\.name)))
        for list in compiled {
            #expect(!list.first.isEmpty && list.source.contains("https://") && !list.version.isEmpty, "\(list.name)")
            let file = try #require(shipped.first { $0.name == list.name })
            #expect(list.first == file.merged.first && list.last == file.merged.last, "\(list.name)")
        }
        #expect(AddressLists.unusedNames(shipped).isEmpty)
    }

    // MARK: published files

    @Test func microsoftsExchangeSetsAreImported() throws {
        let published = """
        [{"id":1,"serviceArea":"Exchange","serviceAreaDisplayName":"Exchange Online","urls":["outlook.office.com"],
          "ips":["13.107.6.152/31","2603:1006::/40"],"tcpPorts":"80,443","expressRoute":true,"category":"Optimize","required":true},
         {"id":46,"serviceArea":"SharePoint","ips":["13.107.136.0/22"],"required":true},
         {"id":9,"serviceArea":"Exchange","urls":["*.protection.outlook.com"],"ips":["40.92.0.0/15","2a01:111:f403::/48"],
          "notes":"Exchange Online Protection \\"EOP\\"","required":true},
         {"id":10,"serviceArea":"Exchange","urls":["*.mail.protection.outlook.com","*.mx.microsoft"],"ips":["40.92.0.0/15","104.47.0.0/17"]},
         {"id":8,"serviceArea":"Exchange","urls":["*.outlook.com"],"required":false},
         {"id":99,"serviceArea":"Exchange","urls":["*.protection.outlook.com","outlook.office365.com"],"ips":["52.96.0.0/14"]}]
        """
        let (ranges, date) = try PublishedRanges.ranges(.microsoft, Array(published.utf8))
        // Sets 9 and 10: Exchange Online Protection's servers, each range
        // once; set 1 is where people's mail clients connect, not a filter,
        // and a set that also names a client address is not taken.
        #expect(ranges == ["40.92.0.0/15", "2a01:111:f403::/48", "104.47.0.0/17"])
        #expect(date == nil)
    }

    /// The files are read as strict JSON (`JSONSyntax`'s checks): a
    /// byte-order mark and escapes are taken, a trailing comma is not.
    @Test func publishedFilesAreReadAsStrictJSON() throws {
        let marked: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"{"creationTime":"2026-12-01T10:00:00","note":[1.5e3,true,null,{}],"prefixes":[{"ipv4Prefix":"66.249.64.0\/27"}]}"#.utf8)
        let (ranges, date) = try PublishedRanges.ranges(.google, marked)
        #expect(ranges == ["66.249.64.0/27"] && date == "2026-12-01T10:00:00")
        #expect(throws: PublishedRanges.Problem.self) {
            try PublishedRanges.ranges(.google, Array(#"{"prefixes":[{"ipv4Prefix":"66.249.64.0/27"},]}"#.utf8))
        }
    }

    @Test func googlesPrefixesAndDateAreImported() throws {
        let published = """
        {
          "creationTime": "2026-12-01T14:46:21.000000",
          "prefixes": [{"ipv6Prefix": "2001:4860:4801:2008::/64"}, {"ipv4Prefix": "66.249.90.0/23"}]
        }
        """
        let (ranges, date) = try PublishedRanges.ranges(.google, Array(published.utf8))
        #expect(ranges == ["2001:4860:4801:2008::/64", "66.249.90.0/23"] && date == "2026-12-01T14:46:21.000000")
    }

    @Test(arguments: [
        (PublishedRanges.Kind.microsoft, "{\"prefixes\":[]}", "not the JSON array of endpoint sets Microsoft publishes"),
        (.google, "[1, 2]", "not the JSON object of prefixes Google publishes"),
        (.google, "{\"prefixes\":[]}", "no address ranges in it: is it the file the kind names, as published?"),
        (.google, "{\"prefixes\":[{\"ipv4Prefix\":\"<html>\"}]}", "'<html>' in it is not an address range"),
        // goog.json: the addresses of Google's services, people's among them.
        (.google, "{\"prefixes\":[{\"ipv4Prefix\":\"8.8.4.0/24\"},{\"ipv4Prefix\":\"34.0.0.0/15\"}]}",
         "'34.0.0.0/15' in it is wider than /19, the widest IPv4 range of google-crawlers: is it the file the kind names?"),
        (.microsoft, "[{\"serviceArea\":\"Exchange\",\"urls\":[\"*.protection.outlook.com\"],\"ips\":[\"40.0.0.0/8\"]}]",
         "'40.0.0.0/8' in it is wider than /14, the widest IPv4 range of microsoft-exchange-online-protection: is it the file the kind names?"),
        (.google, "{\"creationTime\":\"x\\nlist other\",\"prefixes\":[{\"ipv4Prefix\":\"66.249.64.0/27\"}]}",
         "its creationTime holds a control character"),
        (.microsoft, "[{\"serviceArea\":\"Exchange\",\"ips\":[\"40.92.0.0/15\"]", "not the JSON array of endpoint sets Microsoft publishes"),
    ])
    func aWrongFileIsRefused(_ kind: PublishedRanges.Kind, _ text: String, _ message: String) {
        do {
            _ = try PublishedRanges.ranges(kind, Array(text.utf8))
            Issue.record("\(text) was taken")
        } catch {
            #expect(error.message == message)
        }
    }
}
